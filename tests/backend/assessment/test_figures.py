"""The figures of a hand-made month (tests/backend/assessment/conftest.py), worked out by
hand, on SQLite and PostgreSQL: the database computes them, the same query on both."""

from __future__ import annotations

import pytest

from backend.assessment.formula import load_formula
from backend.assessment.periods import parse_period
from backend.assessment.report import assess
from backend.errors import ValidationError
from backend.jurisdictions.tree import JurisdictionTree
from realtime.protocol.assessment import AssessmentBy, AssessmentFigures
from tests.backend.assessment.conftest import MONTH_ENDS, MONTH_STARTS, Month

MIN = 60.0


def test_periods_are_asia_shanghai_months_and_quarters() -> None:
    november = parse_period("2026-11")
    assert (november.starts, november.ends) == (MONTH_STARTS, MONTH_ENDS)
    q4 = parse_period("2026q4")
    assert q4.label == "2026Q4"
    assert q4.starts.isoformat() == "2026-09-30T16:00:00+00:00"
    assert q4.ends.isoformat() == "2026-12-31T16:00:00+00:00"
    assert parse_period("2026-12").ends.isoformat() == "2026-12-31T16:00:00+00:00"
    for bad in ("2026-13", "2026Q5", "11/2026", "", "2026-1"):
        with pytest.raises(ValidationError, match=r"must be a month \(2026-11\) or a quarter"):
            parse_period(bad)


async def test_figures_by_jurisdiction(month: Month) -> None:
    result = await assess(
        month.sessions,
        period=parse_period("2026-11"),
        by=AssessmentBy.JURISDICTION,
        under="3301",
        formula=load_formula(),
        tree=JurisdictionTree(),
    )
    rows = {row.key: row for row in result.rows}
    assert result.under_name == "杭州市"
    assert rows["330106"].name == "西湖区"
    west_lake = rows["330106"].figures
    assert west_lake.feedback_rate == pytest.approx(2 / 3)
    west_lake.feedback_rate = None
    assert west_lake == AssessmentFigures(
        tasks_received=6,
        tasks_handled=3,
        accept_p50_s=3 * MIN,
        accept_p90_s=10 * MIN,
        arrive_p50_s=20 * MIN,
        arrive_p90_s=40 * MIN,
        finish_p50_s=100 * MIN,
        finish_p90_s=3 * 24 * 60 * MIN,
        incidents_opened=2,
        incidents_closed=3,
        close_p50_s=31 * MIN,
        close_p90_s=120 * MIN,
        closed_with_feedback=2,
        overdue=1,
        escalations=2,
        supervisions=2,
        supervisions_answered=1,
    )
    assert rows["330105"].figures == AssessmentFigures(
        tasks_received=1,
        accept_p50_s=7 * MIN,
        accept_p90_s=7 * MIN,
        incidents_opened=1,
    )
    # Every district of the city has a row, even with nothing to count.
    assert rows["330108"].figures == AssessmentFigures()
    # The score's parts, worked out by hand with the default formula.
    parts = {part.figure: part.points for part in rows["330106"].parts}
    assert parts == {
        "handled_rate": 12.5,
        "accept_p50_min": 9.0,
        "accept_p90_min": 8.33,
        "arrive_p50_min": 7.78,
        "finish_p90_min": 0.0,
        "overdue_rate": 10.0,
        "supervision_answer_rate": 5.0,
        "feedback_rate": 6.67,
    }
    assert rows["330106"].score == 59.28
    assert rows["330105"].score == 41.5
    ranked = [row.key for row in result.rows]
    assert ranked[:2] == ["330106", "330105"]
    # The rest tie at 10 points (nothing to answer for supervision); the code decides.
    assert ranked[2:] == sorted(ranked[2:])
    assert [row.rank for row in result.rows] == list(range(1, len(result.rows) + 1))


async def test_figures_by_agency(month: Month) -> None:
    result = await assess(
        month.sessions,
        period=parse_period("2026-11"),
        by=AssessmentBy.AGENCY,
        under="",
        formula=load_formula(),
    )
    rows = {row.key: row for row in result.rows}
    # Every active agency has a row (the migration's defaults), ranked.
    assert {"fire", "police", "medical", "emergency"} <= set(rows)
    assert rows["fire"].name == "消防救援"
    assert rows["fire"].figures == AssessmentFigures(
        tasks_received=5,
        tasks_handled=3,
        accept_p50_s=3 * MIN,
        accept_p90_s=10 * MIN,
        arrive_p50_s=20 * MIN,
        arrive_p90_s=40 * MIN,
        finish_p50_s=100 * MIN,
        finish_p90_s=3 * 24 * 60 * MIN,
        incidents_opened=2,
        incidents_closed=2,
        close_p50_s=30 * MIN,
        close_p90_s=120 * MIN,
        closed_with_feedback=1,
        supervisions=1,
        feedback_rate=0.5,
    )
    assert rows["police"].figures == AssessmentFigures(
        tasks_received=1,
        incidents_opened=1,
        incidents_closed=1,
        close_p50_s=30 * MIN,
        close_p90_s=30 * MIN,
        overdue=1,
        escalations=2,
        supervisions=1,
        supervisions_answered=1,
        feedback_rate=0.0,
    )
    assert rows["medical"].figures == AssessmentFigures()


async def test_one_agency_only_sees_its_own_work(month: Month) -> None:
    result = await assess(
        month.sessions,
        period=parse_period("2026-11"),
        by=AssessmentBy.JURISDICTION,
        under="3301",
        formula=load_formula(),
        tree=JurisdictionTree(),
        agency="police",
    )
    rows = {row.key: row for row in result.rows}
    assert rows["330106"].figures.tasks_received == 1
    assert rows["330106"].figures.incidents_opened == 1
    assert rows["330105"].figures == AssessmentFigures()


async def test_a_quarter_holds_its_months(month: Month) -> None:
    result = await assess(
        month.sessions,
        period=parse_period("2026Q4"),
        by=AssessmentBy.JURISDICTION,
        under="3301",
        formula=load_formula(),
        tree=JurisdictionTree(),
    )
    west_lake = next(row for row in result.rows if row.key == "330106").figures
    # October's task, incident and escalation are in the quarter; December's incident too.
    assert west_lake.tasks_received == 7
    assert west_lake.incidents_opened == 4
    assert west_lake.overdue == 2
