"""Sensor time series: five-minute rollups, retention, downsampled history, latest readings.

Raw readings arrive in ``readings`` by group commit (:mod:`backend.ingest.telemetry`). This
module rolls them up into five-minute statistics (``reading_rollups``: min, max, mean,
count per sensor and bucket), deletes what is past its keeping time (raw readings 7
days, statistics a year, as the coal-mine monitoring rules ask) and answers history
queries with at most ``max_points`` points, keeping every peak: each time slice
contributes its minimum and its maximum, so the global minimum and maximum are always
in the answer.

Every function takes the caller's :class:`~sqlalchemy.ext.asyncio.AsyncSession` and runs
in the caller's transaction; :class:`TimeSeriesMaintenance` runs rollup and retention
periodically in transactions of its own. The SQL is the same on SQLite and PostgreSQL
except the bucket expression, which is chosen per dialect.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    CursorResult,
    Integer,
    Select,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from backend.runtime.leases import Lease
from backend.runtime.periodic import Periodic
from backend.storage.latest import newest_row_id
from backend.storage.models import (
    ReadingRecord,
    ReadingRollup,
    SensorRecord,
    TimeSeriesProgress,
)
from realtime.protocol import ReadingView

logger = logging.getLogger(__name__)

BUCKET_SECONDS: Final = 300
"""Width of one rollup bucket (five minutes)."""
BUCKET: Final = dt.timedelta(seconds=BUCKET_SECONDS)
RAW_DAYS: Final = 7
"""Raw readings are kept at least this long (AQ 6201: real-time values ≥ 7 days)."""
AGGREGATE_DAYS: Final = 366
"""Five-minute statistics are kept at least this long (≥ 1 year)."""
RAW_POINT_LIMIT: Final = 100_000
"""A history range with more raw readings than this is answered from rollups."""
ROLLUP_CHUNK: Final = dt.timedelta(hours=1)
"""Rollups aggregate at most this much time per query (bounded memory on catch-up)."""

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Error(Exception):
    """A time-series operation was asked something impossible."""


class Point(NamedTuple):
    """One point of a history answer."""

    at: dt.datetime
    value: float


@dataclass(frozen=True, slots=True)
class Bucket:
    """Statistics of one sensor over one five-minute bucket."""

    start: dt.datetime
    min: float
    max: float
    mean: float
    count: int


@dataclass(frozen=True, slots=True)
class History:
    """The answer of :func:`history`."""

    sensor: str
    start: dt.datetime
    end: dt.datetime
    source: Literal["raw", "rollup"]
    """``raw``: points are readings; ``rollup``: points are five-minute extremes stamped
    with the start of their bucket."""
    points: list[Point]
    downsampled: bool
    """True when ``points`` were thinned to ``max_points`` (peaks kept)."""


@dataclass(frozen=True, slots=True)
class RollupResult:
    """What :func:`rollup` did."""

    buckets_written: int
    rolled_up_until: dt.datetime | None
    """Every bucket before this is rolled up (None: there was nothing to roll up yet)."""


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What :func:`apply_retention` deleted."""

    readings_deleted: int
    buckets_deleted: int
    raw_kept_from: dt.datetime | None
    """Raw readings before this are gone (None: none deleted yet)."""


# --------------------------------------------------------------------------- helpers


