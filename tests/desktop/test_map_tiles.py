"""Raster tiles: tile arithmetic, an MBTiles file made here, the LRU cache, GCJ-02."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from desktop.map.layers import LayerKey
from desktop.map.projection import HALF_WORLD, to_mercator
from desktop.map.tiles import (
    MBTilesSource,
    TileCache,
    TileError,
    TileKey,
    XyzSource,
    tile_bounds,
    tiles_covering,
    zoom_for_resolution,
)
from desktop.map.view import MapView
from tests.desktop.conftest import ignore_offscreen_quirks

HANGZHOU = (120.155, 30.274)


def png(colour: str, folder: Path) -> bytes:
    image = QImage(256, 256, QImage.Format.Format_ARGB32)
    image.fill(QColor(colour))
    path = folder / f"{colour.lstrip('#')}.png"
    assert image.save(str(path))  # the format follows the suffix
    return path.read_bytes()


def tile_at(lon: float, lat: float, zoom: int) -> TileKey:
    x, y = to_mercator(lon, lat)
    return tiles_covering(x, y, x, y, zoom)[0]


@pytest.fixture
def mbtiles(tmp_path: Path) -> Path:
    """An MBTiles file with the zoom-10 to -12 tiles around Hangzhou (TMS rows)."""
    path = tmp_path / "city.mbtiles"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    connection.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
        "tile_data BLOB)"
    )
    connection.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("name", "city"), ("format", "png"), ("minzoom", "10"), ("maxzoom", "12")],
    )
    colours = ["#e53935", "#43a047", "#1e88e5"]
    for zoom in (10, 11, 12):
        _, cx, cy = tile_at(*HANGZHOU, zoom)
        for x in range(cx - 4, cx + 5):
            for y in range(cy - 4, cy + 5):
                data = png(colours[(x + y) % 3], tmp_path)
                tms_row = (1 << zoom) - 1 - y
                connection.execute(
                    "INSERT INTO tiles VALUES (?, ?, ?, ?)", (zoom, x, tms_row, data)
                )
    connection.commit()
    connection.close()
    return path


def test_tile_arithmetic() -> None:
    assert tile_bounds((0, 0, 0)) == pytest.approx(
        (-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD)
    )
    assert zoom_for_resolution(156_543.03) == 0
    assert zoom_for_resolution(152.87) == 10
    assert zoom_for_resolution(0.01, max_zoom=18) == 18
    zoom, x, y = tile_at(*HANGZHOU, 12)
    x_min, y_min, x_max, y_max = tile_bounds((zoom, x, y))
    px, py = to_mercator(*HANGZHOU)
    assert x_min <= px < x_max
    assert y_min <= py < y_max
    keys = tiles_covering(px - 20_000, py - 20_000, px + 20_000, py + 20_000, 12)
    assert keys[0][0] == 12
    assert len(keys) >= 4
    assert (12, x, y) in keys


def test_cache_is_bounded_lru() -> None:
    cache = TileCache(max_tiles=2)
    image = QImage(1, 1, QImage.Format.Format_ARGB32)
    cache.put((1, 0, 0), image)
    cache.put((1, 1, 0), image)
    assert cache.get((1, 0, 0)) is not None  # now the most recent
    cache.put((1, 1, 1), image)
    assert (1, 1, 0) not in cache
    assert (1, 0, 0) in cache
    assert (1, 1, 1) in cache
    assert len(cache) == 2


def test_bad_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TileError):
        MBTilesSource(tmp_path / "missing.mbtiles")
    not_mbtiles = tmp_path / "empty.mbtiles"
    sqlite3.connect(not_mbtiles).close()
    with pytest.raises(TileError):
        MBTilesSource(not_mbtiles)
    with pytest.raises(TileError):
        XyzSource("https://tiles.example/{z}/{x}.png")


@pytest.fixture
def map_view(qtbot: QtBot) -> Iterator[MapView]:
    view = MapView(basemap=False)
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()


@pytest.mark.gui
@ignore_offscreen_quirks
def test_mbtiles_tiles_load_and_are_cached(map_view: MapView, mbtiles: Path, qtbot: QtBot) -> None:
    source = MBTilesSource(mbtiles)
    assert (source.min_zoom, source.max_zoom) == (10, 12)
    map_view.center_on(*HANGZHOU, span_m=600 * 38.2)  # about zoom 12
    map_view.set_tile_source(source)
    layer = map_view.tile_layer
    assert layer is not None
    centre = tile_at(*HANGZHOU, 12)
    qtbot.waitUntil(lambda: centre in layer.shown_tiles, timeout=5000)
    assert centre in layer.cache
    pixel = map_view.canvas.grab().toImage().pixelColor(300, 190)
    assert pixel.name() in {"#e53935", "#43a047", "#1e88e5"}, "the tile is drawn"
    reads = source.reads
    qtbot.waitUntil(lambda: source.reads == reads, timeout=1000)
    # away and back: the tiles come from the cache, not the file
    map_view.pan_by(3.0, 0.0)
    qtbot.waitUntil(lambda: centre not in layer.shown_tiles, timeout=2000)
    settled = source.reads
    map_view.pan_by(-3.0, 0.0)
    assert centre in layer.shown_tiles, "shown at once from the cache"
    qtbot.wait(100)
    assert source.reads >= settled
    assert all(key in layer.cache for key in layer.shown_tiles)
    # hiding the layer hides the tiles and brings back the land fill
    map_view.set_layer_visible(LayerKey.TILES, False)
    assert not map_view.layer_visible(LayerKey.TILES)
    map_view.set_tile_source(None)
    assert map_view.tile_layer is None


@pytest.mark.gui
@ignore_offscreen_quirks
def test_gcj02_tiles_are_shifted_onto_wgs84(map_view: MapView, mbtiles: Path, qtbot: QtBot) -> None:
    map_view.center_on(*HANGZHOU, span_m=600 * 38.2)
    map_view.set_tile_source(MBTilesSource(mbtiles, gcj02=True))
    layer = map_view.tile_layer
    assert layer is not None
    centre = tile_at(*HANGZHOU, 12)
    qtbot.waitUntil(lambda: centre in layer.shown_tiles, timeout=5000)
    item = layer._shown[centre]
    placed_x = item.transform().dx()
    placed_y = item.transform().dy()
    x_min, _, _, y_max = tile_bounds(centre)
    # GCJ-02 moves Hangzhou ~450 m east and ~250 m south; the tile moves back by that.
    assert -800 < placed_x - x_min < -200
    assert 100 < placed_y - y_max < 600
