"""``recommend`` over a real server, on SQLite and PostgreSQL: the ranking an officer gets
for an incident (its plan's needs, a vehicle's fresh fix, a deployed team last), scoped
to what the officer may see; an incident outside the scope refused like a missing one;
a request naming no place a clear error; a broken registry row costs the others nothing.

Registry rows are written straight into ``registry_items`` (the registry service is
another lane's): details as the tagged JSON of :data:`realtime.protocol.RegistryDetails`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from backend.cli.app import build_parser
from backend.recommend.service import Place, RecommendService
from backend.server.app import DutyDeskServer
from backend.storage.models import Device, PositionRecord, RegistryItem
from realtime.client import CommandError
from realtime.incident_states import IncidentLevel
from realtime.protocol import (
    ErrorCode,
    ExpertDetails,
    PlanDetails,
    Recommend,
    Recommendation,
    RegistryDetails,
    ResourceNeed,
    Role,
    ShelterDetails,
    TeamDetails,
    TeamState,
    TravelBasis,
)
from tests.backend.conftest import Console, open_console

PASSWORD = "pw-long-enough-1"
DISTRICT, TOWN_A, TOWN_B = "320116", "320116001", "320116002"
SCENE = (32.2400, 118.7900)
"""The incident's place; 0.01° of latitude north of it is 1.112 km."""
VEHICLE = "13800138001"


def _north(centidegrees: float) -> tuple[float, float]:
    return SCENE[0] + centidegrees * 0.01, SCENE[1]


async def _put(
    server: DutyDeskServer,
    code: str,
    details: RegistryDetails | dict[str, Any],
    *,
    at: float | None = 1.0,
    jurisdiction: str = DISTRICT,
) -> None:
    now = dt.datetime.now(dt.UTC)
    lat, lon = _north(at) if at is not None else (None, None)
    kind = details["type"] if isinstance(details, dict) else details.__struct_config__.tag
    async with server.sessions() as session, session.begin():
        session.add(
            RegistryItem(
                kind=kind,
                code=code,
                name=f"名称-{code}",
                jurisdiction=jurisdiction,
                lat=lat,
                lon=lon,
                details=details if isinstance(details, dict) else msgspec.to_builtins(details),
                contacts_enc="",
                created_at=now,
                updated_at=now,
            )
        )


def _team(*capabilities: str, **fields: Any) -> TeamDetails:
    return TeamDetails(team_type="危化品救援", capabilities=list(capabilities), **fields)


@pytest.fixture
async def world(server: DutyDeskServer) -> dict[str, int]:
    district = await server.users.add_user(
        "district", PASSWORD, Role.OFFICER, jurisdiction=DISTRICT
    )
    await server.users.add_user("town-a", PASSWORD, Role.OFFICER, jurisdiction=TOWN_A)
    await _put(
        server,
        "plan-leak",
        PlanDetails(
            type_codes=["hazchem_leak"],
            resources=[ResourceNeed(capability="hazmat"), ResourceNeed(capability="rescue")],
            specialties=["危险化学品"],
        ),
        at=None,
        jurisdiction="",
    )
    # Town B's hazmat team: 8 km out at its base, but its vehicle reported 0.5 km away.
    await _put(
        server,
        "team-b",
        _team("hazmat", "rescue", vehicles=[VEHICLE]),
        at=8,
        jurisdiction=TOWN_B,
    )
    await _put(server, "team-a", _team("hazmat", "rescue"), at=2, jurisdiction=TOWN_A)
    await _put(server, "team-busy", _team("hazmat", "rescue", state=TeamState.DEPLOYED), at=0.2)
    await _put(server, "team-half", _team("hazmat"), at=1.5, jurisdiction=TOWN_A)
    await _put(server, "expert-chem", ExpertDetails(specialties=["危险化学品"]), at=30)
    await _put(server, "shelter-1", ShelterDetails(capacity=500, occupancy=100), at=0.5)
    now = dt.datetime.now(dt.UTC)
    async with server.sessions() as session, session.begin():
        session.add(Device(kind="jt808", identity=VEHICLE, name="危化1", created_at=now))
        lat, lon = _north(0.5)
        session.add(
            PositionRecord(
                device=VEHICLE,
                at=now - dt.timedelta(minutes=1),
                lat=lat,
                lon=lon,
                speed_kmh=30.0,
                heading_deg=0.0,
                altitude_m=0.0,
                jurisdiction=TOWN_B,
            )
        )
    in_b = await server.incidents.open_incident(
        district,
        type_code="hazchem_leak",
        title="储罐泄漏",
        lat=SCENE[0],
        lon=SCENE[1],
        jurisdiction=TOWN_B,
        level=IncidentLevel.II,
    )
    return {"in_b": in_b.id}


