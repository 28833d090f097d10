"""Reporting from the grid (网格上报): where a report lands, the reporter's limit, and the
reporter's own list.

A village, town or district officer reports an event with a catalogue item, a place (a
map click, or an address only) and a description. The incident opens in the
jurisdiction of the place: the jurisdiction tree places a position; without one the
reporter's own area is the place. A position outside the reporter's area is refused. A
task goes to the grid level the item's ``handling_level`` names, the one of that level
containing the place; an ``agency`` item has no task yet (the district's command centre,
which sees every incident of its area, dispatches it). An item that reports straight to
the district is marked (``direct_report``) so the district's console flags it.

Each reporter may report :data:`REPORTS_PER_HOUR` events an hour (counted in the
database, so every server sharing it counts the same): a broken client cannot flood the
district.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz.principal import Principal
from backend.errors import Error, ForbiddenError, ValidationError
from backend.incidents.catalogue import CatalogueError
from backend.incidents.service import IncidentService
from backend.storage.models import GridReport, IncidentRecord, TaskRecord
from backend.storage.types import as_utc
from realtime.incident_states import (
    AssigneeKind,
    EscalationLevel,
    HandlingLevel,
    IncidentLevel,
    IncidentState,
    TaskState,
)
from realtime.protocol import (
    ErrorCode,
    IncidentView,
    ReportIncident,
    ReportView,
    Role,
    TaskView,
)

logger = logging.getLogger(__name__)

REPORTS_PER_HOUR: Final = 30
"""Reports one user may make in any hour."""

Placer = Callable[[float | None, float | None], str]
Clock = Callable[[], dt.datetime]

_LEVEL_LENGTH: Final = {HandlingLevel.VILLAGE: 12, HandlingLevel.TOWN: 9, HandlingLevel.DISTRICT: 6}
"""Canonical code length of each grid level (district 6, town 9, village 12 digits)."""
_REPORTERS: Final = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})


class RateLimitedError(Error):
    """The reporter went over the hourly limit."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, message)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def place_report(own: str, placed: str, lat: float | None, lon: float | None) -> str:
    """The jurisdiction a report lands in: where the position lies (``placed``), or the
    reporter's own area (``own``) without a position or where the tree knows no deeper
    code; refused when the position lies outside the reporter's area."""
    if lat is None or not placed:
        return own
    if placed.startswith(own):
        return placed
    if own.startswith(placed):
        # The tree knows only a coarser area around the point (no villages imported):
        # the reporter's own area is the best place known.
        return own
    raise ForbiddenError(
        f"the position ({lat:.5f}, {lon:.5f}) lies in {placed}, outside your area {own or '-'}:"
        " report it to that area's officers"
    )


def grid_area_for(jurisdiction: str, level: HandlingLevel) -> str | None:
    """The code of the grid level ``level`` that contains ``jurisdiction``: the deepest
    known one when the place is known only more coarsely (a village item in a town); none
    for an ``agency`` item, or a place above any district (nothing to send it to)."""
    length = _LEVEL_LENGTH.get(level)
    if length is None or len(jurisdiction) < 6:
        return None
    return jurisdiction[: min(length, len(jurisdiction))]


