"""The vehicle layer: live vehicles from a :class:`~desktop.map.vehicles.VehicleStore`.

Every vehicle is one point of a :class:`~desktop.map.sprites.SpriteItem`, drawn with the
symbol of its class (state × heading octant) from a pre-rendered atlas. Zoomed out, a
screen-space grid (:mod:`desktop.map.clusters`) turns crowded cells into one cluster with
a count; clicking a cluster zooms in on it. Plates are placed and drawn by
:mod:`desktop.map.map_labels`, closer than ``label_below_mpp``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QPainterPath, QTransform
from PySide6.QtWidgets import QGraphicsItem

from desktop.map.clusters import CELL_PX, Clusters, cell_metres, grid_clusters, no_clusters
from desktop.map.layers import LayerKey, MapLayer
from desktop.map.projection import from_mercator
from desktop.map.sprites import (
    ClusterItem,
    SpriteItem,
    SpriteSymbol,
    cluster_keep_off_edge,
    disc_path,
    zoom_into_cluster,
)
from desktop.map.vehicles import OFFLINE_AFTER, VehicleState, VehicleStore, classify_columns
from desktop.plain_text import plain_tooltip

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

KEEP_OFF_EDGE = cluster_keep_off_edge(CELL_PX)
"""Cluster discs keep this far (a fraction of a cell) from their cell's edges."""
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


STATES = list(VehicleState)
"""The states in the order :func:`~desktop.map.vehicles.classify_columns` numbers them."""
ARROW_STATES = (VehicleState.MOVING, VehicleState.ALARM)
"""Vehicles in these states are arrows pointing where they head; the others are dots."""
DRAW_RANK = {
    VehicleState.OFFLINE: 0,
    VehicleState.STOPPED: 1,
    VehicleState.MOVING: 2,
    VehicleState.ALARM: 3,
}
"""Vehicles of a higher rank are drawn over those of a lower one (alarms on top)."""
CLUSTER_ABOVE_MPP = 25.0
"""Vehicles are clustered from this resolution outwards (plates show below it)."""
MIN_VEHICLE_CLUSTER = 5
"""A grid cell with at least this many vehicles becomes one cluster."""
VEHICLE_CLUSTER_COLOUR = "#37474f"
"""Vehicle clusters are slate (alarm clusters take their level's colour); one holding an
alarm vehicle has a red ring."""


def vehicle_symbols() -> list[SpriteSymbol]:
    """The sprite atlas: symbol ``state_index * HEADING_SECTORS + sector`` per class."""
    symbols: list[SpriteSymbol] = []
    for state in STATES:
        colour, size = VEHICLE_STYLE[state]
        arrows = state in ARROW_STATES
        for sector in range(HEADING_SECTORS):
            path = arrow_symbol(sector * 360.0 / HEADING_SECTORS) if arrows else disc_path()
            symbols.append(SpriteSymbol(path, size, colour, "#ffffff", 1.2 if arrows else 1.0))
    return symbols


