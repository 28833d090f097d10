"""Geodesy helpers on WGS-84 degrees: distances, bearings, circles, polygons, polylines.

Everything here is pure and works on latitude/longitude in decimal degrees (WGS-84, as
stored; never GCJ-02). Distances use a spherical Earth of mean radius
:data:`EARTH_RADIUS_M`, which is within 0.5 % of the ellipsoid everywhere — far better
than the GNSS fixes they are applied to.

Polygon containment is planar in (longitude, latitude). That is exact enough for
geofences of city or provincial size; polygons crossing the antimeridian or a pole are not
supported (none exist in China).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG R1) in metres."""

LatLon = tuple[float, float]
"""A point as ``(lat, lon)`` in WGS-84 decimal degrees (latitude first)."""

_BOUNDARY_TOLERANCE_DEG = 1e-9
"""Points this close (in degrees, about 0.1 mm) to an edge count as on the boundary."""


def _check_point(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"coordinates must be finite numbers, not ({lat}, {lon})")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon} is outside [-180, 180]")


def _wrap_degrees(delta: float) -> float:
    """Wrap a longitude difference into [-180, 180)."""
    return (delta + 180.0) % 360.0 - 180.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine formula)."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(_wrap_degrees(lon2 - lon1))
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def initial_bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing from point 1 to point 2, degrees clockwise from true
    north in ``[0, 360)``. Coincident points give 0."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dlambda = math.radians(_wrap_degrees(lon2 - lon1))
    y = math.sin(dlambda) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlambda)
    if x == 0.0 and y == 0.0:
        return 0.0
    return math.degrees(math.atan2(y, x)) % 360.0


def destination_point(lat: float, lon: float, bearing_deg: float, distance_m: float) -> LatLon:
    """The point ``distance_m`` metres from (lat, lon) along the initial bearing
    ``bearing_deg`` on the great circle (the inverse of :func:`haversine_m` and
    :func:`initial_bearing_deg`)."""
    delta = distance_m / EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    phi1 = math.radians(lat)
    lambda1 = math.radians(lon)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * sin_phi2,
    )
    return math.degrees(phi2), _wrap_degrees(math.degrees(lambda2))


def _local_xy(origin_lat: float, origin_lon: float, lat: float, lon: float) -> tuple[float, float]:
    """Equirectangular projection of (lat, lon) into metres east/north of the origin."""
    x = math.radians(_wrap_degrees(lon - origin_lon)) * math.cos(math.radians(origin_lat))
    y = math.radians(lat - origin_lat)
    return x * EARTH_RADIUS_M, y * EARTH_RADIUS_M


def _distance_origin_to_segment(ax: float, ay: float, bx: float, by: float) -> float:
    """Planar distance from (0, 0) to the segment a–b."""
    dx = bx - ax
    dy = by - ay
    length_squared = dx * dx + dy * dy
    if length_squared == 0.0:
        return math.hypot(ax, ay)
    t = max(0.0, min(1.0, -(ax * dx + ay * dy) / length_squared))
    return math.hypot(ax + t * dx, ay + t * dy)


def distance_to_polyline_m(lat: float, lon: float, polyline: Sequence[LatLon]) -> float:
    """Shortest distance in metres from (lat, lon) to a polyline of ``(lat, lon)`` vertices.

    The polyline is projected onto a local equirectangular plane centred on the point, which
    is accurate to well under 0.5 % for the distances a route corridor cares about (up to a
    few kilometres). A single vertex is a point; an empty polyline is an error.
    """
    if not polyline:
        raise ValueError("a polyline needs at least one vertex")
    projected = [_local_xy(lat, lon, vertex_lat, vertex_lon) for vertex_lat, vertex_lon in polyline]
    if len(projected) == 1:
        return math.hypot(*projected[0])
    return min(
        _distance_origin_to_segment(ax, ay, bx, by)
        for (ax, ay), (bx, by) in itertools.pairwise(projected)
    )


