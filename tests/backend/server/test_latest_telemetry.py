"""A console that subscribes gets every sensor's newest value and every vehicle's last known
fix at once — from this run or stored before the server started — not an empty map and
"no reading yet" until each device next reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import event, insert
from websockets.asyncio.client import connect

from backend.registry.files import load_sensors_csv
from backend.sensors import timeseries
from backend.server import handlers as server_module
from backend.server.app import DutyDeskServer
from backend.storage.models import PositionRecord, ReadingRecord
from backend.vehicles import track_query
from devices.observations import Position
from realtime.client import basic_auth_header
from realtime.protocol import PositionView, ReadingView, Subscribe, Subscribed
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


def _positions(console: Console) -> list[PositionView]:
    return [view for batch in console.recorder.telemetry for view in batch.positions]


async def test_every_vehicle_s_last_known_place_arrives_when_a_console_subscribes(
    server: DutyDeskServer,
) -> None:
    """Parked or silent trucks are on the map at once: from this run, or from storage."""
    t0 = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)
    await server.registry.add("jt808", "13900000007", "危化品运输车 07", plate="浙A·D0007")
    await server.registry.add("jt808", "13900000008", "危化品运输车 08", plate="浙A·D0008")
    await server.registry.add("jt808", "13900000009", "危化品运输车 09", plate="浙A·D0009")
    fix = {"speed_kmh": 0.0, "heading_deg": 90.0, "altitude_m": 8.0, "backfill": False}
    async with server.sessions.begin() as session:
        await session.execute(
            insert(PositionRecord),
            [
                fix | {"device": "13900000007", "at": t0, "lat": 30.1, "lon": 120.1, "alarms": ""},
                fix | {"device": "13900000007", "at": t0 + dt.timedelta(hours=2), "lat": 30.3,
                       "lon": 120.3, "alarms": "emergency,overspeed"},
                fix | {"device": "13900000008", "at": t0, "lat": 29.9, "lon": 121.0, "alarms": ""},
            ],
        )  # fmt: skip
    # Heard in this run only (no stored fix yet at start): the hub's own memory.
    live = Position(device="13900000011", at=t0, lat=31.0, lon=121.5, speed_kmh=40.0)
    server.hub.offer_position(live)
    server.hub.flush_telemetry()
    restarted = DutyDeskServer(dataclasses.replace(server.config, port=0))
    await restarted.start()
    restarted.hub.offer_position(live)
    restarted.hub.flush_telemetry()
    console = await open_console(restarted)
    try:
        await console.client.request(Subscribe(req="", topics=["readings"]))
        await console.client.request(Subscribe(req="", topics=["readings", "positions"]))
        await console.recorder.wait_for(lambda: _positions(console), timeout=5)
        seen = {view.device: view for view in _positions(console)}
        # 09 has never reported: nothing to show for it.
        assert sorted(seen) == ["13900000007", "13900000008", "13900000011"]
        newest = seen["13900000007"]
        assert (newest.at, newest.lat, newest.lon) == (t0 + dt.timedelta(hours=2), 30.3, 120.3)
        assert newest.alarms == ["emergency", "overspeed"]
        assert seen["13900000011"].speed_kmh == 40.0
    finally:
        await console.close()
        await restarted.close()


async def test_a_large_snapshot_comes_in_messages_of_a_bounded_size(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "SNAPSHOT_CHUNK", 2)
    at = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)
    server.hub.remember_positions(
        [PositionView(device=f"1390000010{n}", at=at, lat=30.0, lon=120.0 + n) for n in range(5)]
    )
    console = await open_console(server)
    try:
        await console.client.request(Subscribe(req="", topics=["positions"]))
        await console.recorder.wait_for(lambda: len(_positions(console)) == 5, timeout=5)
        sizes = [len(batch.positions) for batch in console.recorder.telemetry]
        assert sizes == [2, 2, 1]
    finally:
        await console.close()


async def test_the_snapshot_is_read_in_one_statement_whatever_the_fleet_size(
    server: DutyDeskServer,
) -> None:
    """A round trip per vehicle made a 5,000-vehicle server take ≈ 7 s to start."""
    t0 = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)
    fleet = [str(13900000100 + n) for n in range(60)]
    fix: dict[str, object] = {"lat": 30.0, "lon": 120.0, "speed_kmh": 0.0, "heading_deg": 0.0}
    fix |= {"altitude_m": 0.0, "alarms": "", "backfill": False}
    for device in fleet:
        await server.registry.add("jt808", device, f"车 {device}")
    async with server.sessions.begin() as session:
        await session.execute(
            insert(PositionRecord),
            [
                fix | {"device": d, "at": t0 + dt.timedelta(seconds=s)}
                for d in fleet
                for s in (0, 5)
            ],
        )
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sync_engine = server.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        async with server.sessions() as session:
            fixes = await track_query.latest_fixes(session, {"jt808"})
            readings = await timeseries.latest_reading_views(session)
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements
    assert sorted(view.device for view in fixes) == fleet
    assert {view.at for view in fixes} == {t0 + dt.timedelta(seconds=5)}
    assert readings == []
