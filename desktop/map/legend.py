"""The map's legend: every symbol and line the map draws, with its name.

The entries are read from the layers themselves (their symbols, colours and pens) and
from the style tables of the layer modules (alarm levels, vehicle states, registry
kinds, decision rings), so a symbol added to a layer is listed by kind here; the
legend test fails when one has no entry. Shown as an overlay in the map's corner,
toggled by the legend button under the map.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from desktop import texts
from desktop.map.alarm_layer import ALARM_COLOURS
from desktop.map.decision_rings import RING_COLOURS, ring_name
from desktop.map.layers import LayerKey, layer_title
from desktop.map.outline_layer import BasemapOutlineLayer
from desktop.map.registry_layers import REGISTRY_SYMBOLS, PointLayer, ShapeLayer
from desktop.map.roads import ROAD_STYLE
from desktop.map.vehicle_layer import VEHICLE_STYLE, arrow_symbol
from desktop.map.vehicles import VehicleState
from desktop.registry.labels import kind_label
from realtime.protocol import ItemKind, RingKind, RoadClass

if TYPE_CHECKING:
    from desktop.map.view import MapView

ICON_PX = 18
"""Side of a legend icon."""
COLUMNS = 3
"""Columns of the legend's grid."""
UNACKNOWLEDGED = "unacknowledged"
"""The kind of the unacknowledged alarms' star (the other alarm kinds are levels)."""
PLACE_OUTLINE = "place"
"""The kind of the outline of the region around the view's centre."""


@dataclasses.dataclass(frozen=True, slots=True)
class LegendEntry:
    """One line of the legend: a layer's symbol of one kind, its icon and its name."""

    layer: LayerKey
    kind: str
    """The symbol's kind within the layer (an alarm level, a vehicle state, a registry
    kind, a ring kind…; the layer's key for single-symbol layers)."""
    text: str
    icon: QPixmap


def symbol_icon(symbol: str | QPainterPath, size: float, brush: QBrush, pen: QPen) -> QPixmap:
    """A legend icon of a scatter symbol, drawn as the map draws it."""
    pixmap = QPixmap(ICON_PX, ICON_PX)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.translate(ICON_PX / 2, ICON_PX / 2)
    drawSymbol(painter, symbol, min(size, ICON_PX - 2.0), pen, brush)
    painter.end()
    return pixmap


def line_icon(pen: QPen, *, ring: bool = False) -> QPixmap:
    """A legend icon of a line (boundary, route) or a ring."""
    pixmap = QPixmap(ICON_PX, ICON_PX)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    drawn = QPen(pen)
    drawn.setCosmetic(True)
    drawn.setWidthF(max(1.5, pen.widthF()))
    painter.setPen(drawn)
    if ring:
        painter.drawEllipse(QPointF(ICON_PX / 2, ICON_PX / 2), ICON_PX / 2 - 2, ICON_PX / 2 - 2)
    else:
        painter.drawLine(QPointF(1, ICON_PX - 4), QPointF(ICON_PX - 1, 4))
    painter.end()
    return pixmap


def _vehicle_state_name(state: VehicleState) -> str:
    names = {
        VehicleState.ALARM: QCoreApplication.translate("MapLegend", "Vehicle in alarm"),
        VehicleState.OFFLINE: QCoreApplication.translate("MapLegend", "Vehicle offline"),
        VehicleState.MOVING: QCoreApplication.translate("MapLegend", "Vehicle moving"),
        VehicleState.STOPPED: QCoreApplication.translate("MapLegend", "Vehicle stopped"),
    }
    return names[state]


def legend_entries(map_view: MapView) -> list[LegendEntry]:
    """Every symbol and line ``map_view`` draws, top layer first."""
    return [
        *_alarm_entries(),
        *_vehicle_entries(),
        *_registry_entries(),
        *_layer_entries(map_view),
        *_ring_entries(),
        *_road_entries(),
        *_basemap_entries(map_view),
    ]


def _alarm_entries() -> list[LegendEntry]:
    black = pg.mkPen("#212121", width=1.2)
    entries = [
        LegendEntry(
            LayerKey.ALARMS,
            UNACKNOWLEDGED,
            QCoreApplication.translate("MapLegend", "Alarm not yet acknowledged"),
            symbol_icon("star", 18.0, pg.mkBrush("#ff1744"), pg.mkPen("#ffffff", width=1.5)),
        )
    ]
    for level, colour in ALARM_COLOURS.items():
        text = QCoreApplication.translate("MapLegend", "Alarm, {level}").format(
            level=texts.level_label(level)
        )
        icon = symbol_icon("s", 13.0, pg.mkBrush(colour), black)
        entries.append(LegendEntry(LayerKey.ALARMS, str(level), text, icon))
    return entries


def _vehicle_entries() -> list[LegendEntry]:
    white = pg.mkPen("#ffffff", width=1.2)
    entries = []
    for state, (colour, size) in VEHICLE_STYLE.items():
        arrow = state in (VehicleState.MOVING, VehicleState.ALARM)
        symbol = arrow_symbol(0.0) if arrow else "o"
        icon = symbol_icon(symbol, size, pg.mkBrush(colour), white)
        entries.append(LegendEntry(LayerKey.VEHICLES, str(state), _vehicle_state_name(state), icon))
    return entries


