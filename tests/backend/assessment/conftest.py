"""A small hand-made month of incidents and tasks (November 2026, Asia/Shanghai) whose
figures are worked out by hand in the tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.incidents.deadlines import grid_level_of
from backend.storage import db
from backend.storage.models import (
    IncidentRecord,
    TaskEscalation,
    TaskRecord,
    TaskSupervision,
)
from realtime.incident_states import EscalationLevel

NOV = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
"""A time well inside November (Asia/Shanghai)."""
MONTH_STARTS = dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC)
"""Midnight of 1 November in Asia/Shanghai."""
MONTH_ENDS = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)

WEST_LAKE = "330106"
GONGSHU = "330105"
GONGSHU_TOWN = "330105001"


def minutes(count: float) -> dt.timedelta:
    return dt.timedelta(minutes=count)


class Seeder:
    """Adds incidents and tasks with only what the figures read."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.next_task = 1

    def incident(
        self,
        ident: int,
        jurisdiction: str,
        opened: dt.datetime,
        closed: dt.datetime | None = None,
        feedback: str = "",
    ) -> int:
        self.session.add(
            IncidentRecord(
                id=ident,
                version=1,
                type_code="fire",
                level="IV",
                state="closed" if closed else "responding",
                title=f"事件{ident}",
                jurisdiction=jurisdiction,
                opened_at=opened,
                closed_at=closed,
                feedback=feedback,
                created_by="officer1",
                updated_at=closed or opened,
            )
        )
        return ident

    def task(
        self,
        incident: int,
        jurisdiction: str,
        sent: dt.datetime,
        *,
        agency: str = "fire",
        accept: float | None = None,
        arrive: float | None = None,
        finish: float | None = None,
    ) -> int:
        ident = self.next_task
        self.next_task += 1
        state = "done" if finish is not None else "accepted" if accept is not None else "sent"
        self.session.add(
            TaskRecord(
                id=ident,
                incident_id=incident,
                version=1,
                state=state,
                assignee_kind="agency" if agency else "grid_level",
                assignee_ref=agency or jurisdiction,
                agency=agency,
                jurisdiction=jurisdiction,
                escalation_level=(
                    EscalationLevel.AGENCY_DESK if agency else grid_level_of(jurisdiction)
                ).value,
                accepted_at=None if accept is None else sent + minutes(accept),
                arrived_at=None if arrive is None else sent + minutes(arrive),
                finished_at=None if finish is None else sent + minutes(finish),
                created_at=sent,
                created_by="officer1",
                updated_at=sent,
            )
        )
        return ident

    def escalation(self, task: int, cause: str, at: dt.datetime) -> None:
        self.session.add(
            TaskEscalation(
                task_id=task,
                cause=cause,
                from_level=EscalationLevel.AGENCY_DESK.value,
                to_level=EscalationLevel.AGENCY_SUPERVISOR.value,
                by="system",
                at=at,
            )
        )

    def supervision(self, task: int, at: dt.datetime, *, answered: bool) -> None:
        self.session.add(
            TaskSupervision(
                task_id=task,
                by="supervisor1",
                note="请加快处置",
                created_at=at,
                answered_at=at + minutes(5) if answered else None,
                answered_by="fire_desk" if answered else "",
                answer="已加派力量" if answered else "",
            )
        )


async def seed_month(session: AsyncSession) -> None:
    """The month the tests' figures are worked out for (see test_figures.py)."""
    seed = Seeder(session)
    # West Lake: two incidents closed in November (120 and 30 minutes; one with feedback),
    # one opened at 23:59 on 31 October local time and closed in November (31 minutes,
    # feedback), one opened at midnight on 1 December local time (not November's).
    a = seed.incident(1, WEST_LAKE, NOV, NOV + minutes(120), feedback="已处置完毕")
    later = NOV + dt.timedelta(days=3)
    b = seed.incident(2, WEST_LAKE, later, later + minutes(30))
    seed.incident(3, WEST_LAKE, MONTH_STARTS - minutes(1), MONTH_STARTS + minutes(30), "已反馈")
    seed.incident(4, WEST_LAKE, MONTH_ENDS)
    await session.flush()
    # Five fire tasks accepted after 1, 2, 3, 4 and 10 minutes; four arrived after 10, 20,
    # 30, 40; two finished after 60 and 100.
    t1 = seed.task(a, WEST_LAKE, NOV, accept=1, arrive=10, finish=60)
    seed.task(a, WEST_LAKE, NOV, accept=2, arrive=20, finish=100)
    seed.task(b, WEST_LAKE, NOV, accept=3, arrive=30)
    seed.task(b, WEST_LAKE, NOV, accept=4, arrive=40)
    seed.task(b, WEST_LAKE, NOV, accept=10)
    # A police task never accepted: overdue (accept), then returned (not a deadline).
    police = seed.task(b, WEST_LAKE, NOV, agency="police")
    # A fire task sent in October, finished in November after 3 days: handled, not received.
    seed.task(a, WEST_LAKE, MONTH_STARTS - dt.timedelta(days=2), accept=5, finish=3 * 24 * 60)
    # Gongshu: one incident, a task to a town (no agency) accepted after 7 minutes.
    c = seed.incident(5, GONGSHU, NOV + dt.timedelta(days=9))
    await session.flush()
    seed.task(c, GONGSHU_TOWN, NOV + dt.timedelta(days=9), agency="", accept=7)
    await session.flush()
    seed.escalation(police, "accept", NOV + minutes(6))
    seed.escalation(police, "returned", NOV + minutes(30))
    seed.escalation(t1, "finish", MONTH_STARTS - minutes(5))  # October's
    seed.supervision(police, NOV + minutes(10), answered=True)
    seed.supervision(t1, NOV + minutes(20), answered=False)
    await session.commit()


@dataclass
class Month:
    sessions: async_sessionmaker[AsyncSession]
    url: str


@pytest.fixture
async def month(db_url: str) -> AsyncIterator[Month]:
    engine = db.create_engine(db_url)
    await db.migrate(engine)
    sessions = db.session_factory(engine)
    async with sessions() as session:
        await seed_month(session)
    try:
        yield Month(sessions, db_url)
    finally:
        await engine.dispose()
