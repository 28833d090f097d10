"""Two consoles against a real server (a thread on 127.0.0.1, fresh database): the
command centre raises an incident from an alarm and sends a task to the fire desk; the
fire desk sees it in its inbox, accepts and finishes it; the command centre sees the task
done and the incident still open. A deadline moved into the past turns the fire desk's
badge on."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.app import ConsoleSession
from desktop.incidents.dialogs import OpenIncidentDialog, SendTaskDialog, TextDialog
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState
from realtime.incident_states import (
    AssigneeKind,
    Deadline,
    IncidentState,
    TaskAction,
    TaskState,
)
from realtime.protocol import (
    IncidentResult,
    OpenIncident,
    Role,
    SendTask,
    SetTaskDeadlines,
    TaskResult,
)
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until
from tests.desktop.test_console_e2e import create_alarm, other_console

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        running.add_user("fire1", "pw-fire1", Role.AGENCY, agency="fire")
        running.add_user("firesup", "pw-firesup", Role.SUPERVISOR, agency="fire")
        yield running


@asynccontextmanager
async def console(
    server: ServerThread, qtbot: QtBot, settings: QSettings, username: str
) -> AsyncIterator[tuple[MainWindow, AlarmSounder]]:
    """A console window logged in as ``username``, and its (silent) sounder."""
    service = ConsoleService()
    sounder = AlarmSounder(use_audio=False)
    window = MainWindow(service, sounder, settings, username=username)
    qtbot.addWidget(window)
    window.show()
    service.start(server.console_url, username, f"pw-{username}")
    try:
        await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
        yield window, sounder
    finally:
        await service.stop()


async def raise_and_send_to_fire(centre: MainWindow, alarm_id: int) -> int:
    """From the selected alarm: 立案, then a task to the fire desk; return the task id."""
    actions = centre.incidents.alarm_actions
    assert actions.raise_button.isEnabled()
    await call(actions.raise_button.click)
    raise_dialog = actions.active_dialog
    assert isinstance(raise_dialog, OpenIncidentDialog)
    await call(raise_dialog.accept)
    workspace = centre.incidents_panel.workspace
    await wait_until(lambda: workspace.incident is not None, what="incident opened")
    incident = workspace.incident
    assert incident is not None
    assert incident.alarm_ids == [alarm_id]
    assert workspace.field_text("type") == "建筑火灾"
    assert workspace.field_text("level") == "Level III (relatively serious)"
    assert not actions.raise_button.isEnabled()

    await wait_until(lambda: "fire" in workspace.agencies, what="agencies listed")
    await call(workspace.send_button.click)
    send = workspace.active_dialog
    assert isinstance(send, SendTaskDialog)
    send.ref_combo.setCurrentIndex(send.ref_combo.findData("fire"))
    send.instructions_edit.setPlainText("扑灭明火，疏散群众")
    await call(send.accept)
    await wait_until(lambda: len(workspace.task_ids()) == 1, what="task listed")
    task_id = workspace.task_ids()[0]
    assert workspace.task_cell(task_id, 2) == "Sent"
    assert workspace.task_cell(task_id, 3).startswith("Accept by: ")
    await wait_until(lambda: workspace.field_text("state") == "Responding", what="resp")

    return task_id


def test_an_incident_is_raised_tasked_worked_by_the_fire_desk_and_stays_open(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with other_console(server) as other:
            alarm_id = await create_alarm(other, "文三路商铺起火")
        async with console(server, qtbot, settings, "officer1") as (centre, _):
            await wait_until(lambda: centre.select_alarm(alarm_id), what="alarm in the queue")
            task_id = await raise_and_send_to_fire(centre, alarm_id)
            workspace = centre.incidents_panel.workspace
            async with console(server, qtbot, settings, "fire1") as (fire, _):
                panel = fire.incidents_panel
                await wait_until(lambda: panel.inbox.row_keys() == [task_id], what="fire inbox")
                assert panel.tab_titles()[0] == "Tasks"
                assert fire.task_badge.counts.urgent == 0
                panel.inbox.open_row(0)
                fire_space = panel.workspace
                await wait_until(lambda: fire_space.select_task(task_id), what="fire workspace")
                assert not any(b.isEnabled() for b in fire_space.incident_buttons.values())
                await call(fire_space.task_buttons[TaskAction.ACCEPT].click)
                await wait_until(
                    lambda: fire_space.task_cell(task_id, 2) == "Accepted", what="accepted"
                )
                await wait_until(
                    lambda: workspace.task_cell(task_id, 2) == "Accepted", what="centre sees it"
                )

                # The command centre moves the arrival deadline into the past: overdue at
                # the fire desk (and escalated by the server to the fire supervisor).
                past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
                deadlines: dict[Deadline, dt.datetime | None] = {
                    Deadline.ACCEPT: past - dt.timedelta(minutes=1),
                    Deadline.ARRIVE: past,
                }
                centre.incident_desk.set_deadlines(task_id, deadlines, "测试超时")
                await wait_until(lambda: fire.task_badge.counts.overdue == 1, what="overdue")
                fire.task_badge.refresh()
                assert "#c62828" in fire.task_badge.styleSheet()
                assert fire_space.task_cell(task_id, 3).startswith("Arrive by: overdue")

                assert fire_space.select_task(task_id)
                await call(fire_space.task_buttons[TaskAction.FINISH].click)
                finish = fire_space.active_dialog
                assert isinstance(finish, TextDialog)
                finish.text_edit.setPlainText("明火已扑灭")
                await call(finish.accept)
                await wait_until(
                    lambda: workspace.task_cell(task_id, 2) == "Done", what="centre sees done"
                )
                assert fire.task_badge.counts.overdue == 0
            held = workspace.incident
            assert held is not None
            # What the docs' screenshot does: open the first incident in the workspace.
            centre.incidents_panel.setCurrentIndex(0)
            assert centre.open_first_incident()
            assert centre.incidents_panel.currentWidget() is workspace
            assert held.state is IncidentState.RESPONDING
            assert centre.incident_desk.board.tasks[task_id].state is TaskState.DONE
            timeline = centre.incident_desk.board.timeline(held.id)
            assert timeline is not None
            assert [event.seq for event in timeline] == sorted({e.seq for e in timeline})
            assert len(timeline) >= 5

    run(scenario(), timeout=60)


def test_an_overdue_task_escalates_live_to_the_agency_supervisor_with_a_sound(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with (
            console(server, qtbot, settings, "firesup") as (supervisor, sounder),
            other_console(server) as centre,
        ):
            alarm_id = await create_alarm(centre, "仓库烟感报警")
            opened = await centre.request(OpenIncident(req="", alarm_id=alarm_id))
            assert isinstance(opened, IncidentResult)
            sent = await centre.request(
                SendTask(
                    req="",
                    incident_id=opened.incident.id,
                    assignee_kind=AssigneeKind.AGENCY,
                    assignee_ref="fire",
                )
            )
            assert isinstance(sent, TaskResult)
            badge = supervisor.task_badge
            await wait_until(
                lambda: sent.task.id in supervisor.incident_desk.board.tasks,
                what="the supervisor sees the task",
            )
            assert badge.counts.escalated == 0
            sounds = sounder.play_count
            past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
            await centre.request(
                SetTaskDeadlines(
                    req="",
                    task_id=sent.task.id,
                    expected_version=sent.task.version,
                    deadlines={Deadline.ACCEPT: past},
                )
            )
            # The server's deadline check escalates it one rung up: this desk.
            await wait_until(lambda: badge.counts.escalated == 1, what="escalated here")
            assert sounder.play_count == sounds + 1
            assert badge.flashing
            assert badge.text() == "Overdue/escalated: 1  Supervised: 0"
            await call(badge.click)
            panel = supervisor.incidents_panel
            assert panel.currentWidget() is panel.inbox
            assert panel.inbox.row_keys() == [sent.task.id]
            assert panel.inbox.cell(0, 5) == "Agency supervisor"

    run(scenario(), timeout=60)


def test_a_login_through_the_dialog_knows_the_user_and_reads_the_incidents(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """The window opens while the welcome is being announced: the incident views must
    still learn who logged in (the fire desk sees its inbox first)."""

    async def scenario() -> None:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        session = ConsoleSession(ConsoleService(), AlarmSounder(use_audio=False), settings, done)
        dialog = session.show_login(server.console_url, "fire1")
        qtbot.addWidget(dialog)
        dialog.password_edit.setText("pw-fire1")
        try:
            await call(dialog.login_button.click)
            await wait_until(lambda: session.main_window is not None, what="main window")
            window = session.main_window
            assert window is not None
            qtbot.addWidget(window)
            await wait_until(lambda: window.incident_desk.board.user is not None, what="user known")
            user = window.incident_desk.board.user
            assert user is not None
            assert user.agency == "fire"
            assert window.incidents_panel.tab_titles()[0] == "Tasks"
            # The rest of the window heard it too: the title, the registries.
            assert window.model.user == user
            assert "fire1" in window.windowTitle()
            await wait_until(lambda: "fire" in window.model.agencies, what="agencies read")
        finally:
            await session.close()

    run(scenario(), timeout=60)
