"""The map shows the place: framed on the scene, the place named and outlined at street
zoom, a legend of every symbol, labels beside their symbols and never under one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt, QTranslator
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.map import framing, map_labels
from desktop.map.alarm_layer import ALARM_COLOURS
from desktop.map.basemap import load_counties
from desktop.map.decision_rings import RING_COLOURS
from desktop.map.label_placement import LabelRequest, Symbol, intersects, place_labels
from desktop.map.layers import LayerKey
from desktop.map.legend import UNACKNOWLEDGED
from desktop.map.projection import from_mercator, to_mercator
from desktop.map.registry_layers import REGISTRY_SYMBOLS, KindPoint, MapShape
from desktop.map.vehicle_layer import VEHICLE_STYLE
from desktop.map.vehicles import VehicleStore
from desktop.map.view import MapView
from desktop.state import AlarmStore
from realtime.protocol import PositionView
from realtime.states import AlarmLevel, AlarmState
from tests.desktop.conftest import ignore_offscreen_quirks
from tests.desktop.factories import make_alarm, make_snapshot

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

NANJING = (118.78, 32.06)
LUHE = "320116"
"""六合区 of 南京, where the demo's chemical park lies."""


def fix(device: str, lon: float, lat: float, **fields: Any) -> PositionView:
    return PositionView(device=device, at=dt.datetime.now(dt.UTC), lon=lon, lat=lat, **fields)


@pytest.fixture
def alarms() -> AlarmStore:
    return AlarmStore()


@pytest.fixture
def map_view(qtbot: QtBot, alarms: AlarmStore) -> Iterator[MapView]:
    view = MapView(VehicleStore(), alarms, chinese_names=True)
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()


def inside(view: MapView, lon: float, lat: float) -> bool:
    x, y = to_mercator(lon, lat)
    x_min, y_min, x_max, y_max = view.view_extent()
    return x_min <= x <= x_max and y_min <= y <= y_max


# ---------------------------------------------------------------------- framing


def scene(view: MapView, alarms: AlarmStore) -> tuple[list[tuple[float, float]], ...]:
    trucks = [(118.70 + 0.03 * i, 32.20 + 0.02 * (i % 3)) for i in range(6)]
    view.vehicles.update([fix(f"t{i}", lon, lat) for i, (lon, lat) in enumerate(trucks)])
    open_alarms = [(118.95, 32.35), (118.62, 32.15)]
    alarms.apply_snapshot(
        make_snapshot(
            1,
            make_alarm(1, lon=open_alarms[0][0], lat=open_alarms[0][1]),
            make_alarm(2, lon=open_alarms[1][0], lat=open_alarms[1][1], state=AlarmState.NEW),
            make_alarm(3, lon=100.0, lat=40.0, state=AlarmState.CLOSED),
        )
    )
    return trucks, open_alarms


def test_frame_all_covers_every_vehicle_and_open_alarm(
    map_view: MapView, alarms: AlarmStore, qtbot: QtBot
) -> None:
    trucks, open_alarms = scene(map_view, alarms)
    map_view.center_on(120.0, 30.0, span_m=2_000)
    QTest.mouseClick(map_view.frame_button, Qt.MouseButton.LeftButton)
    for lon, lat in trucks + open_alarms:
        assert inside(map_view, lon, lat), (lon, lat)
    assert not inside(map_view, 100.0, 40.0), "a closed alarm does not widen the view"
    # A margin: no point sits on the view's edge.
    x_min, _y_min, x_max, _y_max = map_view.view_extent()
    east = to_mercator(*open_alarms[0])[0]
    assert x_max - east > 0.05 * (x_max - x_min)


