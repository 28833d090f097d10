"""Everything is placed (issue 14, item 2): fixes, their alarms, device, sensor and
officers' alarms, sensors, cameras and units lie in the jurisdiction containing them,
through the real server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from backend.registry.files import load_sensors_csv, load_units_csv
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.storage.models import PositionRecord, Unit
from backend.vehicles.rules import OfflineRule, RulesConfig, VehicleRulesEngine
from devices.jt808.messages import GeneralResult
from devices.jt808.simulator import SimulatedTruck, TruckPlan
from devices.observations import Position, Reading
from realtime.client import CommandError, basic_auth_header
from realtime.protocol import (
    AlarmResult,
    CameraView,
    CreateAlarm,
    ErrorCode,
    PositionView,
    Role,
    Subscribe,
)
from realtime.states import AlarmLevel
from tests.backend.conftest import USERS, device_url, ingest_for, open_console

PHONE = "13912345678"
PUDONG = (31.2304, 121.5440)
WEST_LAKE = (30.2590, 120.1300)


@pytest.fixture
async def jt808_server(db_url: str, tmp_path: Path) -> AsyncIterator[DutyDeskServer]:
    srv = DutyDeskServer(
        ServerConfig(
            db_url=db_url,
            data_dir=tmp_path,
            port=0,
            cipher=FieldCipher.generate(),
            jt808_listen=("127.0.0.1", 0),
            console_rate_per_second=1000.0,
            console_rate_burst=1000,
        )
    )
    await srv.start()
    for username, password, role in USERS:
        await srv.users.add_user(username, password, role)
    yield srv
    await srv.close()


async def test_a_jt808_sos_in_shanghai_lies_in_its_shanghai_district(
    jt808_server: DutyDeskServer,
) -> None:
    server = jt808_server
    await server.registry.add("jt808", PHONE, "液氨槽车", plate="沪A·D8821")
    console = await open_console(server)
    truck = SimulatedTruck(PHONE, "沪A·D8821", TruckPlan(interval_s=0.2), reply_timeout=3.0)
    try:
        await console.client.request(Subscribe(req="", topics=["positions"]))
        await truck.connect("127.0.0.1", server.jt808_port)
        assert await truck.report() is GeneralResult.SUCCESS
        truck.press_sos()
        assert await truck.report() is GeneralResult.SUCCESS
        await console.recorder.wait_for(
            lambda: any(e.kind == "alarm.raised" for e in console.recorder.events)
        )
        raised = next(e for e in console.recorder.events if e.kind == "alarm.raised")
        assert raised.alarm is not None
        assert raised.alarm.alarm_type == "vehicle_emergency"
        assert raised.alarm.jurisdiction.startswith("3101"), raised.alarm
        assert len(raised.alarm.jurisdiction) == 6, "a district, not just the city"
        assert raised.alarm.jurisdiction == server.jurisdictions.place(
            raised.alarm.lat, raised.alarm.lon
        )
        await console.recorder.wait_for(lambda: bool(console.recorder.telemetry))
        fix = console.recorder.telemetry[-1].positions[0]
        assert fix.jurisdiction.startswith("3101")
        async with server.sessions() as session:
            stored = list(await session.scalars(select(PositionRecord.jurisdiction)))
        assert stored
        assert all(code.startswith("3101") for code in stored), stored
    finally:
        await truck.close()
        await console.close()


async def test_rule_alarms_without_coordinates_lie_where_the_vehicle_was(
    server: DutyDeskServer,
) -> None:
    rules = RulesConfig(rules=(OfflineRule(rule_id="offline", timeout_s=0.2),))
    service = ingest_for(
        server,
        touch_interval=0.05,
        vehicle_rules=VehicleRulesEngine(rules),
        jurisdictions=server.jurisdictions,
    )
    service.start()
    console = await open_console(server)
    try:
        now = dt.datetime.now(dt.UTC)
        await service.submit(Position(device="13900000001", at=now, lat=PUDONG[0], lon=PUDONG[1]))
        assert service.place_of("13900000001") == "310115"
        await console.recorder.wait_for(
            lambda: any(e.kind == "alarm.raised" for e in console.recorder.events)
        )
        alarm = next(e.alarm for e in console.recorder.events if e.kind == "alarm.raised")
        assert alarm is not None
        assert (alarm.alarm_type, alarm.jurisdiction) == ("vehicle_offline", "310115")
    finally:
        await console.close()
        await service.stop()


def test_an_ingest_remembers_the_last_stored_fixes(server: DutyDeskServer) -> None:
    service = ingest_for(server)
    at = dt.datetime.now(dt.UTC)
    service.remember_places(
        [
            PositionView(
                device="a",
                at=at,
                lat=1.0,
                lon=2.0,
                speed_kmh=0,
                heading_deg=0,
                jurisdiction="310115",
            )
        ]
    )
    assert (service.place_of("a"), service.place_of("b")) == ("310115", "")


async def test_device_feed_alarms_are_placed(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        async with connect(
            device_url(server),
            additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
        ) as ws:
            at = dt.datetime.now(dt.UTC).isoformat()
            for message in (
                # With coordinates: where they are, whatever jurisdiction the feed claims.
                {
                    "type": "device.alarm",
                    "ref": "a",
                    "key": "leak",
                    "alarm_type": "hazmat_leak",
                    "level": "orange",
                    "title": "泄漏",
                    "lat": PUDONG[0],
                    "lon": PUDONG[1],
                    "jurisdiction": "3301",
                },
                {
                    "type": "device.position",
                    "ref": "p",
                    "device": "device1",
                    "at": at,
                    "lat": WEST_LAKE[0],
                    "lon": WEST_LAKE[1],
                },
                # Without: where the feed's last fix was.
                {
                    "type": "device.alarm",
                    "ref": "b",
                    "key": "smoke",
                    "alarm_type": "fire",
                    "level": "red",
                    "title": "烟感",
                },
            ):
                await ws.send(json.dumps(message))
                answer = json.loads(await ws.recv())
                assert answer["type"] == "ack", answer
        await console.recorder.wait_for(
            lambda: sum(e.kind == "alarm.raised" for e in console.recorder.events) == 2
        )
        placed = [e.alarm.jurisdiction for e in console.recorder.events if e.alarm]
        assert placed == ["310115", "330106"]
    finally:
        await console.close()


async def test_an_officers_alarm_lies_where_it_happened_inside_their_area(
    server: DutyDeskServer,
) -> None:
    await server.users.add_user("hz", "pw-hz-officer", Role.OFFICER, jurisdiction="3301")
    console = await open_console(server, "hz", "pw-hz-officer")
    try:
        base = {"req": "", "alarm_type": "fire", "level": AlarmLevel.RED, "title": "火情"}
        placed = await console.client.request(
            CreateAlarm(**base, lat=WEST_LAKE[0], lon=WEST_LAKE[1])  # type: ignore[arg-type]
        )
        unplaced = await console.client.request(CreateAlarm(**base))  # type: ignore[arg-type]
        at_sea = await console.client.request(
            CreateAlarm(**base, lat=30.0, lon=124.0)  # type: ignore[arg-type]
        )
        answers = [a for a in (placed, unplaced, at_sea) if isinstance(a, AlarmResult)]
        assert [a.alarm.jurisdiction for a in answers] == [
            "330106",
            "3301",
            "3301",
        ]
        with pytest.raises(CommandError) as refused:
            await console.client.request(
                CreateAlarm(**base, lat=PUDONG[0], lon=PUDONG[1])  # type: ignore[arg-type]
            )
        assert refused.value.code is ErrorCode.FORBIDDEN
        assert "310115" in refused.value.message
    finally:
        await console.close()


async def test_sensors_and_their_readings_lie_where_they_stand(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    sensor = next(s for s in load_sensors_csv() if s.sensor_id == "h2s-0003")
    wrong = dataclasses.replace(sensor, jurisdiction="3301")
    with caplog.at_level(logging.WARNING):
        await server.sensors.add_sensors([wrong])
    assert "sensor h2s-0003 stands in 320116, not in the given jurisdiction 3301" in caplog.text
    config = server.sensors.rules.config("h2s-0003")
    assert config is not None
    assert config.jurisdiction == "320116"
    await server.json_ingest.submit(
        Reading(
            device="plc-1", sensor="h2s-0003", at=dt.datetime.now(dt.UTC), value=1.0, unit="ppm"
        )
    )
    assert [r.jurisdiction for r in server.hub.latest_readings()] == ["320116"]


async def test_cameras_lie_where_they_stand(server: DutyDeskServer) -> None:
    camera = CameraView(
        id=0,
        code="CAM-1",
        name="西湖 球机",
        lat=WEST_LAKE[0],
        lon=WEST_LAKE[1],
        jurisdiction="3201",
        stream_url="rtsp://10.0.0.1/x",
    )
    outcome = await server.cameras.import_cameras([camera])
    assert outcome.warnings == (
        "camera CAM-1 stands in 330106, not in the given jurisdiction 3201: placed in 330106",
    )
    added = await server.cameras.add(
        CameraView(
            id=0, code="CAM-2", name="浦东", lat=PUDONG[0], lon=PUDONG[1], stream_url="rtsp://h/y"
        )
    )
    assert added.jurisdiction == "310115"
    assert {c.code: c.jurisdiction for c in await server.cameras.list_masked()} == {
        "CAM-1": "330106",
        "CAM-2": "310115",
    }


async def test_the_sample_units_lie_where_they_are_based(server: DutyDeskServer) -> None:
    async with server.sessions() as session:
        units = {u.code: u.jurisdiction for u in await session.scalars(select(Unit))}
    sample = load_units_csv()
    assert units == {unit.code: server.jurisdictions.place(unit.lat, unit.lon) for unit in sample}
    assert all(code.startswith("3201") for code in units.values()), "南京's districts"


async def test_a_server_can_read_every_district_at_start(tmp_path: Path) -> None:
    from backend.config import sqlite_url

    srv = DutyDeskServer(
        ServerConfig(
            db_url=sqlite_url(tmp_path),
            data_dir=tmp_path,
            port=0,
            cipher=FieldCipher.generate(),
            preload_jurisdictions=True,
        )
    )
    await srv.start()
    try:
        assert srv.jurisdictions.loaded_provinces == 34
        assert srv.jurisdictions.place(*PUDONG) == "310115"
    finally:
        await srv.close()
