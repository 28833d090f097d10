"""Nothing missed at login, against the real backend: the event log fills with the events
of the shift (an alarm raised before login included), events that arrive live while it
loads are shown once, an agency desk's log holds only what it may see, and the status
bar's counts follow an acknowledge and a task going overdue."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from backend.authz.principal import Principal
from backend.eventlog import recent
from backend.server import event_handlers
from backend.server.testing import ServerThread
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState
from realtime.incident_states import AssigneeKind, Deadline
from realtime.protocol import AlarmResult, Role, ShareAlarm
from realtime.states import AlarmAction
from tests.desktop.conftest import ignore_offscreen_quirks, wait_until
from tests.desktop.test_console_e2e import create_alarm, other_console

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        running.add_user("fire1", "pw-fire1", Role.AGENCY, agency="fire")
        yield running


@asynccontextmanager
async def console(
    server: ServerThread, qtbot: QtBot, settings: QSettings, username: str = "officer1"
) -> AsyncIterator[tuple[MainWindow, ConsoleService]]:
    """A console window logged in as ``username``, once live, and its service."""
    service = ConsoleService()
    window = MainWindow(service, AlarmSounder(use_audio=False), settings, username=username)
    qtbot.addWidget(window)
    window.show()
    service.start(server.console_url, username, f"pw-{username}")
    try:
        await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
        yield window, service
    finally:
        await service.stop()


def log_lines(window: MainWindow) -> list[str]:
    log = window.event_log
    return [log.item(row).text() for row in range(log.count())]


def raised(window: MainWindow, title: str) -> int:
    """How many lines of the log record ``title`` being raised."""
    return sum(1 for line in log_lines(window) if "Alarm raised" in line and title in line)


async def loaded(window: MainWindow) -> None:
    pane = window.event_log_pane
    await wait_until(lambda: pane.loaded is not None and not pane.loading, what="log loaded")


def principal(server: ServerThread, username: str) -> Principal:
    users = server.call(server.server.users.list_users())
    (found,) = [user for user in users if user.username == username]
    return found


def test_an_alarm_raised_before_login_is_in_the_event_log(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with other_console(server) as other:
            await create_alarm(other, "登录前加油站起火")
        async with console(server, qtbot, settings) as (window, _):
            await loaded(window)
            assert raised(window, "登录前加油站起火") == 1
            pane = window.event_log_pane
            assert pane.loaded is not None
            assert pane.loaded >= 1
            assert pane.status_label.text().startswith(
                f"{pane.loaded} events of this shift loaded (since "
            )
            seqs = window.event_log.seqs
            assert seqs == sorted(set(seqs), reverse=True)

    run(scenario())


def test_events_arriving_while_the_log_loads_are_shown_once(
    server: ServerThread,
    qtbot: QtBot,
    settings: QSettings,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = threading.Event()
    original = recent.newest_since

    async def held_back(*args: Any, **kwargs: Any) -> Any:
        # The server answers only once the live alarms below reached the console.
        await asyncio.to_thread(gate.wait, 15)
        return await original(*args, **kwargs)

    monkeypatch.setattr(event_handlers, "newest_since", held_back)

    async def scenario() -> None:
        async with other_console(server) as other:
            await create_alarm(other, "甲仓库冒烟")
            async with console(server, qtbot, settings) as (window, _):
                pane = window.event_log_pane
                assert pane.loading
                assert pane.status_label.text() == "Loading this shift's events…"
                await create_alarm(other, "乙化工泄漏")
                await create_alarm(other, "丙车辆侧翻")
                await wait_until(
                    lambda: raised(window, "乙化工泄漏") == raised(window, "丙车辆侧翻") == 1,
                    what="live alarms in the log",
                )
                assert raised(window, "甲仓库冒烟") == 0
                assert pane.loading
                gate.set()
                await loaded(window)
                for title in ("甲仓库冒烟", "乙化工泄漏", "丙车辆侧翻"):
                    assert raised(window, title) == 1, title
                seqs = window.event_log.seqs
                assert seqs == sorted(set(seqs), reverse=True)
                # The oldest alarm sits below the live ones: the log is in seq order.
                lines = log_lines(window)
                first = next(i for i, line in enumerate(lines) if "甲仓库冒烟" in line)
                assert all("乙化工泄漏" not in line for line in lines[first:])

    run(scenario())


def test_an_agency_desk_log_holds_only_what_it_may_see(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with other_console(server) as other:
            shared = await create_alarm(other, "共享给消防的火情")
            await create_alarm(other, "未共享的燃气泄漏")
            answer = await other.request(ShareAlarm(req="", alarm_id=shared, agency="fire"))
            assert isinstance(answer, AlarmResult)
        async with console(server, qtbot, settings, "fire1") as (fire, _):
            await loaded(fire)
            text = "\n".join(log_lines(fire))
            assert "共享给消防的火情" in text
            assert "未共享的燃气泄漏" not in text
        async with console(server, qtbot, settings, "officer1") as (centre, _):
            await loaded(centre)
            text = "\n".join(log_lines(centre))
            assert "共享给消防的火情" in text
            assert "未共享的燃气泄漏" in text

    run(scenario())


def test_status_counts_follow_an_acknowledge_and_an_overdue_task(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    supervisor = principal(server, "supervisor1")
    incidents = server.server.incidents

    async def scenario() -> None:
        async with console(server, qtbot, settings) as (centre, service):
            panel = centre.status_panel
            async with other_console(server) as other:
                alarm_id = await create_alarm(other, "仓库冒烟")
            await wait_until(
                lambda: panel.unacknowledged_label.text() == "Unacknowledged: 1",
                what="one unacknowledged",
            )
            assert "#c62828" in panel.unacknowledged_label.styleSheet()
            alarm = centre.model.alarms.get(alarm_id)
            assert alarm is not None
            service.transition(alarm_id, AlarmAction.ACKNOWLEDGE, alarm.version)
            await wait_until(
                lambda: panel.unacknowledged_label.text() == "Unacknowledged: 0",
                what="acknowledged",
            )
            assert panel.unacknowledged_label.styleSheet() == ""

        async with console(server, qtbot, settings, "fire1") as (fire, _):
            incident = server.call(
                incidents.open_incident(
                    supervisor, type_code="hazchem_leak", title="槽车泄漏", jurisdiction=""
                )
            )
            task = server.call(
                incidents.send_task(
                    supervisor,
                    incident.id,
                    assignee_kind=AssigneeKind.AGENCY,
                    assignee_ref="fire",
                    deadlines={Deadline.ACCEPT: 30},
                )
            )
            badge = fire.task_badge
            await wait_until(lambda: task.id in fire.incident_desk.board.tasks, what="task")
            badge.refresh()
            assert badge.text() == "Overdue/escalated: 0  Supervised: 0"
            past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            server.call(
                incidents.set_deadlines(supervisor, task.id, task.version, {Deadline.ACCEPT: past})
            )
            await wait_until(lambda: badge.counts.urgent == 1, what="overdue")
            fire._tick()  # the window's once-a-second redraw
            assert badge.text().startswith("Overdue/escalated: 1")
            assert "#c62828" in badge.styleSheet()

    run(scenario(), timeout=40)
