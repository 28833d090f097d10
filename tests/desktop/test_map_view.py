"""The map widget: pan/zoom, layers, clicks, live vehicles and alarms, screenshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from desktop.map.layers import LayerKey
from desktop.map.projection import from_mercator, to_mercator
from desktop.map.registry_layers import MapPoint, MapShape
from desktop.map.vehicle_layer import HEADING_SECTORS, heading_sector
from desktop.map.vehicles import VehicleState, VehicleStore
from desktop.map.view import MapView
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from desktop.state import AlarmStore
from realtime.protocol import PositionView, Telemetry
from realtime.states import AlarmLevel, AlarmState
from tests.desktop.conftest import call, ignore_offscreen_quirks
from tests.desktop.factories import evolve, make_alarm, make_event, make_snapshot

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

HANGZHOU = (120.155, 30.274)


def now() -> dt.datetime:
    # Read at each use: a module-level "now" goes stale in a long suite run, and fixes
    # older than five minutes are drawn as offline.
    return dt.datetime.now(dt.UTC)


def fix(device: str, lon: float, lat: float, **fields: Any) -> PositionView:
    at = fields.pop("at", None) or now()
    return PositionView(device=device, at=at, lon=lon, lat=lat, **fields)


@pytest.fixture
def alarms() -> AlarmStore:
    return AlarmStore()


@pytest.fixture
def map_view(qtbot: QtBot, alarms: AlarmStore) -> Iterator[MapView]:
    view = MapView(VehicleStore(), alarms)
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    view.center_on(*HANGZHOU, span_m=20_000)
    yield view
    view.shutdown()


def viewport_point(view: MapView, lon: float, lat: float) -> QPoint:
    scene = view.view_box.mapViewToScene(QPointF(*to_mercator(lon, lat)))
    point: QPoint = view.canvas.mapFromScene(scene)
    return point


def test_programmatic_zoom_and_pan(map_view: MapView) -> None:
    lon, lat = map_view.view_center()
    assert (lon, lat) == pytest.approx(HANGZHOU, abs=1e-4)
    x_min, _, x_max, _ = map_view.view_extent()
    assert x_max - x_min == pytest.approx(20_000, rel=0.02)
    map_view.zoom_by(2.0)
    x_min, _, x_max, _ = map_view.view_extent()
    assert x_max - x_min == pytest.approx(10_000, rel=0.02)
    assert map_view.view_center() == pytest.approx(HANGZHOU, abs=1e-4)
    map_view.pan_by(0.5, 0.0)
    centre_x = to_mercator(*HANGZHOU)[0] + 5_000
    assert map_view.view_center()[0] == pytest.approx(from_mercator(centre_x, 0)[0], abs=1e-4)
    map_view.zoom_to_extent(118.0, 27.0, 123.0, 31.2)
    x_min, y_min, x_max, y_max = map_view.view_extent()
    west, south = from_mercator(x_min, y_min)
    east, north = from_mercator(x_max, y_max)
    assert west <= 118.0
    assert east >= 123.0
    assert south <= 27.0
    assert north >= 31.2
    assert min(east - west, north - south) < 7.0


def test_keys_pan_and_zoom(map_view: MapView, qtbot: QtBot) -> None:
    map_view.canvas.setFocus()
    before = map_view.view_extent()
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Right)
    after = map_view.view_extent()
    width = before[2] - before[0]
    assert after[0] - before[0] == pytest.approx(0.2 * width, rel=0.01)
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Up)
    assert map_view.view_extent()[1] > after[1]
    span = map_view.view_extent()[2] - map_view.view_extent()[0]
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Plus)
    assert map_view.view_extent()[2] - map_view.view_extent()[0] == pytest.approx(
        span / 2, rel=0.01
    )
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Minus)
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Minus)
    assert map_view.view_extent()[2] - map_view.view_extent()[0] == pytest.approx(
        span * 2, rel=0.01
    )


def test_scale_bar_and_cursor_coordinates(map_view: MapView, qtbot: QtBot) -> None:
    bar = map_view.scale_bar
    assert bar.text in {"1 km", "2 km", "500 m"}
    ground_per_px = map_view.metres_per_pixel() * np.cos(np.radians(HANGZHOU[1]))
    assert bar.bar_px * ground_per_px == pytest.approx(bar.length_m, rel=0.02)
    assert 20 <= bar.bar_px <= bar.MAX_WIDTH
    point = viewport_point(map_view, *HANGZHOU)
    QTest.mouseMove(map_view.canvas.viewport(), point)
    qtbot.waitUntil(lambda: bool(map_view.coords_label.text()), timeout=2000)
    text = map_view.coords_label.text()
    assert "30.27" in text
    assert "120.15" in text


@pytest.mark.parametrize("width", [270, 360, 900])
def test_the_status_row_never_covers_the_scale_bar(map_view: MapView, width: int) -> None:
    """A map in a narrow dock (the drill window's): the texts give way to the scale bar."""
    map_view.coords_label.setText("30.27000, 120.15000")
    map_view.summary_label.setText("1200 vehicles, newest fix 4 s ago")
    map_view.resize(width, 500)
    QApplication.processEvents()
    bar = map_view.scale_bar.geometry()
    for widget in (map_view.coords_label, map_view.summary_label, map_view.layers_button):
        assert not widget.geometry().intersects(bar), (width, widget.objectName())
    assert map_view.layers_button.geometry().right() <= map_view.width()
    assert map_view.minimumSizeHint().width() <= 280


def test_telemetry_becomes_markers(map_view: MapView) -> None:
    store = map_view.vehicles
    store.apply_telemetry(
        Telemetry(
            positions=[
                fix("m1", 120.15, 30.27, speed_kmh=50.0, heading_deg=90.0),
                fix("m2", 120.16, 30.28, speed_kmh=20.0, heading_deg=10.0),
                fix("s1", 120.17, 30.26),
                fix("a1", 120.14, 30.25, alarms=["emergency"], heading_deg=180.0),
                fix("o1", 120.13, 30.29, at=now() - dt.timedelta(hours=1), speed_kmh=60.0),
            ]
        )
    )
    map_view.refresh()
    layer = map_view.vehicle_layer
    assert layer.count() == 5
    assert layer.count(VehicleState.MOVING) == 2
    assert layer.count(VehicleState.STOPPED) == 1
    assert layer.count(VehicleState.ALARM) == 1
    assert layer.count(VehicleState.OFFLINE) == 1
    positions = layer.positions()
    assert positions["m1"] == pytest.approx(to_mercator(120.15, 30.27))
    symbols = dict(zip(layer.positions(), layer.sprites.symbol.tolist(), strict=True))
    states = list(VehicleState)
    sectors = HEADING_SECTORS
    assert symbols["m1"] == states.index(VehicleState.MOVING) * sectors + heading_sector(90.0)
    assert symbols["a1"] == states.index(VehicleState.ALARM) * sectors + heading_sector(180.0)
    # an older fix changes nothing; a newer one moves the marker
    store.update([fix("m1", 121.0, 31.0, at=now() - dt.timedelta(seconds=5), speed_kmh=50.0)])
    store.update([fix("m1", 120.151, 30.271, at=now() + dt.timedelta(seconds=1), speed_kmh=50.0)])
    map_view.refresh()
    assert layer.positions()["m1"] == pytest.approx(to_mercator(120.151, 30.271))
    assert layer.count() == 5
    assert "5" in map_view.summary_label.text()


def test_one_item_per_class_not_per_point(map_view: MapView) -> None:
    rng = np.random.default_rng(3)
    map_view.vehicles.update(
        fix(f"v{i}", 120.15 + rng.normal(0, 0.02), 30.27 + rng.normal(0, 0.02), speed_kmh=30.0,
            heading_deg=float(rng.uniform(0, 360)))
        for i in range(500)
    )  # fmt: skip
    items_before = len(map_view.canvas.scene().items())
    map_view.refresh()
    assert map_view.vehicle_layer.count() == 500
    assert len(map_view.canvas.scene().items()) - items_before < 250, "plates only, no items"


def test_plates_show_when_zoomed_in(map_view: MapView) -> None:
    map_view.vehicles.update([fix("13800000001", *HANGZHOU, speed_kmh=30.0)])
    map_view.vehicles.set_labels({"13800000001": "浙A·12345"})
    map_view.center_on(*HANGZHOU, span_m=200_000)
    map_view.refresh()
    assert map_view.labeller.label_texts("vehicle") == []
    map_view.center_on(*HANGZHOU, span_m=2_000)
    assert map_view.labeller.label_texts("vehicle") == ["浙A·12345"]
    map_view.set_layer_visible(LayerKey.VEHICLES, False)
    assert map_view.labeller.label_texts("vehicle") == []


def test_clicking_a_vehicle_emits_its_id(map_view: MapView, qtbot: QtBot) -> None:
    map_view.vehicles.update([fix("13800000001", *HANGZHOU, speed_kmh=40.0, heading_deg=45.0),
                              fix("13800000002", 120.18, 30.29)])  # fmt: skip
    map_view.refresh()
    with qtbot.waitSignal(map_view.vehicle_clicked, timeout=2000) as blocker:
        QTest.mouseClick(
            map_view.canvas.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            viewport_point(map_view, *HANGZHOU),
        )
    assert blocker.args == ["13800000001"]


def test_alarms_layer_highlights_unacknowledged(
    map_view: MapView, alarms: AlarmStore, qtbot: QtBot
) -> None:
    new = make_alarm(1, level=AlarmLevel.RED, lat=30.27, lon=120.15)
    taken = make_alarm(
        2, state=AlarmState.ACKNOWLEDGED, level=AlarmLevel.ORANGE, lat=30.28, lon=120.16
    )
    closed = make_alarm(3, state=AlarmState.CLOSED, lat=30.26, lon=120.14)
    nowhere = make_alarm(4)
    alarms.apply_snapshot(make_snapshot(10, new, taken, closed, nowhere))
    map_view.refresh()
    layer = map_view.alarm_layer
    assert layer.unacknowledged_count == 1
    assert layer.count() == 2
    size = layer.unacknowledged.opts["size"]
    layer.pulse()
    assert layer.unacknowledged.opts["size"] != size
    assert layer.unacknowledged.opts["size"] > layer.by_level[AlarmLevel.ORANGE].opts["size"]
    with qtbot.waitSignal(map_view.alarm_clicked, timeout=2000) as blocker:
        QTest.mouseClick(
            map_view.canvas.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            viewport_point(map_view, 120.15, 30.27),
        )
    assert blocker.args == [1]
    alarms.upsert(evolve(new, state=AlarmState.ACKNOWLEDGED))
    map_view.refresh()
    assert layer.unacknowledged_count == 0
    assert layer.count() == 2


def test_layer_toggles(map_view: MapView) -> None:
    map_view.vehicles.update([fix("a", *HANGZHOU)])
    map_view.refresh()
    for key in (LayerKey.VEHICLES, LayerKey.ALARMS, LayerKey.PROVINCES, LayerKey.HAZARDS):
        layer = map_view.layers[key]
        assert layer.container.isVisible()
        map_view.layer_actions[key].trigger()
        assert not layer.container.isVisible()
        assert not map_view.layer_visible(key)
        map_view.set_layer_visible(key, True)
        assert layer.container.isVisible()
        assert map_view.layer_actions[key].isChecked()


def test_basemap_layers_follow_the_zoom(map_view: MapView) -> None:
    layers = map_view.basemap_layers
    map_view.zoom_to_extent(73.5, 17.5, 135.1, 53.6)
    assert layers[LayerKey.COUNTRIES].labels_visible
    assert layers[LayerKey.PROVINCES].visible
    assert not layers[LayerKey.CITIES].visible, "city outlines only when closer"
    map_view.center_on(*HANGZHOU, span_m=300_000)
    assert layers[LayerKey.CITIES].visible
    assert layers[LayerKey.CITIES].labels_visible
    assert not layers[LayerKey.COUNTRIES].labels_visible


def test_registry_slots_are_wired(map_view: MapView, qtbot: QtBot) -> None:
    map_view.hazards.set_points([MapPoint("h1", *HANGZHOU, "某化工厂储罐区")])
    map_view.geofences.set_shapes(
        [MapShape("g1", ((120.1, 30.2), (120.2, 30.2), (120.2, 30.3)), label="禁行区")]
    )
    assert map_view.hazards.count() == 1
    assert map_view.geofences.count() == 1
    assert map_view.teams.count() == 0
    assert map_view.cameras.count() == 0
    assert map_view.jurisdictions.count() == 0
    with qtbot.waitSignal(map_view.point_clicked, timeout=2000) as blocker:
        QTest.mouseClick(
            map_view.canvas.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            viewport_point(map_view, *HANGZHOU),
        )
    assert blocker.args == ["hazards", "h1"]


def distinct_colours(image: QImage) -> int:
    small = image.scaled(120, 80)
    return len({small.pixel(x, y) for x in range(small.width()) for y in range(small.height())})


def test_screenshot_with_basemap_is_not_blank(map_view: MapView) -> None:
    map_view.zoom_to_extent(100.0, 20.0, 125.0, 42.0)
    image = map_view.grab().toImage()
    assert not image.isNull()
    assert distinct_colours(image) > 10


def test_map_without_basemap_draws_only_sea(qtbot: QtBot) -> None:
    view = MapView(basemap=False)
    qtbot.addWidget(view)
    view.resize(300, 200)
    assert view.basemap_layers == {}
    # The viewport alone: the map controls (frame all, legend) float over it.
    canvas = view.canvas.viewport().grab().toImage().scaled(60, 40)
    assert len({canvas.pixel(x, y) for x in range(60) for y in range(40)}) == 1
    view.shutdown()


def open_main_window(qtbot: QtBot, settings: QSettings) -> tuple[ConsoleService, MainWindow]:
    """A console main window (not shown) on an offline service, closed by qtbot."""
    service = ConsoleService()
    main_window = MainWindow(service, AlarmSounder(use_audio=False), settings, username="o")
    qtbot.addWidget(main_window)
    return service, main_window


def test_main_window_feeds_the_map_and_selects_clicked_alarms(
    qtbot: QtBot, settings: QSettings
) -> None:
    service, main_window = open_main_window(qtbot, settings)
    main_window.show()
    map_view = main_window.map_view
    assert main_window.map_dock.widget() is map_view
    service.on_telemetry(Telemetry(positions=[fix("v1", *HANGZHOU, speed_kmh=30.0)]))
    map_view.refresh()
    assert map_view.vehicle_layer.positions() == {"v1": pytest.approx(to_mercator(*HANGZHOU))}
    service.on_event(make_event(1, make_alarm(1, lat=30.27, lon=120.15)))
    service.on_event(make_event(2, make_alarm(2, lat=30.28, lon=120.16)))
    map_view.refresh()
    assert map_view.alarm_layer.unacknowledged_count == 2
    map_view.alarm_clicked.emit(2)
    assert main_window.detail_pane.alarm_id == 2
    main_window.close()


def test_selecting_an_alarm_brings_its_place_and_its_sensor_trend(
    qtbot: QtBot, settings: QSettings, run: Callable[..., Any]
) -> None:
    service, main_window = open_main_window(qtbot, settings)
    main_window.show()
    sensor_alarm = make_alarm(
        7,
        lat=32.3120,
        lon=118.9050,
        source="device",
        source_ref="sensor:ch4-0001",
        alarm_type="sensor_threshold_high",
        level=AlarmLevel.ORANGE,
    )
    service.on_event(make_event(1, sensor_alarm))
    run(call(lambda: main_window.select_alarm(7)))
    centre = main_window.map_view.view_center()
    assert centre == pytest.approx((118.9050, 32.3120), abs=1e-3), "the map shows where it is"
    assert list(main_window.trends_panel.series) == ["ch4-0001"], "and the trend around it"
    main_window.close()


def test_hazard_sources_appear_on_the_map_where_their_sensors_are(
    qtbot: QtBot, settings: QSettings
) -> None:
    from realtime.protocol import SensorView

    _service, main_window = open_main_window(qtbot, settings)
    sensors = [
        SensorView(
            sensor_id="h2s-1",
            kind="h2s",
            unit="ppm",
            lat=32.25,
            lon=118.78,
            hazard_source="A 区储罐区",
            enterprise="江北化工",
        ),
        SensorView(
            sensor_id="h2s-2",
            kind="h2s",
            unit="ppm",
            lat=32.27,
            lon=118.80,
            hazard_source="A 区储罐区",
            enterprise="江北化工",
        ),
        SensorView(
            sensor_id="ch4-1", kind="ch4", unit="%", lat=32.31, lon=118.90, hazard_source="东山煤矿"
        ),
        SensorView(sensor_id="t-1", kind="temperature", unit="°C"),
    ]
    main_window.trends_panel.set_sensors(sensors)
    hazards = main_window.map_view.hazards
    assert hazards.count() == 2, "one symbol per hazard source, sensors without a place skipped"
    main_window.close()


def test_clicking_a_vehicle_on_the_map_shows_it_in_the_vehicle_list(
    qtbot: QtBot, settings: QSettings
) -> None:
    service, main_window = open_main_window(qtbot, settings)
    main_window.show()
    service.on_telemetry(Telemetry(positions=[fix("v1", *HANGZHOU, speed_kmh=30.0)]))
    main_window.map_view.vehicle_clicked.emit("v1")
    assert main_window.vehicle_list.selected_device() == "v1"
    assert not main_window.show_vehicle("nobody")
    main_window.close()


def test_units_appear_on_the_map_where_they_are_based(qtbot: QtBot, settings: QSettings) -> None:
    from realtime.protocol import UnitView

    service, main_window = open_main_window(qtbot, settings)
    service.units_listed.emit(
        [
            UnitView(id=1, code="FIRE-01", name="城东中队", agency="fire", lat=32.24, lon=118.80),
            UnitView(
                id=2, code="MED-01", name="120 一分站", agency="medical", lat=32.25, lon=118.78
            ),
            UnitView(id=3, code="SAF-EXP", name="专家组", agency="safety"),
        ]
    )
    assert main_window.map_view.teams.count() == 2, "units without a base are not drawn"
    main_window.close()


def test_the_officers_jurisdiction_is_outlined(qtbot: QtBot, settings: QSettings) -> None:
    from desktop.map.basemap import region_for_jurisdiction

    _service, main_window = open_main_window(qtbot, settings)
    main_window.show_jurisdiction("3201")
    nanjing = region_for_jurisdiction("3201")
    assert nanjing is not None
    assert nanjing.name.startswith("南京")
    assert main_window.map_view.jurisdictions.count() == len(nanjing.rings)
    main_window.show_jurisdiction("")
    assert main_window.map_view.jurisdictions.count() == 0, "the whole area: no outline"
    assert region_for_jurisdiction("9999") is None
    main_window.close()


def test_the_map_labels_vehicles_with_their_plates(qtbot: QtBot, settings: QSettings) -> None:
    from realtime.protocol import DeviceView

    _service, main_window = open_main_window(qtbot, settings)
    main_window.vehicle_roster.set_devices(
        [DeviceView(id=1, kind="jt808", identity="13900000001", name="槽车", plate="苏A·D8821")]
    )
    assert main_window.vehicle_store.label("13900000001") == "苏A·D8821"
    main_window.close()


def test_a_replayed_track_is_drawn_on_the_map_with_its_current_fix(
    qtbot: QtBot, settings: QSettings
) -> None:
    _service, main_window = open_main_window(qtbot, settings)
    start = now() - dt.timedelta(hours=1)
    positions = [
        fix("v1", 118.78 + n / 1000, 32.25, at=start + dt.timedelta(seconds=10 * n), speed_kmh=40.0)
        for n in range(20)
    ]
    main_window.replay_panel.set_track("v1", positions)
    assert main_window.map_view.track.count() == 1
    assert main_window.map_view.track_marker.count() == 1, "the replay starts at its first fix"
    west, _south, east, _north = main_window.map_view.view_extent()
    assert west < to_mercator(118.78, 32.25)[0] < east, "the map frames the track"
    main_window.replay_panel.set_track("v1", [])
    assert main_window.map_view.track.count() == 0
    main_window.close()
