"""The ``exercise_runs`` table of the live database, and reading a kept exercise database
after its run ended."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.eventlog import log as eventlog
from backend.exercises.instance import database_url
from backend.storage import db
from backend.storage.models import Alarm, EventRecord, ExerciseRunRow
from realtime.protocol import (
    Event,
    ExerciseRunView,
    ExerciseState,
    ScoreFigures,
    exercise_console_path,
)

ACTIVE_STATES = (ExerciseState.PREPARING, ExerciseState.RUNNING, ExerciseState.PAUSED)


class Error(Exception):
    """A kept exercise database cannot be read (``str()`` says why)."""


@dataclass(slots=True)
class RunRecord:
    """A run as the table keeps it."""

    run_id: str
    recording: str
    title: str
    trainer: str
    participants: list[str]
    jurisdiction: str
    speed: float
    state: str
    started_at: dt.datetime
    database: str
    duration_s: float = 0.0
    ended_at: dt.datetime | None = None
    position_s: float = 0.0
    alarms: int = 0
    injected: int = 0
    figures: dict[str, Any] | None = field(default=None)


def _record(row: ExerciseRunRow) -> RunRecord:
    return RunRecord(
        run_id=row.run_id,
        recording=row.recording,
        title=row.title,
        trainer=row.trainer,
        participants=list(row.participants),
        jurisdiction=row.jurisdiction,
        speed=row.speed,
        state=row.state,
        started_at=row.started_at,
        database=row.database,
        duration_s=row.duration_s,
        ended_at=row.ended_at,
        position_s=row.position_s,
        alarms=row.alarms,
        injected=row.injected,
        figures=row.figures,
    )


def view_of(record: RunRecord) -> ExerciseRunView:
    """The wire view of a kept run (its clock stands where the run ended)."""
    started = record.started_at
    return ExerciseRunView(
        run_id=record.run_id,
        recording=record.recording,
        title=record.title,
        state=ExerciseState(record.state),
        speed=record.speed,
        trainer=record.trainer,
        participants=list(record.participants),
        jurisdiction=record.jurisdiction,
        started_at=started,
        ended_at=record.ended_at,
        position_s=record.position_s,
        duration_s=record.duration_s,
        exercise_time=started + dt.timedelta(seconds=record.position_s),
        console_path=exercise_console_path(record.run_id),
        alarms=record.alarms,
        injected=record.injected,
    )


async def save(session: AsyncSession, record: RunRecord) -> None:
    """Insert or update the run's row."""
    row = await session.get(ExerciseRunRow, record.run_id)
    if row is None:
        session.add(ExerciseRunRow(**asdict(record)))
        return
    for name, value in asdict(record).items():
        setattr(row, name, value)


async def delete_row(session: AsyncSession, run_id: str) -> None:
    """Forget a run that never started."""
    row = await session.get(ExerciseRunRow, run_id)
    if row is not None:
        await session.delete(row)


async def get_row(session: AsyncSession, run_id: str) -> RunRecord | None:
    """The kept run ``run_id``."""
    row = await session.get(ExerciseRunRow, run_id)
    return _record(row) if row is not None else None


async def list_rows(session: AsyncSession, *, include_ended: bool) -> list[RunRecord]:
    """Kept runs, newest first."""
    query = select(ExerciseRunRow).order_by(ExerciseRunRow.started_at.desc())
    if not include_ended:
        query = query.where(ExerciseRunRow.state.in_([s.value for s in ACTIVE_STATES]))
    return [_record(row) for row in await session.scalars(query)]


async def end_left_over(session: AsyncSession, now: dt.datetime) -> int:
    """Mark runs a stopped server left open (active, or finished and not yet stopped) as
    stopped; return how many."""
    result = await session.execute(
        update(ExerciseRunRow)
        .where(ExerciseRunRow.state.in_([s.value for s in ACTIVE_STATES]))
        .values(state=ExerciseState.STOPPED.value, ended_at=now)
    )
    finished = await session.execute(
        update(ExerciseRunRow)
        .where(ExerciseRunRow.state == ExerciseState.FINISHED.value)
        .values(state=ExerciseState.STOPPED.value)
    )
    return int(getattr(result, "rowcount", 0) or 0) + int(getattr(finished, "rowcount", 0) or 0)


async def set_figures(session: AsyncSession, run_id: str, figures: dict[str, Any]) -> None:
    """Keep a run's score figures."""
    row = await session.get(ExerciseRunRow, run_id)
    if row is not None:
        row.figures = figures


async def earlier_runs(
    session: AsyncSession, recording: str, before_run: str
) -> list[tuple[str, dt.datetime, float, ScoreFigures | None]]:
    """Runs of ``recording`` started before ``before_run`` (newest first)."""
    before = await session.get(ExerciseRunRow, before_run)
    query = select(ExerciseRunRow).where(ExerciseRunRow.recording == recording)
    if before is not None:
        query = query.where(ExerciseRunRow.started_at < before.started_at)
    rows = await session.scalars(query.order_by(ExerciseRunRow.started_at.desc()))
    return [
        (
            row.run_id,
            row.started_at,
            row.speed,
            msgspec.convert(row.figures, ScoreFigures) if row.figures is not None else None,
        )
        for row in rows
        if row.run_id != before_run
    ]


async def count_alarms(sessions: Callable[[], Any]) -> int:
    """Alarms raised in an exercise database so far."""
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Alarm)) or 0)


async def all_events(sessions: Callable[[], Any]) -> list[Event]:
    """Every event of a database's log, in ``seq`` order."""
    async with sessions() as session:
        records = await session.scalars(select(EventRecord).order_by(EventRecord.seq))
        return [eventlog.event_of_record(record) for record in records]


async def read_kept_events(path: Path) -> list[Event]:
    """The whole log of an ended run's kept database."""
    if not await asyncio.to_thread(path.is_file):
        raise Error(f"the exercise database {path} is gone")
    engine = db.create_engine(database_url(path))
    try:
        return await all_events(db.session_factory(engine))
    except SQLAlchemyError as exc:
        raise Error(f"cannot read the exercise database {path}: {exc}") from exc
    finally:
        await engine.dispose()
