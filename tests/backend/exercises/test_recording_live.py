"""Recording the live server: what the journal hears through the real gateway, feed and
console, and what a recording of an area holds (and does not)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from backend.exercises import journal
from backend.exercises.live import journal_dir
from backend.exercises.recorder import make_recording
from backend.exercises.recording import (
    CommandInput,
    FeedInput,
    Jt808Input,
    LoggedEvent,
    Recording,
    decode_recording,
    encode_recording,
)
from backend.registry.files import load_units_csv
from backend.security import FieldCipher
from backend.sensors.rules import RuleSet, SensorConfig, SensorKind
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.storage.models import SensorRecord
from devices.jt808.codec import decode_frame, encode_frame
from devices.jt808.messages import GeneralResult, Heartbeat
from devices.jt808.simulator import SimulatedTruck, TruckPlan
from realtime.client import basic_auth_header
from realtime.protocol import CreateAlarm, RecordingSource, Role
from realtime.states import AlarmLevel
from tests.backend.conftest import USERS, device_url, open_console

SH_PHONE = "13900000031"
NJ_PHONE = "13900000032"
SHANGHAI = ((31.2304, 121.4737), (31.2397, 121.4998))
NANJING = ((32.0603, 118.7969), (32.0700, 118.8000))


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[DutyDeskServer]:
    """A server with a JT/T 808 gateway and the journal (no automatic recordings here)."""
    srv = DutyDeskServer(
        ServerConfig(
            db_url=db_url,
            data_dir=tmp_path,
            port=0,
            cipher=FieldCipher.generate(),
            seed_units=load_units_csv(),
            jt808_listen=("127.0.0.1", 0),
            console_rate_per_second=1000.0,
            console_rate_burst=1000,
            auto_record=False,
        )
    )
    await srv.start()
    for username, password, role in USERS:
        await srv.users.add_user(username, password, role)
    await srv.users.add_user("sh-officer", "pw-sh-officer", Role.OFFICER, jurisdiction="31")
    await srv.users.add_user("nj-officer", "pw-nj-officer", Role.OFFICER, jurisdiction="32")
    yield srv
    await srv.close()


async def _drive(
    port: int, phone: str, plate: str, route: tuple[tuple[float, float], ...], *, sos: bool
) -> None:
    truck = SimulatedTruck(phone, plate, TruckPlan(route=route), reply_timeout=5)
    try:
        await truck.connect("127.0.0.1", port)
        assert await truck.report() is GeneralResult.SUCCESS
        if sos:
            truck.press_sos()
        assert await truck.report() is GeneralResult.SUCCESS
    finally:
        await truck.close()


async def _raw_terminal(port: int, chunks: list[bytes]) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.05)
    writer.close()
    await writer.wait_closed()


async def _feed(server: DutyDeskServer, messages: list[dict[str, Any]]) -> None:
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        for message in messages:
            await ws.send(json.dumps(message))
            answer = json.loads(await ws.recv())
            assert answer["type"] == "ack", answer


async def _live_traffic(server: DutyDeskServer) -> dict[str, Any]:
    """Two trucks (Shanghai with an SOS, Nanjing), a raw connection, two sensors' readings,
    two officers' commands; what was sent, for the assertions."""
    await server.registry.add("jt808", SH_PHONE, "上海槽车", plate="沪A0031")
    await server.registry.add("jt808", NJ_PHONE, "南京槽车", plate="苏A0032")
    await server.sensors.add_sensors(
        [
            SensorConfig(
                sensor_id=sensor_id,
                kind=SensorKind.CH4,
                unit="%",
                rules=RuleSet(),
                poll_cycle_seconds=3600.0,
                lat=lat,
                lon=lon,
            )
            for sensor_id, (lat, lon) in (("sh-ch4", SHANGHAI[0]), ("nj-ch4", NANJING[0]))
        ]
    )
    await _drive(server.jt808_port, SH_PHONE, "沪A0031", SHANGHAI, sos=True)
    await _drive(server.jt808_port, NJ_PHONE, "苏A0032", NANJING, sos=False)
    # Garbage, then a heartbeat of the Shanghai terminal cut in two reads: kept as read.
    heartbeat = encode_frame(Heartbeat(), phone=SH_PHONE, serial=7)
    raw = [b"\x01\x02garbage", heartbeat[:5], heartbeat[5:]]
    await _raw_terminal(server.jt808_port, raw)
    readings = [
        {"type": "device.reading", "ref": "r-sh", "sensor": "sh-ch4", "value": 0.1, "unit": "%"},
        {"type": "device.reading", "ref": "r-nj", "sensor": "nj-ch4", "value": 0.2, "unit": "%"},
    ]
    await _feed(server, readings)
    for user, title in (("sh-officer", "上海 电话报警"), ("nj-officer", "南京 电话报警")):
        console = await open_console(server, user, f"pw-{user}")
        try:
            await console.client.request(
                CreateAlarm(
                    req="",
                    alarm_type="fire",
                    level=AlarmLevel.ORANGE,
                    title=title,
                    jurisdiction="310101" if user.startswith("sh") else "320102",
                    caller_name="张三丰",
                    caller_phone="13812345678",
                    caller_address="上海市黄浦区南京东路100号3室",
                    sensitive_note="家中有老人",
                )
            )
        finally:
            await console.close()
    assert server.recording.journal is not None
    await server.recording.journal.flush()
    return {"raw": raw, "heartbeat": heartbeat}


