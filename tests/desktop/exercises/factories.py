"""Exercise runs, labels and scores for the console's tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from realtime.event_kinds import EventKind
from realtime.protocol import (
    AlarmScore,
    EarlierRun,
    Event,
    ExerciseLabel,
    ExerciseRunView,
    ExerciseScore,
    ExerciseState,
    ScoreFigures,
    exercise_console_path,
)

AT = dt.datetime(2026, 12, 5, 2, 0, 0, tzinfo=dt.UTC)


def make_run(**changes: Any) -> ExerciseRunView:
    """A running run of trainer1 with officer1 taking part, 5 min into a 30 min recording."""
    run = ExerciseRunView(
        run_id="x7",
        recording="tank_farm_h2s_leak",
        title="罐区硫化氢泄漏演练",
        state=ExerciseState.RUNNING,
        speed=10.0,
        trainer="trainer1",
        participants=["officer1"],
        jurisdiction="320111",
        started_at=AT,
        position_s=300.0,
        duration_s=1800.0,
        exercise_time=AT + dt.timedelta(minutes=5),
        console_path=exercise_console_path("x7"),
    )
    return msgspec.structs.replace(run, **changes)


def make_label(run: ExerciseRunView) -> ExerciseLabel:
    """The mark of ``run``'s exercise connection."""
    return ExerciseLabel(run_id=run.run_id, title=run.title, speed=run.speed, state=run.state)


def life_cycle_event(run: ExerciseRunView, kind: EventKind, seq: int = 1) -> Event:
    """A live ``exercise.*`` event about ``run``."""
    return Event(seq=seq, at=AT, kind=kind, actor=run.trainer, exercise_run=run)


def make_figures(score: float, alarms: int = 3, **changes: Any) -> ScoreFigures:
    """A response's figures."""
    figures = ScoreFigures(alarms=alarms, acknowledged=alarms, missed=0, late=0, score=score)
    return msgspec.structs.replace(figures, **changes)


def make_score() -> ExerciseScore:
    """A finished run's score with an original and one earlier run; a hostile title."""
    return ExerciseScore(
        run_id="x7",
        recording="tank_farm_h2s_leak",
        title="<b>罐区</b>演练",
        ended=True,
        figures=make_figures(82.5, acknowledge_p50_s=41.0, missed=1, acknowledged=2),
        original=make_figures(70.0, acknowledge_p50_s=95.0),
        earlier=[EarlierRun(run_id="x3", started_at=AT, speed=4.0, figures=make_figures(64.0))],
        alarms=[
            AlarmScore(
                title='=HYPERLINK("http://x")',
                level=1,
                alarm_type="gas",
                device="h2s-0001",
                raised_offset_s=120.0,
                acknowledge_s=35.5,
            ),
            AlarmScore(
                title="<script>alert(1)</script>",
                level=2,
                alarm_type="sos",
                device="13900000021",
                raised_offset_s=300.0,
                missed=True,
            ),
        ],
    )
