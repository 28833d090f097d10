"""Issue 13.4: alarm times are UTC (``Z``) whatever offset the reporter used."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select, text
from websockets.asyncio.client import ClientConnection, connect

from backend.eventlog import log as eventlog
from backend.server.app import DutyDeskServer
from backend.storage import db
from backend.storage.models import Alarm, EventRecord
from realtime.client import basic_auth_header
from realtime.event_kinds import EventKind
from realtime.protocol import AlarmView
from realtime.states import AlarmLevel, AlarmState
from tests.backend.conftest import device_url, open_console

CST = dt.timezone(dt.timedelta(hours=8))


async def _raise(ws: ClientConnection, ref: str, at: dt.datetime) -> dict[str, Any]:
    await ws.send(
        json.dumps(
            {
                "type": "device.alarm",
                "ref": ref,
                "key": "gas_leak",
                "alarm_type": "hazmat_leak",
                "level": "orange",
                "title": "储罐区 可燃气体泄漏",
                "at": at.isoformat(),
            }
        )
    )
    answer = json.loads(await ws.recv())
    assert isinstance(answer, dict)
    assert answer["type"] == "ack", answer
    return answer


def _assert_utc(view: AlarmView, first: dt.datetime, last: dt.datetime) -> None:
    for name, value, expected in (
        ("first_seen", view.first_seen, first),
        ("last_seen", view.last_seen, last),
        ("updated_at", view.updated_at, None),
    ):
        assert value.tzinfo is dt.UTC, f"{name} is sent as {value.isoformat()}, not in UTC (Z)"
        if expected is not None:
            assert value == expected, f"{name}: the same instant"


async def test_a_device_alarm_with_a_plus_eight_offset_comes_back_in_utc(
    server: DutyDeskServer,
) -> None:
    first = dt.datetime.now(CST).replace(microsecond=0) - dt.timedelta(minutes=2)
    repeat = first + dt.timedelta(minutes=1)
    live = await open_console(server)
    try:
        async with connect(
            device_url(server),
            additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
        ) as ws:
            await _raise(ws, "a1", first)
            await _raise(ws, "a2", repeat)
        await live.recorder.wait_for(
            lambda: [e.kind for e in live.recorder.events] == ["alarm.raised", "alarm.repeated"]
        )
        raised, repeated = live.recorder.events
        assert raised.alarm is not None
        assert repeated.alarm is not None
        _assert_utc(raised.alarm, first, first)
        _assert_utc(repeated.alarm, first, repeat)
        assert raised.at.tzinfo is dt.UTC
    finally:
        await live.close()

    snapshot_console = await open_console(server)
    try:
        await snapshot_console.recorder.wait_for(lambda: snapshot_console.recorder.snapshots)
        (alarm,) = snapshot_console.recorder.snapshots[-1].alarms
        _assert_utc(alarm, first, repeat)
    finally:
        await snapshot_console.close()

    replaying = await open_console(server, last_seq=0)
    try:
        await replaying.recorder.wait_for(lambda: len(replaying.recorder.events) >= 2)
        replayed = [e.alarm for e in replaying.recorder.events if e.alarm is not None]
        _assert_utc(replayed[0], first, first)
        _assert_utc(replayed[1], first, repeat)
    finally:
        await replaying.close()

    async with server.sessions() as session:
        payloads = (await session.scalars(select(EventRecord.payload))).all()
    assert payloads
    assert not any("+08:00" in payload for payload in payloads), "the record holds UTC too"


async def test_migration_r0007_rewrites_stored_offset_times_in_utc(db_url: str) -> None:
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, "r0006")
        async with engine.begin() as connection:
            # As an older tool wrote it: the reporter's offset kept in the row.
            await connection.execute(
                text(
                    "INSERT INTO alarms (version, state, level, alarm_type, title, description,"
                    " place, jurisdiction, source, source_ref, caller_name, caller_phone_enc,"
                    " caller_phone_masked, reported_by, count, first_seen, last_seen,"
                    " created_at, updated_at, updated_by, last_note) VALUES (1, 'new',"
                    " 'orange', 'hazmat_leak', 't', '', '', '', 'device', 'device1', '', '', '',"
                    " 'device1', 1, '2026-11-29 11:00:00+08:00', '2026-11-29T11:05:00+08:00',"
                    " '2026-11-29 11:00:00+08:00', '2026-11-29T11:05:00+08:00', 'device1', '')"
                )
            )
        await db.migrate(engine)
        async with engine.connect() as connection:
            stored = (
                await connection.execute(text("SELECT first_seen, last_seen FROM alarms"))
            ).one()
        sessions = db.session_factory(engine)
        async with sessions() as session:
            alarm = (await session.scalars(select(Alarm))).one()
    finally:
        await engine.dispose()
    assert alarm.first_seen == dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
    assert alarm.last_seen == dt.datetime(2026, 11, 29, 3, 5, tzinfo=dt.UTC)
    assert alarm.first_seen.tzinfo is dt.UTC
    if engine.dialect.name == "sqlite":
        # Stored as the UTC text every other row has, so it sorts and compares right.
        assert tuple(stored) == ("2026-11-29 03:00:00.000000", "2026-11-29 03:05:00.000000")


async def test_older_events_with_offset_times_are_replayed_in_utc(
    server: DutyDeskServer,
) -> None:
    local = dt.datetime(2026, 11, 29, 11, 0, tzinfo=CST)
    view = AlarmView(
        id=7,
        version=1,
        state=AlarmState.NEW,
        level=AlarmLevel.ORANGE,
        alarm_type="hazmat_leak",
        title="储罐区 可燃气体泄漏",
        source="device",
        first_seen=local,
        last_seen=local,
        updated_at=local,
    )
    async with server.sessions.begin() as session:
        # What events written before the fix hold: the view's times in the reporter's zone.
        await eventlog.append(session, kind=EventKind.ALARM_RAISED, actor="device1", alarm=view)
    async with server.sessions() as session:
        (record,) = (await session.scalars(select(EventRecord))).all()
        (event,) = await eventlog.events_after(session, 0, 10)
    assert "+08:00" in record.payload, "the record itself stays as written (hash chain)"
    assert event.alarm is not None
    assert event.alarm.first_seen == local
    assert event.alarm.first_seen.tzinfo is dt.UTC
    assert event.alarm.updated_at.tzinfo is dt.UTC
