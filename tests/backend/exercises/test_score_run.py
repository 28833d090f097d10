"""``exercise.score`` on a real server: a small recording (with an original response in it)
replayed into an exercise, an officer acknowledging one of its two alarms on the exercise
connection, then the score — while the participants may still work, once stopped (kept),
beside the original response and an earlier run — and the report written by
``dutydesk exercise report`` from it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import msgspec
import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from backend.cli.app import main
from backend.exercises.recording import LoggedEvent, Recording
from backend.server.app import DutyDeskServer
from realtime.client import CommandError
from realtime.protocol import (
    AlarmResult,
    AlarmView,
    ExerciseResult,
    ExerciseScore,
    ExerciseScoreResult,
    GetExerciseScore,
    Role,
    StartExercise,
    StopExercise,
    TransitionAlarm,
)
from realtime.states import AlarmAction, AlarmLevel
from tests.backend.conftest import Console, console_url, open_console
from tests.backend.exercises.helpers import (
    T0,
    open_exercise_console,
    recordings_dir,
    save_recording,
    small_recording,
)
from tests.backend.exercises.scoring_logs import ResponseLog

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _with_original_response() -> Recording:
    """The small recording, with the response it got: the first alarm acknowledged after
    30 s, the second never (scored from the window's start, T0)."""
    log = ResponseLog(origin=T0)
    log.raise_alarm(1.0, 1, AlarmLevel.ORANGE, alarm_type="vehicle_overspeed")
    log.raise_alarm(2.0, 2, AlarmLevel.RED, alarm_type="sensor_threshold_high")
    log.acknowledge(31.0, 1)
    recording = small_recording()
    logged = [LoggedEvent(at=e.at, event=msgspec.to_builtins(e)) for e in log.events]
    entries = sorted([*recording.entries, *logged], key=lambda entry: entry.at)
    return msgspec.structs.replace(recording, entries=entries)


async def _score(console: Console, run_id: str) -> ExerciseScore:
    answer = await console.client.request(GetExerciseScore(req="", run_id=run_id))
    assert isinstance(answer, ExerciseScoreResult)
    return answer.score


async def _start(trainer: Console, name: str) -> str:
    started = await trainer.client.request(
        StartExercise(req="", recording=name, speed=4.0, participants=["officer2"])
    )
    assert isinstance(started, ExerciseResult)
    return started.run.run_id


def _alarms(console: Console) -> dict[str, AlarmView]:
    held = {a.id: a for s in console.recorder.snapshots for a in s.alarms}
    held |= {e.alarm.id: e.alarm for e in console.recorder.events if e.alarm is not None}
    return {alarm.alarm_type: alarm for alarm in held.values()}


async def _first_run(server: DutyDeskServer, trainer: Console, name: str) -> ExerciseScore:
    """Run the recording, acknowledge the overspeed alarm on the exercise connection, wait
    for the end of the replay, and score it (the participants may still be working)."""
    manager = server.exercises
    assert manager is not None
    run_id = await _start(trainer, name)
    officer = await open_exercise_console(server, run_id, "officer2", "pw-officer2")
    try:
        await officer.recorder.wait_for(lambda: len(_alarms(officer)) >= 2, timeout=15)
        overspeed = _alarms(officer)["vehicle_overspeed"]
        acknowledged = await officer.client.request(
            TransitionAlarm(
                req="",
                alarm_id=overspeed.id,
                action=AlarmAction.ACKNOWLEDGE,
                expected_version=overspeed.version,
            )
        )
        assert isinstance(acknowledged, AlarmResult)
        await manager.wait_ended(run_id)
        # Scores are asked on the live connection, not in the drill.
        with pytest.raises(CommandError, match="asked on the live connection"):
            await _score(officer, run_id)
    finally:
        await officer.close()
    return await _score(trainer, run_id)


async def _report_with_the_cli(
    server: DutyDeskServer, run_id: str, folder: Path
) -> tuple[Worksheet, str]:
    """``dutydesk exercise report`` as the trainer: the summary sheet and the HTML page."""
    book, page = folder / "评分.xlsx", folder / "评分.html"
    argv = ["exercise", "report", run_id, "--server", console_url(server)]
    argv += ["--user", "trainer1", "--xlsx", str(book), "--html", str(page)]
    assert await asyncio.to_thread(main, argv) == 0
    return openpyxl.load_workbook(book)["汇总"], page.read_text(encoding="utf-8")


def _check_run_going(going: ExerciseScore, name: str) -> None:
    """The first run's score while it is still open: the officer acknowledged the first
    alarm and not the second; the original response is beside it."""
    assert (going.recording, going.ended) == (name, False)
    # The replayed alarms first (a sensor the replay left silent may later be reported
    # offline: the run stays open to its participants, on the running exercise clock).
    alarms = going.alarms
    assert [a.alarm_type for a in alarms][:2] == ["vehicle_overspeed", "sensor_threshold_high"]
    assert [(a.missed, a.late) for a in alarms][:2] == [(False, False), (True, False)]
    assert alarms[0].raised_offset_s >= 1.0  # recorded at 1 s, on the exercise clock
    assert alarms[1].raised_offset_s >= 2.0
    figures = going.figures
    assert (figures.alarms, figures.acknowledged) == (len(alarms), 1)
    assert figures.missed == len(alarms) - 1
    original = going.original
    assert original is not None
    assert (original.alarms, original.acknowledged, original.missed) == (2, 1, 1)
    assert original.acknowledge_p50_s == 30.0
    assert going.earlier == []


async def test_a_run_is_scored_beside_its_original_response_and_earlier_runs(
    server: DutyDeskServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await server.users.add_user("trainer1", "pw-trainer1", Role.TRAINER)
    manager = server.exercises
    assert manager is not None
    name = save_recording(server, _with_original_response())
    trainer = await open_console(server, "trainer1", "pw-trainer1")
    participant = await open_console(server, "officer2", "pw-officer2")
    try:
        going = await _first_run(server, trainer, name)
        first = going.run_id
        _check_run_going(going, name)
        figures = going.figures
        # A participant sees the score too, on the live connection.
        assert (await _score(participant, first)).figures.acknowledged == 1
        await trainer.client.request(StopExercise(req="", run_id=first))

        second = await _start(trainer, name)
        await manager.wait_ended(second)
        await trainer.client.request(StopExercise(req="", run_id=second))
        later = await _score(trainer, second)
        assert later.ended
        assert later.figures.alarms >= 2
        assert later.figures.missed == later.figures.alarms  # nobody took part
        # The first run, never scored since it was stopped: scored now, and kept.
        (earlier,) = later.earlier
        assert (earlier.run_id, earlier.speed) == (first, 4.0)
        assert earlier.figures.acknowledged == 1
        assert earlier.figures.alarms >= figures.alarms
        kept = {run_id: kept for run_id, _, _, kept in await manager.earlier_runs(name, "zz")}
        assert kept == {first: earlier.figures, second: later.figures}

        monkeypatch.setenv("DUTYDESK_PASSWORD", "pw-trainer1")
        summary, page = await _report_with_the_cli(server, second, tmp_path)
        assert [cell.value for cell in summary[4]][:3] == ["指标", "本次演练", "原始处置"]
        assert str(summary["D4"].value).startswith(first)
        assert summary["B5"].value == later.figures.score
        assert "原始处置" in page

        # The recording deleted since: the run is still scored, without the original.
        (recordings_dir(server) / f"{name}.ddrec").unlink()
        with caplog.at_level(logging.WARNING, logger="backend.exercises.comparison"):
            gone = await _score(trainer, second)
        assert (gone.original, gone.figures) == (None, later.figures)
        assert [run.run_id for run in gone.earlier] == [first]
        assert "the original response of small is not compared" in caplog.text
    finally:
        await participant.close()
        await trainer.close()
