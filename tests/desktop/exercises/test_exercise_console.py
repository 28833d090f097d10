"""The console's exercise views against a real server: who sees which controls, and the
refusals that keep a drill and the live picture apart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.exercises.drill import DrillSession
from desktop.service import ConsoleService
from realtime.event_kinds import EventKind
from realtime.protocol import Event
from realtime.states import AlarmLevel
from tests.desktop.conftest import ignore_offscreen_quirks, wait_until
from tests.desktop.exercises.factories import AT, make_label, make_run
from tests.desktop.exercises.harness import USERS, live_console
from tests.desktop.factories import make_alarm
from tests.desktop.test_console_e2e import create_alarm, other_console

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread(users=USERS) as running:
        yield running


def test_a_trainer_gets_the_library_and_the_controls_an_officer_the_runs_and_join(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with live_console(server, qtbot, settings, "trainer1") as (_window, exercises):
            panel = exercises.panel
            await wait_until(lambda: panel.steers, what="trainer welcomed")
            assert not panel.library_box.isHidden()
            assert not panel.stop_button.isHidden()
            assert not panel.inject_button.isHidden()
        async with live_console(server, qtbot, settings, "officer1") as (window, exercises):
            panel = exercises.panel
            await wait_until(lambda: window.model.user is not None, what="officer welcomed")
            assert panel.library_box.isHidden()
            assert all(widget.isHidden() for widget in panel.steering)
            assert not panel.join_button.isHidden()
            assert not panel.score_button.isHidden()
            assert exercises.dock.windowTitle() == "Exercises"

    run(scenario(), timeout=40)


@pytest.mark.logs_errors
def test_a_drill_console_whose_welcome_lacks_the_mark_refuses_and_opens_nothing(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """A server that answers the drill console with an ordinary (live) welcome: the
    console closes the connection before any window opens and says why on the live one."""

    async def scenario() -> None:
        async with live_console(server, qtbot, settings, "officer1") as (window, exercises):
            async with other_console(server) as other:
                await create_alarm(other, "加油站起火", AlarmLevel.RED)
            await wait_until(lambda: bool(window.queue_alarm_ids()), what="live alarm")
            session = DrillSession(
                make_run(),
                live_service=exercises._service,
                live_url=server.console_url,
                username="officer1",
                settings=settings,
                runs=exercises.desk.runs,
                parent=exercises,
            )
            failures: list[tuple[str, str]] = []
            session.failed.connect(lambda run_id, text: failures.append((run_id, text)))
            session.url = server.console_url  # the live path, whose welcome has no mark
            session.start()
            await wait_until(lambda: bool(failures), what="refusal")
            assert failures[0][0] == "x7"
            assert "without the exercise mark" in failures[0][1]
            assert session.window is None
            assert len(session.service.store) == 0  # the live alarm never reached it
            await session.aclose()
            assert window.queue_alarm_ids()  # the live window is untouched

    run(scenario(), timeout=40)


@pytest.mark.logs_errors
def test_a_live_console_takes_no_message_marked_as_an_exercises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = ConsoleService()
    refused: list[str] = []
    service.mark_refused.connect(refused.append)
    drill_event = Event(
        seq=1,
        at=AT,
        kind=EventKind.ALARM_RAISED,
        actor="gateway",
        alarm=make_alarm(1),
        exercise=make_label(make_run()),
    )
    service.on_event(drill_event)
    assert len(service.store) == 0
    assert refused
    assert "x7" in refused[0]
    assert "closing the session" in caplog.text
    # Everything after the first refusal is dropped too, even an unmarked event.
    service.on_event(msgspec.structs.replace(drill_event, exercise=msgspec.UNSET))
    assert len(service.store) == 0
