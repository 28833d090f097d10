"""Map layers: what the :class:`~desktop.map.view.MapView` draws, one container each.

A layer owns a container item inside the view box, so hiding a layer is one call. Live
layers draw many points with one :class:`pyqtgraph.ScatterPlotItem` per class (state ×
heading octant for vehicles, level for alarms): pyqtgraph then blits one cached symbol
per class instead of styling each point.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

from desktop.map.basemap import BasemapLayer
from desktop.map.projection import from_mercator, to_mercator, to_mercator_arrays
from desktop.map.vehicles import MOVING_KMH, OFFLINE_AFTER, VehicleState, VehicleStore
from desktop.plain_text import plain_tooltip
from realtime.protocol import AlarmView
from realtime.states import AlarmLevel, AlarmState, is_open

logger = logging.getLogger(__name__)

HEADING_SECTORS = 8
"""Vehicle arrows point in one of this many directions (45° steps)."""
MAX_VEHICLE_LABELS = 200
"""Plates drawn at most at once (the closest zoom shows few vehicles anyway)."""


class LayerKey(enum.StrEnum):
    """Every layer of the map, bottom to top."""

    TILES = "tiles"
    COUNTRIES = "countries"
    PROVINCES = "provinces"
    CITIES = "cities"
    COUNTIES = "counties"
    JURISDICTIONS = "jurisdictions"
    GEOFENCES = "geofences"
    TRACK = "track"
    HAZARDS = "hazards"
    TEAMS = "teams"
    CAMERAS = "cameras"
    VEHICLES = "vehicles"
    ALARMS = "alarms"


def layer_title(key: LayerKey) -> str:
    """Return the name of a layer as the layer menu shows it."""
    titles = {
        LayerKey.TILES: QCoreApplication.translate("MapLayers", "Raster tiles"),
        LayerKey.COUNTRIES: QCoreApplication.translate("MapLayers", "Countries"),
        LayerKey.PROVINCES: QCoreApplication.translate("MapLayers", "Provinces"),
        LayerKey.CITIES: QCoreApplication.translate("MapLayers", "Cities"),
        LayerKey.COUNTIES: QCoreApplication.translate("MapLayers", "Counties"),
        LayerKey.JURISDICTIONS: QCoreApplication.translate("MapLayers", "Jurisdictions"),
        LayerKey.GEOFENCES: QCoreApplication.translate("MapLayers", "Geofences and routes"),
        LayerKey.TRACK: QCoreApplication.translate("MapLayers", "Replayed track"),
        LayerKey.HAZARDS: QCoreApplication.translate("MapLayers", "Hazard sources"),
        LayerKey.TEAMS: QCoreApplication.translate("MapLayers", "Teams and resources"),
        LayerKey.CAMERAS: QCoreApplication.translate("MapLayers", "Cameras"),
        LayerKey.VEHICLES: QCoreApplication.translate("MapLayers", "Vehicles"),
        LayerKey.ALARMS: QCoreApplication.translate("MapLayers", "Alarms"),
    }
    return titles[key]


def make_label(
    text: str, parent: QGraphicsItem, *, point_size: float, colour: str
) -> QGraphicsSimpleTextItem:
    """Return a text item that keeps its pixel size at every zoom, centred on its position."""
    item = QGraphicsSimpleTextItem(text, parent)
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
    font = QFont()
    font.setPointSizeF(point_size)
    item.setFont(font)
    item.setBrush(QBrush(QColor(colour)))
    rect = item.boundingRect()
    item.setTransform(QTransform.fromTranslate(-rect.width() / 2, -rect.height() / 2))
    return item


class MapLayer:
    """A toggleable container in the view box.

    Visible when the user wants it (:meth:`set_enabled`) and the resolution is inside
    ``[min_mpp, max_mpp)`` metres per pixel.
    """

    def __init__(
        self,
        key: LayerKey,
        parent: QGraphicsItem,
        *,
        z_value: float,
        min_mpp: float = 0.0,
        max_mpp: float = math.inf,
    ) -> None:
        self.key = key
        self.container = pg.ItemGroup(parent)
        self.container.setZValue(z_value)
        self.min_mpp = min_mpp
        self.max_mpp = max_mpp
        self.enabled = True
        self._in_range = True

    @property
    def visible(self) -> bool:
        """Whether the layer is drawn now."""
        return self.enabled and self._in_range

    def set_enabled(self, enabled: bool) -> None:
        """Show or hide the layer at the user's request."""
        self.enabled = enabled
        self._apply()

    def set_resolution(self, metres_per_pixel: float) -> None:
        """Tell the layer the view's resolution (it hides itself outside its range)."""
        self._in_range = self.min_mpp <= metres_per_pixel < self.max_mpp
        self._apply()

    def _apply(self) -> None:
        self.container.setVisible(self.visible)


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


