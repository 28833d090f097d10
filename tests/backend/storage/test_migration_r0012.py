"""Migration r0012 encrypts the callers' names a database already holds (SQLite and
PostgreSQL), and refuses to run without the data key rather than leave them plain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select, text

from backend.eventlog import log as eventlog
from backend.security import FieldCipher
from backend.storage import db
from backend.storage.models import Alarm
from realtime.protocol import AlarmView
from realtime.states import AlarmLevel, AlarmState

_T = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)

_OLD_ALARM = text(
    "INSERT INTO alarms (version, state, level, alarm_type, title, description, place,"
    " jurisdiction, source, source_ref, caller_name, caller_phone_enc, caller_phone_masked,"
    " reported_by, count, first_seen, last_seen, created_at, updated_at, updated_by,"
    " last_note) VALUES (1, 'new', 'red', 'fire', 't', '', '', '', 'manual', '', :name,"
    " :phone, '139****1111', 'officer1', 1, '2026-11-29T03:00:00Z', '2026-11-29T03:00:00Z',"
    " '2026-11-29T03:00:00Z', '2026-11-29T03:00:00Z', 'officer1', '')"
)


async def test_r0012_encrypts_plain_caller_names(db_url: str) -> None:
    engine = db.create_engine(db_url)
    cipher = FieldCipher.generate()
    try:
        await db.migrate(engine, "r0008")
        async with engine.begin() as connection:
            for name in ("李女士", "", "Wang Fang"):
                await connection.execute(
                    _OLD_ALARM, {"name": name, "phone": cipher.encrypt("13900001111")}
                )
        with pytest.raises(db.Error, match="2 callers' names must be encrypted"):
            await db.migrate(engine)
        await db.migrate(engine, encrypter=lambda: cipher.encrypt)
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("alarms")}
            )
            raw = (await connection.execute(text("SELECT * FROM alarms ORDER BY id"))).all()
        async with db.session_factory(engine)() as session:
            alarms = (await session.scalars(select(Alarm).order_by(Alarm.id))).all()
        # A database with nothing to encrypt needs no key.
        await db.migrate(engine)
    finally:
        await engine.dispose()
    assert "caller_name" not in columns, "no plain name column is left"
    assert {"caller_name_enc", "caller_address_enc", "sensitive_note_enc"} <= columns
    assert "李女士" not in repr(raw)
    assert "Wang Fang" not in repr(raw)
    assert [cipher.decrypt(a.caller_name_enc) for a in alarms] == ["李女士", "", "Wang Fang"]
    assert [a.caller_name_masked for a in alarms] == ["李**", "", "W********"]
    assert cipher.decrypt(alarms[0].caller_phone_enc) == "13900001111"


async def test_r0012_on_an_empty_database_needs_no_key(db_url: str) -> None:
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine)
    finally:
        await engine.dispose()


async def test_events_written_before_r0012_are_masked_on_every_way_out(db_url: str) -> None:
    """The hash chain forbids rewriting old events that carry a plain name: they are
    masked when read back (replay, history), and the chain still verifies."""
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        old_view = AlarmView(
            id=1,
            version=1,
            state=AlarmState.NEW,
            level=AlarmLevel.RED,
            alarm_type="fire",
            title="t",
            source="manual",
            caller_name="李秀英",
            caller_phone="139****1111",
            first_seen=_T,
            last_seen=_T,
            updated_at=_T,
        )
        async with sessions.begin() as session:
            await eventlog.append(
                session, kind=eventlog.EventKind.ALARM_RAISED, actor="o", alarm=old_view
            )
        async with sessions() as session:
            replayed = await eventlog.events_after(session, 0, 10)
            history = await eventlog.events_of_alarm(session, 1)
            report = await eventlog.verify(session)
    finally:
        await engine.dispose()
    assert [e.alarm.caller_name for e in replayed + history if e.alarm] == ["李**", "李**"]
    assert report.ok
