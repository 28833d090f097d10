"""The trends dock: live points, threshold bands, alarm marks, history, export."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from backend.storage.models import ReadingRecord
from desktop.service import ConsoleService
from desktop.state import AlarmStore
from desktop.trends.panel import TrendsPanel
from desktop.trends.store import epoch
from realtime.client import CommandError, ConnectionState
from realtime.protocol import (
    Command,
    ErrorCode,
    GetSeries,
    ListSensors,
    ReadingView,
    ResultData,
    SensorsResult,
    SensorView,
    SeriesPoint,
    SeriesResult,
    Telemetry,
    ThresholdView,
)
from realtime.states import AlarmLevel
from tests.desktop.conftest import wait_until
from tests.desktop.factories import evolve, make_alarm

pytestmark = pytest.mark.gui

Run = Callable[..., Any]
NOW = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
CH4 = SensorView(
    sensor_id="ch4-0001",
    kind="ch4",
    unit="%",
    name="工作面 甲烷",
    hazard_source="东山煤矿",
    enterprise="东山矿业",
    thresholds=[
        ThresholdView(level=AlarmLevel.RED, direction="high", value=1.5, restore=1.2),
        ThresholdView(level=AlarmLevel.YELLOW, direction="high", value=0.8, restore=0.7),
    ],
)
CO = SensorView(sensor_id="co-0002", kind="co", unit="ppm", name="回风巷 一氧化碳")


class AnsweringClient:
    """A client whose answers come from ``answer(command)``; records what it was asked."""

    def __init__(self, service: ConsoleService, answer: Callable[[Command], ResultData]) -> None:
        self.service = service
        self.answer = answer
        self.commands: list[Command] = []
        self.closed = asyncio.Event()

    @property
    def queued_commands(self) -> int:
        return 0

    async def run(self) -> None:
        self.service.on_state(ConnectionState.LIVE, "")
        await self.closed.wait()

    async def close(self) -> None:
        self.closed.set()

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        self.commands.append(command)
        await asyncio.sleep(0)
        return self.answer(command)


def answer(command: Command) -> ResultData:
    if isinstance(command, ListSensors):
        return SensorsResult(sensors=[CH4, CO])
    if isinstance(command, GetSeries):
        points = [
            SeriesPoint(at=command.start + dt.timedelta(minutes=i), value=0.5) for i in range(3)
        ]
        return SeriesResult(
            sensor=command.sensor, unit="%", source="raw", downsampled=False, points=points
        )
    raise CommandError(ErrorCode.BAD_MESSAGE, "unexpected")


@pytest.fixture
def answering_service(qt_loop: qasync.QEventLoop) -> Iterator[tuple[ConsoleService, list[Any]]]:
    clients: list[AnsweringClient] = []

    def factory(_url: str, listener: ConsoleService, *_args: Any) -> AnsweringClient:
        client = AnsweringClient(listener, answer)
        clients.append(client)
        return client

    service = ConsoleService(client_factory=factory, telemetry_topics=())
    yield service, clients
    qt_loop.run_until_complete(service.stop())


def make_panel(qtbot: QtBot, service: ConsoleService, alarms: AlarmStore) -> TrendsPanel:
    panel = TrendsPanel(service, alarms, clock=lambda: NOW)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    return panel


def test_live_points_threshold_bands_alarm_marks_and_export(
    qtbot: QtBot,
    run: Run,
    answering_service: tuple[ConsoleService, list[AnsweringClient]],
    tmp_path: Path,
) -> None:
    service, clients = answering_service
    alarms = AlarmStore()
    panel = make_panel(qtbot, service, alarms)

    async def scenario() -> None:
        service.start("ws://fake", "officer1", "pw")
        panel.load_sensors()
        await wait_until(lambda: len(panel.sensors) == 2, what="sensor list")
        assert panel.sensor_tree.topLevelItemCount() == 2
        panel.search_edit.setText("甲烷")
        assert panel.visible_sensor_ids() == ["ch4-0001"]
        panel.add_sensor("ch4-0001")
        panel.add_sensor("co-0002")
        await wait_until(
            lambda: sum(isinstance(c, GetSeries) for c in clients[0].commands) == 2,
            what="history fetches",
        )

    run(scenario())
    assert set(panel.plots) == {"%", "ppm"}  # different units: two stacked plots
    ch4 = panel.series["ch4-0001"]
    # Two thresholds: a band (value..restore) and a dashed line each.
    assert len(ch4.threshold_items) == 4
    panel.apply_telemetry(
        Telemetry(
            readings=[
                ReadingView(
                    device="d",
                    sensor="ch4-0001",
                    at=NOW - dt.timedelta(seconds=20),
                    value=1.7,
                    unit="%",
                ),
                ReadingView(device="d", sensor="unknown", at=NOW, value=9.0),
            ]
        )
    )
    panel.redraw()
    x, y = ch4.curve.getData()
    assert y[-1] == 1.7
    assert x[-1] == epoch(NOW - dt.timedelta(seconds=20))
    age_item = panel.age_table.item(0, 3)
    assert age_item is not None
    assert "20" in age_item.text()
    alarm = evolve(
        make_alarm(7, alarm_type="sensor_high", level=AlarmLevel.RED),
        source_ref="sensor:ch4-0001",
        first_seen=NOW - dt.timedelta(minutes=2),
    )
    alarms.upsert(alarm)
    assert [line.value() for line in ch4.alarm_items] == [epoch(alarm.first_seen)]

    png = tmp_path / "trend.png"
    assert panel.export_png(png)
    assert png.stat().st_size > 1000
    csv_path = tmp_path / "trend.csv"
    rows = panel.export_csv(csv_path)
    with csv_path.open(encoding="utf-8-sig", newline="") as stream:
        lines = list(csv.DictReader(stream))
    assert rows == len(lines) > 0
    assert lines[-1]["sensor_id"] in {"ch4-0001", "co-0002"}
    assert any(line["value"] == "1.7" for line in lines)
    panel.shutdown()


def test_show_sensor_for_alarm_opens_thirty_minutes_around_it(
    qtbot: QtBot, run: Run, answering_service: tuple[ConsoleService, list[AnsweringClient]]
) -> None:
    service, clients = answering_service
    panel = make_panel(qtbot, service, AlarmStore())
    vehicle_alarm = evolve(make_alarm(1), source_ref="jt808:013800000001")
    assert not panel.show_sensor_for_alarm(vehicle_alarm)
    at = NOW - dt.timedelta(hours=3)
    alarm = evolve(
        make_alarm(2, alarm_type="sensor_high"), source_ref="sensor:co-0002", first_seen=at
    )

    async def scenario() -> None:
        service.start("ws://fake", "officer1", "pw")
        assert panel.show_sensor_for_alarm(alarm)
        await wait_until(
            lambda: any(isinstance(c, GetSeries) for c in clients[0].commands), what="fetch"
        )

    run(scenario())
    assert not panel.live_check.isChecked()
    start, end = panel.x_range()
    assert start == pytest.approx(epoch(at - dt.timedelta(minutes=30)))
    assert end == pytest.approx(epoch(at + dt.timedelta(minutes=30)))
    fetch = next(c for c in clients[0].commands if isinstance(c, GetSeries))
    assert fetch.start <= at - dt.timedelta(minutes=30)
    panel.shutdown()


def test_history_loads_for_a_scrolled_back_range_from_a_real_server(qtbot: QtBot, run: Run) -> None:
    real_now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    old = real_now - dt.timedelta(days=2)
    with ServerThread(seed_sensors=True) as server:

        async def insert() -> None:
            async with server.server.sessions.begin() as session:
                session.add_all(
                    ReadingRecord(
                        device="modbus-1",
                        sensor="ch4-0001",
                        at=old + dt.timedelta(minutes=i),
                        value=0.1 * i,
                        unit="%",
                    )
                    for i in range(30)
                )

        server.call(insert())
        service = ConsoleService(telemetry_topics=())
        panel = TrendsPanel(service, service.store)
        qtbot.addWidget(panel)
        panel.resize(900, 500)

        async def scenario() -> None:
            service.start(server.console_url, "officer1", "pw-officer1")
            await wait_until(lambda: service.state is ConnectionState.LIVE, what="live")
            panel.load_sensors()
            await wait_until(lambda: "ch4-0001" in panel.sensors, what="sensors")
            panel.add_sensor("ch4-0001")
            await asyncio.sleep(0.5)
            assert len(panel.series["ch4-0001"].cache) == 0  # nothing in the live window
            panel.set_time_range(old - dt.timedelta(minutes=10), old + dt.timedelta(minutes=40))
            await wait_until(lambda: len(panel.series["ch4-0001"].cache) == 30, what="history")
            fetched = len(panel.series["ch4-0001"].cache.fetched)
            # Zooming inside what was fetched asks for nothing more (it is cached).
            panel.set_time_range(old, old + dt.timedelta(minutes=20))
            await asyncio.sleep(0.6)
            assert len(panel.series["ch4-0001"].cache.fetched) == fetched
            await service.stop()

        try:
            run(scenario(), timeout=30)
        finally:
            panel.shutdown()
    series = panel.series["ch4-0001"]
    panel.redraw()
    _x, y = series.curve.getData()
    assert len(y) == 30
    assert series.sensor.thresholds  # the registry's limits came with the sensor list
