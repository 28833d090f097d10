"""``decision.support`` over a real server, on SQLite and PostgreSQL: the rings of the
chemicals named (or of the hazard source there), what lies inside them nearest first with
its ring, scoped to what the asker may see, unknown names reported, bad requests refused
while the session goes on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from backend.server.app import DutyDeskServer
from backend.storage.models import CameraRecord, RegistryItem, SensorRecord
from realtime.client import CommandError
from realtime.protocol import (
    ChemicalAmount,
    DecisionSupport,
    EnterpriseDetails,
    ErrorCode,
    HazardSourceDetails,
    IncidentResult,
    OpenIncident,
    RegistryDetails,
    RingKind,
    Role,
    ShelterDetails,
    SupportRequest,
    TargetCategory,
    TargetDetails,
)
from tests.backend.conftest import Console, open_console

PASSWORD = "pw-long-enough-1"
LAT, LON = 30.25, 120.15
"""The incident's place (a town of 330106)."""
TOWN, OTHER_TOWN, DISTRICT = "330106001", "330106002", "330106"
METRES_PER_DEGREE = 111_195.08
"""One degree of latitude on the spherical Earth of :mod:`backend.geo`."""
NOW = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing: day


def north(metres: float) -> tuple[float, float]:
    return LAT + metres / METRES_PER_DEGREE, LON


def item(
    kind: str,
    code: str,
    name: str,
    metres: float,
    details: RegistryDetails,
    jurisdiction: str = TOWN,
    **extra: Any,
) -> RegistryItem:
    lat, lon = north(metres)
    return RegistryItem(
        kind=kind,
        code=code,
        name=name,
        jurisdiction=jurisdiction,
        lat=lat,
        lon=lon,
        details=msgspec.to_builtins(details),
        created_at=NOW,
        updated_at=NOW,
        **extra,
    )


