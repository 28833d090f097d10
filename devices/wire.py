"""Observations on the wire: the one translation between :mod:`devices.observations` and
the device endpoint's messages (:data:`realtime.protocol.DeviceMessage`).

A standalone gateway sends its observations with :func:`to_message`; the backend turns
what arrives back into observations with :func:`to_observation`. ``Position.status`` and
``Position.extras`` are local to a gateway and do not travel.
"""

from __future__ import annotations

import datetime as dt

from devices.observations import (
    DeviceAlarmRaised,
    DeviceStatusChanged,
    Observation,
    Position,
    Reading,
)
from realtime.protocol import (
    DeviceAlarmRaised as DeviceAlarmRaisedMessage,
)
from realtime.protocol import (
    DeviceKind,
    DevicePosition,
    DeviceReading,
    DeviceStatus,
)

ObservationMessage = DevicePosition | DeviceReading | DeviceAlarmRaisedMessage | DeviceStatus
"""The device messages that carry an observation (every DeviceMessage but a DeviceAlarm)."""


def to_message(observation: Observation, *, kind: DeviceKind, ref: str) -> ObservationMessage:
    """The device-endpoint message that carries ``observation`` (its device came by
    protocol ``kind``; ``ref`` matches the backend's answer)."""
    match observation:
        case Position():
            return DevicePosition(
                ref=ref,
                device=observation.device,
                kind=kind,
                at=observation.at,
                lat=observation.lat,
                lon=observation.lon,
                speed_kmh=observation.speed_kmh,
                heading_deg=observation.heading_deg,
                altitude_m=observation.altitude_m,
                alarms=sorted(observation.alarms),
                backfill=observation.backfill,
            )
        case Reading():
            return DeviceReading(
                ref=ref,
                device=observation.device,
                kind=kind,
                sensor=observation.sensor,
                value=observation.value,
                unit=observation.unit,
                at=observation.at,
            )
        case DeviceAlarmRaised():
            return DeviceAlarmRaisedMessage(
                ref=ref,
                device=observation.device,
                kind=kind,
                key=observation.key,
                at=observation.at,
                lat=observation.lat,
                lon=observation.lon,
                description=observation.description,
            )
        case DeviceStatusChanged():
            return DeviceStatus(
                ref=ref,
                device=observation.device,
                kind=kind,
                online=observation.online,
                at=observation.at,
                reason=observation.reason,
            )


def _utc(at: dt.datetime) -> dt.datetime:
    """A wire time (aware, any offset) in UTC: what the backend stores and sends."""
    return at if at.tzinfo is dt.UTC else at.astimezone(dt.UTC)


def to_observation(
    message: ObservationMessage, *, sender: str, now: dt.datetime | None = None
) -> Observation:
    """The observation ``message`` carries.

    A plain feed's reading names no device and may carry no time: it is then ``sender``'s
    (the account that sent it), taken at ``now`` (default: the current time, UTC).
    """
    match message:
        case DevicePosition():
            return Position(
                device=message.device,
                at=_utc(message.at),
                lat=message.lat,
                lon=message.lon,
                speed_kmh=message.speed_kmh,
                heading_deg=message.heading_deg,
                altitude_m=message.altitude_m,
                alarms=frozenset(message.alarms),
                backfill=message.backfill,
            )
        case DeviceReading():
            return Reading(
                device=message.device or sender,
                sensor=message.sensor,
                at=_utc(message.at or now or dt.datetime.now(dt.UTC)),
                value=message.value,
                unit=message.unit,
            )
        case DeviceAlarmRaisedMessage():
            return DeviceAlarmRaised(
                device=message.device,
                key=message.key,
                at=_utc(message.at),
                lat=message.lat,
                lon=message.lon,
                description=message.description,
            )
        case DeviceStatus():
            return DeviceStatusChanged(
                device=message.device,
                online=message.online,
                at=_utc(message.at),
                reason=message.reason,
            )
