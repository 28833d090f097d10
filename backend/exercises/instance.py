"""An exercise instance: a second, complete :class:`DutyDeskServer` in the live server's
process, with its own SQLite database, event log, hub and JT/T 808 gateway, its clock the
exercise clock, and the live server's identity (users, sessions, logins).

It is seeded from the recording's :class:`RegistrySnapshot` (devices with the auth codes
they logged in with, sensors with their rules, cameras, units, registry items, geofences)
before the replay starts; it reads no live table but the road layer (map data: the live
server's :class:`~backend.roads.service.RoadService`, shared, only read).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import update

from backend.errors import Error as Refusal
from backend.exercises.clock import ExerciseClock
from backend.exercises.recording import Recording, RegistrySnapshot, SensorEntry
from backend.registry.cameras import Error as CameraError
from backend.registry.devices import Error as DeviceError
from backend.registry.devices import normalize_phone
from backend.sensors.rules import (
    DEFAULT_UNITS,
    Placement,
    RuleSet,
    SensorConfig,
    SensorKind,
    default_rules,
)
from backend.server.app import DutyDeskServer
from backend.server.app import Error as StartError
from backend.server.config import ServerConfig
from backend.storage.models import Device
from realtime.protocol import CameraView, ExerciseLabel, SaveGeofence

logger = logging.getLogger(__name__)

DATABASE_NAME = "exercise.sqlite"
MIN_DEADLINE_CHECK_INTERVAL = 0.05
"""Wall seconds: the deadline checks of a fast exercise come at most this often."""
__all__ = [
    "DATABASE_NAME",
    "Error",
    "StartError",
    "add_unlisted_terminals",
    "build_instance",
    "database_url",
    "deadline_check_interval",
    "follow_speed",
    "seed",
    "sensor_config",
]


class Error(Exception):
    """The recording's registry cannot be set up in the exercise (``str()`` says why)."""


def database_url(path: Path) -> str:
    """The SQLAlchemy URL of an exercise's own database file."""
    return f"sqlite+aiosqlite:///{path}"


def build_instance(
    live: DutyDeskServer,
    *,
    directory: Path,
    label: ExerciseLabel,
    clock: ExerciseClock,
) -> DutyDeskServer:
    """An exercise instance beside ``live`` (not started)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = live.config
    speed = clock.speed
    exercise_config = ServerConfig(
        db_url=database_url(directory / DATABASE_NAME),
        data_dir=directory,
        host="127.0.0.1",
        port=0,
        cipher=live.cipher,
        console_rate_per_second=config.console_rate_per_second,
        console_rate_burst=config.console_rate_burst,
        jt808_auto_register=False,
        jt808_listen=("127.0.0.1", 0),
        # Silence is measured on the exercise clock (ServerConfig.exercise set), which
        # follows speed changes and waits for a lagging replay.
        jt808_offline_after=config.jt808_offline_after,
        jt808_max_frames_per_second=config.jt808_max_frames_per_second * 64,
        # Only the replayer connects, from 127.0.0.1, one connection per recorded terminal:
        # the per-address cap (256) would refuse a fleet's recording.
        jt808_limits=dataclasses.replace(
            config.jt808_limits,
            max_connections_per_address=config.jt808_limits.max_connections,
        ),
        telemetry_commit_delay=config.telemetry_commit_delay,
        telemetry_fanout_interval=config.telemetry_fanout_interval,
        vehicle_rules=config.vehicle_rules,
        catalogue=config.catalogue,
        deadline_check_interval=deadline_check_interval(config, speed),
        clock=clock,
        max_attachment_bytes=config.max_attachment_bytes,
        cover_minutes=config.cover_minutes,
        exercise=label,
        record_inputs=False,
    )
    # The road layer is map data: the live one serves the drill map and road ETAs as it
    # is (read, never copied into the exercise's database).
    return DutyDeskServer(exercise_config, identity=live.identity, roads=live.roads)


def deadline_check_interval(live: ServerConfig, speed: float) -> float:
    """How often an exercise at ``speed`` checks its tasks' deadlines: the live interval in
    exercise seconds (so a deadline is as late in exercise time as live), at most 20 a
    second."""
    return max(live.deadline_check_interval / speed, MIN_DEADLINE_CHECK_INTERVAL)


def follow_speed(instance: DutyDeskServer, live: ServerConfig, speed: float) -> None:
    """After a speed change: the instance's deadline checks keep pace with its clock."""
    instance.incidents.check_interval = deadline_check_interval(live, speed)


