"""The console's exercises end to end on a real server with exercises: the trainer's panel
lists, starts, steers, injects, stops and scores; a participant joins from the live
window's notice into a drill window that shows only the exercise's alarms and says it is a
drill; the live window keeps showing live alarms, never the exercise's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from backend.cli.demo import DEMO_ROADS
from backend.exercises.library import RecordingLibrary
from backend.server.commands import CONSOLE_COMMANDS
from backend.server.testing import ServerThread
from desktop.exercises.drill import DrillSession
from desktop.exercises.state import ExerciseRuns, HeldRun
from desktop.main_window import MainWindow
from realtime.client import ConnectionState
from realtime.protocol import ExerciseRunView, ExerciseState, GetExerciseScore, InjectKind
from realtime.states import AlarmLevel
from tests.backend.exercises.helpers import SENSOR, small_recording
from tests.desktop.conftest import ignore_offscreen_quirks, wait_until
from tests.desktop.exercises.harness import USERS, live_console
from tests.desktop.test_console_e2e import create_alarm, other_console

pytestmark = [
    pytest.mark.gui,
    ignore_offscreen_quirks,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

Run = Callable[..., Any]
RECORDING = "night_drill"
"""A truck's overspeed at 1 s and methane over its limit at 2 s, in a 40 s recording."""


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread(users=USERS) as running:
        RecordingLibrary(running.data_dir).save(small_recording(duration_s=40.0), RECORDING)
        yield running


def _road_names(window: MainWindow) -> set[str]:
    shown = window.map_view.roads.shown
    if shown is None:
        return set()
    return {line.name for group in shown.classes for line in group.lines}


def held(runs: ExerciseRuns, run_id: str) -> HeldRun:
    found = runs.held(run_id)
    assert found is not None
    return found


def view(runs: ExerciseRuns, run_id: str) -> ExerciseRunView:
    return held(runs, run_id).view


