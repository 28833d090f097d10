"""Which emergency plans apply to an incident: the one rule the checklist, the
recommendation and the console share.

A plan applies to an incident when it names the incident's catalogue item among its
``type_codes`` and either names no levels (every level) or names the incident's level.
When several apply, the most specific comes first: a plan naming the level before one for
every level, then the graver response level (I before IV), then the code (stable).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from realtime.protocol import PlanDetails

_LEVEL_ORDER = {"I": 1, "II": 2, "III": 3, "IV": 4}


@dataclass(frozen=True, slots=True)
class PlanCandidate:
    """A plan as the matcher needs it: its code and details (retired plans are left out
    by the caller)."""

    code: str
    details: PlanDetails


def applicable_plans(
    type_code: str, level: str, plans: Iterable[PlanCandidate]
) -> list[PlanCandidate]:
    """Return the plans that apply to an incident of ``type_code`` at ``level`` ("I"–"IV",
    or "" when not yet graded: then only plans for every level), most specific first."""
    chosen = [
        plan
        for plan in plans
        if type_code in plan.details.type_codes
        and (not plan.details.levels or level in plan.details.levels)
    ]
    chosen.sort(
        key=lambda plan: (
            0 if plan.details.levels else 1,
            _LEVEL_ORDER.get(plan.details.response_level, 5),
            plan.code,
        )
    )
    return chosen
