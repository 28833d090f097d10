"""What the map draws for the registries and replays the console shows: points and
shapes built from wire views (units, hazard sources, the officer's jurisdiction, a
replayed track), ready for the map's layers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from desktop.map.basemap import region_for_jurisdiction
from desktop.map.projection import from_mercator
from desktop.map.registry_layers import MapPoint, MapShape
from desktop.sites import HazardSource
from desktop.vehicles.track import TrackData
from realtime.protocol import UnitView

TRACK_MARGIN_DEG = 0.005
"""Room (degrees) left around a replayed track when the map frames it."""


def unit_points(units: Iterable[UnitView]) -> list[MapPoint]:
    """The dispatchable units where they are based (units without a base are left out)."""
    return [
        MapPoint(id=unit.code, lon=unit.lon, lat=unit.lat, label=unit.name)
        for unit in units
        if unit.lat is not None and unit.lon is not None
    ]


def hazard_points(sources: Mapping[str, HazardSource]) -> list[MapPoint]:
    """Each major hazard source (or mine) where its sensors are."""
    return [
        MapPoint(
            id=source.name,
            lon=source.lon,
            lat=source.lat,
            label=f"{source.name} · {source.enterprise}" if source.enterprise else source.name,
        )
        for source in sources.values()
    ]


def jurisdiction_shapes(code: str) -> list[MapShape]:
    """The outline of an area of responsibility (辖区); empty when the code is unknown."""
    region = region_for_jurisdiction(code)
    if region is None:
        return []
    return [
        MapShape(
            id=f"{region.code}-{index}",
            points=tuple(from_mercator(float(x), float(y)) for x, y in ring),
            label=region.name if index == 0 else "",
        )
        for index, ring in enumerate(region.rings)
    ]


def track_shape(device: str, positions: TrackData, label: str) -> MapShape:
    """A replayed track as an open line."""
    return MapShape(
        id=device,
        points=tuple(zip(positions.lon.tolist(), positions.lat.tolist(), strict=True)),
        closed=False,
        label=label,
    )


def track_extent(
    positions: TrackData, margin: float = TRACK_MARGIN_DEG
) -> tuple[float, float, float, float]:
    """(west, south, east, north) that frames a replayed track, with ``margin`` around it."""
    lons, lats = positions.lon, positions.lat
    return (
        float(lons.min()) - margin,
        float(lats.min()) - margin,
        float(lons.max()) + margin,
        float(lats.max()) + margin,
    )
