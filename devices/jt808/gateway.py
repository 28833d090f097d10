"""The JT/T 808 TCP gateway: a thin asyncio adapter around the sans-I/O codec.

One :class:`Jt808Gateway` listens for terminals; every TCP connection gets its own
coordinator (:class:`_Connection`) that owns the stream decoder, the rate limit, the
registration/authentication state and the replies. Observations go to an
:class:`~devices.observations.ObservationSink`, and a terminal's frame is acknowledged
(0x8001) only after ``await sink.submit(...)`` returned for everything the frame carried:
an alarm is committed before the device is told it was received.

Liveness is per terminal, not per socket: a gateway-wide watchdog marks a terminal offline
(one :class:`~devices.observations.DeviceStatusChanged`) once nothing arrived from it for
``offline_after`` seconds, whether its connection went silent or dropped, and closes a
silent connection. Authentication marks it online again (once).

Typical use::

    gateway = Jt808Gateway(sink, StaticTerminalRegistry({"13912345678": "粤B12345"}))
    await gateway.start()
    ...
    result = await gateway.send_text("13912345678", "请靠边停车")
    await gateway.close()
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections import Counter, deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from devices.jt808.bits import alarm_table
from devices.jt808.codec import (
    Frame,
    decode_frame,
    encode_frame,
    encode_general_reply,
    encode_register_reply,
    frame_positions,
)
from devices.jt808.errors import ChecksumError, EscapeError, JT808Error, UnsupportedError
from devices.jt808.framing import (
    DEFAULT_MAX_ESCAPED_FRAME,
    FrameSplitter,
    Header,
    ProtocolVersion,
    decode_raw_frame,
    escape,
    xor_checksum,
)
from devices.jt808.messages import (
    Authentication,
    BatchKind,
    GeneralResult,
    Heartbeat,
    Location,
    LocationBatch,
    Logout,
    Register,
    RegisterResult,
    TerminalGeneralReply,
    TextMessage,
)
from devices.observations import (
    DeviceAlarmRaised,
    DeviceStatusChanged,
    Observation,
    ObservationSink,
    SinkGuard,
)

logger = logging.getLogger(__name__)

ALL_ALARM_BITS: frozenset[int] = frozenset(range(32))
"""Default for ``alarm_bits_that_raise``: every alarm bit raises a device alarm."""

TEXT_FLAG_EMERGENCY = 1 << 0
TEXT_FLAG_TERMINAL_DISPLAY = 1 << 2
TEXT_FLAG_TTS = 1 << 3

MAX_PENDING_TEXTS = 16
"""Text messages awaiting a terminal's 0x0001 per connection (a bounded buffer)."""


class GatewayError(Exception):
    """Base class of the gateway's own errors."""


class TerminalOfflineError(GatewayError):
    """The terminal has no live, authenticated connection to this gateway."""


class ReplyTimeoutError(GatewayError, TimeoutError):
    """The terminal did not answer a platform message in time."""


class _SinkRefusedError(GatewayError):
    """The observation sink raised; the frame is not acknowledged."""


class _RegistryFailedError(GatewayError):
    """The terminal registry raised."""


class TerminalRegistry(Protocol):
    """Who may connect. The backend implements this against its device registry.

    ``phone`` is the terminal's device id: the header phone without its BCD zero padding.
    """

    async def register(self, phone: str, register_msg: Register) -> tuple[RegisterResult, str]:
        """Handle a 0x0100 registration: the result and, on success, the auth code."""

    async def authenticate(self, phone: str, code: str) -> bool:
        """Whether ``code`` is the auth code issued to ``phone``."""


def _device_id(phone: str) -> str:
    return phone.lstrip("0") or "0"


