"""The shift handover (交接班): a desk's report at the end of a shift, signed by the
outgoing officer and accepted by the incoming one.

``draft`` generates the report for the user's desk (its jurisdiction and agency: what
the user sees) — open alarms, open incidents, overdue tasks, escalated tasks, tasks with a
supervision flag not answered yet, each with its count and items — and stores it as a
JSON snapshot, so what was handed over stays as it was whatever changes later. Only the
author signs (once; the notes are final then); another user of the same desk accepts a
signed handover (once), the named incoming officer if there is one. Signing and
accepting are events (``handover.signed``, ``handover.accepted``) seen by the desk's
scope. A handover outside the user's scope is refused exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Final

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.alarms.service import AlarmService
from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.errors import Error, ForbiddenError, ValidationError
from backend.eventlog import log as eventlog
from backend.incidents.service import IncidentService
from backend.shifts.reports import RateLimitedError
from backend.shifts.roster import Roster
from backend.storage.models import Handover, User
from backend.storage.types import as_utc
from realtime.incident_states import PENDING_DEADLINES, IncidentState
from realtime.protocol import (
    MAX_HANDOVER_ITEMS,
    ErrorCode,
    Event,
    HandoverItem,
    HandoverReport,
    HandoverSection,
    HandoverState,
    HandoverView,
    TaskView,
)
from realtime.states import FINAL_STATES

logger = logging.getLogger(__name__)

DEFAULT_SHIFT: Final = dt.timedelta(hours=12)
"""The shift a handover covers when the roster has none for its author: since the desk's
last handover, at most this long."""

DRAFTS_PER_HOUR: Final = 20
"""Handovers one user may generate in any hour: each stores a report of up to a few
hundred kilobytes, so a broken client must not be able to fill the database."""

SECTIONS: Final = (
    "open_alarms",
    "open_incidents",
    "overdue_tasks",
    "escalated_tasks",
    "supervised_tasks",
)

Clock = Callable[[], dt.datetime]

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _section(items: Iterable[HandoverItem]) -> HandoverSection:
    kept = list(items)
    return HandoverSection(count=len(kept), items=kept[:MAX_HANDOVER_ITEMS])


def _task_item(task: TaskView, *, detail: str, due_at: dt.datetime | None = None) -> HandoverItem:
    return HandoverItem(
        kind="task",
        id=task.id,
        title=task.assignee_name or task.assignee_ref,
        state=str(task.state),
        level=str(task.escalation_level),
        jurisdiction=task.jurisdiction,
        detail=detail[:400],
        due_at=due_at,
        incident_id=task.incident_id,
    )


def overdue_since(task: TaskView, now: dt.datetime) -> dt.datetime | None:
    """The first deadline the task has not met and that has passed, if any."""
    due = {"accept": task.accept_by, "arrive": task.arrive_by, "finish": task.finish_by}
    for deadline in PENDING_DEADLINES[task.state]:
        when = due[deadline.value]
        if when is not None and when <= now:
            return when
    return None


class HandoverService:
    """Drafts, signs, accepts and reads handovers."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        *,
        alarms: AlarmService,
        incidents: IncidentService,
        roster: Roster,
        clock: Clock = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._write = writer.run
        self._alarms = alarms
        self._incidents = incidents
        self._roster = roster
        self._clock = clock
        self.drafts_per_hour = DRAFTS_PER_HOUR

    def _now(self) -> dt.datetime:
        return as_utc(self._clock())

    # ------------------------------------------------------------------ the report

    async def generate(self, principal: Principal, now: dt.datetime) -> HandoverReport:
        """What the principal's desk hands over now (nothing stored)."""
        snapshot = await self._alarms.snapshot(principal)
        alarms = [alarm for alarm in snapshot.alarms if alarm.state not in FINAL_STATES]
        incidents = [
            incident
            for incident in await self._incidents.list_incidents(principal)
            if incident.state is not IncidentState.CLOSED
        ]
        overdue: list[HandoverItem] = []
        for task in await self._incidents.inbox(principal):
            since = overdue_since(task, now)
            if since is not None:
                overdue.append(_task_item(task, detail=task.instructions, due_at=since))
        escalated = [
            _task_item(
                task,
                detail=task.escalations[-1].note if task.escalations else "",
                due_at=task.escalations[-1].at if task.escalations else None,
            )
            for task in await self._incidents.escalated_to(principal)
        ]
        supervised = []
        for task in await self._incidents.open_supervisions(principal):
            flag = next(flag for flag in task.supervisions if flag.answered_at is None)
            supervised.append(
                _task_item(task, detail=f"{flag.by}: {flag.note}", due_at=flag.due_at)
            )
        return HandoverReport(
            generated_at=now,
            open_alarms=_section(
                HandoverItem(
                    kind="alarm",
                    id=alarm.id,
                    title=alarm.title,
                    state=str(alarm.state),
                    level=str(alarm.level),
                    jurisdiction=alarm.jurisdiction,
                    detail=alarm.alarm_type,
                )
                for alarm in alarms
            ),
            open_incidents=_section(
                HandoverItem(
                    kind="incident",
                    id=incident.id,
                    title=incident.title,
                    state=str(incident.state),
                    level=str(incident.level),
                    jurisdiction=incident.jurisdiction,
                    detail=incident.type_name,
                    incident_id=incident.id,
                )
                for incident in incidents
            ),
            overdue_tasks=_section(overdue),
            escalated_tasks=_section(escalated),
            supervised_tasks=_section(supervised),
        )

    # ------------------------------------------------------------------ commands

    async def draft(
        self, principal: Principal, *, notes: str = "", incoming: str | None = None
    ) -> tuple[HandoverView, HandoverReport]:
        """Generate and store the handover of the principal's desk for the shift ending."""
        now = self._now()
        desk_agency = principal.agency or ""
        await self._check_draft_limit(principal, now)
        if incoming is not None:
            await self._check_incoming(principal, incoming)
        shift = await self._roster.shift_of(principal.username, now)
        if shift is not None:
            start = shift[0]
        else:
            start = max(now - DEFAULT_SHIFT, await self._last_handover(principal) or _EPOCH)
        report = await self.generate(principal, now)
        if incoming is None:
            incoming = await self._roster.next_on_duty(
                principal.jurisdiction, desk_agency, now, besides=principal.username
            )
        async with self._sessions() as session, session.begin():
            record = Handover(
                jurisdiction=principal.jurisdiction,
                agency=desk_agency,
                shift_start=start,
                shift_end=now,
                author=principal.username,
                incoming=incoming,
                state=HandoverState.DRAFT.value,
                snapshot=msgspec.json.encode(report).decode("utf-8"),
                notes=notes.strip(),
                created_at=now,
                signed_at=None,
                accepted_at=None,
                accepted_by="",
                remark="",
            )
            session.add(record)
            await session.flush()
            view = _view(record, report)
        logger.info("handover %s drafted by %s", view.id, principal.username)
        return view, report

    async def sign(
        self,
        principal: Principal,
        handover_id: int,
        *,
        notes: str | None = None,
        incoming: str | None = None,
    ) -> tuple[HandoverView, HandoverReport]:
        """The author signs the draft (once): its notes are final from then on."""
        if incoming is not None:
            await self._check_incoming(principal, incoming)

        async def work(
            session: AsyncSession, events: list[Event]
        ) -> tuple[HandoverView, HandoverReport]:
            record = await self._load(session, principal, handover_id)
            if record.author != principal.username:
                raise ForbiddenError(
                    f"only {record.author}, who drafted it, signs handover {record.id}"
                )
            if record.state != HandoverState.DRAFT.value:
                raise Error(
                    ErrorCode.ILLEGAL_TRANSITION,
                    f"handover {record.id} is already signed: draft a new one to change it",
                )
            now = self._now()
            if notes is not None:
                record.notes = notes.strip()
            if incoming is not None:
                record.incoming = incoming
            record.state = HandoverState.SIGNED.value
            record.signed_at = now
            return await _record(
                session,
                events,
                record,
                kind=eventlog.EventKind.HANDOVER_SIGNED,
                by=principal,
                at=now,
            )

        view, report = await self._write(work)
        logger.info("handover %s signed by %s", view.id, principal.username)
        return view, report

    async def accept(
        self, principal: Principal, handover_id: int, *, remark: str = ""
    ) -> tuple[HandoverView, HandoverReport]:
        """Another user of the desk (the named incoming officer, if any) accepts a signed
        handover (once), with an optional remark."""

        async def work(
            session: AsyncSession, events: list[Event]
        ) -> tuple[HandoverView, HandoverReport]:
            record = await self._load(session, principal, handover_id)
            if record.author == principal.username:
                raise ForbiddenError(
                    "you cannot accept your own handover: the incoming officer does"
                )
            if (principal.jurisdiction, principal.agency or "") != (
                record.jurisdiction,
                record.agency,
            ):
                raise ForbiddenError(f"only an officer of the desk accepts handover {record.id}")
            if record.state == HandoverState.DRAFT.value:
                raise Error(
                    ErrorCode.ILLEGAL_TRANSITION,
                    f"handover {record.id} is not signed yet: the outgoing officer signs first",
                )
            if record.state == HandoverState.ACCEPTED.value:
                raise Error(
                    ErrorCode.ILLEGAL_TRANSITION,
                    f"handover {record.id} was already accepted by {record.accepted_by}",
                )
            if record.incoming and record.incoming != principal.username:
                raise ForbiddenError(
                    f"handover {record.id} is handed to {record.incoming}: they accept it"
                )
            now = self._now()
            record.state = HandoverState.ACCEPTED.value
            record.accepted_at = now
            record.accepted_by = principal.username
            record.remark = remark.strip()
            return await _record(
                session,
                events,
                record,
                kind=eventlog.EventKind.HANDOVER_ACCEPTED,
                by=principal,
                at=now,
            )

        view, report = await self._write(work)
        logger.info("handover %s accepted by %s", view.id, principal.username)
        return view, report

    # ------------------------------------------------------------------ queries

    async def get(
        self, principal: Principal, handover_id: int
    ) -> tuple[HandoverView, HandoverReport]:
        """One handover with its report, as generated."""
        async with self._sessions() as session:
            record = await self._load(session, principal, handover_id, lock=False)
            report = _report(record)
            return _view(record, report), report

    async def list(
        self,
        principal: Principal,
        *,
        jurisdiction: str | None = None,
        agency: str | None = None,
        limit: int = 20,
        before_id: int | None = None,
    ) -> tuple[list[HandoverView], bool]:
        """A desk's handovers, newest first (the principal's own desk by default)."""
        area = principal.jurisdiction if jurisdiction is None else jurisdiction
        desk_agency = (principal.agency or "") if agency is None else agency
        if not authz.in_jurisdiction(principal, area) or principal.agency not in (
            None,
            desk_agency,
        ):
            raise authz.hidden("desk")
        async with self._sessions() as session:
            query = select(Handover).where(
                Handover.jurisdiction == area, Handover.agency == desk_agency
            )
            if before_id is not None:
                query = query.where(Handover.id < before_id)
            rows = list(await session.scalars(query.order_by(Handover.id.desc()).limit(limit + 1)))
        return [_view(row, _report(row)) for row in rows[:limit]], len(rows) > limit

    # ------------------------------------------------------------------ helpers

    async def _load(
        self, session: AsyncSession, principal: Principal, handover_id: int, *, lock: bool = True
    ) -> Handover:
        query = select(Handover).where(Handover.id == handover_id)
        record = await session.scalar(query.with_for_update() if lock else query)
        if record is None or not authz.can_see_handover(
            principal, record.jurisdiction, record.agency
        ):
            raise authz.hidden("handover")
        return record

    async def _last_handover(self, principal: Principal) -> dt.datetime | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(Handover.created_at)
                .where(
                    Handover.jurisdiction == principal.jurisdiction,
                    Handover.agency == (principal.agency or ""),
                )
                .order_by(Handover.id.desc())
                .limit(1)
            )

    async def _check_draft_limit(self, principal: Principal, now: dt.datetime) -> None:
        async with self._sessions() as session:
            made = await session.scalar(
                select(func.count(Handover.id)).where(
                    Handover.author == principal.username,
                    Handover.created_at > now - dt.timedelta(hours=1),
                )
            )
        if (made or 0) >= self.drafts_per_hour:
            raise RateLimitedError(
                f"you generated {made} handovers in the last hour (at most "
                f"{self.drafts_per_hour}): sign or view one of them"
            )

    async def _check_incoming(self, principal: Principal, incoming: str) -> None:
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.username == incoming))
        if user is None or (user.jurisdiction or "", user.agency or "") != (
            principal.jurisdiction,
            principal.agency or "",
        ):
            raise ValidationError(f"{incoming!r} is not an officer of your desk")
        if incoming == principal.username:
            raise ValidationError("the incoming officer is someone else")


def _report(record: Handover) -> HandoverReport:
    return msgspec.json.decode(record.snapshot, type=HandoverReport)


def _view(record: Handover, report: HandoverReport) -> HandoverView:
    return HandoverView(
        id=record.id,
        jurisdiction=record.jurisdiction,
        agency=record.agency,
        shift_start=record.shift_start,
        shift_end=record.shift_end,
        author=record.author,
        incoming=record.incoming,
        state=HandoverState(record.state),
        notes=record.notes,
        created_at=record.created_at,
        signed_at=record.signed_at,
        accepted_at=record.accepted_at,
        accepted_by=record.accepted_by,
        remark=record.remark,
        counts={name: getattr(report, name).count for name in SECTIONS},
    )


async def _record(
    session: AsyncSession,
    events: list[Event],
    record: Handover,
    *,
    kind: eventlog.EventKind,
    by: Principal,
    at: dt.datetime,
) -> tuple[HandoverView, HandoverReport]:
    await session.flush()
    report = _report(record)
    view = _view(record, report)
    note = record.notes if kind is eventlog.EventKind.HANDOVER_SIGNED else record.remark
    events.append(
        await eventlog.append(
            session, kind=kind, actor=by.username, handover=view, note=note, at=at
        )
    )
    return view, report
