"""The exercise clock never runs ahead of the replay: when the sending falls behind,
exercise time waits for it, so a slowed replay raises the same alarms as an unhindered
one and no sensor goes stale for want of readings that were merely late."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from backend.authz.principal import Principal
from backend.exercises.clock import ExerciseClock
from backend.exercises.determinism import AlarmKey, alarm_keys
from backend.exercises.recording import Entry, FeedInput, Jt808Input, Recording, SensorEntry
from backend.exercises.replay import Replayer
from backend.server.app import DutyDeskServer
from realtime.protocol import (
    DeviceAlarm,
    Event,
    ExerciseState,
    Role,
    StartExercise,
    encode,
)
from realtime.states import AlarmLevel
from tests.backend.exercises.helpers import at, reading, save_recording, small_recording

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SECONDS = 40
SPEED = 64.0
CROSSING = 36


def test_the_clock_waits_at_its_limit_and_counts_the_time_lost() -> None:
    wall = [0.0]
    clock = ExerciseClock(at(0), 10.0, monotonic=lambda: wall[0])
    clock.resume()
    clock.limit(5.0)
    wall[0] = 2.0  # 20 recorded seconds at 10x, but the replay is at 5
    assert clock.position() == 5.0
    assert clock.behind() == pytest.approx(15.0)
    assert clock.wall_seconds_until(6.0) is None  # not before the limit moves
    clock.limit(None)
    wall[0] = 2.5
    assert clock.position() == pytest.approx(10.0)  # on from where it waited
    assert clock.behind() == pytest.approx(15.0)
    clock.seek(30.0)  # a seek passes the limit
    clock.limit(12.0)
    assert clock.position() == pytest.approx(30.0)


def _recording() -> Recording:
    """A methane sensor read every second (stale after 3 s without one), over its alarm
    limit from :data:`CROSSING` on; a truck logged in."""
    base = small_recording(duration_s=SECONDS + 1)
    logins = [entry for entry in base.entries if isinstance(entry, Jt808Input)][:2]
    entries: list[Entry] = list(logins)
    for second in range(1, SECONDS):
        value = 1.6 if second >= CROSSING else 0.2
        text = reading(at(second), value, f"r{second}")
        entries.append(FeedInput(at=at(second), connection=1, account="gasfeed", text=text))
    sensors = [
        msgspec.structs.replace(sensor, poll_cycle_seconds=1.0) for sensor in base.registry.sensors
    ]
    assert all(isinstance(sensor, SensorEntry) for sensor in sensors)
    registry = msgspec.structs.replace(base.registry, sensors=sensors)
    return msgspec.structs.replace(base, registry=registry, entries=entries)


async def _run(
    server: DutyDeskServer, trainer: Principal, name: str
) -> tuple[list[Event], list[AlarmKey]]:
    manager = server.exercises
    assert manager is not None
    view = await manager.start(trainer, StartExercise(req="", recording=name, speed=SPEED))
    await asyncio.wait_for(manager.wait_ended(view.run_id), 60)
    assert (await manager.view(trainer, view.run_id)).state is ExerciseState.FINISHED
    events = await manager.run_events(view.run_id)
    return events, alarm_keys(events, origin=manager.origin(view.run_id))


@SQLITE_ONLY
async def test_a_slowed_replay_raises_the_same_alarms_and_no_sensor_goes_stale(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = await server.users.add_user(
        "trainer1", "pw-trainer1-long", Role.TRAINER, jurisdiction="31"
    )
    name = save_recording(server, _recording())
    unhindered, unhindered_keys = await _run(server, trainer, name)

    send_feed = Replayer._send_feed

    async def slow_feed(self: Replayer, text: str, offset: float, key: str = "") -> None:
        await asyncio.sleep(0.1)  # 64x wants 1/64 s per reading: 6 times slower
        await send_feed(self, text, offset, key)

    monkeypatch.setattr(Replayer, "_send_feed", slow_feed)
    slowed, slowed_keys = await _run(server, trainer, name)

    def until_crossing(events: list[Event]) -> list[str]:
        """The alarms raised up to the crossing's (a finished run stays open on its
        running clock: after the recording's end its silent sensor does go stale)."""
        raised = [e.alarm.alarm_type for e in events if e.kind == "alarm.raised" and e.alarm]
        return raised[: raised.index("sensor_threshold_high") + 1]

    assert until_crossing(unhindered) == ["sensor_threshold_high"]
    assert until_crossing(slowed) == ["sensor_threshold_high"], "no sensor went stale"
    assert slowed_keys[:1] == unhindered_keys[:1]
    assert slowed_keys[0][0] == CROSSING


