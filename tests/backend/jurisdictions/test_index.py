"""The grid index agrees with a plain point-in-polygon test, point for point."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backend.geo import Polygon
from backend.jurisdictions.index import PolygonIndex


def _star(cx: float, cy: float, radius: float, points: int, rng: np.random.Generator) -> np.ndarray:
    angles = np.sort(rng.uniform(0, 2 * math.pi, points))
    radii = radius * rng.uniform(0.4, 1.0, points)
    ring = np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
    return np.vstack([ring, ring[:1]])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_polygons_match_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rings = [_star(120 + k * 0.3, 30 + (k % 2) * 0.1, 0.25, 40, rng) for k in range(5)]
    index = PolygonIndex([[ring] for ring in rings], cell_deg=0.05)
    references = [Polygon([(lat, lon) for lon, lat in ring]) for ring in rings]
    lon = rng.uniform(119.6, 121.6, 3000)
    lat = rng.uniform(29.6, 30.5, 3000)
    found = index.locate(lon, lat)
    for x, y, answer in zip(lon.tolist(), lat.tolist(), found.tolist(), strict=True):
        inside = [k for k, polygon in enumerate(references) if polygon.contains(y, x)]
        if answer < 0:
            assert inside == [], (x, y)
        else:
            assert answer in inside, (x, y)
        assert index.locate_one(x, y) == answer


def test_holes_and_enclaves_follow_the_even_odd_rule() -> None:
    outer = np.array([[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], dtype=float)
    hole = np.array([[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]], dtype=float)
    index = PolygonIndex([[outer, hole], [hole]], cell_deg=0.7)
    lon = np.array([0.5, 2.0, 3.5, 5.0, np.nan])
    lat = np.array([0.5, 2.0, 3.5, 5.0, 1.0])
    assert index.locate(lon, lat).tolist() == [0, 1, 0, -1, -1]
    assert [index.locate_one(x, y) for x, y in zip(lon, lat, strict=True)] == [0, 1, 0, -1, -1]


def test_a_point_in_a_gap_snaps_to_the_nearest_within_the_distance() -> None:
    # Two squares 0.002° (≈ 190 m) apart: the gap between them belongs to neither.
    left = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=float)
    right = left + np.array([1.002, 0.0])
    index = PolygonIndex([[left], [right]], snap_m=300.0)
    strict = PolygonIndex([[left], [right]])
    lon = np.array([1.0005, 1.0016, 1.1, 2.1, 2.004])
    lat = np.full(5, 0.5)
    assert index.locate(lon, lat).tolist() == [0, 1, 1, -1, 1]
    assert [index.locate_one(x, 0.5) for x in lon] == [0, 1, 1, -1, 1]
    assert strict.locate(lon, lat).tolist() == [-1, -1, 1, -1, -1]


def test_an_empty_index_places_nothing() -> None:
    index = PolygonIndex([])
    assert index.locate(np.array([1.0]), np.array([1.0])).tolist() == [-1]
    assert index.locate_one(1.0, 1.0) == -1
    degenerate = PolygonIndex([[np.array([[0.0, 0.0], [1.0, 1.0]])]])
    assert degenerate.locate_one(0.5, 0.5) == -1
