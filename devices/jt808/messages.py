"""Typed JT/T 808 message bodies (both directions), each with ``encode`` and ``decode``.

A message class knows its id (``MSG_ID``) and name (``MSG_NAME``); ``encode(version)``
returns the body bytes and ``decode(body, version)`` parses them strictly (trailing bytes,
bad enums, bad BCD or GBK are errors). Raw units are kept in the fields so every message
round-trips exactly; properties give the values in everyday units.
"""

from __future__ import annotations

import datetime as dt
import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Self, TypeVar

import msgspec

from devices.jt808.bits import STATUS_POSITIONED_BIT, STATUS_SOUTH_BIT, STATUS_WEST_BIT
from devices.jt808.errors import EncodeError, FieldError, LengthError
from devices.jt808.framing import ProtocolVersion
from devices.jt808.wire import (
    Reader,
    decode_bcd_time,
    decode_gbk,
    encode_bcd_time,
    encode_fixed_gbk,
    encode_gbk,
    encode_uint,
)

Extras = dict[str, float | int | str]
"""Additional location values in everyday units, keyed by a self-explaining name."""


_EnumT = TypeVar("_EnumT", bound=enum.IntEnum)


def _enum_value(kind: type[_EnumT], value: int, field: str) -> _EnumT:
    try:
        return kind(value)
    except ValueError as exc:
        allowed = ", ".join(str(member.value) for member in kind)
        raise FieldError(f"{field} must be one of {allowed}, got {value}") from exc


class GeneralResult(enum.IntEnum):
    """Result of a general reply (0x0001 terminal, 0x8001 platform)."""

    SUCCESS = 0
    FAILURE = 1
    MESSAGE_ERROR = 2
    UNSUPPORTED = 3
    ALARM_CONFIRMED = 4
    """Platform only: alarm handling confirmed."""


class RegisterResult(enum.IntEnum):
    """Result of a registration (0x8100)."""

    SUCCESS = 0
    VEHICLE_ALREADY_REGISTERED = 1
    NO_SUCH_VEHICLE = 2
    TERMINAL_ALREADY_REGISTERED = 3
    NO_SUCH_TERMINAL = 4


class BatchKind(enum.IntEnum):
    """Kind of a batch location upload (0x0704)."""

    NORMAL = 0
    BACKFILL = 1
    """Blind-area backfill: positions stored while offline, old rather than live."""


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True, slots=True)
class _GeneralReply:
    MSG_NAME: ClassVar[str]

    reply_serial: int
    reply_msg_id: int
    result: GeneralResult

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body."""
        return (
            encode_uint(self.reply_serial, 2, "reply serial")
            + encode_uint(self.reply_msg_id, 2, "reply message id")
            + encode_uint(self.result, 1, "result")
        )

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body."""
        reader = Reader(body, cls.MSG_NAME)
        reply_serial = reader.u16("reply serial")
        reply_msg_id = reader.u16("reply message id")
        result = _enum_value(GeneralResult, reader.u8("result"), "result")
        reader.expect_end()
        return cls(reply_serial=reply_serial, reply_msg_id=reply_msg_id, result=result)


@dataclass(frozen=True, slots=True)
class TerminalGeneralReply(_GeneralReply):
    """0x0001: the terminal acknowledges a platform message."""

    MSG_ID: ClassVar[int] = 0x0001
    MSG_NAME: ClassVar[str] = "terminal_general_reply"


@dataclass(frozen=True, slots=True)
class PlatformGeneralReply(_GeneralReply):
    """0x8001: the platform acknowledges a terminal message."""

    MSG_ID: ClassVar[int] = 0x8001
    MSG_NAME: ClassVar[str] = "platform_general_reply"


# --------------------------------------------------------------------------- empty bodies


@dataclass(frozen=True, slots=True)
class _EmptyBody:
    MSG_NAME: ClassVar[str]

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the (empty) body."""
        return b""

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body, which must be empty."""
        if body:
            raise LengthError(f"{cls.MSG_NAME} body must be empty, got {len(body)} bytes")
        return cls()


@dataclass(frozen=True, slots=True)
class Heartbeat(_EmptyBody):
    """0x0002: terminal heartbeat (empty body)."""

    MSG_ID: ClassVar[int] = 0x0002
    MSG_NAME: ClassVar[str] = "heartbeat"


@dataclass(frozen=True, slots=True)
class Logout(_EmptyBody):
    """0x0003: terminal logout / unregister (empty body)."""

    MSG_ID: ClassVar[int] = 0x0003
    MSG_NAME: ClassVar[str] = "logout"


# --------------------------------------------------------------------------- registration


