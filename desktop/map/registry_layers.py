"""Registry layers: hazard sources, teams and cameras as points; the registry's items
(台账) as points with a symbol per kind; geofences, routes and jurisdictions as shapes
(their data arrives with the registries, after login)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from desktop.map.layers import LayerKey, MapLayer, ring_path, set_scatter_points
from desktop.map.projection import to_mercator, to_mercator_arrays
from desktop.plain_text import plain_tooltip


@dataclasses.dataclass(frozen=True, slots=True)
class MapPoint:
    """A registry object drawn as a point (hazard source, team, camera)."""

    id: str
    lon: float
    lat: float
    label: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class MapShape:
    """A registry object drawn as a line or area (geofence, route, jurisdiction)."""

    id: str
    points: tuple[tuple[float, float], ...]
    """(lon, lat) pairs."""
    closed: bool = True
    label: str = ""


class PointLayer(MapLayer):
    """A layer of registry points, one symbol for all (data arrives with the registry)."""

    def __init__(
        self,
        key: LayerKey,
        parent: QGraphicsItem,
        *,
        z_value: float,
        symbol: str,
        colour: str,
        on_click: Callable[[LayerKey, str], None],
    ) -> None:
        super().__init__(key, parent, z_value=z_value)
        self._on_click = on_click
        self._labels: dict[str, str] = {}
        self.item = pg.ScatterPlotItem(
            pxMode=True,
            symbol=symbol,
            size=12.0,
            brush=pg.mkBrush(colour),
            pen=pg.mkPen("#212121"),
            hoverable=True,
            tip=lambda x, y, data: plain_tooltip(self._labels.get(str(data), str(data))),
        )
        self.item.setParentItem(self.container)
        self.item.sigClicked.connect(self._clicked)

    def set_points(self, points: Iterable[MapPoint]) -> None:
        """Replace the points of the layer."""
        listed = list(points)
        self._labels = {point.id: point.label or point.id for point in listed}
        set_scatter_points(self.item, [(*to_mercator(p.lon, p.lat), p.id) for p in listed])

    def count(self) -> int:
        """How many points are drawn."""
        return len(self.item.data)

    def _clicked(self, _item: pg.ScatterPlotItem, points: Sequence[Any], _event: Any) -> None:
        if len(points):
            self._on_click(self.key, str(points[0].data()))


class ShapeLayer(MapLayer):
    """A layer of registry lines and areas (geofences, routes, jurisdiction boundaries)."""

    def __init__(self, key: LayerKey, parent: QGraphicsItem, *, z_value: float, pen: QPen) -> None:
        super().__init__(key, parent, z_value=z_value)
        self._pen = pen
        self.items: dict[str, QGraphicsPathItem] = {}

    @property
    def pen(self) -> QPen:
        """The pen the shapes are drawn with (the legend shows it)."""
        return self._pen

    def set_shapes(self, shapes: Iterable[MapShape]) -> None:
        """Replace the shapes of the layer."""
        for item in self.items.values():
            item.scene().removeItem(item)
        self.items = {}
        for shape in shapes:
            # Vectorised: a replayed day is 86,400 points.
            lon_lat = np.asarray(shape.points, dtype=np.float64).reshape(-1, 2)
            coordinates = np.column_stack(to_mercator_arrays(lon_lat[:, 0], lon_lat[:, 1]))
            item = QGraphicsPathItem(
                ring_path(coordinates.astype(np.float32), closed=shape.closed),
                self.container,
            )
            item.setPen(self._pen)
            item.setToolTip(plain_tooltip(shape.label or shape.id))
            self.items[shape.id] = item

    def count(self) -> int:
        """How many shapes are drawn."""
        return len(self.items)


@dataclasses.dataclass(frozen=True, slots=True)
class KindSymbol:
    """How the items of one registry kind are drawn."""

    symbol: str
    colour: str


REGISTRY_SYMBOLS: dict[str, KindSymbol] = {
    "enterprise": KindSymbol("s", "#795548"),
    "hazard_source": KindSymbol("t", "#d84315"),
    "team": KindSymbol("star", "#2e7d32"),
    "equipment": KindSymbol("d", "#0277bd"),
    "shelter": KindSymbol("h", "#00acc1"),
    "expert": KindSymbol("o", "#8e24aa"),
    "target": KindSymbol("p", "#f9a825"),
    "plan": KindSymbol("x", "#546e7a"),
}
"""One symbol and colour per kind (the wire's ``ItemKind`` values)."""


@dataclasses.dataclass(frozen=True, slots=True)
class KindPoint:
    """A registry item drawn on the map: ``id`` is ``kind/code``."""

    kind: str
    code: str
    lon: float
    lat: float
    label: str = ""

    @property
    def id(self) -> str:
        """What a click on it reports."""
        return f"{self.kind}/{self.code}"


class RegistryItemLayer(MapLayer):
    """The registry's placed items, one symbol per kind; a click reports ``kind/code``."""

    def __init__(
        self,
        key: LayerKey,
        parent: QGraphicsItem,
        *,
        z_value: float,
        on_click: Callable[[LayerKey, str], None],
    ) -> None:
        super().__init__(key, parent, z_value=z_value)
        self._on_click = on_click
        self._labels: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        """The kind of each point drawn, by id."""
        self.item = pg.ScatterPlotItem(
            pxMode=True,
            size=13.0,
            pen=pg.mkPen("#212121"),
            hoverable=True,
            tip=lambda x, y, data: plain_tooltip(self._labels.get(str(data), str(data))),
        )
        self.item.setParentItem(self.container)
        self.item.sigClicked.connect(self._clicked)

    def set_points(self, points: Iterable[KindPoint]) -> None:
        """Replace the items drawn."""
        listed = [point for point in points if point.kind in REGISTRY_SYMBOLS]
        self._labels = {point.id: point.label or point.code for point in listed}
        self.kinds = {point.id: point.kind for point in listed}
        if not listed:
            self.item.clear()
            return
        xy = [to_mercator(point.lon, point.lat) for point in listed]
        self.item.setData(
            x=np.asarray([x for x, _ in xy], dtype=np.float64),
            y=np.asarray([y for _, y in xy], dtype=np.float64),
            data=np.asarray([point.id for point in listed], dtype=object),
            symbol=[REGISTRY_SYMBOLS[point.kind].symbol for point in listed],
            brush=[pg.mkBrush(REGISTRY_SYMBOLS[point.kind].colour) for point in listed],
        )

    def count(self) -> int:
        """How many items are drawn."""
        return len(self.item.data)

    def _clicked(self, _item: pg.ScatterPlotItem, points: Sequence[Any], _event: Any) -> None:
        if len(points):
            self._on_click(self.key, str(points[0].data()))
