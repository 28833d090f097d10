"""Migration r0009 places the rows that existed before it, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, insert, select

from backend.storage import db
from backend.storage.migrations.versions import r0009_jurisdictions
from backend.storage.models import Alarm, CameraRecord, PositionRecord, SensorRecord, Unit

PUDONG = (31.2304, 121.5440)
WEST_LAKE = (30.2590, 120.1300)
AT_SEA = (30.0, 124.0)
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


_OLD_ALARMS = sa.table(
    "alarms",
    *(
        sa.column(name)
        for name in (
            "version",
            "state",
            "level",
            "alarm_type",
            "title",
            "description",
            "lat",
            "lon",
            "place",
            "jurisdiction",
            "source",
            "source_ref",
            "caller_name",
            "caller_phone_enc",
            "caller_phone_masked",
            "reported_by",
            "count",
            "first_seen",
            "last_seen",
            "created_at",
            "updated_at",
            "updated_by",
            "last_note",
        )
    ),
)
"""The alarms table as it was before r0009 (later migrations changed its columns, so the
ORM model of today cannot write a row of then)."""


def _alarm(number: int, lat: float | None, lon: float | None, jurisdiction: str) -> dict[str, Any]:
    return {
        "version": 1,
        "state": "new",
        "level": "red",
        "alarm_type": "fire",
        "title": f"报警 {number}",
        "description": "",
        "lat": lat,
        "lon": lon,
        "place": "",
        "jurisdiction": jurisdiction,
        "source": "manual",
        "source_ref": "",
        "caller_name": "",
        "caller_phone_enc": "",
        "caller_phone_masked": "",
        "reported_by": "",
        "count": 1,
        "first_seen": NOW,
        "last_seen": NOW,
        "created_at": NOW,
        "updated_at": NOW,
        "updated_by": "",
        "last_note": "",
    }


def _sensor(sensor_id: str, lat: float, lon: float, jurisdiction: str) -> SensorRecord:
    return SensorRecord(
        sensor_id=sensor_id,
        kind="ch4",
        unit="%",
        lat=lat,
        lon=lon,
        poll_cycle_seconds=5.0,
        jurisdiction=jurisdiction,
        rules={},
        created_at=NOW,
        updated_at=NOW,
    )


def _camera(code: str, lat: float, lon: float) -> CameraRecord:
    return CameraRecord(
        code=code,
        name=code,
        lat=lat,
        lon=lon,
        stream_url_enc="x",
        stream_url_masked="x",
        created_at=NOW,
        updated_at=NOW,
    )


async def test_existing_rows_are_placed(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(r0009_jurisdictions, "BATCH", 1000)  # several batches of positions
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, "r0008")
        sessions = db.session_factory(engine)
        async with sessions.begin() as session:
            await session.execute(
                insert(_OLD_ALARMS),
                [
                    _alarm(1, *PUDONG, ""),  # a device's alarm: placed
                    _alarm(2, *WEST_LAKE, "3301"),  # an officer's, refined inside his city
                    _alarm(3, *WEST_LAKE, "3201"),  # an officer's other choice: kept
                    _alarm(4, None, None, "31"),  # no place: kept
                ],
            )
            session.add_all(
                [
                    _sensor("s-1", *WEST_LAKE, "3201"),  # placed wins
                    _sensor("s-2", *AT_SEA, "33"),  # nowhere known: kept
                    _camera("c-1", *PUDONG),
                    Unit(
                        code="u-1",
                        name="站",
                        agency="fire",
                        jurisdiction="",
                        lat=PUDONG[0],
                        lon=PUDONG[1],
                    ),
                    Unit(code="u-2", name="队", agency="fire", jurisdiction="33"),
                ]
            )
            fixes = [
                {
                    "device": f"t{n % 7}",
                    "at": NOW + dt.timedelta(seconds=n),
                    "lat": (PUDONG if n % 3 else WEST_LAKE)[0],
                    "lon": (PUDONG if n % 3 else WEST_LAKE)[1],
                    "speed_kmh": 0.0,
                    "heading_deg": 0.0,
                    "altitude_m": 0.0,
                }
                for n in range(3500)
            ]
            await session.execute(insert(PositionRecord), fixes)
        with caplog.at_level(logging.INFO):
            await db.migrate(engine)
        assert "positions: 3500 rows placed" in caplog.text
        async with sessions() as session:
            alarms = list(await session.scalars(select(Alarm.jurisdiction).order_by(Alarm.id)))
            sensors = list(
                await session.scalars(select(SensorRecord.jurisdiction).order_by(SensorRecord.id))
            )
            cameras = list(await session.scalars(select(CameraRecord.jurisdiction)))
            units = list(await session.scalars(select(Unit.jurisdiction).order_by(Unit.id)))
            placed = dict(
                (
                    await session.execute(
                        select(PositionRecord.jurisdiction, func.count()).group_by(
                            PositionRecord.jurisdiction
                        )
                    )
                ).all()
            )
        assert alarms == ["310115", "330106", "3201", "31"]
        assert sensors == ["330106", "33"]
        assert cameras == ["310115"]
        assert units == ["310115", "33"]
        assert placed == {"310115": 2333, "330106": 1167}
    finally:
        await engine.dispose()


async def test_an_empty_database_migrates_with_nothing_to_place(db_url: str) -> None:
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine)
        async with engine.connect() as connection:
            changed = await connection.run_sync(r0009_jurisdictions.backfill)
        assert changed == {"positions": 0, "alarms": 0, "sensors": 0, "cameras": 0, "units": 0}
    finally:
        await engine.dispose()


async def test_an_unreadable_stored_row_is_skipped(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from backend.jurisdictions import store
    from backend.storage.models import JurisdictionRecord

    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        async with sessions.begin() as session:
            session.add(
                JurisdictionRecord(
                    code="330106001",
                    parent="330106",
                    level="hamlet",
                    name="x",
                    boundary="{}",
                    min_lon=0.0,
                    min_lat=0.0,
                    max_lon=0.0,
                    max_lat=0.0,
                    source="t",
                    imported_at=NOW,
                    imported_by="t",
                )
            )
        with caplog.at_level(logging.WARNING):
            tree = await store.load_tree(sessions)
        assert tree.imported_count == 0
        assert "jurisdiction 330106001: unreadable stored row" in caplog.text
    finally:
        await engine.dispose()
