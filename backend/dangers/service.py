"""The hidden-danger service: ``danger.report`` / ``act`` / ``list`` / ``get`` /
``stats`` / ``export`` and ``inspection.record`` / ``list``, the photos' checks, and the
deadline check the leased checker (:mod:`backend.dangers.deadlines`) runs.

Every read and change applies :attr:`~backend.authz.policy.Scope.DANGER`
(:mod:`backend.authz.dangers`): an enterprise user acts for its own enterprise only,
whatever it sends; staff for the enterprises inside their area. Out of scope is refused
exactly like missing. Each change is one transaction with its event (the event log's
writer), so a danger and its history never disagree.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import dangers as scope
from backend.authz.policy import DANGER_ACTION_ROLES
from backend.authz.principal import Principal
from backend.authz.scope import hidden
from backend.dangers import export, lifecycle, store
from backend.dangers import stats as figures_of
from backend.errors import Error as Refusal
from backend.errors import ValidationError
from backend.eventlog import log as eventlog
from backend.runtime.clock import utc_now
from backend.security import FieldCipher
from backend.storage.danger_models import DangerStepRecord, HiddenDangerRecord, InspectionRecord
from backend.storage.models import AttachmentRecord
from realtime.protocol import (
    ActOnDanger,
    DangerAction,
    DangerFilter,
    DangerGrade,
    DangerGroup,
    DangerSource,
    DangerState,
    DangerStatsRow,
    ErrorCode,
    Event,
    HiddenDangerInput,
    HiddenDangerView,
    InspectionInput,
    InspectionView,
)

logger = logging.getLogger(__name__)


PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
"""What a hidden danger's photo may be (the bytes are sniffed by the attachment store)."""
MAX_PHOTOS = 20
"""Photos one hidden danger keeps at most."""
MAX_EXPORT_DANGERS = 20_000
"""Dangers one export lists at most (the statistics sheets count them all)."""
MAX_STATS_DANGERS = 200_000
"""Dangers one statistics request reads at most."""


class Error(Exception):
    """Base of this module's errors that are not refusals."""


