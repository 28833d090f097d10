"""The map's road layer: the roads of the server's road layer (``roads.get``), drawn by
class, fetched for the view as the map moves.

:class:`RoadLayer` draws one :class:`~PySide6.QtGui.QPainterPath` per class (a casing and
a fill for the major classes, pens by class, the major classes on top) and the names of
the major roads at street zoom. :class:`RoadLoader` asks for the view's roads a moment
after the map stops moving (debounced), keeps the answers (:mod:`desktop.map.road_plan`)
and shows the latest asked for.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QTimer
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

from desktop.map.layers import LayerKey, MapLayer, cosmetic_pen, make_label
from desktop.map.projection import from_mercator, ground_resolution, to_mercator_arrays
from desktop.map.road_plan import RoadCache, RoadRequest, request_for
from realtime.protocol import ROAD_CLASS_ORDER, GetRoads, RoadClass, RoadsResult

logger = logging.getLogger(__name__)

ROAD_STYLE: dict[RoadClass, tuple[str | None, str, float]] = {
    RoadClass.MOTORWAY: ("#b71c1c", "#ef5350", 3.5),
    RoadClass.TRUNK: ("#bf360c", "#ff8a65", 3.2),
    RoadClass.PRIMARY: ("#e65100", "#ffb74d", 2.8),
    RoadClass.SECONDARY: ("#c49000", "#fff176", 2.4),
    RoadClass.TERTIARY: ("#9e9e9e", "#ffffff", 2.0),
    RoadClass.RESIDENTIAL: ("#b8b2a6", "#ffffff", 1.5),
    RoadClass.SERVICE: (None, "#bdb5a6", 1.0),
}
"""Per class: casing colour (``None``: no casing), fill colour, fill width in pixels (the
casing is 1.5 px wider)."""

LABELLED = frozenset(ROAD_CLASS_ORDER[: ROAD_CLASS_ORDER.index(RoadClass.TERTIARY) + 1])
"""Classes whose names are drawn along the road."""

LABEL_MAX_MPP = 12.0
"""Mercator metres per pixel below which road names are drawn (street zoom)."""

DEBOUNCE_MS = 250
RETRY_MS = 5_000

RoadQuery = Callable[[GetRoads, Callable[[object], None], Callable[[str, str], None]], object]
"""Sends a command and calls back with its result or its error code and message (as
:meth:`desktop.service.ConsoleService.query`)."""


def when_loop_runs(query: RoadQuery) -> RoadQuery:
    """``query`` when the session's asyncio loop runs; else an error at once (Qt may fire
    the loader's timers while the loop is not running: at shutdown, between a test's
    steps), so the loader asks again later."""

    def guarded(
        command: GetRoads,
        on_result: Callable[[object], None],
        on_error: Callable[[str, str], None],
    ) -> object:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            on_error("no_loop", "the session's event loop is not running")
            return None
        return query(command, on_result, on_error)

    return guarded


class RoadLayer(MapLayer):
    """The roads of the latest answer: one path per class, names of the major roads."""

    def __init__(self, parent: QGraphicsItem, *, z_value: float) -> None:
        super().__init__(LayerKey.ROADS, parent, z_value=z_value, max_mpp=800.0)
        self.paths: dict[RoadClass, QGraphicsPathItem] = {}
        self.casings: dict[RoadClass, QGraphicsPathItem] = {}
        order = len(ROAD_CLASS_ORDER)
        for rank, road_class in enumerate(ROAD_CLASS_ORDER):
            casing, fill, width = ROAD_STYLE[road_class]
            # Major classes on top; every casing under every fill so junctions read clean.
            if casing is not None:
                item = QGraphicsPathItem(self.container)
                item.setPen(_round_pen(casing, width + 1.5))
                item.setZValue(order - rank)
                self.casings[road_class] = item
            item = QGraphicsPathItem(self.container)
            item.setPen(_round_pen(fill, width))
            item.setZValue(2 * order - rank)
            self.paths[road_class] = item
        self.label_group = pg.ItemGroup(self.container)
        self.label_group.setZValue(3 * order)
        self.labels: list[QGraphicsSimpleTextItem] = []
        self.shown: RoadsResult | None = None
        self._mpp = math.inf

    def show(self, result: RoadsResult) -> None:
        """Draw ``result`` (replacing what was drawn)."""
        if result is self.shown:
            return
        self.shown = result
        drawn = {group.road_class: group for group in result.classes}
        for road_class, item in self.paths.items():
            group = drawn.get(road_class)
            path = _class_path([line.points for line in group.lines]) if group else QPainterPath()
            item.setPath(path)
            casing = self.casings.get(road_class)
            if casing is not None:
                casing.setPath(path)
        self._place_labels(result)

    def clear(self) -> None:
        """Draw no road."""
        self.show(RoadsResult(classes=[]))

    def set_resolution(self, metres_per_pixel: float) -> None:
        """Hide the layer outside its range and the names above street zoom."""
        super().set_resolution(metres_per_pixel)
        self._mpp = metres_per_pixel
        self.label_group.setVisible(metres_per_pixel < LABEL_MAX_MPP)

    def _place_labels(self, result: RoadsResult) -> None:
        scene = self.label_group.scene()
        for label in self.labels:
            if scene is not None:
                scene.removeItem(label)
        self.labels = []
        named: set[str] = set()
        for group in result.classes:
            if group.road_class not in LABELLED:
                continue
            for line in group.lines:
                if not line.name or line.name in named or len(line.points) < 4:
                    continue
                named.add(line.name)
                self.labels.append(self._label(line.name, line.points, group.road_class))

    def _label(
        self, name: str, points: list[float], road_class: RoadClass
    ) -> QGraphicsSimpleTextItem:
        lat = np.asarray(points[0::2], dtype=np.float64)
        lon = np.asarray(points[1::2], dtype=np.float64)
        x, y = to_mercator_arrays(lon, lat)
        # On the longest piece of the road, turned along it and kept upright.
        lengths = np.hypot(np.diff(x), np.diff(y))
        piece = int(np.argmax(lengths))
        dx, dy = x[piece + 1] - x[piece], y[piece + 1] - y[piece]
        angle = -math.degrees(math.atan2(dy, dx))  # the view's y axis points up
        if angle > 90:
            angle -= 180
        elif angle < -90:
            angle += 180
        colour = "#5d4037" if road_class in {RoadClass.TERTIARY} else "#3e2723"
        label = make_label(name, self.label_group, point_size=8.5, colour=colour)
        label.setPos(QPointF((x[piece] + x[piece + 1]) / 2, (y[piece] + y[piece + 1]) / 2))
        label.setRotation(angle)
        return label


def _round_pen(colour: str, width: float) -> QPen:
    pen = cosmetic_pen(colour, width)
    pen.setCapStyle(pen.capStyle().RoundCap)
    pen.setJoinStyle(pen.joinStyle().RoundJoin)
    return pen


def _class_path(lines: list[list[float]]) -> QPainterPath:
    """One path through every line of a class (Web-Mercator metres)."""
    lines = [points for points in lines if len(points) >= 4]
    if not lines:
        return QPainterPath()
    flat = np.concatenate([np.asarray(points, dtype=np.float64) for points in lines])
    x, y = to_mercator_arrays(flat[1::2], flat[0::2])
    connect = np.ones(len(x), dtype=np.int32)
    ends = np.cumsum([len(points) // 2 for points in lines]) - 1
    connect[ends] = 0  # no stroke from one road's end to the next road's start
    path: QPainterPath = pg.arrayToQPath(x, y, connect=connect, finiteCheck=False)
    return path


class RoadLoader(QObject):
    """Fetches the view's roads as the map moves (debounced) and shows them, from the
    cache when the same box was asked before."""

    def __init__(
        self,
        layer: RoadLayer,
        view_box: Callable[[], tuple[float, float, float, float, float]],
        query: RoadQuery,
        parent: QObject | None = None,
    ) -> None:
        """``view_box`` gives the view as (x_min, y_min, x_max, y_max) Web-Mercator metres
        and the Mercator metres per pixel."""
        super().__init__(parent)
        self.layer = layer
        self.cache = RoadCache()
        self._view_box = view_box
        self._query = query
        self._wanted: RoadRequest | None = None
        self._pending: RoadRequest | None = None
        self._live = False
        """Asks only once a session began (:meth:`new_session`): before, nobody answers."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self.refresh)

    def view_changed(self) -> None:
        """The map moved: fetch a moment after it stops."""
        self._timer.start()

    def new_session(self, *_args: object) -> None:
        """A new login (maybe another server): forget the answers and fetch again."""
        self.cache.clear()
        self._pending = None
        self._live = True
        self.refresh()

    def refresh(self) -> None:
        """Show the roads of the current view, asking the server when not cached."""
        x_min, y_min, x_max, y_max, mpp = self._view_box()
        west, south = from_mercator(x_min, y_min)
        east, north = from_mercator(x_max, y_max)
        ground = ground_resolution(mpp, (south + north) / 2)
        request = request_for(west, south, east, north, ground)
        self._wanted = request
        if request is None or not self.layer.enabled or not self._live:
            return
        cached = self.cache.get(request)
        if cached is not None:
            self.layer.show(cached)
            return
        if request == self._pending:
            return
        self._pending = request
        self._query(
            request.command(),
            lambda result: self._arrived(request, result),
            lambda code, message: self._failed(request, code, message),
        )

    def _arrived(self, request: RoadRequest, result: object) -> None:
        if request == self._pending:
            self._pending = None
        if not isinstance(result, RoadsResult):
            logger.warning("roads.get answered with %s", type(result).__name__)
            return
        self.cache.put(request, result)
        if request == self._wanted:
            self.layer.show(result)
        elif self._wanted is not None and self._wanted != self._pending:
            self.refresh()

    def _failed(self, request: RoadRequest, code: str, message: str) -> None:
        if request == self._pending:
            self._pending = None
        # The map stays as it was; try again later (not logged in yet, a slow server).
        logger.info("roads not loaded: %s %s", code, message)
        self._retry.start()