class StaticTerminalRegistry:
    """In-memory :class:`TerminalRegistry` for tests, the demo and standalone use.

    ``known`` maps device id (phone without leading zeros) to the plate it must register
    with (an empty plate accepts any). Unknown terminals are refused with result 4
    (no such terminal) unless ``auto_register``. Re-registration returns the same code.
    """

    def __init__(
        self,
        known: Mapping[str, str] | None = None,
        *,
        auto_register: bool = False,
        auth_codes: Mapping[str, str] | None = None,
    ) -> None:
        self._known = {_device_id(phone): plate for phone, plate in (known or {}).items()}
        self._codes = {_device_id(phone): code for phone, code in (auth_codes or {}).items()}
        self._auto_register = auto_register

    def auth_code(self, phone: str) -> str | None:
        """The code issued to ``phone``, if any."""
        return self._codes.get(_device_id(phone))

    async def register(self, phone: str, register_msg: Register) -> tuple[RegisterResult, str]:
        """Issue (or repeat) an auth code for a known terminal."""
        device = _device_id(phone)
        plate = self._known.get(device)
        if plate is None:
            if not self._auto_register:
                return RegisterResult.NO_SUCH_TERMINAL, ""
            self._known[device] = register_msg.plate
        elif plate and plate != register_msg.plate:
            return RegisterResult.NO_SUCH_VEHICLE, ""
        code = self._codes.get(device) or secrets.token_hex(8)
        self._codes[device] = code
        return RegisterResult.SUCCESS, code

    async def authenticate(self, phone: str, code: str) -> bool:
        """Compare ``code`` with the issued one in constant time."""
        expected = self._codes.get(_device_id(phone))
        if expected is None:
            return False
        return secrets.compare_digest(expected.encode(), code.encode())


LISTEN_BACKLOG = 4096
"""Pending connections the kernel may queue (capped by net.core.somaxconn)."""

_REPORTS = (Location, LocationBatch)
"""Messages of the fast path (a tuple: ``A | B`` would build a union at every check)."""


class _TokenBucket:
    """Frames per second with a burst of one second's worth."""

    def __init__(self, rate: float, now: float) -> None:
        self._rate = rate
        self._capacity = max(rate, 1.0)
        self._tokens = self._capacity
        self._stamp = now

    def allow(self, now: float) -> bool:
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


@dataclass(eq=False)
class _Terminal:
    """What the gateway knows about one terminal across its connections."""

    device: str
    online: bool = False
    last_seen: float = 0.0
    alarm_flags: int = 0
    """Alarm bits of the last acknowledged live report (for rising-edge detection)."""
    connection: _Connection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def _cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it to end, cancelling again if a cancellation was
    swallowed (``asyncio.wait_for`` on Python 3.11 can lose one that races a result)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def salvage_header(escaped: bytes) -> Header | None:
    """Best-effort header of a frame that failed its checksum or escaping, else ``None``.

    The platform answers such a frame with 0x8001 result 2 so the terminal resends it;
    the reply only echoes the (possibly damaged) serial and message id.
    """
    content = escaped.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
    if len(content) < 2:
        return None
    body = content[:-1]
    try:
        header, _ = decode_raw_frame(escape(body + bytes([xor_checksum(body)])))
    except JT808Error as exc:
        return exc.header
    return header


