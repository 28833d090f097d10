"""The recording format (``.ddrec``): what an exercise replays, sans I/O.

A recording is gzip-compressed JSON Lines, one object per line, tagged by ``type``:

1. one :class:`Header` (format name, :data:`FORMAT_VERSION`, title, window, source, masking);
2. one :class:`RegistrySnapshot`: the devices, sensors, cameras, units, registry items and
   geofences the replay needs (an exercise starts from it, never from live tables);
3. the entries, in order of ``at`` (the instant the server received each; ties keep
   their order): device input exactly as received — :class:`Jt808Input` (one whole frame
   as bytes, per terminal connection), :class:`FeedInput` (a device-feed message as its
   text), :class:`NmeaInput` (a sentence as read from a receiver), :class:`ModbusInput`
   (registers as read from a sensor) — and the original response: :class:`CommandInput`
   (an officer's command as received) and :class:`LoggedEvent` (an event of the log).

docs/exercises.md describes the format for integrators; :func:`encode_recording` and
:func:`decode_recording` are its only writer and reader. A file that is not a recording,
of a newer version, corrupt, out of order or over the limits is refused with one
:class:`RecordingError` saying why — never half read.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Final

import msgspec

from realtime.protocol import (
    CameraView,
    GeofenceView,
    RecordingSource,
    RegistryItemInput,
    UnitView,
)

FORMAT_NAME: Final = "dutydesk-recording"
FORMAT_VERSION: Final = 1
"""Raise when a change would make an older reader misread a file (readers refuse newer
versions with a clear message)."""
MAX_RECORDING_BYTES: Final = 512 * 1024 * 1024
"""The most a recording may hold uncompressed (a 1-hour, 700-device recording is ≈ 150 MB)."""
MAX_LINE_BYTES: Final = 4 * 1024 * 1024
"""The longest line (the registry snapshot is the big one)."""
MAX_FRAME_BYTES: Final = 8192
"""The longest JT/T 808 frame kept (escaped; the standard's longest is ≈ 2 KiB)."""

AwareDateTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]


class Error(Exception):
    """Base of this module's errors."""


class RecordingError(Error):
    """The bytes are not a usable recording; ``str()`` says why in one line."""


class Header(msgspec.Struct, tag="header", kw_only=True, forbid_unknown_fields=True):
    """What the recording is; the first line."""

    format: str = FORMAT_NAME
    version: int = FORMAT_VERSION
    title: str
    description: str = ""
    source: RecordingSource
    window_from: AwareDateTime
    window_to: AwareDateTime
    recorded_at: AwareDateTime
    recorded_by: str
    """The user (or ``system`` for automatic recordings, ``scenario`` for shipped ones)."""
    area: str = ""
    """The jurisdiction the content was limited to ("" the whole area)."""
    masked: bool = True
    """True when personal data (callers, contacts) is masked."""
    incidents: list[int] = msgspec.field(default_factory=list)
    """The live incidents it was recorded around (source ``incident``)."""
    sources: list[str] = msgspec.field(default_factory=list)
    """For a scenario: the public reports its timeline is built on."""


class DeviceEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A device of the recording (registered in the exercise before the replay)."""

    kind: str
    """``jt808``, ``nmea``, ``modbus`` or ``json``."""
    identity: str
    """Phone number (JT/T 808), receiver or sensor device name, feed account."""
    name: str = ""
    plate: str = ""
    owner: str = ""
    jurisdiction: str = ""


class SensorEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A sensor as ``dutydesk sensor import`` reads it (the columns of its CSV); its rules
    are the shipped defaults for its kind unless ``rules`` overrides them (the rules
    file's keys)."""

    sensor_id: str
    kind: str
    unit: str = ""
    placement: str = "general"
    name: str = ""
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    hazard_source: str = ""
    enterprise: str = ""
    jurisdiction: str = ""
    poll_cycle_seconds: float = 30.0
    rules: dict[str, Any] | None = None


class RegistrySnapshot(msgspec.Struct, tag="registry", kw_only=True, forbid_unknown_fields=True):
    """What the exercise's database starts with; the second line."""

    devices: list[DeviceEntry] = msgspec.field(default_factory=list)
    sensors: list[SensorEntry] = msgspec.field(default_factory=list)
    cameras: list[CameraView] = msgspec.field(default_factory=list)
    units: list[UnitView] = msgspec.field(default_factory=list)
    items: list[RegistryItemInput] = msgspec.field(default_factory=list)
    geofences: list[GeofenceView] = msgspec.field(default_factory=list)


class Jt808Input(msgspec.Struct, tag="jt808", kw_only=True, forbid_unknown_fields=True):
    """One JT/T 808 frame as received (with its 0x7e delimiters, still escaped)."""

    at: AwareDateTime
    connection: int
    """Which terminal connection of the recording it came on (1, 2, …: a reconnect is a
    new number); the replay opens one TCP connection per number."""
    data: bytes
    """The frame's bytes (base64 in the JSON)."""


class FeedInput(msgspec.Struct, tag="feed", kw_only=True, forbid_unknown_fields=True):
    """One device-feed message as received on ``/device`` (its JSON text)."""

    at: AwareDateTime
    connection: int
    account: str
    """The feed account it came from (the replay's feed stands in for it)."""
    text: str


class NmeaInput(msgspec.Struct, tag="nmea", kw_only=True, forbid_unknown_fields=True):
    """One NMEA 0183 sentence as read from a receiver (with ``$`` and checksum)."""

    at: AwareDateTime
    device: str
    line: str


