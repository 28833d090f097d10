"""The replayer: feeds a recording's device input through the real gateways of an
exercise instance, on the exercise clock.

Its sans-I/O core is :mod:`backend.exercises.schedule`. The I/O driver:
:class:`Replayer`, which opens one TCP connection to the instance's JT/T 808 gateway per
recorded connection number and one WebSocket to the exercise's device path, and sends each
entry when the exercise clock reaches it (pause, resume, seek forward and speed changes
take effect at once). It measures how far behind its schedule each send went out.

It holds the exercise clock at the recorded time of the earliest input the gateways have
not yet taken (sent and answered), plus :data:`CLOCK_SLACK_S`: when the sending falls
behind, exercise time waits for it, so stale checks, offline timers and deadlines see the
same input times at every speed.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import logging
import secrets
import ssl
import zlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from backend.exercises.clock import ExerciseClock
from backend.exercises.recording import (
    FeedInput,
    Jt808Input,
    ModbusInput,
    NmeaInput,
    Recording,
)
from backend.exercises.schedule import (
    NmeaRelay,
    Schedule,
    Scheduled,
    frame_phone,
    modbus_messages,
    shift_feed_text,
    shift_jt808_frame,
)
from devices.jt808.codec import FrameDecoder, decode_frame, encode_frame
from devices.jt808.errors import JT808Error
from devices.jt808.messages import Authentication, Location
from realtime.protocol import (
    DeviceReading,
    ProtocolError,
    decode_device,
)

logger = logging.getLogger(__name__)

SOS_BIT = 1 << 0
"""JT/T 808 alarm flag bit 0: the emergency (SOS) button."""
SETTLE_TIMEOUT = 10.0
"""Longest the end of a replay waits for the gateway's answers to the last frames."""
CLOCK_SLACK_S = 1.0
"""Recorded seconds the exercise clock may run past the earliest input not yet taken, so
the inputs due within it are in flight at once (the gateway commits them together).
Inputs still go no earlier than their time; a rule sees at most this much extra silence,
far below every rule's window (stale checks, offline timers, dwell)."""
FEED_WINDOW = 256
"""Device-feed messages sent and not yet answered on one connection, at most (the
instance answers them in order)."""
FEED_CONNECTIONS = 8
"""WebSockets of the replay's device feed: the instance handles each connection's
messages one after another, each durable before the next, so the devices are spread
over several (a device always on the same one, its inputs in order) and their messages
go into the same group commits."""
MAX_LAGS_KEPT = 2_000_000
"""Send lags remembered for the p99 (a 1-hour recording of 700 devices is well under)."""


class Error(Exception):
    """The replay cannot go on (``str()`` says why)."""


# ----------------------------------------------------------------------------- driver


@dataclass(slots=True)
class _Terminal:
    """One recorded terminal connection, replayed over its own TCP connection."""

    number: int
    login: bytes | None = None
    """The connection's authentication frame (resent if the gateway closed the connection)."""
    phone: str | None = None
    last_location: Location | None = None
    writer: asyncio.StreamWriter | None = None
    drain: asyncio.Task[None] | None = None
    pending: deque[int] = field(default_factory=deque)
    """The replay's numbers of the frames sent on the connection and not yet answered."""


@dataclass(slots=True)
class _FeedLane:
    """One WebSocket of the replay's device feed and the messages it has in flight."""

    connection: ClientConnection
    pending: deque[int] = field(default_factory=deque)
    """The replay's numbers of the messages sent on it and not yet answered, in order."""
    window: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(FEED_WINDOW))
    reader: asyncio.Task[None] | None = None
    closed: str | None = None
    """Why it closed (``None``: open)."""


