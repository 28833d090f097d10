"""The incident service: incidents, their alarms and tasks, deadlines and escalation.

Every change runs in one transaction of the event writer that updates the incident tables
and appends the event recording it (``incident.*``, ``task.*``), checked against the state
tables of :mod:`realtime.incident_states` and the version the caller saw; events reach the
fan-out only after the commit. Who may do what is asked of :mod:`backend.authz.incidents`
(the scope rules of the permission table); a missing incident or task is refused exactly
like one outside the scope.

Deadlines run on the service's clock (injected, so tests control time): a
:class:`~backend.incidents.deadlines.DeadlineTracker` holds the pending deadlines of every
open task, rebuilt from the database at start; a :class:`~backend.runtime.periodic.Periodic`
checks it every ``check_interval`` seconds and commits one ``task.escalated`` event per
overdue deadline, exactly once (a row per task and cause, unique in the database).

``version`` counts the changes a decision depends on (state, level, commander, alarms,
deadlines). An escalation or a supervision flag is recorded and broadcast, but does not
bump it, so it never makes an assignee's click stale.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Final, TypeVar

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import incidents as access
from backend.authz import policy
from backend.authz.principal import Principal
from backend.authz.scope import hidden, in_jurisdiction
from backend.errors import Error, ValidationError
from backend.eventlog import log as eventlog
from backend.incidents.catalogue import Catalogue, CatalogueError, Deadlines, Item
from backend.incidents.deadlines import (
    DeadlineTracker,
    Overdue,
    first_rung,
    grid_level_of,
    next_rung,
    parent_area,
)
from backend.runtime.clock import utc_now
from backend.runtime.leases import Lease
from backend.runtime.periodic import Periodic
from backend.storage.models import (
    Agency,
    Alarm,
    IncidentAlarm,
    IncidentRecord,
    TaskEscalation,
    TaskRecord,
    TaskSupervision,
    Unit,
)
from backend.storage.types import as_utc
from realtime.incident_states import (
    DEADLINE_CAUSE,
    INCIDENT_FINAL_STATES,
    INCIDENT_NOTE_REQUIRED,
    PENDING_DEADLINES,
    TASK_FINAL_STATES,
    TASK_NOTE_REQUIRED,
    AssigneeKind,
    Deadline,
    EscalationCause,
    EscalationLevel,
    IncidentAction,
    IncidentLevel,
    IncidentState,
    TaskAction,
    TaskState,
    allowed_incident_actions,
    allowed_task_actions,
    next_incident_state,
    next_task_state,
)
from realtime.protocol import (
    ErrorCode,
    EscalationView,
    Event,
    IncidentView,
    SupervisionView,
    TaskView,
)
from realtime.states import AlarmState

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

SYSTEM_ACTOR: Final = "system"
"""The actor of what the server does by itself (escalations)."""

RECENTLY_CLOSED: Final = dt.timedelta(hours=24)
"""Closed incidents stay in listings this long, so a shift sees what just ended."""

RESYNC_EVERY: Final = 300.0
"""Seconds between rebuilds of the tracker from the database: tasks another server on the
same database sent are then watched here too (if that server stops, they still escalate)."""

RELOAD_PAGE: Final = 250
"""Open tasks read per step when the tracker is rebuilt (a step of a few milliseconds)."""

ESCALATIONS_PER_CHECK: Final = 500
"""Overdue deadlines escalated per check at most; the rest wait for the next check (a
backlog after an outage drains over a few checks instead of one long one)."""

_AGENCY_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_AREA_RE = re.compile(r"[0-9A-Za-z]{1,32}")
_UNATTACHABLE = frozenset({AlarmState.FALSE_ALARM.value, AlarmState.MERGED.value})
_OPEN_TASK_STATES = [state.value for state in TaskState if state not in TASK_FINAL_STATES]
_DEADLINE_COLUMNS: Final = {
    Deadline.ACCEPT: "accept_by",
    Deadline.ARRIVE: "arrive_by",
    Deadline.FINISH: "finish_by",
}


def _utc_now() -> dt.datetime:
    return utc_now()


def _text(value: str, what: str, *, limit: int, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{what} is required")
    if len(value) > limit:
        raise ValidationError(f"{what} is longer than {limit} characters")
    return value


class IncidentService:
    """Commands and queries on incidents and tasks; the only code that writes their tables."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        catalogue: Catalogue,
        *,
        clock: Clock = _utc_now,
        check_interval: float = 1.0,
        resync_every: float = RESYNC_EVERY,
        grid_level: Callable[[str], EscalationLevel] = grid_level_of,
        lease: Lease | None = None,
    ) -> None:
        self._sessions = sessions
        self._grid_level = grid_level
        """The grid rung of a jurisdiction code (the server reads the jurisdiction tree)."""
        self._write = writer.run
        self.catalogue = catalogue
        self._clock = clock
        self.tracker = DeadlineTracker()
        """The pending deadlines of open tasks (read by tests and the bench)."""
        self._tracker_loaded = False
        self._resync_every = resync_every
        self._reloaded_at = 0.0
        """When the tracker was last rebuilt (``time.monotonic``)."""
        self._changed_while_reloading: dict[int, TaskView] | None = None
        self._runner = Periodic(
            "incident deadline check",
            self._check_tick,
            interval=check_interval,
            immediately=True,
            log=logger,
            # One instance of several on the database checks deadlines; the one that takes
            # over reads the open tasks afresh (the others' writes are in the database).
            lease=lease,
            on_lease_taken=self._forget_tracker,
        )

    @property
    def check_interval(self) -> float:
        """Seconds between two deadline checks."""
        return self._runner.interval

    @check_interval.setter
    def check_interval(self, seconds: float) -> None:
        """Check every ``seconds`` from now on (an exercise sped up checks more often)."""
        self._runner.interval = seconds

    def _forget_tracker(self) -> None:
        """Rebuild the tracker from the database on the next check."""
        self._tracker_loaded = False

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        """Start checking deadlines (the first check reloads them from the database)."""
        self._runner.start()

    async def stop(self) -> None:
        """Stop checking deadlines."""
        await self._runner.stop()

    def _now(self) -> dt.datetime:
        return as_utc(self._clock())

    # ------------------------------------------------------------------ views

    async def _incident_view(self, session: AsyncSession, incident: IncidentRecord) -> IncidentView:
        return (await self._incident_views(session, [incident]))[0]

    @staticmethod
    async def _incident_views(
        session: AsyncSession, incidents: Sequence[IncidentRecord]
    ) -> list[IncidentView]:
        """The views of ``incidents``, with their alarms and assignees read in two queries."""
        ids = [incident.id for incident in incidents]
        alarm_ids: dict[int, list[int]] = {incident_id: [] for incident_id in ids}
        agencies: dict[int, dict[str, None]] = {incident_id: {} for incident_id in ids}
        areas: dict[int, dict[str, None]] = {incident_id: {} for incident_id in ids}
        for chunk in _chunks(ids):
            links = await session.execute(
                select(IncidentAlarm.incident_id, IncidentAlarm.alarm_id)
                .where(IncidentAlarm.incident_id.in_(chunk))
                .order_by(IncidentAlarm.id)
            )
            for incident_id, alarm_id in links:
                alarm_ids[incident_id].append(alarm_id)
            assignees = await session.execute(
                select(
                    TaskRecord.incident_id,
                    TaskRecord.assignee_kind,
                    TaskRecord.agency,
                    TaskRecord.jurisdiction,
                )
                .where(TaskRecord.incident_id.in_(chunk))
                .order_by(TaskRecord.id)
            )
            for incident_id, kind, agency, area in assignees:
                if agency:
                    agencies[incident_id][agency] = None
                if kind == AssigneeKind.GRID_LEVEL.value:
                    areas[incident_id][area] = None
        return [
            IncidentView(
                id=incident.id,
                version=incident.version,
                state=IncidentState(incident.state),
                level=IncidentLevel(incident.level),
                type_code=incident.type_code,
                type_name=incident.type_name,
                title=incident.title,
                description=incident.description,
                place=incident.place,
                lat=incident.lat,
                lon=incident.lon,
                jurisdiction=incident.jurisdiction,
                commander=incident.commander,
                reported_by=incident.reported_by,
                opened_at=incident.opened_at,
                opened_by=incident.created_by,
                closed_at=incident.closed_at,
                feedback=incident.feedback,
                alarm_ids=alarm_ids[incident.id],
                agencies=list(agencies[incident.id]),
                grid_areas=list(areas[incident.id]),
                updated_at=incident.updated_at,
                updated_by=incident.updated_by,
                last_note=incident.last_note,
                direct_report=True if incident.direct_report else msgspec.UNSET,
            )
            for incident in incidents
        ]

    async def _task_view(self, session: AsyncSession, task: TaskRecord) -> TaskView:
        return (await self._task_views(session, [task]))[0]

    async def _task_views(
        self, session: AsyncSession, tasks: Sequence[TaskRecord]
    ) -> list[TaskView]:
        """The views of ``tasks``, with their escalations and supervision flags read in two
        queries (an inbox of thousands of tasks is not thousands of round trips)."""
        ids = [task.id for task in tasks]
        escalations: dict[int, list[EscalationView]] = {task_id: [] for task_id in ids}
        supervisions: dict[int, list[SupervisionView]] = {task_id: [] for task_id in ids}
        for chunk in _chunks(ids):
            for row in await session.scalars(
                select(TaskEscalation)
                .where(TaskEscalation.task_id.in_(chunk))
                .order_by(TaskEscalation.id)
            ):
                escalations[row.task_id].append(
                    EscalationView(
                        cause=EscalationCause(row.cause),
                        from_level=EscalationLevel(row.from_level),
                        to_level=EscalationLevel(row.to_level),
                        note=row.note,
                        by=row.by,
                        at=row.at,
                    )
                )
            for flag in await session.scalars(
                select(TaskSupervision)
                .where(TaskSupervision.task_id.in_(chunk))
                .order_by(TaskSupervision.id)
            ):
                supervisions[flag.task_id].append(
                    SupervisionView(
                        id=flag.id,
                        by=flag.by,
                        note=flag.note,
                        due_at=flag.due_at,
                        created_at=flag.created_at,
                        answered_at=flag.answered_at,
                        answered_by=flag.answered_by,
                        answer=flag.answer,
                    )
                )
        return [
            TaskView(
                id=task.id,
                incident_id=task.incident_id,
                version=task.version,
                state=TaskState(task.state),
                assignee_kind=AssigneeKind(task.assignee_kind),
                assignee_ref=task.assignee_ref,
                assignee_name=task.assignee_name,
                agency=task.agency,
                jurisdiction=task.jurisdiction,
                assignee_user=task.assignee_user,
                instructions=task.instructions,
                last_action=TaskAction(task.last_action) if task.last_action else None,
                last_note=task.last_note,
                accept_by=task.accept_by,
                arrive_by=task.arrive_by,
                finish_by=task.finish_by,
                escalation_level=EscalationLevel(task.escalation_level),
                returned_from=task.returned_from,
                created_at=task.created_at,
                created_by=task.created_by,
                updated_at=task.updated_at,
                updated_by=task.updated_by,
                escalations=escalations[task.id],
                supervisions=supervisions[task.id],
            )
            for task in tasks
        ]

    async def _load_incident(
        self, session: AsyncSession, incident_id: int, *, lock: bool = False
    ) -> IncidentRecord:
        query = select(IncidentRecord).where(IncidentRecord.id == incident_id)
        incident = await session.scalar(query.with_for_update() if lock else query)
        if incident is None:
            raise hidden("incident")
        return incident

    async def _load_task(
        self, session: AsyncSession, task_id: int, *, lock: bool = False
    ) -> TaskRecord:
        query = select(TaskRecord).where(TaskRecord.id == task_id)
        task = await session.scalar(query.with_for_update() if lock else query)
        if task is None:
            raise hidden("task")
        return task

    async def _record_incident(
        self,
        session: AsyncSession,
        events: list[Event],
        incident: IncidentRecord,
        kind: eventlog.EventKind,
        actor: str,
        *,
        note: str = "",
        alarm_id: int | None = None,
    ) -> IncidentView:
        await session.flush()
        view = await self._incident_view(session, incident)
        events.append(
            await eventlog.append(
                session,
                kind=kind,
                actor=actor,
                incident=view,
                note=note,
                at=incident.updated_at,
                alarm_id=alarm_id,
            )
        )
        return view

    async def _record_task(
        self,
        session: AsyncSession,
        events: list[Event],
        task: TaskRecord,
        kind: eventlog.EventKind,
        actor: str,
        *,
        note: str = "",
        at: dt.datetime,
    ) -> TaskView:
        await session.flush()
        view = await self._task_view(session, task)
        events.append(
            await eventlog.append(session, kind=kind, actor=actor, task=view, note=note, at=at)
        )
        return view

    def _item(self, type_code: str) -> Item:
        try:
            return self.catalogue.item(type_code)
        except CatalogueError as exc:
            raise ValidationError(str(exc)) from None

    def _type_deadlines(self, type_code: str) -> Deadlines:
        """The deadlines of an incident type; none for a type the site's catalogue has
        dropped since the incident was opened (its tasks then take explicit deadlines)."""
        if type_code in self.catalogue:
            return self.catalogue.item(type_code).deadlines
        logger.warning(
            "event type %s is no longer in the catalogue: no default deadlines", type_code
        )
        return Deadlines()

    # ------------------------------------------------------------------ incidents

    async def open_incident(
        self,
        principal: Principal,
        *,
        type_code: str | None = None,
        title: str = "",
        description: str = "",
        place: str = "",
        lat: float | None = None,
        lon: float | None = None,
        jurisdiction: str | None = None,
        level: IncidentLevel | None = None,
        commander: str | None = None,
        alarm_id: int | None = None,
    ) -> IncidentView:
        """Open an incident, or raise one from alarm ``alarm_id`` (立案).

        From an alarm, what is not given is taken from it (title, place, position,
        jurisdiction, description, reporter) and the type from the catalogue item its
        alarm type suggests. The level defaults to the item's; the commander to the user
        opening it.
        """
        if (lat is None) != (lon is None):
            raise ValidationError("give both latitude and longitude, or neither")
        if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationError(f"({lat}, {lon}) is not a WGS-84 latitude and longitude")
        now = self._now()

        async def work(session: AsyncSession, events: list[Event]) -> IncidentView:
            alarm: Alarm | None = None
            if alarm_id is not None:
                alarm = await self._attachable_alarm(session, principal, alarm_id)
            code = type_code
            if code is None and alarm is not None:
                suggested = self.catalogue.for_alarm_type(alarm.alarm_type)
                code = suggested.code if suggested is not None else None
            if code is None:
                raise ValidationError("choose the event type from the catalogue")
            item = self._item(code)
            area = jurisdiction
            if area is None:
                area = alarm.jurisdiction if alarm is not None else principal.jurisdiction
            access.check_open_incident(principal, area)
            has_position = lat is not None
            incident = IncidentRecord(
                version=1,
                type_code=item.code,
                type_name=item.name.zh,
                level=(level or item.default_level).value,
                state=IncidentState.OPEN.value,
                title=_text(
                    title or (alarm.title if alarm else ""), "a title", limit=200, required=True
                ),
                description=_text(
                    description or (alarm.description if alarm else ""),
                    "the description",
                    limit=4000,
                ),
                place=_text(place or (alarm.place if alarm else ""), "the place", limit=200),
                lat=lat if has_position or alarm is None else alarm.lat,
                lon=lon if has_position or alarm is None else alarm.lon,
                jurisdiction=area,
                commander=_text(commander or principal.username, "the commander", limit=64),
                reported_by=alarm.reported_by if alarm is not None else principal.username,
                opened_at=now,
                closed_at=None,
                feedback="",
                last_note="",
                created_by=principal.username,
                updated_at=now,
                updated_by=principal.username,
            )
            session.add(incident)
            await session.flush()
            if alarm is not None:
                session.add(
                    IncidentAlarm(
                        incident_id=incident.id, alarm_id=alarm.id, by=principal.username, at=now
                    )
                )
            return await self._record_incident(
                session,
                events,
                incident,
                eventlog.EventKind.INCIDENT_OPENED,
                principal.username,
                note=f"raised from alarm #{alarm.id}" if alarm is not None else "",
                alarm_id=alarm.id if alarm is not None else None,
            )

        view = await self._write(work)
        logger.info(
            "incident %s opened by %s (%s, level %s)",
            view.id,
            principal.username,
            view.type_code,
            view.level,
        )
        return view

    async def _attachable_alarm(
        self, session: AsyncSession, principal: Principal, alarm_id: int
    ) -> Alarm:
        alarm = await session.scalar(select(Alarm).where(Alarm.id == alarm_id).with_for_update())
        if alarm is None or not in_jurisdiction(principal, alarm.jurisdiction):
            raise hidden("alarm")
        access.check_open_incident(principal, alarm.jurisdiction)
        if alarm.state in _UNATTACHABLE:
            raise Error(
                ErrorCode.ILLEGAL_TRANSITION,
                f"alarm {alarm_id} is {alarm.state}: it cannot become part of an incident",
            )
        linked = await session.scalar(
            select(IncidentAlarm.incident_id).where(IncidentAlarm.alarm_id == alarm_id)
        )
        if linked is not None:
            raise ValidationError(f"alarm {alarm_id} is already part of incident {linked}")
        return alarm

    async def attach_alarm(
        self, principal: Principal, incident_id: int, alarm_id: int, expected_version: int
    ) -> IncidentView:
        """Attach an alarm to an open incident (并案): the same event reported again."""

        async def work(session: AsyncSession, events: list[Event]) -> IncidentView:
            incident = await self._load_incident(session, incident_id, lock=True)
            access.check_command(principal, await self._incident_view(session, incident))
            _check_open_incident(incident, expected_version)
            alarm = await self._attachable_alarm(session, principal, alarm_id)
            now = self._now()
            session.add(
                IncidentAlarm(
                    incident_id=incident.id, alarm_id=alarm.id, by=principal.username, at=now
                )
            )
            _touch(incident, principal, now)
            return await self._record_incident(
                session,
                events,
                incident,
                eventlog.EventKind.INCIDENT_ALARM_ATTACHED,
                principal.username,
                note=f"alarm #{alarm.id} attached",
                alarm_id=alarm.id,
            )

        return await self._write(work)

    async def report(
        self,
        principal: Principal,
        *,
        type_code: str,
        title: str,
        description: str,
        place: str,
        lat: float | None,
        lon: float | None,
        jurisdiction: str,
        grid_area: str | None,
        direct: bool,
        record: Callable[[AsyncSession, IncidentView, TaskView | None], Awaitable[None]],
    ) -> tuple[IncidentView, TaskView | None]:
        """Open an incident reported from the grid (网格上报) and, in the same transaction,
        send its task to the grid level ``grid_area`` (none: the command centre takes it).

        The caller (:mod:`backend.shifts.reports`) has placed the report and chosen the
        level from the catalogue; the reporter is ``reported_by`` and the task's sender,
        whatever level it lands at. ``record`` writes the caller's own rows inside the
        transaction. ``direct`` marks an item that reports straight to the district.
        """
        item = self._item(type_code)
        now = self._now()

        async def work(
            session: AsyncSession, events: list[Event]
        ) -> tuple[IncidentView, TaskView | None]:
            access.check_open_incident(principal, jurisdiction)
            incident = IncidentRecord(
                version=1,
                type_code=item.code,
                type_name=item.name.zh,
                level=item.default_level.value,
                state=IncidentState.OPEN.value,
                title=_text(title, "a title", limit=200, required=True),
                description=_text(description, "the description", limit=4000),
                place=_text(place, "the place", limit=200),
                lat=lat,
                lon=lon,
                jurisdiction=jurisdiction,
                commander="",
                reported_by=principal.username,
                opened_at=now,
                closed_at=None,
                feedback="",
                last_note="",
                created_by=principal.username,
                updated_at=now,
                updated_by=principal.username,
                direct_report=direct,
            )
            session.add(incident)
            await session.flush()
            task: TaskRecord | None = None
            if grid_area is not None:
                due = _deadlines(item.deadlines, None, now)
                task = TaskRecord(
                    incident_id=incident.id,
                    version=1,
                    state=TaskState.SENT.value,
                    assignee_kind=AssigneeKind.GRID_LEVEL.value,
                    assignee_ref=grid_area,
                    assignee_name=grid_area,
                    agency="",
                    jurisdiction=grid_area,
                    assignee_user="",
                    instructions=_text(description, "the description", limit=4000),
                    last_action=None,
                    last_note="",
                    accept_by=due[Deadline.ACCEPT],
                    arrive_by=due[Deadline.ARRIVE],
                    finish_by=due[Deadline.FINISH],
                    escalation_level=first_rung(AssigneeKind.GRID_LEVEL, grid_area).value,
                    returned_from=None,
                    created_at=now,
                    created_by=principal.username,
                    updated_at=now,
                    updated_by=principal.username,
                )
                session.add(task)
                await session.flush()
            opened = await self._record_incident(
                session,
                events,
                incident,
                eventlog.EventKind.INCIDENT_OPENED,
                principal.username,
                note="reported from the grid" + (" (direct to the district)" if direct else ""),
            )
            sent = None
            if task is not None:
                sent = await self._record_task(
                    session,
                    events,
                    task,
                    eventlog.EventKind.TASK_SENT,
                    principal.username,
                    note=task.instructions,
                    at=now,
                )
            await record(session, opened, sent)
            return opened, sent

        opened, sent = await self._write(work)
        if sent is not None:
            self._track(sent)
        logger.info(
            "incident %s reported by %s (%s) in %s, task to %s",
            opened.id,
            principal.username,
            opened.type_code,
            opened.jurisdiction,
            grid_area or "the command centre",
        )
        return opened, sent

    async def transition(
        self,
        principal: Principal,
        incident_id: int,
        action: IncidentAction,
        expected_version: int,
        note: str = "",
    ) -> IncidentView:
        """Move an incident along its life. Closing needs every task settled (none open)
        and the feedback to the reporter as ``note``."""
        note = _text(note, "the note", limit=4000)
        if action in INCIDENT_NOTE_REQUIRED and not note:
            what = "the feedback to the reporter" if action is IncidentAction.CLOSE else "a note"
            raise ValidationError(f"{action} needs {what}")

        async def work(session: AsyncSession, events: list[Event]) -> IncidentView:
            incident = await self._load_incident(session, incident_id, lock=True)
            access.check_command(principal, await self._incident_view(session, incident))
            target = _check_incident_transition(incident, action, expected_version)
            now = self._now()
            if action is IncidentAction.CLOSE:
                still_open = list(
                    await session.scalars(
                        select(TaskRecord)
                        .where(
                            TaskRecord.incident_id == incident.id,
                            TaskRecord.state.in_(_OPEN_TASK_STATES),
                        )
                        .order_by(TaskRecord.id)
                    )
                )
                if still_open:
                    listed = ", ".join(
                        f"#{task.id} {task.assignee_name or task.assignee_ref} ({task.state})"
                        for task in still_open
                    )
                    raise Error(
                        ErrorCode.ILLEGAL_TRANSITION,
                        f"incident {incident.id} still has open tasks: {listed}; "
                        "each must be done or cancelled before it closes",
                    )
                incident.closed_at = now
                incident.feedback = note
            incident.state = target.value
            if note:
                incident.last_note = note
            _touch(incident, principal, now)
            return await self._record_incident(
                session,
                events,
                incident,
                eventlog.EventKind.INCIDENT_CHANGED,
                principal.username,
                note=note or f"{action}",
            )

        view = await self._write(work)
        logger.info("incident %s: %s by %s → %s", view.id, action, principal.username, view.state)
        return view

    async def change(
        self,
        principal: Principal,
        incident_id: int,
        expected_version: int,
        *,
        level: IncidentLevel | None = None,
        commander: str | None = None,
        type_code: str | None = None,
        note: str = "",
    ) -> IncidentView:
        """Change an open incident's level (定级/升级), commander or type (定性), with an
        optional note. Tasks already sent keep their deadlines."""
        if level is None and commander is None and type_code is None:
            raise ValidationError("say what changes: the level, the commander or the type")
        item = self._item(type_code) if type_code is not None else None
        note = _text(note, "the note", limit=4000)

        async def work(session: AsyncSession, events: list[Event]) -> IncidentView:
            incident = await self._load_incident(session, incident_id, lock=True)
            access.check_command(principal, await self._incident_view(session, incident))
            _check_open_incident(incident, expected_version)
            changes: list[str] = []
            if level is not None and level.value != incident.level:
                changes.append(f"level {incident.level} → {level.value}")
                incident.level = level.value
            if commander is not None:
                name = _text(commander, "the commander", limit=64, required=True)
                if name != incident.commander:
                    changes.append(f"commander {incident.commander} → {name}")
                    incident.commander = name
            if item is not None and item.code != incident.type_code:
                changes.append(f"type {incident.type_code} → {item.code}")
                incident.type_code = item.code
                incident.type_name = item.name.zh
            if not changes:
                raise ValidationError(f"incident {incident.id} is like that already")
            summary = "; ".join(changes) + (f": {note}" if note else "")
            incident.last_note = summary
            _touch(incident, principal, self._now())
            return await self._record_incident(
                session,
                events,
                incident,
                eventlog.EventKind.INCIDENT_CHANGED,
                principal.username,
                note=summary,
            )

        return await self._write(work)

    # ------------------------------------------------------------------ tasks

    async def send_task(
        self,
        principal: Principal,
        incident_id: int,
        *,
        assignee_kind: AssigneeKind,
        assignee_ref: str,
        instructions: str = "",
        deadlines: Mapping[Deadline, int | None] | None = None,
    ) -> TaskView:
        """Send a task (派单) to an agency, a unit or a grid level.

        Its deadlines are the incident type's from the catalogue (minutes from now);
        ``deadlines`` overrides any of them (None: that deadline does not apply). The
        first task moves an open incident to responding.
        """
        instructions = _text(instructions, "the instructions", limit=4000)
        assignee_ref = assignee_ref.strip()

        async def work(session: AsyncSession, events: list[Event]) -> TaskView:
            incident = await self._load_incident(session, incident_id, lock=True)
            access.check_command(principal, await self._incident_view(session, incident))
            if IncidentState(incident.state) in INCIDENT_FINAL_STATES:
                raise Error(
                    ErrorCode.ILLEGAL_TRANSITION,
                    f"incident {incident.id} is closed: open a new one",
                )
            now = self._now()
            name, agency, area = await self._assignee(
                session, principal, incident, assignee_kind, assignee_ref
            )
            await self._refuse_duplicate(session, incident.id, assignee_kind, assignee_ref)
            due = _deadlines(self._type_deadlines(incident.type_code), deadlines, now)
            task = TaskRecord(
                incident_id=incident.id,
                version=1,
                state=TaskState.SENT.value,
                assignee_kind=assignee_kind.value,
                assignee_ref=assignee_ref,
                assignee_name=name,
                agency=agency,
                jurisdiction=area,
                assignee_user="",
                instructions=instructions,
                last_action=None,
                last_note="",
                accept_by=due[Deadline.ACCEPT],
                arrive_by=due[Deadline.ARRIVE],
                finish_by=due[Deadline.FINISH],
                escalation_level=first_rung(assignee_kind, assignee_ref, self._grid_level).value,
                returned_from=None,
                created_at=now,
                created_by=principal.username,
                updated_at=now,
                updated_by=principal.username,
            )
            session.add(task)
            view = await self._record_task(
                session,
                events,
                task,
                eventlog.EventKind.TASK_SENT,
                principal.username,
                note=instructions,
                at=now,
            )
            if incident.state == IncidentState.OPEN.value:
                incident.state = IncidentState.RESPONDING.value
                _touch(incident, principal, now)
                await self._record_incident(
                    session,
                    events,
                    incident,
                    eventlog.EventKind.INCIDENT_CHANGED,
                    principal.username,
                    note=f"{IncidentAction.RESPOND}: first task sent",
                )
            return view

        view = await self._write(work)
        self._track(view)
        logger.info(
            "incident %s: task %s sent to %s %s by %s",
            view.incident_id,
            view.id,
            view.assignee_kind,
            view.assignee_ref,
            principal.username,
        )
        return view

    async def _assignee(
        self,
        session: AsyncSession,
        principal: Principal,
        incident: IncidentRecord,
        kind: AssigneeKind,
        ref: str,
    ) -> tuple[str, str, str]:
        """``(name, agency, jurisdiction)`` of a task's assignee, checked."""
        if kind is AssigneeKind.AGENCY:
            if not _AGENCY_RE.fullmatch(ref):
                raise ValidationError(f"agency {ref!r} must be an agency code like 'fire'")
            # Only a registered, active agency has desks to work the task.
            agency = await session.get(Agency, ref)
            if agency is None or not agency.active:
                raise ValidationError(f"no active agency {ref!r} (agencies.list names them)")
            return agency.name_zh, ref, incident.jurisdiction
        if kind is AssigneeKind.UNIT:
            unit = await session.scalar(select(Unit).where(Unit.code == ref))
            if unit is None:
                raise ValidationError(f"no unit {ref!r}")
            access.check_assign(principal, kind, unit.jurisdiction)
            return unit.name, unit.agency, incident.jurisdiction
        if not _AREA_RE.fullmatch(ref):
            raise ValidationError(f"grid level {ref!r} must be a jurisdiction code")
        access.check_assign(principal, kind, ref)
        return ref, "", ref

    async def _refuse_duplicate(
        self, session: AsyncSession, incident_id: int, kind: AssigneeKind, ref: str
    ) -> None:
        existing = await session.scalar(
            select(TaskRecord.id).where(
                TaskRecord.incident_id == incident_id,
                TaskRecord.assignee_kind == kind.value,
                TaskRecord.assignee_ref == ref,
                TaskRecord.state.in_(_OPEN_TASK_STATES),
            )
        )
        if existing is not None:
            raise ValidationError(f"{ref} already has an open task (#{existing}) on this incident")

    async def act_on_task(
        self,
        principal: Principal,
        task_id: int,
        action: TaskAction,
        expected_version: int,
        note: str = "",
    ) -> TaskView:
        """Take one step of a task (:meth:`take_step`) and return the task after it."""
        task, _ = await self.take_step(principal, task_id, action, expected_version, note)
        return task

    async def take_step(
        self,
        principal: Principal,
        task_id: int,
        action: TaskAction,
        expected_version: int,
        note: str = "",
    ) -> tuple[TaskView, TaskView | None]:
        """Take one step of a task and return it, with the task a return sent one grid
        level up (None otherwise): one step (accept, set out, arrive, finish, decline, return,
        cancel), refusing illegal steps and stale versions.

        Declining and returning need the reason, finishing the result. A grid level's task
        returned as beyond its means goes up: a new task to the level above carries the
        reason (a returned agency task goes back to the sender, the command centre).
        """
        note = _text(note, "the note", limit=4000)
        if action in TASK_NOTE_REQUIRED and not note:
            what = "what was done" if action is TaskAction.FINISH else "the reason"
            raise ValidationError(f"{action} needs {what}")

        async def work(session: AsyncSession, events: list[Event]) -> list[TaskView]:
            task = await self._load_task(session, task_id, lock=True)
            access.check_work_task(principal, await self._task_view(session, task), action)
            target = _check_task_transition(task, action, expected_version)
            now = self._now()
            task.state = target.value
            task.last_action = action.value
            if note:
                task.last_note = note
            if action is TaskAction.ACCEPT:
                task.assignee_user = principal.username
            _stamp_step(task, action, now)
            task.version += 1
            task.updated_at = now
            task.updated_by = principal.username
            if action is not TaskAction.RETURN:
                view = await self._record_task(
                    session,
                    events,
                    task,
                    eventlog.EventKind.TASK_CHANGED,
                    principal.username,
                    note=note,
                    at=now,
                )
                return [view]
            return await self._return(session, events, principal, task, reason=note, now=now)

        views = await self._write(work)
        for view in views:
            self._track(view)
        logger.info("task %s: %s by %s → %s", task_id, action, principal.username, views[0].state)
        return views[0], views[1] if len(views) > 1 else None

    async def _return(
        self,
        session: AsyncSession,
        events: list[Event],
        principal: Principal,
        task: TaskRecord,
        *,
        reason: str,
        now: dt.datetime,
    ) -> list[TaskView]:
        """Record a return: up a rung with the reason; a grid task is resent one level up."""
        kind = AssigneeKind(task.assignee_kind)
        current = EscalationLevel(task.escalation_level)
        above = next_rung(kind, current)
        going_up = (
            kind is AssigneeKind.GRID_LEVEL and parent_area(task.jurisdiction) != task.jurisdiction
        )
        if kind is not AssigneeKind.GRID_LEVEL:
            above = EscalationLevel.COMMAND_CENTRE
        session.add(
            TaskEscalation(
                task_id=task.id,
                cause=EscalationCause.RETURNED.value,
                from_level=current.value,
                to_level=above.value,
                note=reason,
                by=principal.username,
                at=now,
            )
        )
        returned = await self._record_task(
            session,
            events,
            task,
            eventlog.EventKind.TASK_CHANGED,
            principal.username,
            note=reason,
            at=now,
        )
        if not going_up:
            return [returned]
        upper = parent_area(task.jurisdiction)
        incident = await self._load_incident(session, task.incident_id)
        # The level above gets the type's own deadlines from now: the lower level's
        # (perhaps already passed) would escalate the returned task again at once.
        due = _deadlines(self._type_deadlines(incident.type_code), None, now)
        resent = TaskRecord(
            incident_id=task.incident_id,
            version=1,
            state=TaskState.SENT.value,
            assignee_kind=kind.value,
            assignee_ref=upper,
            assignee_name=upper,
            agency="",
            jurisdiction=upper,
            assignee_user="",
            instructions=f"returned by {task.assignee_name or task.assignee_ref}: {reason}",
            last_action=None,
            last_note="",
            accept_by=due[Deadline.ACCEPT],
            arrive_by=due[Deadline.ARRIVE],
            finish_by=due[Deadline.FINISH],
            escalation_level=self._grid_level(upper).value,
            returned_from=task.id,
            created_at=now,
            created_by=principal.username,
            updated_at=now,
            updated_by=principal.username,
        )
        session.add(resent)
        sent = await self._record_task(
            session,
            events,
            resent,
            eventlog.EventKind.TASK_SENT,
            principal.username,
            note=resent.instructions,
            at=now,
        )
        return [returned, sent]

    async def set_deadlines(
        self,
        principal: Principal,
        task_id: int,
        expected_version: int,
        deadlines: Mapping[Deadline, dt.datetime | None],
        note: str = "",
    ) -> TaskView:
        """Change a task's deadlines (延期/调整): the kinds given are set (None clears one)."""
        note = _text(note, "the note", limit=4000)
        if not deadlines:
            raise ValidationError("say which deadlines change")

        async def work(session: AsyncSession, events: list[Event]) -> TaskView:
            task = await self._load_task(session, task_id, lock=True)
            access.check_see_task(principal, await self._task_view(session, task))
            incident = await self._load_incident(session, task.incident_id)
            access.check_command(principal, await self._incident_view(session, incident))
            if TaskState(task.state) in TASK_FINAL_STATES:
                raise Error(ErrorCode.ILLEGAL_TRANSITION, f"task {task.id} is {task.state}")
            _check_version("task", task.id, task.version, expected_version)
            for deadline, due in deadlines.items():
                setattr(task, _DEADLINE_COLUMNS[deadline], as_utc(due) if due else None)
            known = [
                (deadline, due)
                for deadline in Deadline
                if (due := getattr(task, _DEADLINE_COLUMNS[deadline])) is not None
            ]
            for (first, early), (second, late) in itertools.pairwise(known):
                if early > late:
                    raise ValidationError(f"the {first} deadline would fall after the {second}")
            now = self._now()
            task.version += 1
            task.updated_at = now
            task.updated_by = principal.username
            changed = ", ".join(
                f"{deadline} {due.isoformat() if due else 'none'}"
                for deadline, due in deadlines.items()
            )
            summary = f"deadlines: {changed}" + (f" ({note})" if note else "")
            return await self._record_task(
                session,
                events,
                task,
                eventlog.EventKind.TASK_CHANGED,
                principal.username,
                note=summary,
                at=now,
            )

        view = await self._write(work)
        self._track(view)
        return view

    async def supervise(
        self, principal: Principal, task_id: int, note: str, due_at: dt.datetime | None = None
    ) -> TaskView:
        """Flag a task for supervision (督办) with what is asked and by when."""
        note = _text(note, "what the supervision asks", limit=4000, required=True)

        async def work(session: AsyncSession, events: list[Event]) -> TaskView:
            task = await self._load_task(session, task_id, lock=True)
            access.check_supervise(principal, await self._task_view(session, task))
            if TaskState(task.state) in TASK_FINAL_STATES:
                raise Error(ErrorCode.ILLEGAL_TRANSITION, f"task {task.id} is {task.state}")
            now = self._now()
            session.add(
                TaskSupervision(
                    task_id=task.id,
                    by=principal.username,
                    note=note,
                    due_at=as_utc(due_at) if due_at is not None else None,
                    created_at=now,
                    answered_at=None,
                    answered_by="",
                    answer="",
                )
            )
            return await self._record_task(
                session,
                events,
                task,
                eventlog.EventKind.TASK_SUPERVISED,
                principal.username,
                note=note,
                at=now,
            )

        return await self._write(work)

    async def answer_supervision(
        self, principal: Principal, supervision_id: int, answer: str
    ) -> TaskView:
        """Answer a supervision flag: the flagged desk says what it has done."""
        answer = _text(answer, "the answer", limit=4000, required=True)

        async def work(session: AsyncSession, events: list[Event]) -> TaskView:
            flag = await session.scalar(
                select(TaskSupervision)
                .where(TaskSupervision.id == supervision_id)
                .with_for_update()
            )
            if flag is None:
                raise hidden("supervision")
            task = await self._load_task(session, flag.task_id, lock=True)
            view = await self._task_view(session, task)
            if not access.can_see_task(principal, view):
                raise hidden("supervision")
            access.check_answer_supervision(principal, view)
            if flag.answered_at is not None:
                raise ValidationError(
                    f"supervision {supervision_id} was answered by {flag.answered_by}"
                )
            now = self._now()
            flag.answered_at = now
            flag.answered_by = principal.username
            flag.answer = answer
            return await self._record_task(
                session,
                events,
                task,
                eventlog.EventKind.TASK_SUPERVISION_ANSWERED,
                principal.username,
                note=answer,
                at=now,
            )

        return await self._write(work)

    # ------------------------------------------------------------------ deadlines

    def _track(self, task: TaskView) -> None:
        """Keep the tracker in step with a committed task."""
        _track_in(self.tracker, task)
        if self._changed_while_reloading is not None:
            self._changed_while_reloading[task.id] = task

    async def reload_deadlines(self) -> int:
        """Rebuild the tracker from the database (at start, or to pick up tasks written by
        another server on the same database); return how many deadlines are pending.

        Read in pages of :data:`RELOAD_PAGE` tasks so that no step of the loop is long;
        tasks changed meanwhile by this service are applied again on top.
        """
        fresh = DeadlineTracker()
        self._changed_while_reloading = {}
        tasks = 0
        after = 0
        try:
            while True:
                async with self._sessions() as session:
                    rows = (
                        await session.execute(
                            select(
                                TaskRecord.id,
                                TaskRecord.state,
                                TaskRecord.accept_by,
                                TaskRecord.arrive_by,
                                TaskRecord.finish_by,
                            )
                            .where(TaskRecord.state.in_(_OPEN_TASK_STATES), TaskRecord.id > after)
                            .order_by(TaskRecord.id)
                            .limit(RELOAD_PAGE)
                        )
                    ).all()
                    if not rows:
                        break
                    escalated = await session.execute(
                        select(TaskEscalation.task_id, TaskEscalation.cause).where(
                            TaskEscalation.task_id.in_([row[0] for row in rows])
                        )
                    )
                    done = {(task_id, cause) for task_id, cause in escalated}
                tasks += len(rows)
                after = rows[-1][0]
                for task_id, state, accept_by, arrive_by, finish_by in rows:
                    due = {
                        Deadline.ACCEPT: accept_by,
                        Deadline.ARRIVE: arrive_by,
                        Deadline.FINISH: finish_by,
                    }
                    for deadline in PENDING_DEADLINES[TaskState(state)]:
                        when = due[deadline]
                        if (
                            when is not None
                            and (task_id, DEADLINE_CAUSE[deadline].value) not in done
                        ):
                            fresh.set(task_id, deadline, as_utc(when))
            for view in self._changed_while_reloading.values():
                _track_in(fresh, view)
            self.tracker = fresh
        finally:
            self._changed_while_reloading = None
        # Said once at start; the periodic rebuilds after that only for debugging.
        logger.log(
            logging.DEBUG if self._tracker_loaded else logging.INFO,
            "tracking %s task deadlines of %s open tasks",
            len(fresh),
            tasks,
        )
        self._tracker_loaded = True
        self._reloaded_at = time.monotonic()
        return len(fresh)

    async def _check_tick(self) -> None:
        await self.check_deadlines()

    async def check_deadlines(self) -> list[TaskView]:
        """Escalate every deadline overdue by the clock (at most
        :data:`ESCALATIONS_PER_CHECK`); return the tasks escalated. The tracker is rebuilt
        from the database first when it never was, or :data:`RESYNC_EVERY` seconds ago.

        A deadline whose escalation could not be written goes back to the tracker and is
        tried again on the next check; the failure propagates (the runner logs it once).
        """
        if not self._tracker_loaded or time.monotonic() - self._reloaded_at >= self._resync_every:
            await self.reload_deadlines()
        now = self._now()
        overdue = self.tracker.due(now, limit=ESCALATIONS_PER_CHECK)
        escalated: list[TaskView] = []
        handled = 0
        try:
            for item in overdue:
                view = await self.escalate(item, now)
                handled += 1
                if view is not None:
                    escalated.append(view)
        finally:
            for rest in overdue[handled:]:
                self.tracker.set(rest.task_id, rest.deadline, rest.due)
        return escalated

    async def escalate(self, overdue: Overdue, now: dt.datetime) -> TaskView | None:
        """Commit the escalation of one overdue deadline, unless it no longer applies (the
        task moved on, the deadline changed, or it escalated already)."""
        cause = DEADLINE_CAUSE[overdue.deadline]

        async def work(session: AsyncSession, events: list[Event]) -> TaskView | None:
            task = await session.scalar(
                select(TaskRecord).where(TaskRecord.id == overdue.task_id).with_for_update()
            )
            if task is None or overdue.deadline not in PENDING_DEADLINES[TaskState(task.state)]:
                return None
            due = getattr(task, _DEADLINE_COLUMNS[overdue.deadline])
            if due is None or as_utc(due) > now:
                return None
            kind = AssigneeKind(task.assignee_kind)
            current = EscalationLevel(task.escalation_level)
            above = next_rung(kind, current)
            note = (
                f"{overdue.deadline} deadline {as_utc(due).isoformat()} passed "
                f"({TaskState(task.state)}): {current} → {above}"
            )
            # Another server on the database may have escalated it a moment ago: the unique
            # (task, cause) row decides, without an error, which of the two records it.
            if not await _insert_escalation(
                session,
                task_id=task.id,
                cause=cause.value,
                from_level=current.value,
                to_level=above.value,
                note=note,
                by=SYSTEM_ACTOR,
                at=now,
            ):
                return None
            task.escalation_level = above.value
            return await self._record_task(
                session,
                events,
                task,
                eventlog.EventKind.TASK_ESCALATED,
                SYSTEM_ACTOR,
                note=note,
                at=now,
            )

        view = await self._write(work)
        if view is None:
            # It may have moved to a later due time: track what the database says now.
            await self._retrack(overdue.task_id)
            return None
        self._track(view)
        logger.info(
            "task %s escalated: %s deadline passed, now at %s",
            view.id,
            overdue.deadline,
            view.escalation_level,
        )
        return view

    async def _retrack(self, task_id: int) -> None:
        async with self._sessions() as session:
            task = await session.scalar(select(TaskRecord).where(TaskRecord.id == task_id))
            if task is None:
                return
            self._track(await self._task_view(session, task))

    # ------------------------------------------------------------------ queries

    async def get_incident(self, principal: Principal, incident_id: int) -> IncidentView:
        """Return one incident the principal may see."""
        async with self._sessions() as session:
            view = await self._incident_view(
                session, await self._load_incident(session, incident_id)
            )
        access.check_see_incident(principal, view)
        return view

    async def list_incidents(self, principal: Principal) -> list[IncidentView]:
        """Open incidents and those closed in the last day, as the principal may see them."""
        since = self._now() - RECENTLY_CLOSED
        async with self._sessions() as session:
            records = await session.scalars(
                select(IncidentRecord)
                .where(
                    (IncidentRecord.state != IncidentState.CLOSED.value)
                    | (IncidentRecord.closed_at >= since)
                )
                .order_by(IncidentRecord.id)
            )
            views = await self._incident_views(session, list(records))
        return [view for view in views if access.can_see_incident(principal, view)]

    async def tasks_of(self, principal: Principal, incident_id: int) -> list[TaskView]:
        """The tasks of an incident that the principal may see (an agency: its own)."""
        async with self._sessions() as session:
            incident = await self._incident_view(
                session, await self._load_incident(session, incident_id)
            )
            access.check_see_incident(principal, incident)
            records = await session.scalars(
                select(TaskRecord)
                .where(TaskRecord.incident_id == incident_id)
                .order_by(TaskRecord.id)
            )
            views = await self._task_views(session, list(records))
        return [view for view in views if access.can_see_task(principal, view)]

    async def get_task(self, principal: Principal, task_id: int) -> TaskView:
        """Return one task the principal may see."""
        async with self._sessions() as session:
            view = await self._task_view(session, await self._load_task(session, task_id))
        access.check_see_task(principal, view)
        return view

    async def inbox(self, principal: Principal) -> list[TaskView]:
        """The open tasks the principal may see, oldest first: an agency desk's or a grid
        level's task inbox."""
        async with self._sessions() as session:
            query = select(TaskRecord).where(TaskRecord.state.in_(_OPEN_TASK_STATES))
            if principal.agency is not None:
                query = query.where(TaskRecord.agency == principal.agency)
            records = await session.scalars(query.order_by(TaskRecord.id))
            views = await self._task_views(session, list(records))
        return [view for view in views if access.can_see_task(principal, view)]

    async def escalated_to(self, principal: Principal) -> list[TaskView]:
        """Open tasks escalated to the principal's desk: those that went up at least once
        and whose rung is the principal's (:func:`access.rungs_of`), oldest first."""
        rungs = [rung.value for rung in access.rungs_of(principal, self._grid_level)]
        if not rungs:
            return []
        async with self._sessions() as session:
            records = await session.scalars(
                select(TaskRecord)
                .where(
                    TaskRecord.state.in_(_OPEN_TASK_STATES),
                    TaskRecord.escalation_level.in_(rungs),
                    TaskRecord.id.in_(select(TaskEscalation.task_id)),
                )
                .order_by(TaskRecord.id)
            )
            views = await self._task_views(session, list(records))
        return [view for view in views if access.can_see_task(principal, view)]

    async def open_supervisions(self, principal: Principal) -> list[TaskView]:
        """Open tasks with a supervision flag not answered yet, as the principal may see
        them: the flagged desk sees them until it answers."""
        async with self._sessions() as session:
            records = await session.scalars(
                select(TaskRecord)
                .where(
                    TaskRecord.state.in_(_OPEN_TASK_STATES),
                    TaskRecord.id.in_(
                        select(TaskSupervision.task_id).where(TaskSupervision.answered_at.is_(None))
                    ),
                )
                .order_by(TaskRecord.id)
            )
            views = await self._task_views(session, list(records))
        return [view for view in views if access.can_see_task(principal, view)]

    async def timeline(self, principal: Principal, incident_id: int) -> list[Event]:
        """Every event of an incident and its tasks that the principal may see, by ``seq``:
        each filtered exactly as the live stream filters it (:func:`policy.can_see_event`)."""
        async with self._sessions() as session:
            incident = await self._incident_view(
                session, await self._load_incident(session, incident_id)
            )
            access.check_see_incident(principal, incident)
            events = await eventlog.events_of_incident(session, incident_id)
        return [event for event in events if policy.can_see_event(principal, event)]


