"""What each device-feed message does, named in the command table
(:mod:`backend.server.commands`), which has already checked the feed's permission.

Observations go through the ingest of their device kind and are acknowledged only once
stored; a device's own alarm message goes straight to the alarm service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from backend.authz.principal import Principal
from backend.errors import ValidationError
from backend.runtime.clock import utc_now
from devices.wire import ObservationMessage, to_observation
from realtime.protocol import Ack, DeviceAlarm

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer


MAX_CLOCK_AHEAD = dt.timedelta(minutes=10)
"""A device's time further ahead of the server's clock than this is refused: taken as the
newest, it would hide every honest reading or fix after it (a sensor's rules would judge
none of them, a vehicle would stay where the bad fix put it)."""


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """What a device message runs against: the server's services and the feed's account."""

    server: DutyDeskServer
    principal: Principal


async def device_alarm(ctx: DeviceContext, message: DeviceAlarm) -> Ack:
    """A device raises an alarm (a repeat of an open one counts up instead).

    Without coordinates (and without a jurisdiction of its own) the alarm lies where the
    feed's last fix was; with them, the alarm service places it there.
    """
    _check_time(ctx, message.at)
    if message.lat is None and not message.jurisdiction:
        place = ctx.server.json_ingest.place_of(ctx.principal.username)
        if place:
            message = msgspec.structs.replace(message, jurisdiction=place)
    outcome = await ctx.server.alarms.device_alarm(ctx.principal, message)
    return Ack(ref=message.ref, alarm_id=outcome.alarm.id, repeated=outcome.repeated)


async def observation(ctx: DeviceContext, message: ObservationMessage) -> Ack:
    """A position, reading, detected condition or status change: through the ingest of its
    device kind (stored, judged by the rules) before it is acknowledged."""
    _check_time(ctx, message.at)
    await ctx.server.ingests[message.kind].submit(
        to_observation(message, sender=ctx.principal.username)
    )
    return Ack(ref=message.ref)


def _check_time(ctx: DeviceContext, at: dt.datetime | None) -> None:
    """Refuse a device time that cannot be right (``None``: the server stamps it)."""
    if at is None:
        return
    try:
        utc = at.astimezone(dt.UTC)
    except OverflowError:
        # E.g. 9999-12-31T23:59:59-14:00: valid as written, past year 9999 in UTC.
        raise ValidationError(
            f"the time {at.isoformat()} lies outside the calendar in UTC"
        ) from None
    now = (ctx.server.config.clock or utc_now)()
    if utc - now > MAX_CLOCK_AHEAD:
        raise ValidationError(
            f"the time {at.isoformat()} lies {utc - now} ahead of the server's clock "
            f"({now.isoformat(timespec='seconds')}); fix the device's clock"
        )
