"""The JT/T 808 TCP gateway: a thin asyncio adapter around the sans-I/O codec and session.

One :class:`Jt808Gateway` listens for terminals; every TCP connection gets its own
coordinator (:class:`~devices.jt808.gateway.connection.TerminalConnection`) around a
sans-I/O :class:`~devices.jt808.session.TerminalSession` that owns the stream decoder, the
rate limit, the authentication state and the replies. Observations go to an
:class:`~devices.observations.ObservationSink`, and a terminal's frame is acknowledged
(0x8001) only after ``await sink.submit(...)`` returned for everything the frame carried:
an alarm is committed before the device is told it was received.

Liveness is per terminal, not per socket: a gateway-wide watchdog marks a terminal offline
(one :class:`~devices.observations.DeviceStatusChanged`) once nothing arrived from it for
``offline_after`` seconds, whether its connection went silent or dropped, and closes a
silent connection. Authentication marks it online again (once).

Modules: ``server`` (:class:`Jt808Gateway`), ``connection`` (one TCP connection),
``batcher`` (one sink call per turn of the loop), ``terminals`` (per-terminal state),
``registry`` (who may connect), ``orders`` (orders awaiting answers), ``limits``
(connection caps, abuse episodes, counters), ``errors``.

Typical use::

    gateway = Jt808Gateway(sink, StaticTerminalRegistry({"13912345678": "粤B12345"}))
    await gateway.start()
    ...
    result = await gateway.send_text("13912345678", "请靠边停车")
    await gateway.close()
"""

from devices.jt808.gateway.errors import (
    AnswerLostError,
    BadAnswerError,
    GatewayError,
    ReplyTimeoutError,
    TerminalOfflineError,
)
from devices.jt808.gateway.orders import Answer
from devices.jt808.gateway.registry import StaticTerminalRegistry, TerminalRegistry
from devices.jt808.gateway.server import LISTEN_BACKLOG, Jt808Gateway
from devices.jt808.session import ALL_ALARM_BITS

__all__ = [
    "ALL_ALARM_BITS",
    "LISTEN_BACKLOG",
    "Answer",
    "AnswerLostError",
    "BadAnswerError",
    "GatewayError",
    "Jt808Gateway",
    "ReplyTimeoutError",
    "StaticTerminalRegistry",
    "TerminalOfflineError",
    "TerminalRegistry",
]
