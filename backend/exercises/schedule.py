"""The sans-I/O core of the replay: :class:`Schedule` (which of a recording's device
inputs are due at a position) and each kind of input moved onto the exercise clock
through the project's own codecs: :func:`shift_jt808_frame` (decode → shift → re-encode,
the check code recomputed), :func:`shift_feed_text`, :class:`NmeaRelay` (through
:class:`~devices.nmea.NmeaMerger`) and :func:`modbus_messages` (through the Modbus
register decoding)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import msgspec

from backend.exercises.recording import (
    DEVICE_INPUTS,
    Entry,
    ModbusInput,
    NmeaInput,
    Recording,
)
from devices.jt808.codec import decode_frame
from devices.jt808.errors import JT808Error
from devices.jt808.framing import encode_raw_frame
from devices.jt808.messages import Location, LocationBatch
from devices.modbus import DataType, ModbusConfigError, RegisterSpec, SensorSpec
from devices.nmea import NmeaError, NmeaMerger
from devices.observations import Position
from devices.wire import to_message
from realtime.protocol import (
    DeviceAlarm,
    DeviceAlarmRaised,
    DevicePosition,
    DeviceReading,
    DeviceStatus,
    ProtocolError,
    decode_device,
    encode,
)

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- schedule


@dataclass(frozen=True, slots=True)
class Scheduled:
    """One device input and when it is due (recorded seconds from the window's start)."""

    offset: float
    entry: Entry


class Schedule:
    """A recording's device input in order, handed out as the clock reaches it."""

    def __init__(self, recording: Recording) -> None:
        start = recording.header.window_from
        self.items = [
            Scheduled(max(0.0, (entry.at - start).total_seconds()), entry)
            for entry in recording.entries
            if isinstance(entry, DEVICE_INPUTS)
        ]
        self._next = 0

    def __len__(self) -> int:
        return len(self.items)

    @property
    def sent(self) -> int:
        """Entries handed out so far."""
        return self._next

    def next_offset(self) -> float | None:
        """When the next entry is due (``None``: none left)."""
        if self._next >= len(self.items):
            return None
        return self.items[self._next].offset

    def due(self, position: float) -> Iterator[Scheduled]:
        """Hand out, in order, every entry due at ``position`` (each once)."""
        items = self.items
        while self._next < len(items) and items[self._next].offset <= position:
            item = items[self._next]
            self._next += 1
            yield item


# ----------------------------------------------------------------------------- re-stamping


def shift_jt808_frame(data: bytes, delta: dt.timedelta) -> bytes:
    """The frame with its device times moved by ``delta`` (decode → shift → re-encode,
    which recomputes the check code). A frame without times, or one that does not decode,
    is returned as it is (the gateway answers it as it would live)."""
    try:
        frame = decode_frame(data)
    except JT808Error:
        return data
    message = frame.message
    shifted: Location | LocationBatch
    if isinstance(message, Location):
        shifted = msgspec.structs.replace(message, time=message.time + delta)
    elif isinstance(message, LocationBatch):
        shifted = LocationBatch(
            kind=message.kind,
            locations=tuple(
                msgspec.structs.replace(item, time=item.time + delta) for item in message.locations
            ),
        )
    else:
        return data
    return encode_raw_frame(frame.header, shifted.encode(frame.header.version))


def frame_phone(data: bytes) -> str | None:
    """The terminal phone of a frame (``None`` if it does not decode)."""
    try:
        return decode_frame(data).header.phone.lstrip("0") or "0"
    except JT808Error:
        return None


def _shift_at(at: dt.datetime | None, delta: dt.timedelta, default: dt.datetime) -> dt.datetime:
    return at + delta if at is not None else default


def shift_feed_text(text: str, account: str, delta: dt.timedelta, due: dt.datetime) -> str:
    """A device-feed message with its time moved by ``delta`` (a reading without a time
    gets ``due``, when it is replayed; one without a device is the recorded account's). A
    message that does not decode goes as it is (the instance refuses it as live would)."""
    try:
        message = decode_device(text)
    except ProtocolError:
        return text
    changed: msgspec.Struct
    match message:
        case DeviceReading():
            changed = msgspec.structs.replace(
                message, at=_shift_at(message.at, delta, due), device=message.device or account
            )
        case DevicePosition() | DeviceAlarmRaised() | DeviceStatus():
            changed = msgspec.structs.replace(message, at=message.at + delta)
        case DeviceAlarm():
            changed = msgspec.structs.replace(message, at=_shift_at(message.at, delta, due))
    return encode(changed).decode("utf-8")


class NmeaRelay:
    """Serial GPS sentences → device-feed positions, through :class:`NmeaMerger` (one per
    receiver), with the fix times moved onto the exercise clock."""

    def __init__(self) -> None:
        self._mergers: dict[str, NmeaMerger] = {}
        self.refused = 0
        """Sentences the merger refused (bad checksum, unsupported)."""

    def messages(self, entry: NmeaInput, delta: dt.timedelta, ref: str) -> list[str]:
        """The feed messages (JSON texts) the sentence completes."""
        merger = self._mergers.get(entry.device)
        if merger is None:
            merger = self._mergers[entry.device] = NmeaMerger(entry.device)
        try:
            positions = merger.feed(entry.line)
        except NmeaError:
            self.refused += 1
            return []
        return [_position_text(position, delta, ref) for position in positions]

    def flush(self, delta: dt.timedelta, ref: Callable[[], str]) -> list[str]:
        """The fixes still held at the end of the recording (an RMC waiting for its GGA)."""
        return [
            _position_text(position, delta, ref())
            for merger in self._mergers.values()
            for position in merger.flush()
        ]


def _position_text(position: Position, delta: dt.timedelta, ref: str) -> str:
    moved = msgspec.structs.replace(position, at=position.at + delta)
    return encode(to_message(moved, kind="nmea", ref=ref)).decode("utf-8")


def modbus_messages(
    entry: ModbusInput, units: Mapping[str, str], due: dt.datetime, ref: str
) -> list[str]:
    """A poll's registers → device-feed readings through the Modbus register decoding: one
    register is an unsigned 16-bit value, two a big-endian 32-bit float (the layout
    ``dutydesk sensor import`` documents for recordings); taken at ``due``."""
    if len(entry.registers) not in (1, 2):
        logger.info(
            "modbus poll of %s holds %s registers, not 1 or 2; skipped",
            entry.sensor,
            len(entry.registers),
        )
        return []
    data_type = DataType.FLOAT32 if len(entry.registers) == 2 else DataType.UINT16
    try:
        spec = SensorSpec(
            sensor_id=entry.sensor,
            device_id=entry.device,
            registers=(
                RegisterSpec(
                    address=entry.address, data_type=data_type, unit=units.get(entry.sensor, "")
                ),
            ),
        )
        readings = spec.readings(entry.address, entry.registers, due)
    except (ModbusConfigError, ValueError, TypeError):
        logger.info("modbus registers of %s not decodable; skipped", entry.sensor)
        return []
    return [
        encode(to_message(reading, kind="modbus", ref=ref)).decode("utf-8") for reading in readings
    ]
