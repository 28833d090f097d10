"""The alarm life cycle as a table: which action moves an alarm from which state to which.

The backend enforces this table; the desktop reads it to offer only the actions that are
legal now. Keeping it in the wire contract means the two can never disagree.
"""

from __future__ import annotations

import enum


class AlarmState(enum.StrEnum):
    """Where an alarm is in its life (接警 → 派警 → 处警 → 消警)."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    RESOLVED = "resolved"
    CLOSED = "closed"
    FALSE_ALARM = "false_alarm"
    MERGED = "merged"


class AlarmAction(enum.StrEnum):
    """What an operator (or an agency) can do to an alarm."""

    ACKNOWLEDGE = "acknowledge"
    DISPATCH = "dispatch"
    START_HANDLING = "start_handling"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    MARK_FALSE = "mark_false"
    MERGE = "merge"


class AlarmLevel(enum.StrEnum):
    """Alarm level, most to least severe (红/橙/黄/蓝)."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


LEVEL_RANK: dict[AlarmLevel, int] = {
    AlarmLevel.RED: 0,
    AlarmLevel.ORANGE: 1,
    AlarmLevel.YELLOW: 2,
    AlarmLevel.BLUE: 3,
}
"""Sort key: lower is more severe."""

_S = AlarmState
_A = AlarmAction

TRANSITIONS: dict[tuple[AlarmState, AlarmAction], AlarmState] = {
    (_S.NEW, _A.ACKNOWLEDGE): _S.ACKNOWLEDGED,
    (_S.NEW, _A.DISPATCH): _S.DISPATCHED,
    (_S.ACKNOWLEDGED, _A.DISPATCH): _S.DISPATCHED,
    # Sending more units does not move the alarm back or forward.
    (_S.DISPATCHED, _A.DISPATCH): _S.DISPATCHED,
    (_S.HANDLING, _A.DISPATCH): _S.HANDLING,
    (_S.DISPATCHED, _A.START_HANDLING): _S.HANDLING,
    (_S.HANDLING, _A.RESOLVE): _S.RESOLVED,
    (_S.RESOLVED, _A.REOPEN): _S.HANDLING,
    (_S.RESOLVED, _A.CLOSE): _S.CLOSED,
    (_S.NEW, _A.MARK_FALSE): _S.FALSE_ALARM,
    (_S.ACKNOWLEDGED, _A.MARK_FALSE): _S.FALSE_ALARM,
    (_S.NEW, _A.MERGE): _S.MERGED,
    (_S.ACKNOWLEDGED, _A.MERGE): _S.MERGED,
}
"""Every legal transition. Anything not listed is refused by the server."""

FINAL_STATES: frozenset[AlarmState] = frozenset({_S.CLOSED, _S.FALSE_ALARM, _S.MERGED})
"""States an alarm never leaves. A device repeat after these opens a new alarm."""

NOTE_REQUIRED: frozenset[AlarmAction] = frozenset({_A.RESOLVE, _A.MARK_FALSE, _A.REOPEN})
"""Actions that need a written note (the feedback, or the reason)."""


def next_state(state: AlarmState, action: AlarmAction) -> AlarmState | None:
    """Return the state ``action`` leads to from ``state``, or None when it is illegal."""
    return TRANSITIONS.get((state, action))


def allowed_actions(state: AlarmState) -> list[AlarmAction]:
    """Return the actions legal in ``state``, in the order of the :class:`AlarmAction` enum."""
    return [action for action in AlarmAction if (state, action) in TRANSITIONS]


def is_open(state: AlarmState) -> bool:
    """Return whether an alarm in ``state`` still needs attention."""
    return state not in FINAL_STATES