_REGISTER_WIDTHS = {
    ProtocolVersion.V2013: (5, 20, 7),
    ProtocolVersion.V2019: (11, 30, 30),
}
"""Byte widths of (maker, model, terminal id) in 0x0100 per edition."""


@dataclass(frozen=True, slots=True)
class Register:
    """0x0100: terminal registration."""

    MSG_ID: ClassVar[int] = 0x0100
    MSG_NAME: ClassVar[str] = "register"

    province: int
    """Province code (GB/T 2260 first two digits)."""
    city: int
    maker: str
    model: str
    terminal_id: str
    plate_color: int
    """JT/T 415 plate colour; 0 when the vehicle has no plate (``plate`` is then the VIN)."""
    plate: str

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body with the field widths of ``version``."""
        maker_width, model_width, terminal_width = _REGISTER_WIDTHS[version]
        return b"".join(
            (
                encode_uint(self.province, 2, "province"),
                encode_uint(self.city, 2, "city"),
                encode_fixed_gbk(self.maker, maker_width, "maker"),
                encode_fixed_gbk(self.model, model_width, "model"),
                encode_fixed_gbk(self.terminal_id, terminal_width, "terminal id"),
                encode_uint(self.plate_color, 1, "plate color"),
                encode_gbk(self.plate, "plate"),
            )
        )

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body with the field widths of ``version``."""
        maker_width, model_width, terminal_width = _REGISTER_WIDTHS[version]
        reader = Reader(body, "register")
        return cls(
            province=reader.u16("province"),
            city=reader.u16("city"),
            maker=decode_gbk(reader.take(maker_width, "maker"), "maker"),
            model=decode_gbk(reader.take(model_width, "model"), "model"),
            terminal_id=decode_gbk(reader.take(terminal_width, "terminal id"), "terminal id"),
            plate_color=reader.u8("plate color"),
            plate=decode_gbk(reader.rest(), "plate"),
        )


@dataclass(frozen=True, slots=True)
class RegisterReply:
    """0x8100: the platform's answer to a registration; ``auth_code`` only on success."""

    MSG_ID: ClassVar[int] = 0x8100
    MSG_NAME: ClassVar[str] = "register_reply"

    reply_serial: int
    result: RegisterResult
    auth_code: str = ""

    def __post_init__(self) -> None:
        if self.auth_code and self.result != RegisterResult.SUCCESS:
            raise EncodeError(
                f"an auth code is only sent with result 0 (success), not {self.result.value}"
            )

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body."""
        body = encode_uint(self.reply_serial, 2, "reply serial") + encode_uint(
            self.result, 1, "result"
        )
        if self.result == RegisterResult.SUCCESS:
            body += encode_gbk(self.auth_code, "auth code")
        return body

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body."""
        reader = Reader(body, "register reply")
        reply_serial = reader.u16("reply serial")
        result = _enum_value(RegisterResult, reader.u8("result"), "result")
        if result != RegisterResult.SUCCESS:
            reader.expect_end()
            return cls(reply_serial=reply_serial, result=result)
        auth_code = decode_gbk(reader.rest(), "auth code")
        return cls(reply_serial=reply_serial, result=result, auth_code=auth_code)


_IMEI_WIDTH = 15
_SOFTWARE_VERSION_WIDTH = 20


@dataclass(frozen=True, slots=True)
class Authentication:
    """0x0102: terminal authentication with the code it got from 0x8100.

    2013: the whole body is the code. 2019: code length BYTE, code, IMEI[15], software
    version[20]; ``imei`` and ``software_version`` are empty for 2013.
    """

    MSG_ID: ClassVar[int] = 0x0102
    MSG_NAME: ClassVar[str] = "authentication"

    auth_code: str
    imei: str = ""
    software_version: str = ""

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body in the layout of ``version``."""
        code = encode_gbk(self.auth_code, "auth code")
        if version == ProtocolVersion.V2013:
            if self.imei or self.software_version:
                raise EncodeError("a 2013 authentication carries no IMEI or software version")
            return code
        return b"".join(
            (
                encode_uint(len(code), 1, "auth code length"),
                code,
                encode_fixed_gbk(self.imei, _IMEI_WIDTH, "imei"),
                encode_fixed_gbk(
                    self.software_version, _SOFTWARE_VERSION_WIDTH, "software version"
                ),
            )
        )

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body in the layout of ``version``."""
        if version == ProtocolVersion.V2013:
            return cls(auth_code=decode_gbk(body, "auth code"))
        reader = Reader(body, "authentication")
        code_length = reader.u8("auth code length")
        auth_code = decode_gbk(reader.take(code_length, "auth code"), "auth code")
        imei = decode_gbk(reader.take(_IMEI_WIDTH, "imei"), "imei")
        software_version = decode_gbk(
            reader.take(_SOFTWARE_VERSION_WIDTH, "software version"), "software version"
        )
        reader.expect_end()
        return cls(auth_code=auth_code, imei=imei, software_version=software_version)


