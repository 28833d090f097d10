"""Optional raster tile layers: an XYZ URL template or an MBTiles file.

Sites with their own tile server (or a tile package on disk) can show it under the vector
layers. Tiles are fetched asynchronously — MBTiles rows are read on a worker thread, XYZ
tiles through a :class:`QNetworkAccessManager` — and kept in a bounded in-memory LRU
cache. A source drawn in GCJ-02 (Amap, Tencent) is shifted at this layer only: each tile
is placed where its GCJ-02 corners lie in WGS-84, so vehicles stay on the roads.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import math
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QImage, QPixmap, QTransform
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem

from desktop.map.projection import HALF_WORLD, from_mercator, gcj02_to_wgs84, to_mercator

logger = logging.getLogger(__name__)

TILE_PIXELS = 256
"""Width and height of a tile image."""
DEFAULT_CACHE_TILES = 256
"""Tiles kept in memory per layer (≈ 64 MB of 256×256 RGBA at most)."""
MAX_TILES_IN_VIEW = 96
"""Never ask for more tiles than this for one view (a huge window at a wrong zoom)."""

TileKey = tuple[int, int, int]
"""(zoom, x, y) in the XYZ (Google/OSM) scheme: y = 0 is the northern edge."""


class TileError(Exception):
    """A tile source cannot be opened."""


def tile_span(zoom: int) -> float:
    """Return the width of one tile at ``zoom``, Web-Mercator metres."""
    return 2 * HALF_WORLD / (1 << zoom)


def zoom_for_resolution(metres_per_pixel: float, min_zoom: int = 0, max_zoom: int = 19) -> int:
    """Return the tile zoom whose pixels are closest to ``metres_per_pixel``."""
    if metres_per_pixel <= 0:
        return max_zoom
    zoom = round(math.log2(2 * HALF_WORLD / (TILE_PIXELS * metres_per_pixel)))
    return max(min_zoom, min(max_zoom, zoom))


def tile_bounds(key: TileKey) -> tuple[float, float, float, float]:
    """Return (x_min, y_min, x_max, y_max) of a tile, Web-Mercator metres."""
    zoom, x, y = key
    span = tile_span(zoom)
    x_min = -HALF_WORLD + x * span
    y_max = HALF_WORLD - y * span
    return x_min, y_max - span, x_min + span, y_max


def tiles_covering(
    x_min: float, y_min: float, x_max: float, y_max: float, zoom: int
) -> list[TileKey]:
    """Return the tiles at ``zoom`` that cover a Mercator rectangle, centre first."""
    count = 1 << zoom
    span = tile_span(zoom)

    def column(x: float) -> int:
        return max(0, min(count - 1, int((x + HALF_WORLD) // span)))

    def row(y: float) -> int:
        return max(0, min(count - 1, int((HALF_WORLD - y) // span)))

    columns = range(column(x_min), column(x_max) + 1)
    rows = range(row(y_max), row(y_min) + 1)
    centre_x = (columns.start + columns.stop - 1) / 2
    centre_y = (rows.start + rows.stop - 1) / 2
    keys = [(zoom, x, y) for x in columns for y in rows]
    keys.sort(key=lambda key: (key[1] - centre_x) ** 2 + (key[2] - centre_y) ** 2)
    return keys


class TileCache:
    """A bounded least-recently-used map of tile images."""

    def __init__(self, max_tiles: int = DEFAULT_CACHE_TILES) -> None:
        self.max_tiles = max_tiles
        self._tiles: collections.OrderedDict[TileKey, QImage] = collections.OrderedDict()

    def get(self, key: TileKey) -> QImage | None:
        """Return the cached image of ``key`` (and mark it recently used), or None."""
        image = self._tiles.get(key)
        if image is not None:
            self._tiles.move_to_end(key)
        return image

    def put(self, key: TileKey, image: QImage) -> None:
        """Remember ``image``; the least recently used tile goes when full."""
        self._tiles[key] = image
        self._tiles.move_to_end(key)
        while len(self._tiles) > self.max_tiles:
            self._tiles.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._tiles

    def __len__(self) -> int:
        return len(self._tiles)


class TileSource(Protocol):
    """Where tiles come from. ``request`` must not block; ``loaded`` reports each result."""

    name: str
    min_zoom: int
    max_zoom: int
    gcj02: bool

    def request(self, key: TileKey, done: TileCallback) -> None:
        """Start loading ``key``; call ``done(key, image or None)`` on the GUI thread."""

    def close(self) -> None:
        """Stop loading and release files or connections."""


class TileCallback(Protocol):
    """Receives a loaded tile (None when the source has no such tile or it failed)."""

    def __call__(self, key: TileKey, image: QImage | None) -> None:
        """Take the tile."""


class _ThreadBridge(QObject):
    """Carries results from the worker thread to the GUI thread (a queued signal)."""

    loaded = Signal(object, object, object)
    """(callback, key, QImage or None)."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded.connect(self._deliver)

    @staticmethod
    def _deliver(callback: TileCallback, key: TileKey, image: QImage | None) -> None:
        callback(key, image)