def test_the_map_frames_itself_once_when_data_first_arrives(
    map_view: MapView, alarms: AlarmStore, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    map_view.framer._timer.setInterval(10)
    trucks, open_alarms = scene(map_view, alarms)
    map_view.refresh()
    qtbot.waitUntil(lambda: map_view.framer.framed_live, timeout=2000)
    for lon, lat in trucks + open_alarms:
        assert inside(map_view, lon, lat)
    # Later updates do not re-frame: a truck driving far away stays out of view.
    map_view.vehicles.update([fix("t0", 120.5, 31.0)])
    map_view.refresh()
    QTest.qWait(50)
    assert not inside(map_view, 120.5, 31.0)
    assert not map_view.framer._timer.isActive()


def test_the_map_never_frames_itself_after_the_officer_moved_it(
    map_view: MapView, alarms: AlarmStore, qtbot: QtBot
) -> None:
    map_view.framer._timer.setInterval(10)
    map_view.center_on(120.0, 30.0, span_m=5_000)
    map_view.canvas.setFocus()
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Left)
    assert map_view.framer.officer_moved
    scene(map_view, alarms)
    map_view.refresh()
    QTest.qWait(60)
    assert not inside(map_view, 118.70, 32.20), "the officer's view is kept"
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Home)
    assert inside(map_view, 118.70, 32.20), "Home frames everything on request"


def test_nothing_live_frames_the_jurisdiction(map_view: MapView, qtbot: QtBot) -> None:
    map_view.framer._timer.setInterval(10)
    ring = ((118.5, 32.0), (118.9, 32.0), (118.9, 32.4), (118.5, 32.4))
    map_view.jurisdictions.set_shapes([MapShape("j", ring)])
    map_view.refresh()
    qtbot.waitUntil(lambda: map_view.framer.framed_area, timeout=2000)
    assert all(inside(map_view, lon, lat) for lon, lat in ring)
    assert not map_view.framer.framed_live, "the first live data still frames the scene"


def test_few_registry_items_are_framed_with_the_scene(map_view: MapView) -> None:
    map_view.vehicles.update([fix("t0", 118.7, 32.2)])
    map_view.registry.set_points([KindPoint("shelter", "s1", 118.9, 32.3, "避难所")])
    map_view.frame_all()
    assert inside(map_view, 118.9, 32.3)
    many = [KindPoint("shelter", f"s{i}", 110.0 + i * 0.1, 30.0, "") for i in range(60)]
    map_view.registry.set_points(many)
    map_view.frame_all()
    assert not inside(map_view, 110.0, 30.0), "a large registry does not widen the view"


def test_scene_extent_keeps_a_minimum_span() -> None:
    extent = framing.scene_extent([(1000.0, 2000.0)])
    assert extent is not None
    x_min, _y_min, x_max, _y_max = extent
    assert x_max - x_min == pytest.approx(framing.MIN_SPAN_M)
    assert (x_min + x_max) / 2 == pytest.approx(1000.0)
    assert framing.scene_extent([]) is None


# ---------------------------------------------------------------------- the place


