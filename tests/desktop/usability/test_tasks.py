"""An officer's common tasks, performed on the real console against a real server only
through clicks and keystrokes, counted: a task that needs more steps than its budget (the
figure measured when the scenario was written) fails, so no change adds steps unnoticed.

The figures go to docs/user-guide.md ("操作步数 / Steps per task") through
``python -m tests.desktop.usability.report``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QTabBar, QWidget
from pytestqt.qtbot import QtBot
from websockets.asyncio.client import connect

from backend.server.testing import ServerThread
from desktop.dialogs import DispatchDialog
from desktop.handover import HandoverDialog
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState, basic_auth_header
from realtime.protocol import (
    AlarmResult,
    AlarmView,
    CreateAlarm,
    GetHandover,
    HandoverResult,
    HandoverState,
)
from realtime.states import AlarmLevel, AlarmState
from tests.desktop.conftest import call, wait_until
from tests.desktop.test_console_e2e import console, create_alarm, other_console
from tests.desktop.test_video import PARK, camera, clips, video_quirks
from tests.desktop.usability.steps import Steps

NO_GRAB = r"^This plugin does not support grabbing the keyboard$"
"""Offscreen, an open menu cannot grab the keyboard (a real display lets it)."""

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(*video_quirks.args, NO_GRAB)]

__all__ = ["clips"]  # the fixture of the camera task (short clips made with ffmpeg)

Run = Callable[..., Any]

BUDGETS = {
    "phone_report": (9, 16),
    "acknowledge": (2, 0),
    "dispatch": (2, 0),
    "follow_vehicle": (5, 4),
    "camera": (2, 0),
    "handover": (7, 0),
}
"""Per task: clicks + keys at most, typed characters at most (measured)."""


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


def server_alarm(server: ServerThread, alarm_id: int) -> AlarmView:
    """The alarm as the server's database holds it (not as any console shows it)."""

    async def load() -> AlarmView:
        async with server.server.sessions() as session, session.begin():
            _alarm, view = await server.server.alarms.load_view(session, alarm_id)
            return view

    view: AlarmView = server.call(load())
    return view


def focused(window: QWidget) -> QWidget:
    """Where the keyboard types now (the window itself if nothing has the focus)."""
    return QApplication.focusWidget() or window


def within_budget(steps: Steps) -> None:
    actions, typed = BUDGETS[steps.task]
    assert steps.actions <= actions, f"more clicks and keys than the {actions} measured: {steps}"
    assert steps.typed <= typed, f"more typing than the {typed} characters measured: {steps}"


def dock_tab(window: MainWindow, title: str) -> tuple[QTabBar, int]:
    """The tab of a tabified dock (the officer clicks it to bring the dock forward)."""
    for bar in window.findChildren(QTabBar):
        for index in range(bar.count()):
            if bar.tabText(index) == title and bar.isVisible():
                return bar, index
    raise AssertionError(f"no tab {title}")


