"""Reporting from the grid, console to console against a real server (a thread on
127.0.0.1, fresh database): a village officer's console reports an event with its place
clicked on the map and a photo made with Qt; the district's console sees the incident and
its task; the reporter's 我的上报 shows how it stands, and the feedback once the district
closes it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState, DutyDeskClient
from realtime.event_kinds import EventKind
from realtime.incident_states import IncidentAction, IncidentState, TaskAction
from realtime.protocol import (
    ActOnTask,
    GetIncident,
    GetIncidentTimeline,
    IncidentResult,
    MessageView,
    Role,
    TaskResult,
    TimelineResult,
    TransitionIncident,
)
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until
from tests.desktop.test_console_e2e import Recorder

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]

VILLAGE = "330106001001"
DISTRICT = "330106"
IN_DISTRICT = (30.28, 120.12)
"""A point the shipped basemap places in 330106 (a village reports it in its own area)."""


def password(username: str) -> str:
    return f"pw-{username}-long"


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        running.add_user("village1", password("village1"), Role.OFFICER, jurisdiction=VILLAGE)
        running.add_user("district1", password("district1"), Role.OFFICER, jurisdiction=DISTRICT)
        yield running


@asynccontextmanager
async def console(
    server: ServerThread, qtbot: QtBot, settings: QSettings, username: str
) -> AsyncIterator[MainWindow]:
    service = ConsoleService()
    window = MainWindow(service, AlarmSounder(use_audio=False), settings, username=username)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    service.start(server.console_url, username, password(username))
    try:
        await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
        yield window
    finally:
        await service.stop()


@asynccontextmanager
async def raw_client(server: ServerThread, username: str) -> AsyncIterator[DutyDeskClient]:
    client = DutyDeskClient(
        server.console_url, Recorder(), username=username, password=password(username)
    )
    task = asyncio.get_running_loop().create_task(client.run())
    try:
        await client.wait_live(timeout=10)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)


def make_photo(folder: Path) -> Path:
    """A small PNG photo, made with Qt."""
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor("#3a7d44"))
    path = folder / "现场照片.png"
    assert image.save(str(path))  # PNG, from the name
    return path


async def click_the_map(window: MainWindow, lat: float, lon: float) -> None:
    """Centre the map on the point and click the middle of the canvas."""
    window.map_view.center_on(lon, lat, span_m=2000)
    viewport = window.map_view.canvas.viewport()
    middle = QPoint(viewport.width() // 2, viewport.height() // 2)
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, middle)
    await asyncio.sleep(0)


async def report_from_the_village(village: MainWindow, photo: Path) -> int:
    """Fill in and send the report form; return the incident id."""
    actions = village.grid_reports
    assert actions.toolbar.isVisibleTo(village)  # a grid officer has it in front of them
    await wait_until(lambda: village.incident_desk.catalogue.loaded, what="catalogue")
    dialog = actions.open_report()
    assert not dialog.send_button.isEnabled()  # nothing filled in yet
    dialog.picker.search_edit.setText("化粪池")
    assert dialog.picker.select("septic_tank_work")
    dialog.place_edit.setText("幸福村3组")
    await call(dialog.pick_button.click)
    assert actions.pick_tool is not None
    assert actions.pick_tool.picking
    await click_the_map(village, *IN_DISTRICT)
    assert dialog.draft.position is not None
    assert dialog.draft.position == pytest.approx(IN_DISTRICT, abs=0.002)
    assert actions.pick_tool.position == dialog.draft.position  # the marker is there
    dialog.description_edit.setPlainText("化粪池清掏无人监护")
    dialog.choose_files = lambda _parent: [str(photo)]
    await call(dialog.add_photos_button.click)
    assert dialog.photos_list.count() == 1
    assert dialog.send_button.isEnabled()
    await call(dialog.send_button.click)
    await wait_until(lambda: dialog.report is not None and not dialog._tasks, what="sent")
    assert dialog.report is not None
    assert [outcome.sent for outcome in dialog.outcomes] == [True]
    assert "1 photo(s) sent." in dialog.status_label.text()
    return dialog.report.incident_id


def test_a_village_report_with_a_map_click_and_a_photo_is_followed_to_its_feedback(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run, tmp_path: Path
) -> None:
    async def scenario() -> None:
        photo = make_photo(tmp_path)
        async with (
            console(server, qtbot, settings, "village1") as village,
            console(server, qtbot, settings, "district1") as district,
        ):
            assert not district.grid_reports.toolbar.isVisibleTo(district)
            incident_id = await report_from_the_village(village, photo)

            # The district's console sees the incident and its task to the village.
            board = district.incident_desk.board
            await wait_until(lambda: incident_id in board.incidents, what="district sees it")
            district.incident_desk.load_incident(incident_id)
            await wait_until(lambda: bool(board.tasks_of(incident_id)), what="its task")
            assert board.tasks_of(incident_id)[0].jurisdiction == VILLAGE

            # The reporter's list shows how it stands.
            mine = village.grid_reports.open_my_reports()
            await wait_until(lambda: mine.table.rowCount() == 1, what="my reports")
            assert mine.text_at(0, "state") == "Open"
            assert mine.text_at(0, "task").startswith("Village · Sent")
            assert mine.text_at(0, "feedback") == ""

            async with raw_client(server, "district1") as client:
                timeline = await client.request(
                    GetIncidentTimeline(req="", incident_id=incident_id)
                )
                assert isinstance(timeline, TimelineResult)
                posted = [e for e in timeline.events if e.kind == EventKind.INCIDENT_MESSAGE]
                message = posted[0].message
                assert isinstance(message, MessageView)
                assert [a.filename for a in message.attachments] == [photo.name]
                # The village's task is settled, then the district closes with feedback.
                task = board.tasks_of(incident_id)[0]
                cancelled = await client.request(
                    ActOnTask(
                        req="",
                        task_id=task.id,
                        action=TaskAction.CANCEL,
                        expected_version=task.version,
                        note="区里已直接处置",
                    )
                )
                assert isinstance(cancelled, TaskResult)
                current = await client.request(GetIncident(req="", incident_id=incident_id))
                assert isinstance(current, IncidentResult)
                version = current.incident.version
                closed = await client.request(
                    TransitionIncident(
                        req="",
                        incident_id=incident_id,
                        action=IncidentAction.CLOSE,
                        expected_version=version,
                        note="已安排专人监护，隐患消除",
                    )
                )
                assert isinstance(closed, IncidentResult)
                assert closed.incident.state is IncidentState.CLOSED

            # The reporter's list follows the event: the feedback is there.
            await wait_until(
                lambda: mine.text_at(0, "feedback") == "已安排专人监护，隐患消除", what="feedback"
            )
            assert mine.text_at(0, "state") == "Closed"

    run(scenario())


IN_SHANGHAI = (31.23, 121.47)


def test_a_refused_report_is_explained_and_a_bad_photo_does_not_lose_the_report(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run, tmp_path: Path
) -> None:
    async def scenario() -> None:
        good = make_photo(tmp_path)
        fake = tmp_path / "不是照片.jpg"
        fake.write_text("this is not a JPEG", encoding="utf-8")
        async with console(server, qtbot, settings, "village1") as village:
            await wait_until(lambda: village.incident_desk.catalogue.loaded, what="catalogue")
            dialog = village.grid_reports.open_report()
            assert dialog.picker.select("garbage_pileup")
            # A point outside the village's area: refused in the officer's words, and the
            # form keeps what was filled in to correct it.
            dialog.set_position(*IN_SHANGHAI)
            dialog.choose_files = lambda _parent: [str(good), str(fake)]
            await call(dialog.add_photos_button.click)
            await call(dialog.send_button.click)
            await wait_until(lambda: "Not reported" in dialog.status_label.text(), what="no")
            assert "outside your area" in dialog.status_label.text()
            assert dialog.report is None
            assert dialog.send_button.isEnabled()
            # By the address only, it goes through; the fake photo is refused by name.
            await call(dialog.clear_position_button.click)
            dialog.place_edit.setText("村委会门口")
            await call(dialog.send_button.click)
            await wait_until(lambda: dialog.report is not None and not dialog._tasks, what="ok")
            assert [outcome.sent for outcome in dialog.outcomes] == [True, False]
            status = dialog.status_label.text()
            assert "不是照片.jpg was not sent" in status
            mine = village.grid_reports.open_my_reports()
            await wait_until(lambda: mine.table.rowCount() == 1, what="the report is kept")
            assert mine.text_at(0, "place") == "村委会门口"

    run(scenario())