class MBTilesSource:
    """Tiles from an MBTiles file (SQLite; rows in the TMS scheme, y = 0 in the south).

    Rows are read on one worker thread that owns the SQLite connection.
    """

    def __init__(self, path: Path, *, name: str = "", gcj02: bool = False) -> None:
        if not path.is_file():
            raise TileError(f"no MBTiles file at {path}")
        self.path = path
        self.name = name or path.stem
        self.gcj02 = gcj02
        self.min_zoom, self.max_zoom = 0, 19
        try:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                metadata = dict(connection.execute("SELECT name, value FROM metadata"))
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise TileError(f"{path} is not an MBTiles file: {exc}") from exc
        self.min_zoom = int(metadata.get("minzoom", self.min_zoom))
        self.max_zoom = int(metadata.get("maxzoom", self.max_zoom))
        self.reads = 0
        """How many tiles were read from the file (the cache keeps this low)."""
        self._local = threading.local()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"mbtiles-{self.name}"
        )
        self._bridge = _ThreadBridge()
        self._closed = False

    def request(self, key: TileKey, done: TileCallback) -> None:
        """Read ``key`` on the worker thread; ``done`` runs on the GUI thread."""
        if self._closed:
            return
        self._executor.submit(self._load, key, done)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self._local.connection = connection
        return connection

    def _load(self, key: TileKey, done: TileCallback) -> None:
        zoom, x, y = key
        image: QImage | None = None
        try:
            row = (
                self._connection()
                .execute(
                    "SELECT tile_data FROM tiles "
                    "WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                    (zoom, x, (1 << zoom) - 1 - y),
                )
                .fetchone()
            )
        except sqlite3.Error:
            logger.exception("cannot read tile %s from %s", key, self.path)
            row = None
        self.reads += 1
        if row is not None:
            decoded = QImage.fromData(bytes(row[0]))
            image = None if decoded.isNull() else decoded
        if not self._closed:
            self._bridge.loaded.emit(done, key, image)

    def close(self) -> None:
        """Stop the worker thread (waiting for a read in progress) and close the file."""
        self._closed = True
        self._executor.submit(self._close_connection)
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _close_connection(self) -> None:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


class XyzSource:
    """Tiles from a server by URL template, e.g. ``https://tiles.example/{z}/{x}/{y}.png``."""

    def __init__(
        self,
        url_template: str,
        *,
        name: str = "",
        min_zoom: int = 0,
        max_zoom: int = 18,
        gcj02: bool = False,
        user_agent: str = "DutyDesk",
    ) -> None:
        if not all(part in url_template for part in ("{z}", "{x}", "{y}")):
            raise TileError("the URL template needs {z}, {x} and {y}")
        self.url_template = url_template
        self.name = name or url_template
        self.min_zoom, self.max_zoom = min_zoom, max_zoom
        self.gcj02 = gcj02
        self._user_agent = user_agent.encode("utf-8")
        self._network = QNetworkAccessManager()
        self._replies: set[QNetworkReply] = set()

    def request(self, key: TileKey, done: TileCallback) -> None:
        """Send the HTTP request; ``done`` runs when the reply finishes."""
        zoom, x, y = key
        url = self.url_template.format(z=zoom, x=x, y=y)
        request = QNetworkRequest(QUrl(url))
        request.setRawHeader(b"User-Agent", self._user_agent)
        reply = self._network.get(request)
        self._replies.add(reply)
        reply.finished.connect(lambda: self._finished(reply, key, done))

    def _finished(self, reply: QNetworkReply, key: TileKey, done: TileCallback) -> None:
        self._replies.discard(reply)
        image: QImage | None = None
        if reply.error() == QNetworkReply.NetworkError.NoError:
            decoded = QImage.fromData(reply.readAll().data())
            image = None if decoded.isNull() else decoded
        else:
            logger.debug("tile %s failed: %s", key, reply.errorString())
        reply.deleteLater()
        done(key, image)

    def close(self) -> None:
        """Abort every request in flight."""
        for reply in list(self._replies):
            reply.abort()
        self._replies.clear()


