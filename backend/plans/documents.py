"""Who may attach a document (PDF) to a plan and who may read one: the chat's attachment
store keeps the bytes (``attachment.upload`` with a ``plan_code``, ``attachment.get``);
this answers its :class:`~backend.chat.service.PlanDocumentAccess` questions.

Attaching: a role that may edit the registry, for a plan it may change
(:func:`backend.plans.store.can_edit_plan`). Reading: whoever sees the plan in the
registry, or sees an incident (open or recently closed) the plan applies to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import incidents as access
from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.authz.scope import hidden
from backend.errors import ForbiddenError
from backend.incidents.service import listed_incident_views
from backend.plans.store import can_edit_plan, can_see_plan, load_plan, load_plans, plans_for


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PlanDocuments:
    """The scope of plans' documents."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    async def check_upload(self, principal: Principal, plan_code: str) -> None:
        """Refuse unless the principal may attach a document to the plan (a plan outside
        its sight is refused like a missing one)."""
        authz.check(principal, authz.Permission.EDIT_REGISTRY)
        async with self._sessions() as session:
            plan = await load_plan(session, plan_code)
        if plan is None or not can_see_plan(principal, plan):
            raise hidden("plan")
        if not can_edit_plan(principal, plan):
            raise ForbiddenError(f"plan {plan_code} is not yours to change: no documents for it")

    async def may_read(self, principal: Principal, plan_code: str) -> bool:
        """Whether the principal sees the plan, or an incident it applies to."""
        async with self._sessions() as session:
            plan = await load_plan(session, plan_code)
            if plan is None:
                return False
            if can_see_plan(principal, plan):
                return True
            incidents = [
                incident
                for incident in await listed_incident_views(session, self._clock())
                if access.can_see_incident(principal, incident)
            ]
            plans = await load_plans(session) if incidents else []
        return any(
            plan_code in {applying.code for applying in plans_for(incident, plans)}
            for incident in incidents
        )
