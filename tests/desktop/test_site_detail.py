"""Clicking a hazard source or a team on the map opens its detail (desktop.sites and
desktop.site_detail), with live values, open alarms, trends and centring."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from desktop.map.layers import LayerKey
from desktop.map.projection import to_mercator
from desktop.map.view import MapView
from desktop.service import ConsoleService
from desktop.site_detail import SiteDetailPane
from desktop.sites import (
    HazardSource,
    LatestReadings,
    hazard_source_alarms,
    hazard_sources,
    reached_threshold,
    sensor_statuses,
    unit_alarms,
)
from desktop.sounder import AlarmSounder
from realtime.protocol import ReadingView, SensorView, Telemetry, ThresholdView, UnitView
from realtime.states import AlarmLevel, AlarmState
from tests.desktop.conftest import call, ignore_offscreen_quirks
from tests.desktop.factories import T0, make_alarm, make_dispatch, make_event

pytestmark = [ignore_offscreen_quirks]

TANK_FARM = "A 区储罐区"
TANK_FARM_AT = (118.78, 32.25)
"""Where both tank-farm sensors stand (lon, lat): the map symbol sits exactly there."""
TEAM_BASE = (118.82, 32.24)


def h2s_sensor(sensor_id: str, **fields: Any) -> SensorView:
    values: dict[str, Any] = {
        "kind": "h2s",
        "unit": "ppm",
        "lon": TANK_FARM_AT[0],
        "lat": TANK_FARM_AT[1],
        "hazard_source": TANK_FARM,
        "enterprise": "江北化工",
        "place": "化工园区 A 区 3 号储罐",
        "poll_cycle_seconds": 5.0,
        "thresholds": [
            ThresholdView(level=AlarmLevel.YELLOW, direction="high", value=10.0, restore=8.0),
            ThresholdView(level=AlarmLevel.RED, direction="high", value=20.0, restore=15.0),
        ],
    }
    values.update(fields)
    return SensorView(sensor_id=sensor_id, **values)


SENSORS = [
    h2s_sensor("h2s-1", name="3 号储罐 硫化氢 #1"),
    h2s_sensor("h2s-2", name="3 号储罐 硫化氢 #2"),
    SensorView(
        sensor_id="ch4-1", kind="ch4", unit="%", lat=32.31, lon=118.90, hazard_source="东山煤矿"
    ),
    SensorView(sensor_id="t-1", kind="temperature", unit="°C"),
]
TEAM = UnitView(
    id=1,
    code="FIRE-01",
    name="城东中队",
    agency="fire",
    jurisdiction="320102",
    lon=TEAM_BASE[0],
    lat=TEAM_BASE[1],
)


def tank_farm() -> HazardSource:
    return hazard_sources(SENSORS)[TANK_FARM]


def shown_source(pane: SiteDetailPane) -> HazardSource | None:
    # A call, not the property: mypy would keep the property narrowed across clicks.
    return pane.hazard_source


def reading(sensor: str, value: float, at: dt.datetime, unit: str = "ppm") -> ReadingView:
    return ReadingView(device="modbus-1", sensor=sensor, at=at, value=value, unit=unit)


def sensor_alarm(alarm_id: int, sensor: str, **fields: Any) -> Any:
    fields.setdefault("level", AlarmLevel.ORANGE)
    return make_alarm(
        alarm_id,
        source="device",
        source_ref=f"sensor:{sensor}",
        alarm_type="sensor_threshold_high",
        **fields,
    )


# ---------------------------------------------------------------------- plain state


def test_hazard_sources_group_sensors_with_a_place() -> None:
    sources = hazard_sources(SENSORS)
    assert list(sources) == [TANK_FARM, "东山煤矿"], "sensors without a source or place skipped"
    tank_farm = sources[TANK_FARM]
    assert tank_farm.enterprise == "江北化工"
    assert tank_farm.places == ("化工园区 A 区 3 号储罐",), "each place once"
    assert (tank_farm.lon, tank_farm.lat) == pytest.approx(TANK_FARM_AT)
    assert tank_farm.sensor_ids == {"h2s-1", "h2s-2"}


def test_latest_readings_keep_the_newest() -> None:
    readings = LatestReadings()
    readings.apply_telemetry(Telemetry(readings=[reading("h2s-1", 3.0, T0)]))
    readings.apply_telemetry(
        Telemetry(readings=[reading("h2s-1", 1.0, T0 - dt.timedelta(seconds=5))])
    )
    assert readings.get("h2s-1") == reading("h2s-1", 3.0, T0), "a late, older one does not win"
    assert readings.get("nobody") is None
    assert len(readings) == 1


def test_reached_threshold_takes_the_most_severe() -> None:
    sensor = SENSORS[0]
    assert reached_threshold(sensor, 5.0) is None
    assert reached_threshold(sensor, 12.0) is AlarmLevel.YELLOW
    assert reached_threshold(sensor, 25.0) is AlarmLevel.RED
    low = SensorView(
        sensor_id="o2",
        kind="o2",
        unit="%",
        thresholds=[
            ThresholdView(level=AlarmLevel.ORANGE, direction="low", value=19.5, restore=20.0)
        ],
    )
    assert reached_threshold(low, 18.0) is AlarmLevel.ORANGE
    assert reached_threshold(low, 20.9) is None


def test_sensor_statuses_combine_readings_thresholds_and_alarms() -> None:
    source = hazard_sources(SENSORS)[TANK_FARM]
    readings = LatestReadings()
    readings.apply_telemetry(Telemetry(readings=[reading("h2s-1", 12.5, T0)]))
    alarms = [
        sensor_alarm(1, "h2s-1", level=AlarmLevel.YELLOW),
        sensor_alarm(2, "h2s-1", level=AlarmLevel.RED),
        sensor_alarm(3, "h2s-1", state=AlarmState.CLOSED),
        sensor_alarm(4, "ch4-1"),
    ]
    now = T0 + dt.timedelta(seconds=7)
    first, second = sensor_statuses(source, readings, alarms, now)
    assert first.sensor.sensor_id == "h2s-1"
    assert first.age == dt.timedelta(seconds=7)
    assert first.threshold_level is AlarmLevel.YELLOW
    assert first.alarm == alarms[1], "the most severe open alarm"
    assert not first.silent
    assert (second.reading, second.alarm, second.silent) == (None, None, True)
    assert [alarm.id for alarm in hazard_source_alarms(source, alarms)] == [2, 1]


def test_unit_alarms_are_the_open_ones_it_was_sent_to() -> None:
    alarms = [
        make_alarm(1, state=AlarmState.DISPATCHED, dispatches=[make_dispatch(1, "城东中队")]),
        make_alarm(2, state=AlarmState.CLOSED, dispatches=[make_dispatch(1, "城东中队")]),
        make_alarm(3, state=AlarmState.DISPATCHED, dispatches=[make_dispatch(2, "城西中队")]),
        make_alarm(
            4,
            level=AlarmLevel.RED,
            state=AlarmState.HANDLING,
            dispatches=[make_dispatch(2, "城西中队"), make_dispatch(1, "城东中队")],
        ),
    ]
    assert [alarm.id for alarm in unit_alarms(TEAM, alarms)] == [4, 1]


# ---------------------------------------------------------------------- the console


@pytest.fixture
def main_window(qtbot: QtBot, settings: QSettings) -> Iterator[tuple[MainWindow, ConsoleService]]:
    service = ConsoleService()
    window = MainWindow(service, AlarmSounder(use_audio=False), settings, username="o")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.trends_panel.set_sensors(SENSORS)
    service.units_listed.emit([TEAM, UnitView(id=2, code="MED-01", name="120", agency="medical")])
    yield window, service
    window.close()


def viewport_point(view: MapView, lon: float, lat: float) -> QPoint:
    scene = view.view_box.mapViewToScene(QPointF(*to_mercator(lon, lat)))
    point: QPoint = view.canvas.mapFromScene(scene)
    return point


def click_map(view: MapView, lon: float, lat: float) -> None:
    """Click the real map where (lon, lat) is drawn, after centring there."""
    view.center_on(lon, lat, span_m=20_000)
    QTest.mouseClick(
        view.canvas.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        viewport_point(view, lon, lat),
    )


@pytest.mark.gui
def test_clicking_a_hazard_source_opens_its_detail_with_its_sensors(
    main_window: tuple[MainWindow, ConsoleService], run: Callable[..., Any]
) -> None:
    window, service = main_window
    now = dt.datetime.now(dt.UTC)
    service.on_telemetry(Telemetry(readings=[reading("h2s-1", 12.5, now)]))
    service.on_event(make_event(1, sensor_alarm(7, "h2s-1", title="硫化氢超限")))
    service.on_event(make_event(2, make_alarm(8, title="别处的火警")))
    pane = window.site_detail
    assert shown_source(pane) is None

    run(call(lambda: click_map(window.map_view, *TANK_FARM_AT)))

    assert shown_source(pane) == tank_farm()
    assert window.site_detail_dock.isVisible()
    assert pane.pages.currentWidget() is pane.hazard_page
    assert pane.enterprise_label.text() == "江北化工"
    assert pane.place_label.text() == "化工园区 A 区 3 号储罐"
    assert pane.sensor_table.rowCount() == 2
    assert pane.sensor_cell(0, 0) == "3 号储罐 硫化氢 #1"
    assert pane.sensor_cell(0, 2) == "12.5 ppm"
    assert pane.sensor_cell(0, 3).endswith("s"), "the reading's age"
    assert "No. 7" in pane.sensor_cell(0, 4), "the sensor's open alarm"
    assert pane.sensor_cell(1, 2) == "–", "no reading yet"
    assert pane.listed_alarm_ids() == [7], "only the alarms of this hazard source"

    # Live values follow at the console's clock tick.
    service.on_telemetry(Telemetry(readings=[reading("h2s-2", 21.0, dt.datetime.now(dt.UTC))]))
    window._tick()
    assert pane.sensor_cell(1, 2) == "21 ppm"
    assert pane.sensor_cell(1, 4) == "Red threshold reached"

    # A new alarm of one of its sensors shows up without another click.
    service.on_event(make_event(3, sensor_alarm(9, "h2s-2", level=AlarmLevel.RED)))
    assert pane.listed_alarm_ids() == [9, 7]

    # Picking an alarm there selects it in the queue.
    item = pane.hazard_alarms_list.item(1)
    run(call(lambda: pane.hazard_alarms_list.itemClicked.emit(item)))
    assert window.detail_pane.alarm_id == 7


@pytest.mark.gui
def test_the_trends_button_shows_the_hazard_sources_sensors(
    main_window: tuple[MainWindow, ConsoleService], run: Callable[..., Any]
) -> None:
    window, _service = main_window
    assert window.show_hazard_source(TANK_FARM)
    window.trends_panel.live_check.setChecked(False)
    run(call(window.site_detail.trends_button.click))
    assert sorted(window.trends_panel.series) == ["h2s-1", "h2s-2"]
    assert window.trends_dock.isVisible(), "the trends tab is brought to the front"
    assert window.trends_panel.live_check.isChecked(), "following the live values"


@pytest.mark.gui
def test_clicking_a_team_opens_its_detail_and_centres_the_map(
    main_window: tuple[MainWindow, ConsoleService], run: Callable[..., Any]
) -> None:
    window, service = main_window
    service.on_event(
        make_event(
            1,
            make_alarm(
                5,
                state=AlarmState.DISPATCHED,
                title="储罐泄漏",
                dispatches=[make_dispatch(1, "城东中队")],
            ),
        )
    )
    service.on_event(make_event(2, make_alarm(6, dispatches=[make_dispatch(2, "120")])))
    pane = window.site_detail

    run(call(lambda: click_map(window.map_view, *TEAM_BASE)))

    assert pane.unit == TEAM
    assert pane.pages.currentWidget() is pane.unit_page
    assert "城东中队" in pane.header_label.text()
    assert pane.unit_code_label.text() == "FIRE-01"
    assert pane.agency_label.text() == "Fire and rescue"
    assert "320102" in pane.jurisdiction_label.text()
    assert pane.base_label.text() == "32.240000, 118.820000"
    assert pane.listed_alarm_ids() == [5]

    window.map_view.center_on(120.0, 30.0, span_m=50_000)
    run(call(pane.centre_button.click))
    assert window.map_view.view_center() == pytest.approx(TEAM_BASE, abs=1e-4)
    west, _south, east, _north = window.map_view.view_extent()
    assert east - west == pytest.approx(20_000, rel=0.02), "zoomed in to a town's width"


@pytest.mark.gui
def test_the_detail_closes_and_reopens_and_ignores_unknown_ids(
    main_window: tuple[MainWindow, ConsoleService], run: Callable[..., Any]
) -> None:
    window, _service = main_window
    dock, pane = window.site_detail_dock, window.site_detail
    assert window.show_unit("FIRE-01")
    dock.close()
    assert not dock.isVisible()

    run(call(lambda: click_map(window.map_view, *TANK_FARM_AT)))
    assert dock.isVisible(), "a click opens the closed detail again"
    assert shown_source(pane) == tank_farm()

    window.map_view.point_clicked.emit(str(LayerKey.HAZARDS), "no such place")
    window.map_view.point_clicked.emit(str(LayerKey.TEAMS), "NO-SUCH-TEAM")
    assert not window.show_unit("NO-SUCH-TEAM")
    assert shown_source(pane) == tank_farm(), "unchanged"

    # A registry reload without the shown source empties the pane rather than going stale.
    window.trends_panel.set_sensors(SENSORS[2:])
    assert shown_source(pane) is None
    assert pane.pages.currentWidget() is pane.empty_page
    assert pane.listed_alarm_ids() == []