# ---------------------------------------------------------------------- helpers


async def load_incident_view(
    session: AsyncSession, incident_id: int, *, lock: bool = False
) -> IncidentView | None:
    """The incident as consoles see it, read in the caller's transaction (``lock``: its row
    held until the end of it); None when there is no such incident. For other services
    that act on an incident (the chat) without changing it."""
    query = select(IncidentRecord).where(IncidentRecord.id == incident_id)
    record = await session.scalar(query.with_for_update() if lock else query)
    if record is None:
        return None
    return (await IncidentService._incident_views(session, [record]))[0]


async def listed_incident_views(session: AsyncSession, now: dt.datetime) -> list[IncidentView]:
    """The incidents a listing shows (open, and closed in the last day), read in the
    caller's session; the caller filters them by scope."""
    records = await session.scalars(
        select(IncidentRecord)
        .where(
            (IncidentRecord.state != IncidentState.CLOSED.value)
            | (IncidentRecord.closed_at >= now - RECENTLY_CLOSED)
        )
        .order_by(IncidentRecord.id)
    )
    return await IncidentService._incident_views(session, list(records))


def _touch(incident: IncidentRecord, principal: Principal, now: dt.datetime) -> None:
    incident.version += 1
    incident.updated_at = now
    incident.updated_by = principal.username


