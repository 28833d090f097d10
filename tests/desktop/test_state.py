"""The alarm store, without Qt."""

from __future__ import annotations

import datetime as dt

from desktop.state import (
    AlarmStore,
    ChangeKind,
    StoreChange,
    announces_alarm,
    queue_sort_key,
)
from realtime.states import AlarmLevel, AlarmState
from tests.desktop.factories import T0, evolve, make_alarm, make_event, make_snapshot


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def test_snapshot_replaces_everything_and_sets_last_seq() -> None:
    store = AlarmStore()
    store.apply_snapshot(make_snapshot(5, make_alarm(1), make_alarm(2)))
    store.apply_snapshot(make_snapshot(9, make_alarm(3)))
    assert list(store.alarms) == [3]
    assert store.last_seq == 9


def test_event_upserts_its_alarm_and_advances_seq() -> None:
    store = AlarmStore()
    alarm = make_alarm(7)
    store.apply_event(make_event(1, alarm))
    store.apply_event(make_event(2, evolve(alarm, state=AlarmState.ACKNOWLEDGED)))
    held = store.get(7)
    assert held is not None
    assert held.state is AlarmState.ACKNOWLEDGED
    assert len(store) == 1
    assert store.last_seq == 2


def test_replayed_events_never_duplicate_or_regress() -> None:
    store = AlarmStore()
    first = make_alarm(1)
    second = evolve(first, state=AlarmState.ACKNOWLEDGED)
    store.apply_event(make_event(1, first))
    store.apply_event(make_event(2, second))
    changes: list[StoreChange] = []
    store.add_listener(changes.append)
    # A reconnect that replays from an older seq must change nothing.
    assert store.apply_event(make_event(1, first)) is None
    assert store.apply_event(make_event(2, second)) is None
    assert changes == []
    held = store.get(1)
    assert held is not None
    assert held.state is AlarmState.ACKNOWLEDGED


def test_older_version_is_ignored() -> None:
    store = AlarmStore()
    newer = make_alarm(1, version=3, state=AlarmState.DISPATCHED)
    store.upsert(newer)
    assert store.upsert(make_alarm(1, version=2, state=AlarmState.ACKNOWLEDGED)) is None
    assert store.get(1) == newer


def test_listeners_hear_added_updated_and_reset() -> None:
    store = AlarmStore()
    changes: list[StoreChange] = []
    remove = store.add_listener(changes.append)
    alarm = make_alarm(1)
    store.apply_event(make_event(1, alarm))
    store.apply_event(make_event(2, evolve(alarm, state=AlarmState.ACKNOWLEDGED)))
    store.apply_snapshot(make_snapshot(3))
    assert [change.kind for change in changes] == [
        ChangeKind.ADDED,
        ChangeKind.UPDATED,
        ChangeKind.RESET,
    ]
    assert changes[1].previous == alarm
    remove()
    store.apply_event(make_event(4, make_alarm(2)))
    assert len(changes) == 3


def test_event_without_alarm_only_advances_seq() -> None:
    store = AlarmStore()
    assert store.apply_event(make_event(4, None, kind="device.status")) is None
    assert store.last_seq == 4
    assert len(store) == 0


def test_unacknowledged_and_open_counts() -> None:
    store = AlarmStore()
    store.apply_snapshot(
        make_snapshot(
            1,
            make_alarm(1),
            make_alarm(2),
            make_alarm(3, state=AlarmState.ACKNOWLEDGED),
            make_alarm(4, state=AlarmState.CLOSED),
        )
    )
    assert store.unacknowledged_count == 2
    assert store.open_count == 3


def test_data_age_follows_the_last_update() -> None:
    clock = Clock()
    store = AlarmStore(clock=clock)
    assert store.data_age() is None
    store.apply_event(make_event(1, make_alarm(1)))
    clock.now = T0 + dt.timedelta(seconds=42)
    assert store.data_age() == dt.timedelta(seconds=42)
    store.mark_fresh()
    assert store.data_age() == dt.timedelta(0)


def test_queue_order_is_open_then_level_then_oldest_first() -> None:
    old_yellow = make_alarm(1, level=AlarmLevel.YELLOW, first_seen=T0)
    new_red = make_alarm(2, level=AlarmLevel.RED, first_seen=T0 + dt.timedelta(minutes=5))
    old_red = make_alarm(3, level=AlarmLevel.RED, first_seen=T0 - dt.timedelta(minutes=5))
    closed_red = make_alarm(4, level=AlarmLevel.RED, state=AlarmState.CLOSED, updated_at=T0)
    recently_closed = make_alarm(
        5,
        level=AlarmLevel.BLUE,
        state=AlarmState.FALSE_ALARM,
        updated_at=T0 + dt.timedelta(minutes=1),
    )
    blue = make_alarm(6, level=AlarmLevel.BLUE)
    alarms = [old_yellow, new_red, old_red, closed_red, recently_closed, blue]
    ordered = sorted(alarms, key=queue_sort_key)
    assert [alarm.id for alarm in ordered] == [3, 2, 1, 6, 5, 4]


def test_new_red_and_orange_alarms_are_announced() -> None:
    red = make_alarm(1, level=AlarmLevel.RED)
    orange = make_alarm(2, level=AlarmLevel.ORANGE)
    yellow = make_alarm(3, level=AlarmLevel.YELLOW)
    assert announces_alarm(StoreChange(ChangeKind.ADDED, red))
    assert announces_alarm(StoreChange(ChangeKind.ADDED, orange))
    assert not announces_alarm(StoreChange(ChangeKind.ADDED, yellow))
    assert not announces_alarm(StoreChange(ChangeKind.RESET))
    # An update of a red alarm is not a new alarm…
    acknowledged = evolve(red, state=AlarmState.ACKNOWLEDGED)
    assert not announces_alarm(StoreChange(ChangeKind.UPDATED, acknowledged, red))
    # …but raising an open alarm to red is.
    raised = evolve(yellow, level=AlarmLevel.RED)
    assert announces_alarm(StoreChange(ChangeKind.UPDATED, raised, yellow))
    # A finished alarm arriving (e.g. in a replay) is not announced.
    closed = make_alarm(4, level=AlarmLevel.RED, state=AlarmState.CLOSED)
    assert not announces_alarm(StoreChange(ChangeKind.ADDED, closed))
