"""The ranking rules, with distances and ETAs worked out by hand.

Points lie on the meridian 121° E north of the place (31° N): 0.01° of latitude is
2π × 6371.0088 km / 360 × 0.01 = 1.11195 km, whatever the longitude.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from backend.plans.matching import PlanCandidate
from backend.recommend.ranking import (
    SHORTFALL_PENALTY_MIN,
    Candidate,
    Fix,
    Needs,
    Settings,
    needs_of,
    rank,
)
from backend.recommend.travel import StraightLine
from realtime.protocol import PlanDetails, RankedResource, ResourceNeed, TravelBasis

PLACE = (31.0, 121.0)
KM_PER_CENTIDEGREE = 2 * math.pi * 6371.0088 / 360 * 0.01
NOW = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)
HAZMAT = Needs(plan_code="p", capabilities=("hazmat", "rescue"), quantities={"hazmat": 1.0})


def north(centidegrees: float) -> tuple[float, float]:
    return PLACE[0] + centidegrees * 0.01, PLACE[1]


def team(code: str, at: float, **fields: object) -> Candidate:
    lat, lon = north(at)
    values: dict[str, object] = {
        "kind": "team",
        "code": code,
        "name": code,
        "lat": lat,
        "lon": lon,
        "jurisdiction": "310101",
        "capabilities": frozenset({"hazmat", "rescue"}),
    }
    values.update(fields)
    return Candidate(**values)  # type: ignore[arg-type]


def codes(ranked: list[RankedResource], kind: str = "team") -> list[str]:
    return [r.code for r in ranked if r.kind == kind]


def test_eta_is_straight_line_times_detour_at_the_kind_speed() -> None:
    [first] = rank(*PLACE, [team("a", 1)], HAZMAT, now=NOW)
    assert first.distance_km == pytest.approx(KM_PER_CENTIDEGREE, abs=1e-3)
    # 1.11195 km × 1.3 / 40 km/h × 60 = 2.168 min
    assert first.eta_min == pytest.approx(2.2, abs=0.05)
    assert first.travel is TravelBasis.STRAIGHT_LINE
    assert (first.matched, first.missing, first.match) == (["hazmat", "rescue"], [], 1.0)
    assert first.score == pytest.approx(KM_PER_CENTIDEGREE * 1.3 / 40 * 60, abs=1e-3)


def test_a_closer_team_ranks_first() -> None:
    ranked = rank(*PLACE, [team("far", 5), team("near", 2)], HAZMAT, now=NOW)
    assert codes(ranked) == ["near", "far"]
    assert [r.rank for r in ranked] == [1, 2]


def test_a_deployed_team_ranks_last_even_when_closer() -> None:
    ranked = rank(*PLACE, [team("busy", 0.5, available=False), team("free", 20)], HAZMAT, now=NOW)
    assert codes(ranked) == ["free", "busy"]
    assert ranked[1].available is False


def test_no_position_ranks_after_every_one_with_a_position() -> None:
    nowhere = team("nowhere", 0, lat=None, lon=None)
    ranked = rank(*PLACE, [nowhere, team("far", 300)], HAZMAT, now=NOW)
    assert codes(ranked) == ["far", "nowhere"]
    assert ranked[1].eta_min is None
    assert ranked[1].travel is TravelBasis.NONE


def test_a_fresh_vehicle_fix_beats_the_base() -> None:
    # Based 10 km out, its vehicle reported 1 km out two minutes ago.
    lat, lon = north(1)
    fresh = Fix("13800000001", lat, lon, NOW - dt.timedelta(minutes=2))
    ranked = rank(*PLACE, [team("moving", 9, fixes=(fresh,)), team("home", 3)], HAZMAT, now=NOW)
    assert codes(ranked) == ["moving", "home"]
    assert ranked[0].from_vehicle == "13800000001"
    assert ranked[0].distance_km == pytest.approx(KM_PER_CENTIDEGREE, abs=1e-3)


def test_a_stale_vehicle_fix_falls_back_to_the_base() -> None:
    lat, lon = north(1)
    stale = Fix("13800000001", lat, lon, NOW - dt.timedelta(minutes=30))
    ranked = rank(*PLACE, [team("moving", 9, fixes=(stale,)), team("home", 3)], HAZMAT, now=NOW)
    assert codes(ranked) == ["home", "moving"]
    assert ranked[1].from_vehicle == ""
    assert ranked[1].distance_km == pytest.approx(9 * KM_PER_CENTIDEGREE, abs=1e-3)


def test_a_capability_shortfall_is_penalised() -> None:
    # "partial" is 1 km nearer but lacks rescue: half the needs, +30 min.
    partial = team("partial", 2, capabilities=frozenset({"hazmat"}))
    ranked = rank(*PLACE, [partial, team("full", 3)], HAZMAT, now=NOW)
    assert codes(ranked) == ["full", "partial"]
    assert (ranked[1].matched, ranked[1].missing, ranked[1].match) == (["hazmat"], ["rescue"], 0.5)
    eta = 2 * KM_PER_CENTIDEGREE * 1.3 / 40 * 60
    assert ranked[1].score == pytest.approx(eta + SHORTFALL_PENALTY_MIN / 2, abs=1e-3)


def test_cover_warning_when_the_only_other_team_is_too_far() -> None:
    # The other hazmat team is 12 km from "a"'s base: 12 × 1.11195 × 1.3 / 40 × 60 ≈ 26 min.
    ranked = rank(
        *PLACE,
        [team("a", 1, jurisdiction="310101001"), team("b", 13, jurisdiction="310101002")],
        HAZMAT,
        now=NOW,
        settings=Settings(cover_minutes=15),
    )
    assert ranked[0].code == "a"
    assert ranked[0].warnings == ["no_cover:310101001"]
    assert ranked[1].warnings == ["no_cover:310101002"]


def test_no_cover_warning_when_a_second_team_covers() -> None:
    # "c" is 3 km from "a"'s base (≈ 6.5 min); "b" shares no capability and does not count.
    ranked = rank(
        *PLACE,
        [
            team("a", 1, jurisdiction="310101001"),
            team("c", 4, jurisdiction="310101002"),
            team("b", 1.5, capabilities=frozenset({"medical"})),
        ],
        HAZMAT,
        now=NOW,
        settings=Settings(cover_minutes=15),
    )
    by_code = {r.code: r for r in ranked}
    assert by_code["a"].warnings == []
    assert by_code["b"].warnings == ["no_cover:310101"]


def test_a_deployed_team_does_not_cover() -> None:
    ranked = rank(
        *PLACE,
        [team("a", 1), team("c", 2, available=False)],
        HAZMAT,
        now=NOW,
    )
    assert ranked[0].warnings == ["no_cover:310101"]
    assert ranked[1].warnings == []


def test_shelters_by_spare_capacity() -> None:
    def shelter(code: str, at: float, capacity: int, occupancy: int) -> Candidate:
        lat, lon = north(at)
        spare = capacity - occupancy
        return Candidate(
            kind="shelter",
            code=code,
            name=code,
            lat=lat,
            lon=lon,
            spare=float(spare),
            available=spare > 0,
        )

    ranked = rank(
        *PLACE,
        [
            shelter("crowded", 0.1, 1000, 990),
            shelter("roomy", 0.1, 1000, 100),
            shelter("full", 0.01, 500, 500),
        ],
        Needs(),
        now=NOW,
    )
    assert codes(ranked, "shelter") == ["roomy", "crowded", "full"]
    assert ranked[0].spare == 900.0
    assert ranked[2].available is False


def test_experts_by_specialty_then_availability_then_distance() -> None:
    needs = Needs(specialties=("危险化学品",))

    def expert(code: str, at: float, specialties: set[str], rung: int) -> Candidate:
        lat, lon = north(at)
        return Candidate(
            kind="expert",
            code=code,
            name=code,
            lat=lat,
            lon=lon,
            capabilities=frozenset(specialties),
            availability_rank=rung,
            available=rung == 0,
        )

    ranked = rank(
        *PLACE,
        [
            expert("near_other", 0.1, {"矿山安全"}, 0),
            expert("busy_chem", 1, {"危险化学品"}, 1),
            expert("far_chem", 50, {"危险化学品"}, 0),
            expert("near_chem", 2, {"危险化学品"}, 0),
        ],
        needs,
        now=NOW,
    )
    assert codes(ranked, "expert") == ["near_chem", "far_chem", "busy_chem", "near_other"]


def test_equipment_by_capability_and_quantity() -> None:
    needs = Needs(capabilities=("decontamination",), quantities={"decontamination": 10.0})

    def kit(code: str, quantity: float, capabilities: set[str]) -> Candidate:
        lat, lon = north(1)
        return Candidate(
            kind="equipment",
            code=code,
            name=code,
            lat=lat,
            lon=lon,
            capabilities=frozenset(capabilities),
            spare=quantity,
        )

    ranked = rank(
        *PLACE,
        [
            kit("tents", 100, {"shelter"}),
            kit("few", 2, {"decontamination"}),
            kit("enough", 12, {"decontamination"}),
        ],
        needs,
        now=NOW,
    )
    assert codes(ranked, "equipment") == ["enough", "few", "tents"]


def test_a_unit_no_team_lists_is_ranked_by_eta_alone() -> None:
    lat, lon = north(1)
    unit = Candidate(kind="unit", code="u1", name="u1", lat=lat, lon=lon, capabilities=None)
    [ranked] = rank(*PLACE, [unit], HAZMAT, now=NOW)
    assert (ranked.matched, ranked.missing) == ([], [])
    assert ranked.score == pytest.approx(ranked.eta_min or 0, abs=0.05)


def test_limit_per_kind_and_kind_order() -> None:
    many = [team(f"t{i}", i + 1) for i in range(5)]
    lat, lon = north(1)
    many.append(Candidate(kind="unit", code="u", name="u", lat=lat, lon=lon, capabilities=None))
    ranked = rank(*PLACE, many, HAZMAT, now=NOW, settings=Settings(limit=2))
    assert [(r.kind, r.code) for r in ranked] == [("team", "t0"), ("team", "t1"), ("unit", "u")]


def test_a_detour_factor_is_a_setting() -> None:
    settings = Settings(travel=StraightLine(detour=1.0))
    [ranked] = rank(*PLACE, [team("a", 1)], HAZMAT, now=NOW, settings=settings)
    assert ranked.eta_min == pytest.approx(KM_PER_CENTIDEGREE / 40 * 60, abs=0.05)


def test_needs_of_the_most_specific_plan() -> None:
    details = PlanDetails(
        type_codes=["hazchem_leak"],
        resources=[
            ResourceNeed(capability="hazmat", quantity=2),
            ResourceNeed(capability="medical"),
        ],
        specialties=["危险化学品", "危险化学品"],
    )
    needs = needs_of([PlanCandidate("p1", details)])
    assert needs.plan_code == "p1"
    assert needs.listed() == ["hazmat", "medical", "危险化学品"]
    assert needs.quantities == {"hazmat": 2.0, "medical": 1.0}
    assert needs_of([]) == Needs()
