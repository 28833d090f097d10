"""The alarm state machine table."""

from __future__ import annotations

from realtime.states import (
    FINAL_STATES,
    TRANSITIONS,
    AlarmAction,
    AlarmState,
    allowed_actions,
    is_open,
    next_state,
)


def test_happy_path_reaches_closed() -> None:
    state = AlarmState.NEW
    for action in (
        AlarmAction.ACKNOWLEDGE,
        AlarmAction.DISPATCH,
        AlarmAction.START_HANDLING,
        AlarmAction.RESOLVE,
        AlarmAction.CLOSE,
    ):
        target = next_state(state, action)
        assert target is not None, (state, action)
        state = target
    assert state is AlarmState.CLOSED


def test_final_states_have_no_way_out() -> None:
    for state in FINAL_STATES:
        assert allowed_actions(state) == []
        assert not is_open(state)
    assert all(source not in FINAL_STATES for source, _ in TRANSITIONS)


def test_every_state_is_reachable_from_new() -> None:
    reached = {AlarmState.NEW}
    frontier = [AlarmState.NEW]
    while frontier:
        state = frontier.pop()
        for action in allowed_actions(state):
            target = next_state(state, action)
            assert target is not None
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(AlarmState)


def test_illegal_moves_are_none() -> None:
    assert next_state(AlarmState.NEW, AlarmAction.CLOSE) is None
    assert next_state(AlarmState.HANDLING, AlarmAction.ACKNOWLEDGE) is None
    assert next_state(AlarmState.CLOSED, AlarmAction.REOPEN) is None
