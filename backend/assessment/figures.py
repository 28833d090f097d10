"""The assessment's figures, computed by the database in one query.

Every fact the figures count is one row of a ``UNION ALL`` (a task received, a step taken
with how long it took, an escalation, a supervision flag, an incident opened or closed),
tagged with its group (a jurisdiction below ``under``, or an agency) and its metric; one
``GROUP BY`` counts them and the percentiles come from ``ROW_NUMBER()`` and ``COUNT()``
windows (nearest rank), so no row is loaded into Python. The same SQLAlchemy Core query
runs on SQLite and PostgreSQL; only :class:`seconds_between` compiles per dialect.

Each fact counts in the period in which it happened (docs/assessment.md): a task is
received when sent, its accept / arrive / finish time counts when that step was taken,
an escalation when it happened, a supervision flag when raised (answered: by now), an
incident when opened, its time to close and its feedback when closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from backend.assessment.periods import Period
from backend.storage.models import IncidentRecord, TaskEscalation, TaskRecord, TaskSupervision
from realtime.incident_states import EscalationCause, TaskState
from realtime.protocol.assessment import AssessmentBy, AssessmentFigures

DEADLINE_CAUSES = (
    EscalationCause.ACCEPT.value,
    EscalationCause.ARRIVE.value,
    EscalationCause.FINISH.value,
)
"""Escalation causes that are a missed deadline (the overdue count)."""

PERCENTILES = (50, 90)


class seconds_between(FunctionElement[float]):  # noqa: N801 (an SQL function's name)
    """``later − earlier`` in seconds, as a float."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - "
        f"{compiler.process(earlier, **kw)})) AS DOUBLE PRECISION)"
    )


@dataclass(frozen=True, slots=True)
class Grouping:
    """Which rows to count and how to group them.

    ``by`` jurisdiction: the group of a row is the child of ``under`` its jurisdiction lies
    in (``children``, canonical codes; rows in ``under`` itself or in no child get the
    jurisdiction's own code cut to the children's length). ``by`` agency: the task's
    agency (grid tasks have none and are left out); incidents count for every agency
    that had a task in them.
    """

    by: AssessmentBy
    area: str
    """Only objects whose jurisdiction starts with this (the user's area and ``under``)."""
    children: Sequence[str] = ()
    agency: str | None = None
    """Only this agency's tasks (and the incidents shared with it through a task)."""


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return sa.and_(column >= period.starts, column < period.ends)


def _group_of(jurisdiction: Any, grouping: Grouping) -> ColumnElement[str]:
    lengths = {len(code) for code in grouping.children}
    if len(lengths) == 1:
        return sa.func.substr(jurisdiction, 1, lengths.pop())
    if not lengths:
        return sa.literal(grouping.area)
    whens = [(jurisdiction.startswith(code, autoescape=True), code) for code in grouping.children]
    return sa.case(*whens, else_=jurisdiction)


def facts_union(grouping: Grouping, period: Period) -> sa.CompoundSelect[Any]:
    """``(grp, metric, value)``: one row per fact the figures count (``value`` the
    seconds a timed step took, else NULL)."""
    tasks = TaskRecord.__table__.alias("t")
    escalations = TaskEscalation.__table__.alias("e")
    supervisions = TaskSupervision.__table__.alias("s")
    incidents = IncidentRecord.__table__.alias("i")
    by_agency = grouping.by is AssessmentBy.AGENCY

    task_filter: list[ColumnElement[bool]] = [
        tasks.c.jurisdiction.startswith(grouping.area, autoescape=True)
    ]
    if by_agency:
        task_filter.append(tasks.c.agency != "")
    if grouping.agency is not None:
        task_filter.append(tasks.c.agency == grouping.agency)
    task_group = tasks.c.agency if by_agency else _group_of(tasks.c.jurisdiction, grouping)
    none = sa.null().cast(sa.Float)

    def task_fact(metric: str, value: Any, *where: ColumnElement[bool]) -> sa.Select[Any]:
        return sa.select(
            task_group.label("grp"), sa.literal(metric).label("metric"), value.label("value")
        ).where(*task_filter, *where)

    def step(metric: str, column: Any) -> sa.Select[Any]:
        return task_fact(metric, seconds_between(column, tasks.c.created_at), _in(column, period))

    parts: list[sa.Select[Any]] = [
        task_fact("received", none, _in(tasks.c.created_at, period)),
        step("accept", tasks.c.accepted_at),
        step("arrive", tasks.c.arrived_at),
        step("finish", tasks.c.finished_at).where(tasks.c.state == TaskState.DONE.value),
    ]
    escalated = (
        sa.select(
            task_group.label("grp"),
            sa.case(
                (escalations.c.cause.in_(DEADLINE_CAUSES), "overdue"), else_="escalation_other"
            ).label("metric"),
            none.label("value"),
        )
        .select_from(escalations.join(tasks, tasks.c.id == escalations.c.task_id))
        .where(*task_filter, _in(escalations.c.at, period))
    )
    supervised = (
        sa.select(
            task_group.label("grp"),
            sa.case(
                (supervisions.c.answered_at.is_not(None), "supervision_answered"),
                else_="supervision_open",
            ).label("metric"),
            none.label("value"),
        )
        .select_from(supervisions.join(tasks, tasks.c.id == supervisions.c.task_id))
        .where(*task_filter, _in(supervisions.c.created_at, period))
    )
    parts += [escalated, supervised]
    parts += _incident_facts(
        grouping,
        period=period,
        incidents=incidents,
        tasks=tasks,
        task_filter=task_filter,
        none=none,
    )
    return sa.union_all(*parts)


