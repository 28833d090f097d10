"""One JT/T 808 terminal connection on asyncio: the thin I/O layer around its session.

:class:`TerminalConnection` is an :class:`asyncio.Protocol`. Bytes are decoded as they
arrive (``data_received``, through the connection's sans-I/O
:class:`~devices.jt808.session.TerminalSession`) into one ordered queue. Location reports
of the authenticated terminal, the everyday traffic, go from there straight to the
gateway's :class:`~devices.jt808.gateway.batcher.ReportBatcher` and are answered from its
completion, with no task switch per read; everything else (registration, authentication,
heartbeats, errors, replies) is handled in order by the connection's worker task. Only one
of the two is ever busy, so frames are handled in stream order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from typing import TYPE_CHECKING, cast

from devices.jt808.bits import alarm_flags_of
from devices.jt808.codec import Frame, location_to_position
from devices.jt808.errors import JT808Error, UnsupportedError
from devices.jt808.framing import Header, ProtocolVersion
from devices.jt808.gateway.batcher import ReportRun
from devices.jt808.gateway.errors import (
    AnswerLostError,
    GatewayError,
    RegistryFailedError,
    ReplyTimeoutError,
    SinkRefusedError,
    TerminalOfflineError,
)
from devices.jt808.gateway.limits import address_of
from devices.jt808.gateway.orders import ANSWER_TYPES, Answer, PendingOrders
from devices.jt808.gateway.terminals import TerminalState, now_utc
from devices.jt808.messages import (
    Authentication,
    GeneralResult,
    Heartbeat,
    Location,
    LocationBatch,
    Logout,
    Message,
    PositionAnswer,
    Register,
    RegisterResult,
    TerminalGeneralReply,
    TextMessage,
    VehicleControlAnswer,
)
from devices.jt808.session import Item, TerminalSession
from devices.observations import DeviceStatusChanged

if TYPE_CHECKING:
    from devices.jt808.gateway.server import Jt808Gateway

logger = logging.getLogger(__name__)

MAX_QUEUED_ITEMS = 256
"""Decoded frames waiting per connection before reading pauses (back-pressure)."""

_ABUSE = {
    "garbage": "connections closed for sending garbage",
    "byte_rate": "connections closed for exceeding the byte budget",
}
"""How each kind of :attr:`TerminalSession.abuse` is logged (once per episode)."""


class TerminalConnection(asyncio.Protocol):
    """The coordinator of one TCP connection: decode, authorize, submit, then reply."""

    def __init__(self, gateway: Jt808Gateway) -> None:
        self._gateway = gateway
        self._terminals = gateway.terminals
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self.peer = "?"
        self.number = gateway.next_connection_number()
        """This connection's number in the gateway (the input journal's key)."""
        self.address = "?"
        """The source address (without the port): what the per-address cap counts."""
        self.last_rx = gateway.silence_clock()
        self._session = TerminalSession(
            now=self._loop.time(),
            max_frame_size=gateway.max_frame_size,
            max_frames_per_second=gateway.max_frames_per_second,
            overload_close_after=gateway.overload_close_after,
            raise_mask=gateway.alarm_mask,
            max_bytes_per_second=gateway.max_bytes_per_second,
        )
        self._login_timer: asyncio.TimerHandle | None = None
        self._terminal: TerminalState | None = None
        self._run_state: TerminalState | None = None
        """The terminal of the run in flight (the batcher has it), else ``None``."""
        self._pending = PendingOrders()
        self._counts: Counter[str] = Counter()
        self._close_reason = ""
        self._queue: deque[Item] = deque()
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
        self.address = address_of(peer)
        if not self._gateway.admit(self.address):
            self._lost = True
            transport.abort()
            return
        logger.debug("JT/T 808 connection from %s", self.peer)
        self._login_timer = self._loop.call_later(self._gateway.login_timeout, self._login_expired)
        self._gateway.connection_started(
            self, self._loop.create_task(self._work(), name=f"jt808 {self.peer}")
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        if exc is not None and not self._close_reason:
            logger.info("%s lost: %s", self._name, exc)
        # Every order waiting was written already (it is written as it is added).
        self._pending.fail_all(AnswerLostError(f"{self._name} closed before it replied"))
        if self._drained is not None and not self._drained.done():
            self._drained.set_exception(ConnectionResetError("connection closed"))
        if self._stall_timer is not None:
            self._stall_timer.cancel()
        if self._login_timer is not None:
            self._login_timer.cancel()
        self._queue.clear()
        self._detach()
        if self._counts:
            summary = ", ".join(f"{kind} x{count}" for kind, count in sorted(self._counts.items()))
            logger.info("%s closed; problems seen: %s", self._name, summary)
        self._gateway.connection_lost(self)

    def close(self, reason: str, *, level: int = logging.INFO) -> None:
        """Close the transport (once); the connection then tears down."""
        if not self._close_reason:
            self._close_reason = reason
            logger.log(level, "closing %s: %s", self._name, reason)
        if self._transport is not None:
            self._transport.close()

    def close_for(self, kind: str, what: str, detail: str) -> None:
        """Close for abuse or a limit, at once: counted, and logged by the gateway once
        per episode and address instead of once per connection."""
        if self._close_reason or self._transport is None:
            return
        self._close_reason = kind
        self._counts.clear()  # the episode's log line says it all
        self._gateway.closed_for(kind, what, self.address, detail)
        self._transport.abort()

    def _login_expired(self) -> None:
        self._login_timer = None
        if self._session.header is None:
            self.close_for(
                "login_timeout",
                "connections closed for not authenticating in time",
                f"not authenticated within {self._gateway.login_timeout:g} s of connecting",
            )

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
        if (on_input := self._gateway.on_input) is not None:
            on_input(self.number, data)
        now = self._loop.time()
        heard = self._gateway.silence_clock()
        self.last_rx = heard
        if self._terminal is not None:
            self._terminal.last_seen = heard
        queue = self._queue
        session = self._session
        dropped = session.receive(data, now, queue)
        if session.abuse is not None:
            kind, detail = session.abuse
            self.close_for(kind, _ABUSE[kind], detail)
            return
        if dropped:
            self._overloaded(dropped)
            if transport.is_closing():
                return
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
        return self._run_state is not None or self._worker_busy or bool(self._queue)

    def _pump(self) -> None:
        """Hand the head of the queue to whoever handles it, unless one is busy."""
        if self._run_state is not None or self._worker_busy or self._lost:
            return
        queue = self._queue
        state = self._terminal
        if state is not None and queue:
            run = self._session.take_reports(queue, state.device)
            if run:
                self._start_run(run, state)
        if queue and self._run_state is None:
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
                    if isinstance(item, JT808Error):
                        await self._on_error(item)
                    else:
                        await self._on_frame(item)
                except ConnectionError as exc:
                    if not self._lost:
                        self.close(f"lost: {exc}")
            self._worker_busy = False
            self._pump()

    # ------------------------------------------------------------------ problems

    def _problem(self, kind: str, message: str, *args: object, count: int = 1) -> None:
        """Count a problem on this connection; the first of each kind from a host in a while
        is logged (once per episode of that host and kind, however many connections it
        opens: a flood over fifty sockets is a few lines, not fifty)."""
        self._counts[kind] += count
        if self._counts[kind] == count:
            self._gateway.problem_seen(kind, self.address, f"{self._name}: {message % args}")
        elif logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s: %s", self._name, message % args)

    def _overloaded(self, dropped: int) -> None:
        self._problem(
            "rate_limited",
            "over %s frames/s, dropping frames",
            self._gateway.max_frames_per_second,
            count=dropped,
        )
        if self._session.overloaded:
            reason = f"over the frame rate limit for {self._gateway.overload_close_after:g} s"
            self.close(reason, level=logging.WARNING)

    async def _on_error(self, error: JT808Error) -> None:
        self._problem(type(error).__name__, "%s", error)
        if error.header is not None:
            self._pending.fail_undecodable(error.header.msg_id, error)
            result = (
                GeneralResult.UNSUPPORTED
                if isinstance(error, UnsupportedError)
                else GeneralResult.MESSAGE_ERROR
            )
            await self._reply(error.header, result)

    # ------------------------------------------------------------------ frames

    async def _on_frame(self, frame: Frame) -> None:
        header, message = frame.header, frame.message
        if message is None:
            self._problem(
                "sub_packet", "sub-packet frames are not reassembled (0x%04X)", header.msg_id
            )
            await self._reply(header, GeneralResult.UNSUPPORTED)
            return
        if isinstance(message, ANSWER_TYPES):
            self._on_answer(message)
            if isinstance(message, PositionAnswer | VehicleControlAnswer):
                await self._answered_position(header, message.location)
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
            result, code = await self._terminals.register(device, message)
        except RegistryFailedError:
            return  # no answer: the terminal retries its registration
        if result != RegisterResult.SUCCESS:
            self._problem("register_refused", "registration of %s refused: %s", device, result.name)
        else:
            logger.info("terminal %s registered (plate %s)", device, message.plate)
        await self._write(self._session.register_reply(header, result, code))

    async def _on_authentication(self, header: Header, message: Authentication) -> None:
        device = header.device_id
        try:
            accepted = await self._terminals.authenticate(device, message.auth_code)
        except RegistryFailedError:
            await self._reply(header, GeneralResult.FAILURE)
            return
        if not accepted:
            self._problem("auth_refused", "authentication of %s refused: wrong code", device)
            await self._reply(header, GeneralResult.FAILURE)
            return
        state = self._terminals.state(device)
        async with state.lock:
            if not await self._restore_alarms(state, header):
                await self._reply(header, GeneralResult.FAILURE)
                return
            if not state.online:
                try:
                    await self._terminals.submit(
                        DeviceStatusChanged(
                            device=device, online=True, at=now_utc(), reason="authenticated"
                        )
                    )
                except SinkRefusedError:
                    await self._reply(header, GeneralResult.FAILURE)
                    return
                state.online = True
            state.last_seen = self._gateway.silence_clock()
        if self._lost:
            return
        previous = state.connection
        if previous is not None and previous is not self:
            previous.close("replaced by a new connection of the same terminal")
        if self._terminal is not None and self._terminal is not state:
            self._detach()
        self._terminal = state
        self._session.authenticated(header)
        if self._login_timer is not None:
            self._login_timer.cancel()
            self._login_timer = None
        state.connection = self
        logger.info(
            "terminal %s authenticated from %s (%s)", device, self.peer, header.version.value
        )
        await self._reply(header, GeneralResult.SUCCESS)

    async def _restore_alarms(self, state: TerminalState, header: Header) -> bool:
        """Take the terminal's alarm bits from where they are kept (False: unreachable,
        the terminal is refused and authenticates again)."""
        restore = self._gateway.restore_alarms
        if restore is None:
            return True
        try:
            names = await restore(state.device)
        except Exception:
            logger.exception("cannot read the alarm state of terminal %s", state.device)
            return False
        state.alarm_flags = alarm_flags_of(names, header.version)
        return True

    async def _on_logout(self, header: Header, state: TerminalState) -> None:
        async with state.lock:
            if state.online:
                try:
                    await self._terminals.submit(
                        DeviceStatusChanged(
                            device=state.device, online=False, at=now_utc(), reason="logout"
                        )
                    )
                except SinkRefusedError:
                    await self._reply(header, GeneralResult.FAILURE)
                    return
                state.online = False
        logger.info("terminal %s logged out", state.device)
        self._detach()
        await self._reply(header, GeneralResult.SUCCESS)

    def _start_run(self, frames: list[Frame], state: TerminalState) -> None:
        """Send consecutive reports to the batcher: positions, then their alarms.

        The replies go out from :meth:`run_done`, once everything of the run was accepted.
        """
        reports = self._session.judge_reports(frames, state.device, state.alarm_flags)
        self._run_state = state
        self._gateway.batcher.add(ReportRun(self, frames, reports))

    def run_done(self, run: ReportRun, accepted: bool) -> None:
        """The sink answered for ``run``: reply to its frames, then go on with the queue."""
        state = self._run_state
        if accepted and state is not None:
            state.alarm_flags = run.reports.live_flags
            if run.reports.reserved_bits:
                self._gateway.note_reserved_bits(state, run.reports.reserved_bits)
        result = GeneralResult.SUCCESS if accepted else GeneralResult.FAILURE
        self._write_now(self._session.replies(run.frames, result))
        self._run_state = None
        self._pump()

    async def _answered_position(self, header: Header, location: Location) -> None:
        """The position in an order's answer (0x0201, 0x0500) is a fresh fix: it goes to
        the sink like a report's (the map and the track), without judging alarm edges."""
        state = self._terminal
        if state is None or state.device != header.device_id:
            return
        position = location_to_position(location, device=state.device, version=header.version)
        try:
            await self._terminals.submit(position)
        except SinkRefusedError:
            logger.info("%s: the position of an order's answer was not stored", self._name)

    def _on_answer(self, answer: Answer) -> None:
        if not self._pending.resolve(answer):
            logger.debug(
                "%s: 0x%04X for serial %s matches nothing pending",
                self._name,
                answer.MSG_ID,
                answer.reply_serial,
            )

    @property
    def version(self) -> ProtocolVersion | None:
        """The edition the terminal authenticated with (None before)."""
        header = self._session.header
        return None if header is None else header.version

    # ------------------------------------------------------------------ writing

    async def _reply(self, header: Header, result: GeneralResult) -> None:
        await self._write(self._session.reply(header, result))

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
        """Send ``message`` and return the result of the terminal's 0x0001 reply."""
        answer = await self.send_order(message, timeout)
        if not isinstance(answer, TerminalGeneralReply):  # pragma: no cover - by matching
            raise GatewayError(f"{self._name} answered a text with 0x{answer.MSG_ID:04X}")
        return answer.result

    async def send_order(self, message: Message, timeout: float) -> Answer:
        """Send ``message`` (a platform order) and return the terminal's answer to it: its
        own answer (0x0201, 0x0104, 0x0500) or a 0x0001.

        Raises :class:`TerminalOfflineError` (:class:`AnswerLostError` when the connection
        closed after the order went out), :class:`ReplyTimeoutError`,
        :class:`~devices.jt808.gateway.errors.BadAnswerError` (the answer could not be
        decoded) and :class:`GatewayError` (too many orders awaiting answers)."""
        if (
            self._session.header is None
            or self._lost
            or self._transport is None
            or self._transport.is_closing()
        ):
            raise TerminalOfflineError(f"{self._name} is not authenticated")
        serial, frame = self._session.order(message)
        future = self._pending.add(serial, message, self._name)
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
                    f"{self._name} did not answer 0x{message.MSG_ID:04X} (serial {serial}) "
                    f"within {timeout:g} s"
                ) from exc
        finally:
            self._pending.discard(serial)