async def _record(server: DutyDeskServer, area: str, *, masked: bool) -> Recording:
    now = dt.datetime.now(dt.UTC)
    recording = await make_recording(
        server.sessions,
        journal_dir(server.config.data_dir),
        window_from=now - dt.timedelta(minutes=5),
        window_to=now + dt.timedelta(seconds=1),
        area=area,
        masked=masked,
        title="测试",
        source=RecordingSource.WINDOW,
        recorded_by="test",
        cipher=server.cipher,
    )
    # What is written is what is read back.
    assert decode_recording(encode_recording(recording)) == recording
    return recording


def _phones(recording: Recording) -> dict[int, str]:
    phones: dict[int, str] = {}
    for entry in recording.entries:
        if isinstance(entry, Jt808Input):
            phones.setdefault(entry.connection, decode_frame(entry.data[1:-1]).header.device_id)
    return phones


async def test_a_recording_holds_exactly_the_input_and_events_of_its_area(
    server: DutyDeskServer,
) -> None:
    sent = await _live_traffic(server)
    assert server.recording.journal is not None
    records = journal.read_window(
        journal_dir(server.config.data_dir),
        dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        dt.datetime.now(dt.UTC),
    )
    # The raw connection's reads, byte for byte, in order.
    by_key: dict[str, list[bytes]] = {}
    for record in records:
        if record.kind == journal.JT808:
            by_key.setdefault(record.key, []).append(record.data)
    assert b"".join(sent["raw"]) in [b"".join(chunks) for chunks in by_key.values()]
    assert len(by_key) == 3

    async with server.sessions() as session:
        places = dict(
            (await session.execute(select(SensorRecord.sensor_id, SensorRecord.jurisdiction))).all()
        )
    assert places["sh-ch4"].startswith("31")
    assert places["nj-ch4"].startswith("32")

    whole = await _record(server, "", masked=True)
    assert sorted(_phones(whole).values()) == [SH_PHONE, SH_PHONE, NJ_PHONE]

    shanghai = await _record(server, "31", masked=True)
    phones = _phones(shanghai)
    assert sorted(phones.values()) == [SH_PHONE, SH_PHONE], "no Nanjing frames"
    assert sorted(phones) == [1, 2], "connections numbered from 1"
    frames = [e.data for e in shanghai.entries if isinstance(e, Jt808Input)]
    assert sent["heartbeat"] in frames, "the frame cut in two reads, whole"
    assert not any(b"garbage" in frame for frame in frames)
    feeds = [json.loads(e.text) for e in shanghai.entries if isinstance(e, FeedInput)]
    assert [f["sensor"] for f in feeds] == ["sh-ch4"]
    commands = [e for e in shanghai.entries if isinstance(e, CommandInput)]
    assert {c.user for c in commands} == {"sh-officer"}
    assert all(c.role == "officer" for c in commands)
    events = [e.event for e in shanghai.entries if isinstance(e, LoggedEvent)]
    raised = [e["alarm"]["title"] for e in events if e["kind"] == "alarm.raised"]
    assert any("沪A" in t or "上海" in t for t in raised)
    assert not any("南京" in t or "苏A" in t for t in raised), "no Nanjing events"
    assert not any(e.get("device", {}) and e["device"]["identity"] == NJ_PHONE for e in events), (
        "no Nanjing device events"
    )
    assert [d.identity for d in shanghai.registry.devices] == [SH_PHONE]
    assert [s.sensor_id for s in shanghai.registry.sensors] == ["sh-ch4"]
    assert all(u.jurisdiction.startswith("31") for u in shanghai.registry.units)
    assert [e.at for e in shanghai.entries] == sorted(e.at for e in shanghai.entries)

    nanjing = await _record(server, "32", masked=True)
    assert sorted(_phones(nanjing).values()) == [NJ_PHONE]
    assert {c.user for c in nanjing.entries if isinstance(c, CommandInput)} == {"nj-officer"}


async def test_personal_data_is_masked_unless_asked_otherwise(server: DutyDeskServer) -> None:
    await _live_traffic(server)
    masked = await _record(server, "31", masked=True)
    (alarm,) = [
        c.command
        for c in masked.entries
        if isinstance(c, CommandInput) and c.command["type"] == "alarm.create"
    ]
    assert alarm["caller_name"] == "张**"
    assert alarm["caller_phone"] == "138****5678"
    assert "100号" not in alarm["caller_address"]
    assert "老人" not in alarm["sensitive_note"]
    text = encode_recording(masked).decode("latin-1")
    assert "13812345678" not in text
    assert masked.header.masked

    full = await _record(server, "31", masked=False)
    (alarm,) = [
        c.command
        for c in full.entries
        if isinstance(c, CommandInput) and c.command["type"] == "alarm.create"
    ]
    assert (alarm["caller_name"], alarm["caller_phone"]) == ("张三丰", "13812345678")
    assert alarm["sensitive_note"] == "家中有老人"
    assert not full.header.masked
