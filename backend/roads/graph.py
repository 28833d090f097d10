"""The recommendation's road graph from the road layer, and line simplification for the
console's zoom. Pure (no I/O): the service reads the rows and calls these off the loop.

Roads meet where they share a vertex (an OSM way's shared node, a GeoPackage line's end
on another's vertex): vertices are merged by their coordinates at 6 decimals (≈ 0.1 m).
Each edge runs at :func:`backend.roads.classes.speed_on` of its road.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from backend.recommend.travel import Edge, RoadGraph
from backend.roads.classes import speed_on
from realtime.protocol import RoadClass

_M_PER_DEGREE = 2 * math.pi * 6_371_008.8 / 360


def build_graph(roads: Iterable[tuple[Sequence[float], RoadClass, int | None]]) -> RoadGraph:
    """The graph of ``roads``: (flat ``[lat, lon, …]`` points, class, maxspeed) each."""
    index: dict[tuple[float, float], int] = {}
    nodes: list[tuple[float, float]] = []
    edges: list[Edge] = []
    for points, road_class, maxspeed in roads:
        speed = speed_on(road_class, maxspeed)
        previous: int | None = None
        for i in range(0, len(points) - 1, 2):
            key = (round(points[i], 6), round(points[i + 1], 6))
            node = index.get(key)
            if node is None:
                node = index[key] = len(nodes)
                nodes.append(key)
            if previous is not None and previous != node:
                edges.append((previous, node, None, speed))
            previous = node
    return RoadGraph.from_edges(nodes, edges)


def simplify(points: Sequence[float], tolerance_m: float) -> list[float]:
    """Douglas–Peucker over flat ``[lat, lon, …]``: drop the vertices nearer than
    ``tolerance_m`` to the simplified line (ends always kept)."""
    count = len(points) // 2
    if tolerance_m <= 0 or count <= 2:
        return list(points)
    scale_lon = math.cos(math.radians(points[0]))
    xs = [points[2 * i + 1] * scale_lon * _M_PER_DEGREE for i in range(count)]
    ys = [points[2 * i] * _M_PER_DEGREE for i in range(count)]
    keep = [False] * count
    keep[0] = keep[-1] = True
    stack = [(0, count - 1)]
    while stack:
        first, last = stack.pop()
        dx, dy = xs[last] - xs[first], ys[last] - ys[first]
        length = math.hypot(dx, dy)
        farthest, worst = -1, tolerance_m
        for i in range(first + 1, last):
            if length == 0:
                distance = math.hypot(xs[i] - xs[first], ys[i] - ys[first])
            else:
                distance = abs(dy * (xs[i] - xs[first]) - dx * (ys[i] - ys[first])) / length
            if distance > worst:
                farthest, worst = i, distance
        if farthest >= 0:
            keep[farthest] = True
            stack.append((first, farthest))
            stack.append((farthest, last))
    return [value for i in range(count) if keep[i] for value in (points[2 * i], points[2 * i + 1])]
