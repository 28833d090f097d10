"""China's counties on the map, read province by province as the view reaches them.

All ~2,900 counties would cost every console the time and memory of a million points
it mostly never shows. :class:`CountyLayer` shows nothing until the view is zoomed in to
the layer's range; then it asks for the provinces whose county file overlaps the view
(with a margin, so a pan finds its neighbour ready). A worker thread reads the file and
builds the painter paths; the GUI thread only adds the finished items (a few hundred per
province), so zooming into a new province does not stall the map.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsItem

from desktop.map.basemap import (
    BasemapError,
    BasemapLayer,
    Extent,
    load_counties,
    provinces_in_extent,
)
from desktop.map.layers import LayerKey, MapLayer
from desktop.map.outline_layer import BasemapOutlineLayer, OutlinePaths, outline_paths

logger = logging.getLogger(__name__)

POLL_MS = 30
"""How often finished provinces are picked up while some are being read."""
MARGIN = 0.5
"""Provinces within this fraction of the view's size around it are read as well."""

PreparedCounties = tuple[BasemapLayer, OutlinePaths]
"""One province's counties and their outline paths, made on the worker thread."""


@functools.cache
def _executor() -> concurrent.futures.ThreadPoolExecutor:
    """The one worker thread that reads county files (shared by every map)."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="counties")


def prepare_counties(province: str, cell_m: float) -> PreparedCounties:
    """Read one province's counties and build their outline paths (worker thread)."""
    data = load_counties(province)
    return data, outline_paths(data, cell_m=cell_m)


class CountyLayer(MapLayer):
    """The counties: one :class:`BasemapOutlineLayer` per province, made when first seen.

    ``view_extent`` returns the view (Mercator metres) when the resolution changes;
    ``style`` is passed on to each province's :class:`BasemapOutlineLayer` (pen, label
    range, cell size…). Provinces once shown stay loaded.
    """

    def __init__(
        self,
        parent: QGraphicsItem,
        view_extent: Callable[[], Extent],
        *,
        z_value: float,
        max_mpp: float,
        cell_m: float,
        chinese_names: bool = True,
        **style: Any,
    ) -> None:
        super().__init__(LayerKey.COUNTIES, parent, z_value=z_value, max_mpp=max_mpp)
        self._view_extent = view_extent
        self._cell_m = cell_m
        self._chinese_names = chinese_names
        self._style = style
        self._metres_per_pixel = math.inf
        self.provinces: dict[str, BasemapOutlineLayer] = {}
        """The provinces shown so far, by adcode."""
        self._pending: dict[str, concurrent.futures.Future[PreparedCounties]] = {}
        self._failed: set[str] = set()
        self._poll_timer = QTimer(self.container)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self.collect)

    @property
    def pen(self) -> QPen | None:
        """The pen of the county boundaries (the legend shows it)."""
        pen = self._style.get("pen")
        return pen if isinstance(pen, QPen) else None

    @property
    def pending(self) -> frozenset[str]:
        """The provinces being read now."""
        return frozenset(self._pending)

    def set_resolution(self, metres_per_pixel: float) -> None:
        """Follow the zoom; ask for the provinces in view when zoomed in far enough."""
        super().set_resolution(metres_per_pixel)
        self._metres_per_pixel = metres_per_pixel
        for layer in self.provinces.values():
            layer.set_resolution(metres_per_pixel)
        self.request_view()

    def set_enabled(self, enabled: bool) -> None:
        """Show or hide the counties; showing them reads the provinces in view."""
        super().set_enabled(enabled)
        self.request_view()

    def request_view(self) -> None:
        """Start reading the provinces around the view that are not loaded yet."""
        if not self.visible:
            return
        x_min, y_min, x_max, y_max = self._view_extent()
        margin_x = (x_max - x_min) * MARGIN
        margin_y = (y_max - y_min) * MARGIN
        around = (x_min - margin_x, y_min - margin_y, x_max + margin_x, y_max + margin_y)
        for province in provinces_in_extent(around):
            if province in self.provinces or province in self._pending:
                continue
            if province in self._failed:
                continue
            logger.debug("reading the counties of %s", province)
            self._pending[province] = _executor().submit(prepare_counties, province, self._cell_m)
        if self._pending and not self._poll_timer.isActive():
            self._poll_timer.start()

    def collect(self) -> None:
        """Add one province the worker has finished (GUI thread; runs on a timer).

        One per tick: making a province's items and names takes 10–40 ms, and frames
        are drawn between ticks.
        """
        finished = next((p for p, future in self._pending.items() if future.done()), None)
        if finished is not None:
            self._add_province(finished, self._pending.pop(finished))
        if not self._pending:
            self._poll_timer.stop()

    def _add_province(
        self, province: str, future: concurrent.futures.Future[PreparedCounties]
    ) -> None:
        """Make the items and names of a province the worker has read."""
        try:
            data, outlines = future.result()
        except BasemapError:
            logger.exception("the counties of %s are unavailable", province)
            self._failed.add(province)
            return
        layer = BasemapOutlineLayer(
            LayerKey.COUNTIES,
            self.container,
            data,
            z_value=0,
            cell_m=self._cell_m,
            chinese_names=self._chinese_names,
            outlines=outlines,
            **self._style,
        )
        layer.set_resolution(self._metres_per_pixel)
        self.provinces[province] = layer

    def wait_loaded(self, timeout: float = 10.0) -> None:
        """Block until the provinces being read are shown (benchmarks and tools)."""
        concurrent.futures.wait(list(self._pending.values()), timeout=timeout)
        while any(future.done() for future in self._pending.values()):
            self.collect()