class Jt808Gateway:
    """A JT/T 808 (2013 and 2019) TCP server delivering observations to ``sink``.

    ``offline_after``: seconds of silence before a terminal is reported offline and its
    connection closed. ``max_frame_size``: escaped bytes between two flags.
    ``max_frames_per_second``: per connection; excess frames are dropped (warned once),
    and a connection over the limit for ``overload_close_after`` seconds is closed.
    ``alarm_bits_that_raise``: alarm bit indices that become
    :class:`~devices.observations.DeviceAlarmRaised` when they rise (0 -> 1).
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
        max_connections: int = 10_000,
    ) -> None:
        if offline_after <= 0:
            raise ValueError(f"offline_after must be > 0, got {offline_after}")
        if max_frames_per_second <= 0:
            raise ValueError(f"max_frames_per_second must be > 0, got {max_frames_per_second}")
        bad_bits = [bit for bit in alarm_bits_that_raise if not 0 <= bit < 32]
        if bad_bits:
            raise ValueError(f"alarm bits must be 0..31, got {bad_bits}")
        self._registry = registry
        self._host = host
        self._requested_port = port
        self.offline_after = offline_after
        self.max_frame_size = max_frame_size
        self.max_frames_per_second = max_frames_per_second
        self.overload_close_after = overload_close_after
        self.reply_timeout = reply_timeout
        self.write_timeout = write_timeout
        self.max_connections = max_connections
        self._raise_mask = sum(1 << bit for bit in set(alarm_bits_that_raise))
        self._server: asyncio.Server | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._connections: dict[_Connection, asyncio.Task[None]] = {}
        self._terminals: dict[str, _Terminal] = {}
        self._closing = False
        self._guard = SinkGuard(sink, logger)
        self._batcher = _ReportBatcher(self._guard)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening (and the offline watchdog)."""
        if self._server is not None:
            raise GatewayError("gateway already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self),
            self._host,
            self._requested_port,
            # A fleet reconnects at once after an outage; asyncio's default queue of 100
            # pending connections overflows, and those terminals wait for SYN retries.
            backlog=LISTEN_BACKLOG,
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
        return frozenset(
            device for device, state in self._terminals.items() if state.connection is not None
        )

    async def close(self) -> None:
        """Stop listening, close every connection and cancel every task."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.shutdown()
        await self._batcher.close()
        tasks: list[asyncio.Task[None]] = list(self._connections.values())
        if self._watchdog is not None:
            tasks.append(self._watchdog)
        for task in tasks:
            await _cancel_and_wait(task)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        logger.info("JT/T 808 gateway closed")

    async def __aenter__(self) -> Jt808Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _connection_started(self, connection: _Connection, worker: asyncio.Task[None]) -> None:
        self._connections[connection] = worker
        worker.add_done_callback(lambda done: self._connection_done(connection, done))

    def _connection_lost(self, connection: _Connection) -> None:
        worker = self._connections.get(connection)
        if worker is not None:
            worker.cancel()  # it is removed from _connections once it has ended

    def _connection_done(self, connection: _Connection, task: asyncio.Task[None]) -> None:
        self._connections.pop(connection, None)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("JT/T 808 connection %s crashed", connection.peer, exc_info=exc)

    # ------------------------------------------------------------------ terminals

    def _terminal(self, device: str) -> _Terminal:
        state = self._terminals.get(device)
        if state is None:
            state = self._terminals[device] = _Terminal(device)
        return state

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        period = min(max(self.offline_after / 4, 0.01), 1.0)
        while True:
            await asyncio.sleep(period)
            now = loop.time()
            for connection in list(self._connections):
                if now - connection.last_rx > self.offline_after:
                    connection.close(f"silent for more than {self.offline_after:g} s")
            for state in list(self._terminals.values()):
                if state.online and now - state.last_seen > self.offline_after:
                    await self._mark_offline(
                        state, f"silent for more than {self.offline_after:g} s"
                    )

    async def _mark_offline(self, state: _Terminal, reason: str) -> None:
        async with state.lock:
            if not state.online:
                return
            try:
                await self._submit(
                    DeviceStatusChanged(
                        device=state.device, online=False, at=_now_utc(), reason=reason
                    )
                )
            except _SinkRefusedError:
                return  # retried on the next watchdog tick
            state.online = False
        logger.info("terminal %s offline: %s", state.device, reason)

    async def _submit(self, observation: Observation) -> None:
        if not await self._guard.submit(observation):
            raise _SinkRefusedError(f"observation sink refused {type(observation).__name__}")

    async def _register(self, device: str, message: Register) -> tuple[RegisterResult, str]:
        try:
            return await self._registry.register(device, message)
        except Exception as exc:
            logger.exception("terminal registry failed to register %s", device)
            raise _RegistryFailedError(str(exc)) from exc

    async def _authenticate(self, device: str, code: str) -> bool:
        try:
            return await self._registry.authenticate(device, code)
        except Exception as exc:
            logger.exception("terminal registry failed to authenticate %s", device)
            raise _RegistryFailedError(str(exc)) from exc

    def _rising_alarms(
        self,
        device: str,
        previous: int,
        location: Location,
        version: ProtocolVersion,
        *,
        backfill: bool,
    ) -> list[DeviceAlarmRaised]:
        rising = location.alarm_flags & ~previous & self._raise_mask
        if not rising:
            return []
        table = alarm_table(version)
        suffix = " (blind-area backfill)" if backfill else ""
        return [
            DeviceAlarmRaised(
                device=device,
                key=table.get(bit, f"reserved_bit_{bit}"),
                at=location.time,
                lat=location.lat if location.positioned else None,
                lon=location.lon if location.positioned else None,
                description=f"JT/T 808 alarm bit {bit}{suffix}",
            )
            for bit in range(32)
            if rising >> bit & 1
        ]

    # ------------------------------------------------------------------ downlink

    async def send_text(
        self,
        phone: str,
        text: str,
        flags: int = TEXT_FLAG_TERMINAL_DISPLAY,
        *,
        text_type: int = 1,
        timeout: float | None = None,
    ) -> GeneralResult:
        """Send a 0x8300 text to ``phone`` and return the result of its 0x0001 reply.

        Raises :class:`TerminalOfflineError` if the terminal has no live authenticated
        connection (or loses it while we wait), :class:`ReplyTimeoutError` if it does not
        answer within ``timeout`` (default ``reply_timeout``), and
        :class:`~devices.jt808.errors.EncodeError` for text that cannot be encoded.
        """
        device = _device_id(phone)
        state = self._terminals.get(device)
        connection = state.connection if state is not None else None
        if connection is None:
            raise TerminalOfflineError(f"terminal {device} is offline: no authenticated connection")
        return await connection.send_text(
            TextMessage(flags=flags, text=text, text_type=text_type),
            self.reply_timeout if timeout is None else timeout,
        )


@dataclass(eq=False, slots=True)
class _Run:
    """Consecutive location reports of one connection, on their way to the sink."""

    connection: _Connection
    state: _Terminal
    frames: list[Frame]
    observations: list[Observation]
    live_flags: int
    """The terminal's live alarm bits once this run is accepted."""
    raises_alarms: bool


class _ReportBatcher:
    """Submits the location runs of every connection read in one turn of the event loop
    together: one sink call (one group commit) instead of one per connection.

    Runs that raise device alarms are submitted each on their own, so an alarm's commit
    never holds up, or fails, another terminal's positions. Every run's replies go out
    only after its own observations were accepted.
    """

    def __init__(self, guard: SinkGuard) -> None:
        self._guard = guard
        self._runs: list[_Run] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, run: _Run) -> None:
        self._runs.append(run)
        if not self._scheduled:
            self._scheduled = True
            # After the callbacks of this turn: every connection read now joins one batch.
            asyncio.get_running_loop().call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._scheduled = False
        runs, self._runs = self._runs, []
        task = asyncio.get_running_loop().create_task(self._submit(runs), name="jt808-reports")
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    async def _submit(self, runs: list[_Run]) -> None:
        plain = [run for run in runs if not run.raises_alarms]
        if plain:
            accepted = await self._guard.submit_many(
                [observation for run in plain for observation in run.observations]
            )
            for run in plain:
                run.connection.run_done(run, accepted)
        for run in runs:
            if run.raises_alarms:
                run.connection.run_done(run, await self._guard.submit_many(run.observations))

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("submitting location reports failed", exc_info=task.exception())

    async def close(self) -> None:
        """Cancel the submissions in flight (their terminals get no reply and resend)."""
        for task in list(self._tasks):
            await _cancel_and_wait(task)