class ModbusInput(msgspec.Struct, tag="modbus", kw_only=True, forbid_unknown_fields=True):
    """One poll of a Modbus sensor: the holding registers as read."""

    at: AwareDateTime
    device: str
    """The Modbus device (``host:port/unit`` or the sensor group's name)."""
    sensor: str
    """The sensor id the registers belong to."""
    address: int
    registers: list[int]


class CommandInput(msgspec.Struct, tag="command", kw_only=True, forbid_unknown_fields=True):
    """An officer's command of the original response, as the server received it."""

    at: AwareDateTime
    user: str
    role: str
    command: dict[str, Any]


class LoggedEvent(msgspec.Struct, tag="event", kw_only=True, forbid_unknown_fields=True):
    """An event of the original response's log (the ``event`` message's JSON object)."""

    at: AwareDateTime
    event: dict[str, Any]


Entry = Jt808Input | FeedInput | NmeaInput | ModbusInput | CommandInput | LoggedEvent
DEVICE_INPUTS: Final = (Jt808Input, FeedInput, NmeaInput, ModbusInput)
"""The entries the replay sends through the gateways (the rest is the original response)."""


class Recording(msgspec.Struct, kw_only=True):
    """A whole recording in memory."""

    header: Header
    registry: RegistrySnapshot
    entries: list[Entry]

    @property
    def duration_s(self) -> float:
        """Seconds from the window's start to its end."""
        return (self.header.window_to - self.header.window_from).total_seconds()

    def device_inputs(self) -> Iterator[Entry]:
        """The device input, in order."""
        return (entry for entry in self.entries if isinstance(entry, DEVICE_INPUTS))


_encoder = msgspec.json.Encoder()
_header_decoder = msgspec.json.Decoder(Header)
_registry_decoder = msgspec.json.Decoder(RegistrySnapshot)
_entry_decoder = msgspec.json.Decoder(Entry)


def encode_lines(header: Header, registry: RegistrySnapshot, entries: Iterable[Entry]) -> bytes:
    """The recording's JSON Lines, uncompressed (entries must be in order of ``at``)."""
    lines = [_encoder.encode(header), _encoder.encode(registry)]
    last: dt.datetime | None = None
    for entry in entries:
        if last is not None and entry.at < last:
            raise RecordingError(f"entries out of order at {entry.at.isoformat()}")
        last = entry.at
        lines.append(_encoder.encode(entry))
    return b"\n".join(lines) + b"\n"


def encode_recording(recording: Recording) -> bytes:
    """The recording as a ``.ddrec`` file's bytes (gzip; the same input, the same bytes)."""
    return gzip.compress(
        encode_lines(recording.header, recording.registry, recording.entries), mtime=0
    )


def _decompress(data: bytes) -> bytes:
    decompressor = zlib.decompressobj(wbits=31)  # gzip
    try:
        raw = decompressor.decompress(data, MAX_RECORDING_BYTES + 1)
    except zlib.error as exc:
        raise RecordingError(f"not a DutyDesk recording (not gzip: {exc})") from exc
    if len(raw) > MAX_RECORDING_BYTES or decompressor.unconsumed_tail:
        raise RecordingError(
            f"the recording is larger than {MAX_RECORDING_BYTES // (1024 * 1024)} MiB unpacked"
        )
    if not decompressor.eof:
        raise RecordingError("the recording is cut short (the gzip stream does not end)")
    return raw


def decode_recording(data: bytes) -> Recording:
    """Read a ``.ddrec`` file's bytes; raise :class:`RecordingError` saying why not."""
    lines = _decompress(data).split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    if len(lines) < 2:
        raise RecordingError("not a DutyDesk recording (no header and registry lines)")
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_BYTES:
            raise RecordingError(f"line {number} is longer than {MAX_LINE_BYTES} bytes")
    header = _decode_header(lines[0])
    try:
        registry = _registry_decoder.decode(lines[1])
    except msgspec.MsgspecError as exc:
        raise RecordingError(f"line 2 (the registry): {exc}") from exc
    entries: list[Entry] = []
    last: dt.datetime | None = None
    for number, line in enumerate(lines[2:], 3):
        try:
            entry = _entry_decoder.decode(line)
        except msgspec.MsgspecError as exc:
            raise RecordingError(f"line {number}: {exc}") from exc
        if isinstance(entry, Jt808Input) and len(entry.data) > MAX_FRAME_BYTES:
            raise RecordingError(f"line {number}: a frame longer than {MAX_FRAME_BYTES} bytes")
        if last is not None and entry.at < last:
            raise RecordingError(f"line {number}: entries out of order")
        last = entry.at
        entries.append(entry)
    return Recording(header=header, registry=registry, entries=entries)


def _decode_header(line: bytes) -> Header:
    try:
        raw = msgspec.json.decode(line)
    except msgspec.DecodeError as exc:
        raise RecordingError(f"not a DutyDesk recording (line 1 is not JSON: {exc})") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
        raise RecordingError("not a DutyDesk recording (line 1 names no recording format)")
    version = raw.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RecordingError(
            f"recording format version {version} is newer than this DutyDesk reads "
            f"({FORMAT_VERSION}); update DutyDesk"
        )
    try:
        header = _header_decoder.decode(line)
    except msgspec.MsgspecError as exc:
        raise RecordingError(f"line 1 (the header): {exc}") from exc
    if header.window_to < header.window_from:
        raise RecordingError("the header's window ends before it starts")
    return header
