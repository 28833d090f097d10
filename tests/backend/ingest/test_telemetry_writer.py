"""The telemetry group commit: batches, durability before release, back-pressure, failure."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import FromClause, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.config import sqlite_url
from backend.ingest import telemetry
from backend.ingest.telemetry import TelemetryWriter
from backend.server.app import DutyDeskServer
from backend.storage import db
from backend.storage.models import PositionRecord, ReadingRecord
from devices.observations import DeviceStatusChanged, Position, Reading
from realtime.protocol import Subscribe, Subscribed
from tests.backend.conftest import ingest_for, open_console

T0 = dt.datetime(2026, 11, 29, 2, 0, 0, 123456, tzinfo=dt.UTC)


def _position(device: str, second: int, **extra: object) -> Position:
    return Position(
        device=device,
        at=T0 + dt.timedelta(seconds=second),
        lat=30.0 + second / 1e4,
        lon=120.0,
        speed_kmh=61.5,
        heading_deg=90.0,
        **extra,  # type: ignore[arg-type]
    )


Sessions = async_sessionmaker[AsyncSession]
WriterFactory = Callable[..., Awaitable[tuple[TelemetryWriter, Sessions]]]


@pytest.fixture
async def make_writer(db_url: str) -> AsyncIterator[WriterFactory]:
    """Start a TelemetryWriter on a fresh, migrated database (stopped afterwards).

    SQLite and PostgreSQL: each has its own write path (a thread with its own connection;
    binary COPY on a connection of its own)."""
    engine = db.create_engine(db_url)
    await db.migrate(engine)
    writers: list[TelemetryWriter] = []

    sessions = db.session_factory(engine)

    async def make(**options: float) -> tuple[TelemetryWriter, Sessions]:
        writer = TelemetryWriter(sessions, **options)  # type: ignore[arg-type]
        writer.start()
        writers.append(writer)
        return writer, sessions

    yield make
    for writer in writers:
        await writer.stop()
    await engine.dispose()


@pytest.mark.parametrize(
    ("target", "table"),
    [
        (telemetry.POSITIONS, PositionRecord.__table__),
        (telemetry.READINGS, ReadingRecord.__table__),
    ],
)
def test_fast_insert_columns_cover_the_table(
    target: tuple[str, tuple[str, ...]], table: FromClause
) -> None:
    """The driver-level insert names every column but the key: a schema change must show."""
    name, columns = target
    assert name == table.description
    assert set(columns) == {column.name for column in table.columns} - {"id"}


async def test_a_batch_reads_back_exactly_as_written(server: DutyDeskServer) -> None:
    """Rows written through the driver read back through the ORM unchanged (both databases)."""
    positions = [
        _position("13900000001", 0, alarms=frozenset({"overspeed", "emergency"})),
        _position("13900000001", 1, backfill=True),
        # A fix from a zone other than UTC is stored as the same instant.
        Position(
            device="13900000002",
            at=(T0 + dt.timedelta(seconds=2)).astimezone(dt.timezone(dt.timedelta(hours=8))),
            lat=-33.5,
            lon=-70.25,
        ),
    ]
    reading = Reading(device="gas-1", sensor="CH4", at=T0, value=0.62, unit="%CH4")
    await server.telemetry.submit_many([*positions, reading])
    async with server.sessions() as session:
        stored = (await session.scalars(select(PositionRecord).order_by(PositionRecord.at))).all()
        stored_reading = (await session.scalars(select(ReadingRecord))).one()
    assert [(row.device, row.at, row.lat, row.lon) for row in stored] == [
        (p.device, p.at.astimezone(dt.UTC), p.lat, p.lon) for p in positions
    ]
    assert stored[0].alarms == "emergency,overspeed"
    assert stored[0].speed_kmh == 61.5
    assert [row.backfill for row in stored] == [False, True, False]
    assert (stored_reading.sensor, stored_reading.at, stored_reading.value) == ("CH4", T0, 0.62)


async def test_waiters_are_released_only_after_their_commit(make_writer: WriterFactory) -> None:
    writer, sessions = await make_writer(max_delay=1.0, max_batch=10_000)
    first = asyncio.create_task(writer.submit_many([_position("a", s) for s in range(50)]))
    second = asyncio.create_task(writer.submit(_position("b", 0)))
    await asyncio.sleep(0.05)
    # Still inside the gathering window: nobody is told "stored" yet.
    assert not first.done()
    assert not second.done()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert await _count(sessions) == 51
    assert writer.rows_written == 51


async def test_a_full_batch_is_written_without_waiting_for_the_window(
    make_writer: WriterFactory,
) -> None:
    writer, sessions = await make_writer(max_delay=30.0, max_batch=100)
    await asyncio.wait_for(writer.submit_many([_position("a", s) for s in range(100)]), 5)
    assert await _count(sessions) == 100


async def test_a_commit_larger_than_one_statement_stores_every_row(
    make_writer: WriterFactory,
) -> None:
    """On SQLite rows go in multi-row INSERTs of a fixed size: the last, shorter one too."""
    writer, sessions = await make_writer(max_delay=0.05, max_batch=10_000)
    count = 2 * telemetry._SqliteFile.ROWS_PER_STATEMENT + 17
    sent = [_position(f"v{n % 7}", n) for n in range(count)]
    await asyncio.wait_for(writer.submit_many(sent), 10)
    async with sessions() as session:
        stored = (await session.scalars(select(PositionRecord).order_by(PositionRecord.id))).all()
    assert [(row.device, row.at, row.lat) for row in stored] == [
        (p.device, p.at, p.lat) for p in sent
    ]


async def test_submitters_wait_for_room_when_the_queue_is_full(make_writer: WriterFactory) -> None:
    writer, sessions = await make_writer(max_delay=0.3, max_batch=1000, queue_limit=20)
    finished: list[str] = []
    first = asyncio.create_task(writer.submit_many([_position("a", s) for s in range(20)]))
    first.add_done_callback(lambda _: finished.append("first"))
    await asyncio.sleep(0.05)
    late = asyncio.create_task(writer.submit(_position("b", 0)))
    late.add_done_callback(lambda _: finished.append("late"))
    await asyncio.wait_for(asyncio.gather(first, late), 5)
    # The late sample waited for room, so it went into a commit of its own, after.
    assert finished == ["first", "late"]
    assert await _count(sessions) == 21


@pytest.mark.logs_errors
async def test_a_failed_commit_fails_every_waiter_and_the_writer_goes_on(
    make_writer: WriterFactory,
) -> None:
    writer, sessions = await make_writer(max_delay=0.05)
    naive = Position(device="a", at=dt.datetime(2026, 11, 29, 2, 0), lat=30.0, lon=120.0)  # noqa: DTZ001 - refused on purpose
    results = await asyncio.gather(
        writer.submit_many([_position("a", 1), naive]),
        writer.submit(_position("b", 1)),
        return_exceptions=True,
    )
    # One transaction: the good rows beside the bad one are not stored either.
    assert all(isinstance(result, telemetry.Error) for result in results)
    assert await _count(sessions) == 0
    await asyncio.wait_for(writer.submit(_position("c", 2)), 5)
    assert await _count(sessions) == 1


async def test_a_run_of_positions_is_stored_judged_and_fanned_out(
    server: DutyDeskServer,
) -> None:
    ingest = ingest_for(server)
    console = await open_console(server)
    try:
        subscribed = await console.client.request(Subscribe(req="", topics=["positions"]))
        assert isinstance(subscribed, Subscribed)
        run = [_position("13900000003", second) for second in range(5)]
        await ingest.submit_many(
            [
                *run[:3],
                DeviceStatusChanged(device="13900000003", online=True, at=T0),
                *run[3:],
            ]
        )
        async with server.sessions() as session:
            stored = (
                await session.scalars(
                    select(PositionRecord.at).where(PositionRecord.device == "13900000003")
                )
            ).all()
        assert sorted(stored) == [p.at for p in run]
        server.hub.flush_telemetry()
        await console.recorder.wait_for(
            lambda: any(v.at == run[-1].at for t in console.recorder.telemetry for v in t.positions)
        )
        # Coalesced: at most one fix per device per tick, the newest of what had arrived.
        for batch in console.recorder.telemetry:
            assert len(batch.positions) == len({view.device for view in batch.positions})
        assert len([v for t in console.recorder.telemetry for v in t.positions]) < len(run)
    finally:
        await console.close()
        await ingest.stop()


async def _count(sessions: Sessions) -> int:
    async with sessions() as session:
        return len((await session.scalars(select(PositionRecord.id))).all())


def test_the_column_lists_match_the_migrated_schema(tmp_path: Path) -> None:
    """The migrations (not only the models) carry every column the fast insert names."""

    async def columns() -> dict[str, set[str]]:
        engine = db.create_engine(sqlite_url(tmp_path))
        await db.migrate(engine)
        async with engine.connect() as connection:
            found = await connection.run_sync(
                lambda sync: {
                    table: {column["name"] for column in inspect(sync).get_columns(table)}
                    for table in ("positions", "readings")
                }
            )
        await engine.dispose()
        return found

    found = asyncio.run(columns())
    assert set(telemetry.POSITIONS[1]) <= found["positions"]
    assert set(telemetry.READINGS[1]) <= found["readings"]


async def test_fixes_of_one_instant_in_any_zone_are_stored_as_the_same_utc_time(
    make_writer: WriterFactory,
) -> None:
    writer, sessions = await make_writer(max_delay=0.01)
    beijing = dt.timezone(dt.timedelta(hours=8))
    same_instant = T0.astimezone(beijing)
    # The UTC text of a time is cached: the zone it came in must not matter.
    await writer.submit_many(
        [
            Position(device="a", at=T0, lat=30.0, lon=120.0),
            Position(device="b", at=same_instant, lat=30.0, lon=120.0),
            Position(device="c", at=same_instant + dt.timedelta(hours=1), lat=30.0, lon=120.0),
        ]
    )
    async with sessions() as session:
        stored = {
            record.device: record.at for record in await session.scalars(select(PositionRecord))
        }
    assert stored == {"a": T0, "b": T0, "c": T0 + dt.timedelta(hours=1)}


# ------------------------------------------------------------------- PostgreSQL COPY


def postgres_only(test: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``test`` on PostgreSQL's own write path only (``db_url``'s postgres parameter)."""
    only_postgres = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
    marked: Callable[..., Any] = pytest.mark.postgres(only_postgres(test))
    return marked