@dataclass(frozen=True, slots=True)
class _Problem:
    """A frame that could not be decoded, with the header to answer it by (if known)."""

    error: JT808Error
    header: Header | None


_Item = Frame | _Problem

MAX_QUEUED_ITEMS = 256
"""Decoded frames waiting per connection before reading pauses (back-pressure)."""
MAX_RUN = 64
"""Location reports of one connection submitted (and acknowledged) together at most."""


class _Connection(asyncio.Protocol):
    """The coordinator of one TCP connection: decode, authorize, submit, then reply.

    Bytes are split and decoded as they arrive (``data_received``) into one ordered queue.
    Location reports of the authenticated terminal, the everyday traffic, go from there
    straight to the gateway's :class:`_ReportBatcher` and are answered from its
    completion, with no task switch per read; everything else (registration,
    authentication, heartbeats, errors, replies) is handled in order by the connection's
    worker task. Only one of the two is ever busy, so frames are handled in stream order.
    """

    def __init__(self, gateway: Jt808Gateway) -> None:
        self._gateway = gateway
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self.peer = "?"
        self._splitter = FrameSplitter(gateway.max_frame_size)
        self._bucket = _TokenBucket(gateway.max_frames_per_second, self._loop.time())
        self._serial = 0
        self.last_rx = self._loop.time()
        self._terminal: _Terminal | None = None
        self._header: Header | None = None
        """Header of the authentication frame: phone and version for downlink frames."""
        self._phone = ""
        """The authenticated header's phone as on the wire: a cheap match for its reports."""
        self._pending: dict[int, asyncio.Future[GeneralResult]] = {}
        self._counts: Counter[str] = Counter()
        self._overload_since: float | None = None
        self._last_drop = 0.0
        self._close_reason = ""
        self._queue: deque[_Item] = deque()
        self._run_in_flight = False
        self._worker_busy = False
        self._wake = asyncio.Event()
        self._reading_paused = False
        self._drained: asyncio.Future[None] | None = None
        self._stall_timer: asyncio.TimerHandle | None = None
        self._lost = False
        self._eof = False
        """The terminal closed its side while frames were still being handled."""

    def __repr__(self) -> str:
        device = self._terminal.device if self._terminal is not None else "?"
        return f"<JT/T 808 connection {self.peer} terminal {device}>"

    @property
    def _name(self) -> str:
        if self._terminal is not None:
            return f"terminal {self._terminal.device} ({self.peer})"
        return f"connection {self.peer}"

    # ------------------------------------------------------------------ lifecycle

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        gateway = self._gateway
        if gateway._closing or len(gateway._connections) >= gateway.max_connections:
            logger.warning(
                "refusing a JT/T 808 connection from %s: %s",
                self.peer,
                "gateway closing" if gateway._closing else "too many connections",
            )
            self._lost = True
            transport.abort()
            return
        logger.debug("JT/T 808 connection from %s", self.peer)
        gateway._connection_started(
            self, self._loop.create_task(self._work(), name=f"jt808 {self.peer}")
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        if exc is not None and not self._close_reason:
            logger.info("%s lost: %s", self._name, exc)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(TerminalOfflineError(f"{self._name} closed before it replied"))
        self._pending.clear()
        if self._drained is not None and not self._drained.done():
            self._drained.set_exception(ConnectionResetError("connection closed"))
        if self._stall_timer is not None:
            self._stall_timer.cancel()
        self._queue.clear()
        self._detach()
        if self._counts:
            summary = ", ".join(f"{kind} x{count}" for kind, count in sorted(self._counts.items()))
            logger.info("%s closed; problems seen: %s", self._name, summary)
        self._gateway._connection_lost(self)

    def close(self, reason: str, *, level: int = logging.INFO) -> None:
        """Close the transport (once); the connection then tears down."""
        if not self._close_reason:
            self._close_reason = reason
            logger.log(level, "closing %s: %s", self._name, reason)
        if self._transport is not None:
            self._transport.close()

    def shutdown(self) -> None:
        """Close quietly: the gateway is closing."""
        if self._transport is not None:
            self._transport.close()

    def _detach(self) -> None:
        state = self._terminal
        if state is not None and state.connection is self:
            state.connection = None
        self._terminal = None

    # ------------------------------------------------------------------ reading

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        now = self._loop.time()
        self.last_rx = now
        if self._terminal is not None:
            self._terminal.last_seen = now
        queue = self._queue
        for item in self._splitter.feed(data):
            if not self._bucket.allow(now):
                self._overloaded()
                if transport.is_closing():
                    return
                continue
            if isinstance(item, JT808Error):
                queue.append(_Problem(item, item.header))
                continue
            try:
                queue.append(decode_frame(item))
            except (ChecksumError, EscapeError) as exc:
                queue.append(_Problem(exc, exc.header or salvage_header(item)))
            except JT808Error as exc:
                queue.append(_Problem(exc, exc.header))
        self._pump()
        if len(queue) > MAX_QUEUED_ITEMS and not self._reading_paused:
            self._reading_paused = True
            logger.debug("%s: %s frames waiting, reading paused", self._name, len(queue))
            transport.pause_reading()

    def eof_received(self) -> bool:
        # The terminal has sent everything: answer what is still being handled, then close.
        if self._busy():
            self._eof = True
            return True  # keep our side open for the replies
        return False  # close our side too

    def _busy(self) -> bool:
        return self._run_in_flight or self._worker_busy or bool(self._queue)

    def _pump(self) -> None:
        """Hand the head of the queue to whoever handles it, unless one is busy."""
        if self._run_in_flight or self._worker_busy or self._lost:
            return
        queue = self._queue
        state = self._terminal
        if state is not None:
            run: list[Frame] = []
            while queue and len(run) < MAX_RUN:
                item = queue[0]
                if (
                    isinstance(item, Frame)
                    and isinstance(item.message, _REPORTS)
                    and (item.header.phone == self._phone or item.header.device_id == state.device)
                ):
                    run.append(item)
                    queue.popleft()
                else:
                    break
            if run:
                self._start_run(run, state)
        if queue and not self._run_in_flight:
            self._worker_busy = True
            self._wake.set()
        if self._reading_paused and len(queue) <= MAX_QUEUED_ITEMS // 2:
            self._reading_paused = False
            if self._transport is not None and not self._transport.is_closing():
                logger.debug("%s: reading resumed", self._name)
                self._transport.resume_reading()
        if self._eof and not self._busy() and self._transport is not None:
            self._transport.close()

    async def _work(self) -> None:
        """Handle, in order, what the fast path leaves: one item at a time."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._queue:
                item = self._queue.popleft()
                try:
                    if isinstance(item, _Problem):
                        await self._on_error(item.error, item.header)
                    else:
                        await self._on_frame(item)
                except ConnectionError as exc:
                    if not self._lost:
                        self.close(f"lost: {exc}")
            self._worker_busy = False
            self._pump()

    # ------------------------------------------------------------------ problems

    def _problem(self, kind: str, message: str, *args: object) -> None:
        """Log the first problem of each kind on this connection; count the rest."""
        self._counts[kind] += 1
        if self._counts[kind] == 1:
            logger.warning(
                "%s: %s (further %s on this connection are counted, not logged)",
                self._name,
                message % args,
                kind,
            )
        elif logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s: %s", self._name, message % args)

    def _overloaded(self) -> None:
        now = self._loop.time()
        self._problem(
            "rate_limited",
            "over %s frames/s, dropping frames",
            self._gateway.max_frames_per_second,
        )
        if self._overload_since is None or now - self._last_drop > 1.0:
            self._overload_since = now
        self._last_drop = now
        if now - self._overload_since >= self._gateway.overload_close_after:
            reason = f"over the frame rate limit for {self._gateway.overload_close_after:g} s"
            self.close(reason, level=logging.WARNING)

    async def _on_error(self, error: JT808Error, header: Header | None) -> None:
        self._problem(type(error).__name__, "%s", error)
        if header is not None:
            result = (
                GeneralResult.UNSUPPORTED
                if isinstance(error, UnsupportedError)
                else GeneralResult.MESSAGE_ERROR
            )
            await self._reply(header, result)

    # ------------------------------------------------------------------ frames

    async def _on_frame(self, frame: Frame) -> None:
        header, message = frame.header, frame.message
        if message is None:
            self._problem(
                "sub_packet", "sub-packet frames are not reassembled (0x%04X)", header.msg_id
            )
            await self._reply(header, GeneralResult.UNSUPPORTED)
            return
        if isinstance(message, TerminalGeneralReply):
            self._on_terminal_reply(message)
            return
        if isinstance(message, Register):
            await self._on_register(header, message)
            return
        if isinstance(message, Authentication):
            await self._on_authentication(header, message)
            return
        state = self._terminal
        if state is None or state.device != header.device_id:
            self._problem(
                "unauthenticated",
                "refused 0x%04X from %s: not authenticated on this connection",
                header.msg_id,
                header.device_id,
            )
            await self._reply(header, GeneralResult.FAILURE)
            return
        if isinstance(message, Heartbeat):
            await self._reply(header, GeneralResult.SUCCESS)
        elif isinstance(message, Logout):
            await self._on_logout(header, state)
        elif isinstance(message, Location | LocationBatch):  # pragma: no cover - fast path
            self._start_run([frame], state)
        else:
            self._problem("unexpected", "0x%04X is a platform message", header.msg_id)
            await self._reply(header, GeneralResult.UNSUPPORTED)

    async def _on_register(self, header: Header, message: Register) -> None:
        device = header.device_id
        try:
            result, code = await self._gateway._register(device, message)
        except _RegistryFailedError:
            return  # no answer: the terminal retries its registration
        if result != RegisterResult.SUCCESS:
            code = ""
            self._problem("register_refused", "registration of %s refused: %s", device, result.name)
        else:
            logger.info("terminal %s registered (plate %s)", device, message.plate)
        await self._write(
            encode_register_reply(header, serial=self._next_serial(), result=result, auth_code=code)
        )

    async def _on_authentication(self, header: Header, message: Authentication) -> None:
        device = header.device_id
        try:
            accepted = await self._gateway._authenticate(device, message.auth_code)
        except _RegistryFailedError:
            await self._reply(header, GeneralResult.FAILURE)
            return
        if not accepted:
            self._problem("auth_refused", "authentication of %s refused: wrong code", device)
            await self._reply(header, GeneralResult.FAILURE)
            return
        state = self._gateway._terminal(device)
        async with state.lock:
            if not state.online:
                try:
                    await self._gateway._submit(
                        DeviceStatusChanged(
                            device=device, online=True, at=_now_utc(), reason="authenticated"
                        )
                    )
                except _SinkRefusedError:
                    await self._reply(header, GeneralResult.FAILURE)
                    return
                state.online = True
            state.last_seen = self._loop.time()
        if self._lost:
            return
        previous = state.connection
        if previous is not None and previous is not self:
            previous.close("replaced by a new connection of the same terminal")
        if self._terminal is not None and self._terminal is not state:
            self._detach()
        self._terminal = state
        self._header = header
        self._phone = header.phone
        state.connection = self
        logger.info(
            "terminal %s authenticated from %s (%s)", device, self.peer, header.version.value
        )
        await self._reply(header, GeneralResult.SUCCESS)

    async def _on_logout(self, header: Header, state: _Terminal) -> None:
        async with state.lock:
            if state.online:
                try:
                    await self._gateway._submit(
                        DeviceStatusChanged(
                            device=state.device, online=False, at=_now_utc(), reason="logout"
                        )
                    )
                except _SinkRefusedError:
                    await self._reply(header, GeneralResult.FAILURE)
                    return
                state.online = False
        logger.info("terminal %s logged out", state.device)
        self._detach()
        await self._reply(header, GeneralResult.SUCCESS)

    def _start_run(self, frames: list[Frame], state: _Terminal) -> None:
        """Send consecutive reports to the batcher: positions, then their alarms.

        Alarm edges are judged frame by frame in order; the replies go out from
        :meth:`run_done`, once everything of the run was accepted.
        """
        observations: list[Observation] = []
        alarms: list[DeviceAlarmRaised] = []
        live_flags = state.alarm_flags
        raise_mask = self._gateway._raise_mask
        for frame in frames:
            message = frame.message
            if isinstance(message, Location):
                locations: tuple[Location, ...] = (message,)
                backfill = False
            elif isinstance(message, LocationBatch):
                locations = message.locations
                backfill = message.kind == BatchKind.BACKFILL
            else:  # pragma: no cover - guarded by the callers
                continue
            observations.extend(frame_positions(frame))
            # Backfill is history: its alarm edges are judged within the batch and leave
            # the live edge state alone.
            flags = 0 if backfill else live_flags
            for location in locations:
                if location.alarm_flags & ~flags & raise_mask:  # rare: checked inline
                    alarms.extend(
                        self._gateway._rising_alarms(
                            state.device, flags, location, frame.header.version, backfill=backfill
                        )
                    )
                flags = location.alarm_flags
            if not backfill:
                live_flags = flags
        observations.extend(alarms)
        self._run_in_flight = True
        self._gateway._batcher.add(
            _Run(self, state, frames, observations, live_flags, raises_alarms=bool(alarms))
        )

    def run_done(self, run: _Run, accepted: bool) -> None:
        """The sink answered for ``run``: reply to its frames, then go on with the queue."""
        if accepted:
            run.state.alarm_flags = run.live_flags
        result = GeneralResult.SUCCESS if accepted else GeneralResult.FAILURE
        frames = run.frames
        if len(frames) == 1:  # the everyday run: one report
            replies = encode_general_reply(
                frames[0].header, serial=self._next_serial(), result=result
            )
        else:  # one write for the whole run: replies leave in the frames' order
            replies = b"".join(
                [
                    encode_general_reply(frame.header, serial=self._next_serial(), result=result)
                    for frame in frames
                ]
            )
        self._write_now(replies)
        self._run_in_flight = False
        self._pump()

    def _on_terminal_reply(self, reply: TerminalGeneralReply) -> None:
        future = self._pending.get(reply.reply_serial)
        if future is None or future.done():
            logger.debug(
                "%s: 0x0001 for 0x%04X serial %s matches nothing pending",
                self._name,
                reply.reply_msg_id,
                reply.reply_serial,
            )
            return
        future.set_result(reply.result)

    # ------------------------------------------------------------------ writing

    def _next_serial(self) -> int:
        serial = self._serial
        self._serial = (self._serial + 1) & 0xFFFF
        return serial

    async def _reply(self, header: Header, result: GeneralResult) -> None:
        await self._write(encode_general_reply(header, serial=self._next_serial(), result=result))

    def _write_now(self, data: bytes) -> bool:
        """Queue ``data`` on the transport; False if the connection is closing."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return False
        transport.write(data)
        return True

    async def _write(self, data: bytes) -> None:
        """Write, waiting while the terminal is not reading (up to ``write_timeout``)."""
        if not self._write_now(data):
            raise ConnectionResetError("connection is closing")
        if self._drained is not None:
            await asyncio.shield(self._drained)

    def pause_writing(self) -> None:
        # The terminal stopped reading its replies: give it write_timeout to catch up.
        self._drained = self._loop.create_future()
        self._stall_timer = self._loop.call_later(self._gateway.write_timeout, self._write_stalled)

    def resume_writing(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        if self._drained is not None:
            if not self._drained.done():
                self._drained.set_result(None)
            self._drained = None

    def _write_stalled(self) -> None:
        self._stall_timer = None
        if self._drained is not None and not self._drained.done():
            self._drained.set_exception(ConnectionResetError("write stalled"))
            # Nobody may be waiting on it (replies of the fast path are not awaited).
            self._drained.exception()
        self.close(f"not reading: write stalled for {self._gateway.write_timeout:g} s")

    async def send_text(self, message: TextMessage, timeout: float) -> GeneralResult:
        header = self._header
        if header is None or self._lost or self._transport is None or self._transport.is_closing():
            raise TerminalOfflineError(f"{self._name} is not authenticated")
        if len(self._pending) >= MAX_PENDING_TEXTS:
            raise GatewayError(f"{self._name} has {MAX_PENDING_TEXTS} texts awaiting replies")
        serial = self._next_serial()
        frame = encode_frame(
            message,
            phone=header.phone,
            serial=serial,
            version=header.version,
            protocol_version_number=header.protocol_version_number,
        )
        future: asyncio.Future[GeneralResult] = self._loop.create_future()
        self._pending[serial] = future
        try:
            try:
                await self._write(frame)
            except ConnectionError as exc:
                raise TerminalOfflineError(f"{self._name} closed: {exc}") from exc
            try:
                async with asyncio.timeout(timeout):
                    return await future
            except TimeoutError as exc:
                raise ReplyTimeoutError(
                    f"{self._name} did not answer the text (serial {serial}) within {timeout:g} s"
                ) from exc
        finally:
            self._pending.pop(serial, None)