@SQLITE_ONLY
async def test_several_exercises_start_at_once(server: DutyDeskServer) -> None:
    manager = server.exercises
    assert manager is not None
    trainer = await server.users.add_user(
        "trainer1", "pw-trainer1-long", Role.TRAINER, jurisdiction="31"
    )
    name = save_recording(server, small_recording(duration_s=2.0))
    views = await asyncio.gather(
        *(
            manager.start(trainer, StartExercise(req=str(n), recording=name, speed=SPEED))
            for n in range(3)
        )
    )
    for view in views:
        await asyncio.wait_for(manager.wait_ended(view.run_id), 30)
        ended = await manager.view(trainer, view.run_id)
        assert ended.state is ExerciseState.FINISHED
        assert ended.alarms > 0


@SQLITE_ONLY
async def test_a_monitoring_systems_own_alarm_has_the_same_key_in_every_run(
    server: DutyDeskServer,
) -> None:
    trainer = await server.users.add_user(
        "trainer1", "pw-trainer1-long", Role.TRAINER, jurisdiction="31"
    )
    alarm = DeviceAlarm(
        ref="a1", key="gas_leak", alarm_type="gas_leak", level=AlarmLevel.ORANGE, title="泄漏"
    )
    base = small_recording(duration_s=2.0)
    entries: list[Entry] = [
        *base.entries[:2],
        FeedInput(at=at(1.0), connection=1, account="gasfeed", text=encode(alarm).decode()),
    ]
    name = save_recording(server, msgspec.structs.replace(base, entries=entries))
    _first, first = await _run(server, trainer, name)
    _second, second = await _run(server, trainer, name)
    assert first == second
    assert [device for _at, device, _type, _level in first] == ["gasfeed"]


@SQLITE_ONLY
async def test_a_recording_whose_camera_has_no_stream_address_starts(
    server: DutyDeskServer,
) -> None:
    trainer = await server.users.add_user(
        "trainer1", "pw-trainer1-long", Role.TRAINER, jurisdiction="31"
    )
    base = small_recording(duration_s=1.0)
    cameras = [msgspec.structs.replace(camera, stream_url="") for camera in base.registry.cameras]
    registry = msgspec.structs.replace(base.registry, cameras=cameras)
    name = save_recording(server, msgspec.structs.replace(base, registry=registry))
    await _run(server, trainer, name)


@SQLITE_ONLY
async def test_stopping_a_finished_run_makes_it_stopped(server: DutyDeskServer) -> None:
    manager = server.exercises
    assert manager is not None
    trainer = await server.users.add_user(
        "trainer1", "pw-trainer1-long", Role.TRAINER, jurisdiction="31"
    )
    name = save_recording(server, small_recording(duration_s=1.0))
    view = await manager.start(trainer, StartExercise(req="", recording=name, speed=SPEED))
    await asyncio.wait_for(manager.wait_ended(view.run_id), 30)
    assert (await manager.view(trainer, view.run_id)).state is ExerciseState.FINISHED
    stopped = await manager.stop(trainer, view.run_id)
    assert stopped.state is ExerciseState.STOPPED
    assert stopped.ended_at is not None
    assert (await manager.view(trainer, view.run_id)).state is ExerciseState.STOPPED
