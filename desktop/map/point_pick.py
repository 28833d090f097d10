"""Pick one point on the map (the place of a report): a click sets a marker and reports
its WGS-84 position; Esc or :meth:`PointPickTool.cancel` ends the mode without a point.

Like the geofence drawing tool it watches the map canvas's clicks (a drag still pans);
the marker stays until cleared, so the officer sees where the report will land.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent

from desktop.map.projection import from_mercator, to_mercator
from desktop.map.view import MapView

CLICK_SLOP_PX = 4
"""A press and release further apart than this is a pan, not a click."""


class PointPickTool(QObject):
    """A "pick a point" mode on a :class:`MapView`, with a marker."""

    picked = Signal(float, float)
    """(lat, lon) of the point clicked; the mode ends."""
    cancelled = Signal()
    """The mode ended without a point (Esc, or cancelled)."""

    def __init__(self, map_view: MapView) -> None:
        super().__init__(map_view)
        self._map = map_view
        self.picking = False
        self.position: tuple[float, float] | None = None
        """(lat, lon) of the marker shown, if any."""
        self._pressed_at: QPoint | None = None
        self.marker = pg.ScatterPlotItem(
            pxMode=True,
            size=18,
            symbol="t1",
            brush=pg.mkBrush("#d81b60"),
            pen=pg.mkPen("#ffffff", width=1.5),
        )
        self.marker.setZValue(80)
        map_view.view_box.addItem(self.marker)
        self._viewport = map_view.canvas.viewport()
        self._viewport.installEventFilter(self)
        map_view.canvas.installEventFilter(self)

    def start(self) -> None:
        """Wait for a click on the map."""
        self.picking = True
        self._map.canvas.setCursor(Qt.CursorShape.CrossCursor)
        self._map.canvas.setFocus()

    def cancel(self) -> None:
        """Leave the mode without a point (the marker placed before stays)."""
        if not self.picking:
            return
        self._end()
        self.cancelled.emit()

    def set_point(self, lat: float, lon: float) -> None:
        """Place the marker at (lat, lon) and end the mode (a click does this)."""
        self.position = (lat, lon)
        x, y = to_mercator(lon, lat)
        self.marker.setData([x], [y])
        self._end()
        self.picked.emit(lat, lon)

    def clear(self) -> None:
        """Remove the marker."""
        self.position = None
        self.marker.setData([], [])

    def _end(self) -> None:
        self.picking = False
        self._pressed_at = None
        self._map.canvas.unsetCursor()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """While picking: a click places the point, Esc cancels."""
        if not self.picking:
            return False
        kind = event.type()
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Escape:
                self.cancel()
                return True
            return False
        if watched is not self._viewport or not isinstance(event, QMouseEvent):
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        pixel = event.position().toPoint()
        if kind == QEvent.Type.MouseButtonPress:
            self._pressed_at = pixel
        elif kind == QEvent.Type.MouseButtonRelease and self._pressed_at is not None:
            moved = (pixel - self._pressed_at).manhattanLength()
            self._pressed_at = None
            if moved <= CLICK_SLOP_PX:
                scene = self._map.canvas.mapToScene(pixel)
                point = self._map.view_box.mapSceneToView(scene)
                lon, lat = from_mercator(point.x(), point.y())
                self.set_point(lat, lon)
                return True
        return False
