"""What ``vehicle.command`` and ``vehicle.confirm`` do (orders to vehicle terminals).

The command table (:mod:`backend.server.commands`) has checked the route's permission
(:attr:`~backend.authz.policy.Permission.QUERY_VEHICLES` for ``vehicle.command``,
:attr:`~backend.authz.policy.Permission.CONTROL_VEHICLES` for ``vehicle.confirm``). Here:
the vehicle must lie in the user's area by its latest fix (else it is refused exactly
like a missing one), the orders that change the vehicle or the terminal need
``CONTROL_VEHICLES`` and a second step, every request counts against the user's rate
limit, and every order sent is one ``vehicle.command`` event (the call-back number
masked) fanned out to the readers of the vehicle's area.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz import policy as authz
from backend.authz.policy import Permission
from backend.eventlog import log as eventlog
from backend.server.handlers import ConsoleContext, device_jurisdictions
from backend.vehicles import commands
from realtime.event_kinds import EventKind
from realtime.protocol import (
    CommandOutcome,
    ConfirmVehicleCommand,
    Event,
    SendText,
    SendVehicleCommand,
    TextSent,
    VehicleCommandResult,
    VehicleCommandView,
)
from realtime.protocol.vehicle_commands import LoggedOrder, TextToDriver

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

logger = logging.getLogger(__name__)


def _area_of(ctx: ConsoleContext, device: str) -> str:
    """The vehicle's area by its latest fix; refused like a missing one outside the
    user's area."""
    place = device_jurisdictions(ctx.server).get(device, "")
    if not authz.sees_jurisdiction(ctx.principal, place):
        raise authz.hidden("vehicle")
    return place


async def send_command(ctx: ConsoleContext, command: SendVehicleCommand) -> VehicleCommandResult:
    """Send an order now, or (control orders) answer ``confirm_needed`` with a token."""
    place = _area_of(ctx, command.device)
    order = command.order
    two_steps = commands.needs_confirmation(order)
    if two_steps:
        authz.check(ctx.principal, Permission.CONTROL_VEHICLES)
    commands.validate(order)
    service = ctx.server.vehicle_commands
    service.admit(ctx.principal.username)
    if two_steps:
        view = service.confirm_needed(ctx.principal.username, command.device, order, place)
        logger.info(
            "%s asked to send %s to %s: confirmation needed",
            ctx.principal.username,
            order.__struct_config__.tag,
            command.device,
        )
        return VehicleCommandResult(command=view)
    return VehicleCommandResult(command=await send_and_record(ctx, command.device, order, place))


async def confirm_command(
    ctx: ConsoleContext, command: ConfirmVehicleCommand
) -> VehicleCommandResult:
    """Send the order a confirmation token stands for (once, by the user it was given)."""
    service = ctx.server.vehicle_commands
    service.admit(ctx.principal.username)
    pending = service.tokens.take(command.token, ctx.principal.username)
    # The vehicle may have left the user's area since the first step.
    place = _area_of(ctx, pending.device)
    return VehicleCommandResult(
        command=await send_and_record(ctx, pending.device, pending.order, place)
    )


async def send_text(ctx: ConsoleContext, command: SendText) -> TextSent:
    """A text (0x8300) to a vehicle terminal of the user's area (by its latest fix)
    connected to this server's gateway; logged as a ``vehicle.command`` event (even if the
    console goes away before the terminal answers)."""
    place = device_jurisdictions(ctx.server).get(command.device, "")
    if not authz.sees_jurisdiction(ctx.principal, place):
        raise authz.hidden("vehicle")
    order = TextToDriver(
        text=command.text, emergency=command.emergency, tts=command.tts, display=command.display
    )
    view = await send_and_record(ctx, command.device, order, place)
    return TextSent(device=command.device, acknowledged=view.outcome is CommandOutcome.ANSWERED)


async def send_and_record(
    ctx: ConsoleContext, device: str, order: LoggedOrder, place: str
) -> VehicleCommandView:
    """Send ``order`` (or the text) to ``device`` and log it as a ``vehicle.command``
    event, carried to its end even if the console goes away meanwhile."""
    return await ctx.server.vehicle_commands.carry_out(_send_and_record(ctx, device, order, place))


async def _send_and_record(
    ctx: ConsoleContext, device: str, order: LoggedOrder, place: str
) -> VehicleCommandView:
    username = ctx.principal.username
    vehicles = ctx.server.vehicle_commands
    if isinstance(order, TextToDriver):
        view = await vehicles.send_text(username, order, device, place)
    else:
        view = await vehicles.send(username, device, order, place)
    registered = await ctx.server.registry.find("jt808", device)
    if registered is not None and registered.plate:
        view.plate = registered.plate
    await record(ctx.server, view)
    logger.info(
        "%s sent %s to %s: %s %s",
        username,
        order.__struct_config__.tag,
        device,
        view.outcome,
        view.result,
    )
    return view


async def record(server: DutyDeskServer, view: VehicleCommandView) -> None:
    """Put an order sent (``view``, by ``view.requested_by``) in the event log, the
    call-back number masked: the event fans out to the readers of the vehicle's area."""
    audited = msgspec.structs.replace(view, order=commands.masked(view.order))

    async def work(session: AsyncSession, events: list[Event]) -> None:
        events.append(
            await eventlog.append(
                session,
                kind=EventKind.VEHICLE_COMMAND,
                actor=view.requested_by,
                at=view.at,
                vehicle_command=audited,
            )
        )

    await server.writer.run(work)
