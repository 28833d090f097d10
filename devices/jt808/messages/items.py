"""The additional information items of a location report (0x0200): id, length, value.

Known ids parse into typed items; an unknown id, or a known id with an unexpected length,
is kept as a :class:`RawItem` so one odd vendor extra never costs the whole location.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Self

from devices.jt808.errors import EncodeError
from devices.jt808.wire import encode_uint

Extras = dict[str, float | int | str]
"""Additional location values in everyday units, keyed by a self-explaining name."""


class _ItemLengthError(Exception):
    """A known additional item with the wrong length (the item is then kept raw)."""


def _fixed(value: bytes, size: int) -> bytes:
    if len(value) != size:
        raise _ItemLengthError
    return value


def _scalar(value: bytes, size: int) -> int:
    return int.from_bytes(_fixed(value, size), "big")


@dataclass(frozen=True, slots=True)
class MileageItem:
    """0x01: odometer reading."""

    ITEM_ID: ClassVar[int] = 0x01
    tenths_km: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return encode_uint(self.tenths_km, 4, "mileage")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        return cls(_scalar(value, 4))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        return {"mileage_km": self.tenths_km / 10}


@dataclass(frozen=True, slots=True)
class FuelItem:
    """0x02: fuel gauge reading."""

    ITEM_ID: ClassVar[int] = 0x02
    tenths_l: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return encode_uint(self.tenths_l, 2, "fuel")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        return cls(_scalar(value, 2))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        return {"fuel_l": self.tenths_l / 10}


@dataclass(frozen=True, slots=True)
class RecorderSpeedItem:
    """0x03: speed from the driving recorder."""

    ITEM_ID: ClassVar[int] = 0x03
    tenths_kmh: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return encode_uint(self.tenths_kmh, 2, "recorder speed")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        return cls(_scalar(value, 2))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        return {"recorder_speed_kmh": self.tenths_kmh / 10}


@dataclass(frozen=True, slots=True)
class AlarmEventIdItem:
    """0x04: id of an alarm event that needs manual confirmation (counts from 1)."""

    ITEM_ID: ClassVar[int] = 0x04
    event_id: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return encode_uint(self.event_id, 2, "alarm event id")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        return cls(_scalar(value, 2))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        return {"alarm_event_id": self.event_id}


@dataclass(frozen=True, slots=True)
class OverspeedItem:
    """0x11: overspeed extra; ``area_id`` only when ``position_type`` is not 0.

    Position type: 0 no specific position, 1 circle, 2 rectangle, 3 polygon, 4 route section.
    """

    ITEM_ID: ClassVar[int] = 0x11
    position_type: int
    area_id: int | None = None

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        value = encode_uint(self.position_type, 1, "overspeed position type")
        if self.position_type == 0:
            if self.area_id is not None:
                raise EncodeError("overspeed position type 0 carries no area id")
            return value
        if self.area_id is None:
            raise EncodeError(f"overspeed position type {self.position_type} needs an area id")
        return value + encode_uint(self.area_id, 4, "overspeed area id")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        if value[:1] == b"\x00":
            _fixed(value, 1)
            return cls(position_type=0)
        _fixed(value, 5)
        return cls(position_type=value[0], area_id=int.from_bytes(value[1:], "big"))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        extras: Extras = {"overspeed_position_type": self.position_type}
        if self.area_id is not None:
            extras["overspeed_area_id"] = self.area_id
        return extras


@dataclass(frozen=True, slots=True)
class AreaRouteItem:
    """0x12: area/route in-out extra. Direction 0 = entering, 1 = leaving."""

    ITEM_ID: ClassVar[int] = 0x12
    position_type: int
    area_id: int
    direction: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return (
            encode_uint(self.position_type, 1, "area position type")
            + encode_uint(self.area_id, 4, "area id")
            + encode_uint(self.direction, 1, "area direction")
        )

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        _fixed(value, 6)
        return cls(
            position_type=value[0],
            area_id=int.from_bytes(value[1:5], "big"),
            direction=value[5],
        )

    def extras(self) -> Extras:
        """Everyday-unit values."""
        direction = {0: "in", 1: "out"}.get(self.direction, str(self.direction))
        return {
            "area_position_type": self.position_type,
            "area_id": self.area_id,
            "area_direction": direction,
        }


@dataclass(frozen=True, slots=True)
class RoadSectionTimeItem:
    """0x13: road-section driving time too short/long. Result 0 = too short, 1 = too long."""

    ITEM_ID: ClassVar[int] = 0x13
    section_id: int
    driving_time_s: int
    result: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return (
            encode_uint(self.section_id, 4, "road section id")
            + encode_uint(self.driving_time_s, 2, "road section driving time")
            + encode_uint(self.result, 1, "road section result")
        )

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        _fixed(value, 7)
        return cls(
            section_id=int.from_bytes(value[0:4], "big"),
            driving_time_s=int.from_bytes(value[4:6], "big"),
            result=value[6],
        )

    def extras(self) -> Extras:
        """Everyday-unit values."""
        result = {0: "too_short", 1: "too_long"}.get(self.result, str(self.result))
        return {
            "road_section_id": self.section_id,
            "road_section_time_s": self.driving_time_s,
            "road_section_result": result,
        }


@dataclass(frozen=True, slots=True)
class VehicleSignalsItem:
    """0x25: extended vehicle signal bits."""

    ITEM_ID: ClassVar[int] = 0x25
    flags: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return encode_uint(self.flags, 4, "vehicle signals")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        return cls(_scalar(value, 4))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        return {"vehicle_signals": self.flags}


@dataclass(frozen=True, slots=True)
class IoStatusItem:
    """0x2A: IO status bits."""

    ITEM_ID: ClassVar[int] = 0x2A
    flags: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return encode_uint(self.flags, 2, "io status")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        return cls(_scalar(value, 2))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        return {"io_status": self.flags}


@dataclass(frozen=True, slots=True)
class AnalogItem:
    """0x2B: analog inputs; bits 0-15 are AD0, bits 16-31 AD1."""

    ITEM_ID: ClassVar[int] = 0x2B
    raw: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return encode_uint(self.raw, 4, "analog")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        return cls(_scalar(value, 4))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        return {"analog_ad0": self.raw & 0xFFFF, "analog_ad1": self.raw >> 16}


@dataclass(frozen=True, slots=True)
class SignalStrengthItem:
    """0x30: wireless network signal strength."""

    ITEM_ID: ClassVar[int] = 0x30
    strength: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return encode_uint(self.strength, 1, "signal strength")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        return cls(_scalar(value, 1))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        return {"signal_strength": self.strength}


@dataclass(frozen=True, slots=True)
class SatelliteCountItem:
    """0x31: number of GNSS satellites used."""

    ITEM_ID: ClassVar[int] = 0x31
    count: int

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return encode_uint(self.count, 1, "satellites")

    @classmethod
    def decode_value(cls, value: bytes) -> Self:
        """Parse the item's value bytes."""
        return cls(_scalar(value, 1))

    def extras(self) -> Extras:
        """Everyday-unit values."""
        return {"satellites": self.count}