def ring_path(ring: npt.NDArray[np.float32], *, closed: bool) -> QPainterPath:
    """Return a painter path through the points of ``ring`` (n×2 Mercator metres)."""
    x = np.ascontiguousarray(ring[:, 0], dtype=np.float64)
    y = np.ascontiguousarray(ring[:, 1], dtype=np.float64)
    path: QPainterPath = pg.arrayToQPath(x, y, connect="all", finiteCheck=False)
    if closed:
        path.closeSubpath()
    return path


def cosmetic_pen(colour: str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    """Return a pen whose width is in pixels at every zoom."""
    pen = QPen(QColor(colour))
    pen.setWidthF(width)
    pen.setCosmetic(True)
    pen.setStyle(style)
    return pen


# --------------------------------------------------------------------------- vehicles

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
        self.label_group = pg.ItemGroup(self.container)
        self.label_group.setZValue(5)
        self._labels: list[QGraphicsSimpleTextItem] = []
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

    def update_labels(
        self, view: tuple[float, float, float, float], metres_per_pixel: float
    ) -> None:
        """Show plates of the vehicles in ``view`` when zoomed in closely enough."""
        shown = 0
        if self.visible and metres_per_pixel < self.label_below_mpp and len(self._xy):
            x_min, y_min, x_max, y_max = view
            inside = np.flatnonzero(
                (self._xy[:, 0] >= x_min)
                & (self._xy[:, 0] <= x_max)
                & (self._xy[:, 1] >= y_min)
                & (self._xy[:, 1] <= y_max)
            )[:MAX_VEHICLE_LABELS]
            offset = 12 * metres_per_pixel
            for index in inside:
                if shown == len(self._labels):
                    self._labels.append(
                        make_label("", self.label_group, point_size=8.0, colour="#212121")
                    )
                label = self._labels[shown]
                device = self._devices[int(index)]
                label.setText(self.store.label(device))
                rect = label.boundingRect()
                label.setTransform(QTransform.fromTranslate(-rect.width() / 2, 0))
                label.setPos(QPointF(self._xy[index, 0], self._xy[index, 1] - offset))
                label.setVisible(True)
                shown += 1
        for label in self._labels[shown:]:
            label.setVisible(False)

    @property
    def label_count(self) -> int:
        """How many plates are drawn now."""
        return sum(1 for label in self._labels if label.isVisible())

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


# --------------------------------------------------------------------------- alarms

ALARM_COLOURS: dict[AlarmLevel, str] = {
    AlarmLevel.RED: "#d50000",
    AlarmLevel.ORANGE: "#ff6d00",
    AlarmLevel.YELLOW: "#ffd600",
    AlarmLevel.BLUE: "#2962ff",
}
UNACKNOWLEDGED_SIZES = (22.0, 30.0)
"""An unacknowledged alarm pulses between these pixel sizes."""


class AlarmLayer(MapLayer):
    """Open alarms that have a place; unacknowledged ones are large and pulse."""

    def __init__(
        self, parent: QGraphicsItem, *, z_value: float, on_click: Callable[[int], None]
    ) -> None:
        super().__init__(LayerKey.ALARMS, parent, z_value=z_value)
        self._on_click = on_click
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
        new: list[tuple[float, float, int]] = []
        by_level: dict[AlarmLevel, list[tuple[float, float, int]]] = {
            level: [] for level in ALARM_COLOURS
        }
        self._titles = {}
        for alarm in alarms:
            if alarm.lat is None or alarm.lon is None or not is_open(alarm.state):
                continue
            x, y = to_mercator(alarm.lon, alarm.lat)
            self._titles[alarm.id] = f"#{alarm.id} {alarm.title}"
            target = new if alarm.state is AlarmState.NEW else by_level[alarm.level]
            target.append((x, y, alarm.id))
        _set_points(self.unacknowledged, new)
        for level, item in self.by_level.items():
            _set_points(item, by_level[level])

    @property
    def unacknowledged_count(self) -> int:
        """How many unacknowledged alarms are drawn."""
        return len(self.unacknowledged.data)

    def count(self) -> int:
        """How many alarms are drawn."""
        return self.unacknowledged_count + sum(len(item.data) for item in self.by_level.values())

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


def _set_points(item: pg.ScatterPlotItem, points: Sequence[tuple[float, float, Any]]) -> None:
    if not points and not len(item.data):
        return
    item.setData(
        x=np.asarray([p[0] for p in points], dtype=np.float64),
        y=np.asarray([p[1] for p in points], dtype=np.float64),
        data=np.asarray([p[2] for p in points], dtype=object),
    )


# --------------------------------------------------------------------------- registry slots


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
        _set_points(self.item, [(*to_mercator(p.lon, p.lat), p.id) for p in listed])

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
