"""What the plan commands do (``incident.checklist``, ``incident.tick``): one small
function each, named in the command table (:mod:`backend.server.commands`), which has
already checked the role's permission. The checklist service
(:mod:`backend.plans.checklist`) applies the incident's scope and who may tick which step.
"""

from __future__ import annotations

from backend.server.handlers import ConsoleContext
from realtime.protocol import ChecklistResult, GetChecklist, TickStep


async def get_checklist(ctx: ConsoleContext, command: GetChecklist) -> ChecklistResult:
    """The checklists of the plans that apply to an incident."""
    return await ctx.server.checklists.checklist(ctx.principal, command.incident_id)


async def tick_step(ctx: ConsoleContext, command: TickStep) -> ChecklistResult:
    """Tick or untick one plan step in an incident."""
    return await ctx.server.checklists.tick(ctx.principal, command)
