"""What the grid, handover and roster commands do (``incident.report``, ``reports.mine``,
``handover.*``, ``handovers.list``, ``roster.today``): one small function per command,
named in the command table (:mod:`backend.server.commands`), which has already checked
the role's permission; the services (:mod:`backend.shifts`) apply the scope rules.
"""

from __future__ import annotations

from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    AcceptHandover,
    DraftHandover,
    GetHandover,
    HandoverResult,
    HandoversResult,
    ListHandovers,
    ListMyReports,
    ReportIncident,
    ReportResult,
    ReportsResult,
    RosterResult,
    RosterToday,
    SignHandover,
)


async def report_incident(ctx: ConsoleContext, command: ReportIncident) -> ReportResult:
    """Take an event reported from the grid."""
    report, incident, task = await ctx.server.grid_reports.report(ctx.principal, command)
    return ReportResult(report=report, incident=incident, task=task)


async def my_reports(ctx: ConsoleContext, command: ListMyReports) -> ReportsResult:
    """The user's own reports, newest first."""
    reports = await ctx.server.grid_reports.mine(
        ctx.principal, limit=command.limit + 1, before_id=command.before_id
    )
    return ReportsResult(reports=reports[: command.limit], more=len(reports) > command.limit)


async def draft_handover(ctx: ConsoleContext, command: DraftHandover) -> HandoverResult:
    """Generate the handover of the user's desk."""
    view, report = await ctx.server.handovers.draft(
        ctx.principal, notes=command.notes, incoming=command.incoming
    )
    return HandoverResult(handover=view, report=report)


async def sign_handover(ctx: ConsoleContext, command: SignHandover) -> HandoverResult:
    """The outgoing officer signs."""
    view, report = await ctx.server.handovers.sign(
        ctx.principal, command.handover_id, notes=command.notes, incoming=command.incoming
    )
    return HandoverResult(handover=view, report=report)


async def accept_handover(ctx: ConsoleContext, command: AcceptHandover) -> HandoverResult:
    """The incoming officer accepts."""
    view, report = await ctx.server.handovers.accept(
        ctx.principal, command.handover_id, remark=command.remark
    )
    return HandoverResult(handover=view, report=report)


async def list_handovers(ctx: ConsoleContext, command: ListHandovers) -> HandoversResult:
    """A desk's past handovers, newest first."""
    views, more = await ctx.server.handovers.list(
        ctx.principal,
        jurisdiction=command.jurisdiction,
        agency=command.agency,
        limit=command.limit,
        before_id=command.before_id,
    )
    return HandoversResult(handovers=views, more=more)


async def get_handover(ctx: ConsoleContext, command: GetHandover) -> HandoverResult:
    """One handover with its report."""
    view, report = await ctx.server.handovers.get(ctx.principal, command.handover_id)
    return HandoverResult(handover=view, report=report)


async def roster_today(ctx: ConsoleContext, command: RosterToday) -> RosterResult:
    """Who is on duty now and next at the desks of the user's area."""
    at, entries = await ctx.server.roster.today(ctx.principal)
    return RosterResult(at=at, entries=entries)
