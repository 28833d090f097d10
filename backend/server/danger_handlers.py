"""What the hidden-danger commands do (``danger.report`` / ``act`` / ``list`` / ``get`` /
``stats`` / ``export``, ``inspection.record`` / ``list``): one small function each, named
in the command table (:mod:`backend.server.commands`), which has already checked the
role's permission. The service (:mod:`backend.dangers.service`) applies Scope.DANGER."""

from __future__ import annotations

from backend.dangers.service import DangerService
from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    ActOnDanger,
    DangerExport,
    DangerResult,
    DangersResult,
    DangerStatsResult,
    ExportDangers,
    GetDanger,
    GetDangerStats,
    InspectionResult,
    InspectionsResult,
    ListDangers,
    ListInspections,
    RecordInspection,
    ReportDanger,
)


def _service(ctx: ConsoleContext) -> DangerService:
    return ctx.server.dangers.service


async def report_danger(ctx: ConsoleContext, command: ReportDanger) -> DangerResult:
    """Report a hidden danger."""
    return DangerResult(danger=await _service(ctx).report(ctx.principal, command.danger))


async def act_on_danger(ctx: ConsoleContext, command: ActOnDanger) -> DangerResult:
    """One step of a hidden danger's life cycle."""
    return DangerResult(danger=await _service(ctx).act(ctx.principal, command))


async def list_dangers(ctx: ConsoleContext, command: ListDangers) -> DangersResult:
    """A filtered page of the hidden dangers in scope."""
    dangers, total = await _service(ctx).list_dangers(
        ctx.principal, command.filter, command.offset, command.limit
    )
    return DangersResult(dangers=dangers, total=total)


async def get_danger(ctx: ConsoleContext, command: GetDanger) -> DangerResult:
    """One hidden danger with its history and photos."""
    return DangerResult(danger=await _service(ctx).get(ctx.principal, command.danger_id))


async def danger_stats(ctx: ConsoleContext, command: GetDangerStats) -> DangerStatsResult:
    """The statistics of one grouping, ranked."""
    rows = await _service(ctx).stats(ctx.principal, command.group, command.since, command.until)
    return DangerStatsResult(
        group=command.group, rows=rows, since=command.since, until=command.until
    )


async def export_dangers(ctx: ConsoleContext, command: ExportDangers) -> DangerExport:
    """The Excel workbook."""
    filename, content = await _service(ctx).export(ctx.principal, command.filter)
    return DangerExport(filename=filename, content=content)


async def record_inspection(ctx: ConsoleContext, command: RecordInspection) -> InspectionResult:
    """Record an inspection and its findings."""
    inspection, dangers = await _service(ctx).record_inspection(ctx.principal, command.inspection)
    return InspectionResult(inspection=inspection, dangers=dangers)


async def list_inspections(ctx: ConsoleContext, command: ListInspections) -> InspectionsResult:
    """Inspections in scope, newest first."""
    inspections = await _service(ctx).list_inspections(
        ctx.principal, command.enterprise, command.since, command.limit
    )
    return InspectionsResult(inspections=inspections)
