"""What each device-feed message does, named in the command table
(:mod:`backend.server.commands`), which has already checked the feed's permission.

Observations go through the ingest of their device kind and are acknowledged only once
stored; a device's own alarm message goes straight to the alarm service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.authz.principal import Principal
from devices.observations import DeviceAlarmRaised, DeviceStatusChanged, Position, Reading
from realtime.protocol import (
    Ack,
    DeviceAlarm,
    DevicePosition,
    DeviceReading,
    DeviceStatus,
)
from realtime.protocol import (
    DeviceAlarmRaised as DeviceAlarmRaisedMessage,
)

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """What a device message runs against: the server's services and the feed's account."""

    server: DutyDeskServer
    principal: Principal


async def device_alarm(ctx: DeviceContext, message: DeviceAlarm) -> Ack:
    """A device raises an alarm (a repeat of an open one counts up instead)."""
    outcome = await ctx.server.alarms.device_alarm(ctx.principal, message)
    return Ack(ref=message.ref, alarm_id=outcome.alarm.id, repeated=outcome.repeated)


async def reading(ctx: DeviceContext, message: DeviceReading) -> Ack:
    """A sensor reading, stored and judged by the sensor rules."""
    await ctx.server.ingests[message.kind].submit(
        Reading(
            device=message.device or ctx.principal.username,
            sensor=message.sensor,
            at=message.at or dt.datetime.now(dt.UTC),
            value=message.value,
            unit=message.unit,
        )
    )
    return Ack(ref=message.ref)


async def position(ctx: DeviceContext, message: DevicePosition) -> Ack:
    """A vehicle fix, stored and judged by the vehicle rules."""
    await ctx.server.ingests[message.kind].submit(
        Position(
            device=message.device,
            at=message.at,
            lat=message.lat,
            lon=message.lon,
            speed_kmh=message.speed_kmh,
            heading_deg=message.heading_deg,
            altitude_m=message.altitude_m,
            alarms=frozenset(message.alarms),
            backfill=message.backfill,
        )
    )
    return Ack(ref=message.ref)


async def alarm_raised(ctx: DeviceContext, message: DeviceAlarmRaisedMessage) -> Ack:
    """A condition a gateway detected on a device (its alarm bits, a sensor fault)."""
    await ctx.server.ingests[message.kind].submit(
        DeviceAlarmRaised(
            device=message.device,
            key=message.key,
            at=message.at,
            lat=message.lat,
            lon=message.lon,
            description=message.description,
        )
    )
    return Ack(ref=message.ref)


async def status(ctx: DeviceContext, message: DeviceStatus) -> Ack:
    """A device came online or went offline."""
    await ctx.server.ingests[message.kind].submit(
        DeviceStatusChanged(
            device=message.device,
            online=message.online,
            at=message.at,
            reason=message.reason,
        )
    )
    return Ack(ref=message.ref)
