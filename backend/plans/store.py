"""The plans as the registry stores them, read straight from ``registry_items`` (the
registry service writes them), and who may see and edit one.

The scope of a plan is :attr:`~backend.authz.policy.Scope.REGISTRY`: a plan serves its
jurisdiction and everything below it (a city's plan applies to its districts' incidents;
an unplaced plan, ``""``, everywhere); it is seen inside the user's jurisdiction and in
the areas above it; changing one (attaching a document) is for a role that may edit the
registry, inside its jurisdiction, a user of an agency only its agency's plans.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.authz.registry import can_edit_item, can_see_item
from backend.plans.matching import PlanCandidate, applicable_plans
from backend.storage.models import RegistryItem
from realtime.protocol import IncidentView, ItemKind, PlanDetails, RegistryDetails

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """A plan as stored: its registry fields and its details."""

    code: str
    name: str
    jurisdiction: str
    agency: str
    details: PlanDetails


def _decode(row: RegistryItem) -> StoredPlan | None:
    try:
        details = msgspec.convert(row.details, RegistryDetails)
    except msgspec.ValidationError as exc:
        # One damaged row must not take every incident's checklist with it.
        logger.warning("plan %s left out: its details do not decode: %s", row.code, exc)
        return None
    if not isinstance(details, PlanDetails):
        logger.warning("plan %s left out: its details are of kind %s", row.code, details)
        return None
    return StoredPlan(row.code, row.name, row.jurisdiction, row.agency, details)


async def load_plans(session: AsyncSession, *, include_retired: bool = False) -> list[StoredPlan]:
    """Every plan in force (retired ones only with ``include_retired``), by code."""
    query = select(RegistryItem).where(RegistryItem.kind == ItemKind.PLAN.value)
    if not include_retired:
        query = query.where(RegistryItem.retired.is_(False))
    rows = await session.scalars(query.order_by(RegistryItem.code))
    return [plan for row in rows if (plan := _decode(row)) is not None]


async def load_plan(session: AsyncSession, code: str) -> StoredPlan | None:
    """One plan by code (retired too), or None."""
    row = await session.scalar(
        select(RegistryItem).where(
            RegistryItem.kind == ItemKind.PLAN.value, RegistryItem.code == code
        )
    )
    return _decode(row) if row is not None else None


def plans_for(incident: IncidentView, plans: Sequence[StoredPlan]) -> list[StoredPlan]:
    """The plans that apply to the incident now, most specific first: among the plans
    serving its jurisdiction, those :func:`~backend.plans.matching.applicable_plans`
    chooses for its type and level."""
    serving = {
        plan.code: plan for plan in plans if incident.jurisdiction.startswith(plan.jurisdiction)
    }
    chosen = applicable_plans(
        incident.type_code,
        incident.level.value,
        [PlanCandidate(plan.code, plan.details) for plan in serving.values()],
    )
    return [serving[candidate.code] for candidate in chosen]


def can_see_plan(principal: Principal, plan: StoredPlan) -> bool:
    """Whether the principal sees the plan in the registry (the registry's scope rule)."""
    return can_see_item(principal, plan.jurisdiction, plan.agency)


def can_edit_plan(principal: Principal, plan: StoredPlan) -> bool:
    """Whether the principal may change the plan (attach a document to it)."""
    return authz.allows(principal, authz.Permission.EDIT_REGISTRY) and can_edit_item(
        principal, plan.jurisdiction, plan.agency
    )