def sensor_config(entry: SensorEntry) -> SensorConfig:
    """The rules' view of a recorded sensor (its own rules, else its kind's defaults)."""
    try:
        kind = SensorKind(entry.kind)
        # The recording's "general" is the rules' unnamed general placement.
        placement = Placement("" if entry.placement == "general" else entry.placement)
        rules = (
            RuleSet.from_data(entry.rules)
            if entry.rules is not None
            else default_rules(kind, placement)
        )
        return SensorConfig(
            sensor_id=entry.sensor_id,
            kind=kind,
            unit=entry.unit or DEFAULT_UNITS[kind],
            rules=rules,
            poll_cycle_seconds=entry.poll_cycle_seconds,
            placement=placement,
            name=entry.name,
            place=entry.place,
            lat=entry.lat,
            lon=entry.lon,
            hazard_source=entry.hazard_source,
            enterprise=entry.enterprise,
            jurisdiction=entry.jurisdiction,
        )
    except (ValueError, KeyError) as exc:
        raise Error(f"sensor {entry.sensor_id!r} of the recording: {exc}") from exc


async def seed(instance: DutyDeskServer, snapshot: RegistrySnapshot, codes: dict[str, str]) -> None:
    """Set the exercise up from the recording's registry (run on the exercise clock);
    raise :class:`Error` saying what of it cannot be set up."""
    try:
        await _seed(instance, snapshot, codes)
    except (DeviceError, CameraError, Refusal, ValueError) as exc:
        raise Error(f"the recording's registry cannot be set up: {exc}") from exc


async def _seed(
    instance: DutyDeskServer, snapshot: RegistrySnapshot, codes: dict[str, str]
) -> None:
    for device in snapshot.devices:
        await instance.registry.add(
            device.kind, device.identity, device.name, plate=device.plate, owner=device.owner
        )
    if codes:
        async with instance.sessions.begin() as session:
            for phone, code in codes.items():
                await session.execute(
                    update(Device)
                    .where(Device.kind == "jt808", Device.identity == normalize_phone(phone))
                    .values(auth_code=code)
                )
    sensors = [sensor_config(entry) for entry in snapshot.sensors]
    if sensors:
        await instance.sensors.add_sensors(sensors)
    cameras = _with_stream(snapshot.cameras)
    if cameras:
        await instance.cameras.import_cameras(cameras)
    if snapshot.units:
        await instance.alarms.seed_units(snapshot.units)
    if snapshot.items:
        await instance.registry_items.import_items(
            snapshot.items, by="exercise", source="recording"
        )
    for fence in snapshot.geofences:
        await instance.geofences.save(
            "exercise",
            SaveGeofence(
                req="seed",
                name=fence.name,
                kind=fence.kind,
                shape=fence.shape,
                limit_kmh=fence.limit_kmh,
                level=fence.level,
                dwell_s=fence.dwell_s,
                vehicles=list(fence.vehicles),
            ),
        )
    if snapshot.geofences:
        await instance.apply_geofences()
    logger.info(
        "exercise seeded: %s devices, %s sensors, %s cameras, %s units, %s items, %s geofences",
        len(snapshot.devices),
        len(sensors),
        len(cameras),
        len(snapshot.units),
        len(snapshot.items),
        len(snapshot.geofences),
    )


def _with_stream(cameras: list[CameraView]) -> list[CameraView]:
    """The cameras the registry can take: one without a stream address is left out (the
    run goes on without it)."""
    kept = []
    for camera in cameras:
        if camera.stream_url.strip():
            kept.append(camera)
        else:
            logger.info("camera %s of the recording has no stream address: left out", camera.code)
    return kept


async def add_unlisted_terminals(
    instance: DutyDeskServer, recording: Recording, phones: Iterable[str]
) -> int:
    """Register the terminals whose frames the recording holds but its registry does not
    list (so the gateway takes them as it took them live); return how many."""
    listed = {
        normalize_phone(device.identity)
        for device in recording.registry.devices
        if device.kind == "jt808"
    }
    added = 0
    for phone in sorted(set(phones) - listed):
        with contextlib.suppress(DeviceError):
            await instance.registry.add("jt808", phone, phone)
            added += 1
    return added
