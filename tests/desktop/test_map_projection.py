"""Coordinates: WGS-84 ↔ Web Mercator, GCJ-02 ↔ WGS-84."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desktop.map.projection import (
    HALF_WORLD,
    MAX_LATITUDE,
    distance_m,
    from_mercator,
    from_mercator_arrays,
    gcj02_to_wgs84,
    ground_resolution,
    outside_china,
    to_mercator,
    to_mercator_arrays,
    wgs84_to_gcj02,
)

PLACES = [
    (120.15515, 30.27415),  # Hangzhou
    (116.39747, 39.90873),  # Beijing
    (87.61688, 43.82663),  # Ürümqi
    (113.26436, 23.12908),  # Guangzhou
    (126.53500, 45.80282),  # Harbin
    (91.11450, 29.64415),  # Lhasa
    (121.47370, 31.23041),  # Shanghai
]


def test_mercator_known_values() -> None:
    assert to_mercator(0.0, 0.0) == pytest.approx((0.0, 0.0), abs=1e-6)
    assert to_mercator(180.0, 0.0)[0] == pytest.approx(HALF_WORLD)
    assert to_mercator(0.0, MAX_LATITUDE)[1] == pytest.approx(HALF_WORLD, rel=1e-9)
    x, y = to_mercator(120.0, 30.0)
    assert x == pytest.approx(13_358_338.9, abs=0.5)
    assert y == pytest.approx(3_503_549.8, abs=0.5)


@pytest.mark.parametrize(("lon", "lat"), [*PLACES, (-73.98, 40.75), (151.2, -33.86), (0.0, 0.0)])
def test_mercator_round_trip(lon: float, lat: float) -> None:
    back_lon, back_lat = from_mercator(*to_mercator(lon, lat))
    assert back_lon == pytest.approx(lon, abs=1e-9)
    assert back_lat == pytest.approx(lat, abs=1e-9)


def test_mercator_arrays_match_scalars() -> None:
    lon = np.array([p[0] for p in PLACES])
    lat = np.array([p[1] for p in PLACES])
    x, y = to_mercator_arrays(lon, lat)
    for index, (one_lon, one_lat) in enumerate(PLACES):
        assert (x[index], y[index]) == pytest.approx(to_mercator(one_lon, one_lat))
    back_lon, back_lat = from_mercator_arrays(x, y)
    assert np.allclose(back_lon, lon)
    assert np.allclose(back_lat, lat)


def test_latitude_is_clamped_at_the_poles() -> None:
    assert to_mercator(0.0, 90.0)[1] == pytest.approx(HALF_WORLD, rel=1e-9)
    assert to_mercator(0.0, -90.0)[1] == pytest.approx(-HALF_WORLD, rel=1e-9)


@pytest.mark.parametrize(("lon", "lat"), PLACES)
def test_gcj02_offsets_china_by_hundreds_of_metres(lon: float, lat: float) -> None:
    offset = distance_m(lon, lat, *wgs84_to_gcj02(lon, lat))
    assert 50.0 < offset < 1000.0


@pytest.mark.parametrize(("lon", "lat"), PLACES)
def test_gcj02_round_trip_within_a_metre(lon: float, lat: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert distance_m(lon, lat, *back) < 1.0
    # and the other way round: a GCJ-02 point read off a Chinese tile set
    gcj = (lon, lat)
    assert distance_m(*gcj, *wgs84_to_gcj02(*gcj02_to_wgs84(*gcj))) < 1.0


def test_beijing_offset_matches_the_published_direction() -> None:
    gcj_lon, gcj_lat = wgs84_to_gcj02(116.39747, 39.90873)
    # Tiananmen moves about 0.006° east and 0.0014° north in GCJ-02.
    assert gcj_lon - 116.39747 == pytest.approx(0.00627, abs=0.0003)
    assert gcj_lat - 39.90873 == pytest.approx(0.00137, abs=0.0003)


@pytest.mark.parametrize(
    ("lon", "lat"), [(-0.1276, 51.5072), (-73.98, 40.75), (151.2, -33.86), (139.7, 35.7)]
)
def test_no_offset_outside_china(lon: float, lat: float) -> None:
    assert outside_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_ground_resolution_undoes_mercator_stretch() -> None:
    assert ground_resolution(10.0, 0.0) == pytest.approx(10.0)
    assert ground_resolution(10.0, 60.0) == pytest.approx(5.0)
    # a Mercator metre at 30°N is cos(30°) ground metres
    x0, y0 = to_mercator(120.0, 30.0)
    lon1, lat1 = from_mercator(x0 + 1000.0, y0)
    assert distance_m(120.0, 30.0, lon1, lat1) == pytest.approx(
        1000.0 * math.cos(math.radians(30.0)), rel=1e-3
    )
