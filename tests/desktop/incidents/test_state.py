"""The plain incident board: countdowns, the inbox's order, the badge, live events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from desktop.incidents.state import (
    BoardChange,
    IncidentBoard,
    countdown,
    inbox_first,
    rungs_of,
)
from realtime.event_kinds import EventKind
from realtime.incident_states import (
    AssigneeKind,
    Deadline,
    EscalationLevel,
    IncidentLevel,
    IncidentState,
    TaskState,
)
from realtime.protocol import Event, Role, TaskList
from tests.desktop.factories import T0
from tests.desktop.incidents.factories import (
    escalation,
    incident_event,
    make_incident,
    make_task,
    supervision,
    task_event,
    user,
)

MINUTE = dt.timedelta(minutes=1)


class Clock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_task_counts_down_to_the_first_deadline_its_state_still_has() -> None:
    task = make_task(
        accept_by=T0 + 5 * MINUTE, arrive_by=T0 + 30 * MINUTE, finish_by=T0 + 480 * MINUTE
    )
    sent = countdown(task, T0 + MINUTE)
    assert (sent.deadline, sent.left, sent.overdue) == (Deadline.ACCEPT, 4 * MINUTE, False)

    accepted = countdown(msgspec.structs.replace(task, state=TaskState.ACCEPTED), T0)
    assert (accepted.deadline, accepted.due) == (Deadline.ARRIVE, T0 + 30 * MINUTE)
    on_scene = countdown(msgspec.structs.replace(task, state=TaskState.ON_SCENE), T0)
    assert on_scene.deadline is Deadline.FINISH

    late = countdown(task, T0 + 6 * MINUTE)
    assert late.overdue
    assert late.left == -MINUTE


def test_a_deadline_left_out_is_skipped_and_a_settled_task_counts_nothing() -> None:
    no_accept = make_task(arrive_by=T0 + 30 * MINUTE)
    assert countdown(no_accept, T0).deadline is Deadline.ARRIVE
    assert countdown(make_task(), T0) == countdown(make_task(state=TaskState.DONE), T0)
    done = countdown(make_task(state=TaskState.DONE, finish_by=T0 - MINUTE), T0)
    assert done.deadline is None
    assert not done.overdue


def test_the_inbox_puts_the_most_overdue_first_then_the_nearest_deadline() -> None:
    clock = Clock(T0 + 10 * MINUTE)
    board = IncidentBoard(clock)
    board.set_user(user(Role.AGENCY, agency="fire"))
    board.replace_tasks(
        TaskList.INBOX,
        [
            make_task(1, accept_by=T0 + 60 * MINUTE),
            make_task(2),
            make_task(3, accept_by=T0 + 5 * MINUTE),
            make_task(4, accept_by=T0 + MINUTE),
            make_task(5, accept_by=T0 + 20 * MINUTE),
            make_task(6, state=TaskState.DONE),
            make_task(7, agency="police", assignee_ref="police"),
        ],
    )
    assert [task.id for task in board.inbox()] == [4, 3, 5, 1, 2]


def test_a_reload_drops_the_tasks_that_left_every_list() -> None:
    board = IncidentBoard(Clock())
    board.replace_tasks(TaskList.INBOX, [make_task(1), make_task(2)])
    board.replace_tasks(TaskList.SUPERVISED, [make_task(2)])
    board.replace_tasks(TaskList.INBOX, [make_task(3)])
    assert sorted(board.tasks) == [2, 3]


def test_events_keep_incidents_and_tasks_current_and_others_are_ignored() -> None:
    board = IncidentBoard(Clock())
    changes: list[BoardChange] = []
    board.changed.connect(changes.append)
    incident = make_incident(1)
    board.apply_event(incident_event(10, incident, EventKind.INCIDENT_OPENED))
    board.apply_event(task_event(11, make_task(5), EventKind.TASK_SENT))
    board.apply_event(
        task_event(12, make_task(5, version=2, state=TaskState.ACCEPTED, assignee_user="fire1"))
    )
    assert board.incidents[1] == incident
    assert board.tasks[5].state is TaskState.ACCEPTED
    assert [task.id for task in board.tasks_of(1)] == [5]
    # An alarm's event carries neither view (msgspec.UNSET): nothing changes.
    assert board.apply_event(Event(seq=13, at=T0, kind=EventKind.ALARM_RAISED, actor="x")) is None
    assert [change.task_id for change in changes] == [None, 5, 5]


def test_a_late_result_never_overwrites_a_newer_event() -> None:
    board = IncidentBoard(Clock())
    board.apply_event(task_event(3, make_task(1, version=3, state=TaskState.ON_SCENE)))
    board.upsert_task(make_task(1, version=2, state=TaskState.ACCEPTED))
    assert board.tasks[1].state is TaskState.ON_SCENE


def test_an_escalation_to_my_rung_is_announced_and_counted() -> None:
    board = IncidentBoard(Clock())
    board.set_user(user(Role.SUPERVISOR, agency="fire"))
    up = make_task(
        1,
        escalation_level=EscalationLevel.AGENCY_SUPERVISOR,
        escalations=[escalation()],
        accept_by=T0 - MINUTE,
    )
    change = board.apply_event(task_event(20, up, EventKind.TASK_ESCALATED))
    assert change is not None
    assert change.escalated_to_me
    assert board.badge().escalated == 1
    # Counted once: escalated, not also overdue.
    assert board.badge().urgent == 1

    # The desk below sees it overdue, but it was not escalated to it.
    desk = IncidentBoard(Clock())
    desk.set_user(user(Role.AGENCY, agency="fire"))
    change = desk.apply_event(task_event(20, up, EventKind.TASK_ESCALATED))
    assert change is not None
    assert not change.escalated_to_me
    assert (desk.badge().escalated, desk.badge().overdue) == (0, 1)


def test_the_badge_counts_open_supervisions_until_answered_and_overdue_work() -> None:
    clock = Clock()
    board = IncidentBoard(clock)
    board.set_user(user(Role.AGENCY, agency="fire"))
    board.replace_tasks(
        TaskList.INBOX,
        [
            make_task(1, supervisions=[supervision(1)], finish_by=T0 + 2 * MINUTE),
            make_task(2, supervisions=[supervision(2, answered=True)]),
            make_task(3, state=TaskState.DONE, supervisions=[supervision(3)]),
        ],
    )
    assert board.badge() == board.badge().__class__(overdue=0, escalated=0, supervised=1)
    clock.now = T0 + 3 * MINUTE
    assert board.badge().overdue == 1
    board.apply_event(
        task_event(
            30,
            make_task(1, supervisions=[supervision(1, answered=True)], finish_by=T0 + 2 * MINUTE),
            EventKind.TASK_SUPERVISION_ANSWERED,
        )
    )
    assert board.badge().supervised == 0


def test_a_loaded_timeline_is_appended_live_once_by_seq() -> None:
    board = IncidentBoard(Clock())
    incident = make_incident(1)
    assert board.timeline(1) is None
    board.set_timeline(1, [incident_event(5, incident), incident_event(2, incident)])
    board.apply_event(task_event(9, make_task(1)))
    board.apply_event(task_event(9, make_task(1)))
    board.apply_event(task_event(10, make_task(2, incident_id=2)))
    timeline = board.timeline(1)
    assert timeline is not None
    assert [event.seq for event in timeline] == [2, 5, 9]
    assert board.last_timeline_seq(1) == 9


def test_the_incident_list_puts_open_severe_recent_first() -> None:
    board = IncidentBoard(Clock())
    board.replace_incidents(
        [
            make_incident(1, level=IncidentLevel.IV),
            make_incident(2, level=IncidentLevel.II),
            make_incident(3, level=IncidentLevel.II, opened_at=T0 + MINUTE),
            make_incident(4, level=IncidentLevel.I, state=IncidentState.CLOSED),
        ]
    )
    assert [incident.id for incident in board.open_incidents()] == [3, 2, 1, 4]
    assert board.alarm_incident(7) is None


def test_rungs_and_the_first_view_follow_the_login() -> None:
    assert rungs_of(user(Role.AGENCY, agency="fire")) == {EscalationLevel.AGENCY_DESK}
    assert rungs_of(user(Role.OFFICER)) == {
        EscalationLevel.COMMAND_CENTRE,
        EscalationLevel.DISTRICT,
    }
    assert EscalationLevel.TOWN in rungs_of(user(Role.OFFICER, jurisdiction="330102001"))
    assert EscalationLevel.VILLAGE in rungs_of(user(Role.OFFICER, jurisdiction="330102001001"))
    assert rungs_of(user(Role.VIEWER)) == frozenset()
    assert inbox_first(user(Role.AGENCY, agency="fire"))
    assert inbox_first(user(Role.OFFICER, jurisdiction="330102001"))
    assert not inbox_first(user(Role.OFFICER, jurisdiction="330102"))
    assert not inbox_first(None)


def test_the_servers_escalated_list_teaches_the_board_this_desks_rung() -> None:
    """A community officer whose local code the digit rule cannot place: the server lists
    a village-rung task as escalated to them, so later village escalations count too."""
    board = IncidentBoard(Clock())
    board.set_user(user(Role.OFFICER, jurisdiction="3301020107"))  # 10 digits: "district"
    village: dict[str, Any] = {
        "assignee_kind": AssigneeKind.GRID_LEVEL,
        "agency": "",
        "escalation_level": EscalationLevel.VILLAGE,
        "escalations": [escalation(EscalationLevel.VILLAGE)],
    }
    board.apply_event(task_event(40, make_task(1, **village), EventKind.TASK_ESCALATED))
    assert board.badge().escalated == 0  # the digit rule alone does not place this desk
    board.replace_tasks(TaskList.ESCALATED, [make_task(1, **village)])
    assert board.badge().escalated == 1
    change = board.apply_event(task_event(50, make_task(2, **village), EventKind.TASK_ESCALATED))
    assert change is not None
    assert change.escalated_to_me
    assert board.badge().escalated == 2