async def _ask(console: Console, **fields: Any) -> Recommendation:
    result = await console.client.request(Recommend(req="", **fields))
    assert isinstance(result, Recommendation)
    return result


def _codes(result: Recommendation, kind: str) -> list[str]:
    return [item.code for item in result.items if item.kind == kind]


async def test_the_district_officer_gets_the_incident_ranking(
    server: DutyDeskServer, world: dict[str, int]
) -> None:
    console = await open_console(server, "district", PASSWORD)
    try:
        result = await _ask(console, incident_id=world["in_b"])
    finally:
        await console.close()
    assert (result.incident_id, result.type_code, result.plan_code) == (
        world["in_b"],
        "hazchem_leak",
        "plan-leak",
    )
    assert result.needs == ["hazmat", "rescue", "危险化学品"]
    assert result.cover_minutes == 15.0
    # team-b's fresh fix (0.5 km) beats team-a's base (2 km); the half match pays 30 min;
    # the deployed team is last though nearest.
    assert _codes(result, "team") == ["team-b", "team-a", "team-half", "team-busy"]
    first = result.items[0]
    assert first.from_vehicle == VEHICLE
    assert first.travel is TravelBasis.STRAIGHT_LINE
    assert first.distance_km == pytest.approx(0.556, abs=0.002)
    assert first.eta_min == pytest.approx(1.1, abs=0.05)
    half = next(item for item in result.items if item.code == "team-half")
    assert (half.matched, half.missing) == (["hazmat"], ["rescue"])
    assert _codes(result, "expert") == ["expert-chem"]
    assert next(i for i in result.items if i.kind == "shelter").spare == 400.0
    # The seeded units of the district are ranked too (units have no capabilities).
    assert "FIRE-HAZ" in _codes(result, "unit")


async def test_a_town_officer_sees_only_its_town_and_the_areas_above(
    server: DutyDeskServer, world: dict[str, int]
) -> None:
    console = await open_console(server, "town-a", PASSWORD)
    try:
        result = await _ask(console, lat=SCENE[0], lon=SCENE[1], type_code="hazchem_leak")
        with pytest.raises(CommandError) as hidden:
            await _ask(console, incident_id=world["in_b"])
        with pytest.raises(CommandError) as missing:
            await _ask(console, incident_id=999_999)
    finally:
        await console.close()
    # Town B's team is not theirs; the district's and their own are.
    assert _codes(result, "team") == ["team-a", "team-half", "team-busy"]
    assert '"team-b"' not in msgspec.json.encode(result).decode()
    assert VEHICLE not in msgspec.json.encode(result).decode()
    # The district's units lie outside a town officer's area (the units' scope).
    assert _codes(result, "unit") == []
    assert result.plan_code == "plan-leak"
    assert hidden.value.code is ErrorCode.FORBIDDEN
    assert (hidden.value.code, hidden.value.message) == (missing.value.code, missing.value.message)


async def test_a_request_without_a_place_is_a_clear_error(
    server: DutyDeskServer, world: dict[str, int]
) -> None:
    console = await open_console(server, "district", PASSWORD)
    try:
        with pytest.raises(CommandError) as nothing:
            await _ask(console, type_code="hazchem_leak")
        with pytest.raises(CommandError) as half:
            await _ask(console, lat=SCENE[0])
        # The session carries on.
        assert _codes(await _ask(console, lat=SCENE[0], lon=SCENE[1]), "team")
    finally:
        await console.close()
    assert nothing.value.code is ErrorCode.VALIDATION
    assert "name an incident, or give lat and lon" in nothing.value.message
    assert half.value.code is ErrorCode.VALIDATION


