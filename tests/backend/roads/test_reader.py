"""Reading road layers: an OSM extract (XML and PBF) and a GeoPackage keep each road's
class, names, direction and limit; non-roads are left out and counted; a file that is no
road layer, or in a coordinate system we do not take, is refused in one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.jurisdictions.datum import wgs84_to_gcj02
from backend.roads.graph import build_graph, simplify
from backend.roads.reader import Datum, Error, RoadSegment, Tally, gpkg_lines, read_roads
from realtime.protocol import RoadClass
from tests.backend.roads.samples import (
    gp_linestring,
    gp_multilinestring,
    write_gpkg,
    write_osm_pbf,
    write_osm_xml,
)


def _read(path: Path, datum: Datum = Datum.WGS84) -> tuple[list[RoadSegment], Tally]:
    tally = Tally()
    return list(read_roads(path, tally, datum=datum)), tally


@pytest.mark.parametrize("write", [write_osm_xml, write_osm_pbf], ids=["osm", "pbf"])
def test_an_osm_extract_keeps_classes_names_direction_and_limits(
    tmp_path: Path, write: object
) -> None:
    suffix = ".osm" if write is write_osm_xml else ".osm.pbf"
    path = write(tmp_path / f"sample{suffix}")  # type: ignore[operator]
    segments, tally = _read(path)
    by_name = {segment.name: segment for segment in segments}
    primary = by_name["化工大道"]
    assert primary.road_class is RoadClass.PRIMARY
    assert (primary.name_zh, primary.maxspeed, primary.oneway) == ("化工大道", 50, 0)
    assert primary.points == [(32.24, 118.75), (32.245, 118.76), (32.25, 118.77)]
    assert by_name["园区支路"].road_class is RoadClass.SERVICE
    assert by_name["园区支路"].oneway == 1
    link = by_name[""]
    # A link takes its road's class; a limit in mph becomes km/h; -1 runs against.
    assert (link.road_class, link.maxspeed, link.oneway) == (RoadClass.MOTORWAY, 64, -1)
    assert len(segments) == 3
    # The building is no highway: filtered before it is read.
    assert tally.read == 5
    assert tally.roads == 3
    # The footway and the unknown value are counted.
    assert tally.skipped == {"highway=footway": 1, "highway=residential_link_unknown": 1}


def test_a_geopackage_keeps_its_lines_and_fields(tmp_path: Path) -> None:
    path = write_gpkg(
        tmp_path / "roads.gpkg",
        [
            (
                gp_linestring([(32.24, 118.75), (32.25, 118.76)]),
                {"highway": "trunk", "name": "沿江大道", "oneway": "F", "maxspeed": 60},
            ),
            (
                gp_linestring([(32.25, 118.76), (32.26, 118.76)], z=True),
                {"highway": "tertiary", "name": "Binjiang Rd", "name_zh": "滨江路"},
            ),
            (
                gp_multilinestring(
                    [[(32.2, 118.7), (32.21, 118.7)], [(32.3, 118.8), (32.31, 118.8)]]
                ),
                {"highway": "residential", "name": "两段路"},
            ),
            (b"GPjunk", {"highway": "primary", "name": "坏几何"}),
            (None, {"highway": "primary", "name": "无几何"}),
            (gp_linestring([(32.1, 118.1), (32.2, 118.2)]), {"highway": "cycleway"}),
        ],
    )
    segments, tally = _read(path)
    assert [(s.name, s.road_class) for s in segments] == [
        ("沿江大道", RoadClass.TRUNK),
        ("Binjiang Rd", RoadClass.TERTIARY),
        ("两段路", RoadClass.RESIDENTIAL),
        ("两段路", RoadClass.RESIDENTIAL),
    ]
    assert segments[0].points == [(32.24, 118.75), (32.25, 118.76)]
    assert (segments[0].oneway, segments[0].maxspeed) == (1, 60)
    assert segments[1].name_zh == "滨江路"
    assert segments[1].points == [(32.25, 118.76), (32.26, 118.76)]  # Z dropped
    assert segments[3].points == [(32.3, 118.8), (32.31, 118.8)]
    assert tally.skipped == {"bad geometry": 1, "no geometry": 1, "highway=cycleway": 1}


def test_a_geopackage_in_another_srs_is_refused_or_converted_when_declared(
    tmp_path: Path,
) -> None:
    line = gp_linestring([(32.24, 118.75), (32.25, 118.76)])
    mercator = write_gpkg(
        tmp_path / "mercator.gpkg", [(line, {"highway": "primary"})], coordsys=3857
    )
    with pytest.raises(Error, match=r"mercator\.gpkg: layer roads is in EPSG:3857.*EPSG:4326"):
        _read(mercator)
    gcj = write_gpkg(tmp_path / "gaode.gpkg", [(line, {"highway": "primary"})])
    [converted], _ = _read(gcj, datum=Datum.GCJ02)
    # GCJ-02 lies about 500 m east and 200 m south of WGS-84 here: converted back.
    (lat, lon), _ = converted.points
    again_lon, again_lat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    assert (again_lat[0], again_lon[0]) == pytest.approx((32.24, 118.75), abs=1e-5)
    assert 32.2410 < lat < 32.2430
    assert 118.7440 < lon < 118.7460


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("garbage.osm.pbf", b"\x00\x01not a pbf at all" * 10, "not a readable OSM extract"),
        ("broken.osm", b"<osm version='0.6'><way id='1'", "not a readable OSM extract"),
        ("not-sqlite.gpkg", b"hello, not a database" * 50, "not a GeoPackage"),
        ("roads.shp", b"", "unknown format"),
    ],
)
def test_a_bad_file_is_a_clear_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(Error, match=message) as refused:
        _read(path)
    assert str(refused.value).startswith(name)
    assert "\n" not in str(refused.value)


def test_a_missing_file_and_a_gpkg_without_roads_are_refused(tmp_path: Path) -> None:
    with pytest.raises(Error, match="no such file"):
        _read(tmp_path / "nowhere.osm.pbf")
    empty = tmp_path / "empty.gpkg"
    write_gpkg(empty, [])
    with empty.open("r+b"):
        pass
    import sqlite3

    db = sqlite3.connect(empty)
    db.execute("UPDATE gpkg_geometry_columns SET geometry_type_name = 'POINT'")
    db.commit()
    db.close()
    with pytest.raises(Error, match="has no line layer"):
        _read(empty)


def test_truncated_wkb_is_a_value_error() -> None:
    whole = gp_linestring([(32.24, 118.75), (32.25, 118.76)])
    assert gpkg_lines(whole) == [[(32.24, 118.75), (32.25, 118.76)]]
    with pytest.raises(ValueError, match="truncated or malformed"):
        gpkg_lines(whole[:-5])


def test_roads_meeting_at_a_vertex_make_one_graph() -> None:
    graph = build_graph(
        [
            ([32.24, 118.75, 32.25, 118.76], RoadClass.PRIMARY, None),
            ([32.25, 118.76, 32.26, 118.76], RoadClass.SERVICE, 10),
            ([32.30, 118.80, 32.31, 118.80], RoadClass.SERVICE, None),
        ]
    )
    assert len(graph.lat) == 5
    hours, km = graph.fastest_from(0)
    assert km[2] == pytest.approx(1.45 + 1.11, abs=0.02)
    # 1.45 km at 50 km/h, then 1.11 km at the posted 10 km/h.
    assert hours[2] == pytest.approx(1.45 / 50 + 1.112 / 10, abs=0.002)
    assert km[3] == float("inf")


def test_simplify_keeps_the_shape_within_the_tolerance() -> None:
    # A straight line with a 50 m kink in the middle.
    line = [32.0, 118.0, 32.0, 118.001, 32.00045, 118.002, 32.0, 118.003, 32.0, 118.004]
    assert simplify(line, 0) == line
    assert simplify(line, 10) == line  # the neighbours of the kink are 25 m off
    assert simplify(line, 30) == [32.0, 118.0, 32.00045, 118.002, 32.0, 118.004]
    assert simplify(line, 100) == [32.0, 118.0, 32.0, 118.004]


def test_a_way_cut_at_the_extract_edge_keeps_its_located_run(tmp_path: Path) -> None:
    path = tmp_path / "cut.osm"
    path.write_text(
        "<osm version='0.6'>"
        "<node id='1' version='1' lat='32.0' lon='118.0'/>"
        "<node id='2' version='1' lat='32.01' lon='118.0'/>"
        "<node id='4' version='1' lat='32.03' lon='118.0'/>"
        "<way id='9' version='1'><nd ref='1'/><nd ref='2'/><nd ref='3'/><nd ref='4'/>"
        "<tag k='highway' v='primary'/></way>"
        "<way id='10' version='1'><nd ref='7'/><nd ref='8'/><tag k='highway' v='primary'/>"
        "</way></osm>",
        encoding="utf-8",
    )
    segments, tally = _read(path)
    assert [segment.points for segment in segments] == [[(32.0, 118.0), (32.01, 118.0)]]
    assert tally.skipped == {"fewer than two located points": 1}
