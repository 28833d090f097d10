"""The tree from the shipped basemap: codes, names, chains, and placing points."""

from __future__ import annotations

import numpy as np
import pytest

from backend.errors import ValidationError
from backend.jurisdictions.codes import Level
from backend.jurisdictions.tree import BASEMAP_SOURCE, Jurisdiction, JurisdictionTree, bbox_of

WEST_LAKE = (30.2590, 120.1300)
"""西湖 itself, in 西湖区 (330106)."""
LUJIAZUI = (31.2304, 121.5440)
"""陆家嘴, in 浦东新区 (310115)."""
EAST_CHINA_SEA = (30.0, 124.0)


@pytest.fixture(scope="module")
def tree() -> JurisdictionTree:
    return JurisdictionTree()


@pytest.mark.parametrize(
    ("point", "code"),
    [
        (WEST_LAKE, "330106"),
        (LUJIAZUI, "310115"),
        (EAST_CHINA_SEA, ""),
        ((39.9087, 116.3975), "110101"),  # 天安门, 东城区
        ((23.0207, 113.7518), "4419"),  # 东莞: a city without districts
        ((29.5600, 106.5500), "500103"),  # 渝中区, directly under 重庆
        ((22.2800, 114.1600), "810001"),  # 香港 中西区
        ((35.0, 139.0), ""),  # Japan
        ((32.2563, 118.7818), "320116"),  # the demo's chemical park, 南京 六合区
    ],
)
def test_a_point_is_placed_in_the_deepest_jurisdiction(
    tree: JurisdictionTree, point: tuple[float, float], code: str
) -> None:
    assert tree.place(*point) == code
    assert tree.place_many([point[0]], [point[1]]) == [code]


def test_nothing_to_place(tree: JurisdictionTree) -> None:
    assert tree.place(None, 120.0) == ""
    assert tree.place_many([], []) == []
    with pytest.raises(ValueError, match="as many"):
        tree.place_many([1.0, 2.0], [1.0])


def test_chains_and_levels(tree: JurisdictionTree) -> None:
    pudong = tree.lookup("310115")
    assert (pudong.name, pudong.level, pudong.parent) == ("浦东新区", Level.DISTRICT, "3101")
    assert [n.code for n in tree.ancestors("310115")] == ["31", "3101"]
    assert tree.lookup("310000").level is Level.PROVINCE
    shanghai = tree.lookup("310100")
    assert (shanghai.code, shanghai.level, shanghai.source) == ("3101", Level.CITY, BASEMAP_SOURCE)
    assert tree.lookup("4419").level is Level.CITY
    assert tree.lookup("469001").parent == "46", "counties directly under 海南"
    assert tree.lookup("500101").parent == "50"
    assert "50" in tree
    assert "5000" not in tree
    assert 42 not in tree
    with pytest.raises(ValidationError, match="no jurisdiction"):
        tree.lookup("339999")
    assert tree.get("") is None


def test_children_and_descendants(tree: JurisdictionTree) -> None:
    provinces = tree.children("")
    assert len(provinces) == 34
    hangzhou = [n.code for n in tree.children("3301")]
    assert "330106" in hangzhou
    assert len(hangzhou) == 13
    zhejiang = tree.descendants("33", Level.DISTRICT)
    assert len(zhejiang) == 90
    assert all(n.code.startswith("33") for n in zhejiang)
    assert len(tree.descendants("")) > 3000


def test_boundaries(tree: JurisdictionTree) -> None:
    for code in ("33", "3301", "330106", "4419"):
        rings = tree.boundary(code)
        assert rings, code
        min_lon, min_lat, max_lon, max_lat = bbox_of(rings)
        assert min_lon < max_lon
        assert min_lat < max_lat
    assert tree.boundary("nope") == ()


def test_random_points_in_zhejiang_agree_one_by_one_and_in_bulk(tree: JurisdictionTree) -> None:
    rng = np.random.default_rng(7)
    lat = rng.uniform(27.0, 31.2, 500)
    lon = rng.uniform(118.0, 122.9, 500)
    bulk = tree.place_many(lat, lon)
    assert bulk == [tree.place(a, b) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)]
    assert sum(code.startswith("33") for code in bulk) > 200


def test_imported_towns_are_placed_below_their_district() -> None:
    square = np.array(
        [[120.10, 30.25], [120.12, 30.25], [120.12, 30.27], [120.10, 30.27], [120.10, 30.25]]
    )
    town = Jurisdiction(
        code="330106001",
        name="测试街道",
        level=Level.TOWN,
        parent="330106",
        bbox=bbox_of([square]),
        source="t.geojson",
        rings=(square,),
    )
    tree = JurisdictionTree([town])
    assert tree.imported_count == 1
    assert tree.place(30.26, 120.11) == "330106001"
    assert tree.place_many([30.26, 30.26], [120.11, 120.13]) == ["330106001", "330106"]
    assert [n.code for n in tree.children("330106")][-1] == "330106001"
    assert tree.ancestors("330106001")[-1].code == "330106"
    tree.replace_imported([])
    assert tree.place(30.26, 120.11) == "330106"
