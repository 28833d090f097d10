"""Group commit for high-rate telemetry (vehicle positions, sensor readings).

Writers await :meth:`TelemetryWriter.submit`; rows are gathered for at most
``max_delay`` seconds (or ``max_batch`` rows) and inserted in one transaction, and every
waiter is released only after that commit, so an acknowledged reading is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.storage.models import PositionRecord, ReadingRecord
from devices.observations import Position, Reading

logger = logging.getLogger(__name__)


class Error(Exception):
    """Telemetry could not be stored."""


Sample = Position | Reading


@dataclass(slots=True)
class _Item:
    sample: Sample
    done: asyncio.Future[None]


class TelemetryWriter:
    """Batches positions and readings into ≤ ``max_delay`` group commits."""

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
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=queue_limit)
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
        if self._task is None:
            raise Error("telemetry writer is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Item(sample, done))
        await done

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first]
            deadline = loop.time() + self._max_delay
            while len(batch) < self._max_batch:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            try:
                await self._flush(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _flush(self, batch: list[_Item]) -> None:
        readings = [
            {
                "device": item.sample.device,
                "sensor": item.sample.sensor,
                "at": item.sample.at,
                "value": item.sample.value,
                "unit": item.sample.unit,
            }
            for item in batch
            if isinstance(item.sample, Reading)
        ]
        positions = [
            {
                "device": item.sample.device,
                "at": item.sample.at,
                "lat": item.sample.lat,
                "lon": item.sample.lon,
                "speed_kmh": item.sample.speed_kmh,
                "heading_deg": item.sample.heading_deg,
                "altitude_m": item.sample.altitude_m,
                "alarms": ",".join(sorted(item.sample.alarms))[:400],
                "backfill": item.sample.backfill,
            }
            for item in batch
            if isinstance(item.sample, Position)
        ]
        try:
            async with self._sessions.begin() as session:
                if readings:
                    await session.execute(insert(ReadingRecord), readings)
                if positions:
                    await session.execute(insert(PositionRecord), positions)
        except SQLAlchemyError as exc:
            logger.exception("could not store %s telemetry samples", len(batch))
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(Error(f"sample not stored: {exc}"))
            return
        self.rows_written += len(batch)
        for item in batch:
            if not item.done.done():
                item.done.set_result(None)
