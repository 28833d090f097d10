"""``roads.get`` over a real server, on SQLite and PostgreSQL: the roads crossing the box,
major classes first, down to the class asked for, simplified, size-limited (``truncated``
said); an empty box a clear error. With the demo's road layer loaded, the recommendation
gives road ETAs near the roads and keeps the straight line far from them; an import made
while the server runs is used by the next recommendation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.cli.demo import DEMO_ROADS, demo_server
from backend.roads.reader import Tally, read_roads
from backend.roads.service import replace_layer
from backend.server.app import DutyDeskServer
from backend.server.embedded import ServerThread
from realtime.client import CommandError
from realtime.protocol import (
    ErrorCode,
    GetRoads,
    Recommend,
    Recommendation,
    RoadClass,
    RoadsResult,
    Role,
    TravelBasis,
)
from tests.backend.conftest import open_console
from tests.backend.roads.samples import write_osm_xml

DEMO_BOX: dict[str, Any] = {
    "min_lat": 32.20,
    "min_lon": 118.73,
    "max_lat": 32.33,
    "max_lon": 118.92,
}


async def _load(server: DutyDeskServer, path: Path) -> int:
    return await replace_layer(server.sessions, read_roads(path, Tally()), source=path.name)


async def _roads(server: DutyDeskServer, **fields: object) -> RoadsResult:
    console = await open_console(server)
    try:
        result = await console.client.request(GetRoads(req="", **fields))  # type: ignore[arg-type]
    finally:
        await console.close()
    assert isinstance(result, RoadsResult)
    return result


def _names(result: RoadsResult) -> dict[RoadClass, list[str]]:
    return {group.road_class: [line.name for line in group.lines] for group in result.classes}


async def test_roads_by_box_and_class(server: DutyDeskServer) -> None:
    assert await _load(server, DEMO_ROADS) == 18
    everything = await _roads(server, **DEMO_BOX)
    assert [group.road_class for group in everything.classes] == list(RoadClass)[:7]
    names = _names(everything)
    assert names[RoadClass.MOTORWAY] == ["宁六高速", "宁六高速 化工园互通"]
    assert names[RoadClass.TRUNK] == ["沿江大道", "六合大道"]
    assert "园区支路一" in names[RoadClass.SERVICE]
    assert "滨江步道" not in str(names)  # a footway is no road
    assert (everything.truncated, everything.source) == (False, "demo_roads.osm")
    one_way = next(
        line for group in everything.classes for line in group.lines if line.name == "管廊巡检道"
    )
    assert one_way.oneway
    assert one_way.points[:2] == [32.2533, 118.7955]

    # Down to primaries only.
    major = await _roads(server, **DEMO_BOX, min_class="primary")
    assert set(_names(major)) == {RoadClass.MOTORWAY, RoadClass.TRUNK, RoadClass.PRIMARY}

    # The mine in the north-east: only the roads that reach it.
    mine = await _roads(server, min_lat=32.305, min_lon=118.89, max_lat=32.315, max_lon=118.91)
    assert sorted(name for names in _names(mine).values() for name in names) == [
        "东山村路",
        "东山路",
        "矿区道路",
    ]
    # Nothing there: an empty answer, not an error.
    sea = await _roads(server, min_lat=10.0, min_lon=110.0, max_lat=10.1, max_lon=110.1)
    assert (sea.classes, sea.truncated) == ([], False)


async def test_simplified_and_size_limited(server: DutyDeskServer) -> None:
    await _load(server, DEMO_ROADS)
    full = await _roads(server, **DEMO_BOX)
    vertices = sum(len(line.points) // 2 for group in full.classes for line in group.lines)
    coarse = await _roads(server, **DEMO_BOX, tolerance_m=500.0)
    fewer = sum(len(line.points) // 2 for group in coarse.classes for line in group.lines)
    assert fewer < vertices
    assert sum(len(g.lines) for g in coarse.classes) == sum(len(g.lines) for g in full.classes)
    # A small budget: the major classes come, the minor ones are left out and it says so.
    small = await _roads(server, **DEMO_BOX, max_points=20)
    assert small.truncated
    kept = sum(len(line.points) // 2 for group in small.classes for line in group.lines)
    assert 0 < kept <= 20
    assert small.classes[0].road_class is RoadClass.MOTORWAY
    assert RoadClass.SERVICE not in _names(small)


async def test_an_empty_box_is_refused_and_the_session_goes_on(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        with pytest.raises(CommandError) as refused:
            await console.client.request(
                GetRoads(req="", min_lat=32.3, min_lon=118.7, max_lat=32.2, max_lon=118.8)
            )
        assert refused.value.code is ErrorCode.VALIDATION
        assert "the box is empty" in str(refused.value)
        result = await console.client.request(GetRoads(req="", **DEMO_BOX))
        assert isinstance(result, RoadsResult)
        assert result.classes == []  # no layer loaded yet
    finally:
        await console.close()


async def _recommend(server: DutyDeskServer, lat: float, lon: float) -> Recommendation:
    console = await open_console(server)
    try:
        result = await console.client.request(Recommend(req="", lat=lat, lon=lon))
    finally:
        await console.close()
    assert isinstance(result, Recommendation)
    return result


async def test_recommendation_by_road_near_the_roads(
    server: DutyDeskServer, tmp_path: Path
) -> None:
    # The H2S alarm's tank in the park; the seeded units lie along the demo's roads.
    before = await _recommend(server, 32.2561, 118.7823)
    assert {item.travel for item in before.items if item.kind == "unit"} == {
        TravelBasis.STRAIGHT_LINE
    }
    await _load(server, DEMO_ROADS)
    after = await _recommend(server, 32.2561, 118.7823)
    units = {item.code: item for item in after.items if item.kind == "unit"}
    assert {item.travel for item in units.values()} == {TravelBasis.ROAD}
    by_line = {item.code: item for item in before.items if item.kind == "unit"}
    # 城西中队 comes round by 滨江路, 沿江大道 and 化工大道: longer than the crow flies.
    west, west_straight = units["FIRE-02"], by_line["FIRE-02"]
    assert west.distance_km is not None
    assert west_straight.distance_km is not None
    assert west.distance_km > west_straight.distance_km
    # The hazmat team sits on the interchange's link: as far, but faster (motorway class).
    hazmat, hazmat_straight = units["FIRE-HAZ"], by_line["FIRE-HAZ"]
    assert hazmat.distance_km == pytest.approx(hazmat_straight.distance_km)
    assert hazmat.eta_min is not None
    assert hazmat_straight.eta_min is not None
    assert hazmat.eta_min < hazmat_straight.eta_min

    # A place far from every road keeps the straight line for everyone.
    far = await _recommend(server, 32.40, 119.20)
    assert {item.travel for item in far.items if item.kind == "unit"} == {TravelBasis.STRAIGHT_LINE}

    # A new layer imported while the server runs is used at once.
    await _load(server, write_osm_xml(tmp_path / "tiny.osm"))
    tiny = await _recommend(server, 32.2561, 118.7823)
    assert {i.travel for i in tiny.items if i.kind == "unit"} != {TravelBasis.ROAD}


def test_the_embedded_server_loads_its_seed_roads_once() -> None:
    with ServerThread(seed_roads=DEMO_ROADS) as thread:
        result = thread.call(thread.server.roads.roads(GetRoads(req="", **DEMO_BOX)))
        assert sum(len(group.lines) for group in result.classes) == 18
        assert thread.call(thread.server.roads.travel()) is not None


def test_the_demo_server_starts_with_its_road_layer() -> None:
    with demo_server([("demo", "pw-demo-officer", Role.OFFICER)]) as thread:
        result = thread.call(thread.server.roads.roads(GetRoads(req="", **DEMO_BOX)))
    assert result.source == "demo_roads.osm"
    names = {line.name for group in result.classes for line in group.lines}
    assert {"沿江大道", "化工大道", "长河路", "园区二路"} <= names