@dataclass(frozen=True, slots=True)
class Circle:
    """A circle of ``radius_m`` metres around (lat, lon); the rim counts as inside."""

    lat: float
    lon: float
    radius_m: float

    def __post_init__(self) -> None:
        _check_point(self.lat, self.lon)
        if not (math.isfinite(self.radius_m) and self.radius_m > 0):
            raise ValueError(f"a circle's radius must be positive, not {self.radius_m}")

    def contains(self, lat: float, lon: float) -> bool:
        """True if (lat, lon) is within the circle (great-circle distance ≤ radius)."""
        return haversine_m(self.lat, self.lon, lat, lon) <= self.radius_m


def _clean_ring(ring: Sequence[LatLon], what: str) -> tuple[LatLon, ...]:
    points = tuple((float(lat), float(lon)) for lat, lon in ring)
    for lat, lon in points:
        _check_point(lat, lon)
    if len(points) > 1 and points[0] == points[-1]:
        points = points[:-1]  # an explicitly closed ring: drop the repeated vertex
    if len(set(points)) < 3:
        raise ValueError(f"a polygon's {what} needs at least 3 distinct vertices")
    return points


def _on_segment(lat: float, lon: float, a: LatLon, b: LatLon) -> bool:
    (alat, alon), (blat, blon) = a, b
    if not (
        min(alat, blat) - _BOUNDARY_TOLERANCE_DEG
        <= lat
        <= max(alat, blat) + _BOUNDARY_TOLERANCE_DEG
        and min(alon, blon) - _BOUNDARY_TOLERANCE_DEG
        <= lon
        <= max(alon, blon) + _BOUNDARY_TOLERANCE_DEG
    ):
        return False
    cross = (blon - alon) * (lat - alat) - (blat - alat) * (lon - alon)
    span = math.hypot(blon - alon, blat - alat)
    return abs(cross) <= _BOUNDARY_TOLERANCE_DEG * max(span, 1e-12)


def _ring_position(lat: float, lon: float, ring: tuple[LatLon, ...]) -> int:
    """1 strictly inside, 0 on the boundary, -1 outside (even-odd rule, planar)."""
    inside = False
    previous = ring[-1]
    for current in ring:
        if _on_segment(lat, lon, previous, current):
            return 0
        (plat, plon), (clat, clon) = previous, current
        if (clat > lat) != (plat > lat):
            crossing_lon = clon + (lat - clat) * (plon - clon) / (plat - clat)
            if lon < crossing_lon:
                inside = not inside
        previous = current
    return 1 if inside else -1


@dataclass(frozen=True, slots=True, init=False)
class Polygon:
    """A polygon of ``(lat, lon)`` vertices with optional holes.

    Rings may be given open or closed (first vertex repeated). Points on the outer boundary
    or on a hole's boundary count as inside the polygon (a fence line belongs to the fence).
    """

    outer: tuple[LatLon, ...]
    holes: tuple[tuple[LatLon, ...], ...]
    _bbox: tuple[float, float, float, float] = field(repr=False, compare=False)

    def __init__(self, outer: Sequence[LatLon], holes: Sequence[Sequence[LatLon]] = ()) -> None:
        cleaned_outer = _clean_ring(outer, "outer ring")
        cleaned_holes = tuple(_clean_ring(hole, "hole") for hole in holes)
        lats = [lat for lat, _ in cleaned_outer]
        lons = [lon for _, lon in cleaned_outer]
        object.__setattr__(self, "outer", cleaned_outer)
        object.__setattr__(self, "holes", cleaned_holes)
        object.__setattr__(self, "_bbox", (min(lats), max(lats), min(lons), max(lons)))

    def contains(self, lat: float, lon: float) -> bool:
        """True if (lat, lon) is inside the outer ring (or on it) and not strictly inside
        any hole."""
        min_lat, max_lat, min_lon, max_lon = self._bbox
        tolerance = _BOUNDARY_TOLERANCE_DEG
        if not (
            min_lat - tolerance <= lat <= max_lat + tolerance
            and min_lon - tolerance <= lon <= max_lon + tolerance
        ):
            return False
        if _ring_position(lat, lon, self.outer) < 0:
            return False
        return all(_ring_position(lat, lon, hole) <= 0 for hole in self.holes)


Area = Circle | Polygon
"""A closed region: a circle or a polygon."""