@dataclass(frozen=True, slots=True)
class RawItem:
    """An additional item kept as bytes: unknown id, or a known id with a wrong length."""

    item_id: int
    value: bytes

    def encode_value(self) -> bytes:
        """The item's value bytes."""
        return self.value

    def extras(self) -> Extras:
        """The value as hex under ``item_0xNN``."""
        return {f"item_0x{self.item_id:02X}": self.value.hex()}


KnownItem = (
    MileageItem
    | FuelItem
    | RecorderSpeedItem
    | AlarmEventIdItem
    | OverspeedItem
    | AreaRouteItem
    | RoadSectionTimeItem
    | VehicleSignalsItem
    | IoStatusItem
    | AnalogItem
    | SignalStrengthItem
    | SatelliteCountItem
)
LocationItem = KnownItem | RawItem
"""One additional information item of a 0x0200 body."""

_ITEM_DECODERS: dict[int, Callable[[bytes], KnownItem]] = {
    cls.ITEM_ID: cls.decode_value
    for cls in (
        MileageItem,
        FuelItem,
        RecorderSpeedItem,
        AlarmEventIdItem,
        OverspeedItem,
        AreaRouteItem,
        RoadSectionTimeItem,
        VehicleSignalsItem,
        IoStatusItem,
        AnalogItem,
        SignalStrengthItem,
        SatelliteCountItem,
    )
}


def item_id(item: LocationItem) -> int:
    """The additional-information id of ``item``."""
    return item.item_id if isinstance(item, RawItem) else item.ITEM_ID


def decode_item(identifier: int, value: bytes) -> LocationItem:
    """Parse one additional item. A known id with an unexpected length is kept raw,
    because one odd vendor extra must not cost the location (and its alarms)."""
    decoder = _ITEM_DECODERS.get(identifier)
    if decoder is None:
        return RawItem(item_id=identifier, value=value)
    try:
        return decoder(value)
    except _ItemLengthError:
        return RawItem(item_id=identifier, value=value)
