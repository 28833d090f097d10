"""Basemap layers: outlines per grid cell, filled regions and names shown by zoom.

The outline paths may be made beforehand on a worker thread (:func:`outline_paths` builds
painter paths only), as :mod:`desktop.map.counties` does for a province's counties.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

from desktop.map.basemap import BasemapLayer
from desktop.map.layers import LayerKey, MapLayer, make_label, ring_path


class BasemapOutlineLayer(MapLayer):
    """One basemap layer: outlines per grid cell, fills per region, names when in range.

    ``cell_m`` is the grid cell of the outline items (Mercator metres); the regions in
    ``emphasis`` are outlined with ``emphasis_pen`` (China's boundary in the countries).
    ``outlines`` are the outline paths when they were made beforehand by
    :func:`outline_paths` (on a worker thread, for the counties); else they are made here.
    """

    def __init__(
        self,
        key: LayerKey,
        parent: QGraphicsItem,
        data: BasemapLayer,
        *,
        z_value: float,
        pen: QPen,
        brush: QBrush | None = None,
        max_mpp: float = math.inf,
        label_range: tuple[float, float] | None = None,
        label_size: float = 9.0,
        label_colour: str = "#37474f",
        chinese_names: bool = True,
        cell_m: float = 200_000.0,
        emphasis: frozenset[str] = frozenset(),
        emphasis_pen: QPen | None = None,
        outlines: OutlinePaths | None = None,
    ) -> None:
        super().__init__(key, parent, z_value=z_value, max_mpp=max_mpp)
        self.data = data
        self.paths: list[QGraphicsPathItem] = []
        self.labels: list[QGraphicsSimpleTextItem] = []
        self._label_range = label_range
        self._labels_in_range = False
        self.label_group = pg.ItemGroup(self.container)
        self.label_group.setZValue(1)
        self.fills: list[QGraphicsPathItem] = []
        no_pen = QPen(Qt.PenStyle.NoPen)
        for feature in data:
            if brush is not None:
                # Areas are filled by one item per region, without a pen.
                path = QPainterPath()
                path.setFillRule(Qt.FillRule.OddEvenFill)
                for ring in feature.rings:
                    path.addPath(ring_path(ring, closed=True))
                fill = QGraphicsPathItem(path, self.container)
                fill.setPen(no_pen)
                fill.setBrush(brush)
                fill.setData(0, feature.code)
                self.fills.append(fill)
            if label_range is None or not math.isfinite(feature.label_xy[0]):
                continue
            text = feature.name if chinese_names or not feature.name_en else feature.name_en
            label = make_label(text, self.label_group, point_size=label_size, colour=label_colour)
            label.setPos(QPointF(*feature.label_xy))
            self.labels.append(label)
        if outlines is None:
            outlines = outline_paths(data, cell_m=cell_m, emphasis=emphasis)
        for (bold, _, _), path in outlines.items():
            item = QGraphicsPathItem(path, self.container)
            item.setPen(emphasis_pen if bold and emphasis_pen is not None else pen)
            self.paths.append(item)
        self.label_group.setVisible(False)

    @property
    def labels_visible(self) -> bool:
        """Whether the names are drawn now."""
        return self.visible and self._labels_in_range

    def set_resolution(self, metres_per_pixel: float) -> None:
        """Hide the outlines and the names outside their zoom ranges."""
        super().set_resolution(metres_per_pixel)
        if self._label_range is not None:
            low, high = self._label_range
            self._labels_in_range = low <= metres_per_pixel < high
            self.label_group.setVisible(self._labels_in_range)

    def set_fill(self, brush: QBrush | None) -> None:
        """Fill the regions with ``brush`` (None: outlines only, e.g. over raster tiles)."""
        for item in self.fills:
            item.setVisible(brush is not None)
            if brush is not None:
                item.setBrush(brush)

    def fill_of(self, code: str) -> QGraphicsPathItem | None:
        """Return the fill item of the region with ``code`` (None if not filled)."""
        return next((item for item in self.fills if item.data(0) == code), None)


PIECE_POINTS = 128
"""Outline pieces hold at most this many points."""

OutlinePaths = dict[tuple[bool, int, int], QPainterPath]
"""Outline paths of a layer by (emphasised, grid column, grid row)."""


def outline_paths(
    data: BasemapLayer, *, cell_m: float, emphasis: frozenset[str] = frozenset()
) -> OutlinePaths:
    """Return the outlines of ``data`` as short pieces gathered per grid cell.

    Few items (each costs the view per frame) whose bounds are small enough to cull.
    Builds painter paths only (no graphics items), so it may run on a worker thread.
    """
    buckets: OutlinePaths = {}
    for feature in data:
        bold = feature.code in emphasis
        for ring in feature.rings:
            for piece in ring_pieces(ring):
                centre = piece.mean(axis=0)
                cell = (bold, int(centre[0] // cell_m), int(centre[1] // cell_m))
                buckets.setdefault(cell, QPainterPath()).addPath(ring_path(piece, closed=False))
    return buckets


def ring_pieces(ring: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
    """Cut a ring into consecutive pieces of at most :data:`PIECE_POINTS` points."""
    if len(ring) <= PIECE_POINTS:
        return [ring]
    step = PIECE_POINTS - 1
    return [ring[start : start + PIECE_POINTS] for start in range(0, len(ring) - 1, step)]
