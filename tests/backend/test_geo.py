"""Geodesy helpers: distances, bearings, circles, polygons, polyline distance."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.geo import (
    EARTH_RADIUS_M,
    Circle,
    Polygon,
    destination_point,
    distance_to_polyline_m,
    haversine_m,
    initial_bearing_deg,
)

BEIJING = (39.9042, 116.4074)
SHANGHAI = (31.2304, 121.4737)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180

lats = st.floats(min_value=-80, max_value=80, allow_nan=False)
lons = st.floats(min_value=-179, max_value=179, allow_nan=False)


def test_beijing_to_shanghai_is_about_1067_km() -> None:
    distance = haversine_m(*BEIJING, *SHANGHAI)
    assert distance == pytest.approx(1_067_000, rel=0.002)
    assert haversine_m(*SHANGHAI, *BEIJING) == pytest.approx(distance)


def test_one_degree_of_latitude_and_of_equatorial_longitude() -> None:
    assert haversine_m(30, 120, 31, 120) == pytest.approx(METRES_PER_DEGREE, rel=1e-9)
    assert haversine_m(0, 0, 0, 1) == pytest.approx(METRES_PER_DEGREE, rel=1e-9)
    # A degree of longitude shrinks with cos(latitude).
    assert haversine_m(60, 10, 60, 11) == pytest.approx(METRES_PER_DEGREE / 2, rel=1e-3)


def test_distance_across_the_antimeridian_is_short() -> None:
    assert haversine_m(0, 179.5, 0, -179.5) == pytest.approx(METRES_PER_DEGREE, rel=1e-9)


def test_bearings_of_the_compass_points() -> None:
    assert initial_bearing_deg(30, 120, 31, 120) == pytest.approx(0)
    assert initial_bearing_deg(30, 120, 30, 120.01) == pytest.approx(90, abs=0.01)
    assert initial_bearing_deg(30, 120, 29, 120) == pytest.approx(180)
    assert initial_bearing_deg(30, 120, 30, 119.99) == pytest.approx(270, abs=0.01)
    assert initial_bearing_deg(30, 120, 30, 120) == 0.0
    # Beijing to Shanghai heads south-south-east.
    assert 150 < initial_bearing_deg(*BEIJING, *SHANGHAI) < 156


@given(lats, lons, st.floats(0, 359.9), st.floats(1, 50_000))
def test_destination_point_inverts_distance_and_bearing(
    lat: float, lon: float, bearing: float, distance: float
) -> None:
    lat2, lon2 = destination_point(lat, lon, bearing, distance)
    assert haversine_m(lat, lon, lat2, lon2) == pytest.approx(distance, rel=1e-6, abs=1e-3)
    measured = initial_bearing_deg(lat, lon, lat2, lon2)
    assert min(abs(measured - bearing), 360 - abs(measured - bearing)) < 1e-3


def test_circle_contains_its_rim_and_not_beyond() -> None:
    circle = Circle(31.0, 121.0, 500)
    assert circle.contains(31.0, 121.0)
    assert circle.contains(*destination_point(31.0, 121.0, 45, 499.9))
    assert not circle.contains(*destination_point(31.0, 121.0, 45, 500.1))


@pytest.mark.parametrize("radius", [0, -1, math.nan, math.inf])
def test_circle_needs_a_positive_radius(radius: float) -> None:
    with pytest.raises(ValueError, match="radius"):
        Circle(31, 121, radius)


def test_circle_rejects_impossible_coordinates() -> None:
    with pytest.raises(ValueError, match="latitude"):
        Circle(91, 121, 10)
    with pytest.raises(ValueError, match="longitude"):
        Circle(31, 181, 10)


SQUARE = [(31.0, 121.0), (31.0, 121.1), (31.1, 121.1), (31.1, 121.0)]


def test_polygon_inside_outside() -> None:
    square = Polygon(SQUARE)
    assert square.contains(31.05, 121.05)
    assert not square.contains(31.15, 121.05)
    assert not square.contains(31.05, 120.95)
    assert not square.contains(30.0, 100.0)


def test_polygon_edges_and_vertices_count_as_inside() -> None:
    square = Polygon(SQUARE)
    assert square.contains(31.0, 121.05)  # bottom edge
    assert square.contains(31.05, 121.1)  # right edge
    assert square.contains(31.1, 121.1)  # a vertex
    assert square.contains(31.0, 121.0)  # the first vertex


def test_polygon_ray_through_a_vertex_is_not_double_counted() -> None:
    diamond = Polygon([(31.0, 121.05), (31.05, 121.1), (31.1, 121.05), (31.05, 121.0)])
    # The horizontal ray from these points passes exactly through a vertex.
    assert diamond.contains(31.05, 121.02)
    assert not diamond.contains(31.05, 120.99)
    assert not diamond.contains(31.05, 121.11)


def test_polygon_closed_ring_equals_open_ring() -> None:
    assert Polygon([*SQUARE, SQUARE[0]]) == Polygon(SQUARE)


def test_concave_polygon() -> None:
    # A "U": the notch between the arms is outside.
    shape = Polygon(
        [
            (31.0, 121.0),
            (31.0, 121.3),
            (31.3, 121.3),
            (31.3, 121.2),
            (31.1, 121.2),
            (31.1, 121.1),
            (31.3, 121.1),
            (31.3, 121.0),
        ]
    )
    assert shape.contains(31.2, 121.05)  # left arm
    assert shape.contains(31.2, 121.25)  # right arm
    assert not shape.contains(31.2, 121.15)  # the notch
    assert shape.contains(31.05, 121.15)  # the base


def test_polygon_with_a_hole() -> None:
    hole = [(31.04, 121.04), (31.04, 121.06), (31.06, 121.06), (31.06, 121.04)]
    ring = Polygon(SQUARE, holes=[hole])
    assert not ring.contains(31.05, 121.05)  # inside the hole
    assert ring.contains(31.02, 121.02)  # between the rings
    assert ring.contains(31.04, 121.05)  # on the hole's edge: part of the polygon
    assert not ring.contains(31.2, 121.05)


@pytest.mark.parametrize(
    "ring",
    [
        [],
        [(31.0, 121.0), (31.1, 121.1)],
        [(31.0, 121.0), (31.1, 121.1), (31.0, 121.0)],
        [(31.0, 121.0), (31.1, 121.1), (95.0, 121.0)],
    ],
)
def test_degenerate_polygons_are_refused(ring: list[tuple[float, float]]) -> None:
    with pytest.raises(ValueError, match=r"vertices|latitude"):
        Polygon(ring)


def test_distance_to_a_polyline_segment_and_its_ends() -> None:
    route = [(31.0, 121.0), (31.0, 121.1)]  # 0.1 degree east along a parallel
    # 1 km north of the middle of the segment.
    north = destination_point(31.0, 121.05, 0, 1000)
    assert distance_to_polyline_m(*north, route) == pytest.approx(1000, rel=0.005)
    # Beyond the east end: the distance is to the end vertex.
    east = destination_point(31.0, 121.1, 90, 2000)
    assert distance_to_polyline_m(*east, route) == pytest.approx(2000, rel=0.005)
    assert distance_to_polyline_m(31.0, 121.05, route) == pytest.approx(0, abs=0.5)


def test_distance_to_a_bent_polyline_takes_the_nearest_leg() -> None:
    route = [(31.0, 121.0), (31.0, 121.1), (31.1, 121.1)]
    west_of_north_leg = destination_point(31.05, 121.1, 270, 300)
    assert distance_to_polyline_m(*west_of_north_leg, route) == pytest.approx(300, rel=0.005)


def test_single_vertex_polyline_is_a_point_and_empty_is_an_error() -> None:
    assert distance_to_polyline_m(31.0, 121.0, [(31.01, 121.0)]) == pytest.approx(
        haversine_m(31.0, 121.0, 31.01, 121.0), rel=1e-4
    )
    with pytest.raises(ValueError, match="vertex"):
        distance_to_polyline_m(31.0, 121.0, [])


@given(
    st.tuples(st.floats(18, 53), st.floats(73, 135)),
    st.tuples(st.floats(0, 359.9), st.floats(1, 5000)),
    st.tuples(st.floats(0, 359.9), st.floats(1, 5000)),
)
def test_corridor_distance_to_a_point_agrees_with_haversine(
    point: tuple[float, float], leg1: tuple[float, float], leg2: tuple[float, float]
) -> None:
    lat, lon = point
    (bearing1, d1), (bearing2, d2) = leg1, leg2
    # A degenerate leg (both ends equal) is a point: compare with the great-circle distance.
    vertex = destination_point(lat, lon, bearing1, d1)
    expected = haversine_m(lat, lon, *vertex)
    assert distance_to_polyline_m(lat, lon, [vertex, vertex]) == pytest.approx(expected, rel=0.005)
    # A leg is never farther than its nearer end.
    other = destination_point(lat, lon, bearing2, d2)
    nearest_end = min(expected, haversine_m(lat, lon, *other))
    assert distance_to_polyline_m(lat, lon, [vertex, other]) <= nearest_end * 1.005 + 0.01