@pytest.fixture
async def seeded(server: DutyDeskServer) -> DutyDeskServer:
    """A chlorine store at the place, a school 250 m away, a hospital 2 km away, items of
    the district and of another town, a retired target, a camera and a sensor."""
    school = TargetDetails(category=TargetCategory.SCHOOL, population=1200)
    rows = [
        item(
            "hazard_source",
            "HS-CL",
            "氯碱厂液氯储罐区",
            30,
            HazardSourceDetails(
                grade=1,
                chemicals=[
                    ChemicalAmount(name="液氯", un_number="1017", quantity_t=50),
                    ChemicalAmount(name="某种保密中间体", quantity_t=1),
                ],
            ),
        ),
        item("target", "SCH-1", "城东小学", 250, school),
        item(
            "enterprise",
            "ENT-1",
            "氯碱化工有限公司",
            55,
            EnterpriseDetails(industry="危险化学品生产"),
        ),
        item(
            "target",
            "HOSP-1",
            "区人民医院",
            2000,
            TargetDetails(category=TargetCategory.HOSPITAL, population=800),
            jurisdiction=DISTRICT,
        ),
        item(
            "shelter",
            "SH-1",
            "城东体育场避难场所",
            280,
            ShelterDetails(capacity=5000),
            jurisdiction="",
        ),
        item(
            "target",
            "RES-OTHER",
            "邻镇居民区",
            200,
            TargetDetails(category=TargetCategory.RESIDENTIAL, population=3000),
            jurisdiction=OTHER_TOWN,
        ),
        item("target", "OLD-1", "已撤并小学", 100, school, retired=True),
        item("target", "FAR-1", "远郊小学", 20_000, school),
    ]
    cam_lat, cam_lon = north(120)
    sensor_lat, sensor_lon = north(40)
    async with server.sessions() as session:
        session.add_all(rows)
        session.add(
            CameraRecord(
                code="CAM-1",
                name="储罐区东门",
                lat=cam_lat,
                lon=cam_lon,
                jurisdiction=TOWN,
                stream_url_enc="-",
                stream_url_masked="-",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.add(
            SensorRecord(
                sensor_id="CL-001",
                kind="gas",
                unit="ppm",
                name="液氯储罐区1号",
                lat=sensor_lat,
                lon=sensor_lon,
                poll_cycle_seconds=10,
                jurisdiction=OTHER_TOWN,
                rules={},
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await session.commit()
    for name, role, area in [
        ("town-officer", Role.OFFICER, TOWN),
        ("district-officer", Role.OFFICER, DISTRICT),
        ("other-officer", Role.OFFICER, "330108"),
        ("wall", Role.VIEWER, DISTRICT),
    ]:
        await server.users.add_user(name, PASSWORD, role, jurisdiction=area)
    server.decision.clock = lambda: NOW
    return server


async def _ask(console: Console, **fields: Any) -> DecisionSupport:
    result = await console.client.request(SupportRequest(req="", **fields))
    assert isinstance(result, DecisionSupport)
    return result


async def test_chlorine_small_spill_by_day_lists_what_lies_in_the_rings(
    seeded: DutyDeskServer,
) -> None:
    console = await open_console(seeded, "district-officer", PASSWORD)
    try:
        result = await _ask(console, lat=LAT, lon=LON, chemicals=["液氯"])
        assert result.night is False
        assert [(r.kind, r.radius_m, r.chemical) for r in result.rings] == [
            (RingKind.ISOLATION, 60.0, "1017"),
            (RingKind.PROTECTIVE, 300.0, "1017"),
        ]
        [chlorine] = result.chemicals
        assert (chlorine.un_number, chlorine.isolation_m, chlorine.protect_day_m) == (
            "1017",
            60.0,
            300.0,
        )
        assert chlorine.hazards
        assert chlorine.first_aid
        assert "ERG" in chlorine.source
        listed = [(e.kind, e.code, e.ring) for e in result.exposed]
        # Nearest first; the hazard source itself is listed (nothing was named as the source).
        assert listed == [
            ("hazard_source", "HS-CL", RingKind.ISOLATION),
            ("sensor", "CL-001", RingKind.ISOLATION),
            ("enterprise", "ENT-1", RingKind.ISOLATION),
            ("camera", "CAM-1", RingKind.PROTECTIVE),
            ("target", "RES-OTHER", RingKind.PROTECTIVE),
            ("target", "SCH-1", RingKind.PROTECTIVE),
            ("shelter", "SH-1", RingKind.PROTECTIVE),
        ]
        distances = [e.distance_m for e in result.exposed]
        assert distances == sorted(distances)
        school = next(e for e in result.exposed if e.code == "SCH-1")
        assert school.distance_m == pytest.approx(250.0, abs=0.5)
        assert (school.category, school.population) == ("school", 1200)
        assert result.population == 1200 + 3000
        assert result.unknown_chemicals == []
    finally:
        await console.close()


async def test_large_spill_at_night_reaches_the_hospital(seeded: DutyDeskServer) -> None:
    console = await open_console(seeded, "district-officer", PASSWORD)
    try:
        result = await _ask(
            console, lat=LAT, lon=LON, chemicals=["UN1017"], large_spill=True, night=True
        )
        # ERG 2016 Table 3's worst case (rail tank car, low wind).
        assert [r.radius_m for r in result.rings] == [1000.0, 11000.0]
        by_code = {e.code: e for e in result.exposed}
        assert by_code["SCH-1"].ring is RingKind.ISOLATION
        assert by_code["HOSP-1"].ring is RingKind.PROTECTIVE
        assert "FAR-1" not in by_code
        assert "OLD-1" not in by_code
        # A fire raises a small spill's isolation ring to the guide's fire distance.
        fire = await _ask(console, lat=LAT, lon=LON, chemicals=["1017"], night=True, fire=True)
        assert [r.radius_m for r in fire.rings] == [800.0, 1100.0]
        assert {e.code: e.ring for e in fire.exposed}["SCH-1"] is RingKind.ISOLATION
        assert "HOSP-1" not in {e.code for e in fire.exposed}
    finally:
        await console.close()


async def test_the_scope_of_a_town_officer(seeded: DutyDeskServer) -> None:
    console = await open_console(seeded, "town-officer", PASSWORD)
    try:
        result = await _ask(
            console, lat=LAT, lon=LON, chemicals=["1017"], large_spill=True, night=True
        )
        codes = {e.code for e in result.exposed}
        # Its own town's, the district's above it and the unplaced shelter: yes.
        assert {"SCH-1", "HOSP-1", "SH-1", "HS-CL", "ENT-1", "CAM-1"} <= codes
        # The other town's residents and sensor: not listed, not counted.
        assert "RES-OTHER" not in codes
        assert "CL-001" not in codes
        assert result.population == 1200 + 800
    finally:
        await console.close()


async def test_the_hazard_source_there_gives_the_chemicals(seeded: DutyDeskServer) -> None:
    console = await open_console(seeded, "district-officer", PASSWORD)
    try:
        # No chemical named: the hazard source 30 m away is taken, and left out of the list.
        result = await _ask(console, lat=LAT, lon=LON)
        assert result.hazard_source == "HS-CL"
        assert [c.un_number for c in result.chemicals] == ["1017"]
        assert result.unknown_chemicals == ["某种保密中间体"]
        assert "HS-CL" not in {e.code for e in result.exposed}
        named = await _ask(console, lat=LAT + 0.01, lon=LON, hazard_source="HS-CL")
        assert named.hazard_source == "HS-CL"
        # Nothing within 200 m and nothing named: the unidentified-cargo rings.
        far = await _ask(console, lat=LAT + 0.1, lon=LON)
        assert (far.hazard_source, far.chemicals) == ("", [])
        assert [r.radius_m for r in far.rings] == [100.0, 100.0]
    finally:
        await console.close()


async def test_unknown_names_are_reported_and_bad_requests_refused(
    seeded: DutyDeskServer,
) -> None:
    console = await open_console(seeded, "other-officer", PASSWORD)
    try:
        result = await _ask(console, lat=LAT, lon=LON, chemicals=["液氯", "神秘液体", "神秘液体"])
        assert [c.un_number for c in result.chemicals] == ["1017"]
        assert result.unknown_chemicals == ["神秘液体"]
        # Another district's officer sees none of 330106's items; the unplaced shelter
        # serves everyone.
        assert [e.code for e in result.exposed] == ["SH-1"]
        assert result.population == 0
        # A hazard source outside the area is refused exactly like a missing one.
        with pytest.raises(CommandError) as hidden:
            await _ask(console, lat=LAT, lon=LON, hazard_source="HS-CL")
        with pytest.raises(CommandError) as missing:
            await _ask(console, lat=LAT, lon=LON, hazard_source="HS-NONE")
        assert hidden.value.code is missing.value.code is ErrorCode.FORBIDDEN
        assert hidden.value.message == missing.value.message
        with pytest.raises(CommandError) as no_place:
            await _ask(console, chemicals=["1017"])
        assert no_place.value.code is ErrorCode.VALIDATION
        with pytest.raises(CommandError) as half:
            await _ask(console, lat=LAT, chemicals=["1017"])
        assert "both" in half.value.message
        with pytest.raises(CommandError) as other_incident:
            await _ask(console, incident_id=999_999)
        assert other_incident.value.code is ErrorCode.FORBIDDEN
        # The session goes on.
        assert (await _ask(console, lat=LAT, lon=LON, chemicals=["1005"])).chemicals
    finally:
        await console.close()


async def test_a_viewer_gets_it_and_the_server_clock_says_night(seeded: DutyDeskServer) -> None:
    seeded.decision.clock = lambda: dt.datetime(2026, 12, 5, 13, 0, tzinfo=dt.UTC)
    console = await open_console(seeded, "wall", PASSWORD)
    try:
        result = await _ask(console, lat=LAT, lon=LON, chemicals=["1017"])
        assert result.night is True  # 21:00 in Beijing
        assert result.rings[1].radius_m == 1100.0
        assert (await _ask(console, lat=LAT, lon=LON, chemicals=["1017"], night=False)).rings[
            1
        ].radius_m == 300.0
    finally:
        await console.close()


async def test_at_an_incident_the_user_may_see(seeded: DutyDeskServer) -> None:
    town = await open_console(seeded, "town-officer", PASSWORD)
    other = await open_console(seeded, "other-officer", PASSWORD)
    try:
        opened = await town.client.request(
            OpenIncident(
                req="",
                type_code="hazchem_leak",
                title="液氯储罐泄漏",
                lat=LAT,
                lon=LON,
                jurisdiction=TOWN,
            )
        )
        assert isinstance(opened, IncidentResult)
        incident_id = opened.incident.id
        result = await _ask(town, incident_id=incident_id)
        assert (result.incident_id, result.lat, result.lon) == (incident_id, LAT, LON)
        assert result.hazard_source == "HS-CL"
        assert "SCH-1" in {e.code for e in result.exposed}
        # Another area's officer: refused exactly like an incident that does not exist.
        with pytest.raises(CommandError) as hidden:
            await _ask(other, incident_id=incident_id)
        with pytest.raises(CommandError) as missing:
            await _ask(other, incident_id=incident_id + 1000)
        assert hidden.value.message == missing.value.message
    finally:
        await town.close()
        await other.close()


async def test_one_broken_registry_row_costs_only_its_own_details(
    seeded: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    lat, lon = north(150)
    async with seeded.sessions() as session:
        session.add(
            RegistryItem(
                kind="target",
                code="BROKEN-1",
                name="数据损坏的目标",
                jurisdiction=TOWN,
                lat=lat,
                lon=lon,
                details={"type": "target", "category": "spaceship", "population": -3},
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await session.commit()
    console = await open_console(seeded, "district-officer", PASSWORD)
    try:
        result = await _ask(console, lat=LAT, lon=LON, chemicals=["1017"])
        by_code = {e.code: e for e in result.exposed}
        # Listed where it is (a commander must know something is there), without details.
        assert (by_code["BROKEN-1"].category, by_code["BROKEN-1"].population) == ("", None)
        assert by_code["SCH-1"].population == 1200
        assert result.population == 1200 + 3000
        assert "BROKEN-1" in caplog.text
        assert "unreadable details" in caplog.text
    finally:
        await console.close()
