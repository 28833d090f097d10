"""How long a resource takes to reach a place: the travel model the ranking asks.

The model is an interface (:class:`TravelModel`) so that a road network can replace the
straight line without touching the ranking: given many origins, one destination and a
speed per origin, it returns the distances and the minutes. The one shipped model is
:class:`StraightLine`: the great-circle (haversine) distance times a detour factor, at the
speed of the resource's kind. A road model (a shortest path over a road graph) waits for
issue 18's road layer; it returns :attr:`TravelBasis.ROAD <realtime.protocol.TravelBasis>`
as its basis.

Pure and vectorised (numpy): 5,000 origins cost well under a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from realtime.protocol import TravelBasis

EARTH_RADIUS_KM = 6_371.0088
"""Mean Earth radius (IUGG R1), as :data:`backend.geo.EARTH_RADIUS_M`."""

URBAN_DETOUR = 1.3
"""Road distance over straight-line distance in a Chinese city's grid of streets: the
usual planning figure (1.2–1.4; a Manhattan grid averages 4/π ≈ 1.27)."""

SPEED_KMH: dict[str, float] = {
    "team": 40.0,
    "unit": 40.0,
    "equipment": 30.0,
    "expert": 40.0,
    "shelter": 4.0,
}
"""Average speed per kind of resource, km/h, door to door in a city:

- ``team`` / ``unit``: fire, rescue and police vehicles under lights and siren, 40 km/h
  (urban response planning figure; open roads are faster, which only makes the ranking
  conservative, not wrong);
- ``equipment``: a loaded truck from a depot, 30 km/h;
- ``expert``: an expert fetched by car, 40 km/h;
- ``shelter``: evacuees walking there, 4 km/h (shelters are planned within walking reach).
"""
DEFAULT_SPEED_KMH = 30.0
"""Speed for a kind not listed above."""

FloatArray = NDArray[np.float64]


def haversine_km(
    lat: FloatArray, lon: FloatArray, to_lat: float | FloatArray, to_lon: float | FloatArray
) -> FloatArray:
    """Great-circle distances in km from the points ``(lat, lon)`` (arrays, degrees) to
    ``(to_lat, to_lon)`` (one point, or arrays of the same length)."""
    phi1 = np.radians(lat)
    phi2 = np.radians(to_lat)
    dphi = phi2 - phi1
    dlambda = np.radians(to_lon - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


class TravelModel(Protocol):
    """Estimates travel from many origins to one place."""

    @property
    def basis(self) -> TravelBasis:
        """How the estimate is made (told to the user with every ETA)."""
        ...

    def estimate(
        self,
        lat: FloatArray,
        lon: FloatArray,
        to_lat: float,
        to_lon: float,
        speed_kmh: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """Return ``(distance_km, minutes)`` from each origin to the place."""
        ...


@dataclass(frozen=True, slots=True)
class StraightLine:
    """Straight-line distance × :attr:`detour` at the given speed.

    The distance reported is the straight line (what the map shows); the minutes count
    the detour: ``minutes = distance_km × detour / speed_kmh × 60``.
    """

    detour: float = URBAN_DETOUR

    @property
    def basis(self) -> TravelBasis:
        """Always :attr:`TravelBasis.STRAIGHT_LINE`."""
        return TravelBasis.STRAIGHT_LINE

    def estimate(
        self,
        lat: FloatArray,
        lon: FloatArray,
        to_lat: float,
        to_lon: float,
        speed_kmh: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """Return ``(distance_km, minutes)`` from each origin to the place."""
        distance = haversine_km(lat, lon, to_lat, to_lon)
        minutes: FloatArray = distance * self.detour / speed_kmh * 60.0
        return distance, minutes


def speed_of(kind: str) -> float:
    """The documented speed (km/h) of a kind of resource."""
    return SPEED_KMH.get(kind, DEFAULT_SPEED_KMH)
