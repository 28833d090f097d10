"""The run's alarm count follows its alarms while it runs (not only at its life-cycle
events): one ``exercise.changed`` when the count changed, at most every interval, to the
consoles that may see the run and to no other."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from sqlalchemy.exc import OperationalError

from backend.exercises import store
from backend.exercises.manager import ExerciseManager
from backend.server.app import DutyDeskServer
from realtime.protocol import (
    Event,
    ExerciseResult,
    ExercisesResult,
    ExerciseState,
    ListExercises,
    Role,
    StartExercise,
)
from tests.backend.conftest import open_console
from tests.backend.exercises.helpers import save_recording, small_recording

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
INTERVAL = 0.3


def _counts(events: list[Event], run_id: str) -> list[tuple[int, ExerciseState]]:
    """(alarms, state) of each ``exercise.changed`` about the run's alarm count."""
    return [
        (e.exercise_run.alarms, e.exercise_run.state)
        for e in events
        if e.kind == "exercise.changed"
        and not isinstance(e.exercise_run, msgspec.UnsetType)
        and e.exercise_run.run_id == run_id
        and e.note.startswith("alarms ")
    ]


@SQLITE_ONLY
async def test_the_count_follows_the_alarms_of_a_running_run(server: DutyDeskServer) -> None:
    manager = server.exercises
    assert isinstance(manager, ExerciseManager)
    manager.alarm_count_interval = INTERVAL
    await server.users.add_user("trainer1", "pw-trainer1", Role.TRAINER)
    # Overspeed at 1 s and methane over the limit at 2 s, then 10 minutes of nothing.
    name = save_recording(server, small_recording(duration_s=600))
    trainer = await open_console(server, "trainer1", "pw-trainer1")
    supervisor = await open_console(server, "supervisor1", "pw-supervisor1")
    bystander = await open_console(server, "officer1", "pw-officer1")
    try:
        started = await trainer.client.request(StartExercise(req="", recording=name, speed=2.0))
        assert isinstance(started, ExerciseResult)
        run_id = started.run.run_id
        assert started.run.alarms == 0
        for console in (trainer, supervisor):
            await console.recorder.wait_for(
                lambda c=console: (2, ExerciseState.RUNNING) in _counts(c.recorder.events, run_id)
            )
        # Coalesced: one announcement per change seen, none while the count stands still.
        announced = _counts(trainer.recorder.events, run_id)
        assert 1 <= len(announced) <= 2
        await asyncio.sleep(4 * INTERVAL)
        assert _counts(trainer.recorder.events, run_id) == announced
        listed = await trainer.client.request(ListExercises(req=""))
        assert isinstance(listed, ExercisesResult)
        assert [run.alarms for run in listed.runs] == [2]
        # An officer neither trainer nor participant hears nothing of the run.
        assert not [e for e in bystander.recorder.events if e.kind.startswith("exercise.")]
    finally:
        for console in (trainer, supervisor, bystander):
            await console.close()


@SQLITE_ONLY
async def test_a_failing_count_is_a_warning_and_the_next_look_announces(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    manager = server.exercises
    assert isinstance(manager, ExerciseManager)
    manager.alarm_count_interval = INTERVAL
    trainer = await server.users.add_user("trainer1", "pw-trainer1", Role.TRAINER)
    name = save_recording(server, small_recording(duration_s=600))
    real_count = store.count_alarms
    failures = 2

    async def flaky_count(sessions: Any) -> int:
        nonlocal failures
        if failures:
            failures -= 1
            raise OperationalError("SELECT count(*)", {}, OSError("disk I/O error"))
        return await real_count(sessions)

    run = await manager.start(trainer, StartExercise(req="", recording=name, speed=2.0))
    # The next two looks at the count fail (a disk error in the exercise's database).
    monkeypatch.setattr(store, "count_alarms", flaky_count)
    async with asyncio.timeout(10):
        while (await manager.view(trainer, run.run_id)).alarms < 2:  # noqa: ASYNC110 - polls
            await asyncio.sleep(INTERVAL / 2)
    assert "alarm count not updated" in caplog.text
    assert (await manager.view(trainer, run.run_id)).state is ExerciseState.RUNNING
    stopped = await manager.stop(trainer, run.run_id)
    assert stopped.alarms == 2
