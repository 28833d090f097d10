"""The vehicle layer: live vehicles from a :class:`~desktop.map.vehicles.VehicleStore`.

Many points are drawn with one :class:`pyqtgraph.ScatterPlotItem` per class (state ×
heading octant): pyqtgraph then blits one cached symbol per class instead of styling
each point. Plates are placed and drawn by :mod:`desktop.map.map_labels`, closer than
``label_below_mpp``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QPainterPath, QTransform
from PySide6.QtWidgets import QGraphicsItem

from desktop.map.layers import LayerKey, MapLayer
from desktop.map.projection import from_mercator
from desktop.map.vehicles import MOVING_KMH, OFFLINE_AFTER, VehicleState, VehicleStore
from desktop.plain_text import plain_tooltip

HEADING_SECTORS = 8
"""Vehicle arrows point in one of this many directions (45° steps)."""


VEHICLE_STYLE: dict[VehicleState, tuple[str, float]] = {
    VehicleState.MOVING: ("#2e7d32", 15.0),
    VehicleState.STOPPED: ("#1565c0", 10.0),
    VehicleState.ALARM: ("#d50000", 20.0),
    VehicleState.OFFLINE: ("#9e9e9e", 9.0),
}
"""Colour and pixel size per state; moving and alarm vehicles are arrows."""


def arrow_symbol(heading_deg: float) -> QPainterPath:
    """Return an arrow symbol pointing to ``heading_deg`` (clockwise from north).

    Symbols are drawn in pixel coordinates, where y grows downwards.
    """
    path = QPainterPath()
    path.moveTo(0.0, -0.5)
    path.lineTo(0.36, 0.42)
    path.lineTo(0.0, 0.22)
    path.lineTo(-0.36, 0.42)
    path.closeSubpath()
    return QTransform().rotate(heading_deg).map(path)


def heading_sector(heading_deg: float) -> int:
    """Return which of the :data:`HEADING_SECTORS` arrows stands for ``heading_deg``."""
    step = 360.0 / HEADING_SECTORS
    return int(((heading_deg % 360.0) + step / 2) // step) % HEADING_SECTORS


VehicleClass = tuple[VehicleState, int]
"""(state, heading sector); stopped and offline vehicles use sector 0 (a dot)."""


class VehicleLayer(MapLayer):
    """Vehicles from a :class:`VehicleStore`: one scatter item per class, plates when close."""

    def __init__(
        self,
        parent: QGraphicsItem,
        store: VehicleStore,
        *,
        z_value: float,
        on_click: Callable[[str], None],
        label_below_mpp: float = 25.0,
        offline_after: dt.timedelta = OFFLINE_AFTER,
    ) -> None:
        super().__init__(LayerKey.VEHICLES, parent, z_value=z_value)
        self.store = store
        self.offline_after = offline_after
        self.label_below_mpp = label_below_mpp
        self._on_click = on_click
        self.items: dict[VehicleClass, pg.ScatterPlotItem] = {}
        for state, (colour, size) in VEHICLE_STYLE.items():
            arrows = state in (VehicleState.MOVING, VehicleState.ALARM)
            for sector in range(HEADING_SECTORS if arrows else 1):
                symbol = arrow_symbol(sector * 360.0 / HEADING_SECTORS) if arrows else "o"
                item = pg.ScatterPlotItem(
                    pxMode=True,
                    symbol=symbol,
                    size=size,
                    brush=pg.mkBrush(colour),
                    pen=pg.mkPen("#ffffff", width=1.2 if arrows else 1.0),
                    hoverable=True,
                    tip=self._tip,
                )
                item.setParentItem(self.container)
                item.setZValue(3 if state is VehicleState.ALARM else 1)
                item.sigClicked.connect(self._clicked)
                self.items[(state, sector)] = item
        self._xy = np.empty((0, 2))
        self._devices: list[str] = []
        self.drawn_version = -1

    def refresh(self) -> None:
        """Redraw every vehicle from the store (state, heading and position)."""
        now = self.store.now()
        cutoff = now - self.offline_after
        xs: dict[VehicleClass, list[float]] = {key: [] for key in self.items}
        ys: dict[VehicleClass, list[float]] = {key: [] for key in self.items}
        ids: dict[VehicleClass, list[str]] = {key: [] for key in self.items}
        step = 360.0 / HEADING_SECTORS
        devices: list[str] = []
        coordinates: list[tuple[float, float]] = []
        for record in self.store:
            position = record.position
            if position.alarms:
                key: VehicleClass = (
                    VehicleState.ALARM,
                    int(((position.heading_deg % 360.0) + step / 2) // step) % HEADING_SECTORS,
                )
            elif position.at < cutoff:
                key = (VehicleState.OFFLINE, 0)
            elif position.speed_kmh >= MOVING_KMH:
                key = (
                    VehicleState.MOVING,
                    int(((position.heading_deg % 360.0) + step / 2) // step) % HEADING_SECTORS,
                )
            else:
                key = (VehicleState.STOPPED, 0)
            xs[key].append(record.x)
            ys[key].append(record.y)
            ids[key].append(record.device)
            devices.append(record.device)
            coordinates.append((record.x, record.y))
        for key, item in self.items.items():
            if xs[key] or len(item.data):
                item.setData(
                    x=np.asarray(xs[key]),
                    y=np.asarray(ys[key]),
                    data=np.asarray(ids[key], dtype=object),
                )
        self._devices = devices
        self._xy = np.asarray(coordinates, dtype=np.float64).reshape(-1, 2)
        self.drawn_version = self.store.version

    def count(self, state: VehicleState | None = None) -> int:
        """How many vehicles are drawn (in ``state``, if given)."""
        return sum(
            len(item.data)
            for (item_state, _), item in self.items.items()
            if state is None or item_state is state
        )

    def positions(self, state: VehicleState | None = None) -> dict[str, tuple[float, float]]:
        """Where each drawn vehicle is (Mercator metres), by device."""
        found: dict[str, tuple[float, float]] = {}
        for (item_state, _), item in self.items.items():
            if state is not None and item_state is not state:
                continue
            data = item.data
            for x, y, device in zip(data["x"], data["y"], data["data"], strict=True):
                found[str(device)] = (float(x), float(y))
        return found

    def _tip(self, x: float, y: float, data: Any) -> str:
        device = str(data)
        record = self.store.get(device)
        lon, lat = from_mercator(x, y)
        if record is None:
            return plain_tooltip(device)
        position = record.position
        age = int(record.age(self.store.now()).total_seconds())
        text = QCoreApplication.translate(
            "MapView", "{label}\n{speed:.0f} km/h, heading {heading:.0f}°\nfix {age} s ago"
        ).format(
            label=self.store.label(device),
            speed=position.speed_kmh,
            heading=position.heading_deg,
            age=age,
        )
        if position.alarms:
            text += "\n" + ", ".join(position.alarms)
        return plain_tooltip(f"{text}\n{lat:.5f}, {lon:.5f}")

    def _clicked(self, _item: pg.ScatterPlotItem, points: Sequence[Any], _event: Any) -> None:
        if len(points):
            self._on_click(str(points[0].data()))