# --------------------------------------------------------------------------- location items


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


# --------------------------------------------------------------------------- location

_MICRO = 1_000_000
_LOCATION_BASE = struct.Struct(">IIIIHHH6s")
"""The fixed part of a location report: flags, coordinates, altitude, speed, heading, time."""


class Location(msgspec.Struct, frozen=True, gc=False):
    """0x0200: a location report (also the item type of a 0x0704 batch).

    Coordinates are unsigned millionths of a degree on the wire; the hemisphere comes from
    status bits 2 (south) and 3 (west). ``time`` is an aware UTC datetime.
    """

    MSG_ID: ClassVar[int] = 0x0200
    MSG_NAME: ClassVar[str] = "location"

    alarm_flags: int
    status_flags: int
    latitude_e6: int
    longitude_e6: int
    altitude_m: int
    speed_tenths_kmh: int
    heading_deg: int
    time: dt.datetime
    items: tuple[LocationItem, ...] = ()

    @classmethod
    def from_degrees(
        cls,
        *,
        lat: float,
        lon: float,
        time: dt.datetime,
        speed_kmh: float = 0.0,
        heading_deg: int = 0,
        altitude_m: int = 0,
        alarm_flags: int = 0,
        status_flags: int = STATUS_POSITIONED_BIT,
        items: tuple[LocationItem, ...] = (),
    ) -> Self:
        """Build a report from signed degrees, setting the south/west status bits."""
        status = status_flags & ~(STATUS_SOUTH_BIT | STATUS_WEST_BIT)
        if lat < 0:
            status |= STATUS_SOUTH_BIT
        if lon < 0:
            status |= STATUS_WEST_BIT
        return cls(
            alarm_flags=alarm_flags,
            status_flags=status,
            latitude_e6=round(abs(lat) * _MICRO),
            longitude_e6=round(abs(lon) * _MICRO),
            altitude_m=altitude_m,
            speed_tenths_kmh=round(speed_kmh * 10),
            heading_deg=heading_deg,
            time=time,
            items=items,
        )

    @property
    def lat(self) -> float:
        """Signed latitude in degrees (negative = south)."""
        sign = -1 if self.status_flags & STATUS_SOUTH_BIT else 1
        return sign * self.latitude_e6 / _MICRO

    @property
    def lon(self) -> float:
        """Signed longitude in degrees (negative = west)."""
        sign = -1 if self.status_flags & STATUS_WEST_BIT else 1
        return sign * self.longitude_e6 / _MICRO

    @property
    def speed_kmh(self) -> float:
        """Speed in km/h."""
        return self.speed_tenths_kmh / 10

    @property
    def positioned(self) -> bool:
        """Whether the terminal had a fix (status bit 1); if not, the coordinates are stale."""
        return bool(self.status_flags & STATUS_POSITIONED_BIT)

    def extras(self) -> Extras:
        """All additional items as everyday-unit values."""
        extras: Extras = {}
        for item in self.items:
            extras.update(item.extras())
        return extras

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body."""
        parts = [
            encode_uint(self.alarm_flags, 4, "alarm flags"),
            encode_uint(self.status_flags, 4, "status flags"),
            encode_uint(self.latitude_e6, 4, "latitude"),
            encode_uint(self.longitude_e6, 4, "longitude"),
            encode_uint(self.altitude_m, 2, "altitude"),
            encode_uint(self.speed_tenths_kmh, 2, "speed"),
            encode_uint(self.heading_deg, 2, "heading"),
            encode_bcd_time(self.time, "time"),
        ]
        for item in self.items:
            value = item.encode_value()
            parts.append(encode_uint(item_id(item), 1, "item id"))
            parts.append(encode_uint(len(value), 1, "item length"))
            parts.append(value)
        return b"".join(parts)

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body."""
        return cls._decode(body, "location")

    @classmethod
    def _decode(cls, body: bytes, context: str) -> Self:
        items: list[LocationItem] = []
        if len(body) == _LOCATION_BASE.size:
            # The everyday report without extras, in one struct call.
            (alarm_flags, status_flags, latitude_e6, longitude_e6, altitude_m, speed, heading,
             time_bcd) = _LOCATION_BASE.unpack(body)  # fmt: skip
        else:
            reader = Reader(body, context)
            alarm_flags = reader.u32("alarm flags")
            status_flags = reader.u32("status flags")
            latitude_e6 = reader.u32("latitude")
            longitude_e6 = reader.u32("longitude")
            altitude_m = reader.u16("altitude")
            speed = reader.u16("speed")
            heading = reader.u16("heading")
            time_bcd = reader.take(6, "time")
            while reader.remaining:
                item_number = len(items) + 1
                identifier = reader.u8(f"item {item_number} id")
                length = reader.u8(f"item {item_number} (0x{identifier:02X}) length")
                value = reader.take(length, f"item {item_number} (0x{identifier:02X}) value")
                items.append(decode_item(identifier, value))
        return cls(
            alarm_flags=alarm_flags,
            status_flags=status_flags,
            latitude_e6=latitude_e6,
            longitude_e6=longitude_e6,
            altitude_m=altitude_m,
            speed_tenths_kmh=speed,
            heading_deg=heading,
            time=decode_bcd_time(time_bcd, f"{context} time"),
            items=tuple(items),
        )


