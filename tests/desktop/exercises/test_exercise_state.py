"""The console's exercise state without Qt: runs, clocks, addresses, targets, marks, and
the score's exports."""

from __future__ import annotations

import datetime as dt

import msgspec

from desktop.exercises.marks import mark_refusal
from desktop.exercises.score_table import alarm_row, figure_table
from desktop.exercises.state import (
    DrillClock,
    ExerciseRuns,
    KnownTargets,
    clock_text,
    drill_url,
    may_steer,
    progress_permille,
    takes_part,
)
from realtime.event_kinds import EventKind
from realtime.protocol import ExerciseState, InjectKind, Role, UserInfo
from tests.desktop.exercises.factories import (
    AT,
    life_cycle_event,
    make_label,
    make_run,
    make_score,
)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def user(role: Role) -> UserInfo:
    return UserInfo(username="u", display_name="", role=role, jurisdiction="")


def test_only_trainers_supervisors_and_admins_are_offered_the_controls() -> None:
    assert [role for role in Role if may_steer(user(role))] == [
        Role.SUPERVISOR,
        Role.ADMIN,
        Role.TRAINER,
    ]
    assert not may_steer(None)


def test_the_exercise_clock_runs_at_the_speed_and_stops_when_paused() -> None:
    clock = FakeMonotonic()
    runs = ExerciseRuns(clock)
    runs.replace([make_run()])
    clock.now += 3.0  # 3 wall seconds at 10×
    held = runs.held("x7")
    assert held is not None
    assert held.exercise_time(clock.now) == AT + dt.timedelta(minutes=5, seconds=30)
    assert held.position_s(clock.now) == 330.0
    runs.upsert(make_run(state=ExerciseState.PAUSED, exercise_time=AT + dt.timedelta(minutes=6)))
    clock.now += 60.0
    held = runs.held("x7")
    assert held is not None
    assert held.exercise_time(clock.now) == AT + dt.timedelta(minutes=6)


def test_a_late_answer_never_undoes_a_newer_view_and_an_ended_run_stays_ended() -> None:
    runs = ExerciseRuns(FakeMonotonic())
    heard: list[str | None] = []
    runs.add_listener(heard.append)
    runs.upsert(make_run(position_s=600.0, exercise_time=AT + dt.timedelta(minutes=10)))
    runs.upsert(make_run())  # older: ignored
    assert runs.get("x7") == make_run(position_s=600.0, exercise_time=AT + dt.timedelta(minutes=10))
    runs.upsert(make_run(state=ExerciseState.STOPPED, exercise_time=AT + dt.timedelta(minutes=11)))
    runs.upsert(make_run(exercise_time=AT + dt.timedelta(minutes=12)))  # not back to life
    stopped = runs.get("x7")
    assert stopped is not None
    assert stopped.state is ExerciseState.STOPPED
    assert heard == ["x7", "x7"]


def test_life_cycle_events_update_the_runs_and_other_events_are_not_theirs() -> None:
    runs = ExerciseRuns(FakeMonotonic())
    run = make_run(run_id="x8", started_at=AT + dt.timedelta(hours=1))
    assert runs.apply_event(life_cycle_event(run, EventKind.EXERCISE_STARTED)) == run
    runs.upsert(make_run())
    assert [r.run_id for r in runs.runs()] == ["x8", "x7"]  # newest start first
    unrelated = msgspec.structs.replace(
        life_cycle_event(run, EventKind.EXERCISE_STARTED), kind=EventKind.RECORDING_MADE
    )
    assert runs.apply_event(unrelated) is None
    without_run = msgspec.structs.replace(
        life_cycle_event(run, EventKind.EXERCISE_ENDED), exercise_run=msgspec.UNSET
    )
    assert runs.apply_event(without_run) is None


def test_who_takes_part_and_the_progress() -> None:
    run = make_run()
    assert takes_part(run, "trainer1")
    assert takes_part(run, "officer1")
    assert not takes_part(run, "supervisor1")
    assert progress_permille(run) == 167
    assert progress_permille(run, 5000.0) == 1000
    assert progress_permille(make_run(duration_s=0.0)) == 0


def test_the_drill_console_is_on_the_same_server_at_the_runs_path() -> None:
    assert drill_url("wss://duty.example.gov.cn:8765/console", "x7") == (
        "wss://duty.example.gov.cn:8765/exercise/x7/console"
    )
    assert drill_url("ws://127.0.0.1:1234/console?x=1", "r-1_a") == (
        "ws://127.0.0.1:1234/exercise/r-1_a/console"
    )


def test_a_drill_clock_takes_speed_changes_from_the_marks_without_a_jump() -> None:
    clock = FakeMonotonic()
    drill = DrillClock.of_run(make_run(), clock)
    clock.now += 2.0
    assert drill.now() == AT + dt.timedelta(minutes=5, seconds=20)
    drill.set_label(msgspec.structs.replace(make_label(make_run()), speed=1.0))
    clock.now += 2.0
    assert drill.now() == AT + dt.timedelta(minutes=5, seconds=22)
    drill.set_label(msgspec.structs.replace(make_label(make_run()), state=ExerciseState.PAUSED))
    clock.now += 50.0
    assert drill.now() == AT + dt.timedelta(minutes=5, seconds=22)


def test_injection_targets_come_from_what_the_console_knows() -> None:
    known = KnownTargets(
        sensors={"h2s-0002": "2号罐 H2S", "h2s-0001": "1号罐 H2S"},
        terminals={"13900000021": "浙A12345"},
        cameras={"cam-1": "cam-1"},
        tasks={12: "消防", 3: "120"},
    )
    assert [c.value for c in known.choices(InjectKind.SENSOR_FAILS)] == ["h2s-0001", "h2s-0002"]
    assert known.choices(InjectKind.TRUCK_SOS)[0].label == "13900000021 · 浙A12345"
    assert known.choices(InjectKind.CAMERA_DROPS)[0].label == "cam-1"
    assert [c.value for c in known.choices(InjectKind.TASK_DECLINED)] == ["3", "12"]
    assert KnownTargets().choices(InjectKind.SENSOR_FAILS) == []


def test_a_live_console_refuses_every_exercise_mark_and_a_drill_all_but_its_own() -> None:
    label = make_label(make_run())
    assert mark_refusal(None, msgspec.UNSET, "event") is None
    assert mark_refusal("x7", label, "event") is None
    live = mark_refusal(None, label, "snapshot")
    assert live is not None
    assert "x7" in live
    assert "live" in live
    unmarked = mark_refusal("x7", msgspec.UNSET, "welcome")
    assert unmarked is not None
    assert "without the exercise mark" in unmarked
    other = mark_refusal("x9", label, "event")
    assert other is not None
    assert "another exercise" in other


def test_the_score_table_compares_this_run_the_original_and_earlier_runs() -> None:
    table = figure_table(make_score(), "zh")
    assert table[0] == ["得分", 82.5, 70.0, 64.0]
    median = next(row for row in table if row[0] == "确认用时中位数(秒)")
    assert median == ["确认用时中位数(秒)", 41.0, 95.0, None]


def test_the_alarm_rows_say_late_and_missed_in_the_consoles_language() -> None:
    alarms = make_score().alarms
    assert alarm_row(alarms[1], "en")[-1] == "yes"
    assert alarm_row(alarms[1], "zh")[-1] == "是"
    assert alarm_row(alarms[0], "zh")[4:6] == [120.0, 35.5]


def test_the_exercise_clock_shows_beijing_time_like_every_time_on_screen() -> None:
    assert clock_text(AT) == "10:00:00"  # 02:00 UTC
