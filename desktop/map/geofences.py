"""Geofences on the map: the stored shapes, and a tool to draw new ones with the mouse.

:class:`GeofenceLayer` draws stored geofences (circles, polygons, route corridors with
their width) with their names into the map's geofence layer, so the layer menu hides
them too. :class:`GeofenceDrawTool` turns clicks on the map into a
:data:`~realtime.protocol.GeofenceShape`: a circle is its centre and then a point on its
edge; a polygon or route takes a click per point and ends with Enter or a double click;
Esc cancels. Dragging still pans the map while drawing.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

from desktop.map.layers import cosmetic_pen, make_label
from desktop.map.projection import from_mercator, to_mercator
from desktop.map.view import MapView
from desktop.plain_text import plain_tooltip
from realtime.protocol import (
    CircleShape,
    GeofenceShape,
    GeofenceView,
    PolygonShape,
    PolylineShape,
)

CIRCLE_SEGMENTS = 72
"""A circle is drawn as a polygon of this many sides."""
CLICK_SLOP_PX = 4
"""A press and release farther apart than this is a drag (pan), not a click."""
SAME_POINT_PX = 3
"""A click this close to the previous point adds nothing (the second click of a double click)."""
DEFAULT_ROUTE_WIDTH_M = 200.0
"""Corridor width of a newly drawn route until the officer sets it."""
PICK_TOLERANCE_PX = 6
"""How near a click must be to a route to select it."""

GROUND_RADIUS_M = 6_371_008.8
"""Mean Earth radius for ground distances (as the backend measures them)."""

KIND_COLOURS = {
    "geofence": "#1565c0",
    "no_go_zone": "#c62828",
    "speed_zone": "#ef6c00",
    "route_corridor": "#2e7d32",
}


class DrawMode(enum.StrEnum):
    """What the draw tool is drawing."""

    CIRCLE = "circle"
    POLYGON = "polygon"
    ROUTE = "route"


def circle_ring(lat: float, lon: float, radius_m: float) -> list[tuple[float, float]]:
    """(lon, lat) vertices of a circle on the sphere, for drawing."""
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    delta = radius_m / GROUND_RADIUS_M
    ring = []
    for step in range(CIRCLE_SEGMENTS):
        theta = 2 * math.pi * step / CIRCLE_SEGMENTS
        phi2 = math.asin(
            math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
        )
        lambda2 = lambda1 + math.atan2(
            math.sin(theta) * math.sin(delta) * math.cos(phi1),
            math.cos(delta) - math.sin(phi1) * math.sin(phi2),
        )
        ring.append((math.degrees(lambda2), math.degrees(phi2)))
    return ring


def ground_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * GROUND_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _mercator_path(points: Sequence[tuple[float, float]], *, closed: bool) -> QPainterPath:
    """A path through (lon, lat) points, in Mercator metres."""
    path = QPainterPath()
    for index, (lon, lat) in enumerate(points):
        point = QPointF(*to_mercator(lon, lat))
        if index == 0:
            path.moveTo(point)
        else:
            path.lineTo(point)
    if closed and len(points) > 2:
        path.closeSubpath()
    return path


def shape_outline(shape: GeofenceShape) -> tuple[list[tuple[float, float]], bool]:
    """The (lon, lat) vertices that draw ``shape`` and whether they close into an area."""
    if isinstance(shape, CircleShape):
        return circle_ring(shape.lat, shape.lon, shape.radius_m), True
    if isinstance(shape, PolygonShape):
        return [(lon, lat) for lat, lon in shape.outer], True
    return [(lon, lat) for lat, lon in shape.points], False


class GeofenceLayer:
    """Stored geofences drawn into a map layer's container (areas filled lightly, routes
    as a band of their corridor width with the centre line), each with its name."""

    def __init__(self, container: QGraphicsItem) -> None:
        self._container = container
        self.geofences: dict[int, GeofenceView] = {}
        self.items: dict[int, list[QGraphicsItem]] = {}
        self.paths: dict[int, QPainterPath] = {}
        """Each geofence's outline (areas) or centre line (routes), Mercator metres."""

    def set_geofences(self, geofences: Iterable[GeofenceView]) -> None:
        """Replace what is drawn."""
        for items in self.items.values():
            for item in items:
                scene = item.scene()
                if scene is not None:
                    scene.removeItem(item)
        self.items, self.paths, self.geofences = {}, {}, {}
        for geofence in geofences:
            self._draw(geofence)

    def count(self) -> int:
        """How many geofences are drawn."""
        return len(self.items)

    def label_of(self, geofence_id: int) -> str:
        """The name drawn for a geofence ('' if it is not drawn)."""
        for item in self.items.get(geofence_id, []):
            if isinstance(item, QGraphicsSimpleTextItem):
                return item.text()
        return ""

    def _draw(self, geofence: GeofenceView) -> None:
        points, closed = shape_outline(geofence.shape)
        if len(points) < 2:
            return
        colour = QColor(KIND_COLOURS.get(geofence.kind, "#37474f"))
        if not geofence.enabled:
            colour = QColor("#90a4ae")
        path = _mercator_path(points, closed=closed)
        items: list[QGraphicsItem] = []
        if closed:
            outline = QGraphicsPathItem(path, self._container)
            pen = cosmetic_pen(colour.name(), 2.0)
            if geofence.kind == "no_go_zone":
                pen.setStyle(Qt.PenStyle.DashLine)
            outline.setPen(pen)
            fill = QColor(colour)
            fill.setAlpha(40)
            outline.setBrush(QBrush(fill))
            items.append(outline)
        elif isinstance(geofence.shape, PolylineShape):
            lat = points[0][1]
            # Mercator stretches ground lengths by 1/cos(lat).
            band_width = geofence.shape.width_m / max(math.cos(math.radians(lat)), 0.01)
            band = QGraphicsPathItem(path, self._container)
            band_colour = QColor(colour)
            band_colour.setAlpha(60)
            band_pen = QPen(band_colour, band_width)
            band_pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            band_pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            band.setPen(band_pen)
            centre = QGraphicsPathItem(path, self._container)
            centre.setPen(cosmetic_pen(colour.name(), 2.0))
            items += [band, centre]
        tip = plain_tooltip(geofence.name)
        for item in items:
            item.setToolTip(tip)
        anchor = path.boundingRect().center() if closed else path.pointAtPercent(0.5)
        label = make_label(geofence.name, self._container, point_size=9.0, colour=colour.name())
        label.setPos(anchor)
        items.append(label)
        self.items[geofence.id] = items
        self.paths[geofence.id] = path
        self.geofences[geofence.id] = geofence

    def geofence_at(self, x: float, y: float, metres_per_pixel: float) -> int | None:
        """The id of the geofence under the Mercator point (x, y), smallest first."""
        point = QPointF(x, y)
        found: list[tuple[float, int]] = []
        for geofence_id, path in self.paths.items():
            geofence = self.geofences[geofence_id]
            if isinstance(geofence.shape, PolylineShape):
                stroker = QPainterPathStroker()
                lat = from_mercator(x, y)[1]
                band = geofence.shape.width_m / max(math.cos(math.radians(lat)), 0.01)
                stroker.setWidth(max(band, 2 * PICK_TOLERANCE_PX * metres_per_pixel))
                if stroker.createStroke(path).contains(point):
                    found.append((0.0, geofence_id))
            elif path.contains(point):
                rect = path.boundingRect()
                found.append((rect.width() * rect.height(), geofence_id))
        return min(found)[1] if found else None