def _stamp_step(task: TaskRecord, action: TaskAction, now: dt.datetime) -> None:
    """Record when the task was accepted, reached the scene or was finished (the
    assessment's times; each step happens once)."""
    if action is TaskAction.ACCEPT:
        task.accepted_at = now
    elif action is TaskAction.ARRIVE:
        task.arrived_at = now
    elif action is TaskAction.FINISH:
        task.finished_at = now


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    """``ids`` in slices small enough for one ``IN (...)`` on every database."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _track_in(tracker: DeadlineTracker, task: TaskView) -> None:
    """Make ``tracker`` hold the task's pending deadlines that have not escalated yet."""
    due = {
        Deadline.ACCEPT: task.accept_by,
        Deadline.ARRIVE: task.arrive_by,
        Deadline.FINISH: task.finish_by,
    }
    escalated = {escalation.cause for escalation in task.escalations}
    tracker.track(
        task.id,
        {
            deadline: due[deadline]
            for deadline in PENDING_DEADLINES[task.state]
            if DEADLINE_CAUSE[deadline] not in escalated
        },
    )


async def _insert_escalation(session: AsyncSession, **row: object) -> bool:
    """Insert a ``task_escalations`` row unless its (task, cause) exists; return whether
    it was inserted."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = (
        insert(TaskEscalation)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["task_id", "cause"])
        .returning(TaskEscalation.id)
    )
    return (await session.execute(statement)).scalar() is not None


def _check_version(what: str, ident: int, version: int, expected: int) -> None:
    if expected != version:
        raise Error(
            ErrorCode.STALE_VERSION,
            f"{what} {ident} changed (now version {version}, you saw {expected}): "
            "reload it and decide again",
        )


def _check_open_incident(incident: IncidentRecord, expected_version: int) -> None:
    if IncidentState(incident.state) in INCIDENT_FINAL_STATES:
        raise Error(ErrorCode.ILLEGAL_TRANSITION, f"incident {incident.id} is closed")
    _check_version("incident", incident.id, incident.version, expected_version)


def _check_incident_transition(
    incident: IncidentRecord, action: IncidentAction, expected_version: int
) -> IncidentState:
    state = IncidentState(incident.state)
    target = _legal_target(
        "incident",
        incident.id,
        state,
        action,
        next_incident_state(state, action),
        allowed=allowed_incident_actions(state),
    )
    _check_version("incident", incident.id, incident.version, expected_version)
    return target


def _check_task_transition(
    task: TaskRecord, action: TaskAction, expected_version: int
) -> TaskState:
    state = TaskState(task.state)
    target = _legal_target(
        "task",
        task.id,
        state,
        action,
        next_task_state(state, action),
        allowed=allowed_task_actions(state),
    )
    _check_version("task", task.id, task.version, expected_version)
    return target


_State = TypeVar("_State", IncidentState, TaskState)


def _legal_target(
    what: str,
    ident: int,
    state: _State,
    action: str,
    target: _State | None,
    *,
    allowed: Iterable[str],
) -> _State:
    """The state table's target, or a refusal naming what is allowed instead."""
    if target is None:
        listed = ", ".join(allowed) or "nothing"
        raise Error(
            ErrorCode.ILLEGAL_TRANSITION,
            f"{what} {ident} is {state}: cannot {action} (allowed: {listed})",
        )
    return target


def _deadlines(
    defaults: Deadlines, overrides: Mapping[Deadline, int | None] | None, now: dt.datetime
) -> dict[Deadline, dt.datetime | None]:
    minutes = defaults.minutes() | dict(overrides or {})
    try:
        checked = msgspec.convert(
            {deadline.value: value for deadline, value in minutes.items()}, Deadlines
        )
    except msgspec.ValidationError as exc:
        raise ValidationError(f"deadlines: {exc}") from None
    return checked.due_times(now)
