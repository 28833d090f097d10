"""Group commit for high-rate telemetry (vehicle positions, sensor readings).

Writers await :meth:`TelemetryWriter.submit`; rows are gathered for at most
``max_delay`` seconds (or ``max_batch`` rows) and inserted in one transaction, and every
waiter is released only after that commit, so an acknowledged reading is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import asyncpg
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from backend.runtime.episodes import EpisodeLog
from backend.storage import db, faults, raw
from backend.storage.models import PositionRecord, ReadingRecord
from devices.observations import Position, Reading

logger = logging.getLogger(__name__)


class Error(Exception):
    """Telemetry could not be stored."""


Sample = Position | Reading


@dataclass(slots=True)
class _Item:
    samples: Sequence[Sample]
    done: asyncio.Future[None]
    queued_at: float
    places: Sequence[str] | None = None
    """The jurisdiction of each sample (only positions' are stored), or None for none."""


class TelemetryWriter:
    """Batches positions and readings into ≤ ``max_delay`` group commits.

    ``queue_limit`` bounds the samples waiting for a commit: submitters wait for room
    (back-pressure reaches the devices) instead of memory growing without end.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_delay: float = 0.05,
        max_batch: int = 2000,
        queue_limit: int = 50_000,
        outage: EpisodeLog | None = None,
    ) -> None:
        self._sessions = sessions
        self._outage = outage or EpisodeLog(logger, "telemetry storage")
        """Failed commits are logged once per outage (shared with the rest of the server)."""
        self._max_delay = max_delay
        self._max_batch = max_batch
        self._queue_limit = queue_limit
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._queued_samples = 0
        self._room = asyncio.Event()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sqlite = _SqliteFile.for_sessions(sessions)
        self._copy = _PostgresCopy.for_sessions(sessions)
        self.rows_written = 0

    def start(self) -> None:
        """Start the background flusher."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="telemetry-writer")

    async def stop(self) -> None:
        """Flush what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._sqlite is not None:
            await self._sqlite.close()
        if self._copy is not None:
            await self._copy.close()

    async def submit(self, sample: Sample) -> None:
        """Queue one position or reading and return once it is committed."""
        await self.submit_many((sample,))

    async def submit_many(
        self, samples: Sequence[Sample], places: Sequence[str] | None = None
    ) -> None:
        """Queue samples and return once all of them are committed (in one transaction).

        ``places`` gives each sample's jurisdiction (stored with positions), one per sample.
        """
        if self._task is None:
            raise Error("telemetry writer is not running")
        if not samples:
            return
        while self._queued_samples >= self._queue_limit:
            self._room.clear()
            await self._room.wait()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queued_samples += len(samples)
        if self._queued_samples >= self._max_batch:
            self._full.set()
        if places is not None and len(places) != len(samples):
            raise ValueError("give one jurisdiction per sample")
        self._queue.put_nowait(_Item(samples, done, loop.time(), places))
        await done

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            # Gather until the oldest sample has waited max_delay (a sample that queued up
            # during the last commit has already waited), or until a full batch is waiting.
            window = self._max_delay - (loop.time() - batch[0].queued_at)
            if window > 0 and self._queued_samples < self._max_batch:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), window)
            size = len(batch[0].samples)
            while size < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                batch.append(item)
                size += len(item.samples)
            try:
                await self._flush(batch)
            finally:
                self._queued_samples -= size
                self._room.set()
                for item in batch:
                    if not item.done.done():  # the flush itself was interrupted
                        item.done.set_exception(Error("telemetry writer stopped"))
                    self._queue.task_done()

    async def _flush(self, batch: list[_Item]) -> None:
        positions: list[Position] = []
        places: list[str] = []
        readings: list[Reading] = []
        for item in batch:
            for index, sample in enumerate(item.samples):
                if isinstance(sample, Position):
                    positions.append(sample)
                    places.append(item.places[index] if item.places is not None else "")
                else:
                    readings.append(sample)
        try:
            faults.before_commit("telemetry")
            if self._sqlite is not None:
                await self._sqlite.insert(
                    _reading_rows(readings, raw.sqlite_time),
                    _position_rows(positions, places, raw.sqlite_time),
                )
            elif self._copy is not None:
                await self._copy.insert(
                    _reading_rows(readings, raw.aware_utc),
                    _position_rows(positions, places, raw.aware_utc),
                )
            else:
                async with self._sessions.begin() as session:
                    connection = await session.connection()
                    to_db_time = raw.time_converter(connection.dialect.name)
                    if readings:
                        rows = _reading_rows(readings, to_db_time)
                        await _insert_rows(connection, READINGS, rows)
                    if positions:
                        rows = _position_rows(positions, places, to_db_time)
                        await _insert_rows(connection, POSITIONS, rows)
        except (
            SQLAlchemyError,
            sqlite3.Error,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            ConnectionError,
            ValueError,
            TypeError,
        ) as exc:
            self._outage.failed(
                f"could not store {len(readings) + len(positions)} telemetry samples: "
                f"{db.failure_reason(exc)}",
                exc,
            )
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(Error(f"sample not stored: {exc}"))
            return
        self._outage.succeeded()
        self.rows_written += len(readings) + len(positions)
        for item in batch:
            if not item.done.done():
                item.done.set_result(None)


# Telemetry is the one hot write path: rows go to the driver's executemany as tuples,
# skipping the per-row parameter processing of SQLAlchemy (several times the cost of
# the insert itself). The column lists are checked against the tables by the tests.
POSITIONS = (
    PositionRecord.__tablename__,
    (
        "device",
        "at",
        "lat",
        "lon",
        "speed_kmh",
        "heading_deg",
        "altitude_m",
        "alarms",
        "backfill",
        "jurisdiction",
    ),
)
READINGS = (ReadingRecord.__tablename__, ("device", "sensor", "at", "value", "unit"))

_Row = tuple[object, ...]


def _position_rows(
    positions: Sequence[Position], places: Sequence[str], to_db_time: raw.TimeConverter
) -> list[_Row]:
    return [
        (
            position.device,
            to_db_time(position.at),
            float(position.lat),
            float(position.lon),
            float(position.speed_kmh),
            float(position.heading_deg),
            float(position.altitude_m),
            ",".join(sorted(position.alarms))[:400] if position.alarms else "",
            bool(position.backfill),
            place,
        )
        for position, place in zip(positions, places, strict=True)
    ]


def _reading_rows(readings: Sequence[Reading], to_db_time: raw.TimeConverter) -> list[_Row]:
    return [
        (reading.device, reading.sensor, to_db_time(reading.at), float(reading.value), reading.unit)
        for reading in readings
    ]


def _insert_statement(target: tuple[str, tuple[str, ...]], placeholders: str) -> str:
    table, columns = target
    # Table and column names are the constants above, never input.
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608


class _SqliteFile:
    """Telemetry's own connection to an SQLite database file, used from one thread.

    A commit is one hand-over to that thread (BEGIN IMMEDIATE, executemany, COMMIT). Through
    aiosqlite every statement is a hand-over of its own, and each waits for the GIL while
    the event loop is busy: at 8,000 positions/s a commit took 30-50 ms that way. The
    engine's connections set WAL and a busy timeout, so this writer and theirs take turns.
    """

    ROWS_PER_STATEMENT = 256
    """Rows per multi-row INSERT. executemany steps once per row, and every step gives up
    the interpreter lock and waits to get it back from a busy event loop: a 500-row commit
    took ~3x as long that way as with 256 rows per statement."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telemetry-sqlite")
        self._connection: sqlite3.Connection | None = None

    @classmethod
    def for_sessions(cls, sessions: async_sessionmaker[AsyncSession]) -> _SqliteFile | None:
        """A writer for the sessions' database if it is an SQLite file, else None."""
        engine = sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine) or engine.url.get_backend_name() != "sqlite":
            return None
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None  # only a plain file is the same database from another connection
        return cls(database)

    async def insert(self, readings: list[_Row], positions: list[_Row]) -> None:
        """Insert both lists in one transaction; returns once it is committed."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._insert, readings, positions)

    def _insert(self, readings: list[_Row], positions: list[_Row]) -> None:
        connection = self._connection
        if connection is None:
            connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA synchronous=FULL")  # an acknowledged sample is durable
            connection.execute("PRAGMA busy_timeout=30000")
            self._connection = connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            self._insert_rows(connection, READINGS, readings)
            self._insert_rows(connection, POSITIONS, positions)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _insert_rows(
        self, connection: sqlite3.Connection, target: tuple[str, tuple[str, ...]], rows: list[_Row]
    ) -> None:
        row_placeholders = f"({', '.join('?' * len(target[1]))})"
        step = self.ROWS_PER_STATEMENT
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            # Full chunks share one statement text, so sqlite3's statement cache reuses it.
            statement = _insert_statement(
                target, "), (".join([row_placeholders[1:-1]] * len(chunk))
            )
            connection.execute(statement, list(itertools.chain.from_iterable(chunk)))

    async def close(self) -> None:
        """Close the connection and end the thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _PostgresCopy:
    """Telemetry rows into PostgreSQL with asyncpg's binary COPY, one transaction per commit.

    ``executemany`` sends a bind and an execute per row: ≈ 17 µs of the event loop's time
    per fix (bench/ingest.py's storing-alone figure); COPY sends the rows as one binary
    stream. The writer keeps one connection of the engine's pool for itself, as the SQLite
    writer keeps its own: a check-out per commit cost ≈ 0.8 ms. A failed commit discards
    that connection; the next commit takes a fresh one.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._driver: asyncpg.Connection | None = None

    @classmethod
    def for_sessions(cls, sessions: async_sessionmaker[AsyncSession]) -> _PostgresCopy | None:
        """A COPY writer if the sessions' database is PostgreSQL through asyncpg, else None."""
        engine = sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine) or engine.url.get_dialect().driver != "asyncpg":
            return None
        return cls(engine)

    async def insert(self, readings: list[_Row], positions: list[_Row]) -> None:
        """Copy both lists in one transaction; returns once it is committed."""
        driver = self._driver or await self._connect()
        try:
            async with driver.transaction():
                for (table, columns), rows in ((READINGS, readings), (POSITIONS, positions)):
                    if rows:
                        await driver.copy_records_to_table(table, records=rows, columns=columns)
        except BaseException:
            await self.close()
            raise

    async def _connect(self) -> asyncpg.Connection:
        connection = await self._engine.connect()
        # The driver's own transactions: nothing ever runs on the SQLAlchemy connection,
        # so it never has a transaction of its own to interfere.
        adapted = await connection.get_raw_connection()
        self._connection, self._driver = connection, adapted.driver_connection
        return self._driver

    async def close(self) -> None:
        """Give the connection back (a broken one is dropped by the pool)."""
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(SQLAlchemyError, asyncpg.InterfaceError, OSError):
                await connection.close()


async def _insert_rows(
    connection: AsyncConnection, target: tuple[str, tuple[str, ...]], rows: list[_Row]
) -> None:
    """Insert ``rows`` with one executemany in the driver's own parameter style."""
    try:
        markers = raw.placeholders(connection.dialect.paramstyle, len(target[1]))
    except raw.Error as exc:
        raise Error(f"no telemetry insert: {exc}") from exc
    statement = _insert_statement(target, ", ".join(markers))
    await connection.exec_driver_sql(statement, rows)