def bucket_floor(at: dt.datetime) -> dt.datetime:
    """Return the start of the five-minute bucket holding ``at`` (UTC)."""
    if at.tzinfo is None:
        raise Error("naive datetime: use aware UTC times")
    seconds = int((at - _EPOCH).total_seconds() // BUCKET_SECONDS) * BUCKET_SECONDS
    return _EPOCH + dt.timedelta(seconds=seconds)


def _epoch_seconds(session: AsyncSession) -> ColumnElement[int]:
    """SQL for the whole seconds since the epoch of ``readings.at`` (rounded down)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite stores naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff". Cut the fraction off
        # first: SQLite's clock has millisecond precision and would round 59.9999995 up.
        whole_seconds = func.substr(ReadingRecord.at, 1, 19)
        return cast(func.strftime("%s", whole_seconds), Integer)
    if dialect == "postgresql":
        return cast(func.floor(extract("epoch", ReadingRecord.at)), BigInteger)
    raise Error(f"time-series queries do not support the {dialect!r} database")


def _bucket_index(session: AsyncSession) -> ColumnElement[int]:
    """SQL for the bucket number (seconds since the epoch // 300) of ``readings.at``."""
    return _epoch_seconds(session).op("/")(BUCKET_SECONDS)


def _aggregate(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, sensor: str | None = None
) -> Select[Any]:
    index = _bucket_index(session).label("bucket")
    query = (
        select(
            ReadingRecord.sensor,
            index,
            func.min(ReadingRecord.value),
            func.max(ReadingRecord.value),
            func.avg(ReadingRecord.value),
            func.count(ReadingRecord.value),
        )
        .where(ReadingRecord.at >= start, ReadingRecord.at < end)
        .group_by(ReadingRecord.sensor, index)
    )
    if sensor is not None:
        query = query.where(ReadingRecord.sensor == sensor)
    return query


async def _progress(session: AsyncSession) -> TimeSeriesProgress:
    progress = await session.scalar(
        select(TimeSeriesProgress).where(TimeSeriesProgress.id == 1).with_for_update()
    )
    if progress is None:
        raise Error("the time-series progress row is missing: the database was not migrated")
    return progress


def _rowcount(result: object) -> int:
    if not isinstance(result, CursorResult):
        raise TypeError(f"expected a cursor result, got {type(result).__name__}")
    return int(result.rowcount)


# --------------------------------------------------------------------------- rollup


async def rollup(
    session: AsyncSession, until: dt.datetime, *, recompute: dt.timedelta = dt.timedelta(0)
) -> RollupResult:
    """Roll up every bucket that ends at or before ``until`` and is not rolled up yet.

    Idempotent: a second call with the same ``until`` writes nothing. Buckets from
    ``recompute`` before the previous high-water mark are computed again (deleted and
    rewritten), which picks up readings that arrived late. Call it with ``until`` a
    little behind the clock (see :class:`TimeSeriesMaintenance`) so a bucket is
    complete before it is rolled up. Runs in the caller's transaction.
    """
    end = bucket_floor(until)
    progress = await _progress(session)
    if progress.rolled_up_until is not None:
        start = bucket_floor(progress.rolled_up_until - recompute)
        if progress.raw_kept_from is not None:
            # Never recompute a bucket whose raw readings retention has (partly) deleted.
            kept = bucket_floor(progress.raw_kept_from)
            start = max(start, kept if kept == progress.raw_kept_from else kept + BUCKET)
    else:
        first = await session.scalar(select(func.min(ReadingRecord.at)))
        if first is None:
            return RollupResult(0, None)
        start = bucket_floor(first)
    if start >= end:
        return RollupResult(0, progress.rolled_up_until)
    await session.execute(
        delete(ReadingRollup).where(
            ReadingRollup.bucket_start >= start, ReadingRollup.bucket_start < end
        )
    )
    written = 0
    chunk_start = start
    while chunk_start < end:
        # Skip stretches without readings (a sensor network that was down, sparse data).
        next_at = await session.scalar(
            select(func.min(ReadingRecord.at)).where(
                ReadingRecord.at >= chunk_start, ReadingRecord.at < end
            )
        )
        if next_at is None:
            break
        chunk_start = max(chunk_start, bucket_floor(next_at))
        chunk_end = min(chunk_start + ROLLUP_CHUNK, end)
        rows = [
            {
                "sensor": sensor,
                "bucket_start": _EPOCH + dt.timedelta(seconds=int(index) * BUCKET_SECONDS),
                "min": low,
                "max": high,
                "mean": float(mean),
                "count": count,
            }
            for sensor, index, low, high, mean, count in await session.execute(
                _aggregate(session, chunk_start, chunk_end)
            )
        ]
        if rows:
            await session.execute(insert(ReadingRollup), rows)
        written += len(rows)
        chunk_start = chunk_end
    if progress.rolled_up_until is None or end > progress.rolled_up_until:
        progress.rolled_up_until = end
    await session.flush()
    logger.debug("rolled up %s buckets from %s to %s", written, start, end)
    return RollupResult(written, progress.rolled_up_until)


# --------------------------------------------------------------------------- retention


async def apply_retention(
    session: AsyncSession,
    now: dt.datetime,
    raw_days: float = RAW_DAYS,
    aggregate_days: float = AGGREGATE_DAYS,
) -> RetentionResult:
    """Delete raw readings older than ``raw_days`` and buckets older than ``aggregate_days``.

    A reading goes when ``at < now - raw_days``, but never before it is rolled up: the
    cut stops at the rollup high-water mark (no rollup yet: no raw reading is deleted).
    A bucket goes when it ends at or before ``now - aggregate_days``. Runs in the
    caller's transaction; run it often (hourly) so each run deletes little.
    """
    if raw_days <= 0 or aggregate_days <= 0:
        raise Error("keeping times must be positive")
    progress = await _progress(session)
    readings_deleted = 0
    if progress.rolled_up_until is not None:
        raw_cut = min(now - dt.timedelta(days=raw_days), progress.rolled_up_until)
        readings_deleted = _rowcount(
            await session.execute(delete(ReadingRecord).where(ReadingRecord.at < raw_cut))
        )
        if progress.raw_kept_from is None or raw_cut > progress.raw_kept_from:
            progress.raw_kept_from = raw_cut
    bucket_cut = now - dt.timedelta(days=aggregate_days) - BUCKET
    buckets_deleted = _rowcount(
        await session.execute(delete(ReadingRollup).where(ReadingRollup.bucket_start <= bucket_cut))
    )
    await session.flush()
    if readings_deleted or buckets_deleted:
        logger.info(
            "retention: deleted %s readings and %s five-minute buckets",
            readings_deleted,
            buckets_deleted,
        )
    return RetentionResult(readings_deleted, buckets_deleted, progress.raw_kept_from)


# --------------------------------------------------------------------------- history


async def raw_readings(
    session: AsyncSession, sensor: str, start: dt.datetime, end: dt.datetime
) -> list[Point]:
    """Return every stored reading of ``sensor`` with ``start <= at < end``, oldest first."""
    rows = await session.execute(
        select(ReadingRecord.at, ReadingRecord.value)
        .where(ReadingRecord.sensor == sensor, ReadingRecord.at >= start, ReadingRecord.at < end)
        .order_by(ReadingRecord.at)
    )
    return [Point(at, value) for at, value in rows]


async def buckets(
    session: AsyncSession, sensor: str, start: dt.datetime, end: dt.datetime
) -> list[Bucket]:
    """Return the five-minute statistics of ``sensor`` for buckets overlapping
    ``[start, end)``, oldest first: stored rollups, then buckets computed on the fly from
    raw readings that are not rolled up yet."""
    progress = await session.scalar(select(TimeSeriesProgress).where(TimeSeriesProgress.id == 1))
    rolled = progress.rolled_up_until if progress is not None else None
    first = bucket_floor(start)
    result: list[Bucket] = []
    if rolled is not None and first < rolled:
        records = await session.execute(
            select(
                ReadingRollup.bucket_start,
                ReadingRollup.min,
                ReadingRollup.max,
                ReadingRollup.mean,
                ReadingRollup.count,
            )
            .where(
                ReadingRollup.sensor == sensor,
                ReadingRollup.bucket_start >= first,
                ReadingRollup.bucket_start < min(end, rolled),
            )
            .order_by(ReadingRollup.bucket_start)
        )
        result.extend(Bucket(*record) for record in records)
    tail_start = first if rolled is None else max(first, rolled)
    if tail_start < end:
        rows = await session.execute(_aggregate(session, tail_start, end, sensor))
        tail = [
            Bucket(
                _EPOCH + dt.timedelta(seconds=int(index) * BUCKET_SECONDS),
                low,
                high,
                float(mean),
                count,
            )
            for _, index, low, high, mean, count in rows
        ]
        result.extend(sorted(tail, key=lambda bucket: bucket.start))
    return result


async def history(
    session: AsyncSession,
    sensor: str,
    start: dt.datetime,
    end: dt.datetime,
    max_points: int = 2000,
    *,
    source: Literal["auto", "raw", "rollup"] = "auto",
    raw_point_limit: int = RAW_POINT_LIMIT,
) -> History:
    """Return at most ``max_points`` points of ``sensor`` in ``[start, end)``, peaks kept.

    ``auto`` reads raw readings when the range holds at most ``raw_point_limit`` of them
    and raw data for the whole range is still kept; otherwise it reads five-minute
    rollups (plus the not yet rolled-up tail). Either way, when there are more points
    than ``max_points`` the range is cut into ``max_points // 2`` equal time slices and
    each slice gives its minimum and its maximum, in time order.
    """
    if max_points < 2:
        raise Error("max_points must be at least 2 (a minimum and a maximum)")
    if end <= start:
        raise Error("the history range must end after it starts")
    if source == "auto":
        source = "rollup"
        progress = await session.scalar(
            select(TimeSeriesProgress).where(TimeSeriesProgress.id == 1)
        )
        kept_from = progress.raw_kept_from if progress is not None else None
        if kept_from is None or start >= kept_from:
            bounded = (
                select(literal(1))
                .where(
                    ReadingRecord.sensor == sensor,
                    ReadingRecord.at >= start,
                    ReadingRecord.at < end,
                )
                .limit(raw_point_limit + 1)
                .subquery()
            )
            count = await session.scalar(select(func.count()).select_from(bounded))
            if (count or 0) <= raw_point_limit:
                source = "raw"
    if source == "raw":
        points = await raw_readings(session, sensor, start, end)
        if len(points) <= max_points:
            return History(sensor, start, end, "raw", points, downsampled=False)
        return History(
            sensor, start, end, "raw", downsample(points, start, end, max_points), downsampled=True
        )
    stats = await buckets(session, sensor, start, end)
    thinned = len(stats) * 2 > max_points
    return History(
        sensor, start, end, "rollup", downsample_buckets(stats, start, end, max_points), thinned
    )


def downsample(
    points: Sequence[Point], start: dt.datetime, end: dt.datetime, max_points: int
) -> list[Point]:
    """Thin ``points`` to at most ``max_points``, keeping every slice's peaks.

    ``[start, end)`` is cut into ``max_points // 2`` equal slices; each non-empty slice
    contributes its minimum and its maximum (once if they are the same point; the
    earliest of equal values), in time order. So the global minimum and maximum always
    survive. Points outside the range count towards the first or last slice.
    """
    if max_points < 2:
        raise Error("max_points must be at least 2")
    count = len(points)
    if count <= max_points:
        return list(points)
    slices = max_points // 2
    stamps = np.fromiter((p.at.timestamp() for p in points), dtype=np.float64, count=count)
    values = np.fromiter((p.value for p in points), dtype=np.float64, count=count)
    order = np.argsort(stamps, kind="stable")
    stamps, values = stamps[order], values[order]
    origin = start.timestamp()
    scale = slices / max(end.timestamp() - origin, 1e-9)
    index = np.clip(((stamps - origin) * scale).astype(np.int64), 0, slices - 1)
    # Sorted by time, each slice is one run of equal indexes.
    new_run = np.concatenate(([True], index[1:] != index[:-1]))
    run_starts = np.flatnonzero(new_run)
    run_of = np.cumsum(new_run) - 1
    lows = np.minimum.reduceat(values, run_starts)[run_of]
    highs = np.maximum.reduceat(values, run_starts)[run_of]
    keep = np.union1d(
        _first_per_run(values == lows, run_of), _first_per_run(values == highs, run_of)
    )
    return [points[i] for i in order[keep].tolist()]


def _first_per_run(
    matches: npt.NDArray[np.bool_], run_of: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Return, for each run, the position of its first ``True`` in ``matches``."""
    candidates = np.flatnonzero(matches)
    _, first = np.unique(run_of[candidates], return_index=True)
    return candidates[first]


def downsample_buckets(
    stats: Sequence[Bucket], start: dt.datetime, end: dt.datetime, max_points: int
) -> list[Point]:
    """Turn five-minute statistics into at most ``max_points`` points, keeping peaks.

    Each point is stamped with the start of the bucket it comes from (not before
    ``start``); slices are as in :func:`downsample`.
    """
    if max_points < 2:
        raise Error("max_points must be at least 2")
    out: list[Point] = []
    if len(stats) * 2 <= max_points:
        for bucket in stats:
            at = max(bucket.start, start)
            _emit(out, Point(at, bucket.min), Point(at, bucket.max))
        return out
    slices = max_points // 2
    origin = start.timestamp()
    scale = slices / max(end.timestamp() - origin, 1e-9)
    current = -1
    low = high = Point(start, 0.0)
    for bucket in stats:
        at = max(bucket.start, start)
        index = min(max(int((at.timestamp() - origin) * scale), 0), slices - 1)
        bucket_low, bucket_high = Point(at, bucket.min), Point(at, bucket.max)
        if index != current:
            if current >= 0:
                _emit(out, low, high)
            current, low, high = index, bucket_low, bucket_high
            continue
        if bucket_low.value < low.value:
            low = bucket_low
        if bucket_high.value > high.value:
            high = bucket_high
    _emit(out, low, high)
    return out


def _emit(out: list[Point], low: Point, high: Point) -> None:
    if low == high:
        out.append(low)
    elif high.at < low.at:
        out.extend((high, low))
    else:
        out.extend((low, high))


# --------------------------------------------------------------------------- latest readings


async def latest_reading_views(session: AsyncSession) -> list[ReadingView]:
    """The newest stored reading of every registered sensor that has one (to rebuild rule
    state at start, and for consoles that subscribe). One statement: per sensor, one
    backward seek of the ``(sensor, at)`` index inside the database."""
    readings, sensors = ReadingRecord.__table__, SensorRecord.__table__
    newest = newest_row_id(readings, "sensor", sensors, "sensor_id")
    query = select(
        readings.c.device, readings.c.sensor, readings.c.at, readings.c.value, readings.c.unit
    ).select_from(sensors.join(readings, readings.c.id == newest))
    return [
        ReadingView(device=device, sensor=sensor, at=at, value=value, unit=unit)
        for device, sensor, at, value, unit in await session.execute(query)
    ]


# --------------------------------------------------------------------------- maintenance


class TimeSeriesMaintenance:
    """Rolls up every ``interval`` seconds and applies retention every ``retention_every``.

    Each run is its own transaction. ``grace`` keeps rollups behind the clock so readings
    delayed by the group commit or a device's clock land before their bucket is closed;
    ``recompute`` rewrites that many recent buckets to catch later stragglers.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float = 60.0,
        grace: dt.timedelta = dt.timedelta(minutes=1),
        recompute: dt.timedelta = dt.timedelta(minutes=10),
        retention_every: dt.timedelta = dt.timedelta(hours=1),
        raw_days: float = RAW_DAYS,
        aggregate_days: float = AGGREGATE_DAYS,
        lease: Lease | None = None,
    ) -> None:
        self._sessions = sessions
        self._interval = interval
        self._grace = grace
        self._recompute = recompute
        self._retention_every = retention_every
        self._raw_days = raw_days
        self._aggregate_days = aggregate_days
        self._last_retention: dt.datetime | None = None
        self._periodic = Periodic(
            "time-series maintenance",
            self.run_once,
            interval=interval,
            immediately=True,
            log=logger,
            lease=lease,
        )

    def start(self) -> None:
        """Start the periodic work (the first run at once)."""
        self._periodic.start()

    async def stop(self) -> None:
        """Stop the periodic work (a run in progress is cancelled and rolled back)."""
        await self._periodic.stop()

    async def run_once(self, now: dt.datetime | None = None) -> None:
        """Roll up, and apply retention if it is due."""
        now = now or dt.datetime.now(dt.UTC)
        async with self._sessions.begin() as session:
            await rollup(session, now - self._grace, recompute=self._recompute)
        if self._last_retention is None or now - self._last_retention >= self._retention_every:
            async with self._sessions.begin() as session:
                await apply_retention(session, now, self._raw_days, self._aggregate_days)
            self._last_retention = now
