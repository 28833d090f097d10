"""The decision-support command (``decision.support``), named in the command table
(:mod:`backend.server.commands`), which has already checked the role's permission.

An incident named must be one the user may see (refused like a missing one otherwise);
what is listed is scoped by :class:`backend.decision.service.DecisionService`.
"""

from __future__ import annotations

from backend.server.handlers import ConsoleContext
from realtime.protocol import DecisionSupport, SupportRequest


async def decision_support(ctx: ConsoleContext, command: SupportRequest) -> DecisionSupport:
    """Chemical notes, rings and what lies in them, for an incident or a point."""
    incident = None
    if command.incident_id is not None:
        incident = await ctx.server.incidents.get_incident(ctx.principal, command.incident_id)
    return await ctx.server.decision.support(ctx.principal, command, incident)
