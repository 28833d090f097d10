"""An exercise run end to end on a real server: a recording built with the codecs is
replayed through the exercise's own JT/T 808 gateway and device feed, its alarms appear
in the exercise's log and on a participant's exercise console, marked, and nothing of it
reaches the live side (and the other way round)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from backend.eventlog import log as eventlog
from backend.server.app import DutyDeskServer
from backend.storage.models import Alarm, IncidentRecord, PositionRecord, ReadingRecord
from realtime.client import CommandError, basic_auth_header
from realtime.protocol import (
    CreateAlarm,
    Event,
    ExerciseResult,
    ExercisesResult,
    ExerciseState,
    IncidentResult,
    ListExercises,
    OpenIncident,
    Ping,
    Role,
    StartExercise,
    StopExercise,
    Subscribe,
)
from realtime.states import AlarmLevel
from tests.backend.conftest import Console, open_console
from tests.backend.exercises.helpers import (
    PHONE,
    SENSOR,
    open_exercise_console,
    save_recording,
    small_recording,
)

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def _hello_then_read(ws: ClientConnection) -> None:
    await ws.send('{"type":"hello","protocol":1,"client":"t"}')
    while True:
        await asyncio.wait_for(ws.recv(), 5)


def raised(events: list[Event]) -> list[str]:
    return [e.alarm.alarm_type for e in events if e.kind == "alarm.raised" and e.alarm]


def seen(console: Console) -> set[str]:
    """Alarm types the console holds (from its snapshot or the live stream)."""
    recorder = console.recorder
    held = {a.alarm_type for s in recorder.snapshots for a in s.alarms}
    return held | set(raised(recorder.events))


async def _assert_live_side_untouched(
    server: DutyDeskServer, bystander: Console, participant_live: Console, trainer: Console
) -> None:
    """Live consoles see the live alarm only, unmarked; the bystander hears nothing of the
    exercise, the participant its life cycle; the live log holds no exercise alarm."""
    await bystander.recorder.wait_for(lambda: "fire" in raised(bystander.recorder.events))
    await participant_live.recorder.wait_for(
        lambda: "fire" in raised(participant_live.recorder.events)
    )
    for console in (bystander, participant_live, trainer):
        assert seen(console) == {"fire"}
        assert all(e.exercise is msgspec.UNSET for e in console.recorder.events)
    assert not [e for e in bystander.recorder.events if e.kind.startswith("exercise.")]
    assert [e for e in participant_live.recorder.events if e.kind == "exercise.started"]
    async with server.sessions() as session:
        live_events = await eventlog.events_after(session, 0, 1000)
    assert [e.alarm.alarm_type for e in live_events if e.alarm and e.kind == "alarm.raised"] == [
        "fire"
    ]


async def _add_trainer(server: DutyDeskServer) -> None:
    await server.users.add_user("trainer1", "pw-trainer1", Role.TRAINER)


async def test_a_run_replays_through_the_gateways_in_isolation(server: DutyDeskServer) -> None:
    await _add_trainer(server)
    name = save_recording(server, small_recording())
    trainer = await open_console(server, "trainer1", "pw-trainer1")
    bystander = await open_console(server, "officer1", "pw-officer1")
    participant_live = await open_console(server, "officer2", "pw-officer2")
    try:
        started = await trainer.client.request(
            StartExercise(req="", recording=name, speed=4.0, participants=["officer2"])
        )
        assert isinstance(started, ExerciseResult)
        run = started.run
        assert run.state is ExerciseState.RUNNING
        exercise = await open_exercise_console(server, run.run_id, "officer2", "pw-officer2")
        try:
            welcome = exercise.recorder.welcome
            assert welcome is not None
            assert welcome.exercise is not None
            assert welcome.exercise.run_id == run.run_id
            assert exercise.recorder.snapshots
            assert all(s.exercise is not msgspec.UNSET for s in exercise.recorder.snapshots)

            # A live alarm raised meanwhile: live for the live consoles, never the exercise's.
            await bystander.client.request(
                CreateAlarm(
                    req="",
                    alarm_type="fire",
                    level=AlarmLevel.ORANGE,
                    title="真实火警",
                    lat=31.19,
                    lon=121.44,
                )
            )
            await server.exercises.wait_ended(run.run_id)  # type: ignore[union-attr]

            await exercise.recorder.wait_for(lambda: len(seen(exercise)) >= 2, timeout=15)
            exercise_alarms = seen(exercise)
            assert {"vehicle_overspeed", "sensor_threshold_high"} <= exercise_alarms
            assert "fire" not in exercise_alarms
            assert all(e.exercise is not msgspec.UNSET for e in exercise.recorder.events)

            events = await server.exercises.run_events(run.run_id)  # type: ignore[union-attr]
            sources = {e.alarm.source_ref for e in events if e.alarm and e.kind == "alarm.raised"}
            assert any(PHONE in source for source in sources), sources
            assert any(SENSOR in source for source in sources), sources

            await _assert_live_side_untouched(server, bystander, participant_live, trainer)

            stopped = await trainer.client.request(StopExercise(req="", run_id=run.run_id))
            assert isinstance(stopped, ExerciseResult)
            assert stopped.run.state is ExerciseState.STOPPED
            # Its consoles are closed with the reason.
            await exercise.recorder.wait_for(
                lambda: any("the exercise has ended" in d for _, d in exercise.recorder.states)
            )
            await exercise.recorder.wait_for(
                lambda: any("the exercise has ended" in d for _, d in exercise.recorder.states)
            )
            listed = await trainer.client.request(ListExercises(req=""))
            assert isinstance(listed, ExercisesResult)
            assert [r.run_id for r in listed.runs] == [run.run_id]
            # Ended, the log is still read from its kept database.
            kept = await server.exercises.run_events(run.run_id)  # type: ignore[union-attr]
            assert len(kept) >= len(events)
        finally:
            await exercise.close()
    finally:
        for console in (trainer, bystander, participant_live):
            await console.close()


async def test_a_non_participant_cannot_open_the_exercise_path(server: DutyDeskServer) -> None:
    await _add_trainer(server)
    name = save_recording(server, small_recording(duration_s=30))
    trainer = await open_console(server, "trainer1", "pw-trainer1")
    try:
        started = await trainer.client.request(StartExercise(req="", recording=name))
        assert isinstance(started, ExerciseResult)
        url = f"ws://127.0.0.1:{server.port}/exercise/{started.run.run_id}/console"
        ws = await connect(
            url, additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")}
        )
        with pytest.raises(ConnectionClosed) as closed:
            await _hello_then_read(ws)
        assert closed.value.rcvd is not None
        assert "not taking part" in closed.value.rcvd.reason
        await trainer.client.request(StopExercise(req="", run_id=started.run.run_id))
    finally:
        await trainer.close()


async def test_incidents_telemetry_and_device_events_stay_in_the_exercise(
    server: DutyDeskServer,
) -> None:
    """A participant works the exercise (an incident from its alarm) and watches its
    telemetry: all of it marked; a live console subscribed to everything, and an agency
    desk not taking part, get none of it; the live tables hold none of it."""
    await _add_trainer(server)
    await server.users.add_user("fire-desk", "pw-fire-desk", Role.AGENCY, agency="fire")
    name = save_recording(server, small_recording(duration_s=60))
    trainer = await open_console(server, "trainer1", "pw-trainer1")
    bystander = await open_console(server, "officer1", "pw-officer1")
    desk = await open_console(server, "fire-desk", "pw-fire-desk")
    await bystander.client.request(Subscribe(req="", topics=["positions", "readings"]))
    try:
        started = await trainer.client.request(
            StartExercise(req="", recording=name, speed=2.0, participants=["officer2"])
        )
        assert isinstance(started, ExerciseResult)
        run_id = started.run.run_id
        exercise = await open_exercise_console(server, run_id, "officer2", "pw-officer2")
        try:
            await exercise.client.request(Subscribe(req="", topics=["positions", "readings"]))
            await exercise.recorder.wait_for(lambda: len(seen(exercise)) >= 2, timeout=15)
            await exercise.recorder.wait_for(lambda: bool(exercise.recorder.telemetry))
            assert all(t.exercise is not msgspec.UNSET for t in exercise.recorder.telemetry)
            held = [a for s in exercise.recorder.snapshots for a in s.alarms]
            held += [e.alarm for e in exercise.recorder.events if e.alarm]
            alarm = next(a for a in held if a.alarm_type == "vehicle_overspeed")
            # Exercises do not nest: the exercise connection steers none.
            with pytest.raises(CommandError, match="exercises are steered on the live"):
                await exercise.client.request(ListExercises(req=""))
            opened = await exercise.client.request(
                OpenIncident(req="", alarm_id=alarm.id, type_code="hazchem_leak")
            )
            assert isinstance(opened, IncidentResult)
            await exercise.recorder.wait_for(
                lambda: any(e.kind == "incident.opened" for e in exercise.recorder.events)
            )
            await trainer.client.request(StopExercise(req="", run_id=run_id))
        finally:
            await exercise.close()
        # Give a leak the time to arrive, then look at everything the live side got.
        await bystander.client.request(Ping(req=""))
        for console in (bystander, desk):
            texts = [msgspec.json.encode(e).decode() for e in console.recorder.events]
            texts += [msgspec.json.encode(t).decode() for t in console.recorder.telemetry]
            assert not [t for t in texts if PHONE in t or SENSOR in t or "incident." in t]
            assert not [e for e in console.recorder.events if e.kind.startswith("device.")]
        assert not [e for e in desk.recorder.events if e.kind.startswith("exercise.")]
        async with server.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Alarm)) == 0
            assert await session.scalar(select(func.count()).select_from(IncidentRecord)) == 0
            assert await session.scalar(select(func.count()).select_from(PositionRecord)) == 0
            assert await session.scalar(select(func.count()).select_from(ReadingRecord)) == 0
    finally:
        for console in (trainer, bystander, desk):
            await console.close()
