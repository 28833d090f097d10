"""A small recording built with the project's own codecs: one truck (JT/T 808) that
logs in and reports an alarm bit, and one methane sensor (device feed) crossing its
alarm threshold; plus the consoles of an exercise."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from backend.exercises.library import RecordingLibrary
from backend.exercises.recording import (
    DeviceEntry,
    Entry,
    FeedInput,
    Header,
    Jt808Input,
    Recording,
    RegistrySnapshot,
    SensorEntry,
)
from backend.server.app import DutyDeskServer
from devices.jt808.codec import encode_frame
from devices.jt808.messages import Authentication, Location
from realtime.client import DutyDeskClient
from realtime.protocol import CameraView, DeviceReading, RecordingSource, encode
from tests.backend.conftest import Console, Recorder

T0 = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)
PHONE = "13800000001"
SENSOR = "CH4-01"
GAS_DEVICE = "mine-station-1"
CAMERA = "CAM-01"
AUTH_CODE = "a1b2c3"
WHERE = (31.19, 121.44)
OVERSPEED_BIT = 1 << 1


def frame(message: Authentication | Location, serial: int) -> bytes:
    return encode_frame(message, phone=PHONE, serial=serial)


def location(at: dt.datetime, *, alarms: int = 0) -> Location:
    return Location.from_degrees(
        lat=WHERE[0], lon=WHERE[1], time=at, speed_kmh=40.0, alarm_flags=alarms
    )


def reading(at: dt.datetime | None, value: float, ref: str) -> str:
    message = DeviceReading(
        ref=ref, device=GAS_DEVICE, kind="json", sensor=SENSOR, value=value, unit="%", at=at
    )
    return encode(message).decode()


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def small_recording(duration_s: float = 4.0, *, with_login: bool = True) -> Recording:
    """A truck's overspeed bit at 1 s, methane over the limit at 2 s (and calm before)."""
    entries: list[Entry] = [
        Jt808Input(at=at(0.1), connection=1, data=frame(Authentication(auth_code=AUTH_CODE), 1)),
        Jt808Input(at=at(0.2), connection=1, data=frame(location(at(0.2)), 2)),
        FeedInput(at=at(0.5), connection=1, account="gasfeed", text=reading(at(0.5), 0.2, "r1")),
        Jt808Input(
            at=at(1.0), connection=1, data=frame(location(at(1.0), alarms=OVERSPEED_BIT), 3)
        ),
        FeedInput(at=at(2.0), connection=1, account="gasfeed", text=reading(at(2.0), 1.6, "r2")),
        Jt808Input(at=at(3.0), connection=1, data=frame(location(at(3.0)), 4)),
    ]
    if not with_login:  # recorded while the terminal was already connected
        entries = entries[1:]
    return Recording(
        header=Header(
            title="测试演练",
            source=RecordingSource.WINDOW,
            window_from=T0,
            window_to=T0 + dt.timedelta(seconds=duration_s),
            recorded_at=T0,
            recorded_by="test",
            area="31",  # its devices are Shanghai's: trainers of 31 and the whole area see it
        ),
        registry=RegistrySnapshot(
            devices=[
                DeviceEntry(kind="jt808", identity=PHONE, name="沪A-危化1", plate="沪A12345"),
                DeviceEntry(kind="json", identity=GAS_DEVICE, name="监测站"),
            ],
            sensors=[
                SensorEntry(
                    sensor_id=SENSOR,
                    kind="ch4",
                    unit="%",
                    placement="mining_face",
                    name="工作面甲烷",
                    lat=WHERE[0],
                    lon=WHERE[1],
                    poll_cycle_seconds=30.0,
                )
            ],
            cameras=[
                CameraView(
                    id=0,
                    code=CAMERA,
                    name="罐区摄像头",
                    lat=WHERE[0],
                    lon=WHERE[1],
                    stream_url="rtsp://127.0.0.1/cam1",
                )
            ],
        ),
        entries=entries,
    )


def save_recording(server: DutyDeskServer, recording: Recording, name: str = "small") -> str:
    RecordingLibrary(server.config.data_dir).save(recording, name)
    return name


async def open_exercise_console(
    server: DutyDeskServer, run_id: str, username: str, password: str
) -> Console:
    recorder = Recorder()
    client = DutyDeskClient(
        f"ws://127.0.0.1:{server.port}/exercise/{run_id}/console",
        recorder,
        username=username,
        password=password,
        backoff_initial=0.05,
        backoff_max=0.2,
        on_telemetry=recorder.on_telemetry,
    )
    task = asyncio.create_task(client.run())
    await client.wait_live(10)
    return Console(client, recorder, task)


def recordings_dir(server: DutyDeskServer) -> Path:
    return server.config.data_dir / "recordings"
