"""Routes for simulated trucks: a polyline of WGS-84 waypoints walked by distance, and
windows of simulated time (speeding, stops)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class Window:
    """A span of simulated seconds since the truck started: ``start_s <= t < end_s``."""

    start_s: float
    end_s: float

    def contains(self, t: float) -> bool:
        """Whether ``t`` falls in the window."""
        return self.start_s <= t < self.end_s


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _bearing_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360


class Route:
    """A polyline of (lat, lon) WGS-84 waypoints, walked by distance (linear interpolation)."""

    def __init__(self, waypoints: Sequence[tuple[float, float]], *, loop: bool = True) -> None:
        if len(waypoints) < 2:
            raise ValueError("a route needs at least two waypoints")
        self.waypoints = list(waypoints)
        self.loop = loop
        self._cumulative = [0.0]
        for a, b in zip(self.waypoints, self.waypoints[1:], strict=False):
            self._cumulative.append(self._cumulative[-1] + _haversine_m(a, b))
        self.length_m = self._cumulative[-1]

    def at(self, distance_m: float) -> tuple[float, float, float]:
        """(lat, lon, heading) after ``distance_m`` metres (wrapping if ``loop``)."""
        if self.length_m == 0:
            lat, lon = self.waypoints[0]
            return lat, lon, 0.0
        if self.loop:
            distance_m %= self.length_m
        distance_m = min(max(distance_m, 0.0), self.length_m)
        for index in range(1, len(self._cumulative)):
            if distance_m <= self._cumulative[index] or index == len(self._cumulative) - 1:
                a, b = self.waypoints[index - 1], self.waypoints[index]
                span = self._cumulative[index] - self._cumulative[index - 1]
                fraction = 0.0 if span == 0 else (distance_m - self._cumulative[index - 1]) / span
                lat = a[0] + (b[0] - a[0]) * fraction
                lon = a[1] + (b[1] - a[1]) * fraction
                return lat, lon, _bearing_deg(a, b)
        raise AssertionError("unreachable")  # pragma: no cover


DEFAULT_ROUTE: tuple[tuple[float, float], ...] = (
    (31.2304, 121.4737),
    (31.2397, 121.4998),
    (31.2243, 121.5447),
    (31.1967, 121.5153),
    (31.2041, 121.4560),
    (31.2304, 121.4737),
)
"""A loop through central Shanghai (WGS-84), about 22 km."""