def luhe_boundary_point() -> tuple[float, float]:
    """A point (Mercator) on 六合区's boundary, away from the others' boundaries."""
    county = load_counties("320000").find(LUHE)
    assert county is not None
    ring = max(county.rings, key=len)
    x, y = ring[len(ring) // 3]
    return float(x), float(y)


def test_at_street_zoom_the_district_is_named_and_its_boundary_drawn(
    map_view: MapView, qtbot: QtBot
) -> None:
    x, y = luhe_boundary_point()
    lon, lat = from_mercator(x, y)
    map_view.center_on(lon, lat, span_m=2_400)  # ~500 m on the scale bar
    assert map_view.scale_bar.length_m <= 1000
    county_layer = map_view.county_layer
    assert county_layer is not None
    county_layer.wait_loaded()
    qtbot.waitUntil(lambda: "320000" in county_layer.provinces, timeout=5000)
    map_view.refresh()  # picks up the county read on the worker thread
    place = map_view.place
    assert place is not None
    text = place.text
    assert "江苏省" in text
    assert "南京市" in text
    # The view centre lies on the boundary: the district is 六合区 or its neighbour.
    assert place.regions[-1].parent == "320100"
    assert place.label.isVisible()
    assert place.outline.isVisible()
    # The boundary line is drawn: pixels along it differ from the land colour.
    image = map_view.canvas.grab().toImage()
    scene_point = map_view.view_box.mapViewToScene(QPointF(x, y))
    px = map_view.canvas.mapFromScene(scene_point)
    land = QColor("#fbf7ef").rgb()
    around = {image.pixel(px.x() + dx, px.y() + dy) for dx in range(-3, 4) for dy in range(-3, 4)}
    assert around - {land}, "the boundary is visible at the view's centre"


def test_inside_a_district_its_name_is_shown_though_its_label_is_far(
    map_view: MapView, qtbot: QtBot
) -> None:
    county = load_counties("320000").find(LUHE)
    assert county is not None
    label_lon, label_lat = from_mercator(*county.label_xy)
    # 2 km east of the county's label point: the centroid label is out of view.
    map_view.center_on(label_lon + 0.03, label_lat, span_m=2_400)
    assert not inside(map_view, label_lon, label_lat)
    county_layer = map_view.county_layer
    assert county_layer is not None
    county_layer.wait_loaded()
    qtbot.waitUntil(lambda: "320000" in county_layer.provinces, timeout=5000)
    map_view.refresh()
    assert map_view.place is not None
    assert map_view.place.text.endswith("六合区")
    assert map_view.place.regions[-1].code == LUHE


def test_nothing_is_named_at_sea_or_at_country_zoom(map_view: MapView) -> None:
    map_view.center_on(125.0, 25.0, span_m=10_000)  # the East China Sea
    assert map_view.place is not None
    assert map_view.place.text == ""
    map_view.zoom_to_extent(73.5, 17.5, 135.1, 53.6)
    assert map_view.place.text == ""


# ---------------------------------------------------------------------- legend


def test_the_legend_lists_every_symbol_the_layers_define(map_view: MapView, qtbot: QtBot) -> None:
    listed = {(entry.layer, entry.kind) for entry in map_view.legend.entries}
    expected = {(LayerKey.ALARMS, UNACKNOWLEDGED)}
    expected |= {(LayerKey.ALARMS, str(level)) for level in ALARM_COLOURS}
    expected |= {(LayerKey.VEHICLES, str(state)) for state in VEHICLE_STYLE}
    expected |= {(LayerKey.REGISTRY, kind) for kind in REGISTRY_SYMBOLS}
    expected |= {(LayerKey.GEOFENCES, f"ring:{kind}") for kind in RING_COLOURS}
    assert expected <= listed
    # Every layer the map draws has at least one entry.
    assert set(map_view.layers) <= {layer for layer, _ in listed}
    assert all(level in ALARM_COLOURS for level in AlarmLevel)
    assert all(entry.text and not entry.icon.isNull() for entry in map_view.legend.entries)
    assert len(set(map_view.legend.texts)) == len(map_view.legend.texts), "names are distinct"
    assert not map_view.legend.isVisible()
    QTest.mouseClick(map_view.legend_button, Qt.MouseButton.LeftButton)
    assert map_view.legend.isVisible()
    assert map_view.canvas.rect().contains(map_view.legend.geometry()), "inside the map"
    map_view.show_legend(False)
    assert not map_view.legend.isVisible()
    assert not map_view.legend_button.isChecked()


def test_the_legend_is_in_chinese_by_default(qtbot: QtBot, chinese: list[QTranslator]) -> None:
    view = MapView(VehicleStore(), AlarmStore())
    qtbot.addWidget(view)
    texts = view.legend.texts
    assert any("报警" in text or "警情" in text for text in texts), texts
    assert not any(text.isascii() for text in texts), texts
    view.shutdown()


# ---------------------------------------------------------------------- labels


def test_labels_never_cover_a_symbol_nor_each_other() -> None:
    rng = np.random.default_rng(7)
    symbols = [Symbol(float(x), float(y), 16.0) for x, y in rng.uniform(0, 300, size=(80, 2))]
    requests = [LabelRequest(i, s, 60.0, 14.0, i % 3) for i, s in enumerate(symbols)]
    placed = place_labels(requests, symbols, (0.0, 0.0, 300.0, 300.0))
    assert 0 < len(placed) < len(requests), "a crowd: some labels shown, some hidden"
    for placement in placed:
        assert not any(intersects(placement.rect, s.rect) for s in symbols)
        assert all(
            not intersects(placement.rect, other.rect) for other in placed if other is not placement
        )


def test_on_the_map_no_label_sits_under_a_symbol(map_view: MapView, alarms: AlarmStore) -> None:
    centre = NANJING
    rng = np.random.default_rng(3)
    offsets = rng.uniform(-0.004, 0.004, size=(30, 2))
    map_view.vehicles.update(
        [
            fix(f"v{i}", centre[0] + dx, centre[1] + dy, speed_kmh=30.0 * (i % 2))
            for i, (dx, dy) in enumerate(offsets)
        ]
    )
    map_view.vehicles.set_labels({f"v{i}": f"苏A·{i:05d}" for i in range(30)})
    alarms.apply_snapshot(
        make_snapshot(
            1,
            *[
                make_alarm(
                    i,
                    lon=centre[0] + dx,
                    lat=centre[1] + dy,
                    state=AlarmState.NEW if i % 2 else AlarmState.ACKNOWLEDGED,
                    title="3号储罐区 H2S 浓度超限",
                )
                for i, (dx, dy) in enumerate(rng.uniform(-0.004, 0.004, size=(6, 2)), start=1)
            ],
        )
    )
    map_view.center_on(*centre, span_m=1_500)
    map_view.refresh()
    labeller = map_view.labeller
    assert labeller.label_texts("vehicle")
    assert labeller.label_texts("alarm")
    # Symbols as the scatter items draw them, in the canvas's pixels.
    symbol_rects: list[QRectF] = []
    points = [
        (x, y, VEHICLE_STYLE[state][1])
        for x, y, _, state in map_view.vehicle_layer.shown_points(map_view.view_extent())
    ]
    alarm_items = [(map_view.alarm_layer.unacknowledged, 30.0)]
    alarm_items += [(item, 14.0) for item in map_view.alarm_layer.by_level.values()]
    for item, size in alarm_items:
        points += [
            (float(x), float(y), size) for x, y in zip(item.data["x"], item.data["y"], strict=True)
        ]
    for x, y, size in points:
        point = map_view.canvas.mapFromScene(map_view.view_box.mapViewToScene(QPointF(x, y)))
        symbol_rects.append(QRectF(point.x() - size / 2, point.y() - size / 2, size, size))
    transform = map_view.canvas.viewportTransform()
    shown = [item for item in labeller._items if item.isVisible()]
    assert len(shown) == len(labeller.placements)
    for label in shown:
        rect = label.deviceTransform(transform).mapRect(label.boundingRect())
        rect = rect.adjusted(1, 1, -1, -1)  # antialiasing's half pixel
        assert not any(rect.intersects(symbol) for symbol in symbol_rects), label.text()
    assert labeller.group.zValue() > map_view.alarm_layer.container.zValue(), "above the stars"


def test_screenshot_of_a_crowded_street_view_has_readable_labels(
    map_view: MapView, alarms: AlarmStore
) -> None:
    map_view.vehicles.update([fix("v1", *NANJING)])
    map_view.vehicles.set_labels({"v1": "苏A·D00001"})
    map_view.center_on(*NANJING, span_m=1_500)
    map_view.refresh()
    image: QImage = map_view.canvas.grab().toImage()
    assert not image.isNull()
    assert map_view.labeller.label_texts("vehicle") == ["苏A·D00001"]


def test_a_crowd_too_dense_to_label_gets_no_labels(
    map_view: MapView, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(map_labels, "MAX_SYMBOLS", 5)
    map_view.vehicles.update([fix(f"v{i}", NANJING[0] + i * 1e-4, NANJING[1]) for i in range(10)])
    map_view.center_on(*NANJING, span_m=1_500)
    map_view.refresh()
    assert map_view.labeller.label_texts() == []
    map_view.vehicles.update([fix(f"v{i}", 100.0, 30.0) for i in range(6)])  # out of view
    map_view.refresh()
    assert map_view.labeller.label_texts("vehicle"), "four in view: labelled again"
