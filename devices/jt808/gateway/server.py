"""The JT/T 808 TCP server: :class:`Jt808Gateway` listens, watches and sends downlink.

It ties the parts of the gateway together: one
:class:`~devices.jt808.gateway.connection.TerminalConnection` per TCP connection, one
:class:`~devices.jt808.gateway.batcher.ReportBatcher` for every connection's location
reports, one :class:`~devices.jt808.gateway.terminals.Terminals` for what it knows of each
terminal, and a watchdog that closes silent connections and reports silent terminals
offline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence

from devices.jt808.framing import DEFAULT_MAX_ESCAPED_FRAME, ProtocolVersion
from devices.jt808.gateway.batcher import ReportBatcher
from devices.jt808.gateway.connection import TerminalConnection
from devices.jt808.gateway.errors import GatewayError, TerminalOfflineError
from devices.jt808.gateway.limits import (
    DEFAULT_LOGIN_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_PER_ADDRESS,
    ConnectionLimits,
    Episodes,
    GatewayCounters,
)
from devices.jt808.gateway.orders import Answer
from devices.jt808.gateway.registry import TerminalRegistry, device_id
from devices.jt808.gateway.terminals import Terminals, TerminalState
from devices.jt808.messages import GeneralResult, Message, TextFlag, TextMessage
from devices.jt808.session import ALL_ALARM_BITS, DEFAULT_MAX_BYTES_PER_SECOND, alarm_mask
from devices.observations import ObservationSink
from realtime.aio import cancel_and_wait

logger = logging.getLogger(__name__)

LISTEN_BACKLOG = 4096
"""Pending connections the kernel may queue (capped by net.core.somaxconn)."""


class Jt808Gateway:
    """A JT/T 808 (2013 and 2019) TCP server delivering observations to ``sink``.

    ``offline_after``: seconds of silence before a terminal is reported offline and its
    connection closed. ``max_frame_size``: escaped bytes between two flags.
    ``max_frames_per_second``: per connection; excess frames are dropped (warned once),
    and a connection over the limit for ``overload_close_after`` seconds is closed.
    ``alarm_bits_that_raise``: alarm bit indices that become
    :class:`~devices.observations.DeviceAlarmRaised` when they rise (0 -> 1); bits the
    standard leaves reserved never do (they are logged once per terminal and bit, and
    counted in :attr:`counters`).

    One host must not lock everyone out: a connection that has not authenticated within
    ``login_timeout`` seconds is closed; at most ``max_connections_per_address`` are open
    from one source address and ``max_connections`` in total (more are refused as they
    are accepted); a connection sending more than ``max_bytes_per_second``, or more than
    a little garbage (bytes that decode to no valid frame), is closed at once. Each of
    these is logged once per episode and address, and counted in :attr:`counters`.

    ``restore_alarms``: where the alarm bits of a terminal's last acknowledged report
    are read back at its authentication (several gateway processes on one port).
    ``reuse_port``: listen with SO_REUSEPORT, sharing the port with other processes.
    """

    def __init__(
        self,
        sink: ObservationSink,
        registry: TerminalRegistry,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        offline_after: float = 180.0,
        max_frame_size: int = DEFAULT_MAX_ESCAPED_FRAME,
        max_frames_per_second: float = 20.0,
        alarm_bits_that_raise: Collection[int] = ALL_ALARM_BITS,
        overload_close_after: float = 5.0,
        reply_timeout: float = 10.0,
        write_timeout: float = 10.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_connections_per_address: int = DEFAULT_MAX_PER_ADDRESS,
        login_timeout: float = DEFAULT_LOGIN_TIMEOUT,
        max_bytes_per_second: float = DEFAULT_MAX_BYTES_PER_SECOND,
        restore_alarms: Callable[[str], Awaitable[frozenset[str]]] | None = None,
        reuse_port: bool = False,
        silence_clock: Callable[[], float] | None = None,
    ) -> None:
        if offline_after <= 0:
            raise ValueError(f"offline_after must be > 0, got {offline_after}")
        if max_frames_per_second <= 0:
            raise ValueError(f"max_frames_per_second must be > 0, got {max_frames_per_second}")
        if login_timeout <= 0:
            raise ValueError(f"login_timeout must be > 0, got {login_timeout}")
        if max_connections < 1 or max_connections_per_address < 1:
            raise ValueError(
                "max_connections and max_connections_per_address must be >= 1, got "
                f"{max_connections} and {max_connections_per_address}"
            )
        if max_bytes_per_second <= 0:
            raise ValueError(f"max_bytes_per_second must be > 0, got {max_bytes_per_second}")
        self._reuse_port = reuse_port
        self.silence_clock: Callable[[], float] = silence_clock or self._now
        """Seconds on the clock silence is measured on (``offline_after``): the event
        loop's, or an exercise's clock (which runs at its speed and waits for its replay)."""
        self.restore_alarms = restore_alarms
        """Asked at every authentication for the alarm bit names of the terminal's last
        acknowledged live report (another process may have had its connection): a bit
        still set then is no new alarm."""
        self.alarm_mask = alarm_mask(alarm_bits_that_raise)
        """The alarm bits that raise device alarms, as a mask."""
        self._host = host
        self._requested_port = port
        self.offline_after = offline_after
        self.max_frame_size = max_frame_size
        self.max_frames_per_second = max_frames_per_second
        self.overload_close_after = overload_close_after
        self.reply_timeout = reply_timeout
        self.write_timeout = write_timeout
        self.login_timeout = login_timeout
        self.max_bytes_per_second = max_bytes_per_second
        self.limits = ConnectionLimits(
            per_address=max_connections_per_address, total=max_connections
        )
        """Connections open per source address, against the caps."""
        self.episodes = Episodes()
        """Refusals and closes for abuse, logged once per episode and address."""
        self.counters = GatewayCounters()
        """What was refused, closed or ignored since the start (for ``/health``)."""
        self._server: asyncio.Server | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._connections: dict[TerminalConnection, asyncio.Task[None]] = {}
        self._closing = False
        self.terminals = Terminals(sink, registry)
        """Every terminal's state; the connections' way to the registry and the sink."""
        self.batcher = ReportBatcher(self.terminals.guard)
        """Where every connection's location reports go."""
        self.on_input: Callable[[int, bytes], None] | None = None
        """Called with (connection number, bytes) for every read, before anything else
        (the input journal); it must not block or raise. ``None``: nothing is called."""
        self._connection_numbers = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening (and the offline watchdog)."""
        if self._server is not None:
            raise GatewayError("gateway already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: TerminalConnection(self),
            self._host,
            self._requested_port,
            # A fleet reconnects at once after an outage; asyncio's default queue of 100
            # pending connections overflows, and those terminals wait for SYN retries.
            backlog=LISTEN_BACKLOG,
            # Several worker processes on one port: the kernel spreads the terminals.
            reuse_port=self._reuse_port or None,
        )
        self._watchdog = asyncio.create_task(self._watch(), name="jt808-watchdog")
        logger.info("JT/T 808 gateway listening on %s:%s", self._host, self.port)

    @property
    def port(self) -> int:
        """The port actually listened on (useful with ``port=0``)."""
        if self._server is None or not self._server.sockets:
            raise GatewayError("gateway is not listening")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def online_terminals(self) -> frozenset[str]:
        """Device ids of terminals with a live authenticated connection."""
        return self.terminals.online

    async def close(self) -> None:
        """Stop listening, close every connection and cancel every task."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.shutdown()
        await self.batcher.close()
        tasks: list[asyncio.Task[None]] = list(self._connections.values())
        if self._watchdog is not None:
            tasks.append(self._watchdog)
        for task in tasks:
            await cancel_and_wait(task)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        self.episodes.sweep(float("inf"))  # say how the episodes still open ended
        logger.info("JT/T 808 gateway closed")

    async def __aenter__(self) -> Jt808Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ connections

    def admit(self, address: str) -> bool:
        """Whether a new connection from ``address`` is accepted now (a refusal is counted
        and logged once per episode)."""
        if self._closing:
            return False
        refusal = self.limits.refusal(address)
        if refusal is None:
            return True
        kind = "total_cap" if len(self.limits) >= self.limits.total else "per_address_cap"
        self.counters.refused[kind] += 1
        self.episodes.occurred("connections refused", address, refusal, self._now())
        return False

    def closed_for(self, kind: str, what: str, address: str, detail: str) -> None:
        """A connection from ``address`` was closed for abuse or a limit (``kind`` as
        counted, ``what`` as logged once per episode)."""
        self.counters.closed[kind] += 1
        # One episode per host, whatever the reasons: a flood may trip the byte budget on
        # one socket and the garbage budget on the next, and is still one event to report.
        self.episodes.occurred("connections closed", address, f"{what}: {detail}", self._now())

    def problem_seen(self, kind: str, address: str, detail: str) -> None:
        """A connection from ``address`` sent something wrong (``kind``: a bad frame,
        too many frames…): logged once per episode of that host and kind."""
        self.episodes.occurred(kind, address, detail, self._now())

    def note_reserved_bits(self, state: TerminalState, bits: Sequence[int]) -> None:
        """``state``'s terminal raised reserved alarm ``bits`` (rising edges): counted,
        logged once per terminal and bit, no alarm."""
        for bit in bits:
            self.counters.reserved_alarm_bits[bit] += 1
            if not state.reserved_logged >> bit & 1:
                state.reserved_logged |= 1 << bit
                logger.warning(
                    "terminal %s set alarm bit %s, which the standard leaves reserved: no "
                    "alarm raised (counted; logged once per terminal and bit)",
                    state.device,
                    bit,
                )

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def next_connection_number(self) -> int:
        """A number for a new connection (1, 2, …; unique while the gateway runs)."""
        self._connection_numbers += 1
        return self._connection_numbers

    def connection_started(
        self, connection: TerminalConnection, worker: asyncio.Task[None]
    ) -> None:
        """Keep ``connection`` and its worker task until the task ends."""
        self.limits.opened(connection.address)
        self._connections[connection] = worker
        worker.add_done_callback(lambda done: self._connection_done(connection, done))

    def connection_lost(self, connection: TerminalConnection) -> None:
        """``connection`` closed: stop its worker (it is forgotten once that has ended)."""
        worker = self._connections.get(connection)
        if worker is not None:
            worker.cancel()

    def _connection_done(self, connection: TerminalConnection, task: asyncio.Task[None]) -> None:
        self._connections.pop(connection, None)
        self.limits.closed(connection.address)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("JT/T 808 connection %s crashed", connection.peer, exc_info=exc)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        period = min(max(self.offline_after / 4, 0.01), 1.0)
        while True:
            await asyncio.sleep(period)
            now = loop.time()
            self.episodes.sweep(now)
            heard_now = self.silence_clock()
            for connection in list(self._connections):
                if heard_now - connection.last_rx > self.offline_after:
                    connection.close(f"silent for more than {self.offline_after:g} s")
            for state in list(self.terminals.states.values()):
                if state.online and heard_now - state.last_seen > self.offline_after:
                    await self.terminals.mark_offline(
                        state, f"silent for more than {self.offline_after:g} s"
                    )

    # ------------------------------------------------------------------ downlink

    def _connection_of(self, phone: str) -> TerminalConnection:
        device = device_id(phone)
        state = self.terminals.states.get(device)
        connection = state.connection if state is not None else None
        if connection is None:
            raise TerminalOfflineError(f"terminal {device} is offline: no authenticated connection")
        return connection

    def protocol_of(self, phone: str) -> ProtocolVersion | None:
        """The edition the terminal ``phone`` authenticated with (None: not connected)."""
        try:
            connection = self._connection_of(phone)
        except TerminalOfflineError:
            return None
        return connection.version

    async def send_order(
        self, phone: str, order: Message, *, timeout: float | None = None
    ) -> Answer:
        """Send ``order`` (0x8201, 0x8202, 0x8400, 0x8500, 0x8103, 0x8104, 0x8106…) to
        ``phone`` and return the terminal's answer: its own (0x0201, 0x0104, 0x0500) or a
        0x0001 (for the orders without one, or a refusal).

        Raises :class:`TerminalOfflineError`, :class:`ReplyTimeoutError` (default timeout
        ``reply_timeout``), :class:`~devices.jt808.gateway.errors.BadAnswerError` and
        :class:`~devices.jt808.errors.EncodeError` (a body that cannot be encoded).
        """
        connection = self._connection_of(phone)
        return await connection.send_order(
            order, self.reply_timeout if timeout is None else timeout
        )

    async def send_text(
        self,
        phone: str,
        text: str,
        flags: int = TextFlag.TERMINAL_DISPLAY,
        *,
        text_type: int = 1,
        timeout: float | None = None,
    ) -> GeneralResult:
        """Send a 0x8300 text to ``phone`` and return the result of its 0x0001 reply.

        ``flags`` are :class:`~devices.jt808.messages.TextFlag` bits. Raises
        :class:`TerminalOfflineError` if the terminal has no live authenticated
        connection (or loses it while we wait), :class:`ReplyTimeoutError` if it does not
        answer within ``timeout`` (default ``reply_timeout``), and
        :class:`~devices.jt808.errors.EncodeError` for text that cannot be encoded.
        """
        connection = self._connection_of(phone)
        return await connection.send_text(
            TextMessage(flags=int(flags), text=text, text_type=text_type),
            self.reply_timeout if timeout is None else timeout,
        )
