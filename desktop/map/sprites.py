"""Map items that draw many points from numpy arrays: symbols and clusters.

:class:`SpriteItem` holds tens of thousands of points with a symbol index each and paints
them in one ``drawPixmapFragments`` call from a pre-rendered atlas (the technique of
pyqtgraph's scatter item, without its per-point Python bookkeeping: replacing every
point costs a few numpy operations, not a Python loop). :class:`ClusterItem` draws cluster
discs with their member count. Both find the point under the mouse with numpy for
tooltips and clicks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from pyqtgraph.Qt import internals as pg_internals
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

WORLD_M = 2.1e7
"""Half the side of the square that bounds every item (beyond Web-Mercator's ±20,037 km)."""
MAX_CLUSTER_RADIUS_PX = 18.0
"""The largest cluster disc (without its halo)."""
HALO_PX = 3
"""The translucent halo around a cluster disc."""
HIT_SLACK_PX = 3.0
"""A click this many pixels outside a symbol still hits it."""


def disc_path() -> QPainterPath:
    """A disc of diameter 1 centred on the origin."""
    path = QPainterPath()
    path.addEllipse(QPointF(0.0, 0.0), 0.5, 0.5)
    return path


@dataclasses.dataclass(frozen=True, slots=True)
class SpriteSymbol:
    """One symbol of the atlas: a path of unit size, its pixel size and colours."""

    path: QPainterPath
    size_px: float
    brush: str
    pen: str = "#ffffff"
    pen_px: float = 1.0


def render_atlas(symbols: Sequence[SpriteSymbol], dpr: float) -> tuple[QPixmap, FloatArray]:
    """Render ``symbols`` side by side; return the pixmap and n×4 source rects."""
    cells = [math.ceil((symbol.size_px + 2 * symbol.pen_px + 2) * dpr) for symbol in symbols]
    image = QImage(
        max(sum(cells), 1), max(cells, default=1), QImage.Format.Format_ARGB32_Premultiplied
    )
    image.fill(Qt.GlobalColor.transparent)
    source = np.zeros((len(symbols), 4))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    left = 0
    for index, (symbol, cell) in enumerate(zip(symbols, cells, strict=True)):
        painter.save()
        painter.translate(left + cell / 2, cell / 2)
        scale = symbol.size_px * dpr
        painter.scale(scale, scale)
        pen = QPen(QColor(symbol.pen))
        pen.setWidthF(symbol.pen_px / symbol.size_px)
        painter.setPen(pen)
        painter.setBrush(QBrush(QColor(symbol.brush)))
        painter.drawPath(symbol.path)
        painter.restore()
        source[index] = (left, 0, cell, cell)
        left += cell
    painter.end()
    return QPixmap.fromImage(image), source


def device_coordinates(
    transform: Any, x: FloatArray, y: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Map item coordinates to device pixels with an affine ``QTransform``."""
    return (
        transform.m11() * x + transform.m21() * y + transform.dx(),
        transform.m12() * x + transform.m22() * y + transform.dy(),
    )


class _ArrayItem(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph is untyped
    """What both items share: world bounds, hit testing, tooltips and clicks."""

    def __init__(
        self,
        parent: QGraphicsItem,
        *,
        tip: Callable[[int], str] | None,
        on_click: Callable[[int], None] | None,
    ) -> None:
        super().__init__(parent)
        self._tip = tip
        self._on_click = on_click
        self.x: FloatArray = np.empty(0)
        self.y: FloatArray = np.empty(0)
        self._radius_px: FloatArray = np.empty(0)

    def boundingRect(self) -> QRectF:  # noqa: N802
        """The whole world: points move every second, and the view culls by itself."""
        return QRectF(-WORLD_M, -WORLD_M, 2 * WORLD_M, 2 * WORLD_M)

    def _candidates(self) -> IntArray:
        return np.arange(len(self.x))

    @property
    def point_count(self) -> int:
        """How many points the item holds (drawn or hidden)."""
        return len(self.x)

    def tooltip(self, index: int) -> str:
        """The tooltip the mouse shows over point ``index`` ("" without one)."""
        return "" if self._tip is None else self._tip(index)

    def hit(self, position: QPointF) -> int | None:
        """Return the index of the topmost point drawn under ``position`` (item coords)."""
        scene = self.scene()
        views = scene.views() if scene is not None else []
        if not views or not len(self.x):
            return None
        transform = self.deviceTransform(views[0].viewportTransform())
        candidates = self._candidates()
        px, py = device_coordinates(transform, self.x[candidates], self.y[candidates])
        at = transform.map(position)
        distance = np.hypot(px - at.x(), py - at.y())
        inside = np.flatnonzero(distance <= self._radius_px[candidates] + HIT_SLACK_PX)
        if not len(inside):
            return None
        return int(candidates[inside[-1]])  # drawn last = on top

    def hoverEvent(self, event: Any) -> None:  # noqa: N802
        """Show the tooltip of the point under the mouse."""
        if self._tip is None:
            return
        index = None if event.isExit() else self.hit(event.pos())
        self.setToolTip("" if index is None else self.tooltip(index))

    def mouseClickEvent(self, event: Any) -> None:  # noqa: N802
        """Report a left click on a point; let other clicks through to the items below."""
        if event.button() != Qt.MouseButton.LeftButton or self._on_click is None:
            event.ignore()
            return
        index = self.hit(event.pos())
        if index is None:
            event.ignore()
            return
        event.accept()
        self._on_click(index)


class SpriteItem(_ArrayItem):
    """Many points, each drawn with one of a few symbols, in one call per paint."""

    def __init__(
        self,
        parent: QGraphicsItem,
        symbols: Sequence[SpriteSymbol],
        *,
        tip: Callable[[int], str] | None = None,
        on_click: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(parent, tip=tip, on_click=on_click)
        self.symbols = list(symbols)
        self._symbol_radius = np.array([s.size_px / 2 + s.pen_px for s in self.symbols])
        self._pad_px = float(self._symbol_radius.max(initial=0.0)) + 1
        self.symbol: IntArray = np.empty(0, dtype=np.intp)
        self.shown: BoolArray = np.empty(0, dtype=bool)
        self._dpr = 0.0
        self._atlas = QPixmap()
        self._source: FloatArray = np.empty((0, 4))
        self._fragments = pg_internals.PrimitiveArray(QPainter.PixmapFragment, 10)

    def set_points(self, x: FloatArray, y: FloatArray, symbol: IntArray) -> None:
        """Replace every point; later points are drawn over earlier ones. All are shown."""
        self.x = np.ascontiguousarray(x, dtype=np.float64)
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        self.symbol = np.asarray(symbol, dtype=np.intp)
        self._radius_px = self._symbol_radius[self.symbol]
        self.shown = np.ones(len(self.x), dtype=bool)
        self.update()

    def set_shown(self, shown: BoolArray) -> None:
        """Draw only the points where ``shown`` is true (e.g. those not in a cluster)."""
        self.shown = np.asarray(shown, dtype=bool)
        self.update()

    def _candidates(self) -> IntArray:
        return np.flatnonzero(self.shown)

    def paint(
        self, painter: QPainter, _option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """Draw the shown points that fall on the device, symbols at their pixel size."""
        if not len(self.x):
            return
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        if dpr != self._dpr:
            self._dpr = dpr
            self._atlas, self._source = render_atlas(self.symbols, dpr)
        px, py = device_coordinates(painter.transform(), self.x, self.y)
        device = painter.device()
        pad = self._pad_px
        drawn = np.flatnonzero(
            self.shown
            & (px > -pad)
            & (px < device.width() + pad)
            & (py > -pad)
            & (py < device.height() + pad)
        )
        if not len(drawn):
            return
        self._fragments.resize(len(drawn))
        fragments = self._fragments.ndarray()
        fragments[:, 0] = px[drawn]
        fragments[:, 1] = py[drawn]
        fragments[:, 2:6] = self._source[self.symbol[drawn]]
        fragments[:, 6:10] = (1 / dpr, 1 / dpr, 0.0, 1.0)
        painter.save()
        painter.resetTransform()
        # PySide takes (first fragment, count, pixmap); the stubs know only the list form
        painter.drawPixmapFragments(*self._fragments.drawargs(), self._atlas)  # type: ignore[call-arg]
        painter.restore()


def cluster_keep_off_edge(cell_px: float) -> float:
    """How far (a fraction of the cell) a disc's centre keeps from its grid cell's edges,
    so that discs of neighbouring cells never overlap: a cell is at least ``cell_px``."""
    return (MAX_CLUSTER_RADIUS_PX + HALO_PX + 1) / cell_px


def cluster_radius_px(count: IntArray) -> FloatArray:
    """Disc radius in pixels: grows with the logarithm of the member count."""
    radius = 11.0 + 4.0 * np.log10(np.maximum(count, 1))
    return np.asarray(np.minimum(radius, MAX_CLUSTER_RADIUS_PX), dtype=np.float64)


def render_disc(colour: QColor, ring_colour: QColor, radius: int) -> QPixmap:
    """Render a cluster disc: ``colour`` with a ring and a translucent halo."""
    size = 2 * (radius + HALO_PX) + 2
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    centre = QPointF(size / 2, size / 2)
    halo = QColor(ring_colour if ring_colour != QColor("#ffffff") else colour)
    halo.setAlpha(90)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(halo)
    painter.drawEllipse(centre, radius + HALO_PX, radius + HALO_PX)
    ring = QPen(ring_colour)
    ring.setWidthF(2.0 if ring_colour == QColor("#ffffff") else 3.0)
    painter.setPen(ring)
    painter.setBrush(colour)
    painter.drawEllipse(centre, radius, radius)
    painter.end()
    return QPixmap.fromImage(image)


def count_text(count: int) -> str:
    """The count written on a cluster: exact below 1,000, then in thousands."""
    return (
        str(count)
        if count < 1000
        else f"{count / 1000:.0f}k"
        if count >= 10_000
        else f"{count / 1000:.1f}k"
    )


class ClusterItem(_ArrayItem):
    """Cluster discs with their member count, in the colour the layer gives each."""

    def __init__(
        self,
        parent: QGraphicsItem,
        *,
        tip: Callable[[int], str] | None = None,
        on_click: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(parent, tip=tip, on_click=on_click)
        self.count: IntArray = np.empty(0, dtype=np.intp)
        self._colours: list[QColor] = []
        self._rings: list[QColor] = []
        self._font = QFont()
        self._font.setPointSizeF(8.0)
        self._font.setBold(True)
        self._discs: dict[tuple[int, int, int], QPixmap] = {}
        self._text_pens = (QPen(QColor("#ffffff")), QPen(QColor("#212121")))
        """Count text on dark discs, and on light ones (yellow alarms)."""

    def set_clusters(
        self,
        x: FloatArray,
        y: FloatArray,
        count: IntArray,
        colours: Sequence[str],
        rings: Sequence[str] | None = None,
    ) -> None:
        """Replace the clusters: centres, member counts, one fill colour each and,
        optionally, one ring colour each (white by default)."""
        self.x = np.asarray(x, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.count = np.asarray(count, dtype=np.intp)
        self._radius_px = cluster_radius_px(self.count)
        self._colours = [QColor(colour) for colour in colours]
        self._rings = [QColor(ring) for ring in (rings or ["#ffffff"] * len(self._colours))]
        self.update()

    def paint(
        self, painter: QPainter, _option: QStyleOptionGraphicsItem, _widget: QWidget | None = None
    ) -> None:
        """Draw each cluster on the device as a ringed disc with its count."""
        if not len(self.x):
            return
        px, py = device_coordinates(painter.transform(), self.x, self.y)
        device = painter.device()
        radius = self._radius_px
        drawn = np.flatnonzero(
            (px > -radius)
            & (px < device.width() + radius)
            & (py > -radius)
            & (py < device.height() + radius)
        )
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        for index in drawn:
            r = float(radius[index])
            colour = self._colours[index]
            disc = self._disc(colour, self._rings[index], round(r))
            half = disc.width() / disc.devicePixelRatio() / 2
            painter.drawPixmap(QPointF(px[index] - half, py[index] - half), disc)
            painter.setPen(self._text_pens[colour.lightnessF() > 0.6])
            painter.drawText(
                QRectF(px[index] - r, py[index] - r, 2 * r, 2 * r),
                Qt.AlignmentFlag.AlignCenter,
                count_text(int(self.count[index])),
            )
        painter.restore()

    def _disc(self, colour: QColor, ring: QColor, radius: int) -> QPixmap:
        """A ringed disc with a halo, rendered once per colours and radius."""
        key = (colour.rgba(), ring.rgba(), radius)
        disc = self._discs.get(key)
        if disc is None:
            disc = render_disc(colour, ring, radius)
            self._discs[key] = disc
        return disc


def zoom_into_cluster(item: QGraphicsItem, bounds: FloatArray, cell_m: float) -> None:
    """Zoom the view box holding ``item`` onto a cluster's members (west, south, east, north).

    Members on one spot still get a view a quarter of a grid cell wide, so every click
    zooms in at least four times and the cluster falls apart after a few.
    """
    view_box = item.getViewBox() if isinstance(item, pg.GraphicsItem) else None
    if view_box is None:
        return
    west, south, east, north = (float(value) for value in bounds)
    half = max(east - west, north - south, cell_m / 4) / 2
    cx, cy = (west + east) / 2, (south + north) / 2
    view_box.setRange(QRectF(cx - half, cy - half, 2 * half, 2 * half), padding=0.1)
