"""The device feed tried from outside: times a device's clock cannot honestly carry."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from backend.registry.files import load_sensors_csv
from backend.server.app import DutyDeskServer
from backend.storage.models import Alarm
from backend.vehicles import track_query
from realtime.client import basic_auth_header
from tests.backend.conftest import device_url
from tests.backend.server.test_wire_robustness import _ping_works, raw_console


@asynccontextmanager
async def feed(server: DutyDeskServer) -> AsyncIterator[ClientConnection]:
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        yield ws


async def _ask(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(message))
    answer = json.loads(await ws.recv())
    assert isinstance(answer, dict)
    assert answer["ref"] == message["ref"]
    return answer


def _reading(ref: str, value: float, at: str) -> dict[str, Any]:
    return {
        "type": "device.reading",
        "ref": ref,
        "sensor": "ch4-0001",
        "value": value,
        "unit": "%",
        "at": at,
    }


def _position(ref: str, lat: float, at: str) -> dict[str, Any]:
    return {
        "type": "device.position",
        "ref": ref,
        "device": "nmea-77",
        "kind": "nmea",
        "at": at,
        "lat": lat,
        "lon": 118.78,
    }


async def test_a_reading_from_the_far_future_does_not_blind_the_sensor(
    server: DutyDeskServer,
) -> None:
    ch4 = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    await server.sensors.add_sensors([ch4])
    async with feed(server) as ws:
        wrong = await _ask(ws, _reading("future", 0.3, "9999-12-31T00:00:00Z"))
        assert wrong["type"] == "error", "a time years ahead of the server is a broken clock"
        assert wrong["code"] == "validation"
        assert "ahead" in wrong["message"]
        # The next honest reading over the limit must still raise the alarm.
        now = dt.datetime.now(dt.UTC).isoformat()
        assert (await _ask(ws, _reading("real", 1.6, now)))["type"] == "ack"
    async with server.sessions() as session:
        alarms = list(await session.scalars(select(Alarm)))
    assert [a.alarm_type for a in alarms] == ["sensor_threshold_high"]


async def test_a_fix_from_the_far_future_does_not_pin_the_vehicle(server: DutyDeskServer) -> None:
    await server.registry.add("nmea", "nmea-77", "巡查车")
    async with feed(server) as ws:
        wrong = await _ask(ws, _position("future", 30.0, "2999-01-01T00:00:00+08:00"))
        assert wrong["type"] == "error"
        assert wrong["code"] == "validation"
        now = dt.datetime.now(dt.UTC).isoformat()
        assert (await _ask(ws, _position("real", 32.25, now)))["type"] == "ack"
    async with server.sessions() as session:
        latest = await track_query.latest_fixes(session, {"nmea"})
    assert [(fix.device, fix.lat) for fix in latest] == [("nmea-77", 32.25)]


@pytest.mark.parametrize(
    "at",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"],
    ids=["past-year-9999-in-utc", "before-year-1-in-utc"],
)
async def test_a_time_outside_the_calendar_in_utc_is_refused_and_the_feed_goes_on(
    server: DutyDeskServer, at: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with feed(server) as ws:
        wrong = await _ask(ws, _position("edge", 30.0, at))
        assert wrong["type"] == "error"
        assert wrong["code"] in ("bad_message", "validation"), wrong
        now = dt.datetime.now(dt.UTC).isoformat()
        assert (await _ask(ws, _position("next", 32.25, now)))["type"] == "ack"
    assert not [r for r in caplog.records if r.exc_info], "a bad time is not a server bug"


async def test_a_nul_character_is_refused_and_costs_no_other_feed(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    # PostgreSQL cannot store U+0000: a sample carrying one failed its whole group
    # commit, so the other feeds' samples written with it were refused as well.
    now = dt.datetime.now(dt.UTC)
    async with feed(server) as hostile, feed(server) as honest:
        for n in range(5):
            at = (now - dt.timedelta(seconds=10 - n)).isoformat()
            bad = {**_reading(f"bad{n}", 0.3, at), "sensor": "ch4\u00000001"}
            good = {**_position(f"good{n}", 32.25, at), "device": "nmea-78"}
            refused, stored = await asyncio.gather(_ask(hostile, bad), _ask(honest, good))
            assert refused["type"] == "error"
            assert refused["code"] == "bad_message"
            assert "NUL" in refused["message"]
            assert stored["type"] == "ack", stored
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "change",
    [{"sensor": "s" * 65}, {"unit": "u" * 17}, {"device": "d" * 65}],
    ids=["sensor", "unit", "device"],
)
async def test_a_reading_too_long_to_store_is_refused_and_costs_no_other_feed(
    server: DutyDeskServer, change: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    now = dt.datetime.now(dt.UTC)
    async with feed(server) as hostile, feed(server) as honest:
        for n in range(5):
            at = (now - dt.timedelta(seconds=10 - n)).isoformat()
            bad = {**_reading(f"bad{n}", 0.3, at), **change}
            good = {**_position(f"good{n}", 32.25, at), "device": "nmea-78"}
            refused, stored = await asyncio.gather(_ask(hostile, bad), _ask(honest, good))
            assert refused["type"] == "error"
            assert refused["code"] == "bad_message", refused
            assert stored["type"] == "ack", stored
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_alarm_jurisdiction_too_long_to_store_is_a_bad_message(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    alarm = {
        "type": "device.alarm",
        "ref": "j1",
        "key": "gas-1",
        "alarm_type": "hazmat_leak",
        "level": "red",
        "title": "储罐区 H2S 超限",
        "jurisdiction": "3" * 33,
    }
    async with feed(server) as ws:
        answer = await _ask(ws, alarm)
    assert answer["code"] == "bad_message", answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "not a database outage"


@pytest.mark.parametrize(
    "command",
    [
        {
            "type": "alarm.create",
            "alarm_type": "fire",
            "level": "red",
            "title": "仓库烟感报警",
            "jurisdiction": "3" * 33,
        },
        {
            "type": "incident.open",
            "type_code": "hazchem_leak",
            "title": "液氨泄漏",
            "jurisdiction": "3" * 33,
        },
    ],
)
async def test_a_console_jurisdiction_too_long_to_store_is_a_bad_message(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture, command: dict[str, str]
) -> None:
    # An officer of the whole area may name any jurisdiction; one longer than any code
    # is refused as such, not taken for a database outage.
    async with raw_console(server, "supervisor1", "pw-supervisor1") as ws:
        await ws.send(json.dumps(command | {"req": "long-1"}))
        while (answer := json.loads(await ws.recv())).get("req") != "long-1":
            pass
        assert (answer["type"], answer["code"]) == ("error", "bad_message"), answer
        await _ping_works(ws)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "not a database outage"