class GridReports:
    """Takes reports from the grid and lists each reporter's own."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        incidents: IncidentService,
        placer: Placer,
        *,
        clock: Clock = _utc_now,
        per_hour: int = REPORTS_PER_HOUR,
    ) -> None:
        self._sessions = sessions
        self._incidents = incidents
        self._place = placer
        self._clock = clock
        self.per_hour = per_hour

    async def report(
        self, principal: Principal, command: ReportIncident
    ) -> tuple[ReportView, IncidentView, TaskView | None]:
        """Take one report (see the module docstring)."""
        if principal.role not in _REPORTERS or principal.agency is not None:
            raise ForbiddenError("only the grid's and the command centre's officers report events")
        if (command.lat is None) != (command.lon is None):
            raise ValidationError("give both latitude and longitude, or neither")
        if command.lat is None and not command.place.strip():
            raise ValidationError("give the place: a point on the map or an address")
        try:
            item = self._incidents.catalogue.item(command.type_code)
        except CatalogueError as exc:
            raise ValidationError(str(exc)) from None
        placed = self._place(command.lat, command.lon)
        jurisdiction = place_report(principal.jurisdiction, placed, command.lat, command.lon)
        grid_area = grid_area_for(jurisdiction, item.handling_level)
        direct = item.reports_straight_to_district
        now = as_utc(self._clock())
        since = now - dt.timedelta(hours=1)

        async def record(
            session: AsyncSession, incident: IncidentView, task: TaskView | None
        ) -> None:
            # Counted inside the report's transaction, after the event counter row is
            # locked: two reports at once from one user (or two servers) cannot both slip
            # under the limit.
            made = await session.scalar(
                select(func.count(GridReport.id)).where(
                    GridReport.reporter == principal.username, GridReport.reported_at > since
                )
            )
            if (made or 0) >= self.per_hour:
                raise RateLimitedError(
                    f"you have made {made} reports in the last hour (at most {self.per_hour}):"
                    " wait, or telephone the command centre"
                )
            session.add(
                GridReport(
                    incident_id=incident.id,
                    reporter=principal.username,
                    reporter_jurisdiction=principal.jurisdiction,
                    handling_level=item.handling_level.value,
                    task_id=task.id if task is not None else None,
                    direct=direct,
                    reported_at=now,
                )
            )

        title = command.title.strip() or " ".join(
            part for part in (item.name.zh, command.place.strip()) if part
        )
        incident, task = await self._incidents.report(
            principal,
            type_code=item.code,
            title=title[:200],
            description=command.description,
            place=command.place,
            lat=command.lat,
            lon=command.lon,
            jurisdiction=jurisdiction,
            grid_area=grid_area,
            direct=direct,
            record=record,
        )
        reports = await self.mine(principal, limit=1, incident_id=incident.id)
        return reports[0], incident, task

    async def mine(
        self,
        principal: Principal,
        *,
        limit: int = 50,
        before_id: int | None = None,
        incident_id: int | None = None,
    ) -> list[ReportView]:
        """The principal's own reports, newest first, with how each stands now."""
        async with self._sessions() as session:
            query = (
                select(GridReport, IncidentRecord)
                .join(IncidentRecord, IncidentRecord.id == GridReport.incident_id)
                .where(GridReport.reporter == principal.username)
            )
            if before_id is not None:
                query = query.where(GridReport.id < before_id)
            if incident_id is not None:
                query = query.where(GridReport.incident_id == incident_id)
            rows = list(await session.execute(query.order_by(GridReport.id.desc()).limit(limit)))
            latest = await _newest_grid_tasks(session, [incident.id for _report, incident in rows])
        return [_view(report, incident, latest.get(incident.id)) for report, incident in rows]


async def _newest_grid_tasks(
    session: AsyncSession, incident_ids: list[int]
) -> dict[int, TaskRecord]:
    """The newest grid-level task of each incident (the one a return sent up, if any)."""
    if not incident_ids:
        return {}
    tasks = await session.scalars(
        select(TaskRecord)
        .where(
            TaskRecord.incident_id.in_(incident_ids),
            TaskRecord.assignee_kind == AssigneeKind.GRID_LEVEL.value,
        )
        .order_by(TaskRecord.id)
    )
    return {task.incident_id: task for task in tasks}


def _view(report: GridReport, incident: IncidentRecord, task: TaskRecord | None) -> ReportView:
    return ReportView(
        id=report.id,
        incident_id=incident.id,
        reported_at=report.reported_at,
        type_code=incident.type_code,
        type_name=incident.type_name,
        title=incident.title,
        place=incident.place,
        jurisdiction=incident.jurisdiction,
        handling_level=HandlingLevel(report.handling_level),
        direct=report.direct,
        incident_state=IncidentState(incident.state),
        incident_level=IncidentLevel(incident.level),
        task_state=TaskState(task.state) if task is not None else None,
        task_level=EscalationLevel(task.escalation_level) if task is not None else None,
        task_assignee=(task.assignee_name or task.assignee_ref) if task is not None else "",
        feedback=incident.feedback,
        closed_at=incident.closed_at,
    )
