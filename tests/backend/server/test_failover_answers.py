"""Two instances on one database. A command re-sent to ANOTHER instance (its first
instance died after acting, the answer lost with it) is answered as the first time, never
applied twice; with the first instance gone even before it answered, the re-send is told
the command was applied. The sessions a dead instance left open are ended by another.
Two real servers on one database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from websockets.asyncio.client import ClientConnection

from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.commands import ANSWER_LOST
from backend.server.config import ServerConfig
from backend.server.sessions import STALE_SESSION_AFTER
from backend.storage import answers
from backend.storage.models import CommandAnswer, EventRecord, SessionRecord, User
from realtime.client import ConnectionState
from realtime.protocol import AlarmResult, CreateAlarm
from realtime.states import AlarmLevel
from tests.backend.conftest import open_console
from tests.backend.server.test_wire_robustness import _recv, raw_console


@pytest.fixture
async def second(server: DutyDeskServer, tmp_path: Path) -> AsyncIterator[DutyDeskServer]:
    """A second instance on the first one's database."""
    config = ServerConfig(
        db_url=server.config.db_url,
        data_dir=tmp_path / "second",
        port=0,
        cipher=server.config.cipher,
        console_rate_per_second=1000.0,
        console_rate_burst=1000,
    )
    assert isinstance(config.cipher, FieldCipher)
    srv = DutyDeskServer(config)
    await srv.start()
    yield srv
    await srv.close()


async def _answer(ws: ClientConnection, command: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(command))
    while (answer := await _recv(ws)).get("req") != command["req"]:
        pass
    return answer


async def _transitions(server: DutyDeskServer, alarm_id: int) -> int:
    async with server.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(EventRecord)
            .where(EventRecord.alarm_id == alarm_id, EventRecord.kind == "alarm.transitioned")
        )
    return int(count or 0)


async def test_a_resend_to_another_instance_gets_the_first_answer(
    server: DutyDeskServer, second: DutyDeskServer
) -> None:
    console = await open_console(server)
    try:
        created = await console.client.request(
            CreateAlarm(req="", alarm_type="fire", level=AlarmLevel.RED, title="Warehouse fire")
        )
    finally:
        await console.close()
    assert isinstance(created, AlarmResult)
    alarm = created.alarm
    acknowledge = {
        "type": "alarm.transition",
        "req": "console-7-ack",
        "alarm_id": alarm.id,
        "action": "acknowledge",
        "expected_version": alarm.version,
    }
    async with raw_console(server) as ws:
        first = await _answer(ws, acknowledge)
    assert first["type"] == "result"
    # The link broke before the console read the answer; it reaches the other instance.
    async with raw_console(second) as ws:
        again = await _answer(ws, acknowledge)
    assert again == first
    assert await _transitions(server, alarm.id) == 1

    # The first instance died after committing and before answering: the receipt written
    # with the change tells the other instance it was applied.
    start = {**acknowledge, "req": "console-7-false", "action": "mark_false", "note": "test call"}
    start["expected_version"] = first["data"]["alarm"]["version"]
    async with raw_console(server) as ws:
        started = await _answer(ws, start)
    assert started["type"] == "result", started
    async with server.sessions.begin() as session:
        await session.execute(
            update(CommandAnswer).where(CommandAnswer.req == "console-7-false").values(answer=None)
        )
    async with raw_console(second) as ws:
        lost = await _answer(ws, start)
    assert lost["type"] == "error"
    assert lost["code"] == "stale_version"
    assert lost["message"] == ANSWER_LOST
    assert await _transitions(server, alarm.id) == 2


async def test_another_users_request_id_is_another_command(
    server: DutyDeskServer, second: DutyDeskServer
) -> None:
    """The answer is the sender's: the same req from another user runs (and is refused
    and is refused here: the alarm was acknowledged already), it does not get officer1's
    answer."""
    console = await open_console(server)
    try:
        created = await console.client.request(
            CreateAlarm(req="", alarm_type="fire", level=AlarmLevel.RED, title="Barn fire")
        )
    finally:
        await console.close()
    assert isinstance(created, AlarmResult)
    acknowledge = {
        "type": "alarm.transition",
        "req": "same-req",
        "alarm_id": created.alarm.id,
        "action": "acknowledge",
        "expected_version": created.alarm.version,
    }
    async with raw_console(server) as ws:
        assert (await _answer(ws, acknowledge))["type"] == "result"
    async with raw_console(second, "supervisor1", "pw-supervisor1") as ws:
        other = await _answer(ws, acknowledge)
    assert other["type"] == "error"
    assert other["code"] == "illegal_transition"


async def test_sessions_of_an_instance_that_died_are_ended_by_another(
    server: DutyDeskServer, second: DutyDeskServer
) -> None:
    """The first instance "dies": its console's session row stays open, untouched. The
    other instance's sweep ends it once it is older than the horizon, and leaves its own
    consoles' sessions alone."""
    gone = await open_console(server)
    here = await open_console(second, "supervisor1", "pw-supervisor1")
    try:
        horizon = dt.datetime.now(dt.UTC) - STALE_SESSION_AFTER - dt.timedelta(seconds=1)
        async with server.sessions.begin() as session:
            officer = await session.scalar(select(User.id).where(User.username == "officer1"))
            await session.execute(
                update(SessionRecord)
                .where(SessionRecord.ended_at.is_(None), SessionRecord.user_id == officer)
                .values(last_seen_at=horizon)
            )
        assert await second.session_tracker.sweep_stale() == 1
        assert await second.session_tracker.sweep_stale() == 0
        async with server.sessions() as session:
            still_open = (
                await session.scalars(
                    select(SessionRecord.user_id).where(SessionRecord.ended_at.is_(None))
                )
            ).all()
        assert officer not in still_open
        assert len(still_open) == 1, "the other instance's console keeps its session"
        assert here.client.state is ConnectionState.LIVE
    finally:
        await gone.close()
        await here.close()


async def test_kept_answers_are_pruned_after_an_hour(server: DutyDeskServer) -> None:
    await answers.store_answer(server.sessions, "officer1", "old-req", '{"type": "result"}')
    await answers.store_answer(server.sessions, "officer1", "new-req", '{"type": "result"}')
    # An over-long request id is not kept (remembered by its instance only).
    await answers.store_answer(server.sessions, "officer1", "x" * 200, '{"type": "result"}')
    async with server.sessions.begin() as session:
        await session.execute(
            update(CommandAnswer)
            .where(CommandAnswer.req == "old-req")
            .values(at=dt.datetime.now(dt.UTC) - answers.KEEP_ANSWERS - dt.timedelta(minutes=1))
        )
    assert await answers.prune(server.sessions, dt.datetime.now(dt.UTC)) == 1
    assert await answers.find(server.sessions, "officer1", "old-req") is None
    kept = await answers.find(server.sessions, "officer1", "new-req")
    assert kept is not None
    assert kept.answer == '{"type": "result"}'
    assert await answers.find(server.sessions, "officer1", "x" * 200) is None