class TileLayer:
    """Shows the tiles of one source that cover the view, under the vector layers."""

    def __init__(
        self,
        source: TileSource,
        parent_item: QGraphicsItem,
        *,
        cache_tiles: int = DEFAULT_CACHE_TILES,
        z_value: float = -100.0,
    ) -> None:
        self.source = source
        self.cache = TileCache(cache_tiles)
        self._parent = parent_item
        self._z_value = z_value
        self._shown: dict[TileKey, QGraphicsPixmapItem] = {}
        self._pending: set[TileKey] = set()
        self._wanted: set[TileKey] = set()
        self._visible = True

    @property
    def shown_tiles(self) -> frozenset[TileKey]:
        """The tiles on screen now."""
        return frozenset(self._shown)

    def set_visible(self, visible: bool) -> None:
        """Show or hide every tile."""
        self._visible = visible
        for item in self._shown.values():
            item.setVisible(visible)

    def update_view(
        self, x_min: float, y_min: float, x_max: float, y_max: float, metres_per_pixel: float
    ) -> None:
        """Show the tiles for this view, asking the source for those not cached."""
        if not self._visible:
            return
        zoom = zoom_for_resolution(metres_per_pixel, self.source.min_zoom, self.source.max_zoom)
        keys = tiles_covering(x_min, y_min, x_max, y_max, zoom)[:MAX_TILES_IN_VIEW]
        self._wanted = set(keys)
        for key in list(self._shown):
            if key not in self._wanted:
                self._remove(key)
        for key in keys:
            if key in self._shown:
                continue
            image = self.cache.get(key)
            if image is not None:
                self._show(key, image)
            elif key not in self._pending:
                self._pending.add(key)
                self.source.request(key, self._on_loaded)

    def _on_loaded(self, key: TileKey, image: QImage | None) -> None:
        self._pending.discard(key)
        if image is None:
            return
        self.cache.put(key, image)
        if key in self._wanted and key not in self._shown and self._visible:
            self._show(key, image)

    def _show(self, key: TileKey, image: QImage) -> None:
        x_min, y_min, x_max, y_max = self._placement(key)
        item = QGraphicsPixmapItem(QPixmap.fromImage(image), self._parent)
        item.setTransformationMode(item.transformationMode().SmoothTransformation)
        scale_x = (x_max - x_min) / max(1, image.width())
        scale_y = (y_max - y_min) / max(1, image.height())
        # Image rows run south-wards; the map's y runs north-wards.
        item.setTransform(QTransform(scale_x, 0.0, 0.0, -scale_y, x_min, y_max))
        item.setZValue(self._z_value)
        self._shown[key] = item

    def _placement(self, key: TileKey) -> tuple[float, float, float, float]:
        bounds = tile_bounds(key)
        if not self.source.gcj02:
            return bounds
        x_min, y_min, x_max, y_max = bounds
        west, south = gcj02_to_wgs84(*from_mercator(x_min, y_min))
        east, north = gcj02_to_wgs84(*from_mercator(x_max, y_max))
        (x0, y0), (x1, y1) = to_mercator(west, south), to_mercator(east, north)
        return x0, y0, x1, y1

    def _remove(self, key: TileKey) -> None:
        item = self._shown.pop(key)
        item.scene().removeItem(item)

    def clear(self) -> None:
        """Take every tile off the map (the cache stays)."""
        for key in list(self._shown):
            self._remove(key)

    def close(self) -> None:
        """Remove the tiles and stop the source."""
        self.clear()
        self.source.close()