def test_the_trainer_lists_starts_steers_injects_and_stops_a_run(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with live_console(server, qtbot, settings, "trainer1") as (window, exercises):
            panel, runs = exercises.panel, exercises.desk.runs
            await wait_until(lambda: panel.select_recording(RECORDING), what="library")
            dialog = panel.open_start_dialog()
            assert dialog is not None
            dialog.speed_spin.setValue(2.0)
            dialog.set_participants(["officer1"])
            dialog.title_edit.setText("夜班演练")
            buttons = dialog.findChild(QDialogButtonBox)
            assert buttons is not None
            buttons.button(QDialogButtonBox.StandardButton.Ok).click()
            await wait_until(lambda: len(runs) == 1, what="run started")
            run_id = runs.runs()[0].run_id
            started = view(runs, run_id)
            assert (started.title, started.speed, started.participants) == (
                "夜班演练",
                2.0,
                ["officer1"],
            )
            assert panel.selected_run() is not None
            assert panel.runs_table.item(0, 1).text() == "Running"  # type: ignore[union-attr]

            panel.pause_button.click()
            await wait_until(lambda: view(runs, run_id).state is ExerciseState.PAUSED, what="pause")
            assert panel.pause_button.text() == "Resume"
            panel.pause_button.click()
            await wait_until(lambda: view(runs, run_id).state is ExerciseState.RUNNING, what="go")

            panel.speed_spin.setValue(8.0)
            panel.speed_button.click()
            await wait_until(lambda: view(runs, run_id).speed == 8.0, what="speed")
            assert panel.runs_table.item(0, 2).text() == "8×"  # type: ignore[union-attr]

            panel.seek_spin.setValue(20)
            panel.seek_button.click()
            await wait_until(lambda: view(runs, run_id).position_s >= 20.0, what="seek")

            inject = panel.open_inject_dialog()
            assert inject is not None
            inject.set_kind(InjectKind.SENSOR_FAILS)
            inject.target_combo.setEditText(SENSOR)  # the live console does not know it
            inject.note_edit.setText("传感器线缆被砸断")
            inject.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
            await wait_until(lambda: view(runs, run_id).injected == 1, what="injected")

            box = panel.confirm_stop()
            assert box is not None
            box.button(QMessageBox.StandardButton.No).click()
            assert view(runs, run_id).state is ExerciseState.RUNNING
            box = panel.confirm_stop()
            assert box is not None
            box.button(QMessageBox.StandardButton.Yes).click()
            await wait_until(lambda: view(runs, run_id).state is ExerciseState.STOPPED, what="end")
            assert not panel.join_button.isEnabled()
            # The live event may come before the command's answer: wait for the answer.
            label = window.notification_bar.message_label
            await wait_until(lambda: "ended" in label.text(), what="the answer")

    run(scenario(), timeout=90)


def test_a_refused_command_says_why_and_the_panel_goes_on(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with live_console(server, qtbot, settings, "trainer1") as (window, exercises):
            exercises.desk.start("no_such_recording", speed=1.0, participants=[], title="")
            bar = window.notification_bar
            await wait_until(lambda: "Exercise:" in bar.message_label.text(), what="refusal")
            await wait_until(lambda: exercises.panel.select_recording(RECORDING), what="lib")
            assert len(exercises.desk.runs) == 0

    run(scenario(), timeout=40)


@pytest.mark.skipif(
    GetExerciseScore not in CONSOLE_COMMANDS, reason="exercise.score is not routed yet"
)
def test_the_score_of_an_ended_run_opens_and_exports(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run, tmp_path: Any
) -> None:
    async def scenario() -> None:
        async with live_console(server, qtbot, settings, "trainer1") as (_window, exercises):
            panel, runs = exercises.panel, exercises.desk.runs
            await wait_until(lambda: panel.select_recording(RECORDING), what="library")
            exercises.desk.start(RECORDING, speed=64.0, participants=[], title="")
            await wait_until(lambda: len(runs) == 1, what="run started")
            run_id = runs.runs()[0].run_id
            await wait_until(lambda: view(runs, run_id).alarms >= 0, what="view")
            exercises.desk.stop(run_id)
            await wait_until(lambda: view(runs, run_id).ended_at is not None, what="ended")
            panel.select_run(run_id)
            panel.score_button.click()
            await wait_until(lambda: exercises.score_dialog is not None, what="score")
            dialog = exercises.score_dialog
            assert dialog is not None
            assert dialog.figures_table.rowCount() > 5
            assert dialog.export(tmp_path / "score.html")

    run(scenario(), timeout=60)


def test_a_participant_joins_a_drill_window_and_the_live_window_stays_live(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with (
            live_console(server, qtbot, settings, "trainer1") as (_trainer_window, trainer),
            live_console(server, qtbot, settings, "officer1") as (live, officer),
        ):
            await wait_until(lambda: trainer.panel.select_recording(RECORDING), what="library")
            trainer.desk.start(RECORDING, speed=4.0, participants=["officer1"], title="夜班演练")
            # The live window: a notice with a join button, not a dialog in the way.
            await wait_until(officer.notice.isVisible, what="notice")
            assert "夜班演练" in officer.notice.label.text()
            run_id = officer.notice.run.run_id if officer.notice.run else ""
            officer.notice.join_button.click()
            await wait_until(lambda: officer.drill_window(run_id) is not None, what="drill")
            drill = officer.drill_window(run_id)
            assert drill is not None
            assert drill.windowTitle().startswith("[DRILL] ")
            assert drill.exercise_banner.text().startswith("DRILL · 夜班演练 · 4× · exercise time ")
            assert drill.banner_bar.isVisible()

            # A live alarm meanwhile: live in the live window, never in the drill's.
            async with other_console(server) as other:
                live_id = await create_alarm(other, "真实火警", AlarmLevel.RED)
            await wait_until(lambda: live_id in live.queue_alarm_ids(), what="live alarm")
            await wait_until(lambda: len(drill.queue_alarm_ids()) >= 2, what="drill alarms")
            drill_types = {drill.model.alarms.get(i).alarm_type for i in drill.queue_alarm_ids()}  # type: ignore[union-attr]
            assert "fire" not in drill_types
            assert {"vehicle_overspeed", "sensor_threshold_high"} <= drill_types
            live_types = {live.model.alarms.get(i).alarm_type for i in live.queue_alarm_ids()}  # type: ignore[union-attr]
            assert live_types == {"fire"}
            assert not live.windowTitle().startswith("[DRILL]")
            session = officer.sessions[run_id]
            assert session.service.refused_mark == ""
            assert officer._service.refused_mark == ""

            # The trainer ends it: the drill window's connection closes, saying so.
            trainer.desk.stop(run_id)
            await wait_until(lambda: bool(session.ended_reason), what="drill ended")
            assert "has ended" in drill.exercise_banner.text()
            await wait_until(
                lambda: (
                    session.service.state in (ConnectionState.CLOSED,)
                    or not session.service.started
                ),
                what="drill link closed",
            )
            # Closing the drill window leaves the live one untouched.
            drill.close()
            await wait_until(lambda: run_id not in officer.sessions, what="drill closed")
            assert live.isVisible()
            assert live._service.state is ConnectionState.LIVE
            async with other_console(server) as other:
                second = await create_alarm(other, "第二起真实警情", AlarmLevel.ORANGE)
            await wait_until(lambda: second in live.queue_alarm_ids(), what="still live")

    run(scenario(), timeout=120)


@pytest.mark.logs_errors
def test_a_live_console_on_an_exercise_path_refuses_the_marked_welcome(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    """Pointed at a drill's path by mistake, a live console closes at the marked welcome:
    a drill is never shown as live."""

    async def scenario() -> None:
        async with live_console(server, qtbot, settings, "trainer1") as (_window, trainer):
            await wait_until(lambda: trainer.panel.select_recording(RECORDING), what="library")
            trainer.desk.start(RECORDING, speed=1.0, participants=["officer1"], title="")
            await wait_until(lambda: len(trainer.desk.runs) == 1, what="run")
            exercise_run = trainer.desk.runs.runs()[0]
            from desktop.service import ConsoleService

            mistaken = ConsoleService()
            refused: list[str] = []
            mistaken.mark_refused.connect(refused.append)
            path = server.console_url.replace("/console", exercise_run.console_path)
            mistaken.start(path, "officer1", "pw-officer1")
            await wait_until(lambda: bool(refused), what="refused")
            assert "live connection" in refused[0]
            assert len(mistaken.store) == 0
            assert mistaken.user is None
            await mistaken.stop()

    run(scenario(), timeout=40)


@pytest.mark.qt_log_ignore(
    r"^This plugin does not support raise\(\)$",
    r"^This plugin does not support propagateSizeHints\(\)$",
)
def test_joining_twice_brings_the_same_drill_window_forward(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with live_console(server, qtbot, settings, "trainer1") as (_window, trainer):
            await wait_until(lambda: trainer.panel.select_recording(RECORDING), what="library")
            trainer.desk.start(RECORDING, speed=1.0, participants=[], title="")
            await wait_until(lambda: len(trainer.desk.runs) == 1, what="run")
            run_id = trainer.desk.runs.runs()[0].run_id
            trainer.panel.select_run(run_id)
            trainer.panel.join_button.click()
            await wait_until(lambda: trainer.drill_window(run_id) is not None, what="drill")
            first: DrillSession = trainer.sessions[run_id]
            trainer.panel.join_button.click()
            assert trainer.sessions[run_id] is first
            assert msgspec.structs.asdict(view(trainer.desk.runs, run_id))["trainer"] == "trainer1"

    run(scenario(), timeout=60)


def test_a_non_participant_who_tries_to_join_is_told_why_and_nothing_opens(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with (
            live_console(server, qtbot, settings, "trainer1") as (_window, trainer),
            live_console(server, qtbot, settings, "officer1") as (live, officer),
        ):
            await wait_until(lambda: trainer.panel.select_recording(RECORDING), what="library")
            trainer.desk.start(RECORDING, speed=1.0, participants=[], title="")
            await wait_until(lambda: len(trainer.desk.runs) == 1, what="run")
            # officer1 does not take part; say it joins anyway (an old list, a typed id).
            session = officer.join(trainer.desk.runs.runs()[0])
            await wait_until(lambda: bool(session.ended_reason), what="refused")
            assert "could not open" in session.ended_reason
            assert session.window is None
            assert "could not open" in live.notification_bar.message_label.text()
            await wait_until(lambda: not officer.sessions, what="forgotten")

    run(scenario(), timeout=40)


def test_the_drill_map_shows_the_live_road_layer(
    qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    # The tanker scenario lies in the demo city, on the demo's roads.
    with ServerThread(users=USERS, seed_roads=DEMO_ROADS) as server:

        async def scenario() -> None:
            async with live_console(server, qtbot, settings, "trainer1") as (_window, trainer):
                await wait_until(
                    lambda: trainer.panel.select_recording("tanker-rollover"), what="library"
                )
                trainer.desk.start("tanker-rollover", speed=1.0, participants=[], title="")
                await wait_until(lambda: len(trainer.desk.runs) == 1, what="run")
                run_id = trainer.desk.runs.runs()[0].run_id
                trainer.join(trainer.desk.runs.runs()[0])
                await wait_until(lambda: trainer.drill_window(run_id) is not None, what="drill")
                drill = trainer.drill_window(run_id)
                assert drill is not None
                # Opened from its welcome, the window still asks for the roads of its view.
                drill.map_view.center_on(118.7541, 32.2512, span_m=3000.0)
                await wait_until(lambda: bool(_road_names(drill)), what="roads on the drill map")
                assert "沿江大道" in _road_names(drill)

        run(scenario(), timeout=60)
