"""The backend's basemap reader: bad files are refused clearly; a province without a
district file still places points in the province."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from backend.jurisdictions.basemap import (
    BASEMAP_DIR,
    BasemapSource,
    Error,
    mercator_to_lonlat,
    read_layer,
)
from backend.jurisdictions.tree import JurisdictionTree


def test_mercator_to_lonlat() -> None:
    lonlat = mercator_to_lonlat(np.array([[0.0, 0.0], [13_358_338.9, 3_503_549.8]]))
    assert lonlat[0] == pytest.approx([0.0, 0.0])
    assert lonlat[1] == pytest.approx([120.0, 30.0], abs=1e-5)


def test_unusable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(Error, match="cannot read basemap layer"):
        read_layer(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(
        bad,
        xy=np.zeros((3, 3), dtype=np.float32),
        ring_starts=np.array([0, 3]),
        feature_rings=np.array([0, 1]),
        codes=np.array(["1"]),
        names=np.array(["x"]),
        parents=np.array([""]),
    )
    with pytest.raises(Error, match="not a basemap layer"):
        read_layer(bad)


def test_a_province_without_districts_places_in_the_province(tmp_path: Path) -> None:
    for name in ("provinces.npz", "cities.npz"):
        shutil.copy(BASEMAP_DIR / name, tmp_path / name)
    assert BasemapSource(tmp_path).county_provinces == ()
    tree = JurisdictionTree(basemap_dir=tmp_path)
    assert tree.place(30.259, 120.130) == "33"
    assert tree.children("33") == [n for n in tree.children("33") if n.code.startswith("33")]
    assert tree.boundary("3301"), "a city's outline from the city layer"
