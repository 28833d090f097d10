"""The vehicle list (filter, search, ages, follow, texts) and the track replay dock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop import texts
from desktop.i18n import install_translators
from desktop.service import ConsoleService
from desktop.vehicles.list_panel import VehicleColumn, VehicleListPanel, VehicleTableModel
from desktop.vehicles.replay import TrackReplayPanel
from desktop.vehicles.roster import StateFilter, VehicleRoster
from realtime.client import CommandError
from realtime.protocol import (
    TRACK_COORDINATE_SCALE,
    Command,
    DevicesResult,
    DeviceView,
    ErrorCode,
    Event,
    GetTrack,
    ListDevices,
    PositionView,
    Presence,
    ResultData,
    SendText,
    TextSent,
    TrackAlarms,
    TrackColumns,
    TrackForm,
    TrackResult,
)
from tests.desktop.conftest import ignore_offscreen_quirks, wait_until
from tests.desktop.test_trends_panel import AnsweringClient

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]
T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
DEVICES = [
    DeviceView(
        id=1,
        kind="jt808",
        identity="013800000001",
        name="危化 1",
        plate="浙A10001",
        owner="江北化工",
        online=True,
    ),
    DeviceView(
        id=2,
        kind="jt808",
        identity="013800000002",
        name="危化 2",
        plate="浙A10002",
        owner="东山物流",
        online=False,
    ),
]
TRACK = [
    PositionView(
        device="013800000001",
        at=T0 + dt.timedelta(seconds=10 * i),
        lat=30 + i * 1e-3,
        lon=120.0,
        speed_kmh=90.0 if i in (2, 3) else 40.0,
    )
    for i in range(10)
]


def track_columns(device: str, positions: list[PositionView]) -> TrackColumns:
    """What a server sends for ``positions`` in the column form."""
    t0 = positions[0].at
    return TrackColumns(
        device=device,
        t0=t0,
        t_ms=[(p.at - t0) // dt.timedelta(milliseconds=1) for p in positions],
        lat_e7=[round(p.lat * TRACK_COORDINATE_SCALE) for p in positions],
        lon_e7=[round(p.lon * TRACK_COORDINATE_SCALE) for p in positions],
        speed_kmh=[p.speed_kmh for p in positions],
        heading_deg=[p.heading_deg for p in positions],
        alarms=[TrackAlarms(i, p.alarms) for i, p in enumerate(positions) if p.alarms],
        total=len(positions),
    )


def answer(command: Command) -> ResultData:
    if isinstance(command, ListDevices):
        return DevicesResult(devices=DEVICES)
    if isinstance(command, SendText):
        if command.device == "013800000002":
            raise CommandError(ErrorCode.DEVICE_OFFLINE, "terminal is not connected")
        return TextSent(device=command.device, acknowledged=True)
    if isinstance(command, GetTrack):
        if command.form is TrackForm.COLUMNS:
            return track_columns(command.device, TRACK)
        return TrackResult(device=command.device, positions=TRACK, truncated=False)
    raise CommandError(ErrorCode.BAD_MESSAGE, "unexpected")


@pytest.fixture
def service(qt_loop: qasync.QEventLoop) -> Iterator[ConsoleService]:
    def factory(_url: str, listener: ConsoleService, *_args: Any) -> AnsweringClient:
        return AnsweringClient(listener, answer)

    console = ConsoleService(client_factory=factory, telemetry_topics=())
    yield console
    qt_loop.run_until_complete(console.stop())


def test_vehicle_list_filters_searches_ages_follows_and_texts(
    qtbot: QtBot, run: Run, service: ConsoleService
) -> None:
    now = [T0 + dt.timedelta(seconds=30)]
    roster = VehicleRoster(clock=lambda: now[0])
    panel = VehicleListPanel(service, roster)
    qtbot.addWidget(panel)

    async def load() -> None:
        service.start("ws://fake", "officer1", "pw")
        panel.load_devices()
        await wait_until(lambda: panel.model.rowCount() == 2, what="devices")

    run(load())
    roster.update_positions(
        [PositionView(device="013800000001", at=T0, lat=30, lon=120, speed_kmh=50)]
    )
    model = panel.model
    # The list is rebuilt at most every REFRESH_MIN_MS while positions stream in.
    qtbot.waitUntil(lambda: model.data(model.index(0, VehicleColumn.AGE)) == "30 s")
    now[0] += dt.timedelta(seconds=60)
    model.refresh()  # the one-second timer does this
    assert model.data(model.index(0, VehicleColumn.AGE)) == "1 min 30 s"

    panel.search_edit.setText("东山")
    assert model.devices() == ["013800000002"]
    with qtbot.waitSignal(panel.follow_requested) as found:
        QTest.keyClick(panel.search_edit, Qt.Key.Key_Return)  # Enter follows what is found
    assert found.args == ["013800000002"]
    assert panel.selected_device() == "013800000002"
    panel.search_edit.setText("no such plate")
    assert not panel.follow_first_found()
    panel.search_edit.setText("")
    panel.state_combo.setCurrentIndex(panel.state_combo.findData("moving"))
    assert model.devices() == ["013800000001"]
    panel.state_combo.setCurrentIndex(panel.state_combo.findData("offline"))
    assert model.devices() == ["013800000002"]
    panel.state_combo.setCurrentIndex(panel.state_combo.findData("all"))

    assert panel.select_device("013800000001")
    with qtbot.waitSignal(panel.follow_requested) as blocker:
        panel.follow_button.click()
    assert blocker.args == ["013800000001"]

    async def texts() -> None:
        panel.send_text("013800000001", "请立即停车检查")
        await wait_until(
            lambda: (
                "浙A10001" in panel.status_label.text() and "…" not in panel.status_label.text()
            ),
            what="ack",
        )
        assert "acknowledged the text" in panel.status_label.text()
        panel.send_text("013800000002", "hello")
        await wait_until(
            lambda: (
                "浙A10002" in panel.status_label.text() and "…" not in panel.status_label.text()
            ),
            what="error",
        )
        assert "terminal is not connected" in panel.status_label.text()

    run(texts())
    assert panel.select_device("013800000001")
    dialog = panel.open_send_dialog()
    assert dialog is not None
    dialog.reject()
    panel.shutdown()


def test_replay_plays_pauses_steps_and_stops_at_the_end(
    qtbot: QtBot, run: Run, service: ConsoleService, tmp_path: Path
) -> None:
    roster = VehicleRoster(clock=lambda: T0)
    roster.set_devices(DEVICES)
    panel = TrackReplayPanel(service, roster)
    qtbot.addWidget(panel)
    panel.open_vehicle("013800000001")
    assert panel.selected_device() == "013800000001"

    async def load() -> None:
        service.start("ws://fake", "officer1", "pw")
        panel.set_range(T0, T0 + dt.timedelta(hours=1))
        panel.load_selected()
        await wait_until(lambda: len(panel.positions) == 10, what="track")

    run(load())
    assert panel.analysis is not None
    assert len(panel.analysis.overspeed) == 1
    assert panel.slider.maximum() == 9
    panel.set_replay_speed(64)
    panel.play()
    assert panel.play_button.text() == "Pause"
    panel.advance(0.2)  # 12.8 s of track: the second fix
    assert panel.clock.index == 1
    assert panel.slider.value() == 1
    panel.toggle_play()
    assert not panel.playing
    panel.step(1)
    assert panel.clock.index == 2
    panel.step(-1)
    assert panel.clock.index == 1

    async def play_to_end() -> None:
        panel.play()  # 80 s of track left at 64×: a little over a second
        await wait_until(lambda: not panel.playing, timeout=5, what="end of track")

    run(play_to_end())
    assert panel.clock.index == 9
    assert panel.current_position() == TRACK[-1]
    assert "10/10" in panel.position_label.text()
    panel.export_gpx(tmp_path / "t.gpx")
    panel.export_csv(tmp_path / "t.csv")
    assert (tmp_path / "t.gpx").stat().st_size > 0
    assert len((tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()) == 11
    panel.shutdown()


def test_replay_asks_for_columns_and_falls_back_to_rows_on_an_older_server(
    qtbot: QtBot, run: Run, qt_loop: qasync.QEventLoop
) -> None:
    asked: list[GetTrack] = []

    def older_server(command: Command) -> ResultData:
        assert isinstance(command, GetTrack)
        asked.append(command)
        if command.form is TrackForm.COLUMNS:
            raise CommandError(
                ErrorCode.BAD_MESSAGE, "invalid message: Object contains unknown field `form`"
            )
        return TrackResult(device=command.device, positions=TRACK, truncated=True)

    def factory(_url: str, listener: ConsoleService, *_args: Any) -> AnsweringClient:
        return AnsweringClient(listener, older_server)

    service = ConsoleService(client_factory=factory, telemetry_topics=())
    roster = VehicleRoster(clock=lambda: T0)
    panel = TrackReplayPanel(service, roster)
    qtbot.addWidget(panel)

    async def load() -> None:
        service.start("ws://fake", "officer1", "pw")
        panel.load("013800000001", T0, T0 + dt.timedelta(hours=1))
        await wait_until(lambda: len(panel.positions) == 10, what="track")

    run(load())
    assert [command.form for command in asked] == [TrackForm.COLUMNS, TrackForm.ROWS]
    assert panel.truncated
    assert list(panel.positions) == TRACK
    panel.shutdown()
    qt_loop.run_until_complete(service.stop())


def test_a_stream_of_positions_rebuilds_the_list_a_few_times_not_per_message(
    qtbot: QtBot, service: ConsoleService
) -> None:
    roster = VehicleRoster(clock=lambda: T0 + dt.timedelta(seconds=5))
    panel = VehicleListPanel(service, roster)
    qtbot.addWidget(panel)
    rebuilds: list[int] = []
    original = panel.model.refresh

    def counted() -> None:
        rebuilds.append(1)
        original()

    panel.model.refresh = counted  # type: ignore[method-assign]
    for second in range(50):
        roster.update_positions(
            [
                PositionView(
                    device="013800000001",
                    at=T0 + dt.timedelta(seconds=second / 10),
                    lat=30,
                    lon=120,
                    speed_kmh=float(second),
                )
            ]
        )
    # The first change shows at once; the other 49 wait for one coalesced rebuild.
    assert len(rebuilds) == 1

    def shows_the_last_fix() -> bool:
        row = panel.model.row_at(0)
        return row is not None and row.speed_kmh == 49.0

    qtbot.waitUntil(shows_the_last_fix)
    assert len(rebuilds) <= 3


def test_the_list_says_unknown_with_the_last_heard_time(qapp: QApplication) -> None:
    last_heard = T0 - dt.timedelta(hours=2)
    roster = VehicleRoster(clock=lambda: T0)
    roster.set_devices(
        [
            DeviceView(
                id=1,
                kind="jt808",
                identity="013800000009",
                name="危化 9",
                plate="浙A10009",
                last_seen=last_heard,
                presence=Presence.UNKNOWN,
            )
        ]
    )
    model = VehicleTableModel(roster)
    model.refresh()
    assert model.data(model.index(0, VehicleColumn.STATE)) == "Unknown"
    assert model.data(model.index(0, VehicleColumn.LAST_REPORT)) == texts.format_time(last_heard)
    assert model.data(model.index(0, VehicleColumn.AGE)) == "2 h 00 min"
    installed = install_translators(qapp, "zh_CN")
    try:
        assert installed, "the Chinese translation did not load"
        assert model.data(model.index(0, VehicleColumn.STATE)) == "未知"
    finally:
        for translator in installed:
            QCoreApplication.removeTranslator(translator)
        install_translators(qapp, "en")


def test_the_replay_picker_follows_vehicles_not_positions(
    qtbot: QtBot, service: ConsoleService
) -> None:
    roster = VehicleRoster(clock=lambda: T0)
    roster.set_devices(DEVICES)
    panel = TrackReplayPanel(service, roster)
    qtbot.addWidget(panel)
    combo = panel.vehicle_combo
    offered = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    assert offered == roster.choices()
    assert [device for _, device in offered] == [row.device for row in roster.rows()]
    panel.open_vehicle("013800000001")
    combo.setItemText(0, "marked")  # a rebuild would bring the plate back
    roster.update_positions(
        [PositionView(device="013800000001", at=T0, lat=30.0, lon=120.0, speed_kmh=30.0)]
    )
    assert combo.itemText(0) == "marked", "a position alone does not rebuild the picker"
    roster.update_positions(
        [PositionView(device="013900000077", at=T0, lat=30.1, lon=120.1, speed_kmh=30.0)]
    )
    devices = [combo.itemData(i) for i in range(combo.count())]
    assert "013900000077" in devices, "a vehicle heard for the first time is offered"
    assert panel.selected_device() == "013800000001", "the officer's choice is kept"
    panel.shutdown()


def test_the_unfiltered_list_keeps_its_order_as_vehicles_arrive_and_change(
    qapp: QApplication,
) -> None:
    roster = VehicleRoster(clock=lambda: T0 + dt.timedelta(seconds=5))
    roster.set_devices(DEVICES)
    model = VehicleTableModel(roster)
    model.refresh()
    assert model.devices() == ["013800000001", "013800000002"]
    # A vehicle heard before the registry knows it sorts last ("~"), then by its plate
    # once the registry names it; ages and speeds are read as the view asks for them.
    roster.update_positions(
        [PositionView(device="013800000000", at=T0, lat=30, lon=120, speed_kmh=33.0)]
    )
    model.refresh()
    assert model.devices() == ["013800000001", "013800000002", "013800000000"]
    assert model.data(model.index(2, VehicleColumn.SPEED)) == "33"
    assert model.data(model.index(2, VehicleColumn.AGE)) == "5 s"
    roster.apply_event(
        Event(
            seq=1,
            at=T0,
            kind="device.added",
            actor="admin",
            device=DeviceView(
                id=3, kind="jt808", identity="013800000000", name="", plate="浙A00000"
            ),
        )
    )
    model.refresh()
    assert model.devices() == ["013800000000", "013800000001", "013800000002"]
    assert model.data(model.index(0, VehicleColumn.PLATE)) == "浙A00000"
    # A filter computes every row's state; clearing it goes back to the whole list.
    model.set_filter("浙A1000", StateFilter.ALL)
    assert model.devices() == ["013800000001", "013800000002"]
    model.set_filter("", StateFilter.ALL)
    assert len(model.devices()) == 3
