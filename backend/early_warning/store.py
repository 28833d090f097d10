"""The ``early_warnings`` table: rows to views and the few queries the service needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.storage.models import EarlyWarningRow, ReadingRecord
from realtime.protocol.early_warning import (
    EarlyWarningView,
    TrendProjection,
    WarningLevel,
    WarningSource,
    WarningState,
    WeatherAlert,
)

OPEN_STATES = (WarningState.ACTIVE.value, WarningState.ACKNOWLEDGED.value)


def open_key(source: WarningSource, subject: str, alert: str = "") -> str:
    """The key of the one open warning a condition may have."""
    return f"{source.value}:{subject}" + (f":{alert}" if alert else "")


def view_of(row: EarlyWarningRow) -> EarlyWarningView:
    """The warning as consoles see it."""
    return EarlyWarningView(
        id=row.id,
        version=row.version,
        source=WarningSource(row.source),
        level=WarningLevel(row.level),
        state=WarningState(row.state),
        title=row.title,
        detail=row.detail,
        jurisdiction=row.jurisdiction,
        hazard_source=row.hazard_source,
        sensors=list(row.sensors),
        raised_at=row.raised_at,
        updated_at=row.updated_at,
        count=row.count,
        predicted_at=row.predicted_at,
        projection=(
            msgspec.convert(row.projection, TrendProjection, strict=False)
            if row.projection
            else None
        ),
        weather=msgspec.convert(row.weather, WeatherAlert, strict=False) if row.weather else None,
        acknowledged_by=row.acknowledged_by,
        closed_by=row.closed_by,
        ended_at=row.ended_at,
        note=row.note,
    )


def to_json(value: msgspec.Struct | None) -> dict[str, object] | None:
    """A struct as the JSON a column holds."""
    if value is None:
        return None
    data: dict[str, object] = msgspec.to_builtins(value)
    return data


async def load_open(
    session: AsyncSession, key: str, *, lock: bool = False
) -> EarlyWarningRow | None:
    """The open warning of condition ``key``, if any."""
    query = select(EarlyWarningRow).where(EarlyWarningRow.open_key == key)
    if lock:
        query = query.with_for_update()
    row: EarlyWarningRow | None = await session.scalar(query)
    return row


async def open_warnings(session: AsyncSession) -> Sequence[EarlyWarningRow]:
    """Every open warning."""
    return (
        await session.scalars(select(EarlyWarningRow).where(EarlyWarningRow.state.in_(OPEN_STATES)))
    ).all()


async def warnings_of_area(
    session: AsyncSession, jurisdiction: str, *, since: dt.datetime | None, limit: int
) -> Sequence[EarlyWarningRow]:
    """Open warnings inside ``jurisdiction``, and those ended since ``since`` (newest
    first)."""
    wanted: ColumnElement[bool] = EarlyWarningRow.state.in_(OPEN_STATES)
    if since is not None:
        wanted = or_(wanted, EarlyWarningRow.updated_at >= since)
    query = (
        select(EarlyWarningRow)
        .where(wanted, EarlyWarningRow.jurisdiction.startswith(jurisdiction, autoescape=True))
        .order_by(EarlyWarningRow.updated_at.desc(), EarlyWarningRow.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def recent_readings(
    session: AsyncSession, sensor_id: str, *, window_s: float, limit: int
) -> list[tuple[float, float]]:
    """The stored readings of the last ``window_s`` seconds before the newest one
    ((POSIX time, value), oldest first)."""
    newest = await session.scalar(
        select(ReadingRecord.at)
        .where(ReadingRecord.sensor == sensor_id)
        .order_by(ReadingRecord.at.desc())
        .limit(1)
    )
    if newest is None:
        return []
    rows = await session.execute(
        select(ReadingRecord.at, ReadingRecord.value)
        .where(
            ReadingRecord.sensor == sensor_id,
            ReadingRecord.at >= newest - dt.timedelta(seconds=window_s),
        )
        .order_by(ReadingRecord.at.desc())
        .limit(limit)
    )
    points = [(at.timestamp(), float(value)) for at, value in rows]
    points.reverse()
    # One value per time: the fit needs distinct times.
    return [p for i, p in enumerate(points) if i == 0 or p[0] > points[i - 1][0]]