def _incident_facts(
    grouping: Grouping,
    *,
    period: Period,
    incidents: sa.FromClause,
    tasks: sa.FromClause,
    task_filter: list[ColumnElement[bool]],
    none: ColumnElement[float],
) -> list[sa.Select[Any]]:
    in_area = incidents.c.jurisdiction.startswith(grouping.area, autoescape=True)
    if grouping.by is AssessmentBy.AGENCY:
        # An incident counts once for each agency it sent a task to; only the incidents
        # opened or closed in the period are looked up (by their time indexes).
        in_period = sa.select(incidents.c.id).where(
            sa.or_(_in(incidents.c.opened_at, period), _in(incidents.c.closed_at, period))
        )
        shared = (
            sa.select(tasks.c.agency.label("grp"), tasks.c.incident_id.label("incident_id"))
            .where(*task_filter, tasks.c.incident_id.in_(in_period))
            .distinct()
            .subquery("shared")
        )
        source: Any = incidents.join(shared, shared.c.incident_id == incidents.c.id)
        group: Any = shared.c.grp
        where = [in_area]
    else:
        source = incidents
        group = _group_of(incidents.c.jurisdiction, grouping)
        where = [in_area]
        if grouping.agency is not None:
            where.append(
                sa.exists().where(
                    tasks.c.incident_id == incidents.c.id, tasks.c.agency == grouping.agency
                )
            )

    def fact(metric: Any, value: Any, *extra: ColumnElement[bool]) -> sa.Select[Any]:
        return (
            sa.select(group.label("grp"), metric.label("metric"), value.label("value"))
            .select_from(source)
            .where(*where, *extra)
        )

    closed_in_period = _in(incidents.c.closed_at, period)
    return [
        fact(sa.literal("opened"), none, _in(incidents.c.opened_at, period)),
        fact(
            sa.literal("closed"),
            seconds_between(incidents.c.closed_at, incidents.c.opened_at),
            closed_in_period,
        ),
        fact(sa.literal("feedback"), none, closed_in_period, incidents.c.feedback != ""),
    ]


def assessment_query(grouping: Grouping, period: Period) -> sa.Select[Any]:
    """``(grp, metric, n, p50, p90)`` for every group and metric that has facts."""
    facts = facts_union(grouping, period).subquery("facts")
    ranked = sa.select(
        facts.c.grp,
        facts.c.metric,
        facts.c.value,
        sa.func.row_number()
        .over(partition_by=(facts.c.grp, facts.c.metric), order_by=facts.c.value)
        .label("rn"),
        sa.func.count(facts.c.value)
        .over(partition_by=(facts.c.grp, facts.c.metric))
        .label("timed"),
    ).subquery("ranked")
    # Nearest rank: the value at rank ceil(p × n), in integer arithmetic on both databases.
    percentiles = [
        sa.func.max(
            sa.case(
                (ranked.c.rn == (ranked.c.timed * p + 99) // 100, ranked.c.value),
            )
        ).label(f"p{p}")
        for p in PERCENTILES
    ]
    return sa.select(
        ranked.c.grp, ranked.c.metric, sa.func.count().label("n"), *percentiles
    ).group_by(ranked.c.grp, ranked.c.metric)


async def compute(
    session: AsyncSession, grouping: Grouping, period: Period
) -> dict[str, AssessmentFigures]:
    """The figures of every group with anything in the period, by group key."""
    result: dict[str, AssessmentFigures] = {}
    for row in await session.execute(assessment_query(grouping, period)):
        figures = result.setdefault(str(row.grp), AssessmentFigures())
        _apply(figures, str(row.metric), int(row.n), _seconds(row.p50), _seconds(row.p90))
    for figures in result.values():
        figures.escalations += figures.overdue
        figures.supervisions += figures.supervisions_answered
        if figures.incidents_closed:
            figures.feedback_rate = figures.closed_with_feedback / figures.incidents_closed
    return result


def _seconds(value: object) -> float | None:
    return None if value is None else round(float(value), 3)  # type: ignore[arg-type]


_COUNTS = {
    "received": "tasks_received",
    "finish": "tasks_handled",
    "overdue": "overdue",
    "escalation_other": "escalations",
    "supervision_answered": "supervisions_answered",
    "supervision_open": "supervisions",
    "opened": "incidents_opened",
    "closed": "incidents_closed",
    "feedback": "closed_with_feedback",
}
"""The figure each metric's count sets (escalations and supervisions get the overdue and
answered ones added after)."""

_TIMES = {"accept": "accept", "arrive": "arrive", "finish": "finish", "closed": "close"}
"""The figures (``…_p50_s``, ``…_p90_s``) each timed metric's percentiles set."""


def _apply(
    figures: AssessmentFigures, metric: str, n: int, p50: float | None, p90: float | None
) -> None:
    if metric in _COUNTS:
        setattr(figures, _COUNTS[metric], n)
    if metric in _TIMES:
        setattr(figures, f"{_TIMES[metric]}_p50_s", p50)
        setattr(figures, f"{_TIMES[metric]}_p90_s", p90)