class DangerService:
    """Hidden dangers and inspections on the database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        cipher: FieldCipher,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        area_name: Callable[[str], str] = lambda code: code,
    ) -> None:
        self._sessions = sessions
        self._write = writer.run
        self._cipher = cipher
        self._clock = clock
        self._area_name = area_name

    # ------------------------------------------------------------------ report

    async def report(self, principal: Principal, danger: HiddenDangerInput) -> HiddenDangerView:
        """Record a hidden danger found by the enterprise's own inspection (or by an
        officer); one ``danger.reported`` event."""

        async def work(session: AsyncSession, events: list[Event]) -> HiddenDangerView:
            enterprise = await self._enterprise_in_scope(session, principal, danger.enterprise)
            row = self._new_row(principal, danger, enterprise, DangerSource.SELF_INSPECTION)
            session.add(row)
            await session.flush()
            self._step(session, row, principal.username, "report", "")
            events.append(
                await self._event(
                    session, eventlog.EventKind.DANGER_REPORTED, principal.username, row
                )
            )
            return await self._view(session, row)

        view = await self._write(work)
        logger.info(
            "hidden danger %s of %s reported by %s", view.id, view.enterprise, principal.username
        )
        return view

    async def _enterprise_in_scope(
        self, session: AsyncSession, principal: Principal, code: str
    ) -> store.Enterprise:
        enterprise = await store.find_enterprise(session, code)
        if enterprise is None:
            raise hidden("enterprise")
        scope.check_danger_enterprise(principal, enterprise.code, enterprise.jurisdiction)
        return enterprise

    def _new_row(
        self,
        principal: Principal,
        danger: HiddenDangerInput,
        enterprise: store.Enterprise,
        source: DangerSource,
        inspection_id: int | None = None,
    ) -> HiddenDangerRecord:
        now = self._clock()
        if danger.deadline is not None:
            problem = lifecycle.deadline_problem(danger.deadline, now)
            if problem is not None:
                raise ValidationError(problem)
        sealed, masked = store.seal_responsible(
            self._cipher, danger.responsible_name, danger.responsible_phone
        )
        # A danger reported with its deadline and person is assigned at once.
        assigned = danger.deadline is not None and bool(danger.responsible_name.strip())
        return HiddenDangerRecord(
            version=1,
            enterprise=enterprise.code,
            enterprise_name=enterprise.name,
            industry=enterprise.industry,
            jurisdiction=enterprise.jurisdiction,
            source=source.value,
            category=danger.category.value,
            grade=danger.grade.value,
            state=(DangerState.ASSIGNED if assigned else DangerState.REPORTED).value,
            place=danger.place.strip(),
            description=danger.description.strip(),
            measures=danger.measures.strip(),
            deadline=danger.deadline,
            responsible_enc=sealed,
            responsible_phone_masked=masked,
            found_at=danger.found_at or now,
            reported_by=principal.username,
            reported_at=now,
            overdue=False,
            escalated_to="",
            inspection_id=inspection_id,
            lat=danger.lat,
            lon=danger.lon,
            updated_at=now,
        )

    def _step(
        self, session: AsyncSession, row: HiddenDangerRecord, actor: str, action: str, note: str
    ) -> None:
        session.add(
            DangerStepRecord(
                danger_id=row.id,
                at=row.updated_at,
                actor=actor,
                state=row.state,
                action=action,
                note=note,
            )
        )

    async def _event(
        self,
        session: AsyncSession,
        kind: eventlog.EventKind,
        actor: str,
        row: HiddenDangerRecord,
        note: str = "",
    ) -> Event:
        await session.flush()
        (logged,) = await store.views(session, self._cipher, [row], for_log=True)
        draft = eventlog.Draft(kind, actor, note=note, danger=logged)
        return (await eventlog.append_many(session, (draft,)))[0]

    async def _view(self, session: AsyncSession, row: HiddenDangerRecord) -> HiddenDangerView:
        await session.flush()
        (view,) = await store.views(session, self._cipher, [row])
        return view

    # ------------------------------------------------------------------ life cycle

    async def act(self, principal: Principal, command: ActOnDanger) -> HiddenDangerView:
        """Move a hidden danger along its life cycle, against the version read."""
        action = command.action
        missing = lifecycle.missing_fields(
            action,
            note=command.note,
            deadline=command.deadline,
            responsible_name=command.responsible_name,
        )

        async def work(session: AsyncSession, events: list[Event]) -> HiddenDangerView:
            row = await self._visible_row(session, principal, command.danger_id, lock=True)
            if principal.role not in DANGER_ACTION_ROLES[action]:
                raise scope.forbidden_action(principal.role, action)
            if missing:
                raise ValidationError(f"{action} needs {', '.join(missing)}")
            problem = lifecycle.action_deadline_problem(action, command.deadline, self._clock())
            if problem is not None:
                raise ValidationError(problem)
            if row.version != command.version:
                raise Refusal(
                    ErrorCode.STALE_VERSION,
                    f"hidden danger {row.id} is at version {row.version}, not {command.version}: "
                    "reload it",
                )
            try:
                target = lifecycle.next_state(action, DangerState(row.state))
            except lifecycle.Error as exc:
                raise Refusal(ErrorCode.ILLEGAL_TRANSITION, str(exc)) from exc
            self._apply(row, command, target)
            self._step(session, row, principal.username, action.value, command.note)
            events.append(
                await self._event(
                    session,
                    eventlog.EventKind.DANGER_CHANGED,
                    principal.username,
                    row,
                    command.note,
                )
            )
            return await self._view(session, row)

        view = await self._write(work)
        logger.info("hidden danger %s: %s by %s", view.id, action, principal.username)
        return view

    def _apply(self, row: HiddenDangerRecord, command: ActOnDanger, target: DangerState) -> None:
        now = self._clock()
        if command.deadline is not None:
            row.deadline = command.deadline
        if command.measures.strip():
            row.measures = command.measures.strip()
        if command.responsible_name.strip() or command.responsible_phone.strip():
            row.responsible_enc, row.responsible_phone_masked = store.seal_responsible(
                self._cipher, command.responsible_name, command.responsible_phone
            )
        if target is DangerState.RECTIFIED:
            row.rectified_at = now
        elif target is DangerState.RECTIFYING:
            row.rectified_at = None  # rejected: not rectified after all
        elif target is DangerState.VERIFIED:
            row.verified_at = now
        row.state = target.value
        row.version += 1
        row.updated_at = now

    async def _visible_row(
        self, session: AsyncSession, principal: Principal, danger_id: int, *, lock: bool = False
    ) -> HiddenDangerRecord:
        row = await session.get(HiddenDangerRecord, danger_id, with_for_update=lock)
        if row is None or not scope.can_see_danger(principal, row.enterprise, row.jurisdiction):
            raise hidden("hidden danger")
        return row

    # ------------------------------------------------------------------ reads

    async def get(self, principal: Principal, danger_id: int) -> HiddenDangerView:
        """One hidden danger with its history and photos."""
        async with self._sessions() as session:
            row = await self._visible_row(session, principal, danger_id)
            return await self._view(session, row)

    async def list_dangers(
        self, principal: Principal, spec: DangerFilter, offset: int = 0, limit: int = 100
    ) -> tuple[list[HiddenDangerView], int]:
        """A page of the dangers in scope the filter selects (newest first), and how many
        match in all."""
        query = store.filtered(select(HiddenDangerRecord).where(store.in_scope(principal)), spec)
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows: list[HiddenDangerRecord] = list(
                await session.scalars(
                    query.order_by(HiddenDangerRecord.id.desc()).offset(offset).limit(limit)
                )
            )
            return await store.views(session, self._cipher, rows), int(total or 0)

    async def stats(
        self,
        principal: Principal,
        group: DangerGroup,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[DangerStatsRow]:
        """The figures per group of the dangers in scope reported in [since, until)."""
        facts = await self._facts(
            principal, DangerFilter(reported_since=since, reported_until=until)
        )
        return figures_of.figures(group, facts, self._clock(), self._area_name)

    async def _facts(self, principal: Principal, spec: DangerFilter) -> list[figures_of.Fact]:
        row = HiddenDangerRecord
        query = store.filtered(
            select(
                row.enterprise,
                row.enterprise_name,
                row.industry,
                row.jurisdiction,
                row.grade,
                row.state,
                row.deadline,
                row.rectified_at,
                row.overdue,
            ).where(store.in_scope(principal)),
            spec,
        ).limit(MAX_STATS_DANGERS)
        async with self._sessions() as session:
            result = await session.execute(query)
            return [
                figures_of.Fact(e, n, i, j, DangerGrade(g), DangerState(s), d, r, o)
                for e, n, i, j, g, s, d, r, o in result
            ]

    async def export(self, principal: Principal, spec: DangerFilter) -> tuple[str, bytes]:
        """The workbook: the statistics of every grouping and the dangers listed."""
        facts = await self._facts(principal, spec)
        now = self._clock()
        figures = {g: figures_of.figures(g, facts, now, self._area_name) for g in DangerGroup}
        dangers, _total = await self.list_dangers(principal, spec, 0, MAX_EXPORT_DANGERS)
        content = export.workbook(figures, dangers)
        filename = f"隐患统计-{now.astimezone(export.LOCAL):%Y%m%d-%H%M}.xlsx"
        logger.info("%s exported %s hidden dangers", principal.username, len(dangers))
        return filename, content

    # ------------------------------------------------------------------ inspections

    async def record_inspection(
        self, principal: Principal, inspection: InspectionInput
    ) -> tuple[InspectionView, list[HiddenDangerView]]:
        """Record an inspection and its findings (each a hidden danger of source
        ``inspection``): one ``inspection.recorded`` event and one ``danger.reported``
        per finding, all in one transaction."""
        for finding in inspection.findings:
            if finding.enterprise != inspection.enterprise:
                raise ValidationError(
                    f"a finding names enterprise {finding.enterprise!r}, the inspection "
                    f"{inspection.enterprise!r}: one inspection covers one enterprise"
                )

        async def work(
            session: AsyncSession, events: list[Event]
        ) -> tuple[InspectionView, list[HiddenDangerView]]:
            enterprise = await self._enterprise_in_scope(session, principal, inspection.enterprise)
            record = InspectionRecord(
                enterprise=enterprise.code,
                enterprise_name=enterprise.name,
                jurisdiction=enterprise.jurisdiction,
                inspected_at=inspection.inspected_at,
                inspectors=[name.strip() for name in inspection.inspectors],
                summary=inspection.summary.strip(),
                recorded_by=principal.username,
                recorded_at=self._clock(),
            )
            session.add(record)
            await session.flush()
            rows = []
            for finding in inspection.findings:
                row = self._new_row(
                    principal, finding, enterprise, DangerSource.INSPECTION, record.id
                )
                session.add(row)
                await session.flush()
                self._step(session, row, principal.username, "report", "执法检查")
                rows.append(row)
            (view,) = await store.inspection_views(session, [record])
            drafts = [
                eventlog.Draft(
                    eventlog.EventKind.INSPECTION_RECORDED, principal.username, inspection=view
                )
            ]
            drafts += [
                eventlog.Draft(
                    eventlog.EventKind.DANGER_REPORTED, principal.username, danger=logged
                )
                for logged in await store.views(session, self._cipher, rows, for_log=True)
            ]
            events.extend(await eventlog.append_many(session, drafts))
            return view, await store.views(session, self._cipher, rows)

        view, found = await self._write(work)
        logger.info(
            "inspection %s of %s recorded by %s: %s hidden dangers",
            view.id,
            view.enterprise,
            principal.username,
            len(found),
        )
        return view, found

    async def list_inspections(
        self,
        principal: Principal,
        enterprise: str = "",
        since: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[InspectionView]:
        """Inspections in scope, newest first."""
        query = select(InspectionRecord).where(store.inspections_in_scope(principal))
        if enterprise:
            query = query.where(InspectionRecord.enterprise == enterprise)
        if since is not None:
            query = query.where(InspectionRecord.inspected_at >= since)
        query = query.order_by(InspectionRecord.inspected_at.desc(), InspectionRecord.id.desc())
        async with self._sessions() as session:
            rows = await session.scalars(query.limit(limit))
            return await store.inspection_views(session, rows)

    # ------------------------------------------------------------------ photos

    async def check_photo(self, principal: Principal, danger_id: int, content_type: str) -> None:
        """Refuse a photo upload unless the principal may act on the danger (an
        enterprise its own; staff of the command centre in their area), the danger is
        not closed, it has room, and the type is a picture."""
        if content_type not in PHOTO_TYPES:
            raise ValidationError(
                f"a hidden danger's photo is a JPEG, PNG or WebP picture, not {content_type!r}"
            )
        async with self._sessions() as session:
            row = await self._visible_row(session, principal, danger_id)
            photos = await session.scalar(
                select(func.count()).where(AttachmentRecord.danger_id == danger_id)
            )
        if principal.role not in DANGER_ACTION_ROLES[DangerAction.COMPLETE]:
            raise scope.forbidden_action(principal.role, "add a photo to")
        if row.state == DangerState.VERIFIED.value:
            raise ValidationError(f"hidden danger {danger_id} is verified (closed): no more photos")
        if int(photos or 0) >= MAX_PHOTOS:
            raise ValidationError(f"hidden danger {danger_id} has {MAX_PHOTOS} photos already")

    async def may_see_photo(self, principal: Principal, danger_id: int) -> bool:
        """Whether the principal sees the danger (and so its photos)."""
        async with self._sessions() as session:
            row = await session.get(HiddenDangerRecord, danger_id)
        return row is not None and scope.can_see_danger(principal, row.enterprise, row.jurisdiction)

    # ------------------------------------------------------------------ deadlines

    async def check_deadlines(self, now: dt.datetime | None = None) -> int:
        """Mark open dangers past their deadline overdue (``danger.overdue``) and move
        overdue ones up a rung when due (``danger.escalated``); return how many changed.

        Each change re-reads its row under lock in its own transaction and acts only if
        it is still due, so two checkers (a lease changing hands) never act twice.
        """
        now = now or self._clock()
        row = HiddenDangerRecord
        async with self._sessions() as session:
            late = list(
                await session.scalars(
                    select(row.id)
                    .where(
                        row.state.in_([s.value for s in lifecycle.DEADLINE_STATES]),
                        row.deadline.is_not(None),
                        row.deadline <= now,
                    )
                    .order_by(row.id)
                )
            )
            rising = list(
                await session.scalars(
                    select(row.id)
                    .where(
                        row.state.in_([s.value for s in lifecycle.LATE_STATES]),
                        row.escalated_to != lifecycle.ABOVE,
                    )
                    .order_by(row.id)
                )
            )
        changed = 0
        for danger_id in late:
            changed += await self._write(
                functools.partial(self._mark_overdue, danger_id=danger_id, now=now)
            )
        for danger_id in rising:
            changed += await self._write(
                functools.partial(self._escalate, danger_id=danger_id, now=now)
            )
        return changed

    async def _mark_overdue(
        self, session: AsyncSession, events: list[Event], danger_id: int, now: dt.datetime
    ) -> int:
        row = await session.get(HiddenDangerRecord, danger_id)
        if (
            row is None
            or DangerState(row.state) not in lifecycle.DEADLINE_STATES
            or row.deadline is None
            or row.deadline > now
        ):
            return 0  # changed meanwhile (acted on, or another checker was first)
        changes = {"state": DangerState.OVERDUE.value, "overdue": True, "overdue_at": now}
        if not await self._claim(session, row, {**changes, "escalated_to": ""}, now):
            return 0
        self._step(session, row, "system", "overdue", "")
        events.append(await self._event(session, eventlog.EventKind.DANGER_OVERDUE, "system", row))
        logger.info("hidden danger %s of %s is overdue", row.id, row.enterprise)
        return 1

    async def _escalate(
        self, session: AsyncSession, events: list[Event], danger_id: int, now: dt.datetime
    ) -> int:
        row = await session.get(HiddenDangerRecord, danger_id)
        if row is None or DangerState(row.state) not in lifecycle.LATE_STATES:
            return 0
        rung = lifecycle.due_rung(
            DangerGrade(row.grade),
            row.overdue_at or row.updated_at,
            row.escalated_to,
            now,
        )
        if rung is None or not await self._claim(
            session, row, {"escalated_to": rung, "escalated_at": now}, now
        ):
            return 0
        self._step(session, row, "system", "escalate", rung)
        events.append(
            await self._event(session, eventlog.EventKind.DANGER_ESCALATED, "system", row, rung)
        )
        logger.info("hidden danger %s of %s escalated to %s", row.id, row.enterprise, rung)
        return 1

    @staticmethod
    async def _claim(
        session: AsyncSession,
        row: HiddenDangerRecord,
        changes: dict[str, object],
        now: dt.datetime,
    ) -> bool:
        """Apply the checker's change only if the row is still at the version read (one
        conditional UPDATE: of two checkers at the same moment, or a checker and a user,
        exactly one wins, on SQLite and PostgreSQL alike); refresh ``row``."""
        table = HiddenDangerRecord
        result = await session.execute(
            update(table)
            .where(table.id == row.id, table.version == row.version)
            .values(**changes, version=row.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        await session.refresh(row)
        return True
