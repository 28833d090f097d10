"""What a device feed (or a gateway forwarding for devices) sends: alarms, readings,
positions and status changes, each acknowledged by ``ref``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from realtime.protocol.common import (
    AwareDateTime,
    Latitude,
    Longitude,
    LongText,
    ShortText,
    Tagged,
)
from realtime.states import AlarmLevel

DeviceName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
"""A device's or sensor's identity (the longest the backend stores)."""


class DeviceAlarm(Tagged, tag="device.alarm"):
    """A device (or a gateway on its behalf) raises an alarm.

    ``key`` identifies the condition on that device (``gas_leak``, ``sos``…): while an alarm
    with the same device and key is open, a repeat raises its count instead of a new alarm.
    """

    ref: str
    key: str
    alarm_type: str
    level: AlarmLevel
    title: ShortText
    description: LongText = ""
    lat: Latitude | None = None
    lon: Longitude | None = None
    place: ShortText = ""
    jurisdiction: Annotated[str, msgspec.Meta(max_length=32)] = ""
    at: AwareDateTime | None = None


DeviceKind = Literal["jt808", "nmea", "modbus", "json"]
"""The protocols devices speak; a forwarded observation says which one it came by."""


class DeviceReading(Tagged, tag="device.reading"):
    """One measured value from a sensor.

    A gateway forwarding for many devices names the one it speaks for in ``device`` (and
    its protocol in ``kind``); a plain feed leaves them empty and is the device itself.
    """

    ref: str
    sensor: DeviceName
    value: float
    unit: Annotated[str, msgspec.Meta(max_length=16)] = ""
    at: AwareDateTime | None = None
    device: Annotated[str, msgspec.Meta(max_length=64)] = ""
    kind: DeviceKind = "json"


class DevicePosition(Tagged, tag="device.position", kw_only=True):
    """A fix of a vehicle or receiver, forwarded by a gateway (telemetry: group-committed)."""

    ref: str
    device: DeviceName
    kind: DeviceKind = "json"
    at: AwareDateTime
    lat: Latitude
    lon: Longitude
    speed_kmh: float = 0.0
    heading_deg: float = 0.0
    altitude_m: float = 0.0
    alarms: list[str] = msgspec.field(default_factory=list)
    backfill: bool = False


class DeviceAlarmRaised(Tagged, tag="device.alarm_raised", kw_only=True):
    """A device's own alarm condition became active (e.g. a JT/T 808 alarm bit rose).

    The backend chooses the level and title from ``kind`` and ``key`` (site settings).
    """

    ref: str
    device: DeviceName
    kind: DeviceKind = "json"
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    at: AwareDateTime
    lat: Latitude | None = None
    lon: Longitude | None = None
    description: LongText = ""


class DeviceStatus(Tagged, tag="device.status", kw_only=True):
    """A device went online or offline (as its gateway sees it)."""

    ref: str
    device: DeviceName
    kind: DeviceKind = "json"
    online: bool
    at: AwareDateTime
    reason: ShortText = ""


DeviceMessage = DeviceAlarm | DeviceReading | DevicePosition | DeviceAlarmRaised | DeviceStatus
"""Anything a device feed (or a gateway forwarding for devices) may send."""
