"""Reading a vehicle's stored fixes for track replay (``vehicle.track``).

One range scan of the ``(device, at)`` index per request. A range that holds more fixes
than asked for is thinned in the database (every n-th fix, numbered by time), so the
server never pulls more than ``max_points`` rows into Python whatever the range.

The columns are computed in SQL and read with Core, never through ORM objects: times as
integer milliseconds after the range's start, coordinates as integers in 1e-7 degree.
A day at 1 Hz is 86,400 rows, and per-row Python work (ORM objects, datetime parsing,
one wire struct per fix) was what made a day's track slow to load. The result maps
straight onto :class:`~realtime.protocol.TrackColumns`; :meth:`StoredTrack.rows` makes the
original one-struct-per-fix form for clients that ask for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Row, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import ValidationError
from backend.storage.latest import newest_row_id
from backend.storage.models import Device, PositionRecord
from realtime.protocol import (
    TRACK_COORDINATE_SCALE,
    PositionView,
    TrackAlarms,
    TrackColumns,
    TrackResult,
)

logger = logging.getLogger(__name__)

MAX_TRACK_SPAN = dt.timedelta(days=31)
"""The longest range one request may ask for."""

_POSITIONS = PositionRecord.__table__
_JULIAN_DAY_OF_UNIX_EPOCH = 2440587.5
_MS_PER_DAY = 86_400_000.0


class Error(ValidationError):
    """A track request that cannot be answered as asked; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class StoredTrack:
    """One vehicle's fixes in a range, as columns (element ``i`` of each is fix ``i``)."""

    device: str
    start: dt.datetime
    """The range's start, to the millisecond: the zero of :attr:`t_ms`."""
    t_ms: list[int]
    lat_e7: list[int]
    lon_e7: list[int]
    speed_kmh: list[float]
    heading_deg: list[float]
    alarms: list[TrackAlarms]
    total: int
    """Fixes stored in the range before thinning."""
    step: int
    """Every ``step``-th fix was kept (1: all of them)."""

    @property
    def truncated(self) -> bool:
        """Whether the track was thinned."""
        return self.step > 1

    def columns(self) -> TrackColumns:
        """The compact wire form."""
        return TrackColumns(
            device=self.device,
            t0=self.start,
            t_ms=self.t_ms,
            lat_e7=self.lat_e7,
            lon_e7=self.lon_e7,
            speed_kmh=self.speed_kmh,
            heading_deg=self.heading_deg,
            alarms=self.alarms,
            truncated=self.truncated,
            total=self.total,
        )

    def rows(self) -> TrackResult:
        """The original wire form: one :class:`PositionView` per fix."""
        alarms = {entry.index: entry.alarms for entry in self.alarms}
        no_alarms: list[str] = []
        device, start, scale = self.device, self.start, TRACK_COORDINATE_SCALE
        return TrackResult(
            device=device,
            positions=[
                PositionView(
                    device=device,
                    at=start + dt.timedelta(milliseconds=t),
                    lat=lat / scale,
                    lon=lon / scale,
                    speed_kmh=speed,
                    heading_deg=heading,
                    alarms=alarms.get(index, no_alarms),
                )
                for index, (t, lat, lon, speed, heading) in enumerate(
                    zip(
                        self.t_ms,
                        self.lat_e7,
                        self.lon_e7,
                        self.speed_kmh,
                        self.heading_deg,
                        strict=True,
                    )
                )
            ],
            truncated=self.truncated,
        )


def _epoch_ms(column: Any, dialect: str) -> ColumnElement[int]:
    """``column`` (a UTC timestamp) as integer milliseconds since 1970, computed in SQL."""
    if dialect == "sqlite":
        # Stored as naive UTC text; julianday() parses it with its fractional seconds.
        days = func.julianday(column) - _JULIAN_DAY_OF_UNIX_EPOCH
        return cast(func.round(days * _MS_PER_DAY), Integer)
    # date_part() is double precision; EXTRACT is numeric on PostgreSQL 14+ and slower.
    return cast(func.round(func.date_part("epoch", column) * 1000), BigInteger)


def _fixed_point(column: Any) -> ColumnElement[int]:
    return cast(func.round(column * TRACK_COORDINATE_SCALE), BigInteger)


