"""Steering a run (pause, resume, seek, speed), injecting events, refusing what must be
refused (hostile recordings, wrong roles, other trainers' runs), and the same alarms at
1×, 10× and 64×."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest

from backend.authz.principal import Principal
from backend.errors import Error as Refusal
from backend.exercises.determinism import alarm_keys
from backend.exercises.instance import MIN_DEADLINE_CHECK_INTERVAL
from backend.exercises.manager import ExerciseManager
from backend.exercises.recording import (
    FORMAT_NAME,
    MAX_RECORDING_BYTES,
    DeviceEntry,
    ModbusInput,
    NmeaInput,
    SensorEntry,
    encode_recording,
)
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from realtime.protocol import (
    ControlAction,
    ControlExercise,
    ErrorCode,
    ExerciseState,
    InjectEvent,
    InjectKind,
    Role,
    StartExercise,
)
from tests.backend.exercises.helpers import (
    CAMERA,
    PHONE,
    SENSOR,
    at,
    recordings_dir,
    save_recording,
    small_recording,
)
from tests.backend.exercises.test_replay_core import GGA, RMC, nmea_line


def _manager(server: DutyDeskServer) -> ExerciseManager:
    assert server.exercises is not None
    return server.exercises


async def _trainer(server: DutyDeskServer, name: str = "trainer1") -> Principal:
    return await server.users.add_user(name, f"pw-{name}-long", Role.TRAINER, jurisdiction="31")


def _control(run_id: str, action: ControlAction, **values: float) -> ControlExercise:
    return ControlExercise(req="", run_id=run_id, action=action, **values)


# The exercise's own database is SQLite whatever the live one is: the live side's
# PostgreSQL variant adds nothing to these, so they run on SQLite only (not skipped).
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
async def test_pause_resume_seek_and_speed(server: DutyDeskServer) -> None:
    manager = _manager(server)
    trainer = await _trainer(server)
    name = save_recording(server, small_recording(duration_s=600))
    run = await manager.start(trainer, StartExercise(req="", recording=name))
    paused = await manager.control(trainer, _control(run.run_id, ControlAction.PAUSE))
    assert paused.state is ExerciseState.PAUSED
    await asyncio.sleep(0.3)
    assert (await manager.view(trainer, run.run_id)).position_s == pytest.approx(paused.position_s)
    # Backward is refused, with the reason.
    with pytest.raises(Refusal, match="cannot seek back"):
        await manager.control(trainer, _control(run.run_id, ControlAction.SEEK, position_s=0.0))
    # Forward while paused: everything in between is replayed at once, in order.
    sought = await manager.control(
        trainer, _control(run.run_id, ControlAction.SEEK, position_s=3.5)
    )
    assert sought.position_s == pytest.approx(3.5)
    instance = manager.instance_of(run.run_id)
    assert instance is not None

    async def alarm_types() -> set[str]:
        events = await manager.run_events(run.run_id)
        return {e.alarm.alarm_type for e in events if e.alarm and e.kind == "alarm.raised"}

    async with asyncio.timeout(10):
        # Polling the exercise's log (ASYNC110).
        while {"vehicle_overspeed", "sensor_threshold_high"} - await alarm_types():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    # The deadline checks keep pace with the clock: the live interval in exercise seconds.
    live_check = server.config.deadline_check_interval
    assert instance.incidents.check_interval == pytest.approx(live_check)
    await manager.control(trainer, _control(run.run_id, ControlAction.SPEED, speed=8.0))
    assert instance.incidents.check_interval == pytest.approx(live_check / 8)
    fast = await manager.control(trainer, _control(run.run_id, ControlAction.SPEED, speed=64.0))
    assert fast.speed == 64.0
    assert instance.incidents.check_interval == pytest.approx(
        max(live_check / 64, MIN_DEADLINE_CHECK_INTERVAL)
    )
    resumed = await manager.control(trainer, _control(run.run_id, ControlAction.RESUME))
    assert resumed.state is ExerciseState.RUNNING
    await asyncio.sleep(0.2)
    assert (await manager.view(trainer, run.run_id)).position_s > 3.5 + 5
    with pytest.raises(Refusal, match="speed must be 1 to 64"):
        await manager.control(trainer, _control(run.run_id, ControlAction.SPEED, speed=65.0))
    with pytest.raises(Refusal, match="600 s long"):
        await manager.control(trainer, _control(run.run_id, ControlAction.SEEK, position_s=900))
    await manager.stop(trainer, run.run_id)
    with pytest.raises(Refusal, match="has ended"):
        await manager.control(trainer, _control(run.run_id, ControlAction.PAUSE))


@SQLITE_ONLY
async def test_injections_go_through_the_instance(server: DutyDeskServer) -> None:
    manager = _manager(server)
    trainer = await _trainer(server)
    name = save_recording(server, small_recording(duration_s=600))
    run = await manager.start(trainer, StartExercise(req="", recording=name, speed=4.0))
    for kind, target in (
        (InjectKind.SENSOR_FAILS, SENSOR),
        (InjectKind.TRUCK_SOS, PHONE),
        (InjectKind.CAMERA_DROPS, CAMERA),
    ):
        view = await manager.inject(
            trainer, InjectEvent(req="", run_id=run.run_id, kind=kind, target=target)
        )
    assert view.injected == 3

    async def raised() -> set[str]:
        events = await manager.run_events(run.run_id)
        return {e.alarm.alarm_type for e in events if e.alarm and e.kind == "alarm.raised"}

    async def all_raised() -> bool:
        types = await raised()
        sos = [t for t in types if "sos" in t or "emergency" in t]
        return not {"sensor_offline", "camera_offline"} - types and bool(sos)

    async with asyncio.timeout(10):
        while not await all_raised():  # noqa: ASYNC110 - polling the exercise's log
            await asyncio.sleep(0.05)
    with pytest.raises(Refusal, match="no camera"):
        await manager.inject(
            trainer,
            InjectEvent(req="", run_id=run.run_id, kind=InjectKind.CAMERA_DROPS, target="X"),
        )
    with pytest.raises(Refusal, match="no task 42"):
        await manager.inject(
            trainer,
            InjectEvent(req="", run_id=run.run_id, kind=InjectKind.TASK_DECLINED, target="42"),
        )
    # Each injection is one live exercise.injected event.
    async with server.sessions() as session:
        from backend.eventlog import log as eventlog

        live = await eventlog.events_after(session, 0, 1000)
    assert [e.note.split()[0] for e in live if e.kind == "exercise.injected"] == [
        "sensor_fails",
        "truck_sos",
        "camera_drops",
    ]
    assert not [e for e in live if e.kind == "alarm.raised"]
    await manager.stop(trainer, run.run_id)


@SQLITE_ONLY
async def test_other_trainers_and_wrong_roles_are_refused(server: DutyDeskServer) -> None:
    manager = _manager(server)
    trainer = await _trainer(server)
    other = await server.users.add_user(
        "trainer2", "pw-trainer2-long", Role.TRAINER, jurisdiction="33"
    )
    name = save_recording(server, small_recording(duration_s=60))
    run = await manager.start(trainer, StartExercise(req="", recording=name))
    for attempt in (
        manager.control(other, _control(run.run_id, ControlAction.PAUSE)),
        manager.stop(other, run.run_id),
        manager.view(other, run.run_id),
    ):
        with pytest.raises(Refusal, match=f"no such exercise {run.run_id} in your area"):
            await attempt
    assert await manager.list_runs(other, include_ended=True) == []
    # Shanghai's recording is not Zhejiang's trainer's to start: refused like a missing one.
    with pytest.raises(Refusal, match=f"no recording '{name}'"):
        await manager.start(other, StartExercise(req="", recording=name))
    with pytest.raises(Refusal, match="no such users: ghost"):
        await manager.start(trainer, StartExercise(req="", recording=name, participants=["ghost"]))
    await manager.stop(trainer, run.run_id)


def _unusable_registry() -> bytes:
    recording = small_recording()
    recording.registry.sensors[0].kind = "unobtainium"
    return encode_recording(recording)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not gzip at all", "not gzip"),
        (gzip.compress(b'{"format":"other"}\n{}\n'), "names no recording format"),
        (
            gzip.compress(f'{{"format":"{FORMAT_NAME}","version":99}}\n{{}}\n'.encode()),
            "version 99 is newer",
        ),
        (gzip.compress(b"\n" * (MAX_RECORDING_BYTES + 1)), "larger than"),
        (
            _unusable_registry(),
            "cannot start: sensor 'CH4-01' of the recording: 'unobtainium' is not a valid",
        ),
    ],
    ids=["corrupt", "not-a-recording", "newer-version", "too-big", "unusable-registry"],
)
@SQLITE_ONLY
async def test_a_hostile_recording_is_refused_and_the_server_goes_on(
    server: DutyDeskServer, content: bytes, reason: str
) -> None:
    manager = _manager(server)
    trainer = await _trainer(server)
    recordings_dir(server).mkdir(parents=True, exist_ok=True)
    (recordings_dir(server) / "bad.ddrec").write_bytes(content)
    with pytest.raises(Refusal, match=reason) as refused:
        await manager.start(trainer, StartExercise(req="", recording="bad"))
    assert refused.value.code is ErrorCode.VALIDATION
    with pytest.raises(Refusal, match="no recording 'missing'") as missing:
        await manager.start(trainer, StartExercise(req="", recording="missing"))
    assert missing.value.code is ErrorCode.NOT_FOUND
    # Nothing was left behind, and a good recording still runs.
    assert await manager.list_runs(trainer, include_ended=True) == []
    name = save_recording(server, small_recording())
    run = await manager.start(trainer, StartExercise(req="", recording=name, speed=64.0))
    await manager.stop(trainer, run.run_id)


@SQLITE_ONLY
async def test_the_same_alarms_at_1_10_and_64(server: DutyDeskServer) -> None:
    manager = _manager(server)
    trainer = await _trainer(server)
    name = save_recording(server, small_recording(duration_s=3.2))
    keys = []
    for speed in (1.0, 10.0, 64.0):
        run = await manager.start(trainer, StartExercise(req="", recording=name, speed=speed))
        await manager.wait_ended(run.run_id)
        events = await manager.run_events(run.run_id)
        keys.append(alarm_keys(events, manager.origin(run.run_id)))
        assert alarm_keys(events) == keys[-1]  # the log's first event is at the origin
        sent, lag_p99 = manager.replay_figures(run.run_id)
        assert sent == 6
        assert lag_p99 < 1.0
        await manager.stop(trainer, run.run_id)
    assert keys[0] == keys[1] == keys[2]
    assert [(k[2], k[3]) for k in keys[0]] == [
        ("vehicle_overspeed", keys[0][0][3]),
        ("sensor_threshold_high", keys[0][1][3]),
    ]
    assert keys[0][0][0] == pytest.approx(1.0)
    assert keys[0][1][0] == pytest.approx(2.0)


async def test_ended_runs_stay_listed_and_readable_after_a_restart(
    db_url: str, tmp_path: Path
) -> None:
    def config() -> ServerConfig:
        return ServerConfig(db_url=db_url, data_dir=tmp_path, port=0, cipher=cipher)

    cipher = FieldCipher.generate()
    first = DutyDeskServer(config())
    await first.start()
    try:
        trainer = await _trainer(first)
        name = save_recording(first, small_recording(duration_s=2.5))
        run = await _manager(first).start(trainer, StartExercise(req="", recording=name, speed=8))
        await _manager(first).wait_ended(run.run_id)
        events = await _manager(first).run_events(run.run_id)
        # Left open: the next server marks it ended, its log stays readable.
    finally:
        await first.close()
    second = DutyDeskServer(config())
    await second.start()
    try:
        manager = _manager(second)
        (listed,) = await manager.list_runs(trainer, include_ended=True)
        assert listed.run_id == run.run_id
        assert listed.state in (ExerciseState.FINISHED, ExerciseState.STOPPED)
        assert await manager.list_runs(trainer, include_ended=False) == []
        kept = await manager.run_events(run.run_id)
        assert [e.seq for e in kept] == [e.seq for e in events]
        assert alarm_keys(kept, manager.origin(run.run_id)) == alarm_keys(events, run.started_at)
        assert len(await manager.original_events(run.run_id)) == 0
        # Only runs of this process can be steered: an ended one is refused as unknown.
        with pytest.raises(Refusal, match="no such exercise"):
            await manager.control(trainer, _control(run.run_id, ControlAction.PAUSE))
    finally:
        await second.close()


@SQLITE_ONLY
async def test_nmea_and_modbus_input_reach_the_exercise_through_the_feed(
    server: DutyDeskServer,
) -> None:
    manager = _manager(server)
    trainer = await _trainer(server)
    recording = small_recording(duration_s=2.0)
    recording.registry.devices.append(DeviceEntry(kind="nmea", identity="gps-1", name="GPS"))
    recording.registry.sensors.append(
        SensorEntry(sensor_id="CH4-02", kind="ch4", unit="%", placement="mining_face")
    )
    recording.entries = [
        NmeaInput(at=at(0.5), device="gps-1", line=nmea_line(RMC)),
        NmeaInput(at=at(0.5), device="gps-1", line=nmea_line(GGA)),
        # 1.6 % as a big-endian float32: 0x3FCC 0xCCCD.
        ModbusInput(
            at=at(1.0), device="plc-1", sensor="CH4-02", address=0, registers=[0x3FCC, 0xCCCD]
        ),
    ]
    name = save_recording(server, recording, "serial")
    run = await manager.start(trainer, StartExercise(req="", recording=name, speed=8.0))
    await manager.wait_ended(run.run_id)
    instance = manager.instance_of(run.run_id)
    assert instance is not None
    events = await manager.run_events(run.run_id)
    raised = [e.alarm for e in events if e.alarm and e.kind == "alarm.raised"]
    assert [(a.alarm_type, a.source_ref) for a in raised] == [
        ("sensor_threshold_high", "sensor:CH4-02")
    ]
    assert {p.device for p in instance.hub.latest_positions()} == {"gps-1"}
    await manager.stop(trainer, run.run_id)


@SQLITE_ONLY
async def test_a_terminal_recorded_without_its_login_is_logged_in(server: DutyDeskServer) -> None:
    manager = _manager(server)
    trainer = await _trainer(server)
    name = save_recording(server, small_recording(duration_s=1.5, with_login=False), "cut")
    run = await manager.start(trainer, StartExercise(req="", recording=name, speed=8.0))
    await manager.wait_ended(run.run_id)
    events = await manager.run_events(run.run_id)
    assert ("jt808:" + PHONE, "vehicle_overspeed") in {
        (e.alarm.source_ref, e.alarm.alarm_type) for e in events if e.alarm
    }
    await manager.stop(trainer, run.run_id)