async def test_a_broken_registry_row_costs_the_others_nothing(
    server: DutyDeskServer, world: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    await _put(server, "team-broken", {"type": "team", "members": "many"}, at=0.1)
    console = await open_console(server, "district", PASSWORD)
    try:
        result = await _ask(console, incident_id=world["in_b"])
    finally:
        await console.close()
    assert "team-broken" not in _codes(result, "team")
    assert len(_codes(result, "team")) == 4
    assert "team-broken" in caplog.text


async def test_a_viewer_may_not_ask(server: DutyDeskServer, world: dict[str, int]) -> None:
    await server.users.add_user("wall", PASSWORD, Role.VIEWER, jurisdiction=DISTRICT)
    console = await open_console(server, "wall", PASSWORD)
    try:
        with pytest.raises(CommandError) as refused:
            await _ask(console, lat=SCENE[0], lon=SCENE[1])
    finally:
        await console.close()
    assert refused.value.code is ErrorCode.FORBIDDEN


def test_serve_takes_the_cover_time() -> None:
    assert build_parser().parse_args(["serve"]).cover_minutes == 15.0
    assert build_parser().parse_args(["serve", "--cover-minutes", "8"]).cover_minutes == 8.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--cover-minutes", "0"])


async def test_the_cover_time_is_the_servers_setting(
    server: DutyDeskServer, world: dict[str, int]
) -> None:
    # The nearest other available team sharing a capability with team-a is team-half,
    # 0.56 km from team-a's base: 0.556 × 1.3 / 40 × 60 ≈ 1.1 min. Covered within the
    # default 15 minutes, not within one.
    service = RecommendService(server.sessions, cover_minutes=1.0)
    district = await server.users.add_user(
        "district-2", PASSWORD, Role.OFFICER, jurisdiction=DISTRICT
    )
    result = await service.recommend(district, Place(lat=SCENE[0], lon=SCENE[1]))
    assert result.cover_minutes == 1.0
    team_a = next(item for item in result.items if item.code == "team-a")
    assert team_a.warnings == [f"no_cover:{TOWN_A}"]
    relaxed = await RecommendService(server.sessions).recommend(
        district, Place(lat=SCENE[0], lon=SCENE[1])
    )
    assert next(item for item in relaxed.items if item.code == "team-a").warnings == []


async def test_a_fix_outside_the_users_area_does_not_place_the_team(
    server: DutyDeskServer, world: dict[str, int]
) -> None:
    # Town A's team drove into town B: town A's officer sees the team, not the fix.
    roaming = "13800138002"
    await _put(server, "team-roam", _team("hazmat", vehicles=[roaming]), at=20, jurisdiction=TOWN_A)
    now = dt.datetime.now(dt.UTC)
    async with server.sessions() as session, session.begin():
        session.add(Device(kind="jt808", identity=roaming, name="危化2", created_at=now))
        lat, lon = _north(0.3)
        session.add(
            PositionRecord(
                device=roaming,
                at=now,
                lat=lat,
                lon=lon,
                speed_kmh=0.0,
                heading_deg=0.0,
                altitude_m=0.0,
                jurisdiction=TOWN_B,
            )
        )
    answers = {}
    for name in ("town-a", "district"):
        console = await open_console(server, name, PASSWORD)
        try:
            result = await _ask(console, lat=SCENE[0], lon=SCENE[1])
        finally:
            await console.close()
        answers[name] = next(item for item in result.items if item.code == "team-roam")
        assert (roaming in msgspec.json.encode(result).decode()) == (name == "district")
    assert answers["town-a"].from_vehicle == ""
    assert answers["town-a"].distance_km == pytest.approx(22.24, abs=0.01)
    assert answers["district"].from_vehicle == roaming
    assert answers["district"].distance_km == pytest.approx(0.334, abs=0.002)