def range_start(start: dt.datetime) -> dt.datetime:
    """``start`` in UTC, cut to the millisecond (the zero of a track's times)."""
    utc = start.astimezone(dt.UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


async def load_track(
    session: AsyncSession,
    device: str,
    start: dt.datetime,
    end: dt.datetime,
    max_points: int,
) -> StoredTrack:
    """Read ``device``'s fixes in ``[start, end)``, oldest first, at most ``max_points``.

    Raises :class:`Error` for an empty or backwards range, one longer than
    :data:`MAX_TRACK_SPAN`, or ``max_points`` below 2.
    """
    if end <= start:
        raise Error("the track's end must be after its start")
    if end - start > MAX_TRACK_SPAN:
        raise Error(f"ask for at most {MAX_TRACK_SPAN.days} days of track at once")
    if max_points < 2:
        raise Error("ask for at least 2 points")
    zero = range_start(start)
    # Core on the session's connection: Session.execute would run ORM loading per row.
    connection = await session.connection()
    dialect = connection.dialect.name
    table = _POSITIONS
    in_range = (table.c.device == device, table.c.at >= start, table.c.at < end)
    # An index-only count: cheap next to reading the rows, and it bounds what we read.
    total = (
        await connection.execute(select(func.count()).select_from(table).where(*in_range))
    ).scalar_one()
    step = max(1, -(-total // max_points))
    zero_ms = round(zero.timestamp() * 1000)
    columns = select(
        _epoch_ms(table.c.at, dialect) - zero_ms,
        _fixed_point(table.c.lat),
        _fixed_point(table.c.lon),
        table.c.speed_kmh,
        table.c.heading_deg,
        table.c.alarms,
    )
    if step == 1:
        query = columns.where(*in_range)
    else:
        numbered = (
            select(table.c.id, func.row_number().over(order_by=table.c.at).label("number"))
            .where(*in_range)
            .subquery()
        )
        kept = select(numbered.c.id).where((numbered.c.number - 1) % step == 0)
        query = columns.where(table.c.id.in_(kept))
    result = await connection.execute(query.order_by(table.c.at))
    with _collector_paused():
        track = _columns(result.all(), device, zero, total, step)
    if step > 1:
        logger.info(
            "track of %s thinned: %s fixes in range, every %s-th kept (%s)",
            device,
            total,
            step,
            len(track.t_ms),
        )
    return track


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a track's rows become columns.

    That makes a few hundred thousand short-lived tuples and lists, none in a cycle; the
    collections they would trigger (full ones included, over the whole server's heap)
    doubled the time. Used only around synchronous code, never across an ``await``.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _columns(
    rows: Sequence[Row[Any]], device: str, zero: dt.datetime, total: int, step: int
) -> StoredTrack:
    if not rows:
        return StoredTrack(device, zero, [], [], [], [], [], [], total, step)
    t_ms, lat_e7, lon_e7, speed, heading, alarms = zip(*rows, strict=True)
    return StoredTrack(
        device=device,
        start=zero,
        t_ms=list(t_ms),
        lat_e7=list(lat_e7),
        lon_e7=list(lon_e7),
        speed_kmh=list(speed),
        heading_deg=list(heading),
        alarms=[TrackAlarms(index, text.split(",")) for index, text in enumerate(alarms) if text],
        total=total,
        step=step,
    )


async def latest_fixes(session: AsyncSession, kinds: Collection[str]) -> list[PositionView]:
    """The newest stored fix of every registered device of ``kinds`` that has one.

    One statement: per device, one backward seek of the ``(device, at)`` index inside the
    database (5,000 devices: one query, not 5,000 round trips that took ≈ 7 s).
    """
    table, devices = _POSITIONS, Device.__table__
    newest = newest_row_id(table, "device", devices, "identity")
    query = (
        select(
            table.c.device,
            table.c.at,
            table.c.lat,
            table.c.lon,
            table.c.speed_kmh,
            table.c.heading_deg,
            table.c.alarms,
            table.c.jurisdiction,
        )
        .select_from(devices.join(table, table.c.id == newest))
        .where(devices.c.kind.in_(sorted(kinds)))
    )
    connection = await session.connection()
    return [
        PositionView(
            device=device,
            at=at,
            lat=lat,
            lon=lon,
            speed_kmh=speed,
            heading_deg=heading,
            alarms=alarms.split(",") if alarms else [],
            jurisdiction=jurisdiction,
        )
        for device, at, lat, lon, speed, heading, alarms, jurisdiction in await connection.execute(
            query
        )
    ]
