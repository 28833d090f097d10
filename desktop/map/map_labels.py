"""Labels of the map's live symbols: alarm titles and vehicle plates beside their
symbols, never under one and never on each other.

:class:`MapLabeller` gathers every symbol drawn in view (vehicles, alarms, registry
points) as obstacles, asks :func:`~desktop.map.label_placement.place_labels` for a free
spot beside each symbol to label (unacknowledged alarms first, then the other alarms,
vehicles in alarm, the rest), and shows the labels above every layer. A label with no
free spot is hidden; its symbol's tooltip still names it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from desktop.map.alarm_layer import UNACKNOWLEDGED_SIZES
from desktop.map.label_placement import LabelRequest, Placement, Symbol, place_labels
from desktop.map.projection import to_mercator
from desktop.map.vehicle_layer import VEHICLE_STYLE
from desktop.map.vehicles import VehicleState
from realtime.states import AlarmState, is_open

if TYPE_CHECKING:
    from desktop.map.view import MapView

Z_VALUE = 60
"""Above every layer: a label shown is never covered by a symbol."""
ALARM_TITLES_BELOW_MPP = 120.0
"""Alarm titles are drawn when zoomed in closer than this (metres per pixel)."""
MAX_SYMBOLS = 400
"""More vehicles than this in view: no labels (a crowd where few labels would find room;
zoom in to read them). Keeps the labeller cheap on every pan frame."""
MAX_LABELS = 200
"""Labels considered at most (the closest zooms show few symbols anyway)."""
TITLE_CHARS = 18
"""Alarm titles longer than this are cut (the detail pane has the whole title)."""
PADDING_PX = 2.0
"""Room inside a label's background."""
LABEL_POINT_SIZE = 9.0


LEVEL_SIZE = 14.0
"""Pixel size of an acknowledged alarm's square (as the alarm layer draws it)."""


@dataclasses.dataclass(slots=True)
class _Gathered:
    """What one placement round collected: symbols in view and the labels wanted."""

    x_min: float
    y_max: float
    mpp: float
    symbols: list[Symbol] = dataclasses.field(default_factory=list)
    requests: list[LabelRequest] = dataclasses.field(default_factory=list)
    texts: dict[object, tuple[str, str]] = dataclasses.field(default_factory=dict)
    anchors: dict[object, tuple[float, float]] = dataclasses.field(default_factory=dict)

    def to_px(self, x: float, y: float, size: float) -> Symbol:
        """A symbol at (x, y) Mercator metres, in the view's screen pixels."""
        return Symbol((x - self.x_min) / self.mpp, (self.y_max - y) / self.mpp, size)

    def add(self, key: object, anchor: tuple[float, float], text: str, colour: str) -> None:
        """Remember a label's text, colour and map position."""
        self.texts[key] = (text, colour)
        self.anchors[key] = anchor


class HaloLabel(QGraphicsSimpleTextItem):
    """A text on a pale rounded background, of the same pixel size at every zoom."""

    def __init__(self, parent: QGraphicsItem, colour: str) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        font = QFont()
        font.setPointSizeF(LABEL_POINT_SIZE)
        self.setFont(font)
        self.setBrush(QBrush(QColor(colour)))

    def boundingRect(self) -> QRectF:  # noqa: N802
        """The text with its background."""
        return super().boundingRect().adjusted(-PADDING_PX, -PADDING_PX, PADDING_PX, PADDING_PX)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """Draw the background, then the text."""
        painter.setPen(QPen(QColor("#90a4ae")))
        painter.setBrush(QBrush(QColor(255, 255, 255, 225)))
        painter.drawRoundedRect(self.boundingRect(), 3.0, 3.0)
        super().paint(painter, option, widget)  # type: ignore[arg-type]  # stubs: may be None


