from __future__ import annotations

from backend.plans.matching import PlanCandidate, applicable_plans
from realtime.protocol import PlanDetails


def _plan(code: str, types: list[str], levels: list[str], response: str) -> PlanCandidate:
    return PlanCandidate(
        code, PlanDetails(type_codes=types, levels=levels, response_level=response)
    )


PLANS = [
    _plan("P-ALL", ["hazchem_leak", "hazchem_fire"], [], "IV"),
    _plan("P-GRAVE", ["hazchem_leak"], ["I", "II"], "II"),
    _plan("P-MINE", ["mine_gas"], [], "III"),
]


def test_a_plan_for_the_level_comes_before_one_for_every_level() -> None:
    chosen = applicable_plans("hazchem_leak", "II", PLANS)
    assert [plan.code for plan in chosen] == ["P-GRAVE", "P-ALL"]


def test_a_level_the_plan_does_not_name_leaves_it_out() -> None:
    assert [plan.code for plan in applicable_plans("hazchem_leak", "IV", PLANS)] == ["P-ALL"]


def test_an_ungraded_incident_gets_only_plans_for_every_level() -> None:
    assert [plan.code for plan in applicable_plans("hazchem_leak", "", PLANS)] == ["P-ALL"]


def test_another_type_gets_none() -> None:
    assert applicable_plans("flood", "I", PLANS) == []
