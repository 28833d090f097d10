"""Which OSM ``highway=*`` values are roads, their class, and the speed the recommendation
assumes on each class.

Ways for people only (footway, path, cycleway, steps, pedestrian, bridleway, corridor)
and roads not yet open (construction, proposed) are not roads for a fire engine and are
left out; anything else unknown is left out too (counted by the import).
"""

from __future__ import annotations

import re

from realtime.protocol import RoadClass

HIGHWAY_CLASSES: dict[str, RoadClass] = {
    "motorway": RoadClass.MOTORWAY,
    "motorway_link": RoadClass.MOTORWAY,
    "trunk": RoadClass.TRUNK,
    "trunk_link": RoadClass.TRUNK,
    "primary": RoadClass.PRIMARY,
    "primary_link": RoadClass.PRIMARY,
    "secondary": RoadClass.SECONDARY,
    "secondary_link": RoadClass.SECONDARY,
    "tertiary": RoadClass.TERTIARY,
    "tertiary_link": RoadClass.TERTIARY,
    "residential": RoadClass.RESIDENTIAL,
    "unclassified": RoadClass.RESIDENTIAL,
    "living_street": RoadClass.RESIDENTIAL,
    "road": RoadClass.RESIDENTIAL,
    "service": RoadClass.SERVICE,
    "track": RoadClass.SERVICE,
}
"""OSM ``highway`` value → class; a value not listed is not a road for vehicles."""

CLASS_SPEED_KMH: dict[RoadClass, float] = {
    RoadClass.MOTORWAY: 90.0,
    RoadClass.TRUNK: 70.0,
    RoadClass.PRIMARY: 50.0,
    RoadClass.SECONDARY: 45.0,
    RoadClass.TERTIARY: 40.0,
    RoadClass.RESIDENTIAL: 25.0,
    RoadClass.SERVICE: 15.0,
}
"""Average speed of an emergency vehicle on each class, km/h, junctions and traffic
counted (planning figures below the Chinese urban design speeds of GB 50220/CJJ 37:
expressway 60–100, arterial 40–60, collector 30–50, branch 20–30). A ``maxspeed`` tag
lower than the figure caps it."""

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$")


def road_class(highway: str) -> RoadClass | None:
    """The class of a ``highway=*`` value, ``None`` when it is no road for vehicles."""
    return HIGHWAY_CLASSES.get(highway.strip().lower())


def parse_maxspeed(text: str) -> int | None:
    """``maxspeed`` in km/h (``"60"``, ``"60 km/h"``, ``"35 mph"``); ``None`` for values
    such as ``"CN:urban"`` or ``"none"``."""
    match = _NUMBER.match(text)
    if match is None:
        return None
    value = float(match.group(1))
    if match.group(2) == "mph":
        value *= 1.609344
    return round(value) if 0 < value < 300 else None


def parse_oneway(text: str) -> int:
    """``oneway``: 1 along the drawn direction, -1 against it, 0 both ways."""
    value = text.strip().lower()
    if value in {"yes", "true", "1"}:
        return 1
    if value in {"-1", "reverse"}:
        return -1
    return 0


def speed_on(road: RoadClass, maxspeed: int | None) -> float:
    """The speed (km/h) the road graph assumes on a road of this class and limit."""
    speed = CLASS_SPEED_KMH[road]
    return min(speed, float(maxspeed)) if maxspeed else speed
