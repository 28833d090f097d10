"""The alarm layer: open alarms that have a place, one scatter item per level.

Unacknowledged alarms share one large, pulsing item drawn above the others. Zoomed out to
a province, crowded alarms merge into clusters (:mod:`desktop.map.clusters`) in the
colour of their most severe member; clicking one zooms in on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QGraphicsItem

from desktop.map.clusters import CELL_PX, Clusters, cell_metres, grid_clusters, no_clusters
from desktop.map.layers import LayerKey, MapLayer, set_scatter_points
from desktop.map.projection import to_mercator
from desktop.map.sprites import ClusterItem, cluster_keep_off_edge, zoom_into_cluster
from desktop.plain_text import plain_tooltip
from realtime.protocol import AlarmView
from realtime.states import LEVEL_RANK, AlarmLevel, AlarmState, is_open

KEEP_OFF_EDGE = cluster_keep_off_edge(CELL_PX)
"""Cluster discs keep this far (a fraction of a cell) from their cell's edges."""
ALARM_COLOURS: dict[AlarmLevel, str] = {
    AlarmLevel.RED: "#d50000",
    AlarmLevel.ORANGE: "#ff6d00",
    AlarmLevel.YELLOW: "#ffd600",
    AlarmLevel.BLUE: "#2962ff",
}
UNACKNOWLEDGED_SIZES = (22.0, 30.0)
"""An unacknowledged alarm pulses between these pixel sizes."""
ALARM_CLUSTER_ABOVE_MPP = 60.0
"""Alarms are clustered from this resolution outwards (wider than a city)."""
MIN_ALARM_CLUSTER = 3
"""A grid cell with at least this many alarms becomes one cluster."""
SEVERITY = sorted(ALARM_COLOURS, key=lambda level: -LEVEL_RANK[level])
"""The levels from least to most severe: a cluster's rank indexes this list."""


