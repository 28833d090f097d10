"""Map layers: what the :class:`~desktop.map.view.MapView` draws, one container each.

A layer owns a container item inside the view box, so hiding a layer is one call. This
module holds what every layer shares (:class:`LayerKey`, :class:`MapLayer`, labels, pens,
paths, scatter points); the layers themselves live by kind in
:mod:`desktop.map.outline_layer` (basemap outlines and names),
:mod:`desktop.map.vehicle_layer`, :mod:`desktop.map.alarm_layer` and
:mod:`desktop.map.registry_layers` (hazard sources, teams, cameras, registry items,
shapes).
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem

logger = logging.getLogger(__name__)


class LayerKey(enum.StrEnum):
    """Every layer of the map, bottom to top."""

    TILES = "tiles"
    COUNTRIES = "countries"
    PROVINCES = "provinces"
    CITIES = "cities"
    COUNTIES = "counties"
    ROADS = "roads"
    JURISDICTIONS = "jurisdictions"
    GEOFENCES = "geofences"
    TRACK = "track"
    DECISION_RINGS = "decision_rings"
    HAZARDS = "hazards"
    TEAMS = "teams"
    CAMERAS = "cameras"
    REGISTRY = "registry"
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
        LayerKey.ROADS: QCoreApplication.translate("MapLayers", "Roads"),
        LayerKey.JURISDICTIONS: QCoreApplication.translate("MapLayers", "Jurisdictions"),
        LayerKey.GEOFENCES: QCoreApplication.translate("MapLayers", "Geofences and routes"),
        LayerKey.TRACK: QCoreApplication.translate("MapLayers", "Replayed track"),
        LayerKey.DECISION_RINGS: QCoreApplication.translate("MapLayers", "Decision support zones"),
        LayerKey.HAZARDS: QCoreApplication.translate("MapLayers", "Hazard sources"),
        LayerKey.TEAMS: QCoreApplication.translate("MapLayers", "Teams and resources"),
        LayerKey.CAMERAS: QCoreApplication.translate("MapLayers", "Cameras"),
        LayerKey.REGISTRY: QCoreApplication.translate("MapLayers", "Registry items"),
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


def set_scatter_points(
    item: pg.ScatterPlotItem, points: Sequence[tuple[float, float, Any]]
) -> None:
    """Replace the points of a scatter item by ``(x, y, data)`` triples."""
    if not points and not len(item.data):
        return
    item.setData(
        x=np.asarray([p[0] for p in points], dtype=np.float64),
        y=np.asarray([p[1] for p in points], dtype=np.float64),
        data=np.asarray([p[2] for p in points], dtype=object),
    )