def _registry_entries() -> list[LegendEntry]:
    black = pg.mkPen("#212121", width=1.2)
    return [
        LegendEntry(
            LayerKey.REGISTRY,
            kind,
            kind_label(ItemKind(kind)),
            symbol_icon(style.symbol, 13.0, pg.mkBrush(style.colour), black),
        )
        for kind, style in REGISTRY_SYMBOLS.items()
    ]


def _layer_entries(map_view: MapView) -> list[LegendEntry]:
    """The layers of one symbol or one line style (hazard sources, cameras, geofences…)."""
    entries = []
    for key, layer in map_view.layers.items():
        if isinstance(layer, PointLayer):
            opts = layer.item.opts
            icon = symbol_icon(opts["symbol"], 12.0, opts["brush"], opts["pen"])
            entries.append(LegendEntry(key, str(key), layer_title(key), icon))
        elif isinstance(layer, ShapeLayer):
            entries.append(LegendEntry(key, str(key), layer_title(key), line_icon(layer.pen)))
    return entries


def _ring_entries() -> list[LegendEntry]:
    entries = []
    for kind, colour in RING_COLOURS.items():
        style = Qt.PenStyle.SolidLine if kind is RingKind.ISOLATION else Qt.PenStyle.DashLine
        icon = line_icon(QPen(QColor(colour), 2.0, style), ring=True)
        entries.append(LegendEntry(LayerKey.GEOFENCES, f"ring:{kind}", ring_name(kind), icon))
    return entries


_ROAD_NAMES = {
    RoadClass.MOTORWAY: QT_TRANSLATE_NOOP("MapLegend", "Motorway"),
    RoadClass.TRUNK: QT_TRANSLATE_NOOP("MapLegend", "Trunk road"),
    RoadClass.PRIMARY: QT_TRANSLATE_NOOP("MapLegend", "Primary road"),
    RoadClass.SECONDARY: QT_TRANSLATE_NOOP("MapLegend", "Secondary road"),
    RoadClass.TERTIARY: QT_TRANSLATE_NOOP("MapLegend", "Tertiary road"),
    RoadClass.RESIDENTIAL: QT_TRANSLATE_NOOP("MapLegend", "Street"),
    RoadClass.SERVICE: QT_TRANSLATE_NOOP("MapLegend", "Service road"),
}


def _road_entries() -> list[LegendEntry]:
    entries = []
    for road_class, (casing, fill, width) in ROAD_STYLE.items():
        name = _ROAD_NAMES.get(road_class, str(road_class))
        pen = QPen(QColor(casing or fill), width + (1.5 if casing else 0.0))
        text = QCoreApplication.translate("MapLegend", str(name))
        entries.append(LegendEntry(LayerKey.ROADS, str(road_class), text, line_icon(pen)))
    return entries


def _basemap_entries(map_view: MapView) -> list[LegendEntry]:
    entries = []
    for key in (LayerKey.COUNTRIES, LayerKey.PROVINCES, LayerKey.CITIES, LayerKey.COUNTIES):
        layer = map_view.layers.get(key)
        pen = None
        if isinstance(layer, BasemapOutlineLayer) and layer.paths:
            pen = layer.paths[0].pen()
        elif key is LayerKey.COUNTIES and map_view.county_layer is not None:
            pen = map_view.county_layer.pen
        if pen is not None:
            text = QCoreApplication.translate("MapLegend", "{layer} boundary").format(
                layer=layer_title(key)
            )
            entries.append(LegendEntry(key, str(key), text, line_icon(pen)))
    if map_view.place is not None:
        entries.append(
            LegendEntry(
                LayerKey.COUNTIES,
                PLACE_OUTLINE,
                QCoreApplication.translate("MapLegend", "Area around the view's centre"),
                line_icon(map_view.place.outline.pen()),
            )
        )
    return entries


class MapLegend(QFrame):
    """The legend as an overlay in a corner of the map (hidden until asked for)."""

    def __init__(self, map_view: MapView, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("map_legend")
        self.setStyleSheet(
            "QFrame#map_legend { background: rgba(255, 255, 255, 235);"
            " border: 1px solid #90a4ae; border-radius: 4px; }"
            " QLabel { background: transparent; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.entries = legend_entries(map_view)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        title = QLabel(QCoreApplication.translate("MapLegend", "Legend"), self)
        title.setTextFormat(Qt.TextFormat.PlainText)
        title.setStyleSheet("font-weight: bold;")
        grid.addWidget(title, 0, 0, 1, 2 * COLUMNS)
        rows = -(-len(self.entries) // COLUMNS)
        self.texts: list[str] = []
        for index, entry in enumerate(self.entries):
            row, column = 1 + index % rows, 2 * (index // rows)
            icon = QLabel(self)
            icon.setTextFormat(Qt.TextFormat.PlainText)
            icon.setPixmap(entry.icon)
            grid.addWidget(icon, row, column)
            text = QLabel(entry.text, self)
            text.setTextFormat(Qt.TextFormat.PlainText)
            grid.addWidget(text, row, column + 1)
            self.texts.append(entry.text)
        self.adjustSize()
        self.hide()

    def place(self) -> None:
        """Keep the legend in the map's bottom-right corner, inside the map."""
        parent = self.parentWidget()
        if parent is None:
            return
        self.adjustSize()
        self.move(
            max(0, parent.width() - self.width() - 6), max(0, parent.height() - self.height() - 6)
        )