class GeofenceDrawTool(QObject):
    """Turns clicks on a :class:`MapView` into a geofence shape, or picks a drawn one."""

    finished = Signal(object)
    """A shape was drawn (a :data:`~realtime.protocol.GeofenceShape`)."""
    cancelled = Signal()
    """Drawing was abandoned (Esc, or another tool chosen)."""
    geofence_clicked = Signal(int)
    """Outside drawing, the officer clicked a stored geofence (its id)."""
    mode_changed = Signal(object)
    """Drawing started (a :class:`DrawMode`) or ended (None)."""

    def __init__(self, map_view: MapView, layer: GeofenceLayer) -> None:
        super().__init__(map_view)
        self._map = map_view
        self._layer = layer
        self.mode: DrawMode | None = None
        self.points: list[tuple[float, float]] = []
        """The (lon, lat) points placed so far."""
        self._pixels: list[QPoint] = []
        self._pressed_at: QPoint | None = None
        self._cursor: tuple[float, float] | None = None
        self._preview = QGraphicsPathItem(map_view.view_box.childGroup)
        self._preview.setZValue(60)
        self._preview.setPen(cosmetic_pen("#d81b60", 2.0, Qt.PenStyle.DashLine))
        self._viewport = map_view.canvas.viewport()
        self._viewport.installEventFilter(self)
        map_view.canvas.installEventFilter(self)
        map_view.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)

    @property
    def drawing(self) -> bool:
        """Whether a shape is being drawn."""
        return self.mode is not None

    def start(self, mode: DrawMode) -> None:
        """Begin drawing (dropping any unfinished shape)."""
        if self.mode is not None:
            self._reset()
        self.mode = mode
        self._map.canvas.setCursor(Qt.CursorShape.CrossCursor)
        self._map.canvas.setFocus()
        self.mode_changed.emit(mode)

    def cancel(self) -> None:
        """Abandon the shape being drawn."""
        if self.mode is None:
            return
        self._reset()
        self.cancelled.emit()

    def finish(self) -> bool:
        """End the shape if it has enough points (polygon 3, route 2); return whether it did."""
        shape = self._shape()
        if shape is None:
            return False
        self._reset()
        self.finished.emit(shape)
        return True

    def add_point(self, lon: float, lat: float) -> None:
        """Place a point (a click does this); the circle ends on its second point."""
        if self.mode is None:
            return
        self.points.append((lon, lat))
        if self.mode is DrawMode.CIRCLE and len(self.points) == 2:
            self.finish()
            return
        self._update_preview()

    def _shape(self) -> GeofenceShape | None:
        points = self.points
        if self.mode is DrawMode.CIRCLE and len(points) == 2:
            (lon, lat), (edge_lon, edge_lat) = points
            radius = ground_distance_m(lat, lon, edge_lat, edge_lon)
            return CircleShape(lat=lat, lon=lon, radius_m=round(radius, 1)) if radius > 0 else None
        if self.mode is DrawMode.POLYGON and len(points) >= 3:
            return PolygonShape(outer=[[lat, lon] for lon, lat in points])
        if self.mode is DrawMode.ROUTE and len(points) >= 2:
            return PolylineShape(
                points=[[lat, lon] for lon, lat in points], width_m=DEFAULT_ROUTE_WIDTH_M
            )
        return None

    def _reset(self) -> None:
        self.mode = None
        self.points = []
        self._pixels = []
        self._pressed_at = None
        self._cursor = None
        self._preview.setPath(QPainterPath())
        self._map.canvas.unsetCursor()
        self.mode_changed.emit(None)

    def _update_preview(self) -> None:
        points = list(self.points)
        if self._cursor is not None and points:
            points.append(self._cursor)
        if self.mode is DrawMode.CIRCLE and len(points) == 2:
            (lon, lat), (edge_lon, edge_lat) = points
            radius = ground_distance_m(lat, lon, edge_lat, edge_lon)
            path = _mercator_path(circle_ring(lat, lon, radius), closed=True) if radius else None
        else:
            path = _mercator_path(points, closed=self.mode is DrawMode.POLYGON)
        self._preview.setPath(path if path is not None else QPainterPath())

    # ------------------------------------------------------------------ events

    def _lon_lat(self, pixel: QPoint) -> tuple[float, float]:
        scene = self._map.canvas.mapToScene(pixel)
        point = self._map.view_box.mapSceneToView(scene)
        return from_mercator(point.x(), point.y())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Clicks place points (or pick a geofence); Enter finishes, Esc cancels."""
        kind = event.type()
        if kind == QEvent.Type.KeyPress and self.mode is not None and isinstance(event, QKeyEvent):
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.cancel()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.finish()
                return True
            return False
        if watched is not self._viewport or not isinstance(event, QMouseEvent):
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        pixel = event.position().toPoint()
        if kind == QEvent.Type.MouseButtonDblClick and self.mode is not None:
            self._click(pixel)
            if self.mode is not None:
                self.finish()
            return True
        if kind == QEvent.Type.MouseButtonPress:
            self._pressed_at = pixel
        elif kind == QEvent.Type.MouseButtonRelease and self._pressed_at is not None:
            moved = (pixel - self._pressed_at).manhattanLength()
            self._pressed_at = None
            if moved <= CLICK_SLOP_PX:
                self._click(pixel)
        return False

    def _click(self, pixel: QPoint) -> None:
        if self.mode is None:
            scene = self._map.canvas.mapToScene(pixel)
            point = self._map.view_box.mapSceneToView(scene)
            picked = self._layer.geofence_at(point.x(), point.y(), self._map.metres_per_pixel())
            if picked is not None:
                self.geofence_clicked.emit(picked)
            return
        if self._pixels and (pixel - self._pixels[-1]).manhattanLength() <= SAME_POINT_PX:
            return
        self._pixels.append(pixel)
        self.add_point(*self._lon_lat(pixel))

    def _on_mouse_moved(self, position: QPointF) -> None:
        if self.mode is None or not self.points:
            return
        point = self._map.view_box.mapSceneToView(position)
        self._cursor = from_mercator(point.x(), point.y())
        self._update_preview()
