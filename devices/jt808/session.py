"""The protocol state of one JT/T 808 terminal connection, without I/O (sans-I/O).

A :class:`TerminalSession` turns the bytes a connection reads into decoded frames (and
errors, in stream order), enforces the per-connection frame rate, judges location reports
(positions, and device alarms on rising alarm bits) and builds every reply with its own
outgoing serial numbers. It never reads a socket, awaits or sleeps: the caller passes the
time in and writes the bytes out (``devices.jt808.gateway`` does, on asyncio), so the
whole protocol logic runs in plain unit tests.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from dataclasses import dataclass

from devices.jt808.bits import alarm_table, reserved_alarm_mask
from devices.jt808.codec import (
    Frame,
    FrameDecoder,
    encode_general_reply,
    encode_register_reply,
    encode_to,
    frame_positions,
)
from devices.jt808.errors import FramingError, JT808Error, UnsupportedError
from devices.jt808.framing import DEFAULT_MAX_ESCAPED_FRAME, Header, ProtocolVersion
from devices.jt808.messages import (
    BatchKind,
    GeneralResult,
    Location,
    LocationBatch,
    Message,
    RegisterResult,
    TextMessage,
)
from devices.observations import DeviceAlarmRaised, Observation
from realtime.ratelimit import TokenBucket

ALL_ALARM_BITS: frozenset[int] = frozenset(range(32))
"""Default for ``alarm_bits_that_raise``: every alarm bit raises a device alarm."""

MAX_RUN = 64
"""Location reports of one connection submitted (and acknowledged) together at most."""

GARBAGE_ALLOWANCE = 4096
"""Bytes that decode to no valid frame a connection may send before its first good one."""
GARBAGE_SHARE = 4
"""Beyond the allowance, one byte of garbage is tolerated per this many good bytes."""
DEFAULT_MAX_BYTES_PER_SECOND = 64 * 1024
"""A connection's byte budget: far above what the frame rate limit lets a terminal use."""

OVERLOAD_QUIET_SECONDS = 1.0
"""A connection with no frame dropped for this long is no longer overloaded."""

_REPORTS = (Location, LocationBatch)
"""Messages of the fast path (a tuple: ``A | B`` would build a union at every check)."""

Item = Frame | JT808Error
"""What a connection reads, in stream order: a frame, or why bytes were not one."""


def alarm_mask(alarm_bits: Collection[int]) -> int:
    """The bit mask of ``alarm_bits`` (indices 0..31); ValueError for any other index."""
    bad_bits = [bit for bit in alarm_bits if not 0 <= bit < 32]
    if bad_bits:
        raise ValueError(f"alarm bits must be 0..31, got {bad_bits}")
    return sum(1 << bit for bit in set(alarm_bits))


def rising_alarms(
    device: str,
    previous: int,
    location: Location,
    version: ProtocolVersion,
    raise_mask: int,
    *,
    backfill: bool,
) -> list[DeviceAlarmRaised]:
    """One device alarm per bit of ``raise_mask`` that is set in ``location`` but was clear
    in ``previous`` (the alarm bits of the report before it). Bits the table of
    ``version`` leaves reserved raise nothing (see :func:`reserved_rising`)."""
    table = alarm_table(version)
    rising = location.alarm_flags & ~previous & raise_mask & ~reserved_alarm_mask(version)
    if not rising:
        return []
    suffix = " (blind-area backfill)" if backfill else ""
    return [
        DeviceAlarmRaised(
            device=device,
            key=table[bit],
            at=location.time,
            lat=location.lat if location.positioned else None,
            lon=location.lon if location.positioned else None,
            description=f"JT/T 808 alarm bit {bit}{suffix}",
        )
        for bit in range(32)
        if rising >> bit & 1
    ]


def reserved_rising(previous: int, location: Location, version: ProtocolVersion) -> list[int]:
    """The reserved alarm bits (of ``version``'s table) set in ``location`` but clear in
    ``previous``: they raise no alarm, and the gateway logs and counts them."""
    rising = location.alarm_flags & ~previous & reserved_alarm_mask(version)
    return [bit for bit in range(32) if rising >> bit & 1]


@dataclass(slots=True)
class JudgedReports:
    """What a run of location reports carries, ready for the observation sink.

    (Not frozen: one is built per run, and a frozen dataclass's ``__init__`` is slow.)"""

    observations: list[Observation]
    """Positions in report order, then the device alarms they raised."""
    live_flags: int
    """The terminal's live alarm bits once the run is accepted."""
    raises_alarms: bool
    reserved_bits: tuple[int, ...] = ()
    """Reserved alarm bits that rose in the run, one entry per rising edge (no alarm)."""


