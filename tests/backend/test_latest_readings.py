"""A console that subscribes to readings gets every sensor's newest value at once — from
this run or stored before the server started — not "no reading yet" until the sensor next
reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from sqlalchemy import insert
from websockets.asyncio.client import connect

from backend.registry import load_sensors_csv
from backend.server import DutyDeskServer
from backend.storage.models import ReadingRecord
from realtime.client import basic_auth_header
from realtime.protocol import ReadingView, Subscribe, Subscribed
from tests.backend.conftest import Console, device_url, open_console


def _readings(console: Console) -> list[ReadingView]:
    return [view for batch in console.recorder.telemetry for view in batch.readings]


async def test_a_reading_from_before_the_console_subscribed_arrives_at_once(
    server: DutyDeskServer,
) -> None:
    ch4 = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    await server.sensors.add_sensors([ch4])
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=20)
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        for ref, value, seconds in (("r1", 0.41, 0), ("r2", 0.43, 10)):
            when = (at + dt.timedelta(seconds=seconds)).isoformat()
            reading = {"type": "device.reading", "ref": ref, "sensor": "ch4-0001", "at": when}
            await ws.send(json.dumps(reading | {"value": value, "unit": "%"}))
            assert json.loads(await ws.recv())["type"] == "ack"
    server.hub.flush_telemetry()  # nobody subscribed yet: that tick reached no one
    console = await open_console(server)
    try:
        # Positions only: no readings, now or later.
        answer = await console.client.request(Subscribe(req="", topics=["positions"]))
        assert isinstance(answer, Subscribed)
        answer = await console.client.request(Subscribe(req="", topics=["positions", "readings"]))
        assert isinstance(answer, Subscribed)
        await console.recorder.wait_for(lambda: _readings(console), timeout=5)
        (view,) = _readings(console)  # the newest only, with nothing new reported
        assert (view.sensor, view.value, view.unit) == ("ch4-0001", 0.43, "%")
        assert view.at == at + dt.timedelta(seconds=10)
    finally:
        await console.close()


async def test_readings_stored_before_the_server_started_are_the_latest_values(
    server: DutyDeskServer,
) -> None:
    sensors = [s for s in load_sensors_csv() if s.sensor_id in {"ch4-0001", "co-0002"}]
    await server.sensors.add_sensors(sensors)
    t0 = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)
    async with server.sessions.begin() as session:
        await session.execute(
            insert(ReadingRecord),
            [
                {"device": "plc", "sensor": "ch4-0001", "at": t0, "value": 0.9, "unit": "%"},
                {"device": "plc", "sensor": "ch4-0001", "at": t0 + dt.timedelta(minutes=1),
                 "value": 0.35, "unit": "%"},
                {"device": "plc", "sensor": "ch4-0001", "at": t0 - dt.timedelta(minutes=1),
                 "value": 1.7, "unit": "%"},
            ],
        )  # fmt: skip
    # Another server on the same database: it knows the values only from storage.
    restarted = DutyDeskServer(dataclasses.replace(server.config, port=0))
    await restarted.start()
    console = await open_console(restarted)
    try:
        await console.client.request(Subscribe(req="", topics=["readings"]))
        await console.recorder.wait_for(lambda: _readings(console), timeout=5)
        # The newest stored value of the sensor that has readings; none for the other.
        assert [(v.sensor, v.device, v.value, v.at) for v in _readings(console)] == [
            ("ch4-0001", "plc", 0.35, t0 + dt.timedelta(minutes=1))
        ]
    finally:
        await console.close()
        await restarted.close()