@postgres_only
@pytest.mark.logs_errors
async def test_a_row_postgres_refuses_fails_only_its_commit(make_writer: WriterFactory) -> None:
    writer, sessions = await make_writer(max_delay=0.05)
    too_long = Position(device="9" * 65, at=T0, lat=30.0, lon=120.0)  # VARCHAR(64)
    results = await asyncio.gather(
        writer.submit_many([_position("a", 1), too_long]),
        writer.submit(_position("b", 1)),
        return_exceptions=True,
    )
    assert all(isinstance(result, telemetry.Error) for result in results)
    assert "value too long" in str(results[0])
    assert await _count(sessions) == 0
    # The next commit goes through (on a fresh connection).
    await asyncio.wait_for(writer.submit_many([_position("c", 2), _position("c", 3)]), 5)
    async with sessions() as session:
        stored = await session.scalars(select(PositionRecord).order_by(PositionRecord.at))
        assert [(row.device, row.at) for row in stored] == [
            ("c", T0 + dt.timedelta(seconds=2)),
            ("c", T0 + dt.timedelta(seconds=3)),
        ]


@postgres_only
@pytest.mark.logs_errors
async def test_a_lost_postgres_connection_fails_one_commit_and_is_replaced(
    make_writer: WriterFactory,
) -> None:
    writer, sessions = await make_writer(max_delay=0.01)
    await writer.submit(_position("a", 1))
    async with sessions.begin() as session:
        # The server ends every other session of this database (a restart, a failover).
        ended = await session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert ended
    outcome = await asyncio.gather(writer.submit(_position("a", 2)), return_exceptions=True)
    # Not acknowledged, so the device sends it again: nothing acknowledged is lost.
    assert isinstance(outcome[0], telemetry.Error)
    await asyncio.wait_for(writer.submit(_position("a", 3)), 5)
    assert await _count(sessions) == 2
