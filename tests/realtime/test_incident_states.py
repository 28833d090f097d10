"""The incident and task tables: every (state, action) pair, levels and deadlines."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TypeVar

import pytest

from realtime.incident_states import (
    INCIDENT_FINAL_STATES,
    INCIDENT_LEVEL_NAMES,
    INCIDENT_LEVEL_RANK,
    INCIDENT_NOTE_REQUIRED,
    INCIDENT_TRANSITIONS,
    PENDING_DEADLINES,
    SENDER_ACTIONS,
    TASK_FINAL_STATES,
    TASK_NOTE_REQUIRED,
    TASK_TRANSITIONS,
    Deadline,
    IncidentAction,
    IncidentLevel,
    IncidentState,
    TaskAction,
    TaskState,
    allowed_incident_actions,
    allowed_task_actions,
    next_incident_state,
    next_task_state,
    task_is_open,
    waits_on,
)

_I = IncidentState
_IA = IncidentAction
_T = TaskState
_TA = TaskAction

EXPECTED_INCIDENT: dict[tuple[IncidentState, IncidentAction], IncidentState | None] = {
    (state, action): None for state, action in itertools.product(IncidentState, IncidentAction)
} | {
    (_I.OPEN, _IA.RESPOND): _I.RESPONDING,
    (_I.OPEN, _IA.CLOSE): _I.CLOSED,
    (_I.RESPONDING, _IA.CONTROL): _I.UNDER_CONTROL,
    (_I.RESPONDING, _IA.CLOSE): _I.CLOSED,
    (_I.UNDER_CONTROL, _IA.FLARE_UP): _I.RESPONDING,
    (_I.UNDER_CONTROL, _IA.CLOSE): _I.CLOSED,
}

_OPEN_TASK = (_T.SENT, _T.ACCEPTED, _T.EN_ROUTE, _T.ON_SCENE)
EXPECTED_TASK: dict[tuple[TaskState, TaskAction], TaskState | None] = (
    {(state, action): None for state, action in itertools.product(TaskState, TaskAction)}
    | {(state, _TA.CANCEL): _T.CANCELLED for state in _OPEN_TASK}
    | {(state, _TA.RETURN): _T.RETURNED for state in _OPEN_TASK}
    | {
        (_T.SENT, _TA.ACCEPT): _T.ACCEPTED,
        (_T.SENT, _TA.DECLINE): _T.DECLINED,
        (_T.ACCEPTED, _TA.SET_OUT): _T.EN_ROUTE,
        (_T.ACCEPTED, _TA.ARRIVE): _T.ON_SCENE,
        (_T.EN_ROUTE, _TA.ARRIVE): _T.ON_SCENE,
        (_T.ACCEPTED, _TA.FINISH): _T.DONE,
        (_T.EN_ROUTE, _TA.FINISH): _T.DONE,
        (_T.ON_SCENE, _TA.FINISH): _T.DONE,
    }
)


@pytest.mark.parametrize(("state", "action"), list(EXPECTED_INCIDENT))
def test_every_incident_state_and_action(state: IncidentState, action: IncidentAction) -> None:
    assert next_incident_state(state, action) is EXPECTED_INCIDENT[(state, action)]


@pytest.mark.parametrize(("state", "action"), list(EXPECTED_TASK))
def test_every_task_state_and_action(state: TaskState, action: TaskAction) -> None:
    assert next_task_state(state, action) is EXPECTED_TASK[(state, action)]


def test_tables_hold_nothing_but_the_expected_moves() -> None:
    assert {k: v for k, v in EXPECTED_INCIDENT.items() if v is not None} == INCIDENT_TRANSITIONS
    assert {k: v for k, v in EXPECTED_TASK.items() if v is not None} == TASK_TRANSITIONS


def test_final_states_have_no_way_out() -> None:
    for incident_state in INCIDENT_FINAL_STATES:
        assert allowed_incident_actions(incident_state) == []
    for task_state in TASK_FINAL_STATES:
        assert allowed_task_actions(task_state) == []
        assert not task_is_open(task_state)
        assert PENDING_DEADLINES[task_state] == ()
        assert waits_on(task_state) is None
    assert all(task_is_open(state) for state in _OPEN_TASK)


S = TypeVar("S")
A = TypeVar("A")


def _reached(start: S, actions: Callable[[S], list[A]], step: Callable[[S, A], S | None]) -> set[S]:
    seen = {start}
    frontier = [start]
    while frontier:
        state = frontier.pop()
        for action in actions(state):
            target = step(state, action)
            assert target is not None
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def test_every_state_is_reachable() -> None:
    assert _reached(_I.OPEN, allowed_incident_actions, next_incident_state) == set(IncidentState)
    assert _reached(_T.SENT, allowed_task_actions, next_task_state) == set(TaskState)


def test_allowed_actions_follow_enum_order() -> None:
    assert allowed_task_actions(_T.SENT) == [_TA.ACCEPT, _TA.DECLINE, _TA.RETURN, _TA.CANCEL]
    assert allowed_incident_actions(_I.RESPONDING) == [_IA.CONTROL, _IA.CLOSE]


def test_reasons_and_results_are_written() -> None:
    assert {_TA.DECLINE, _TA.RETURN, _TA.FINISH} == TASK_NOTE_REQUIRED
    assert _IA.CLOSE in INCIDENT_NOTE_REQUIRED
    assert {_TA.CANCEL} == SENDER_ACTIONS


def test_each_state_waits_on_the_next_milestone() -> None:
    assert waits_on(_T.SENT) is Deadline.ACCEPT
    assert waits_on(_T.ACCEPTED) is Deadline.ARRIVE
    assert waits_on(_T.EN_ROUTE) is Deadline.ARRIVE
    assert waits_on(_T.ON_SCENE) is Deadline.FINISH
    # A task stuck before accepting still misses its later deadlines, each in turn.
    assert PENDING_DEADLINES[_T.SENT] == (Deadline.ACCEPT, Deadline.ARRIVE, Deadline.FINISH)
    assert set(PENDING_DEADLINES) == set(TaskState)


def test_levels_rank_from_most_severe_and_have_names() -> None:
    ordered = sorted(IncidentLevel, key=INCIDENT_LEVEL_RANK.__getitem__)
    assert ordered == [IncidentLevel.I, IncidentLevel.II, IncidentLevel.III, IncidentLevel.IV]
    assert INCIDENT_LEVEL_NAMES[IncidentLevel.I][0] == "特别重大"
    assert INCIDENT_LEVEL_NAMES[IncidentLevel.IV][0] == "一般"
    assert set(INCIDENT_LEVEL_NAMES) == set(IncidentLevel)