def test_take_a_phone_report(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """Ctrl+N, the caller's phone, the type and level from the keyboard, the place, Enter."""
    steps = Steps("phone_report")

    async def scenario() -> None:
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            await call(
                lambda: steps.key(
                    window.queue_view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier,
                    shortcut="Ctrl+N",
                )
            )  # fmt: skip
            dialog = window.entry_dialog
            assert dialog is not None
            await wait_until(dialog.isVisible, what="form")
            steps.click(dialog.caller_phone_edit)
            steps.type(dialog.caller_phone_edit, "13800138000")
            # Tab past the caller's address to the type, then the level: arrows choose.
            for key in (Qt.Key.Key_Tab, Qt.Key.Key_Tab, Qt.Key.Key_Down, Qt.Key.Key_Tab):
                steps.key(focused(dialog), key)
            assert focused(dialog) is dialog.level_combo
            steps.key(focused(dialog), Qt.Key.Key_Up)
            steps.key(focused(dialog), Qt.Key.Key_Tab)
            assert focused(dialog) is dialog.place_edit
            chosen_type = dialog.type_combo.itemData(1)
            steps.type(dialog.place_edit, "化工路8号")
            steps.key(dialog.place_edit, Qt.Key.Key_Return)
            await wait_until(lambda: len(window.queue_alarm_ids()) == 1, what="alarm entered")
            alarm = server_alarm(server, window.queue_alarm_ids()[0])
            assert (alarm.place, alarm.source, alarm.level, alarm.alarm_type) == (
                "化工路8号", "manual", AlarmLevel.ORANGE, chosen_type,
            )  # fmt: skip
            assert alarm.caller_phone == "138****8000", "shown masked, stored whole"

    run(scenario(), timeout=30)
    steps.record("接警录入 / Take a phone report", "console-queue.png")
    within_budget(steps)


def test_acknowledge_the_most_urgent_alarm(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """F4 selects the most urgent unacknowledged alarm, F2 acknowledges it."""
    steps = Steps("acknowledge")

    async def scenario() -> None:
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            async with other_console(server) as other:
                await create_alarm(other, "厂房冒烟", AlarmLevel.YELLOW)
                urgent = await create_alarm(other, "储罐起火", AlarmLevel.RED)
            await wait_until(lambda: len(window.queue_alarm_ids()) == 2, what="both alarms")
            await call(lambda: steps.key(window.queue_view, Qt.Key.Key_F4, shortcut="F4"))
            assert window.queue_view.selected_alarm_id() == urgent
            await call(lambda: steps.key(window.queue_view, Qt.Key.Key_F2, shortcut="F2"))
            await wait_until(
                lambda: server_alarm(server, urgent).state is AlarmState.ACKNOWLEDGED,
                what="acknowledged on the server",
            )
            assert server_alarm(server, urgent).updated_by == "officer1"

    run(scenario(), timeout=30)
    steps.record("确认最紧急警情 / Acknowledge the most urgent alarm", "console-queue.png")
    within_budget(steps)


async def create_placed_alarm(server: ServerThread, title: str) -> int:
    """A red alarm at the park (where the test camera stands), acknowledged by another desk."""
    async with other_console(server) as other:
        result = await other.request(
            CreateAlarm(
                req="", alarm_type="fire", level=AlarmLevel.RED, title=title,
                place="江北化工园 A 区", lat=PARK[0] + 0.001, lon=PARK[1],
            )
        )  # fmt: skip
        assert isinstance(result, AlarmResult)
        return result.alarm.id


def test_dispatch_units_to_an_alarm(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """Right after F2: F3, the recommended units come ticked, Enter."""
    steps = Steps("dispatch")

    async def scenario() -> None:
        alarm_id = await create_placed_alarm(server, "储罐起火")
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            await wait_until(lambda: window.queue_alarm_ids() == [alarm_id], what="alarm")
            window.queue_view.setFocus()
            await call(lambda: steps.key(window.queue_view, Qt.Key.Key_F4, shortcut="F4"))
            unacknowledged = server_alarm(server, alarm_id).version
            await call(lambda: steps.key(window.queue_view, Qt.Key.Key_F2, shortcut="F2"))
            steps.restart()  # F4, F2: acknowledging is the task before
            # F3 at once, before the acknowledgement comes back: the dialog must not then
            # refuse the dispatch as if someone else had changed the alarm.
            await call(lambda: steps.key(window.queue_view, Qt.Key.Key_F3, shortcut="F3"))
            pane = window.detail_pane
            dialog = pane.active_dialog
            assert isinstance(dialog, DispatchDialog)
            assert dialog.expected_version == unacknowledged, "opened before the ack came back"
            await wait_until(lambda: dialog.unit_list.count() > 0, what="units")
            await wait_until(lambda: bool(dialog.selected_unit_ids), what="recommended")
            await wait_until(
                lambda: pane.field_text("state") == "Acknowledged", what="acknowledgement back"
            )
            chosen = set(dialog.selected_unit_ids)
            assert chosen
            await call(lambda: steps.key(focused(dialog), Qt.Key.Key_Return))
            await wait_until(
                lambda: server_alarm(server, alarm_id).state is AlarmState.DISPATCHED,
                what="dispatched on the server",
            )
            assert {d.unit_id for d in server_alarm(server, alarm_id).dispatches} == chosen

    run(scenario(), timeout=30)
    steps.record("派警 / Dispatch units", "console-queue.png")
    within_budget(steps)


async def report_positions(server: ServerThread, device: str, *fixes: tuple[float, float]) -> None:
    """A vehicle's terminal reports where it was, a minute apart (the device port)."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=len(fixes))
    async with connect(
        server.device_url,
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        for number, (lat, lon) in enumerate(fixes):
            at = (start + dt.timedelta(minutes=number)).isoformat()
            position = {"type": "device.position", "ref": f"p{number}", "device": device}
            fix = {"at": at, "lat": lat, "lon": lon, "speed_kmh": 30.0}
            await ws.send(json.dumps(position | fix))
            assert json.loads(await ws.recv())["type"] == "ack"


def test_follow_a_vehicle(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """The Vehicles tab, the end of the plate in its search field, Enter: the map follows.
    Then Replay track…, Load track: the last hour's track is drawn on the map."""
    steps = Steps("follow_vehicle")
    device, lat, lon = "13900000021", 30.2741, 120.1551

    async def scenario() -> None:
        await report_positions(server, device, (lat - 0.01, lon), (lat, lon))
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            roster = window.vehicle_roster
            await wait_until(lambda: roster.position(device) is not None, what="vehicle")
            plate = roster.label(device)
            bar, index = dock_tab(window, window.vehicle_list_dock.windowTitle())
            steps.click(bar, bar.tabRect(index).center())
            panel = window.vehicle_list
            await wait_until(panel.search_edit.isVisible, what="vehicle list")
            steps.click(panel.search_edit)
            steps.type(panel.search_edit, plate[-4:])
            model = panel.table.model()
            await wait_until(lambda: model.rowCount() == 1, what="one vehicle left")
            steps.key(panel.search_edit, Qt.Key.Key_Return)  # follows the vehicle found
            assert panel.selected_device() == device
            assert window.map_view.view_center() == pytest.approx((lon, lat), abs=1e-5)
            steps.click(panel.replay_button)
            replay = window.replay_panel
            await wait_until(replay.load_button.isVisible, what="track replay")
            steps.click(replay.load_button)
            await wait_until(lambda: len(replay.positions) == 2, what="track from the server")
            assert window.map_view.track.count() == 1

    run(scenario(), timeout=30)
    steps.record("跟踪车辆 / Follow a vehicle", "console-queue.png")
    within_budget(steps)


def test_open_the_nearest_camera_of_an_alarm(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run, clips: dict[str, Path]
) -> None:
    """F4 selects the new alarm, Ctrl+Shift+V opens the camera nearest it, which plays."""
    steps = Steps("camera")
    registry = server.server.cameras
    server.call(registry.add(camera(str(clips["long"]), code="CAM-NEAR")))
    far = camera("rtsp://127.0.0.1:9/far", code="CAM-FAR", lat=PARK[0] + 0.01)
    server.call(registry.add(far))

    async def scenario() -> None:
        alarm_id = await create_placed_alarm(server, "储罐区冒烟")
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            directory = window.camera_directory
            await wait_until(lambda: len(directory.cameras) == 2, what="cameras")
            await wait_until(lambda: window.queue_alarm_ids() == [alarm_id], what="alarm")
            window.queue_view.setFocus()
            await call(lambda: steps.key(window.queue_view, Qt.Key.Key_F4, shortcut="F4"))
            await call(
                lambda: steps.key(
                    window.queue_view, Qt.Key.Key_V,
                    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
                    shortcut="Ctrl+Shift+V",
                )
            )  # fmt: skip
            await wait_until(lambda: "CAM-NEAR" in directory.windows, what="video window")
            assert sorted(directory.windows) == ["CAM-NEAR"]
            video = directory.windows["CAM-NEAR"]
            await wait_until(lambda: video.frames_received > 0, what="frames")
            window.close()

    run(scenario(), timeout=60)
    steps.record("打开最近摄像头 / Open the nearest camera", "console-queue.png")
    within_budget(steps)


def test_hand_over_the_shift(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """Outgoing: Shift ▸ Shift handover…, Generate report, Sign and hand over. Incoming (at
    their own console): Shift ▸ Shift handover… (the signed handover opens), Accept the
    shift."""
    steps = Steps("handover")

    async def scenario() -> None:
        await create_placed_alarm(server, "仓库冒烟")
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            steps.menu(window.menuBar(), "handover_action")
            dialog = window.shift_actions.handover_dialog
            assert isinstance(dialog, HandoverDialog)
            await wait_until(dialog.draft_button.isVisible, what="handover dialog")
            steps.click(dialog.draft_button)
            await wait_until(dialog.sign_button.isEnabled, what="report drafted")
            assert dialog.desk.count("open_alarms") == 1
            steps.click(dialog.sign_button)
            await wait_until(lambda: not dialog.sign_button.isEnabled(), what="signed")
            handover_id = dialog.desk.current.id if dialog.desk.current else 0
            dialog.close()

        service = ConsoleService()
        incoming = MainWindow(service, AlarmSounder(use_audio=False), settings, username="s")
        qtbot.addWidget(incoming)
        incoming.show()
        service.start(server.console_url, "supervisor1", "pw-supervisor1")
        try:
            await wait_until(lambda: service.state is ConnectionState.LIVE, what="incoming live")
            steps.menu(incoming.menuBar(), "handover_action")
            theirs = incoming.shift_actions.handover_dialog
            assert isinstance(theirs, HandoverDialog)
            # The handover waiting for them opens by itself (no click in the history).
            await wait_until(lambda: theirs.desk.can_accept, what="may accept")
            assert theirs.desk.current is not None
            assert theirs.desk.current.id == handover_id
            steps.click(theirs.accept_button)
            await wait_until(lambda: not theirs.accept_button.isEnabled(), what="accepted")
            theirs.close()
        finally:
            await service.stop()
        async with other_console(server) as supervisor:
            result = await supervisor.request(GetHandover(req="", handover_id=handover_id))
        assert isinstance(result, HandoverResult)
        handover = result.handover
        assert (handover.state, handover.accepted_by) == (HandoverState.ACCEPTED, "supervisor1")

    run(scenario(), timeout=60)
    steps.record("交接班 / Hand over the shift", "console-handover.png")
    within_budget(steps)