class MapLabeller:
    """Places and draws the labels of the map's alarms and vehicles."""

    def __init__(self, map_view: MapView) -> None:
        self._map = map_view
        self.group = pg.ItemGroup(map_view.view_box.childGroup)
        self.group.setZValue(Z_VALUE)
        self._items: list[HaloLabel] = []
        self._metrics = QFontMetricsF(HaloLabel(self.group, "#000000").font())
        self.placements: list[Placement] = []
        """The labels shown now, in screen pixels of the map (tests read them)."""
        self.symbols: list[Symbol] = []
        """The symbols in view the labels kept clear of, screen pixels."""

    # ------------------------------------------------------------------ gathering

    def _view(self) -> tuple[float, float, float, float, float]:
        x_min, y_min, x_max, y_max = self._map.view_extent()
        return x_min, y_min, x_max, y_max, self._map.metres_per_pixel()

    def _inside(self, item: pg.ScatterPlotItem, size: float) -> npt.NDArray[np.intp]:
        """Indexes of a scatter item's points in view (none when the item is hidden)."""
        data = item.data
        if not len(data) or not item.isVisibleTo(self._map.view_box.childGroup):
            return np.empty(0, dtype=np.intp)
        x_min, y_min, x_max, y_max, mpp = self._view()
        pad = size * mpp
        xs, ys = data["x"], data["y"]
        return np.flatnonzero(
            (xs >= x_min - pad) & (xs <= x_max + pad) & (ys >= y_min - pad) & (ys <= y_max + pad)
        )

    def _scatter_symbols(
        self, item: pg.ScatterPlotItem, size: float
    ) -> Iterable[tuple[float, float, object, float]]:
        """(x, y, data, size) of a scatter item's points inside the view."""
        data = item.data
        return [
            (float(data["x"][i]), float(data["y"][i]), data["data"][i], size)
            for i in self._inside(item, size)
        ]

    def _crowded(self) -> bool:
        """Whether more vehicles are in view than labels could ever be placed beside."""
        x_min, y_min, x_max, y_max, _ = self._view()
        shown = self._map.vehicle_layer.shown_points((x_min, y_min, x_max, y_max))
        return len(shown) > MAX_SYMBOLS

    def update(self) -> None:
        """Place the labels anew for the view and the data drawn now."""
        x_min, _, _, y_max, mpp = self._view()
        if mpp <= 0:
            return
        show_titles = self._map.alarm_store is not None and mpp < ALARM_TITLES_BELOW_MPP
        show_plates = mpp < self._map.vehicle_layer.label_below_mpp
        gathered = _Gathered(x_min, y_max, mpp)
        if (show_titles or show_plates) and not self._crowded():
            self._gather_vehicles(gathered, plates=show_plates)
            self._gather_alarms(gathered, titles=show_titles)
            points = (self._map.registry, self._map.hazards, self._map.teams, self._map.cameras)
            for layer in points:
                if layer.visible:
                    for x, y, _, size in self._scatter_symbols(layer.item, 13.0):
                        gathered.symbols.append(gathered.to_px(x, y, size))
        self.symbols = gathered.symbols
        bounds = (0.0, 0.0, float(self._map.view_box.width()), float(self._map.view_box.height()))
        requests = sorted(gathered.requests, key=lambda request: request.priority)
        placements = place_labels(requests[:MAX_LABELS], gathered.symbols, bounds)
        self._show(placements, gathered.texts, gathered.anchors)

    def _gather_vehicles(self, gathered: _Gathered, *, plates: bool) -> None:
        x_min, y_min, x_max, y_max, mpp = self._view()
        pad = max(size for _, size in VEHICLE_STYLE.values()) * mpp
        view = (x_min - pad, y_min - pad, x_max + pad, y_max + pad)
        for x, y, device, state in self._map.vehicle_layer.shown_points(view):
            size = VEHICLE_STYLE[state][1]
            symbol = gathered.to_px(x, y, size)
            gathered.symbols.append(symbol)
            if plates:
                priority = 2 if state is VehicleState.ALARM else 3
                text = self._map.vehicles.label(device)
                gathered.add(("vehicle", device), (x, y), text, "#212121")
                gathered.requests.append(self._request(("vehicle", device), symbol, text, priority))

    def _gather_alarms(self, gathered: _Gathered, *, titles: bool) -> None:
        alarm_layer = self._map.alarm_layer
        alarm_items = [(alarm_layer.unacknowledged, UNACKNOWLEDGED_SIZES[1])]
        alarm_items += [(item, LEVEL_SIZE) for item in alarm_layer.by_level.values()]
        for item, size in alarm_items:
            for x, y, _, _ in self._scatter_symbols(item, size):
                gathered.symbols.append(gathered.to_px(x, y, size))
        alarms = self._map.alarm_store
        if not titles or alarms is None:
            return
        x0, y0, x1, y1 = self._map.view_extent()
        for alarm in alarms:
            if alarm.lat is None or alarm.lon is None or not is_open(alarm.state):
                continue
            x, y = to_mercator(alarm.lon, alarm.lat)
            if not (x0 <= x <= x1 and y0 <= y <= y1):
                continue
            new = alarm.state is AlarmState.NEW
            title = f"#{alarm.id} {alarm.title}"
            if len(title) > TITLE_CHARS:
                title = title[: TITLE_CHARS - 1] + "…"
            symbol = gathered.to_px(x, y, UNACKNOWLEDGED_SIZES[1] if new else LEVEL_SIZE)
            gathered.add(("alarm", alarm.id), (x, y), title, "#b71c1c" if new else "#263238")
            gathered.requests.append(
                self._request(("alarm", alarm.id), symbol, title, 0 if new else 1)
            )

    def _request(self, key: object, symbol: Symbol, text: str, priority: int) -> LabelRequest:
        rect = self._metrics.boundingRect(text)
        return LabelRequest(
            key,
            symbol,
            rect.width() + 2 * PADDING_PX + 1,
            self._metrics.height() + 2 * PADDING_PX,
            priority,
        )

    # ------------------------------------------------------------------ drawing

    def _show(
        self,
        placements: list[Placement],
        texts: dict[object, tuple[str, str]],
        anchors: dict[object, tuple[float, float]],
    ) -> None:
        self.placements = placements
        while len(self._items) < len(placements):
            self._items.append(HaloLabel(self.group, "#212121"))
        for item, placement in zip(self._items, placements, strict=False):
            text, colour = texts[placement.key]
            item.setText(text)
            item.setBrush(QBrush(QColor(colour)))
            item.setPos(*anchors[placement.key])
            # The background reaches PADDING_PX outside the text on each side.
            item.setTransform(
                QTransform.fromTranslate(placement.dx + PADDING_PX, placement.dy + PADDING_PX)
            )
            item.setVisible(True)
        for item in self._items[len(placements) :]:
            item.setVisible(False)

    def label_texts(self, kind: str | None = None) -> list[str]:
        """The texts of the labels shown (``kind``: ``vehicle`` or ``alarm``)."""
        return [
            item.text()
            for item, placement in zip(self._items, self.placements, strict=False)
            if kind is None or (isinstance(placement.key, tuple) and placement.key[0] == kind)
        ]
