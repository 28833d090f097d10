"""Hundreds of random incidents, tasks, escalations and supervision flags spread over
the months around a quarter (some on the period boundaries to the second): the
database's figures for every group, by jurisdiction and by agency, for a month and a
quarter, equal those worked out row by row in plain Python here (nearest-rank
percentiles), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend.assessment.formula import load_formula
from backend.assessment.periods import Period, parse_period
from backend.assessment.report import assess
from backend.jurisdictions.tree import JurisdictionTree
from backend.storage import db
from realtime.protocol.assessment import AssessmentBy, AssessmentFigures
from tests.backend.assessment.conftest import Seeder

DISTRICTS = ("330102", "330105", "330106", "330108")
AGENCIES = ("fire", "police", "medical")
STARTS = dt.datetime(2026, 9, 20, tzinfo=dt.UTC)
BOUNDARIES = [parse_period(p).starts for p in ("2026-10", "2026-11", "2026-12", "2027-01")]


@dataclass
class Task:
    ident: int
    incident: int
    jurisdiction: str
    agency: str
    sent: dt.datetime
    accepted: dt.datetime | None
    arrived: dt.datetime | None
    finished: dt.datetime | None
    escalations: list[tuple[str, dt.datetime]] = field(default_factory=list)
    supervisions: list[tuple[dt.datetime, bool]] = field(default_factory=list)


@dataclass
class Incident:
    ident: int
    jurisdiction: str
    opened: dt.datetime
    closed: dt.datetime | None
    feedback: str


def _when(rng: random.Random) -> dt.datetime:
    if rng.random() < 0.1:  # on a period boundary, or a second before it
        return rng.choice(BOUNDARIES) - dt.timedelta(seconds=rng.choice((0, 1)))
    return STARTS + dt.timedelta(seconds=rng.randint(0, 120 * 86400))


def _later(rng: random.Random, start: dt.datetime, chance: float) -> dt.datetime | None:
    if rng.random() > chance:
        return None
    return start + dt.timedelta(seconds=rng.randint(1, 3 * 86400))


def _world(seed: int = 11) -> tuple[list[Incident], list[Task]]:
    rng = random.Random(seed)
    incidents: list[Incident] = []
    tasks: list[Task] = []
    for ident in range(1, 301):
        district = rng.choice(DISTRICTS)
        opened = _when(rng)
        incident = Incident(
            ident, district, opened, _later(rng, opened, 0.8), rng.choice(("", "已反馈"))
        )
        incidents.append(incident)
        for _ in range(rng.randint(0, 3)):
            agency = rng.choice((*AGENCIES, ""))
            sent = opened + dt.timedelta(seconds=rng.randint(0, 600))
            accepted = _later(rng, sent, 0.9)
            arrived = _later(rng, accepted, 0.7) if accepted else None
            finished = _later(rng, arrived or accepted, 0.8) if accepted else None
            task = Task(
                len(tasks) + 1,
                ident,
                district if agency else f"{district}00{rng.randint(1, 3)}",
                agency,
                sent,
                accepted,
                arrived,
                finished,
            )
            for cause in rng.sample(("accept", "arrive", "finish", "returned"), rng.randint(0, 2)):
                task.escalations.append((cause, sent + dt.timedelta(minutes=rng.randint(1, 9000))))
            if rng.random() < 0.2:
                task.supervisions.append((_when(rng), rng.random() < 0.6))
            tasks.append(task)
    return incidents, tasks


async def _seed(session: AsyncSession, incidents: list[Incident], tasks: list[Task]) -> None:
    seed = Seeder(session)
    for incident in incidents:
        seed.incident(
            incident.ident,
            incident.jurisdiction,
            incident.opened,
            incident.closed,
            incident.feedback,
        )
    await session.flush()
    for task in tasks:
        minutes = {
            name: None if at is None else (at - task.sent).total_seconds() / 60
            for name, at in (
                ("accept", task.accepted),
                ("arrive", task.arrived),
                ("finish", task.finished),
            )
        }
        seed.task(task.incident, task.jurisdiction, task.sent, agency=task.agency, **minutes)
    await session.flush()
    for task in tasks:
        for cause, at in task.escalations:
            seed.escalation(task.ident, cause, at)
        for at, answered in task.supervisions:
            seed.supervision(task.ident, at, answered=answered)
    await session.commit()


def _percentile(values: list[float], p: int) -> float | None:
    if not values:
        return None
    return sorted(values)[math.ceil(p * len(values) / 100) - 1]


class Reference:
    """The figures worked out row by row."""

    def __init__(self, period: Period, by: AssessmentBy) -> None:
        self.period = period
        self.by = by
        self.times: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.figures: dict[str, AssessmentFigures] = defaultdict(AssessmentFigures)
        self.shared: dict[int, set[str]] = defaultdict(set)

    def inside(self, at: dt.datetime | None) -> bool:
        return at is not None and self.period.starts <= at < self.period.ends

    def timed(self, group: str, what: str, start: dt.datetime, end: dt.datetime | None) -> bool:
        if end is None or not self.inside(end):
            return False
        self.times[group, what].append((end - start).total_seconds())
        return True

    def add_task(self, task: Task) -> None:
        if self.by is AssessmentBy.AGENCY and not task.agency:
            return
        group = task.agency if self.by is AssessmentBy.AGENCY else task.jurisdiction[:6]
        self.shared[task.incident].add(group)
        row = self.figures[group]
        row.tasks_received += self.inside(task.sent)
        self.timed(group, "accept", task.sent, task.accepted)
        self.timed(group, "arrive", task.sent, task.arrived)
        row.tasks_handled += self.timed(group, "finish", task.sent, task.finished)
        for cause, at in task.escalations:
            row.escalations += self.inside(at)
            row.overdue += self.inside(at) and cause != "returned"
        for at, answered in task.supervisions:
            row.supervisions += self.inside(at)
            row.supervisions_answered += self.inside(at) and answered

    def add_incident(self, incident: Incident) -> None:
        by_agency = self.by is AssessmentBy.AGENCY
        groups = self.shared[incident.ident] if by_agency else {incident.jurisdiction[:6]}
        for group in groups:
            row = self.figures[group]
            row.incidents_opened += self.inside(incident.opened)
            if self.timed(group, "close", incident.opened, incident.closed):
                row.incidents_closed += 1
                row.closed_with_feedback += incident.feedback != ""

    def result(self) -> dict[str, AssessmentFigures]:
        for group, row in self.figures.items():
            for step in ("accept", "arrive", "finish", "close"):
                setattr(row, f"{step}_p50_s", _percentile(self.times[group, step], 50))
                setattr(row, f"{step}_p90_s", _percentile(self.times[group, step], 90))
            if row.incidents_closed:
                row.feedback_rate = row.closed_with_feedback / row.incidents_closed
        return {group: row for group, row in self.figures.items() if row != AssessmentFigures()}


def _expected(
    incidents: list[Incident], tasks: list[Task], period: Period, by: AssessmentBy
) -> dict[str, AssessmentFigures]:
    reference = Reference(period, by)
    for task in tasks:
        reference.add_task(task)
    for incident in incidents:
        reference.add_incident(incident)
    return reference.result()


@pytest.mark.parametrize("label", ["2026-10", "2026-11", "2026Q4"])
@pytest.mark.parametrize("by", list(AssessmentBy))
async def test_the_database_agrees_with_the_rows(db_url: str, label: str, by: AssessmentBy) -> None:
    incidents, tasks = _world()
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        async with sessions() as session:
            await _seed(session, incidents, tasks)
        period = parse_period(label)
        result = await assess(
            sessions,
            period=period,
            by=by,
            under="3301",
            formula=load_formula(),
            tree=JurisdictionTree(),
        )
    finally:
        await engine.dispose()
    got = {row.key: row.figures for row in result.rows if row.figures != AssessmentFigures()}
    expected = _expected(incidents, tasks, period, by)
    assert sorted(got) == sorted(expected)
    for group, figures in expected.items():
        for name in AssessmentFigures.__struct_fields__:
            want, have = getattr(figures, name), getattr(got[group], name)
            if isinstance(want, float):
                assert have == pytest.approx(want, abs=0.01), (group, name)
            else:
                assert have == want, (group, name)
