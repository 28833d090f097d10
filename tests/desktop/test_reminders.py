"""The repeat schedule of alarm sounds (plain Python, a hand-moved clock)."""

from __future__ import annotations

from desktop.attention.reminders import REPEAT_SECONDS, ReminderSchedule
from desktop.state import AlarmStore
from realtime.states import AlarmLevel, AlarmState
from tests.desktop.factories import evolve, make_alarm, make_event, make_snapshot


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def follow(store: AlarmStore, schedule: ReminderSchedule) -> list[AlarmLevel]:
    """Feed ``schedule`` every change of ``store``; return the levels it sounds at once."""
    played: list[AlarmLevel] = []

    def listener(change: object) -> None:
        level = schedule.apply(change, store)  # type: ignore[arg-type]
        if level is not None:
            played.append(level)

    store.add_listener(listener)
    return played


def test_a_red_alarm_sounds_every_ten_seconds_until_acknowledged() -> None:
    clock, store = Clock(), AlarmStore()
    schedule = ReminderSchedule(clock)
    played = follow(store, schedule)
    red = make_alarm(1, level=AlarmLevel.RED)
    store.apply_event(make_event(1, red))
    assert played == [AlarmLevel.RED]  # at once
    clock.now += REPEAT_SECONDS[AlarmLevel.RED] - 0.1
    assert schedule.due() == []
    clock.now += 0.1
    assert schedule.due() == [(1, AlarmLevel.RED)]
    assert schedule.due() == []  # rescheduled
    clock.now += REPEAT_SECONDS[AlarmLevel.RED]
    assert schedule.due() == [(1, AlarmLevel.RED)]
    store.apply_event(make_event(2, evolve(red, state=AlarmState.ACKNOWLEDGED)))
    clock.now += 3600
    assert schedule.due() == []
    assert schedule.sounding() == []


def test_each_level_has_its_interval_and_blue_is_silent() -> None:
    clock, store = Clock(), AlarmStore()
    schedule = ReminderSchedule(clock)
    played = follow(store, schedule)
    for alarm_id, level in enumerate(AlarmLevel, start=1):
        store.apply_event(make_event(alarm_id, make_alarm(alarm_id, level=level)))
    assert played == [AlarmLevel.RED, AlarmLevel.ORANGE, AlarmLevel.YELLOW]
    assert REPEAT_SECONDS[AlarmLevel.RED] < REPEAT_SECONDS[AlarmLevel.ORANGE]
    assert REPEAT_SECONDS[AlarmLevel.ORANGE] < REPEAT_SECONDS[AlarmLevel.YELLOW]
    sounded: list[int] = []
    for _ in range(120):  # two minutes, second by second
        clock.now += 1
        sounded += [alarm_id for alarm_id, _level in schedule.due()]
    assert sounded.count(1) == 12  # red every 10 s
    assert sounded.count(2) == 4  # orange every 30 s
    assert sounded.count(3) == 1  # yellow every 2 min
    assert 4 not in sounded


def test_muting_one_alarm_silences_only_that_one() -> None:
    clock, store = Clock(), AlarmStore()
    schedule = ReminderSchedule(clock)
    follow(store, schedule)
    store.apply_event(make_event(1, make_alarm(1, level=AlarmLevel.RED)))
    store.apply_event(make_event(2, make_alarm(2, level=AlarmLevel.RED)))
    assert schedule.mute(1)
    assert not schedule.mute(1)
    assert not schedule.mute(99)  # nothing sounds for an unknown alarm
    clock.now += 10
    assert schedule.due() == [(2, AlarmLevel.RED)]
    assert schedule.sounding() == [2]
    assert schedule.unmute(1)
    clock.now += 10
    assert [alarm_id for alarm_id, _ in schedule.due()] == [1, 2]


def test_a_snapshot_reminds_without_sounding_at_once_and_keeps_rhythm_and_mutes() -> None:
    clock, store = Clock(), AlarmStore()
    schedule = ReminderSchedule(clock)
    played = follow(store, schedule)
    red = make_alarm(1, level=AlarmLevel.RED)
    store.apply_event(make_event(1, red))
    schedule.mute(1)
    clock.now += 5
    orange = make_alarm(2, level=AlarmLevel.ORANGE)
    done = make_alarm(3, level=AlarmLevel.RED, state=AlarmState.DISPATCHED)
    store.apply_snapshot(make_snapshot(10, red, orange, done))
    assert played == [AlarmLevel.RED]  # the snapshot itself is silent
    assert schedule.is_muted(1)
    assert schedule.reminds_of(2)
    assert not schedule.reminds_of(3)
    clock.now += REPEAT_SECONDS[AlarmLevel.ORANGE]
    assert schedule.due() == [(2, AlarmLevel.ORANGE)]


def test_an_alarm_raised_to_red_sounds_at_once_and_at_reds_pace() -> None:
    clock, store = Clock(), AlarmStore()
    schedule = ReminderSchedule(clock)
    played = follow(store, schedule)
    yellow = make_alarm(1, level=AlarmLevel.YELLOW)
    store.apply_event(make_event(1, yellow))
    store.apply_event(make_event(2, evolve(yellow, level=AlarmLevel.RED)))
    assert played == [AlarmLevel.YELLOW, AlarmLevel.RED]
    clock.now += REPEAT_SECONDS[AlarmLevel.RED]
    assert schedule.due() == [(1, AlarmLevel.RED)]
