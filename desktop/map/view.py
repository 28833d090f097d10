"""The map widget: a pyqtgraph view in Web-Mercator metres with basemap and live layers.

:class:`MapView` pans by dragging or with the arrow keys, zooms with the wheel or the
+/- keys (or :meth:`MapView.center_on` / :meth:`MapView.zoom_to_extent`), and shows the
cursor's latitude/longitude and a scale bar under the map. It reads a
:class:`~desktop.map.vehicles.VehicleStore` and an :class:`~desktop.state.AlarmStore`
on a timer (listeners only set a flag), so a burst of telemetry costs one redraw.
"""

from __future__ import annotations

import logging
import math
from typing import TypeVar

import pyqtgraph as pg
from PySide6.QtCore import QLocale, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QGraphicsScene,
    QHBoxLayout,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.map.alarm_layer import AlarmLayer
from desktop.map.basemap import BasemapError, BasemapLayerName, load_layer
from desktop.map.counties import CountyLayer
from desktop.map.framing import SceneFramer
from desktop.map.layers import LayerKey, MapLayer, cosmetic_pen, layer_title
from desktop.map.legend import MapLegend
from desktop.map.map_labels import MapLabeller
from desktop.map.outline_layer import BasemapOutlineLayer
from desktop.map.place_names import PlaceIndicator
from desktop.map.projection import HALF_WORLD, from_mercator, ground_resolution, to_mercator
from desktop.map.registry_layers import PointLayer, RegistryItemLayer, ShapeLayer
from desktop.map.roads import RoadLayer
from desktop.map.scale_bar import ScaleBar
from desktop.map.tiles import TileLayer, TileSource
from desktop.map.vehicle_feed import VehicleFeed
from desktop.map.vehicle_layer import VehicleLayer
from desktop.map.vehicles import VehicleStore
from desktop.plain_text import plain_label
from desktop.state import AlarmStore

logger = logging.getLogger(__name__)

LayerT = TypeVar("LayerT", bound=MapLayer)

SEA_COLOUR = "#cfe3f0"
LAND_COLOUR = "#f4f1ea"
CHINA_LAND_COLOUR = "#fbf7ef"
REFRESH_MS = 250
"""How often the live layers are redrawn if their data changed."""
RECLASSIFY_MS = 5000
"""How often vehicles are redrawn anyway, so one that falls silent turns grey."""
PULSE_MS = 500
"""Step of the unacknowledged-alarm pulse."""
PAN_STEP = 0.2
"""An arrow key moves the view by this fraction of its size."""
ZOOM_STEP = 2.0
"""A +/- key zooms by this factor."""
MIN_SPAN_M = 200.0
"""The narrowest view, Mercator metres."""
CHINA_EXTENT = (73.5, 17.5, 135.1, 53.6)
"""(west, south, east, north) of the default view."""
PLATES_BELOW_MPP = 60.0
"""Plates are drawn closer than this (a town in view; the labeller keeps them apart)."""
INCIDENT_RING_PX = 30.0
"""Diameter (pixels) of the ring around the open incident's alarms."""
CHINA_CODE = "100000"
"""China in the countries layer (drawn from the official-boundary layer)."""


