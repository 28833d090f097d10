"""Assessment benchmark: the month and the quarter report over a year of 100,000 incidents.

Seeds one year (2026) of N incidents (100,000 by default) in Hangzhou's districts, with
their tasks (a town's task for most, one to four agencies' tasks), the steps' times
(log-normal: accept ≈ 3 min, arrive ≈ 15 min after, finish ≈ 1 h after), escalations
where a deadline passed or a task was returned, supervision flags (most answered) and
closes with or without feedback, into SQLite in a temporary folder and, when
``$DUTYDESK_TEST_PG`` (or ``--pg``) names a server, into a fresh PostgreSQL database.

Then times, on each database, the report of a month (2026-11) and of a quarter (2026Q4),
by jurisdiction (the districts of 3301) and by agency, as ``dutydesk report assessment``
computes them (best of ``--repeat`` runs), and in the same run the **floor**: the same
rows read with no grouping or percentile at all (``SELECT COUNT(*)`` over the same facts)
and a bare ``COUNT(*)`` of the period's tasks. Printed: each report's time, the floor's,
the ratio, and the top rows' figures. The goal is ≤ 5 s per report.

    .venv/bin/python bench/assessment.py [--incidents 100000] [--repeat 3] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import logging
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.assessment import figures as figures_sql
from backend.assessment.formula import load_formula
from backend.assessment.periods import Period, parse_period
from backend.assessment.report import assess
from backend.config import sqlite_url
from backend.incidents.deadlines import first_rung, next_rung
from backend.jurisdictions.tree import JurisdictionTree
from backend.server.testing import fresh_postgres_database
from backend.storage import db
from backend.storage.models import IncidentRecord, TaskEscalation, TaskRecord, TaskSupervision
from realtime.assessment_book import COLUMNS, cell_text
from realtime.incident_states import AssigneeKind, EscalationLevel
from realtime.protocol.assessment import AssessmentBy, AssessmentResult

YEAR_STARTS = dt.datetime(2025, 12, 31, 16, 0, tzinfo=dt.UTC)  # 2026-01-01 00:00 +08
CITY = "3301"
AGENCIES = ("fire", "police", "medical", "environment", "safety")
AGENCY_WEIGHTS = (5, 6, 4, 1, 2)
GOAL_S = 5.0
CHUNK = 5_000
Row = dict[str, Any]


def _minutes(rng: random.Random, median: float, sigma: float) -> dt.timedelta:
    return dt.timedelta(minutes=median * math.exp(rng.gauss(0.0, sigma)))


class World:
    """The generated rows, table by table."""

    def __init__(self, incidents: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        tree = JurisdictionTree()
        self.districts = [node.code for node in tree.children(CITY)]
        # Busier city centre: the first districts weigh more.
        self.weights = [len(self.districts) - index for index in range(len(self.districts))]
        self.incidents: list[Row] = []
        self.tasks: list[Row] = []
        self.escalations: list[Row] = []
        self.supervisions: list[Row] = []
        for ident in range(1, incidents + 1):
            self._incident(ident, incidents)

    def _incident(self, ident: int, total: int) -> None:
        rng = self.rng
        opened = YEAR_STARTS + dt.timedelta(days=365 * (ident - 1) / total)
        opened += dt.timedelta(minutes=rng.uniform(0, 60))
        district = rng.choices(self.districts, self.weights)[0]
        ends: list[dt.datetime] = []
        assignees: list[tuple[str, str]] = []
        if rng.random() < 0.7:
            assignees.append(("", f"{district}{rng.randint(1, 12):03d}"))
        for agency in set(rng.choices(AGENCIES, AGENCY_WEIGHTS, k=rng.randint(0, 3))):
            assignees.append((agency, district))
        if not assignees:
            assignees.append(("police", district))
        for agency, jurisdiction in assignees:
            ends.append(self._task(ident, opened, agency, jurisdiction))
        open_still = rng.random() < 0.04 or opened > YEAR_STARTS + dt.timedelta(days=364)
        closed = None if open_still else max(ends) + _minutes(rng, 30, 0.8)
        self.incidents.append(
            {
                "id": ident,
                "version": 1,
                "type_code": "fire",
                "type_name": "火灾",
                "level": "IV",
                "state": "responding" if closed is None else "closed",
                "title": f"事件 {ident}",
                "description": "",
                "place": "",
                "jurisdiction": district,
                "commander": "",
                "reported_by": "",
                "opened_at": opened,
                "closed_at": closed,
                "feedback": "已反馈" if closed is not None and rng.random() < 0.85 else "",
                "last_note": "",
                "created_by": "bench",
                "updated_at": closed or opened,
                "updated_by": "bench",
            }
        )

    def _task(
        self, incident: int, opened: dt.datetime, agency: str, jurisdiction: str
    ) -> dt.datetime:
        rng = self.rng
        ident = len(self.tasks) + 1
        # The rungs a real task of this assignee climbs (the console reads them back).
        kind = AssigneeKind.AGENCY if agency else AssigneeKind.GRID_LEVEL
        first = first_rung(kind, agency or jurisdiction)
        second = next_rung(kind, first)
        sent = opened + _minutes(rng, 4, 0.6)
        accepted = sent + _minutes(rng, 3, 0.9) if rng.random() < 0.97 else None
        arrived = (
            accepted + _minutes(rng, 15, 0.7)
            if accepted is not None and (agency or rng.random() < 0.5) and rng.random() < 0.9
            else None
        )
        finished = (
            (arrived or accepted) + _minutes(rng, 60, 1.0)
            if accepted is not None and rng.random() < 0.93
            else None
        )
        state = "done" if finished else ("returned" if rng.random() < 0.5 else "declined")
        if accepted is not None and finished is None and rng.random() < 0.3:
            state = "on_scene" if arrived else "accepted"
        self.tasks.append(
            {
                "id": ident,
                "incident_id": incident,
                "version": 1,
                "state": state,
                "assignee_kind": kind.value,
                "assignee_ref": agency or jurisdiction,
                "assignee_name": agency or jurisdiction,
                "agency": agency,
                "jurisdiction": jurisdiction,
                "assignee_user": "",
                "instructions": "",
                "last_action": None,
                "last_note": "",
                "accept_by": sent + dt.timedelta(minutes=5),
                "arrive_by": sent + dt.timedelta(minutes=30),
                "finish_by": sent + dt.timedelta(minutes=480),
                "accepted_at": accepted,
                "arrived_at": arrived,
                "finished_at": finished,
                "escalation_level": first.value,
                "returned_from": None,
                "created_at": sent,
                "created_by": "bench",
                "updated_at": finished or sent,
                "updated_by": "bench",
            }
        )
        for cause, due, done in (
            ("accept", sent + dt.timedelta(minutes=5), accepted),
            ("arrive", sent + dt.timedelta(minutes=30), arrived),
            ("finish", sent + dt.timedelta(minutes=480), finished),
        ):
            # Late, or never done on a task that did not finish either.
            if (done is not None and done > due) or (done is None and finished is None):
                self._escalate(ident, cause, due, first, second)
        if state == "returned":
            self._escalate(ident, "returned", sent + dt.timedelta(minutes=20), first, second)
        if rng.random() < 0.03:
            flagged = sent + dt.timedelta(minutes=40)
            answered = rng.random() < 0.8
            self.supervisions.append(
                {
                    "task_id": ident,
                    "by": "bench",
                    "note": "督办",
                    "due_at": None,
                    "created_at": flagged,
                    "answered_at": flagged + dt.timedelta(minutes=30) if answered else None,
                    "answered_by": "bench" if answered else "",
                    "answer": "已办" if answered else "",
                }
            )
        return finished or accepted or sent

    def _escalate(
        self,
        task: int,
        cause: str,
        at: dt.datetime,
        first: EscalationLevel,
        second: EscalationLevel,
    ) -> None:
        self.escalations.append(
            {
                "task_id": task,
                "cause": cause,
                "from_level": first.value,
                "to_level": second.value,
                "note": "",
                "by": "system",
                "at": at,
            }
        )


async def _insert(
    sessions: async_sessionmaker[AsyncSession], table: sa.Table, rows: list[Row]
) -> None:
    for start in range(0, len(rows), CHUNK):
        async with sessions.begin() as session:
            await session.execute(sa.insert(table), rows[start : start + CHUNK])


async def seed(sessions: async_sessionmaker[AsyncSession], world: World) -> float:
    """Write the world; return the seconds it took."""
    started = time.perf_counter()
    await _insert(sessions, IncidentRecord.__table__, world.incidents)  # type: ignore[arg-type]
    await _insert(sessions, TaskRecord.__table__, world.tasks)  # type: ignore[arg-type]
    await _insert(sessions, TaskEscalation.__table__, world.escalations)  # type: ignore[arg-type]
    await _insert(sessions, TaskSupervision.__table__, world.supervisions)  # type: ignore[arg-type]
    return time.perf_counter() - started


async def _best(repeat: int, run: Callable[[], Coroutine[Any, Any, Any]]) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - started)
    return best, result


async def _floor(
    sessions: async_sessionmaker[AsyncSession], grouping: figures_sql.Grouping, period: Period
) -> int:
    """The same facts as the report, counted only: no grouping, no percentile."""
    facts = figures_sql.facts_union(grouping, period).subquery()
    async with sessions() as session:
        every = await session.scalar(sa.select(sa.func.count()).select_from(facts))
    return int(every or 0)


def _show(result: AssessmentResult, rows: int = 3) -> None:
    keys = (
        "rank",
        "name",
        "score",
        "received",
        "handled",
        "accept_p50",
        "accept_p90",
        "finish_p90",
        "overdue",
        "feedback_rate",
    )
    columns = [column for column in COLUMNS if column.key in keys]
    print("      " + " | ".join(column.heading("en") for column in columns))
    for row in result.rows[:rows]:
        print(
            "      "
            + " | ".join(cell_text(column.value(row), column.number_format) for column in columns)
        )


async def run_on(name: str, url: str, world: World, repeat: int) -> bool:
    engine = db.create_engine(url)
    ok = True
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        seconds = await seed(sessions, world)
        print(
            f"\n{name}: seeded {len(world.incidents):,} incidents, {len(world.tasks):,} tasks, "
            f"{len(world.escalations):,} escalations, {len(world.supervisions):,} supervisions "
            f"in {seconds:.1f} s"
        )
        tree = JurisdictionTree()
        formula = load_formula()
        for label in ("2026-11", "2026Q4"):
            period = parse_period(label)
            for by in AssessmentBy:

                async def report(
                    period: Period = period, by: AssessmentBy = by
                ) -> AssessmentResult:
                    return await assess(
                        sessions, period=period, by=by, under=CITY, formula=formula, tree=tree
                    )

                took, result = await _best(repeat, report)
                grouping = figures_sql.Grouping(
                    by=by, area=CITY, children=[node.code for node in tree.children(CITY)]
                )
                floor, facts = await _best(
                    repeat, functools.partial(_floor, sessions, grouping, period)
                )
                bare_took, bare = await _best(
                    repeat, functools.partial(_bare_count, sessions, period)
                )
                verdict = "ok" if took <= GOAL_S else "OVER GOAL"
                ok = ok and took <= GOAL_S
                print(
                    f"  {label} by {by}: {took * 1000:8.1f} ms ({verdict}, goal {GOAL_S:.0f} s); "
                    f"floor (the same {facts:,} facts, COUNT(*) only) {floor * 1000:7.1f} ms, "
                    f"ratio {took / floor:4.1f}×; bare COUNT(*) of the {bare:,} tasks sent "
                    f"{bare_took * 1000:6.1f} ms"
                )
                _show(result)
    finally:
        await engine.dispose()
    return ok


async def _bare_count(sessions: async_sessionmaker[AsyncSession], period: Period) -> int:
    tasks = TaskRecord.__table__
    async with sessions() as session:
        count = await session.scalar(
            sa.select(sa.func.count())
            .select_from(tasks)
            .where(tasks.c.created_at >= period.starts, tasks.c.created_at < period.ends)
        )
    return int(count or 0)


@contextlib.asynccontextmanager
async def _postgres(admin: str) -> AsyncIterator[str]:
    async with fresh_postgres_database(admin, prefix="dutydesk_bench") as url:
        yield url


async def main_async(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    world = World(args.incidents)
    print(f"generated the year in {time.perf_counter() - started:.1f} s")
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        ok = await run_on("SQLite", sqlite_url(Path(folder)), world, args.repeat) and ok
    if args.pg:
        async with _postgres(args.pg) as url:
            ok = await run_on("PostgreSQL", url, world, args.repeat) and ok
    else:
        print("\nPostgreSQL: skipped (set $DUTYDESK_TEST_PG or --pg)")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--incidents", type=int, default=100_000, help="incidents in the year")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each report (best kept)")
    parser.add_argument(
        "--pg", default=os.environ.get("DUTYDESK_TEST_PG"), help="PostgreSQL admin URL"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
