"""Monthly partitions of positions and readings (r0024, ``dutydesk db partitions``):
on PostgreSQL rows land in their month's partition through the real group commit, a row
of no known month does not fail its batch, dropping past retention removes exactly those
months, and the migration keeps rows stored before it; on SQLite the same retention
deletes the rows instead."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.ingest.telemetry import TelemetryWriter
from backend.sensors.timeseries import apply_retention, rollup
from backend.storage import db, partitions
from devices.observations import Position, Reading

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def _at(year: int, month: int, day: int = 15) -> dt.datetime:
    return dt.datetime(year, month, day, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(db_url)
    await db.migrate(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _store(engine: AsyncEngine, times: list[dt.datetime]) -> None:
    writer = TelemetryWriter(db.session_factory(engine), max_delay=0.001)
    writer.start()
    try:
        positions = [
            Position(device=f"t{i}", at=at, lat=30.0, lon=120.0) for i, at in enumerate(times)
        ]
        await writer.submit_many(positions, [""] * len(positions))
        for at in times:
            await writer.submit(Reading(device="s", sensor="s1", at=at, value=1.0, unit="ppm"))
    finally:
        await writer.stop()


async def _where(engine: AsyncEngine, table: str) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1")
        )
        return {str(name): int(count) for name, count in rows}


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_rows_land_in_their_months_partition_and_retention_drops_exactly_old_months(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        assert await partitions.is_partitioned(connection, "positions")
        # Months of stored data are created on demand (the import of an old archive).
        for month in (dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)):
            await partitions.create_month(connection, "positions", month)
            await partitions.create_month(connection, "readings", month)
    times = [_at(2026, 9), _at(2026, 10), _at(2026, 10, 31), _at(2026, 11), _at(2040, 1)]
    await _store(engine, times)
    assert await _where(engine, "positions") == {
        "positions_y2026m09": 1,
        "positions_y2026m10": 2,
        "positions_y2026m11": 1,
        # A terminal with its clock years ahead: kept, and its batch was not refused.
        "positions_default": 1,
    }
    async with engine.begin() as connection:
        report = await partitions.maintain(connection, NOW, keep_months=2)
        # Creating a month moves that month's rows out of the default partition.
        await partitions.create_month(connection, "positions", dt.date(2040, 1, 1))
    # December is current: October and November are kept, September goes, nothing else.
    assert sorted(report.dropped) == ["positions_y2026m09", "readings_y2026m09"]
    assert await _where(engine, "positions") == {
        "positions_y2026m10": 2,
        "positions_y2026m11": 1,
        "positions_y2040m01": 1,
    }
    async with engine.connect() as connection:
        kept = await partitions.months(connection, "positions")
    assert dt.date(2026, 12, 1) in kept  # the current month and two ahead exist
    assert dt.date(2027, 2, 1) in kept
    assert dt.date(2026, 9, 1) not in kept
    # The sensor retention that deletes rows keeps working on the partitioned table.
    async with db.session_factory(engine)() as session, session.begin():
        await rollup(session, _at(2026, 11, 1))
        result = await apply_retention(session, _at(2026, 11, 1), raw_days=7, aggregate_days=400)
    assert result.readings_deleted == 1  # 15 October's (rolled up first); 31 October's stays
    assert await _where(engine, "readings") == {
        "readings_y2026m10": 1,
        "readings_y2026m11": 1,
        "readings_default": 1,
    }


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_on_sqlite_the_same_retention_deletes_the_old_months_rows(
    engine: AsyncEngine,
) -> None:
    await _store(engine, [_at(2026, 9), _at(2026, 10), _at(2026, 11), _at(2026, 12, 1)])
    async with engine.begin() as connection:
        report = await partitions.maintain(connection, NOW, keep_months=2)
    assert report.dropped == []
    assert report.created == []
    assert report.rows_deleted == 2  # September's position and reading
    async with engine.connect() as connection:
        oldest = await connection.scalar(text("SELECT min(at) FROM positions"))
    assert str(oldest).startswith("2026-10-15")


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_the_migration_keeps_positions_stored_before_it(db_url: str) -> None:
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, "r0019")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO positions (device, at, lat, lon, speed_kmh, heading_deg, "
                    "altitude_m, alarms, backfill, jurisdiction) VALUES "
                    "('t1', '2025-03-02T00:00:00Z', 30, 120, 0, 0, 0, '', false, '')"
                )
            )
        await db.migrate(engine)
        await _store(engine, [_at(2025, 3, 3)])
        where = await _where(engine, "positions")
    finally:
        await engine.dispose()
    assert where == {"positions_y2025m03": 2}
