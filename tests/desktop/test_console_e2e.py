"""The console against the real backend (a server thread on 127.0.0.1, fresh database).

A second :class:`DutyDeskClient` in the test plays another console or the supervisor, so
the window under test sees alarms arrive the way a duty officer would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from websockets.asyncio.client import connect

from backend.registry.files import load_sensors_csv
from backend.server.testing import ServerThread
from desktop.app import ConsoleSession
from desktop.dialogs import DispatchDialog
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState, DutyDeskClient, basic_auth_header
from realtime.protocol import (
    AlarmResult,
    CreateAlarm,
    Event,
    Snapshot,
    TransitionAlarm,
    Welcome,
)
from realtime.states import AlarmAction, AlarmLevel, AlarmState
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]


class Recorder:
    """A bare listener for the second client."""

    def on_state(self, state: ConnectionState, detail: str) -> None:
        """Ignored."""

    def on_welcome(self, welcome: Welcome) -> None:
        """Ignored."""

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Ignored."""

    def on_event(self, event: Event) -> None:
        """Ignored."""


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


@asynccontextmanager
async def other_console(server: ServerThread) -> AsyncIterator[DutyDeskClient]:
    """A second console, logged in as the supervisor."""
    client = DutyDeskClient(
        server.console_url, Recorder(), username="supervisor1", password="pw-supervisor1"
    )
    task = asyncio.get_running_loop().create_task(client.run())
    try:
        await client.wait_live(timeout=10)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)


async def create_alarm(
    client: DutyDeskClient, title: str, level: AlarmLevel = AlarmLevel.RED
) -> int:
    result = await client.request(
        CreateAlarm(
            req="",
            alarm_type="fire",
            level=level,
            title=title,
            place="西湖区文三路 100 号",
            caller_phone="13800138000",
        )
    )
    assert isinstance(result, AlarmResult)
    return result.alarm.id


@asynccontextmanager
async def console(
    server: ServerThread, qtbot: QtBot, settings: QSettings
) -> AsyncIterator[tuple[MainWindow, ConsoleService, AlarmSounder]]:
    """The console under test, logged in as officer1, its window shown."""
    service = ConsoleService()
    sounder = AlarmSounder(use_audio=False)
    window = MainWindow(service, sounder, settings, username="officer1")
    qtbot.addWidget(window)
    window.show()
    service.start(server.console_url, "officer1", "pw-officer1")
    try:
        await wait_until(lambda: service.state is ConnectionState.LIVE, what="console live")
        yield window, service, sounder
    finally:
        await service.stop()


def test_queue_updates_when_an_alarm_is_raised(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with console(server, qtbot, settings) as (window, _service, sounder):
            panel = window.status_panel
            assert panel.connection_label.text() == "Connected"
            assert panel.unacknowledged_label.text() == "Unacknowledged: 0"
            async with other_console(server) as other:
                alarm_id = await create_alarm(other, "加油站起火")
                await wait_until(lambda: window.queue_alarm_ids() == [alarm_id], what="row")
            assert sounder.play_count == 1
            assert panel.unacknowledged_label.text() == "Unacknowledged: 1"
            assert window.select_alarm(alarm_id)
            assert window.detail_pane.header_label.text() == "<b>加油站起火</b>"
            assert window.event_log.count() >= 1

    run(scenario(), timeout=30)


def test_a_console_shows_the_last_readings_and_vehicles_as_soon_as_it_logs_in(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """Nothing reports after the console logs in: what it shows came from the server's
    snapshot of the latest telemetry, not from live updates."""
    ch4 = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    server.call(server.server.sensors.add_sensors([ch4]))
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)).isoformat()

    async def scenario() -> None:
        async with connect(
            server.device_url,
            additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
        ) as ws:
            for message in (
                {"type": "device.reading", "ref": "r1", "sensor": "ch4-0001", "value": 0.42,
                 "unit": "%", "at": at},
                {"type": "device.position", "ref": "p1", "device": "13900000021", "at": at,
                 "lat": 30.27, "lon": 120.16, "speed_kmh": 0.0},
            ):  # fmt: skip
                await ws.send(json.dumps(message))
                assert json.loads(await ws.recv())["type"] == "ack"
        await asyncio.sleep(0.2)  # several telemetry ticks pass with no console subscribed
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            await wait_until(
                lambda: window.latest_readings.get("ch4-0001") is not None, what="reading"
            )
            reading = window.latest_readings.get("ch4-0001")
            assert reading is not None
            assert (reading.value, reading.unit) == (0.42, "%")
            await wait_until(
                lambda: window.vehicle_store.get("13900000021") is not None, what="vehicle"
            )
            record = window.vehicle_store.get("13900000021")
            assert record is not None
            assert (record.position.lat, record.position.lon) == (30.27, 120.16)

    run(scenario(), timeout=30)