class MapCanvas(pg.GraphicsView):  # type: ignore[misc]  # pyqtgraph is untyped
    """The drawing surface; adds keyboard pan and zoom to pyqtgraph's mouse handling."""

    def __init__(self, map_view: MapView) -> None:
        super().__init__(map_view)
        self._map_view = map_view
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Arrows pan, + and - zoom; other keys go to pyqtgraph."""
        key = Qt.Key(event.key())
        moves = {
            Qt.Key.Key_Left: (-PAN_STEP, 0.0),
            Qt.Key.Key_Right: (PAN_STEP, 0.0),
            Qt.Key.Key_Up: (0.0, PAN_STEP),
            Qt.Key.Key_Down: (0.0, -PAN_STEP),
        }
        if key is Qt.Key.Key_Home:
            self._map_view.frame_all()
        elif key in moves:
            self._map_view.framer.note_officer_moved()
            self._map_view.pan_by(*moves[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self._map_view.framer.note_officer_moved()
            self._map_view.zoom_by(ZOOM_STEP)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self._map_view.framer.note_officer_moved()
            self._map_view.zoom_by(1 / ZOOM_STEP)
        else:
            super().keyPressEvent(event)
            return
        event.accept()


class MapView(QWidget):
    """The console's map: basemap, optional tiles, vehicles, alarms and registry layers."""

    vehicle_clicked = Signal(str)
    """The officer clicked a vehicle (its device id)."""
    alarm_clicked = Signal(int)
    """The officer clicked an alarm (its id)."""
    point_clicked = Signal(str, str)
    """The officer clicked a registry point: (layer key, object id)."""
    view_changed = Signal()
    """The view moved or zoomed."""

    def __init__(
        self,
        vehicles: VehicleStore | None = None,
        alarms: AlarmStore | None = None,
        *,
        basemap: bool = True,
        chinese_names: bool | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("map_view")
        self.vehicles = vehicles if vehicles is not None else VehicleStore()
        self.alarm_store = alarms
        if chinese_names is None:
            chinese_names = QLocale().language() == QLocale.Language.Chinese

        self.canvas = MapCanvas(self)
        self.canvas.setObjectName("map_canvas")
        self.canvas.setBackground(SEA_COLOUR)
        self.canvas.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.view_box = pg.ViewBox(lockAspect=1.0, enableMenu=False, defaultPadding=0.0)
        self.view_box.disableAutoRange()
        self.view_box.setLimits(
            xMin=-HALF_WORLD,
            xMax=HALF_WORLD,
            yMin=-HALF_WORLD,
            yMax=HALF_WORLD,
            minXRange=MIN_SPAN_M,
            minYRange=MIN_SPAN_M,
        )
        self.canvas.setCentralItem(self.view_box)
        # Every pan and zoom moves every item: an index would be rebuilt each frame.
        self.canvas.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        root = self.view_box.childGroup

        self.layers: dict[LayerKey, MapLayer] = {}
        self.tile_layer: TileLayer | None = None
        self.basemap_layers: dict[LayerKey, BasemapOutlineLayer] = {}
        self.county_layer: CountyLayer | None = None
        if basemap:
            self._build_basemap(root, chinese_names=chinese_names)
        # Filled by desktop.map.roads.RoadLoader from the server's road layer.
        self.roads = self._add(RoadLayer(root, z_value=2.5))
        self.jurisdictions = self._add(
            ShapeLayer(
                LayerKey.JURISDICTIONS,
                root,
                z_value=20,
                pen=cosmetic_pen("#6a1b9a", 2.0, Qt.PenStyle.DashLine),
            )
        )
        self.geofences = self._add(
            ShapeLayer(LayerKey.GEOFENCES, root, z_value=21, pen=cosmetic_pen("#ef6c00", 2.0))
        )
        self.track = self._add(
            ShapeLayer(LayerKey.TRACK, root, z_value=22, pen=cosmetic_pen("#1565c0", 3.0))
        )
        # The replay's current fix; not listed in the layer menu of its own.
        self.track_marker = self._point_layer(LayerKey.TRACK, root, 45, "o", "#1565c0")
        self.hazards = self._add(self._point_layer(LayerKey.HAZARDS, root, 30, "t", "#ff6f00"))
        self.teams = self._add(self._point_layer(LayerKey.TEAMS, root, 31, "s", "#00897b"))
        self.cameras = self._add(self._point_layer(LayerKey.CAMERAS, root, 32, "d", "#5e35b1"))
        self.registry = self._add(
            RegistryItemLayer(LayerKey.REGISTRY, root, z_value=33, on_click=self._emit_point)
        )
        self.vehicle_layer = self._add(
            VehicleLayer(
                root,
                self.vehicles,
                z_value=40,
                on_click=self.vehicle_clicked.emit,
                label_below_mpp=PLATES_BELOW_MPP,
            )
        )
        self.alarm_layer = self._add(AlarmLayer(root, z_value=50, on_click=self.alarm_clicked.emit))
        # The open incident's alarms, ringed under their markers; not in the layer menu.
        self.incident_marker = self._point_layer(LayerKey.ALARMS, root, 49, "o", "#ffeb3b80")
        self.incident_marker.item.setSize(INCIDENT_RING_PX)
        # Labels beside the symbols, the place at the top edge, framing, the legend.
        self.labeller = MapLabeller(self)
        self.place = PlaceIndicator(self, self.canvas) if basemap else None
        self.framer = SceneFramer(self)

        # status row: cursor position, scale, counts, layer menu
        self.coords_label = plain_label(parent=self)
        self.coords_label.setObjectName("map_coords_label")
        self.scale_bar = ScaleBar(self)
        self.summary_label = plain_label(parent=self)
        self.summary_label.setObjectName("map_summary_label")
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # In a narrow dock the texts give way (clipped; the counts stay in the tooltip)
        # instead of being drawn over the scale bar.
        for label in (self.coords_label, self.summary_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.layers_button = QToolButton(self)
        self.layers_button.setObjectName("map_layers_button")
        self.layers_button.setText(self.tr("Layers"))
        self.layers_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.layer_menu = QMenu(self.layers_button)
        self.layers_button.setMenu(self.layer_menu)
        # "Frame all" and "Legend" sit on the map's top-right corner, as map controls.
        self.map_controls = QWidget(self.canvas)
        self.map_controls.setObjectName("map_controls")
        controls = QHBoxLayout(self.map_controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setSpacing(4)
        self.frame_button = QToolButton(self.map_controls)
        self.frame_button.setObjectName("map_frame_button")
        self.frame_button.setText(self.tr("Frame all"))
        self.frame_button.setToolTip(self.tr("Show every vehicle and open alarm (Home)"))
        self.frame_button.clicked.connect(self.frame_all)
        self.legend = MapLegend(self, self.canvas)
        self.legend_button = QToolButton(self.map_controls)
        self.legend_button.setObjectName("map_legend_button")
        self.legend_button.setText(self.tr("Legend"))
        self.legend_button.setCheckable(True)
        self.legend_button.toggled.connect(self.show_legend)
        controls.addWidget(self.frame_button)
        controls.addWidget(self.legend_button)
        self.map_controls.adjustSize()
        self.layer_actions: dict[LayerKey, QAction] = {}
        for key in reversed(list(self.layers)):
            self._add_layer_action(key)

        status = QHBoxLayout()
        status.setContentsMargins(6, 0, 6, 2)
        status.addWidget(self.coords_label, 1)
        status.addWidget(self.scale_bar)
        status.addWidget(self.summary_label, 1)
        status.addWidget(self.layers_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(status)

        self.view_box.sigRangeChanged.connect(self._on_range_changed)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)

        self._alarms_dirty = alarms is not None
        self._remove_listeners = [self.vehicles.add_listener(self._on_vehicles_changed)]
        if alarms is not None:
            self._remove_listeners.append(alarms.add_listener(self._on_alarms_changed))
        self.destroyed.connect(self._forget_listeners_later)
        self._vehicles_dirty = True
        # large telemetry messages are applied a slice per frame, then drawn at once
        self.vehicle_feed = VehicleFeed(self.vehicles, self.refresh, parent=self)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._refresh_timer.start()
        self._reclassify_timer = QTimer(self)
        self._reclassify_timer.setInterval(RECLASSIFY_MS)
        self._reclassify_timer.timeout.connect(self._reclassify)
        self._reclassify_timer.start()
        self._pulse_timer = QTimer(self)
        self._pulse_timer.setInterval(PULSE_MS)
        self._pulse_timer.timeout.connect(self.alarm_layer.pulse)

        self.zoom_to_extent(*CHINA_EXTENT)
        self.refresh()

    # ------------------------------------------------------------------ building

    def _build_basemap(self, root: pg.ItemGroup, *, chinese_names: bool) -> None:
        specs = (
            (
                LayerKey.COUNTRIES,
                BasemapLayerName.COUNTRIES,
                dict(
                    z_value=1,
                    pen=cosmetic_pen("#78909c", 1.0),
                    brush=QBrush(QColor(LAND_COLOUR)),
                    label_range=(2500.0, math.inf),
                    label_size=9.0,
                    label_colour="#455a64",
                    cell_m=1_000_000.0,
                    emphasis=frozenset({CHINA_CODE}),
                    emphasis_pen=cosmetic_pen("#5d4037", 1.6),
                ),
            ),
            (
                LayerKey.PROVINCES,
                BasemapLayerName.PROVINCES,
                dict(
                    z_value=3,
                    pen=cosmetic_pen("#8d6e63", 1.6),
                    max_mpp=20000.0,
                    label_range=(350.0, 4000.0),
                    label_size=11.0,
                    label_colour="#4e342e",
                    cell_m=300_000.0,
                ),
            ),
            (
                LayerKey.CITIES,
                BasemapLayerName.CITIES,
                dict(
                    z_value=4,
                    pen=cosmetic_pen("#a1887f", 1.2, Qt.PenStyle.DashLine),
                    max_mpp=2500.0,
                    label_range=(40.0, 350.0),
                    label_size=10.0,
                    label_colour="#5d4037",
                    cell_m=100_000.0,
                ),
            ),
        )
        for key, name, options in specs:
            try:
                data = load_layer(name)
            except BasemapError:
                logger.exception("the %s basemap layer is unavailable", name)
                continue
            layer = BasemapOutlineLayer(key, root, data, chinese_names=chinese_names, **options)  # type: ignore[arg-type]
            self.basemap_layers[key] = layer
            self._add(layer)
        # Counties are read province by province, off the GUI thread, when zoomed in.
        self.county_layer = self._add(
            CountyLayer(
                root,
                self.view_extent,
                z_value=5,
                max_mpp=300.0,
                cell_m=50_000.0,
                chinese_names=chinese_names,
                pen=cosmetic_pen("#bcaaa4", 1.0, Qt.PenStyle.DashLine),
                label_range=(0.0, 40.0),
                label_size=9.5,
                label_colour="#6d4c41",
            )
        )
        countries = self.basemap_layers.get(LayerKey.COUNTRIES)
        if countries is not None:
            china = countries.fill_of(CHINA_CODE)
            if china is not None:
                china.setBrush(QBrush(QColor(CHINA_LAND_COLOUR)))
            try:
                maritime = load_layer(BasemapLayerName.CHINA_MARITIME)
            except BasemapError:
                logger.exception("the maritime boundary layer is unavailable")
            else:
                BasemapOutlineLayer(
                    LayerKey.COUNTRIES,
                    countries.container,
                    maritime,
                    z_value=2,
                    pen=cosmetic_pen("#5d4037", 1.4, Qt.PenStyle.DashLine),
                )

    def _point_layer(
        self, key: LayerKey, root: pg.ItemGroup, z_value: float, symbol: str, colour: str
    ) -> PointLayer:
        return PointLayer(
            key,
            root,
            z_value=z_value,
            symbol=symbol,
            colour=colour,
            on_click=self._emit_point,
        )

    def _emit_point(self, layer: LayerKey, object_id: str) -> None:
        self.point_clicked.emit(str(layer), object_id)

    def _add(self, layer: LayerT) -> LayerT:
        self.layers[layer.key] = layer
        return layer

    def add_layer(self, layer: LayerT) -> LayerT:
        """Add a layer built elsewhere (on ``view_box.childGroup``) with its layer-menu entry.

        The entry goes where the layer's key puts it (the menu lists top layer first).
        """
        self._add(layer)
        self._add_layer_action(layer.key)
        return layer

    def _add_layer_action(self, key: LayerKey) -> None:
        action = QAction(layer_title(key), self)
        action.setCheckable(True)
        action.setChecked(self.layers[key].enabled)
        action.toggled.connect(lambda checked, chosen=key: self.set_layer_visible(chosen, checked))
        order = list(LayerKey)
        below = [other for other in self.layer_actions if order.index(other) < order.index(key)]
        if below:
            # The menu runs top layer first: go above the highest layer under this one.
            highest_below = max(below, key=order.index)
            self.layer_menu.insertAction(self.layer_actions[highest_below], action)
        else:
            self.layer_menu.addAction(action)
        self.layer_actions[key] = action

    # ------------------------------------------------------------------ layers

    def set_layer_visible(self, key: LayerKey, visible: bool) -> None:
        """Show or hide a layer (as its entry in the layer menu does)."""
        action = self.layer_actions.get(key)
        if action is not None and action.isChecked() != visible:
            action.setChecked(visible)  # comes back here through toggled
            return
        if key is LayerKey.TILES:
            if self.tile_layer is not None:
                self.tile_layer.set_visible(visible)
                self._fill_basemap(not visible)
                self._update_tiles()
            return
        self.layers[key].set_enabled(visible)
        if key is LayerKey.VEHICLES:
            self._update_vehicle_labels()

    def layer_visible(self, key: LayerKey) -> bool:
        """Whether the layer is enabled by the user (it may still be out of zoom range)."""
        if key is LayerKey.TILES:
            return self.tile_layer is not None and bool(self.layer_actions[key].isChecked())
        return self.layers[key].enabled

    def set_tile_source(self, source: TileSource | None) -> None:
        """Show raster tiles from ``source`` under the vector layers (None removes them)."""
        if self.tile_layer is not None:
            self.tile_layer.close()
            self.tile_layer = None
        if source is None:
            self._fill_basemap(True)
            action = self.layer_actions.pop(LayerKey.TILES, None)
            if action is not None:
                self.layer_menu.removeAction(action)
            return
        self.tile_layer = TileLayer(source, self.view_box.childGroup)
        if LayerKey.TILES not in self.layer_actions:
            action = QAction(layer_title(LayerKey.TILES), self)
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(lambda checked: self.set_layer_visible(LayerKey.TILES, checked))
            self.layer_menu.addAction(action)
            self.layer_actions[LayerKey.TILES] = action
        self._fill_basemap(False)
        self._update_tiles()

    def _fill_basemap(self, filled: bool) -> None:
        countries = self.basemap_layers.get(LayerKey.COUNTRIES)
        if countries is None:
            return
        countries.set_fill(QBrush(QColor(LAND_COLOUR)) if filled else None)
        if filled:
            china = countries.fill_of(CHINA_CODE)
            if china is not None:
                china.setBrush(QBrush(QColor(CHINA_LAND_COLOUR)))

    # ------------------------------------------------------------------ view

    def view_extent(self) -> tuple[float, float, float, float]:
        """Return the view as (x_min, y_min, x_max, y_max), Web-Mercator metres."""
        (x_min, x_max), (y_min, y_max) = self.view_box.viewRange()
        return float(x_min), float(y_min), float(x_max), float(y_max)

    def view_center(self) -> tuple[float, float]:
        """Return the (lon, lat) at the centre of the view."""
        x_min, y_min, x_max, y_max = self.view_extent()
        return from_mercator((x_min + x_max) / 2, (y_min + y_max) / 2)

    def metres_per_pixel(self) -> float:
        """Web-Mercator metres per screen pixel (not ground metres; see the scale bar)."""
        width = max(1.0, float(self.view_box.width()))
        x_min, _, x_max, _ = self.view_extent()
        return (x_max - x_min) / width

    def center_on(self, lon: float, lat: float, span_m: float | None = None) -> None:
        """Centre the view on a WGS-84 point; ``span_m`` sets the view's width in metres."""
        x, y = to_mercator(lon, lat)
        x_min, y_min, x_max, y_max = self.view_extent()
        width = span_m if span_m is not None else x_max - x_min
        height = width * (y_max - y_min) / max(x_max - x_min, 1e-9)
        self.view_box.setRange(QRectF(x - width / 2, y - height / 2, width, height), padding=0.0)

    def zoom_to_extent(self, west: float, south: float, east: float, north: float) -> None:
        """Fit a WGS-84 extent (degrees) into the view."""
        x0, y0 = to_mercator(west, south)
        x1, y1 = to_mercator(east, north)
        self.view_box.setRange(QRectF(QPointF(x0, y0), QPointF(x1, y1)).normalized(), padding=0.02)

    def zoom_by(self, factor: float, center: tuple[float, float] | None = None) -> None:
        """Zoom in by ``factor`` (> 1 in, < 1 out) about ``center`` (Mercator; default middle)."""
        x_min, y_min, x_max, y_max = self.view_extent()
        point = center if center is not None else ((x_min + x_max) / 2, (y_min + y_max) / 2)
        self.view_box.scaleBy(s=(1 / factor, 1 / factor), center=QPointF(*point))

    def pan_by(self, fraction_x: float, fraction_y: float) -> None:
        """Move the view by fractions of its width and height (positive: east, north)."""
        x_min, y_min, x_max, y_max = self.view_extent()
        self.view_box.translateBy(x=fraction_x * (x_max - x_min), y=fraction_y * (y_max - y_min))

    # ------------------------------------------------------------------ data

    def _on_vehicles_changed(self, _devices: frozenset[str]) -> None:
        self._vehicles_dirty = True

    def _on_alarms_changed(self, _change: object) -> None:
        self._alarms_dirty = True

    def _forget_listeners_later(self) -> None:
        for remove in self._remove_listeners:
            remove()
        self._remove_listeners = []

    def refresh(self) -> None:
        """Redraw the live layers whose data changed since the last redraw."""
        if self._vehicles_dirty and not self.vehicles.pending:  # the feed redraws when done
            self._vehicles_dirty = False
            self.vehicle_layer.refresh()
            self._update_vehicle_labels()
            self._update_summary()
        if self._alarms_dirty and self.alarm_store is not None:
            self._alarms_dirty = False
            self.alarm_layer.set_alarms(self.alarm_store)
            if self.alarm_layer.unacknowledged_count:
                if not self._pulse_timer.isActive():
                    self._pulse_timer.start()
            else:
                self._pulse_timer.stop()
            self.labeller.update()
        self.framer.note_data()
        if self.place is not None:
            self.place.retry_if_incomplete()

    def frame_all(self) -> None:
        """Show every live vehicle and open alarm (else the officer's jurisdiction)."""
        self.refresh()
        self.framer.frame_all()

    def show_legend(self, shown: bool) -> None:
        """Show or hide the legend over the map (as the legend button does)."""
        if self.legend_button.isChecked() != shown:
            self.legend_button.setChecked(shown)  # comes back here through toggled
            return
        self.legend.setVisible(shown)
        if shown:
            self.legend.place()
            self.legend.raise_()

    def _reclassify(self) -> None:
        if len(self.vehicles):
            self._vehicles_dirty = True

    def _update_summary(self) -> None:
        count = len(self.vehicles)
        age = self.vehicles.data_age()
        if count == 0 or age is None:
            self.summary_label.setText("")
            return
        text = self.tr("{count} vehicles, newest fix {age} s ago").format(
            count=count, age=int(age.total_seconds())
        )
        self.summary_label.setText(text)
        self.summary_label.setToolTip(text)

    def shutdown(self) -> None:
        """Stop the timers and the tile source (the console calls this on close)."""
        self._refresh_timer.stop()
        self._reclassify_timer.stop()
        self._pulse_timer.stop()
        self.vehicle_feed.close()
        if self.tile_layer is not None:
            self.tile_layer.close()
            self.tile_layer = None
        self._forget_listeners_later()

    # ------------------------------------------------------------------ reactions

    def _on_range_changed(self, *_args: object) -> None:
        mpp = self.metres_per_pixel()
        for layer in self.layers.values():
            layer.set_resolution(mpp)
        _, lat = self.view_center()
        self.scale_bar.set_ground_resolution(ground_resolution(mpp, lat))
        self._update_vehicle_labels()
        self._update_tiles()
        if self.place is not None:
            self.place.update()
        self.view_changed.emit()

    def _update_vehicle_labels(self) -> None:
        self.labeller.update()

    def _update_tiles(self) -> None:
        if self.tile_layer is not None and self.layer_visible(LayerKey.TILES):
            self.tile_layer.update_view(*self.view_extent(), self.metres_per_pixel())

    def _on_mouse_moved(self, position: QPointF) -> None:
        if not self.view_box.sceneBoundingRect().contains(position):
            return
        point = self.view_box.mapSceneToView(position)
        lon, lat = from_mercator(point.x(), point.y())
        self.show_coordinates(lon, lat)

    def show_coordinates(self, lon: float, lat: float) -> None:
        """Show a position in the status row (the cursor's, normally)."""
        self.coords_label.setText(
            self.tr("Lat {lat:.5f}°  Lon {lon:.5f}°").format(lat=lat, lon=lon)
        )

    def resizeEvent(self, event: object) -> None:  # noqa: N802
        """Keep the scale bar and labels right when the widget changes size."""
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._on_range_changed()
        self.legend.place()
        self.map_controls.move(max(0, self.canvas.width() - self.map_controls.width() - 6), 6)
        if self.place is not None:
            self.place.place_label()
