"""How long a resource takes to reach a place: the travel model the ranking asks.

The model is an interface (:class:`TravelModel`) so that a road network can replace the
straight line without touching the ranking: given many origins, one destination and a
speed per origin, it returns the distances and the minutes. The one shipped model is
:class:`StraightLine`: the great-circle (haversine) distance times a detour factor, at the
speed of the resource's kind. :class:`RoadTravel` takes the fastest path over a
:class:`RoadGraph` (built from the imported road layer by :mod:`backend.roads.graph`, each
edge at its class's speed); it returns :attr:`TravelBasis.ROAD
<realtime.protocol.TravelBasis>` as its basis.

Pure and vectorised (numpy): 5,000 origins cost well under a millisecond.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
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
        """Return ``(distance_km, minutes)`` from each origin to the place; NaN where this
        model cannot tell (the ranking then uses the straight line)."""
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


class Error(ValueError):
    """A road graph that cannot be built (an edge naming a missing node, a bad length)."""


ROAD_SPEED_KMH = 40.0
"""Speed on an edge given without one (a graph of bare lengths)."""

Edge = tuple[int, int, float | None] | tuple[int, int, float | None, float]
"""(a, b, km) or (a, b, km, km/h); km None: the straight line between the two nodes."""


@dataclass(frozen=True, slots=True)
class RoadGraph:
    """An undirected road network: nodes (WGS-84) and edges with their length in km and
    the hours a vehicle takes on them (emergency vehicles may use a one-way street
    against its direction under lights and siren: every edge is both ways)."""

    lat: FloatArray
    lon: FloatArray
    neighbours: tuple[tuple[tuple[int, float, float], ...], ...]
    """Per node: (the other node, km, hours) for each edge."""

    @classmethod
    def from_edges(cls, nodes: Sequence[tuple[float, float]], edges: Sequence[Edge]) -> RoadGraph:
        """Build from ``nodes`` (lat, lon) and ``edges`` (a, b, km[, km/h]; km None: the
        straight line; no speed: :data:`ROAD_SPEED_KMH`)."""
        lat = np.array([node[0] for node in nodes], dtype=np.float64)
        lon = np.array([node[1] for node in nodes], dtype=np.float64)
        adjacency: list[list[tuple[int, float, float]]] = [[] for _ in nodes]
        for edge in edges:
            a, b, km = edge[0], edge[1], edge[2]
            speed = edge[3] if len(edge) == 4 else ROAD_SPEED_KMH
            if not (0 <= a < len(nodes) and 0 <= b < len(nodes)):
                raise Error(f"edge ({a}, {b}) names a node that does not exist")
            length = (
                float(haversine_km(lat[a : a + 1], lon[a : a + 1], lat[b], lon[b])[0])
                if km is None
                else km
            )
            if not math.isfinite(length) or length < 0:
                raise Error(f"edge ({a}, {b}) has length {km!r}")
            if not (math.isfinite(speed) and speed > 0):
                raise Error(f"edge ({a}, {b}) has speed {speed!r}")
            hours = length / speed
            adjacency[a].append((b, length, hours))
            adjacency[b].append((a, length, hours))
        return cls(lat, lon, tuple(tuple(edges_of) for edges_of in adjacency))

    def nearest(self, lat: FloatArray, lon: FloatArray) -> tuple[np.ndarray, FloatArray]:
        """The nearest node of each point and the straight-line km to it."""
        nodes = np.empty(len(lat), dtype=np.intp)
        km = np.empty(len(lat), dtype=np.float64)
        for index in range(len(lat)):
            distances = haversine_km(self.lat, self.lon, lat[index], lon[index])
            nodes[index] = int(np.argmin(distances))
            km[index] = distances[nodes[index]]
        return nodes, km

    def distances_from(self, source: int) -> FloatArray:
        """Road km along the fastest path from ``source`` to every node (inf: not
        connected)."""
        return self.fastest_from(source)[1]

    def fastest_from(self, source: int) -> tuple[FloatArray, FloatArray]:
        """Hours of the fastest path from ``source`` to every node, and its km (inf: not
        connected)."""
        hours = np.full(len(self.lat), np.inf)
        km = np.full(len(self.lat), np.inf)
        hours[source] = km[source] = 0.0
        queue = [(0.0, source)]
        while queue:
            spent, node = heapq.heappop(queue)
            if spent > hours[node]:
                continue
            for other, length, duration in self.neighbours[node]:
                through = spent + duration
                if through < hours[other]:
                    hours[other] = through
                    km[other] = km[node] + length
                    heapq.heappush(queue, (through, other))
        return hours, km


@dataclass(frozen=True, slots=True)
class RoadTravel:
    """Fastest path over :attr:`graph`: straight to the nearest node × :attr:`detour` at
    the kind's speed, along the roads at each road's speed (never faster than the kind's
    own speed allows: a walker walks the road too), and from the node nearest the place
    × :attr:`detour` at the kind's speed.
    An origin farther than :attr:`reach_km` from the network, or not connected to the
    place's node, gets NaN (the straight line is used for it)."""

    graph: RoadGraph
    detour: float = URBAN_DETOUR
    reach_km: float = 2.0

    @property
    def basis(self) -> TravelBasis:
        """Always :attr:`TravelBasis.ROAD`."""
        return TravelBasis.ROAD

    def estimate(
        self,
        lat: FloatArray,
        lon: FloatArray,
        to_lat: float,
        to_lon: float,
        speed_kmh: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """Return ``(distance_km, minutes)`` by road; NaN where it cannot route."""
        if len(lat) == 0 or len(self.graph.lat) == 0:
            empty = np.full(len(lat), np.nan)
            return empty, empty.copy()
        [end], [end_km] = self.graph.nearest(np.array([to_lat]), np.array([to_lon]))
        known = ~np.isnan(lat)
        nodes = np.zeros(len(lat), dtype=np.intp)
        access = np.full(len(lat), np.nan)
        nodes[known], access[known] = self.graph.nearest(lat[known], lon[known])
        all_hours, all_km = self.graph.fastest_from(int(end))
        road_hours, road_km = all_hours[nodes], all_km[nodes]
        off_road = (access + end_km) * self.detour
        distance: FloatArray = off_road + road_km
        routable = known & (access <= self.reach_km) & (end_km <= self.reach_km)
        routable &= np.isfinite(road_km)
        distance = np.where(routable, distance, np.nan)
        hours = off_road / speed_kmh + np.maximum(road_hours, road_km / speed_kmh)
        minutes: FloatArray = np.where(routable, hours * 60.0, np.nan)
        return distance, minutes