def test_actions_round_trip_through_the_server(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            async with other_console(server) as other:
                alarm_id = await create_alarm(other, "危化品车辆侧翻", AlarmLevel.ORANGE)
            await wait_until(lambda: window.select_alarm(alarm_id), what="alarm shown")
            pane = window.detail_pane
            pane.action_buttons[AlarmAction.ACKNOWLEDGE].click()
            await wait_until(lambda: pane.field_text("state") == "Acknowledged", what="ack")
            assert not pane.action_buttons[AlarmAction.ACKNOWLEDGE].isEnabled()
            assert pane.action_buttons[AlarmAction.DISPATCH].isEnabled()

            pane.action_buttons[AlarmAction.DISPATCH].click()
            dialog = pane.active_dialog
            assert isinstance(dialog, DispatchDialog)
            await wait_until(lambda: dialog.unit_list.count() > 0, what="units from server")
            first_unit = dialog.unit_list.item(0)
            unit_text = first_unit.text()
            first_unit.setCheckState(Qt.CheckState.Checked)
            dialog.note_edit.setText("立即出动")
            dialog.ok_button.click()
            await wait_until(lambda: pane.field_text("state") == "Dispatched", what="dispatch")
            assert pane.units_list.count() == 1
            assert pane.units_list.item(0).text().split(" (")[0] in unit_text
            assert pane.action_buttons[AlarmAction.START_HANDLING].isEnabled()
            assert not pane.action_buttons[AlarmAction.MERGE].isEnabled()

    run(scenario(), timeout=30)


def test_manual_entry_reaches_the_server(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with console(server, qtbot, settings) as (window, service, _sounder):
            window.new_alarm_action.trigger()
            dialog = window.entry_dialog
            assert dialog is not None
            dialog.caller_phone_edit.setText("0571-87001234")
            dialog.place_edit.setText("拱墅区化工路 8 号")
            dialog.level_combo.setCurrentIndex(dialog.level_combo.findData("orange"))
            dialog.type_combo.setCurrentIndex(dialog.type_combo.findData("hazmat_leak"))
            dialog.submit_button.click()
            await wait_until(lambda: len(window.queue_alarm_ids()) == 1, what="entered alarm")
            alarm = service.store.get(window.queue_alarm_ids()[0])
            assert alarm is not None
            assert (alarm.place, alarm.alarm_type, alarm.level, alarm.source) == (
                "拱墅区化工路 8 号",
                "hazmat_leak",
                AlarmLevel.ORANGE,
                "manual",
            )
            await wait_until(
                lambda: (
                    window.notification_bar.message_label.text() == f"Alarm {alarm.id} entered."
                ),
                what="confirmation",
            )

    run(scenario(), timeout=30)


def test_outage_keeps_stale_data_queues_commands_and_resumes_without_duplicates(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        async with console(server, qtbot, settings) as (window, service, sounder):
            async with other_console(server) as other:
                first = await create_alarm(other, "第一起")
            await wait_until(lambda: window.queue_alarm_ids() == [first], what="first alarm")

            await loop.run_in_executor(None, server.stop)
            await wait_until(window.banner.isVisible, what="disconnected banner")
            panel = window.status_panel
            assert panel.connection_label.text().startswith("Disconnected – data ")
            assert panel.data_age_label.text().startswith("Data: ")
            assert window.queue_alarm_ids() == [first]  # the last data stays…
            assert window.alarm_model.stale  # …marked stale
            assert window.detail_pane.stale_label.isVisibleTo(window)

            # An order given during the outage waits in the outbox.
            assert window.select_alarm(first)
            window.detail_pane.action_buttons[AlarmAction.ACKNOWLEDGE].click()
            await wait_until(lambda: panel.queued_label.isVisibleTo(window), what="queued")
            assert panel.queued_label.text() == "Queued commands: 1"

            await loop.run_in_executor(None, server.start)
            async with other_console(server) as other:
                second = await create_alarm(other, "第二起")
                third = await create_alarm(other, "第三起", AlarmLevel.BLUE)
            await wait_until(
                lambda: (
                    sorted(window.queue_alarm_ids()) == [first, second, third]
                    and service.queued_commands == 0
                ),
                timeout=30,
                what="resume",
            )
            assert not window.banner.isVisible()
            assert panel.connection_label.text() == "Connected"
            assert window.alarm_model.rowCount() == 3  # no duplicate rows
            acknowledged = service.store.get(first)
            assert acknowledged is not None
            assert acknowledged.state is AlarmState.ACKNOWLEDGED
            assert sounder.play_count == 2  # the first and second (red) alarms

    run(scenario(), timeout=60)


def opened_window(session: ConsoleSession) -> MainWindow | None:
    return session.main_window


def test_login_dialog_shows_the_servers_reason(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        session = ConsoleSession(ConsoleService(), AlarmSounder(use_audio=False), settings, done)
        dialog = session.show_login(server.console_url, "officer1")
        qtbot.addWidget(dialog)
        try:
            dialog.password_edit.setText("wrong")
            dialog.login_button.click()
            await wait_until(
                lambda: dialog.message_label.text().startswith("Login refused: "),
                what="refusal",
            )
            assert len(dialog.message_label.text()) > len("Login refused: ")
            assert dialog.login_button.isEnabled()
            assert opened_window(session) is None

            dialog.password_edit.setText("pw-officer1")
            dialog.login_button.click()
            await wait_until(lambda: opened_window(session) is not None, what="main window")
            window = opened_window(session)
            assert isinstance(window, MainWindow)
            qtbot.addWidget(window)
            await wait_until(lambda: session.service.state is ConnectionState.LIVE, what="live")
            # Opened from the welcome, the window still asks for its map's roads.
            window.map_view.center_on(121.44, 31.19, span_m=3000.0)
            await wait_until(lambda: len(window.road_loader.cache) > 0, what="roads asked")
            window.close()
            assert await done == 0
        finally:
            await session.close()

    run(scenario(), timeout=30)


def test_login_to_an_unreachable_server_says_so(
    qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        session = ConsoleSession(ConsoleService(), AlarmSounder(use_audio=False), settings, done)
        dialog = session.show_login("ws://127.0.0.1:9/console", "officer1")
        qtbot.addWidget(dialog)
        try:
            dialog.password_edit.setText("pw")
            await call(dialog.login_button.click)
            await wait_until(
                lambda: dialog.message_label.text().startswith("Cannot reach the server"),
                what="unreachable",
            )
        finally:
            await session.close()

    run(scenario(), timeout=30)


def console_command(server: ServerThread, tmp_path: Path, *extra: str) -> list[str]:
    password_file = tmp_path / "pw"
    password_file.write_text("pw-officer1\n", encoding="utf-8")
    return [
        sys.executable,
        "-m",
        "desktop",
        "--server",
        server.console_url,
        "--user",
        "officer1",
        "--password-file",
        str(password_file),
        *extra,
    ]


def console_environment(tmp_path: Path) -> dict[str, str]:
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    environment["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # keep QSettings out of ~
    return environment


def test_screenshot_option_saves_a_png_and_exits(server: ServerThread, tmp_path: Path) -> None:
    shot = tmp_path / "console.png"
    result = subprocess.run(
        console_command(server, tmp_path, "--screenshot", str(shot), "--after", "1.5"),
        env=console_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "screenshot saved" in result.stderr


def test_ctrl_c_closes_the_console_cleanly(server: ServerThread, tmp_path: Path) -> None:
    process = subprocess.Popen(
        console_command(server, tmp_path, "--lang", "en"),
        env=console_environment(tmp_path),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if "syncing → live" in line:
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert "interrupted; closing the console" in stderr
    assert "Traceback" not in stderr


def test_markup_from_the_device_feed_and_another_desk_is_shown_literally(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """A device's alarm and a caller's report carry markup: the console shows it as sent."""
    title = "<font size=7 color=red>全部撤离</font>"
    description = "<b>假</b><img src='x.png'> &amp; 管道破裂"
    place = "<a href='http://evil.example'>A 区</a>"
    caller = "<i>张三</i>"
    note = "<h1>已处置</h1>"

    async def scenario() -> None:
        async with console(server, qtbot, settings) as (window, service, _sounder):
            async with connect(
                server.device_url,
                additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
            ) as ws:
                await ws.send(
                    json.dumps(
                        {"type": "device.alarm", "ref": "m-1", "key": "tank3-h2s",
                         "alarm_type": "hazmat_leak", "level": "red", "title": title,
                         "description": description, "place": place,
                         "lat": 30.27, "lon": 120.16}
                    )
                )  # fmt: skip
                assert json.loads(await ws.recv())["type"] == "ack"
            async with other_console(server) as other:
                result = await other.request(
                    CreateAlarm(
                        req="", alarm_type="fire", level=AlarmLevel.ORANGE, title="电话报警",
                        place="文三路", caller_name=caller, caller_phone="13800138000",
                    )
                )  # fmt: skip
                assert isinstance(result, AlarmResult)
                manual_id = result.alarm.id
                await wait_until(lambda: len(window.queue_alarm_ids()) == 2, what="both alarms")
                alarm = service.store.get(manual_id)
                assert alarm is not None
                await other.request(
                    TransitionAlarm(
                        req="", alarm_id=manual_id, action=AlarmAction.MARK_FALSE,
                        expected_version=alarm.version, note=note,
                    )
                )  # fmt: skip
            device_id = next(i for i in window.queue_alarm_ids() if i != manual_id)
            assert window.select_alarm(device_id)
            pane = window.detail_pane
            assert pane.header_label.text() == f"<b>{html.escape(title)}</b>"
            for key, sent in (("place", place), ("description", description)):
                label = pane.findChild(QLabel, f"detail_{key}_label")
                assert label is not None
                assert (label.text(), label.textFormat()) == (sent, Qt.TextFormat.PlainText)
            row = window.queue_proxy.index(window.queue_alarm_ids().index(device_id), 0)
            tooltip = row.data(Qt.ItemDataRole.ToolTipRole)
            document = QTextDocument()
            document.setHtml(tooltip)
            assert document.toPlainText() == description
            await wait_until(
                lambda: getattr(service.store.get(manual_id), "last_note", "") == note, what="note"
            )
            assert window.select_alarm(manual_id)
            # Name and phone arrive masked (personal data); what is left is shown as sent.
            assert pane.field_text("caller") == f"<{'*' * (len(caller) - 1)} 138****8000"
            assert pane.field_text("note") == note
            log = [window.event_log.item(row).text() for row in range(window.event_log.count())]
            assert any(note in line for line in log), log

    run(scenario(), timeout=30)
