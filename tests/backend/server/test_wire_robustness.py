"""Bad input gets a clear, typed error; the connection and the service carry on."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from backend.server.app import DutyDeskServer
from realtime import PROTOCOL_VERSION
from realtime.client import basic_auth_header
from realtime.protocol import (
    CLOSE_HELLO_EXPECTED,
    CLOSE_UNSUPPORTED_PROTOCOL,
    MAX_CONSOLE_MESSAGE_BYTES,
    MAX_DEVICE_MESSAGE_BYTES,
)
from tests.backend.conftest import console_url, device_url


@asynccontextmanager
async def raw_console(
    server: DutyDeskServer, user: str = "officer1", password: str = "pw-officer1"
) -> AsyncIterator[ClientConnection]:
    """A bare WebSocket console that has said hello and read up to ``synced``."""
    async with connect(
        console_url(server),
        additional_headers={"Authorization": basic_auth_header(user, password)},
        max_size=None,
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
        while (await _recv(ws))["type"] != "synced":
            pass
        yield ws


async def _recv(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await ws.recv())
    assert isinstance(message, dict)
    return message


async def _ping_works(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"type": "ping", "req": "still-there"}))
    answer = await _recv(ws)
    assert answer["type"] == "result"
    assert answer["req"] == "still-there"


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ("this is not json", "not valid JSON"),
        ('{"type": "alarm.explode", "req": "r1"}', "Invalid value 'alarm.explode'"),
        ('{"type": "alarm.transition", "req": "r2"}', "missing required field"),
        (
            '{"type":"alarm.create","req":"r3","alarm_type":"fire","level":"purple","title":"x"}',
            "level",
        ),
        (
            '{"type":"alarm.create","req":"r4","alarm_type":"fire","level":"red","title":"x",'
            '"lat":123.0,"lon":1.0}',
            "lat",
        ),
        ("[1, 2, 3]", "Expected `object`"),
    ],
)
async def test_malformed_messages_get_typed_errors_and_connection_carries_on(
    server: DutyDeskServer, payload: str, fragment: str
) -> None:
    async with raw_console(server) as ws:
        await ws.send(payload)
        answer = await _recv(ws)
        assert answer["type"] == "error"
        assert answer["code"] == "bad_message"
        assert fragment in answer["message"]
        if '"req"' in payload:
            assert answer["req"] == json.loads(payload)["req"], "the error names the request"
        await _ping_works(ws)


async def test_oversized_console_message_closes_with_1009(server: DutyDeskServer) -> None:
    async with raw_console(server) as ws:
        await ws.send("x" * (MAX_CONSOLE_MESSAGE_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
    # The server is fine: another console connects and works.
    async with raw_console(server) as again:
        await _ping_works(again)


async def test_message_flood_is_rate_limited_not_fatal(server: DutyDeskServer) -> None:
    server.config.console_rate_per_second = 5.0
    server.config.console_rate_burst = 5
    async with raw_console(server) as ws:
        for n in range(12):
            await ws.send(json.dumps({"type": "ping", "req": f"p{n}"}))
        answers = [await _recv(ws) for _ in range(12)]
        limited = [a for a in answers if a["type"] == "error"]
        # Five pass at once; a slow machine may refill a token or two while the rest arrive.
        assert 5 <= len(answers) - len(limited) <= 9
        assert limited
        assert {a["code"] for a in limited} == {"rate_limited"}
        assert all(a["req"].startswith("p") for a in limited)


async def test_first_message_must_be_hello(server: DutyDeskServer) -> None:
    async with connect(
        console_url(server),
        additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
    ) as ws:
        await ws.send(json.dumps({"type": "ping", "req": "1"}))
        answer = await _recv(ws)
        assert answer["code"] == "hello_expected"
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CLOSE_HELLO_EXPECTED


async def test_unsupported_protocol_version_is_refused_clearly(server: DutyDeskServer) -> None:
    async with connect(
        console_url(server),
        additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": 99}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CLOSE_UNSUPPORTED_PROTOCOL
        assert "99" in closed.value.rcvd.reason


@pytest.mark.parametrize(
    ("authorization", "status", "reason"),
    [
        (basic_auth_header("officer1", "wrong-password"), 401, "unknown user or wrong password"),
        (basic_auth_header("nobody", "pw-whatever"), 401, "unknown user or wrong password"),
        ("Bearer not-a-real-token", 401, "invalid or revoked token"),
        ("Digest abc", 401, "unsupported authorization scheme"),
        (basic_auth_header("device1", "pw-device1"), 403, "device accounts cannot open a console"),
    ],
)
async def test_bad_credentials_are_refused_with_a_reason_and_logged(
    server: DutyDeskServer,
    caplog: pytest.LogCaptureFixture,
    authorization: str,
    status: int,
    reason: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="backend.server.app")
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            console_url(server), additional_headers={"Authorization": authorization}
        ):
            pass
    assert refused.value.response.status_code == status
    assert reason in refused.value.response.body.decode()
    assert any("refused" in record.getMessage() for record in caplog.records)


async def test_missing_credentials_are_refused(server: DutyDeskServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(console_url(server)):
            pass
    assert refused.value.response.status_code == 401
    assert "missing Authorization" in refused.value.response.body.decode()


async def test_repeated_login_failures_lock_the_account_for_a_while(server: DutyDeskServer) -> None:
    for _ in range(5):
        with pytest.raises(InvalidStatus):
            async with connect(
                console_url(server),
                additional_headers={"Authorization": basic_auth_header("officer2", "guess")},
            ):
                pass
    with pytest.raises(InvalidStatus) as locked:
        async with connect(
            console_url(server),
            additional_headers={"Authorization": basic_auth_header("officer2", "pw-officer2")},
        ):
            pass
    assert locked.value.response.status_code == 429
    # Other users are not affected.
    async with raw_console(server) as ws:
        await _ping_works(ws)


async def test_session_token_from_welcome_logs_in_again(server: DutyDeskServer) -> None:
    async with connect(
        console_url(server),
        additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
        welcome = await _recv(ws)
    token = welcome["session_token"]
    assert welcome["user"]["role"] == "officer"
    async with connect(
        console_url(server), additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
        assert (await _recv(ws))["user"]["username"] == "officer1"


async def test_unknown_path_is_404(server: DutyDeskServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{server.port}/nope"):
            pass
    assert refused.value.response.status_code == 404


async def test_health_answers_json(server: DutyDeskServer) -> None:
    import asyncio

    def fetch() -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=5) as r:
            assert r.headers["Content-Type"] == "application/json"
            data = json.loads(r.read())
            assert isinstance(data, dict)
            return data

    async with raw_console(server):
        health = await asyncio.to_thread(fetch)
    assert health["status"] == "ok"
    assert health["database"] == server.database_kind
    assert health["consoles"] == 1
    assert health["protocol"] == PROTOCOL_VERSION
    assert health["uptime_s"] >= 0
    assert health["fanout_seq"] == health["head_seq"]
    assert health["listening"] is (True if server.database_kind == "postgresql" else None)


# ---------------------------------------------------------------------- device feed


@asynccontextmanager
async def raw_device(server: DutyDeskServer) -> AsyncIterator[ClientConnection]:
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        yield ws


def _device_alarm(ref: str, key: str = "gas-1") -> str:
    return json.dumps(
        {
            "type": "device.alarm",
            "ref": ref,
            "key": key,
            "alarm_type": "hazmat_leak",
            "level": "red",
            "title": "储罐区 H2S 超限",
            "lat": 32.25,
            "lon": 118.78,
            "at": "2026-11-29T03:00:00+08:00",
        }
    )


async def test_device_alarm_is_committed_before_it_is_acknowledged(server: DutyDeskServer) -> None:
    from sqlalchemy import select

    from backend.storage.models import Alarm

    async with raw_device(server) as ws:
        await ws.send(_device_alarm("a1"))
        ack = await _recv(ws)
        assert ack == {"type": "ack", "ref": "a1", "alarm_id": ack["alarm_id"], "repeated": False}
        # A fresh session sees it: it was committed before the ack left.
        async with server.sessions() as session:
            row = await session.scalar(select(Alarm).where(Alarm.id == ack["alarm_id"]))
        assert row is not None
        assert row.source == "device"
        assert row.first_seen.isoformat() == "2026-11-28T19:00:00+00:00", "stored in UTC"

        await ws.send(_device_alarm("a2"))
        repeat = await _recv(ws)
        assert repeat["alarm_id"] == ack["alarm_id"]
        assert repeat["repeated"] is True
        async with server.sessions() as session:
            row = await session.scalar(select(Alarm).where(Alarm.id == ack["alarm_id"]))
        assert row is not None
        assert row.count == 2

        await ws.send(_device_alarm("a3", key="gas-2"))
        other = await _recv(ws)
        assert other["alarm_id"] != ack["alarm_id"]


async def test_device_bad_messages_are_refused_and_feed_carries_on(server: DutyDeskServer) -> None:
    async with raw_device(server) as ws:
        await ws.send("{broken")
        assert (await _recv(ws))["code"] == "bad_message"
        await ws.send(json.dumps({"type": "device.reading", "ref": "r1", "sensor": "t1"}))
        answer = await _recv(ws)
        assert answer["code"] == "bad_message"
        assert answer["ref"] == "r1"
        await ws.send(
            json.dumps(
                {
                    "type": "device.reading",
                    "ref": "r2",
                    "sensor": "t1",
                    "value": 1.0,
                    "at": "2026-11-29T03:00:00",
                }
            )
        )
        naive = await _recv(ws)
        assert naive["code"] == "bad_message", "times without an offset are refused"
        await ws.send(
            json.dumps(
                {
                    "type": "device.reading",
                    "ref": "r3",
                    "sensor": "ch4-1",
                    "value": 0.42,
                    "unit": "%",
                }
            )
        )
        assert await _recv(ws) == {"type": "ack", "ref": "r3", "alarm_id": None, "repeated": False}


async def test_device_message_limit_is_tighter_than_the_console_one(server: DutyDeskServer) -> None:
    async with raw_device(server) as ws:
        await ws.send("x" * (MAX_DEVICE_MESSAGE_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


async def test_console_accounts_cannot_feed_device_messages(server: DutyDeskServer) -> None:
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
    ) as ws:
        await ws.send(_device_alarm("x1"))
        answer = await _recv(ws)
        assert answer["code"] == "forbidden"


async def test_a_resent_command_gets_its_first_answer_and_acts_once(server: DutyDeskServer) -> None:
    async with raw_console(server) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "alarm.create",
                    "req": "c1",
                    "alarm_type": "fire",
                    "level": "red",
                    "title": "x",
                }
            )
        )
        created = None
        while created is None:
            message = await _recv(ws)
            if message["type"] == "result":
                created = message
        alarm_id = created["data"]["alarm"]["id"]
        transition = json.dumps(
            {
                "type": "alarm.transition",
                "req": "t1",
                "alarm_id": alarm_id,
                "action": "acknowledge",
                "expected_version": 1,
            }
        )
        answers: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for _ in range(2):
            await ws.send(transition)
            await ws.send(
                json.dumps(
                    {
                        "type": "alarm.create",
                        "req": "c1",
                        "alarm_type": "fire",
                        "level": "red",
                        "title": "x",
                    }
                )
            )
        while len(answers) < 4:
            message = await _recv(ws)
            (answers if message["type"] == "result" else events).append(message)
        assert answers[0] == answers[2], "the re-sent transition gets the first answer"
        assert answers[1]["data"]["alarm"]["id"] == alarm_id, (
            "the re-sent create returns the same alarm"
        )
        assert answers[3]["data"]["alarm"]["id"] == alarm_id
        await _ping_works(ws)
    from sqlalchemy import func, select

    from backend.storage.models import Alarm, EventRecord

    async with server.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Alarm)) == 1
        assert await session.scalar(select(func.count()).select_from(EventRecord)) == 2
