"""The sans-I/O deadline tracker and the escalation ladders."""

from __future__ import annotations

import datetime as dt

from backend.incidents.deadlines import (
    AGENCY_LADDER,
    GRID_LADDER,
    DeadlineTracker,
    Overdue,
    first_rung,
    grid_level_of,
    next_rung,
    parent_area,
)
from realtime.incident_states import AssigneeKind, Deadline, EscalationLevel

T0 = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
_L = EscalationLevel


def _at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_due_hands_out_what_has_passed_earliest_first_and_once() -> None:
    tracker = DeadlineTracker()
    tracker.track(1, {Deadline.ACCEPT: _at(5), Deadline.ARRIVE: _at(30), Deadline.FINISH: None})
    tracker.track(2, {Deadline.ACCEPT: _at(3)})
    assert len(tracker) == 3
    assert tracker.next_due() == _at(3)
    assert tracker.due(_at(2)) == []
    assert tracker.due(_at(5)) == [
        Overdue(_at(3), 2, Deadline.ACCEPT),
        Overdue(_at(5), 1, Deadline.ACCEPT),
    ]
    assert tracker.due(_at(5)) == [], "handed out once"
    assert tracker.pending(1) == {Deadline.ARRIVE: _at(30)}
    assert tracker.next_due() == _at(30)


def test_changed_and_dropped_deadlines_leave_no_trace() -> None:
    tracker = DeadlineTracker()
    tracker.set(1, Deadline.ACCEPT, _at(5))
    tracker.set(1, Deadline.ACCEPT, _at(5))  # the same again: nothing changes
    tracker.set(1, Deadline.ACCEPT, _at(20))  # extended
    tracker.set(2, Deadline.FINISH, _at(1))
    tracker.forget(2)
    tracker.set(3, Deadline.ARRIVE, _at(2))
    tracker.set(3, Deadline.ARRIVE, None)
    assert tracker.next_due() == _at(20), "stale entries are skipped"
    assert tracker.due(_at(10)) == []
    assert tracker.due(_at(20)) == [Overdue(_at(20), 1, Deadline.ACCEPT)]
    assert len(tracker) == 0
    assert tracker.next_due() is None


def test_a_limit_leaves_the_rest_for_the_next_call() -> None:
    tracker = DeadlineTracker()
    for task_id in range(10):
        tracker.set(task_id, Deadline.ACCEPT, _at(task_id))
    first = tracker.due(_at(100), limit=4)
    assert [o.task_id for o in first] == [0, 1, 2, 3]
    assert [o.task_id for o in tracker.due(_at(100))] == [4, 5, 6, 7, 8, 9]


def test_a_deadline_put_back_is_handed_out_again() -> None:
    tracker = DeadlineTracker()
    tracker.set(1, Deadline.ACCEPT, _at(1))
    [overdue] = tracker.due(_at(2))
    tracker.set(overdue.task_id, overdue.deadline, overdue.due)
    assert tracker.due(_at(2)) == [overdue]


def test_many_changes_keep_the_heap_small() -> None:
    tracker = DeadlineTracker()
    for task_id in range(100):
        tracker.set(task_id, Deadline.FINISH, _at(1000))
    for minute in range(1000):
        tracker.set(minute % 100, Deadline.FINISH, _at(2000 + minute))
    assert len(tracker) == 100
    assert len(tracker._heap) <= 2 * len(tracker) + 64 + 1
    due = tracker.due(_at(10_000))
    assert len(due) == 100
    assert all(o.due >= _at(2900) for o in due), "only each task's last deadline"


def test_replace_all_rebuilds_from_what_the_database_says() -> None:
    tracker = DeadlineTracker()
    tracker.set(9, Deadline.ACCEPT, _at(1))
    tracker.replace_all([(1, Deadline.ARRIVE, _at(7)), (2, Deadline.ACCEPT, _at(3))])
    assert tracker.pending(9) == {}
    assert [o.task_id for o in tracker.due(_at(10))] == [2, 1]


def test_the_ladders() -> None:
    assert AGENCY_LADDER == (_L.AGENCY_DESK, _L.AGENCY_SUPERVISOR, _L.COMMAND_CENTRE)
    assert GRID_LADDER == (_L.VILLAGE, _L.TOWN, _L.DISTRICT)
    for kind in (AssigneeKind.AGENCY, AssigneeKind.UNIT):
        assert first_rung(kind, "fire") is _L.AGENCY_DESK
        assert next_rung(kind, _L.AGENCY_DESK) is _L.AGENCY_SUPERVISOR
        assert next_rung(kind, _L.AGENCY_SUPERVISOR) is _L.COMMAND_CENTRE
        assert next_rung(kind, _L.COMMAND_CENTRE) is _L.COMMAND_CENTRE
    grid = AssigneeKind.GRID_LEVEL
    assert first_rung(grid, "330106001001") is _L.VILLAGE
    assert first_rung(grid, "330106001") is _L.TOWN
    assert first_rung(grid, "330106") is _L.DISTRICT
    assert next_rung(grid, _L.VILLAGE) is _L.TOWN
    assert next_rung(grid, _L.TOWN) is _L.DISTRICT
    assert next_rung(grid, _L.DISTRICT) is _L.DISTRICT
    # A rung from another ladder (data written before a change) starts at the bottom.
    assert next_rung(grid, _L.COMMAND_CENTRE) is _L.TOWN


def test_grid_levels_by_canonical_code() -> None:
    assert grid_level_of("330106001001") is _L.VILLAGE
    assert grid_level_of("33010600100107") is _L.VILLAGE, "a local code below a village"
    assert grid_level_of("330106001") is _L.TOWN
    assert grid_level_of("330106") is _L.DISTRICT
    assert grid_level_of("3301") is _L.DISTRICT
    assert parent_area("330106001001") == "330106001"
    assert parent_area("330106001") == "330106"
    assert parent_area("330106") == "330106", "the district is the top of the grid"