class AlarmLayer(MapLayer):
    """Open alarms that have a place; unacknowledged ones are large and pulse."""

    def __init__(
        self,
        parent: QGraphicsItem,
        *,
        z_value: float,
        on_click: Callable[[int], None],
        cluster_above_mpp: float = ALARM_CLUSTER_ABOVE_MPP,
        min_cluster: int = MIN_ALARM_CLUSTER,
    ) -> None:
        super().__init__(LayerKey.ALARMS, parent, z_value=z_value)
        self._on_click = on_click
        self.cluster_above_mpp = cluster_above_mpp
        self.min_cluster = min_cluster
        self.cell_m = 0.0
        """The cluster grid's cell in metres; 0 while zoomed in too far to cluster."""
        self._points: list[tuple[float, float, int, AlarmLevel, bool]] = []
        """(x, y, id, level, unacknowledged) of every open alarm with a place."""
        self.clusters: Clusters = no_clusters(0)
        self.cluster_item = ClusterItem(
            self.container, tip=self._cluster_tip, on_click=self._cluster_clicked
        )
        self.cluster_item.setZValue(3)
        self._titles: dict[int, str] = {}
        self.by_level: dict[AlarmLevel, pg.ScatterPlotItem] = {}
        for level, colour in ALARM_COLOURS.items():
            self.by_level[level] = self._make_item(
                symbol="s", size=14.0, brush=colour, pen=pg.mkPen("#212121", width=1.2)
            )
        self.unacknowledged = self._make_item(
            symbol="star",
            size=UNACKNOWLEDGED_SIZES[0],
            brush="#ff1744",
            pen=pg.mkPen("#ffffff", width=2.0),
        )
        self.unacknowledged.setZValue(2)
        self._pulse_phase = 0

    def _make_item(self, **style: Any) -> pg.ScatterPlotItem:
        item = pg.ScatterPlotItem(pxMode=True, hoverable=True, tip=self._tip, **style)
        item.setParentItem(self.container)
        item.sigClicked.connect(self._clicked)
        return item

    def set_alarms(self, alarms: Iterable[AlarmView]) -> None:
        """Draw the open alarms of ``alarms`` that have coordinates."""
        self._titles = {}
        self._points = []
        for alarm in alarms:
            if alarm.lat is None or alarm.lon is None or not is_open(alarm.state):
                continue
            x, y = to_mercator(alarm.lon, alarm.lat)
            self._titles[alarm.id] = f"#{alarm.id} {alarm.title}"
            self._points.append((x, y, alarm.id, alarm.level, alarm.state is AlarmState.NEW))
        self._draw()

    def set_resolution(self, metres_per_pixel: float) -> None:
        """Hide outside the layer's range; regroup the clusters when the grid changes."""
        super().set_resolution(metres_per_pixel)
        cell = cell_metres(metres_per_pixel) if metres_per_pixel >= self.cluster_above_mpp else 0.0
        if cell != self.cell_m:
            self.cell_m = cell
            self._draw()

    def _draw(self) -> None:
        points = self._points
        x = np.array([point[0] for point in points], dtype=np.float64)
        y = np.array([point[1] for point in points], dtype=np.float64)
        rank = np.array([SEVERITY.index(point[3]) for point in points], dtype=np.intp)
        if self.cell_m > 0:
            clusters = grid_clusters(
                x,
                y,
                rank,
                cell_m=self.cell_m,
                min_size=self.min_cluster,
                keep_off_edge=KEEP_OFF_EDGE,
                grid_offset=0.5,  # between the vehicle clusters, not on them
            )
        else:
            clusters = no_clusters(len(points))
        self.clusters = clusters
        new: list[tuple[float, float, int]] = []
        by_level: dict[AlarmLevel, list[tuple[float, float, int]]] = {
            level: [] for level in ALARM_COLOURS
        }
        for (px, py, alarm_id, level, unacknowledged), clustered in zip(
            points, clusters.clustered.tolist(), strict=True
        ):
            if not clustered:
                (new if unacknowledged else by_level[level]).append((px, py, alarm_id))
        set_scatter_points(self.unacknowledged, new)
        for level, item in self.by_level.items():
            set_scatter_points(item, by_level[level])
        self.cluster_item.set_clusters(
            clusters.x,
            clusters.y,
            clusters.count,
            [ALARM_COLOURS[SEVERITY[int(rank)]] for rank in clusters.rank],
            ["#212121"] * len(clusters),  # dark rings, as the single alarm squares have
        )

    @property
    def cluster_count(self) -> int:
        """How many cluster symbols are drawn."""
        return len(self.clusters)

    def cluster_level(self, index: int) -> AlarmLevel:
        """The most severe level among the members of cluster ``index`` (its colour)."""
        return SEVERITY[int(self.clusters.rank[index])]

    def _cluster_tip(self, index: int) -> str:
        text = QCoreApplication.translate("MapView", "{count} alarms (click to zoom in)")
        return plain_tooltip(text.format(count=int(self.clusters.count[index])))

    def _cluster_clicked(self, index: int) -> None:
        zoom_into_cluster(self.container, self.clusters.bounds[index], self.cell_m)

    @property
    def unacknowledged_count(self) -> int:
        """How many unacknowledged alarms are drawn, clustered or not."""
        return sum(1 for point in self._points if point[4])

    def count(self) -> int:
        """How many alarms are drawn, clustered or not."""
        return len(self._points)

    def pulse(self) -> None:
        """Advance the pulse of the unacknowledged alarms by one step."""
        if not self.unacknowledged_count:
            return
        self._pulse_phase ^= 1
        self.unacknowledged.setSize(UNACKNOWLEDGED_SIZES[self._pulse_phase])

    def _tip(self, x: float, y: float, data: Any) -> str:
        return plain_tooltip(self._titles.get(int(data), f"#{data}"))

    def _clicked(self, _item: pg.ScatterPlotItem, points: Sequence[Any], _event: Any) -> None:
        if len(points):
            self._on_click(int(points[0].data()))
