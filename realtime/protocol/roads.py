"""The road layer (路网) on the wire: ``roads.get`` asks for the roads in a box, the answer
gives their polylines grouped by class, simplified for the console's zoom.

The server stores the layer ``dutydesk basemap import`` loaded (an OSM extract or a
GeoPackage; docs/operations.md). The answer is size-limited: the major classes come first
and ``truncated`` says when minor roads were left out, so a console zoomed out over a
province never asks for every alley.
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

from realtime.protocol.common import Tagged

MAX_ROAD_POINTS = 200_000
"""Most vertices one ``roads.get`` answer carries (≈ 3.2 MB of JSON at worst)."""

Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class RoadClass(enum.StrEnum):
    """The classes of road the console draws, major first (OSM ``highway=*`` values map to
    them; a ``*_link`` takes its road's class)."""

    MOTORWAY = "motorway"
    TRUNK = "trunk"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"
    RESIDENTIAL = "residential"
    """Residential, unclassified and living streets."""
    SERVICE = "service"
    """Service roads and tracks (park roads, yards, access lanes)."""

    @property
    def rank(self) -> int:
        """0 for motorways … 6 for service roads (smaller: more important)."""
        return ROAD_CLASS_ORDER.index(self)


ROAD_CLASS_ORDER: tuple[RoadClass, ...] = tuple(RoadClass)
"""The classes, most important first."""


class GetRoads(Tagged, tag="roads.get"):
    """Ask for the roads crossing a box (WGS-84 degrees)."""

    req: str
    min_lat: Latitude
    min_lon: Longitude
    max_lat: Latitude
    max_lon: Longitude
    min_class: RoadClass = RoadClass.SERVICE
    """The least important class wanted (``primary``: motorways, trunks, primaries)."""
    tolerance_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] = 0.0
    """Simplification: no vertex farther than this from the drawn line is dropped
    (about one screen pixel in metres at the console's zoom; 0: every vertex)."""
    max_points: Annotated[int, msgspec.Meta(ge=1, le=MAX_ROAD_POINTS)] = 50_000
    """Most vertices wanted; minor roads are left out first."""


class RoadLine(msgspec.Struct, kw_only=True, array_like=True):
    """One road: its name (Chinese when the data has one) and its vertices as a flat list
    ``[lat, lon, lat, lon, …]`` (WGS-84, 6 decimals)."""

    name: str
    points: list[float]
    oneway: bool = False


class RoadClassLines(msgspec.Struct, kw_only=True):
    """The roads of one class in the box."""

    road_class: RoadClass
    lines: list[RoadLine]


class RoadsResult(msgspec.Struct, tag="roads", kw_only=True):
    """The roads in the box, major classes first."""

    classes: list[RoadClassLines]
    truncated: bool = False
    """Some roads of the box were left out (``max_points`` reached): zoom in for them."""
    source: str = ""
    """What the layer was imported from (a file name), for the attribution."""
