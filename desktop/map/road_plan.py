"""What the map's road layer asks for at a view, and the answers it keeps (no Qt).

The console asks ``roads.get`` for a box a little larger than the view (so a small pan
needs no new request), snapped to a grid that grows with the zoom (so nearby views ask
the same box and hit the cache), down to the least important class worth drawing at
that zoom, simplified to about one pixel.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass

from realtime.protocol import GetRoads, RoadClass, RoadsResult

CLASS_BY_ZOOM: tuple[tuple[float, RoadClass | None], ...] = (
    (12.0, RoadClass.SERVICE),
    (40.0, RoadClass.TERTIARY),
    (150.0, RoadClass.SECONDARY),
    (600.0, RoadClass.TRUNK),
    (math.inf, None),
)
"""(ground metres per pixel below which, least important class drawn): streets and park
roads at street zoom, arterials at city zoom, trunks and motorways at region zoom, no
roads at province zoom (the basemap's boundaries and names say more there)."""

MAX_POINTS = 60_000
"""Vertices asked for per view (a few MB at most; the server caps at 200,000)."""

CACHED_ANSWERS = 24
"""Answers kept (least recently used dropped): panning back is instant."""


@dataclass(frozen=True, slots=True)
class RoadRequest:
    """One box and class the layer asks for (hashable: the cache key)."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float
    min_class: RoadClass
    tolerance_m: float

    def command(self) -> GetRoads:
        """The wire command for this request."""
        return GetRoads(
            req="",
            min_lat=self.min_lat,
            min_lon=self.min_lon,
            max_lat=self.max_lat,
            max_lon=self.max_lon,
            min_class=self.min_class,
            tolerance_m=self.tolerance_m,
            max_points=MAX_POINTS,
        )


def least_class(ground_mpp: float) -> RoadClass | None:
    """The least important class drawn at ``ground_mpp`` (``None``: no roads)."""
    for below, road_class in CLASS_BY_ZOOM:
        if ground_mpp < below:
            return road_class
    return None


def request_for(
    west: float, south: float, east: float, north: float, ground_mpp: float
) -> RoadRequest | None:
    """The request for a view (degrees, WGS-84) at ``ground_mpp`` ground metres per pixel;
    ``None`` when no road is drawn at that zoom."""
    road_class = least_class(ground_mpp)
    if road_class is None:
        return None
    # Snap to a grid a quarter of the view's larger side (a power of two in degrees).
    span = max(east - west, north - south, 1e-4)
    step = 2.0 ** math.floor(math.log2(span / 4))
    min_lat = max(-85.0, math.floor((south - span / 4) / step) * step)
    max_lat = min(85.0, math.ceil((north + span / 4) / step) * step)
    min_lon = max(-180.0, math.floor((west - span / 4) / step) * step)
    max_lon = min(180.0, math.ceil((east + span / 4) / step) * step)
    # One pixel, rounded to a power of two so the cache hits across small zooms.
    tolerance = 2.0 ** math.floor(math.log2(max(ground_mpp, 0.5)))
    return RoadRequest(min_lat, min_lon, max_lat, max_lon, road_class, tolerance)


class RoadCache:
    """The latest answers by request (least recently used dropped)."""

    def __init__(self, size: int = CACHED_ANSWERS) -> None:
        self._answers: collections.OrderedDict[RoadRequest, RoadsResult] = collections.OrderedDict()
        self._size = size

    def get(self, request: RoadRequest) -> RoadsResult | None:
        """The answer to ``request`` when kept."""
        answer = self._answers.get(request)
        if answer is not None:
            self._answers.move_to_end(request)
        return answer

    def put(self, request: RoadRequest, answer: RoadsResult) -> None:
        """Keep ``answer``."""
        self._answers[request] = answer
        self._answers.move_to_end(request)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer (another user, another server)."""
        self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)