@dataclass(slots=True)
class ReplayFigures:
    """How the replay kept to its schedule."""

    sent: int = 0
    lags: array.array[float] = field(default_factory=lambda: array.array("d"))

    def lag_p99(self) -> float:
        """The 99th percentile of the send lag (wall seconds behind the schedule)."""
        if not self.lags:
            return 0.0
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class Replayer:
    """Sends a recording's device input into an exercise instance on its clock."""

    def __init__(
        self,
        recording: Recording,
        clock: ExerciseClock,
        *,
        jt808_address: tuple[str, int],
        feed_url: str,
        feed_token: str,
        auth_codes: Mapping[str, str] | None = None,
    ) -> None:
        self.recording = recording
        self.clock = clock
        self.schedule = Schedule(recording)
        self.figures = ReplayFigures()
        self._delta = clock.origin - recording.header.window_from
        self._jt808_address = jt808_address
        self._feed_url = feed_url
        self._feed_token = feed_token
        self._auth_codes = dict(auth_codes or {})
        self._terminals: dict[int, _Terminal] = {}
        self._lanes: list[_FeedLane] = []
        self._progress = asyncio.Event()
        self._nmea = NmeaRelay()
        self._units = {sensor.sensor_id: sensor.unit for sensor in recording.registry.sensors}
        self._changed = asyncio.Event()
        self._catch_up_to = -1.0
        self._ref = 0
        self._lock = asyncio.Lock()
        self.failed_sensors: set[str] = set()
        """Sensors an injection made fail: their recorded readings are no longer sent."""
        self._phone_connections = terminal_phones(recording)
        self._sent_count = 0
        self._untaken: deque[tuple[int, float]] = deque()
        """(number, offset) of every input sent and not yet known taken, in sending order."""
        self._taken: set[int] = set()
        self._limit: float | None = None
        self._relimit()

    @property
    def duration_s(self) -> float:
        """The recording's length."""
        return self.recording.duration_s

    def _track(self, offset: float) -> int:
        """Number an input about to be sent (untaken until :meth:`_took`)."""
        self._sent_count += 1
        self._untaken.append((self._sent_count, offset))
        return self._sent_count

    def _took(self, number: int) -> None:
        """The gateway answered input ``number``: the clock may pass it."""
        self._taken.add(number)
        untaken, taken = self._untaken, self._taken
        while untaken and untaken[0][0] in taken:
            taken.discard(untaken.popleft()[0])
        self._relimit()
        self._progress.set()

    def _relimit(self) -> None:
        """Hold the clock at the earliest input not yet taken (sent or not), give or take
        :data:`CLOCK_SLACK_S`."""
        candidates = []
        if self._untaken:
            candidates.append(self._untaken[0][1])
        upcoming = self.schedule.next_offset()
        if upcoming is not None:
            candidates.append(upcoming)
        limit = min(candidates) + CLOCK_SLACK_S if candidates else None
        if limit != self._limit:
            self._limit = limit
            self.clock.limit(limit)
            self._changed.set()

    def changed(self) -> None:
        """The clock was paused, resumed, sought or sped up: re-plan the next send."""
        self._changed.set()

    def seek(self, position: float) -> None:
        """Jump forward: the inputs in between go at once, in order (not counted as lag)."""
        self.clock.seek(position)
        self._catch_up_to = max(self._catch_up_to, position)
        self.changed()

    async def run(self) -> None:
        """Replay to the end of the recording (the clock reaching its duration)."""
        try:
            await self._open_feed()
            while True:
                offset = self.schedule.next_offset()
                target = self.duration_s if offset is None else offset
                if not await self._reached(target):
                    continue
                if offset is None:
                    for text in self._nmea.flush(self._delta, self._next_ref):
                        await self._send_feed(text, self.duration_s)
                    await self.settle()
                    return
                async with self._lock:
                    for item in self.schedule.due(self.clock.position()):
                        self._measure(item.offset)
                        await self._send(item)
                    self._relimit()
        finally:
            await self.close()

    async def _reached(self, position: float) -> bool:
        """Wait until the clock reaches ``position`` or the plan changes; say which."""
        wait = self.clock.wall_seconds_until(position)
        if wait == 0.0:
            return True
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._changed.wait()
        return self.clock.wall_seconds_until(position) == 0.0

    def _measure(self, offset: float) -> None:
        self.figures.sent += 1
        if offset <= self._catch_up_to:
            return
        clock = self.clock
        lag = (clock.position() + clock.behind() - offset) / clock.speed
        if len(self.figures.lags) < MAX_LAGS_KEPT:
            self.figures.lags.append(max(0.0, lag))

    def _next_ref(self) -> str:
        self._ref += 1
        return f"replay-{self._ref}"

    async def _send(self, item: Scheduled) -> None:
        entry = item.entry
        offset = item.offset
        due = self.clock.at(offset)
        match entry:
            case Jt808Input():
                await self._send_frame(entry.connection, entry.data, offset)
            case FeedInput():
                if not self._failed(entry.text):
                    text = shift_feed_text(entry.text, entry.account, self._delta, due)
                    await self._send_feed(text, offset, feed_device(text))
            case NmeaInput():
                for text in self._nmea.messages(entry, self._delta, self._next_ref()):
                    await self._send_feed(text, offset, entry.device)
            case ModbusInput():
                if entry.sensor not in self.failed_sensors:
                    for text in modbus_messages(entry, self._units, due, self._next_ref()):
                        await self._send_feed(text, offset, entry.device)
            case _:
                pass

    def _failed(self, text: str) -> bool:
        if not self.failed_sensors:
            return False
        try:
            message = decode_device(text)
        except ProtocolError:
            return False
        return isinstance(message, DeviceReading) and message.sensor in self.failed_sensors

    # ------------------------------------------------------------------ JT/T 808

    async def _send_frame(self, number: int, data: bytes, offset: float) -> None:
        terminal = self._terminals.get(number)
        if terminal is None:
            terminal = self._terminals[number] = _Terminal(number)
        shifted = shift_jt808_frame(data, self._delta)
        self._remember(terminal, data, shifted)
        writer = await self._connected(terminal, data, offset)
        self._write(terminal, writer, shifted, offset)
        await writer.drain()

    def _write(
        self, terminal: _Terminal, writer: asyncio.StreamWriter, frame: bytes, offset: float
    ) -> None:
        terminal.pending.append(self._track(offset))
        writer.write(frame)

    def _answered(self, terminal: _Terminal, count: int) -> None:
        """``count`` replies came on the terminal's connection (``-1``: it closed, so
        what it held unanswered will never be)."""
        pending = terminal.pending
        while pending and count != 0:
            self._took(pending.popleft())
            count -= 1

    def _remember(self, terminal: _Terminal, original: bytes, shifted: bytes) -> None:
        with contextlib.suppress(JT808Error):
            frame = decode_frame(original)
            terminal.phone = frame.header.phone.lstrip("0") or "0"
            if isinstance(frame.message, Authentication):
                terminal.login = original
            moved = decode_frame(shifted).message
            if isinstance(moved, Location):
                terminal.last_location = moved

    async def _connected(
        self, terminal: _Terminal, first: bytes, offset: float
    ) -> asyncio.StreamWriter:
        """The terminal's open connection (reopened, and logged in again, if the gateway
        closed it: a pause longer than its offline limit)."""
        writer = terminal.writer
        if writer is not None and not writer.is_closing() and not _ended(terminal.drain):
            return writer
        await self._close_terminal(terminal)
        host, port = self._jt808_address
        reader, writer = await asyncio.open_connection(host, port)
        terminal.writer = writer
        terminal.drain = asyncio.create_task(
            self._drain(reader, terminal), name=f"replay-808-{terminal.number}"
        )
        if not _is_login(first):
            login = terminal.login or self._login_for(terminal)
            if login is not None:
                self._write(terminal, writer, login, offset)
        return writer

    async def _drain(self, reader: asyncio.StreamReader, terminal: _Terminal) -> None:
        """Count the gateway's replies until it closes the connection."""
        splitter = FrameDecoder().split
        try:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    self._answered(terminal, len(splitter(data)))
        finally:
            self._answered(terminal, -1)

    def _login_for(self, terminal: _Terminal) -> bytes | None:
        """An authentication frame for a connection recorded without its login (the
        recording started while it was open), with the code seeded for the terminal."""
        phone = terminal.phone
        code = self._auth_codes.get(phone) if phone is not None else None
        if phone is None or code is None:
            return None
        return encode_frame(Authentication(auth_code=code), phone=phone, serial=0)

    async def send_sos(self, phone: str) -> None:
        """The terminal ``phone`` presses SOS: a 0x0200 with the SOS bit, at its last
        recorded place and the exercise time now, on its own connection."""
        number = self._phone_connections.get(phone)
        if number is None:
            raise Error(f"no terminal {phone} in this recording")
        async with self._lock:
            terminal = self._terminals.get(number)
            if terminal is None:
                terminal = self._terminals[number] = _Terminal(number, phone=phone)
            last = terminal.last_location or _first_location(self.recording, number)
            now = self.clock()
            if last is None:
                location = Location.from_degrees(lat=0.0, lon=0.0, time=now, alarm_flags=SOS_BIT)
            else:
                location = msgspec.structs.replace(
                    last, time=now, alarm_flags=last.alarm_flags | SOS_BIT
                )
            frame = encode_frame(location, phone=phone, serial=0xFFFF)
            offset = self.clock.position()
            writer = await self._connected(terminal, frame, offset)
            self._write(terminal, writer, frame, offset)
            await writer.drain()

    async def _close_terminal(self, terminal: _Terminal) -> None:
        if terminal.writer is not None:
            terminal.writer.close()
            with contextlib.suppress(OSError):
                await terminal.writer.wait_closed()
            terminal.writer = None
        if terminal.drain is not None:
            terminal.drain.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await terminal.drain
            terminal.drain = None

    # ------------------------------------------------------------------ device feed

    async def _open_feed(self) -> None:
        feeds = (FeedInput, NmeaInput, ModbusInput)
        if not any(isinstance(entry, feeds) for entry in self.recording.entries):
            return
        lanes = []
        try:
            for number in range(FEED_CONNECTIONS):
                connection = await connect(
                    self._feed_url,
                    additional_headers={"Authorization": f"Bearer {self._feed_token}"},
                    compression=None,
                    open_timeout=10,
                    ssl=_loopback_tls() if self._feed_url.startswith("wss:") else None,
                )
                lane = _FeedLane(connection)
                lanes.append(lane)
                lane.reader = asyncio.create_task(
                    self._read_feed(lane), name=f"replay-feed-answers-{number}"
                )
        except (OSError, WebSocketException, TimeoutError) as exc:
            self._lanes = lanes
            raise Error(f"cannot open the exercise's device feed: {exc}") from exc
        self._lanes = lanes

    async def _read_feed(self, lane: _FeedLane) -> None:
        """Match the instance's answers, in order, to the messages sent on ``lane``."""
        pending = lane.pending
        try:
            async for _answer in lane.connection:
                if pending:
                    self._took(pending.popleft())
                    lane.window.release()
            lane.closed = "closed by the instance"
        except ConnectionClosed as exc:
            lane.closed = str(exc)
        finally:
            if lane.closed is None:
                lane.closed = "closed"
            # Nothing more will be answered: let the clock and the senders go on.
            while pending:
                self._took(pending.popleft())
            for _ in range(FEED_WINDOW):
                lane.window.release()

    async def _send_feed(self, text: str, offset: float, key: str = "") -> None:
        """Send one feed message on the connection of its device (``key``): at most
        :data:`FEED_WINDOW` go unanswered on each; the instance stores each before
        answering, in the order sent, so a device's inputs are judged in the recorded
        order while different devices' are stored together."""
        if not self._lanes:
            await self._open_feed()
            if not self._lanes:
                return
        lane = self._lanes[zlib.crc32(key.encode()) % len(self._lanes)]
        await lane.window.acquire()
        if lane.closed is not None:
            raise Error(f"the exercise's device feed closed: {lane.closed}")
        lane.pending.append(self._track(offset))
        try:
            await lane.connection.send(text)
        except ConnectionClosed as exc:
            raise Error(f"the exercise's device feed closed: {exc}") from exc

    async def settle(self, timeout: float = SETTLE_TIMEOUT) -> bool:
        """Wait until the gateways have answered every input sent (they answer once what
        it holds is committed); return whether they did within ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while self._untaken:
                    self._progress.clear()
                    await self._progress.wait()
        except TimeoutError:
            logger.info("replay ended with frames the gateway had not answered")
            return False
        return True

    async def close(self) -> None:
        """Close every connection the replay opened."""
        for terminal in self._terminals.values():
            await self._close_terminal(terminal)
        lanes, self._lanes = self._lanes, []
        for lane in lanes:
            await lane.connection.close()
            if lane.reader is not None:
                lane.reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.reader


def feed_device(text: str) -> str:
    """The device a feed message is about (its connection's key; ``""`` if none)."""
    try:
        message = decode_device(text)
    except ProtocolError:
        return ""
    return str(getattr(message, "device", "") or "")


def _loopback_tls() -> ssl.SSLContext:
    """TLS to this very server over 127.0.0.1 (its certificate names its public host; the
    one-time token, not the certificate, proves who the feed is)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _is_login(data: bytes) -> bool:
    """Whether a frame registers or authenticates its terminal (0x0100, 0x0102)."""
    try:
        return decode_frame(data).header.msg_id in (0x0100, Authentication.MSG_ID)
    except JT808Error:
        return False


def _ended(task: asyncio.Task[None] | None) -> bool:
    return task is not None and task.done()


def terminal_phones(recording: Recording) -> dict[str, int]:
    """Each terminal's (last) recorded connection number."""
    phones: dict[str, int] = {}
    for entry in recording.entries:
        if isinstance(entry, Jt808Input):
            phone = frame_phone(entry.data)
            if phone is not None:
                phones[phone] = entry.connection
    return phones


def _first_location(recording: Recording, number: int) -> Location | None:
    for entry in recording.entries:
        if isinstance(entry, Jt808Input) and entry.connection == number:
            with contextlib.suppress(JT808Error):
                message = decode_frame(entry.data).message
                if isinstance(message, Location):
                    return message
    return None


def recorded_auth_codes(recording: Recording) -> dict[str, str]:
    """The auth code each terminal logged in with in the recording (seeded into the
    exercise's registry so the same login is accepted); a terminal recorded without its
    login (the recording began while it was connected) gets a code of the exercise's own,
    which the replayer logs it in with."""
    codes: dict[str, str] = {
        phone: f"exercise-{secrets.token_hex(6)}" for phone in terminal_phones(recording)
    }
    for entry in recording.entries:
        if isinstance(entry, Jt808Input):
            with contextlib.suppress(JT808Error):
                frame = decode_frame(entry.data)
                if isinstance(frame.message, Authentication):
                    codes[frame.header.phone.lstrip("0") or "0"] = frame.message.auth_code
    return codes
