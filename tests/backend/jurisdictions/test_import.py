"""Importing towns and villages: each format, every validation problem, all-or-nothing."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from backend.errors import ValidationError
from backend.jurisdictions.codes import Level
from backend.jurisdictions.datum import gcj02_to_wgs84, wgs84_to_gcj02
from backend.jurisdictions.importer import (
    Datum,
    FieldNames,
    Format,
    ImportOptions,
    Report,
    geojson_geometry,
    read_features,
    rings_of_geometry,
    validate,
)
from backend.jurisdictions.tree import JurisdictionTree
from tests.backend.jurisdictions.fixtures import (
    GOOD,
    TOWN_A,
    TOWN_B,
    VILLAGE,
    csv_row,
    feature,
    shapefile_writer,
    square,
    write_csv,
    write_geojson,
    write_shapefile,
)


@pytest.fixture(scope="module")
def tree() -> JurisdictionTree:
    return JurisdictionTree()


def check(tree: JurisdictionTree, path: Path, **options: object) -> Report:
    fmt = Format.of(path)
    fields = options.pop("fields", FieldNames())
    assert isinstance(fields, FieldNames)
    features = read_features(path, fmt, fields)
    return validate(
        features,
        tree,
        source=path.name,
        options=ImportOptions(fields=fields, **options),  # type: ignore[arg-type]
    )


def problems(report: Report) -> list[tuple[str, str, str]]:
    return [(p.where, p.field, p.reason) for p in report.problems]


def test_a_good_geojson_file_is_accepted_whole(tree: JurisdictionTree, tmp_path: Path) -> None:
    report = check(tree, write_geojson(tmp_path / "towns.geojson", [feature(i) for i in GOOD]))
    assert report.ok, problems(report)
    assert [n.code for n in report.accepted] == ["330106001", "330106001001", "330106002"]
    town, village, _ = report.accepted
    assert (town.name, town.level, town.parent) == ("北山街道", Level.TOWN, "330106")
    assert (village.level, village.parent) == (Level.VILLAGE, "330106001")
    assert report.counts() == {Level.TOWN: 2, Level.VILLAGE: 1}
    assert village.bbox == pytest.approx((120.105, 30.255, 120.115, 30.265))


def test_csv_with_wkt_and_chinese_headers(tree: JurisdictionTree, tmp_path: Path) -> None:
    rows = [
        {"代码": r["code"], "名称": r["name"], "上级": r["parent"], "边界": r["wkt"]}
        for r in (csv_row(i) for i in GOOD)
    ]
    path = write_csv(tmp_path / "村社.csv", rows, header=("代码", "名称", "上级", "边界"))
    report = check(tree, path)
    assert report.ok, problems(report)
    assert len(report.accepted) == 3


def test_shapefile_utf8_and_gbk(tree: JurisdictionTree, tmp_path: Path) -> None:
    for encoding in ("utf-8", "gbk"):
        path = write_shapefile(tmp_path / f"towns-{encoding}.shp", GOOD, encoding=encoding)
        if encoding == "gbk":
            path.with_suffix(".cpg").unlink(missing_ok=True)
        report = check(tree, path)
        assert report.ok, problems(report)
        assert sorted(n.name for n in report.accepted) == ["北山街道", "曙光社区", "西溪街道"]


def test_shapefile_holes_are_kept(tmp_path: Path) -> None:
    outer = square(120.10, 30.25, 0.02)
    hole = square(120.105, 30.255, 0.005)
    path = tmp_path / "holed.shp"
    with shapefile_writer(path) as writer:
        writer.field("code", "C", size=20)
        writer.field("name", "C", size=20)
        writer.poly([list(reversed(outer)), hole])
        writer.record("330106001", "北山街道")
        writer.null()
        writer.record("330106002", "点")
    features = read_features(path, Format.SHP)
    assert [len(p) for p in features[0].polygons] == [2], "one polygon with its hole"
    assert "not a polygon" in features[1].geometry_problem


def test_field_names_can_be_chosen(tree: JurisdictionTree, tmp_path: Path) -> None:
    item = feature(TOWN_B)
    item["properties"] = {"XZQDM": "330106002000", "XZQMC": "西溪街道"}
    path = write_geojson(tmp_path / "t.json", [item])
    report = check(tree, path, fields=FieldNames(code=("XZQDM",), name=("XZQMC",)))
    assert report.ok, problems(report)
    assert report.accepted[0].code == "330106002"


def _one_problem(
    tree: JurisdictionTree, tmp_path: Path, item: dict[str, object]
) -> tuple[str, str]:
    report = check(tree, write_geojson(tmp_path / "bad.geojson", [feature(TOWN_A), item]))
    found = problems(report)
    assert len(found) == 1, found
    where, field, reason = found[0]
    assert where == "feature 2"
    return field, reason


@pytest.mark.parametrize(
    ("item", "field", "reason"),
    [
        (feature(VILLAGE, parent="330106009"), "parent", "unknown parent 330106009"),
        (feature(TOWN_B, code="330105002", parent="330106"), "code", "does not extend"),
        (feature(TOWN_A), "code", "duplicate code 330106001 (also feature 1)"),
        (feature(TOWN_B, code="330106"), "code", "a district of the basemap"),
        (feature(TOWN_B, code="3301"), "code", "a city of the basemap"),
        (feature(TOWN_B, code="339999"), "code", "339999 is a district code"),
        (feature(TOWN_B, code="abc"), "code", "is not a region code"),
        (feature(TOWN_B, code=""), "code", "missing"),
        (feature(TOWN_B, name=""), "name", "missing"),
        (feature(TOWN_B, name="长" * 200), "name", "longer than 128"),
        (feature(TOWN_B, code="330106B2"), "parent", "needs one"),
        (feature(TOWN_B, parent="x"), "parent", "is not a region code"),
        (feature(TOWN_B, code="33010600200!"), "code", "must be up to"),
        (feature(VILLAGE, code="330106001009", parent="330106"), "parent", "parent must be a town"),
    ],
)
def test_each_field_problem_is_reported(
    tree: JurisdictionTree, tmp_path: Path, item: dict[str, object], field: str, reason: str
) -> None:
    found_field, found_reason = _one_problem(tree, tmp_path, item)
    assert found_field == field
    assert reason in found_reason


def _geometry(coordinates: object, kind: str = "Polygon") -> dict[str, object]:
    return {**TOWN_B, "geometry": {"type": kind, "coordinates": coordinates}}


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (_geometry([[[120.12, 30.25], [120.14, 30.25], [120.14, 30.27]]]), "not closed"),
        (_geometry([[[120.12, 30.25], [120.14, 30.25], [120.12, 30.25]]]), "fewer than 3"),
        (
            _geometry([[[120.12, 30.25], [math.nan, 30.25], [120.14, 30.27], [120.12, 30.25]]]),
            "finite",
        ),
        (
            _geometry([[[13_370_000.0, 3_537_000.0], [1, 2], [3, 4], [13_370_000.0, 3_537_000.0]]]),
            "out of range",
        ),
        (_geometry([[["a", 30.25]]]), "number pairs"),
        (_geometry([[]]), "no points"),
        (_geometry([]), "no rings"),
        (_geometry([], kind="MultiPolygon"), "no polygon"),
        (_geometry([[]], kind="MultiPolygon"), "no rings"),
        (_geometry([120.1, 30.2], kind="Point"), "Polygon or MultiPolygon, not Point"),
        (
            {**TOWN_B, "ring": square(121.5, 31.2, 0.02)},
            "100% of its outline lies more than 1000 m outside",
        ),
    ],
)
def test_each_geometry_problem_is_reported(
    tree: JurisdictionTree, tmp_path: Path, item: dict[str, object], reason: str
) -> None:
    field, found = _one_problem(tree, tmp_path, feature(item))
    assert field == "geometry"
    assert reason in found


def test_a_level_given_must_match_the_codes(tree: JurisdictionTree, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "t.geojson", [feature(i) for i in GOOD])
    report = check(tree, path, level=Level.TOWN)
    assert problems(report) == [
        (
            "feature 3",
            "code",
            "330106001001 is a village code, not a town: import towns and villages only",
        )
    ]


def test_local_codes_take_their_level_from_the_parent(
    tree: JurisdictionTree, tmp_path: Path
) -> None:
    local = {**VILLAGE, "code": "330106001A7", "parent": "330106001"}
    report = check(tree, write_geojson(tmp_path / "t.geojson", [feature(TOWN_A), feature(local)]))
    assert report.ok, problems(report)
    assert report.accepted[1].level is Level.VILLAGE


def test_children_of_a_refused_parent_are_refused(tree: JurisdictionTree, tmp_path: Path) -> None:
    bad_town = feature(TOWN_A, name="")
    report = check(tree, write_geojson(tmp_path / "t.geojson", [bad_town, feature(VILLAGE)]))
    assert [(p.where, p.field) for p in report.problems] == [
        ("feature 1", "name"),
        ("feature 2", "parent"),
    ]


def test_gcj02_outlines_are_converted_to_wgs84(tree: JurisdictionTree, tmp_path: Path) -> None:
    ring = np.asarray(TOWN_B["ring"])
    lon, lat = wgs84_to_gcj02(ring[:, 0], ring[:, 1])
    assert abs(lon[0] - ring[0, 0]) > 0.003, "GCJ-02 moves Hangzhou by some 500 m"
    shifted = {**TOWN_B, "ring": np.column_stack([lon, lat]).tolist()}
    path = write_geojson(tmp_path / "gaode.geojson", [feature(shifted)])
    report = check(tree, path, datum=Datum.GCJ02)
    assert report.ok, problems(report)
    stored = report.polygons["330106002"][0][0]
    assert np.allclose(stored, ring, atol=1e-6)
    back_lon, back_lat = gcj02_to_wgs84(np.array([10.0]), np.array([10.0]))
    assert (back_lon[0], back_lat[0]) == (10.0, 10.0), "outside China nothing moves"


def test_a_wrong_datum_is_caught_by_the_distance_from_the_parent(
    tree: JurisdictionTree, tmp_path: Path
) -> None:
    far = {**TOWN_B, "ring": (np.asarray(TOWN_B["ring"]) + np.array([0.6, 0.0])).tolist()}
    report = check(tree, write_geojson(tmp_path / "t.geojson", [feature(far)]))
    assert "try --datum gcj02" in report.problems[0].reason


def test_csv_problems(tree: JurisdictionTree, tmp_path: Path) -> None:
    rows = [csv_row(TOWN_A), {**csv_row(TOWN_B), "wkt": "POINT (120 30)"}]
    report = check(tree, write_csv(tmp_path / "t.csv", rows))
    assert problems(report) == [
        ("row 3", "geometry", "POINT is not a polygon: give POLYGON or MULTIPOLYGON")
    ]
    with pytest.raises(ValidationError, match="no geometry column"):
        read_features(write_csv(tmp_path / "n.csv", [], header=("code", "name")), Format.CSV)
    (tmp_path / "gbk.csv").write_bytes("code,name,wkt\n1,北山,x\n".encode("gbk"))
    with pytest.raises(ValidationError, match="UTF-8"):
        read_features(tmp_path / "gbk.csv", Format.CSV)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.geojson", "{", "cannot read a.geojson as GeoJSON"),
        ("b.geojson", '{"type": "Point"}', "not a GeoJSON FeatureCollection"),
        ("c.shp", "junk", "cannot read c.shp as a Shapefile"),
        ("d.txt", "", "cannot tell the format"),
    ],
)
def test_unreadable_files_are_refused(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValidationError, match=message):
        read_features(path, Format.of(path))


def test_a_single_feature_and_odd_features(tree: JurisdictionTree, tmp_path: Path) -> None:
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps(feature(TOWN_B)))
    features = read_features(path, Format.GEOJSON)
    assert [f.properties["code"] for f in features] == ["330106002"]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [7]}))
    assert read_features(path, Format.GEOJSON)[0].geometry_problem == "not a GeoJSON feature"
    with pytest.raises(ValidationError, match="cannot open"):
        read_features(tmp_path / "missing.csv", Format.CSV)


def test_stored_geometry_round_trips() -> None:
    polygons = [[np.asarray(square(120.1, 30.2, 0.01)), np.asarray(square(120.102, 30.202, 0.002))]]
    geometry = geojson_geometry(polygons)
    assert geometry["type"] == "MultiPolygon"
    rings = rings_of_geometry(json.loads(json.dumps(geometry)))
    assert len(rings) == 2
    assert np.allclose(rings[0], polygons[0][0])
    assert len(rings_of_geometry({"type": "Polygon", "coordinates": [square(1, 2, 1)]})) == 1


def test_numbers_and_nulls_in_properties(tree: JurisdictionTree, tmp_path: Path) -> None:
    item = feature(TOWN_B)
    item["properties"] = {"code": 330106002000.0, "name": "西溪街道", "parent": None}
    report = check(tree, write_geojson(tmp_path / "n.geojson", [item]))
    assert report.ok, problems(report)
    assert report.accepted[0].code == "330106002"


@pytest.mark.parametrize(("shapes", "records"), [(3, 1), (1, 3)])
def test_a_dbf_that_does_not_match_its_shp_is_refused(
    tmp_path: Path, shapes: int, records: int
) -> None:
    # A .dbf copied from another export: pairing shapes with records silently dropped
    # the features (or attributes) one side lacked, and the rest looked imported whole.
    path = write_shapefile(tmp_path / "towns.shp", GOOD[:shapes])
    other = write_shapefile(tmp_path / "other.shp", GOOD[:records])
    path.with_suffix(".dbf").write_bytes(other.with_suffix(".dbf").read_bytes())
    with pytest.raises(
        ValidationError, match=f"towns.dbf holds {records} records but towns.shp {shapes} shapes"
    ):
        read_features(path, Format.SHP)
