"""Where the officer is looking: the province, city and county around the view's centre.

At street zoom the names of the regions sit at their centroids, far out of view, and
their boundaries may be too. :class:`PlaceIndicator` names the regions containing the
view's centre at the map's top-left corner (江苏省 › 南京市 › 六合区) and outlines the
innermost of them, so its boundary lines are drawn whenever they are in view.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem, QLabel, QWidget

from desktop.map.basemap import BasemapFeature, BasemapLayer
from desktop.map.layers import LayerKey, cosmetic_pen, ring_path
from desktop.map.regions import RegionIndex

if TYPE_CHECKING:
    from desktop.map.view import MapView

logger = logging.getLogger(__name__)

SHOW_BELOW_MPP = 2500.0
"""The place is named when zoomed in closer than this (a province or less in view)."""
Z_VALUE = 8
"""Above the basemap's outlines, under the registry's shapes."""
OUTLINE_COLOUR = "#6d4c41"
"""The outline of the region around the view's centre."""


class PlaceIndicator:
    """Names the regions around the view's centre and outlines the innermost one."""

    def __init__(self, map_view: MapView, overlay_parent: QWidget) -> None:
        self._map = map_view
        self._indexes: dict[int, RegionIndex] = {}
        self.label = QLabel(overlay_parent)
        self.label.setObjectName("map_place_label")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setStyleSheet(
            "QLabel#map_place_label { background: rgba(255, 255, 255, 215);"
            " color: #3e2723; border: 1px solid #a1887f; border-radius: 3px;"
            " padding: 2px 6px; font-size: 12pt; font-weight: bold; }"
        )
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.label.hide()
        self.outline = QGraphicsPathItem(map_view.view_box.childGroup)
        self.outline.setZValue(Z_VALUE)
        self.outline.setPen(cosmetic_pen(OUTLINE_COLOUR, 2.0, Qt.PenStyle.DashLine))
        self.outline.setVisible(False)
        self.regions: list[BasemapFeature] = []
        """The regions around the view's centre, outermost first."""
        self._outlined = ""
        self._missing_counties = False

    def _feature_at(self, layer: BasemapLayer, x: float, y: float) -> BasemapFeature | None:
        index = self._indexes.get(id(layer))
        if index is None:
            index = self._indexes[id(layer)] = RegionIndex(layer)
        return index.feature_at(x, y)

    def update(self) -> None:
        """Find the regions around the view's centre and show them."""
        mpp = self._map.metres_per_pixel()
        layers = self._map.basemap_layers
        provinces = layers.get(LayerKey.PROVINCES)
        if provinces is None or not math.isfinite(mpp) or mpp >= SHOW_BELOW_MPP:
            self._show([])
            return
        x_min, y_min, x_max, y_max = self._map.view_extent()
        x, y = (x_min + x_max) / 2, (y_min + y_max) / 2
        found: list[BasemapFeature] = []
        province = self._feature_at(provinces.data, x, y)
        self._missing_counties = False
        if province is not None:
            found.append(province)
            cities = layers.get(LayerKey.CITIES)
            city = self._feature_at(cities.data, x, y) if cities is not None else None
            if city is not None and city.name != province.name:
                found.append(city)
            county_layer = self._map.county_layer
            if county_layer is not None and county_layer.visible:
                counties = county_layer.provinces.get(province.code)
                if counties is None:
                    # Still being read on the worker thread: look again on the next tick.
                    self._missing_counties = True
                else:
                    county = self._feature_at(counties.data, x, y)
                    if county is not None:
                        found.append(county)
        self._show(found)

    def retry_if_incomplete(self) -> None:
        """Look again when the county of the view was still being read (on a timer)."""
        if self._missing_counties:
            self.update()

    def _show(self, found: list[BasemapFeature]) -> None:
        self.regions = found
        if not found:
            self.label.hide()
            self.outline.setVisible(False)
            return
        separator = QCoreApplication.translate("MapView", " › ")
        self.label.setText(separator.join(feature.name for feature in found))
        self.label.adjustSize()
        self.place_label()
        self.label.show()
        self.label.raise_()
        innermost = found[-1]
        if innermost.code != self._outlined:
            path = QPainterPath()
            for ring in innermost.rings:
                path.addPath(ring_path(ring, closed=True))
            self.outline.setPath(path)
            self.outline.setToolTip(innermost.name)
            self._outlined = innermost.code
        self.outline.setVisible(True)

    def place_label(self) -> None:
        """Keep the names at the map's top-left corner (the map controls are top-right)."""
        self.label.move(6, 6)

    @property
    def text(self) -> str:
        """The names shown (empty when none is)."""
        return self.label.text() if not self.label.isHidden() else ""