@dataclass(frozen=True, slots=True)
class LocationBatch:
    """0x0704: several location reports at once (normal or blind-area backfill)."""

    MSG_ID: ClassVar[int] = 0x0704
    MSG_NAME: ClassVar[str] = "location_batch"

    kind: BatchKind
    locations: tuple[Location, ...]

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body."""
        parts = [
            encode_uint(len(self.locations), 2, "item count"),
            encode_uint(self.kind, 1, "batch kind"),
        ]
        for location in self.locations:
            body = location.encode(version)
            parts.append(encode_uint(len(body), 2, "item length"))
            parts.append(body)
        return b"".join(parts)

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body; the declared count must match the items present."""
        reader = Reader(body, "location batch")
        count = reader.u16("item count")
        kind = _enum_value(BatchKind, reader.u8("batch kind"), "batch kind")
        locations = []
        for number in range(1, count + 1):
            if not reader.remaining:
                raise LengthError(
                    f"location batch: count says {count} items, body holds {number - 1}"
                )
            length = reader.u16(f"item {number} length")
            item_body = reader.take(length, f"item {number}")
            locations.append(Location._decode(item_body, f"location batch item {number}"))
        if reader.remaining:
            raise LengthError(
                f"location batch: count says {count} items, "
                f"but {reader.remaining} bytes follow the last one"
            )
        return cls(kind=kind, locations=tuple(locations))


# --------------------------------------------------------------------------- text


class TextFlag(enum.IntFlag):
    """The 0x8300 flag bits. A set bit's name, in lower case, is the label the decoder gives
    it (:attr:`TextMessage.flag_names`); bit 5 clear means navigation information."""

    EMERGENCY = 1 << 0
    TERMINAL_DISPLAY = 1 << 2
    TTS = 1 << 3
    ADVERTISING_SCREEN = 1 << 4
    CAN_FAULT_CODE = 1 << 5


_TEXT_FLAG_NAMES: dict[int, str] = {
    flag.value.bit_length() - 1: str(flag.name).lower() for flag in TextFlag
}
"""0x8300 flag bit index -> label."""


@dataclass(frozen=True, slots=True)
class TextMessage:
    """0x8300: text sent down to the terminal (GBK).

    ``text_type`` (1 notice, 2 service) exists only in 2019 and is ignored for 2013.
    """

    MSG_ID: ClassVar[int] = 0x8300
    MSG_NAME: ClassVar[str] = "text_message"

    flags: int
    text: str
    text_type: int = 1

    @property
    def flag_names(self) -> frozenset[str]:
        """Names of the set flag bits."""
        return frozenset(
            _TEXT_FLAG_NAMES.get(bit, f"reserved_bit_{bit}")
            for bit in range(8)
            if self.flags >> bit & 1
        )

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body in the layout of ``version``."""
        body = encode_uint(self.flags, 1, "text flags")
        if version == ProtocolVersion.V2019:
            body += encode_uint(self.text_type, 1, "text type")
        return body + encode_gbk(self.text, "text")

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body in the layout of ``version``."""
        reader = Reader(body, "text message")
        flags = reader.u8("text flags")
        text_type = reader.u8("text type") if version == ProtocolVersion.V2019 else 1
        return cls(flags=flags, text=decode_gbk(reader.rest(), "text"), text_type=text_type)


# --------------------------------------------------------------------------- registry


Message = (
    TerminalGeneralReply
    | PlatformGeneralReply
    | Heartbeat
    | Logout
    | Register
    | RegisterReply
    | Authentication
    | Location
    | LocationBatch
    | TextMessage
)
"""Every message this codec understands."""

MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.MSG_ID: cls
    for cls in (
        TerminalGeneralReply,
        PlatformGeneralReply,
        Heartbeat,
        Logout,
        Register,
        RegisterReply,
        Authentication,
        Location,
        LocationBatch,
        TextMessage,
    )
}
"""Message id -> message class."""
