"""Location reports: a single report (0x0200, the gateway's hot path) and a batch
(0x0704). The fixed part is parsed with one ``struct`` call when no items follow."""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from typing import ClassVar, Self

import msgspec

from devices.jt808.bits import STATUS_POSITIONED_BIT, STATUS_SOUTH_BIT, STATUS_WEST_BIT
from devices.jt808.errors import LengthError
from devices.jt808.framing import ProtocolVersion
from devices.jt808.messages.enums import BatchKind, decode_enum
from devices.jt808.messages.items import Extras, LocationItem, decode_item, item_id
from devices.jt808.wire import Reader, decode_bcd_time, encode_bcd_time, encode_uint

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
        kind = decode_enum(BatchKind, reader.u8("batch kind"), "batch kind")
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
