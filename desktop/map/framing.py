"""Framing the map on the scene: every live vehicle and open alarm (and the registry
items of the officer's area when they are few), with a margin; the officer's
jurisdiction when nothing is live.

:class:`SceneFramer` frames the map once when the first live data arrives after login
(after a short wait, so that the first burst of telemetry is all in), never again by
itself once the officer has panned or zoomed; :meth:`SceneFramer.frame_all` is the
"frame all" action.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRectF, QTimer

from desktop.map.projection import to_mercator
from realtime.states import is_open

if TYPE_CHECKING:
    from desktop.map.view import MapView

logger = logging.getLogger(__name__)

Extent = tuple[float, float, float, float]
"""(x_min, y_min, x_max, y_max), Web-Mercator metres."""

MARGIN = 0.12
"""Room left on each side of the scene, as a fraction of its size."""
MIN_SPAN_M = 2_000.0
"""The narrowest framed view (one vehicle alone is shown with its streets around it)."""
FEW_REGISTRY_ITEMS = 40
"""Registry items are framed too when there are at most this many."""
SETTLE_MS = 1500
"""Wait after the first data before framing, so the first burst of telemetry is in."""


def scene_extent(
    points: Iterable[tuple[float, float]], *, margin: float = MARGIN, min_span: float = MIN_SPAN_M
) -> Extent | None:
    """The extent around ``points`` (Mercator metres) with a margin, or None if none."""
    listed = list(points)
    if not listed:
        return None
    xs = [x for x, _ in listed]
    ys = [y for _, y in listed]
    x_min, x_max, y_min, y_max = min(xs), max(xs), min(ys), max(ys)
    width = max(x_max - x_min, min_span / (1 + 2 * margin))
    height = max(y_max - y_min, min_span / (1 + 2 * margin))
    cx, cy = (x_min + x_max) / 2, (y_min + y_max) / 2
    half_w = width * (1 + 2 * margin) / 2
    half_h = height * (1 + 2 * margin) / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


class SceneFramer(QObject):
    """Frames a :class:`MapView` on its live scene: once by itself, then on request."""

    def __init__(self, map_view: MapView) -> None:
        super().__init__(map_view)
        self._map = map_view
        self.framed_live = False
        """Whether the map was framed on live data (it then never frames by itself)."""
        self.framed_area = False
        """Whether the map was framed on the officer's jurisdiction (nothing live yet)."""
        self.officer_moved = False
        """Whether the officer has panned or zoomed (the map then stays where they put it)."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._frame_first_time)
        map_view.view_box.sigRangeChangedManually.connect(self.note_officer_moved)

    def note_officer_moved(self, *_args: object) -> None:
        """The officer moved the map: never frame it by itself from now on."""
        self.officer_moved = True
        self._timer.stop()

    def note_data(self) -> None:
        """Look whether there is something to frame for the first time (the map calls
        this on each redraw); frame it soon if so."""
        if self.framed_live or self.officer_moved or self._timer.isActive():
            return
        live = len(self._map.vehicles) > 0 or self._map.alarm_layer.count() > 0
        area = not self.framed_area and self._map.jurisdictions.count() > 0
        if live or area:
            self._timer.start()

    def _frame_first_time(self) -> None:
        if self.framed_live or self.officer_moved:
            return
        if self.live_points():
            self.framed_live = True
        else:
            self.framed_area = True
        self.frame_all()

    def live_points(self) -> list[tuple[float, float]]:
        """Every live vehicle and open alarm with a place (Mercator metres)."""
        points = [(record.x, record.y) for record in self._map.vehicles]
        if self._map.alarm_store is not None:
            points += [
                to_mercator(alarm.lon, alarm.lat)
                for alarm in self._map.alarm_store
                if alarm.lat is not None and alarm.lon is not None and is_open(alarm.state)
            ]
        return points

    def registry_points(self) -> list[tuple[float, float]]:
        """The registry items drawn, when they are few (else none: they would widen
        the view to the whole area)."""
        data = self._map.registry.item.data
        if not 0 < len(data) <= FEW_REGISTRY_ITEMS:
            return []
        return [(float(x), float(y)) for x, y in zip(data["x"], data["y"], strict=True)]

    def jurisdiction_extent(self) -> Extent | None:
        """The extent of the officer's jurisdiction outline, or None if none is drawn."""
        rect = QRectF()
        for item in self._map.jurisdictions.items.values():
            rect = rect.united(item.path().boundingRect())
        if rect.isEmpty():
            return None
        return scene_extent([(rect.left(), rect.top()), (rect.right(), rect.bottom())], margin=0.03)

    def extent(self) -> Extent | None:
        """What "frame all" shows: the live scene, else the jurisdiction, else None."""
        live = self.live_points()
        if live:
            return scene_extent(live + self.registry_points())
        return self.jurisdiction_extent() or scene_extent(self.registry_points())

    def frame_all(self) -> bool:
        """Frame the map on :meth:`extent`; False (nothing moved) when there is nothing."""
        extent = self.extent()
        if extent is None:
            return False
        x_min, y_min, x_max, y_max = extent
        self._map.view_box.setRange(QRectF(x_min, y_min, x_max - x_min, y_max - y_min), padding=0.0)
        logger.debug("map framed on %s", extent)
        return True
