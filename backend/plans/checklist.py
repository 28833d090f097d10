"""The checklist of an incident: the steps of the plans that apply to it, when each is
due, and who ticked which (``incident.checklist``, ``incident.tick``).

Which plans apply is worked out on every read from the incident's type and level as they
are now (:func:`backend.plans.store.plans_for`), so the checklist follows a change of
level or type; ticks are kept per incident, plan and step, so going back to a plan finds
its ticks again. A step is due ``within_min`` minutes after the incident opened (shown,
never escalated).

Who may tick: a step whose ``role`` names an agency's code is that agency's (its desk
ticks it); the command centre of the incident's area ticks every step (also an agency's,
on its behalf). A closed incident takes no more ticks. Each tick that changes a step is
one ``incident.checklist_ticked`` event carrying the incident and the plan's checklist
after it, fanned out like every incident event (to whoever sees the incident).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import incidents as access
from backend.authz.principal import Principal
from backend.authz.scope import hidden, in_jurisdiction
from backend.errors import ForbiddenError, ValidationError
from backend.eventlog import log as eventlog
from backend.incidents.service import load_incident_view
from backend.plans.store import StoredPlan, load_plans, plans_for
from backend.runtime.clock import utc_now
from backend.storage.models import ChecklistTick
from realtime.event_kinds import EventKind
from realtime.incident_states import IncidentState
from realtime.protocol import (
    ChecklistResult,
    ChecklistStepView,
    ChecklistView,
    Event,
    IncidentView,
    PlanStep,
    TickStep,
)

logger = logging.getLogger(__name__)

Ticks = Mapping[tuple[str, str], ChecklistTick]
"""The latest tick of each (plan code, step id) of one incident."""


def _utc_now() -> dt.datetime:
    return utc_now()


def checklist_view(incident: IncidentView, plan: StoredPlan, ticks: Ticks) -> ChecklistView:
    """One plan as it stands in the incident."""
    steps = []
    for step in plan.details.steps:
        tick = ticks.get((plan.code, step.id))
        done = tick is not None and tick.done
        steps.append(
            ChecklistStepView(
                id=step.id,
                text=step.text,
                role=step.role,
                within_min=step.within_min,
                due_at=(
                    incident.opened_at + dt.timedelta(minutes=step.within_min)
                    if step.within_min is not None
                    else None
                ),
                done=done,
                done_by=tick.by if tick is not None and done else "",
                done_at=tick.at if tick is not None and done else None,
                note=tick.note if tick is not None and done else "",
            )
        )
    details = plan.details
    return ChecklistView(
        plan_code=plan.code,
        plan_name=plan.name,
        response_level=details.response_level,
        roles=list(details.roles),
        documents=list(details.documents),
        steps=steps,
    )


def check_may_tick(principal: Principal, incident: IncidentView, step: PlanStep) -> None:
    """Refuse unless the principal may tick the step: its agency's desk (the step's role
    names the agency), or the command centre of the incident's area."""
    if principal.agency is not None:
        if step.role != principal.agency:
            raise ForbiddenError(
                f"step {step.id} is for {step.role or 'the command centre'}, not "
                f"{principal.agency}: a desk ticks only its agency's steps"
            )
        return
    if not access.commands(principal) or not in_jurisdiction(principal, incident.jurisdiction):
        raise ForbiddenError(
            f"only the command centre of incident {incident.id}'s area ticks its plan steps"
        )


async def _ticks(session: AsyncSession, incident_id: int) -> dict[tuple[str, str], ChecklistTick]:
    rows = await session.scalars(
        select(ChecklistTick).where(ChecklistTick.incident_id == incident_id)
    )
    return {(row.plan_code, row.step_id): row for row in rows}


class ChecklistService:
    """The plan checklists of incidents and their ticks."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._write = writer.run
        self._clock = clock

    @staticmethod
    async def _visible(
        session: AsyncSession, principal: Principal, incident_id: int, *, lock: bool = False
    ) -> IncidentView:
        incident = await load_incident_view(session, incident_id, lock=lock)
        if incident is None or not access.can_see_incident(principal, incident):
            raise hidden("incident")
        return incident

    @staticmethod
    async def _views(session: AsyncSession, incident: IncidentView) -> list[ChecklistView]:
        plans = plans_for(incident, await load_plans(session))
        ticks = await _ticks(session, incident.id)
        return [checklist_view(incident, plan, ticks) for plan in plans]

    async def checklist(self, principal: Principal, incident_id: int) -> ChecklistResult:
        """The checklists of the plans that apply to the incident now (empty: none)."""
        async with self._sessions() as session:
            incident = await self._visible(session, principal, incident_id)
            views = await self._views(session, incident)
        return ChecklistResult(incident_id=incident_id, checklists=views)

    async def tick(self, principal: Principal, command: TickStep) -> ChecklistResult:
        """Tick or untick one step; return the incident's checklists after it. Ticking a
        step that is already so changes nothing (the first tick's who and when stay)."""

        async def work(session: AsyncSession, events: list[Event]) -> ChecklistResult:
            incident = await self._visible(session, principal, command.incident_id, lock=True)
            if incident.state is IncidentState.CLOSED:
                raise ValidationError(
                    f"incident {incident.id} is closed: its checklist takes no more ticks"
                )
            plans = plans_for(incident, await load_plans(session))
            plan = next((p for p in plans if p.code == command.plan_code), None)
            if plan is None:
                raise ValidationError(
                    f"no plan {command.plan_code!r} applies to incident {incident.id} "
                    f"({incident.type_code}, level {incident.level})"
                )
            step = next((s for s in plan.details.steps if s.id == command.step_id), None)
            if step is None:
                raise ValidationError(f"plan {plan.code} has no step {command.step_id!r}")
            check_may_tick(principal, incident, step)
            key = (incident.id, plan.code, step.id)
            row = await session.get(ChecklistTick, key, with_for_update=True)
            if row is not None and row.done == command.done:
                return ChecklistResult(
                    incident_id=incident.id, checklists=await self._views(session, incident)
                )
            if row is None:
                row = ChecklistTick(incident_id=incident.id, plan_code=plan.code, step_id=step.id)
                session.add(row)
            row.done = command.done
            row.by = principal.username
            row.at = self._clock()
            row.note = command.note.strip()
            await session.flush()
            views = await self._views(session, incident)
            changed = next(view for view in views if view.plan_code == plan.code)
            events.append(
                await eventlog.append(
                    session,
                    kind=EventKind.CHECKLIST_TICKED,
                    actor=principal.username,
                    incident=incident,
                    checklist=changed,
                    note=row.note,
                    at=row.at,
                    fields=(step.id,),
                )
            )
            return ChecklistResult(incident_id=incident.id, checklists=views)

        result = await self._write(work)
        logger.info(
            "step %s of plan %s %s on incident %s by %s",
            command.step_id,
            command.plan_code,
            "ticked" if command.done else "unticked",
            command.incident_id,
            principal.username,
        )
        return result
