"""Scoring a response from its event log: every figure, the limits, the score's parts and
penalties, and logs that are empty, partial or out of order."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from backend.exercises.scoring import DEFAULT, LEVEL_NUMBER, percentile, score_events
from realtime.incident_states import EscalationCause, TaskAction, TaskState
from realtime.protocol import AlarmScore, ScoreFigures
from realtime.states import AlarmAction, AlarmLevel, AlarmState
from tests.backend.exercises.scoring_logs import ORIGIN, ResponseLog

RED, ORANGE, YELLOW, BLUE = AlarmLevel.RED, AlarmLevel.ORANGE, AlarmLevel.YELLOW, AlarmLevel.BLUE


def _close_by_units(log: ResponseLog, alarm_id: int, *, handling: float, closed: float) -> None:
    log.act(handling, alarm_id, AlarmAction.START_HANDLING, AlarmState.HANDLING)
    log.act(closed - 1, alarm_id, AlarmAction.RESOLVE, AlarmState.RESOLVED)
    log.act(closed, alarm_id, AlarmAction.CLOSE, AlarmState.CLOSED)


def test_an_alarm_worked_with_units_is_timed_at_every_step() -> None:
    log = ResponseLog()
    log.raise_alarm(10, 1, RED, title="硫化氢浓度超限", device="H2S-T101-01")
    log.acknowledge(40, 1)
    log.dispatch_units(100, 1)
    _close_by_units(log, 1, handling=400, closed=1000)

    scored = score_events(log.events, origin=ORIGIN)

    assert scored.alarms == [
        AlarmScore(
            title="硫化氢浓度超限",
            level=1,
            alarm_type="sensor.threshold",
            device="H2S-T101-01",
            raised_offset_s=10.0,
            acknowledge_s=30.0,
            dispatch_s=90.0,
            arrive_s=390.0,
            close_s=990.0,
        )
    ]
    assert scored.figures == ScoreFigures(
        alarms=1,
        acknowledged=1,
        missed=0,
        late=0,
        acknowledge_p50_s=30.0,
        acknowledge_max_s=30.0,
        dispatch_p50_s=90.0,
        arrive_p50_s=390.0,
        close_p50_s=990.0,
        tasks=0,
        tasks_overdue=0,
        score=100.0,
    )


def test_an_alarm_worked_through_its_incident_is_timed_by_the_incident_and_its_tasks() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, ORANGE)
    log.open_incident(25, 1, [1])  # raising an incident from it acknowledges it
    log.send_task(60, 1, incident_id=1)
    log.task_step(90, 1, TaskAction.ACCEPT, TaskState.ACCEPTED)
    log.task_step(120, 1, TaskAction.SET_OUT, TaskState.EN_ROUTE)
    log.task_step(700, 1, TaskAction.ARRIVE, TaskState.ON_SCENE)
    log.task_step(1500, 1, TaskAction.FINISH, TaskState.DONE)
    log.close_incident(2000, 1)

    scored = score_events(log.events, origin=ORIGIN)

    (alarm,) = scored.alarms
    assert (alarm.acknowledge_s, alarm.dispatch_s, alarm.arrive_s, alarm.close_s) == (
        25.0,
        60.0,
        700.0,
        2000.0,
    )
    assert alarm.level == LEVEL_NUMBER[ORANGE] == 2
    assert (scored.figures.tasks, scored.figures.tasks_overdue) == (1, 0)
    assert scored.figures.score == 100.0


def test_an_alarm_attached_to_an_incident_already_under_way_counts_as_dispatched_at_once() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, RED)
    log.open_incident(10, 1, [1])
    log.send_task(20, 1, incident_id=1)
    log.raise_alarm(100, 2, RED)  # the same fire, reported again
    log.attach(130, 1, 2)
    log.task_step(200, 1, TaskAction.ACCEPT, TaskState.ACCEPTED)
    log.task_step(500, 1, TaskAction.ARRIVE, TaskState.ON_SCENE)

    first, second = score_events(log.events, origin=ORIGIN).alarms

    assert (first.acknowledge_s, first.dispatch_s, first.arrive_s) == (10.0, 20.0, 500.0)
    assert (second.acknowledge_s, second.dispatch_s, second.arrive_s) == (30.0, 0.0, 400.0)
    assert first.close_s is None
    assert second.close_s is None


@pytest.mark.parametrize(
    ("acknowledged", "late"),
    [(179.0, False), (180.0, False), (181.0, True)],
    ids=["before", "exactly-at-the-limit", "after"],
)
def test_an_alarm_acknowledged_after_its_levels_limit_is_late(
    acknowledged: float, late: bool
) -> None:
    assert DEFAULT.acknowledge[ORANGE] == 180.0
    log = ResponseLog()
    log.raise_alarm(0, 1, ORANGE)
    log.acknowledge(acknowledged, 1)

    scored = score_events(log.events, origin=ORIGIN)

    assert scored.alarms[0].late is late
    assert (scored.figures.late, scored.figures.missed) == (int(late), 0)


def test_a_late_alarm_earns_half_and_an_undispatched_orange_one_nothing_for_dispatch() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, ORANGE)
    log.acknowledge(200, 1)

    # acknowledge: 40 × 0.5; dispatch: 25 × 0 (orange, never dispatched); 100 × 20 / 65
    assert score_events(log.events, origin=ORIGIN).figures.score == 30.8


def test_a_level_raised_while_unacknowledged_brings_its_own_deadline() -> None:
    def acknowledged_at(seconds: float) -> AlarmScore:
        log = ResponseLog()
        log.raise_alarm(0, 1, YELLOW)  # limit 720 s
        log.change_level(100, 1, RED)  # limit 60 s from now: due at 160
        log.acknowledge(seconds, 1)
        return score_events(log.events, origin=ORIGIN).alarms[0]

    assert acknowledged_at(170).late
    assert not acknowledged_at(160).late
    assert acknowledged_at(160).level == 1  # the most severe level it reached


def test_a_level_raised_after_the_acknowledgement_does_not_make_it_late() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, YELLOW)
    log.acknowledge(200, 1)
    log.change_level(250, 1, RED)

    (alarm,) = score_events(log.events, origin=ORIGIN).alarms

    assert not alarm.late
    assert alarm.level == 1


def test_alarms_never_acknowledged_are_missed_and_cost_points() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, RED)
    log.raise_alarm(5, 2, BLUE)
    log.acknowledge(10, 2)

    scored = score_events(log.events, origin=ORIGIN)

    red, blue = scored.alarms
    assert red.missed
    assert red.acknowledge_s is None
    assert not red.late
    assert not blue.missed
    figures = scored.figures
    assert (figures.alarms, figures.acknowledged, figures.missed, figures.late) == (2, 1, 1, 0)
    assert (figures.acknowledge_p50_s, figures.acknowledge_max_s) == (5.0, 5.0)
    # acknowledge 40 × ½; dispatch 25 × 0 (the red one) → 30.77; a missed red alarm: −10
    assert figures.score == 20.8


def test_the_score_never_goes_below_zero() -> None:
    log = ResponseLog()
    for alarm_id in range(1, 16):
        log.raise_alarm(alarm_id, alarm_id, RED)

    figures = score_events(log.events, origin=ORIGIN).figures

    assert (figures.missed, figures.score) == (15, 0.0)


def test_a_merged_alarm_is_acknowledged_by_the_merge_and_leaves_the_response_to_its_target() -> (
    None
):
    log = ResponseLog()
    log.raise_alarm(0, 1, RED)
    log.raise_alarm(30, 2, RED)
    log.acknowledge(20, 1)
    log.dispatch_units(60, 1)
    log.merge(90, 2, into=1)
    _close_by_units(log, 1, handling=400, closed=1000)

    scored = score_events(log.events, origin=ORIGIN)

    target, merged = scored.alarms
    assert (target.acknowledge_s, target.dispatch_s, target.arrive_s, target.close_s) == (
        20.0,
        60.0,
        400.0,
        1000.0,
    )
    assert (merged.acknowledge_s, merged.dispatch_s, merged.arrive_s, merged.close_s) == (
        60.0,
        None,
        None,
        None,
    )
    assert not merged.late  # 60 s: exactly the red limit
    figures = scored.figures
    assert (figures.alarms, figures.acknowledged) == (2, 2)
    assert (figures.acknowledge_p50_s, figures.acknowledge_max_s) == (20.0, 60.0)
    assert figures.dispatch_p50_s == 60.0
    assert figures.score == 100.0


def test_a_false_alarm_is_acknowledged_and_closed_when_marked_and_needs_no_dispatch() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, RED)
    log.act(50, 1, AlarmAction.MARK_FALSE, AlarmState.FALSE_ALARM)

    scored = score_events(log.events, origin=ORIGIN)

    (alarm,) = scored.alarms
    assert (alarm.acknowledge_s, alarm.dispatch_s, alarm.close_s) == (50.0, None, 50.0)
    assert scored.figures.score == 100.0


def test_times_beyond_their_limits_earn_limit_over_time() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, RED)
    log.acknowledge(30, 1)
    log.dispatch_units(360, 1)  # 2 × 180 s: half the credit
    _close_by_units(log, 1, handling=1800, closed=14400)  # 2 × 900 s, 2 × 7200 s

    # 40 + 25 × ½ + 15 × ½ + 20 × ½
    assert score_events(log.events, origin=ORIGIN).figures.score == 70.0


def test_a_red_alarm_acknowledged_but_never_dispatched_earns_nothing_for_dispatch() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, RED)
    log.acknowledge(10, 1)
    log.raise_alarm(0, 2, BLUE)  # a blue one needs no dispatch
    log.acknowledge(10, 2)

    # acknowledge 40 × 1, dispatch 25 × 0 (only the red alarm counts): 100 × 40 / 65
    assert score_events(log.events, origin=ORIGIN).figures.score == 61.5


def test_overdue_tasks_are_those_whose_deadline_passed_and_each_costs_points() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, RED)
    log.open_incident(10, 1, [1])
    log.send_task(20, 1, incident_id=1)
    log.send_task(21, 2, incident_id=1)
    log.send_task(22, 3, incident_id=1)
    log.escalate(400, 1, EscalationCause.ACCEPT)
    log.escalate(500, 1, EscalationCause.ARRIVE)  # the same task twice: one overdue task
    log.escalate(450, 2, EscalationCause.RETURNED)  # given back, not late

    figures = score_events(log.events, origin=ORIGIN).figures

    assert (figures.tasks, figures.tasks_overdue) == (3, 1)
    # acknowledge 40, dispatch 25 (20 s): 100, less 2 for the overdue task
    assert figures.score == 98.0


def test_percentiles_are_nearest_rank_and_ties_keep_the_raise_order() -> None:
    log = ResponseLog()
    for alarm_id in (4, 3, 2, 1):  # raised in one instant, logged in any order
        log.raise_alarm(0, alarm_id, BLUE)
    for alarm_id, seconds in ((1, 10), (2, 20), (3, 20), (4, 40)):
        log.acknowledge(seconds, alarm_id)

    scored = score_events(log.events, origin=ORIGIN)

    assert [alarm.acknowledge_s for alarm in scored.alarms] == [10.0, 20.0, 20.0, 40.0]
    assert (scored.figures.acknowledge_p50_s, scored.figures.acknowledge_max_s) == (20.0, 40.0)
    assert percentile([10.0, 20.0, 20.0, 40.0, 50.0], 50) == 20.0
    assert percentile([40.0, 10.0], 50) == 10.0
    assert percentile([7.0], 90) == 7.0
    assert percentile([], 50) is None


def test_the_order_the_events_come_in_changes_nothing() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, RED)
    log.raise_alarm(5, 2, YELLOW)
    log.raise_alarm(9, 3, ORANGE)
    log.acknowledge(30, 1)
    log.open_incident(35, 1, [1])
    log.send_task(50, 1, incident_id=1)
    log.merge(70, 3, into=1)
    log.escalate(300, 1)
    log.task_step(320, 1, TaskAction.ACCEPT, TaskState.ACCEPTED)
    log.task_step(600, 1, TaskAction.ARRIVE, TaskState.ON_SCENE)
    log.task_step(900, 1, TaskAction.FINISH, TaskState.DONE)
    log.close_incident(1000, 1)
    expected = score_events(log.events, origin=ORIGIN)

    shuffled = list(log.events)
    random.Random(17).shuffle(shuffled)

    assert score_events(shuffled, origin=ORIGIN) == expected
    assert score_events(list(reversed(log.events)), origin=ORIGIN) == expected
    assert [alarm.raised_offset_s for alarm in expected.alarms] == [0.0, 5.0, 9.0]
    assert expected.alarms[1].missed


def test_events_after_until_have_not_happened_yet() -> None:
    log = ResponseLog()
    log.raise_alarm(0, 1, RED)
    log.acknowledge(100, 1)
    log.raise_alarm(200, 2, RED)

    def until(seconds: float) -> ScoreFigures:
        at = ORIGIN + dt.timedelta(seconds=seconds)
        return score_events(log.events, origin=ORIGIN, until=at).figures

    assert (until(50).alarms, until(50).missed) == (1, 1)
    assert (until(100).acknowledged, until(100).late) == (1, 1)  # at `until` is in
    assert until(199).alarms == 1
    assert (until(200).alarms, until(200).missed) == (2, 1)


def test_offsets_are_from_the_origin_given() -> None:
    log = ResponseLog()
    log.raise_alarm(95, 1, YELLOW)
    later_origin = ORIGIN + dt.timedelta(seconds=60)

    assert score_events(log.events, origin=later_origin).alarms[0].raised_offset_s == 35.0


def test_alarms_not_raised_in_the_log_are_not_scored() -> None:
    # A recording's window may open after an alarm was raised: its later events alone
    # do not make an alarm of the response.
    log = ResponseLog()
    log.raise_alarm(-600, 9, RED)
    log.acknowledge(10, 9)
    tail = [event for event in log.events if event.at >= ORIGIN]

    assert score_events(tail, origin=ORIGIN).figures.alarms == 0


def test_an_empty_log_scores_full_marks_with_nothing_timed() -> None:
    scored = score_events([], origin=ORIGIN)

    assert scored.alarms == []
    assert scored.figures == ScoreFigures(
        alarms=0, acknowledged=0, missed=0, late=0, tasks=0, tasks_overdue=0, score=100.0
    )


def test_a_log_with_tasks_and_no_alarm_counts_the_tasks() -> None:
    log = ResponseLog()
    log.open_incident(0, 1, [])
    log.send_task(10, 1, incident_id=1)
    log.escalate(400, 1)

    figures = score_events(log.events, origin=ORIGIN).figures

    assert (figures.alarms, figures.tasks, figures.tasks_overdue, figures.score) == (0, 1, 1, 98.0)


def test_sensors_falling_silent_after_the_replay_are_not_scored() -> None:
    # The participants may go on working after the recording ran out; its sensors then
    # fall silent and are reported offline: that is the recording's end, not theirs.
    log = ResponseLog()
    log.raise_alarm(100, 1, YELLOW, alarm_type="sensor_offline")  # during the replay
    log.raise_alarm(700, 2, YELLOW, alarm_type="sensor_offline")  # after it
    log.raise_alarm(800, 3, RED, alarm_type="vehicle_sos")  # injected after it: scored
    replay_end = ORIGIN + dt.timedelta(seconds=600)

    scored = score_events(log.events, origin=ORIGIN, replay_end=replay_end)

    assert [alarm.raised_offset_s for alarm in scored.alarms] == [100.0, 800.0]
    # The original response's own sensors going offline are real: scored without it.
    assert score_events(log.events, origin=ORIGIN).figures.alarms == 3