class TerminalSession:
    """One connection's JT/T 808 state: decoding, rate limit, authentication, serials.

    ``max_frames_per_second`` allows bursts of one second's worth; frames over it are
    dropped before they are decoded. A connection dropping frames for
    ``overload_close_after`` seconds (with no quiet second between) becomes
    :attr:`overloaded`, and its caller should close it. ``raise_mask`` selects the alarm
    bits that raise device alarms when they rise (see :func:`alarm_mask`).

    Abuse is cut short before it costs the caller's loop: a connection that sends more
    than ``max_bytes_per_second`` (bursts of four seconds' worth), or more than
    :data:`GARBAGE_ALLOWANCE` bytes that decode to no valid frame beyond one per
    :data:`GARBAGE_SHARE` bytes of good frames, gets :attr:`abuse` set, and the rest of
    what it sent is not even split into frames: the caller should close it.
    """

    def __init__(
        self,
        *,
        now: float,
        max_frame_size: int = DEFAULT_MAX_ESCAPED_FRAME,
        max_frames_per_second: float = 20.0,
        overload_close_after: float = 5.0,
        raise_mask: int = (1 << 32) - 1,
        max_bytes_per_second: float = DEFAULT_MAX_BYTES_PER_SECOND,
    ) -> None:
        decoder = FrameDecoder(max_frame_size, salvage_headers=True)
        self._byte_rate = max_bytes_per_second
        self._byte_burst = 4 * max(max_bytes_per_second, max_frame_size)
        self._bytes_used = 0.0
        """Bytes of the byte budget in use as of ``_byte_stamp`` (a token bucket counted
        the other way round, refilled only when it looks full: once per burst)."""
        self._byte_stamp = now
        self._garbage = 0
        """Bytes received that decoded to no valid frame."""
        self._good = 0
        """Bytes of valid frames received."""
        self.abuse: tuple[str, str] | None = None
        """Why the connection should be closed now, if it should: a short kind
        (``byte_rate``, ``garbage``) and what happened."""
        self._split = decoder.split
        self._decode = decoder.decode
        self._allow = TokenBucket(
            max_frames_per_second, max(max_frames_per_second, 1.0), now=now
        ).allow
        self._overload_close_after = overload_close_after
        self._overload_since: float | None = None
        self._last_drop = 0.0
        self._raise_mask = raise_mask
        self._serial = 0
        self.overloaded = False
        """Over the rate limit for ``overload_close_after`` seconds: close the connection."""
        self.header: Header | None = None
        """Header of the authentication frame: phone and version for downlink frames."""
        self.phone = ""
        """The authenticated header's phone as on the wire: a cheap match for its reports."""

    # ------------------------------------------------------------------ reading

    def receive(self, data: bytes, now: float, queue: deque[Item]) -> int:
        """Append to ``queue``, in stream order, what ``data`` completes at ``now`` (s);
        return how many frames were dropped for the rate limit.

        Dropped frames are not decoded; once :attr:`overloaded` or :attr:`abuse` is set,
        the rest of ``data`` is ignored. A frame that failed its checksum or escaping
        carries the header salvaged from its bytes, if any, so the terminal can be asked
        to resend it.
        """
        self._bytes_used += len(data)
        if self._bytes_used > self._byte_burst and self._over_byte_budget(now):
            self.abuse = ("byte_rate", f"over {self._byte_rate:g} bytes/s")
            return 0
        dropped = 0
        good = 0  # bytes of valid frames in data (kept in a local: this is the hot path)
        allow = self._allow
        decode = self._decode
        for piece in self._split(data):
            if isinstance(piece, FramingError):  # bytes outside any frame: nothing to decode
                if self._waste(piece.size, good):
                    break
                item: Item = piece
            elif not allow(now):
                dropped += 1
                if self._drop(now):
                    break
                continue
            else:
                item = decode(piece)
                # A frame this codec does not support (an unknown id) is still a frame.
                if not isinstance(item, JT808Error) or isinstance(item, UnsupportedError):
                    good += len(piece)
                elif self._waste(len(piece), good):
                    break
            queue.append(item)
        self._good += good
        return dropped

    def _over_byte_budget(self, now: float) -> bool:
        """Refill the byte budget for the time since the last refill; whether the bytes
        received are still over it."""
        refill = (now - self._byte_stamp) * self._byte_rate
        self._byte_stamp = now
        self._bytes_used = max(0.0, self._bytes_used - refill)
        return self._bytes_used > self._byte_burst

    def _waste(self, size: int, good: int) -> bool:
        """Note ``size`` bytes that were no valid frame (``good`` bytes of valid frames
        came before them in this read); return whether that is abuse."""
        self._garbage += size
        good += self._good
        if self._garbage <= GARBAGE_ALLOWANCE + good // GARBAGE_SHARE:
            return False
        self.abuse = (
            "garbage",
            f"sent {self._garbage} bytes that are no valid frame "
            f"(and {good} bytes of valid frames)",
        )
        return True

    def _drop(self, now: float) -> bool:
        """Note a frame dropped at ``now``; return whether the session is now overloaded."""
        if self._overload_since is None or now - self._last_drop > OVERLOAD_QUIET_SECONDS:
            self._overload_since = now
        self._last_drop = now
        if now - self._overload_since >= self._overload_close_after:
            self.overloaded = True
        return self.overloaded

    # ------------------------------------------------------------------ authentication

    def authenticated(self, header: Header) -> None:
        """The terminal of ``header`` authenticated on this connection."""
        self.header = header
        self.phone = header.phone

    def take_reports(self, queue: deque[Item], device: str) -> list[Frame]:
        """Pop the location reports of the authenticated ``device`` at the head of
        ``queue`` (at most :data:`MAX_RUN`): the run the fast path handles next."""
        run: list[Frame] = []
        phone = self.phone
        while queue and len(run) < MAX_RUN:
            item = queue[0]
            if (
                isinstance(item, Frame)
                and isinstance(item.message, _REPORTS)
                and (item.header.phone == phone or item.header.device_id == device)
            ):
                run.append(item)
                queue.popleft()
            else:
                break
        return run

    # ------------------------------------------------------------------ reports

    def judge_reports(self, frames: list[Frame], device: str, live_flags: int) -> JudgedReports:
        """Positions of consecutive location reports of ``device``, then their alarms.

        Alarm edges are judged frame by frame in order, from ``live_flags`` (the alarm
        bits of the terminal's last accepted live report).
        """
        observations: list[Observation] = []
        alarms: list[DeviceAlarmRaised] = []
        reserved: list[int] = []  # alarms and reserved bits: rare, cheap to create
        raise_mask = self._raise_mask
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
                if location.alarm_flags & ~flags:  # rare: checked inline
                    version = frame.header.version
                    alarms.extend(
                        rising_alarms(
                            device, flags, location, version, raise_mask, backfill=backfill
                        )
                    )
                    reserved.extend(reserved_rising(flags, location, version))
                flags = location.alarm_flags
            if not backfill:
                live_flags = flags
        observations.extend(alarms)
        if reserved:
            return JudgedReports(observations, live_flags, bool(alarms), tuple(reserved))
        return JudgedReports(observations, live_flags, raises_alarms=bool(alarms))

    # ------------------------------------------------------------------ writing

    def next_serial(self) -> int:
        """The platform's next outgoing serial number (16 bits, wrapping)."""
        serial = self._serial
        self._serial = (serial + 1) & 0xFFFF
        return serial

    def reply(self, header: Header, result: GeneralResult) -> bytes:
        """The 0x8001 answer to the frame with ``header``."""
        return encode_general_reply(header, serial=self.next_serial(), result=result)

    def replies(self, frames: list[Frame], result: GeneralResult) -> bytes:
        """The 0x8001 answers to ``frames``, in their order, as one write."""
        if len(frames) == 1:  # the everyday run: one report
            return encode_general_reply(frames[0].header, serial=self.next_serial(), result=result)
        return b"".join(
            [
                encode_general_reply(frame.header, serial=self.next_serial(), result=result)
                for frame in frames
            ]
        )

    def register_reply(self, header: Header, result: RegisterResult, auth_code: str) -> bytes:
        """The 0x8100 answer to a registration (the code only on success)."""
        code = auth_code if result == RegisterResult.SUCCESS else ""
        return encode_register_reply(
            header, serial=self.next_serial(), result=result, auth_code=code
        )

    def order(self, message: Message) -> tuple[int, bytes]:
        """A platform message (a text, an order) to the authenticated terminal, and the
        serial its answer echoes.

        Raises :class:`~devices.jt808.errors.EncodeError` for a body that cannot be
        encoded and ValueError if no terminal authenticated yet.
        """
        header = self.header
        if header is None:
            raise ValueError("no terminal authenticated on this session")
        serial = self.next_serial()
        return serial, encode_to(header, message, serial=serial)

    def text(self, message: TextMessage) -> tuple[int, bytes]:
        """A 0x8300 frame to the authenticated terminal, and the serial its reply echoes."""
        return self.order(message)