class VehicleLayer(MapLayer):
    """Vehicles from a :class:`VehicleStore` in one sprite item; clusters far out, plates close.

    A redraw classifies every vehicle with numpy and hands the arrays to the sprite item:
    no Python work per vehicle, so a second of telemetry for 20,000 vehicles redraws
    within one frame.
    """

    def __init__(
        self,
        parent: QGraphicsItem,
        store: VehicleStore,
        *,
        z_value: float,
        on_click: Callable[[str], None],
        label_below_mpp: float = 25.0,
        cluster_above_mpp: float = CLUSTER_ABOVE_MPP,
        min_cluster: int = MIN_VEHICLE_CLUSTER,
        offline_after: dt.timedelta = OFFLINE_AFTER,
    ) -> None:
        super().__init__(LayerKey.VEHICLES, parent, z_value=z_value)
        self.store = store
        self.offline_after = offline_after
        self.label_below_mpp = label_below_mpp
        self.cluster_above_mpp = cluster_above_mpp
        self.min_cluster = min_cluster
        self._on_click = on_click
        self.sprites = SpriteItem(
            self.container, vehicle_symbols(), tip=self._tip, on_click=self._clicked
        )
        self.sprites.setZValue(1)
        self.cluster_item = ClusterItem(
            self.container, tip=self._cluster_tip, on_click=self._cluster_clicked
        )
        self.cluster_item.setZValue(4)
        self.clusters: Clusters = no_clusters(0)
        self.cell_m = 0.0
        """The cluster grid's cell in metres; 0 while zoomed in too far to cluster."""
        self._devices: list[str] = []
        self._order: IntArray = np.empty(0, dtype=np.intp)
        """Drawn point ``i`` is the vehicle of store row ``_order[i]``."""
        self._states: IntArray = np.empty(0, dtype=np.intp)
        self.drawn_version = -1

    def refresh(self) -> None:
        """Redraw every vehicle from the store (state, heading and position)."""
        columns = self.store.columns()
        states = classify_columns(columns, self.store.now(), self.offline_after)
        step = 360.0 / HEADING_SECTORS
        sectors = ((columns.heading_deg % 360.0 + step / 2) // step).astype(np.intp)
        sectors %= HEADING_SECTORS
        arrow = np.isin(states, [STATES.index(state) for state in ARROW_STATES])
        symbols = states * HEADING_SECTORS + np.where(arrow, sectors, 0)
        rank = np.asarray([DRAW_RANK[state] for state in STATES], dtype=np.intp)
        order = np.argsort(rank[states], kind="stable")
        self._devices = list(columns.devices)  # a snapshot: rows move when one is removed
        self._order = order
        self._states = states[order]
        self.sprites.set_points(columns.x[order], columns.y[order], symbols[order])
        self._recluster()
        self.drawn_version = self.store.version

    # ------------------------------------------------------------------ clusters

    def set_resolution(self, metres_per_pixel: float) -> None:
        """Hide outside the layer's range; regroup the clusters when the grid changes."""
        super().set_resolution(metres_per_pixel)
        cell = cell_metres(metres_per_pixel) if metres_per_pixel >= self.cluster_above_mpp else 0.0
        if cell != self.cell_m:
            self.cell_m = cell
            self._recluster()

    def _recluster(self) -> None:
        x, y = self.sprites.x, self.sprites.y
        alarm = (self._states == STATES.index(VehicleState.ALARM)).astype(np.intp)
        if self.cell_m > 0:
            clusters = grid_clusters(
                x,
                y,
                alarm,
                cell_m=self.cell_m,
                min_size=self.min_cluster,
                keep_off_edge=KEEP_OFF_EDGE,
            )
        else:
            clusters = no_clusters(len(x))
        self.clusters = clusters
        self.sprites.set_shown(~clusters.clustered)
        alarm_colour = VEHICLE_STYLE[VehicleState.ALARM][0]
        self.cluster_item.set_clusters(
            clusters.x,
            clusters.y,
            clusters.count,
            [VEHICLE_CLUSTER_COLOUR] * len(clusters),
            [alarm_colour if rank > 0 else "#ffffff" for rank in clusters.rank],
        )

    @property
    def cluster_count(self) -> int:
        """How many cluster symbols are drawn."""
        return len(self.clusters)

    def _cluster_tip(self, index: int) -> str:
        count = int(self.clusters.count[index])
        text = QCoreApplication.translate("MapView", "{count} vehicles (click to zoom in)")
        if self.clusters.rank[index] > 0:
            text += "\n" + QCoreApplication.translate("MapView", "including an alarm")
        return plain_tooltip(text.format(count=count))

    def _cluster_clicked(self, index: int) -> None:
        zoom_into_cluster(self.container, self.clusters.bounds[index], self.cell_m)

    # ------------------------------------------------------------------ reading

    def count(self, state: VehicleState | None = None) -> int:
        """How many vehicles are drawn (in ``state``, if given), clustered or not."""
        if state is None:
            return len(self._states)
        return int(np.count_nonzero(self._states == STATES.index(state)))

    def positions(self, state: VehicleState | None = None) -> dict[str, tuple[float, float]]:
        """Where each drawn vehicle is (Mercator metres), by device."""
        x, y = self.sprites.x, self.sprites.y
        wanted = None if state is None else STATES.index(state)
        return {
            self._device(index): (float(x[index]), float(y[index]))
            for index in range(len(self._states))
            if wanted is None or self._states[index] == wanted
        }

    def _device(self, index: int) -> str:
        """The device of drawn point ``index``."""
        return self._devices[int(self._order[index])]

    def state_of(self, device: str) -> VehicleState | None:
        """How ``device`` is drawn, or None if it is not."""
        try:
            row = self._devices.index(device)
        except ValueError:
            return None
        index = int(np.flatnonzero(self._order == row)[0])
        return STATES[int(self._states[index])]

    def shown_points(
        self, view: tuple[float, float, float, float]
    ) -> list[tuple[float, float, str, VehicleState]]:
        """(x, y, device, state) of every vehicle drawn as itself (not in a cluster) inside
        ``view`` (x_min, y_min, x_max, y_max in Mercator metres): what labels must avoid."""
        if not self.visible:
            return []
        x, y = self.sprites.x, self.sprites.y
        x_min, y_min, x_max, y_max = view
        inside = np.flatnonzero(
            self.sprites.shown & (x >= x_min) & (x <= x_max) & (y >= y_min) & (y <= y_max)
        )
        return [
            (
                float(x[index]),
                float(y[index]),
                self._device(int(index)),
                STATES[int(self._states[index])],
            )
            for index in inside
        ]

    def _tip(self, index: int) -> str:
        device = self._device(index)
        record = self.store.get(device)
        lon, lat = from_mercator(float(self.sprites.x[index]), float(self.sprites.y[index]))
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

    def _clicked(self, index: int) -> None:
        self._on_click(self._device(index))
