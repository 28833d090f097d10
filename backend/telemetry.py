"""Group commit for high-rate telemetry (vehicle positions, sensor readings).

Writers await :meth:`TelemetryWriter.submit`; rows are gathered for at most
``max_delay`` seconds (or ``max_batch`` rows) and inserted in one transaction, and every
waiter is released only after that commit, so an acknowledged reading is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

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
    ) -> None:
        self._sessions = sessions
        self._max_delay = max_delay
        self._max_batch = max_batch
        self._queue_limit = queue_limit
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._queued_samples = 0
        self._room = asyncio.Event()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
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

    async def submit(self, sample: Sample) -> None:
        """Queue one position or reading and return once it is committed."""
        await self.submit_many((sample,))

    async def submit_many(self, samples: Sequence[Sample]) -> None:
        """Queue samples and return once all of them are committed (in one transaction)."""
        if self._task is None:
            raise Error("telemetry writer is not running")
        if not samples:
            return
        while self._queued_samples >= self._queue_limit:
            self._room.clear()
            await self._room.wait()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued_samples += len(samples)
        if self._queued_samples >= self._max_batch:
            self._full.set()
        self._queue.put_nowait(_Item(samples, done))
        await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # Gather for up to max_delay, or until a full batch is waiting.
            if self._queued_samples < self._max_batch:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._max_delay)
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
        readings: list[Reading] = []
        for item in batch:
            for sample in item.samples:
                if isinstance(sample, Position):
                    positions.append(sample)
                else:
                    readings.append(sample)
        try:
            async with self._sessions.begin() as session:
                connection = await session.connection()
                to_db_time = _sqlite_time if connection.dialect.name == "sqlite" else _aware_utc
                if readings:
                    await _insert_rows(connection, READINGS, _reading_rows(readings, to_db_time))
                if positions:
                    await _insert_rows(connection, POSITIONS, _position_rows(positions, to_db_time))
        except (SQLAlchemyError, ValueError, TypeError) as exc:
            logger.exception("could not store %s telemetry samples", len(readings) + len(positions))
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(Error(f"sample not stored: {exc}"))
            return
        self.rows_written += len(readings) + len(positions)
        for item in batch:
            if not item.done.done():
                item.done.set_result(None)


# Telemetry is the one hot write path: rows go to the driver's executemany as tuples,
# skipping the per-row parameter processing of SQLAlchemy (several times the cost of
# the insert itself). The column lists are checked against the tables by the tests.
POSITIONS = (
    PositionRecord.__tablename__,
    ("device", "at", "lat", "lon", "speed_kmh", "heading_deg", "altitude_m", "alarms", "backfill"),
)
READINGS = (ReadingRecord.__tablename__, ("device", "sensor", "at", "value", "unit"))

_Row = tuple[object, ...]
_TimeConverter = Callable[[dt.datetime], object]


def _position_rows(positions: Sequence[Position], to_db_time: _TimeConverter) -> list[_Row]:
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
        )
        for position in positions
    ]


def _reading_rows(readings: Sequence[Reading], to_db_time: _TimeConverter) -> list[_Row]:
    return [
        (reading.device, reading.sensor, to_db_time(reading.at), float(reading.value), reading.unit)
        for reading in readings
    ]


_PLACEHOLDERS: dict[str, Callable[[int], str]] = {
    "qmark": lambda count: ", ".join("?" * count),
    "numeric_dollar": lambda count: ", ".join(f"${n}" for n in range(1, count + 1)),
    "format": lambda count: ", ".join(["%s"] * count),
}


async def _insert_rows(
    connection: AsyncConnection, target: tuple[str, tuple[str, ...]], rows: list[_Row]
) -> None:
    """Insert ``rows`` with one executemany in the driver's own parameter style."""
    table, columns = target
    placeholders = _PLACEHOLDERS.get(connection.dialect.paramstyle)
    if placeholders is None:
        raise Error(f"no telemetry insert for parameter style {connection.dialect.paramstyle}")
    # Table and column names are the constants above, never input.
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders(len(columns))})"  # noqa: S608
    await connection.exec_driver_sql(statement, rows)


def _aware_utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return at


def _sqlite_time(at: dt.datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text: naive UTC (see backend.storage.types)."""
    utc = at if at.tzinfo is dt.UTC else _aware_utc(at).astimezone(dt.UTC)
    return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
