"""The life cycle of a hidden danger, sans-I/O: which action moves which state where,
what each action requires, and when an overdue danger escalates a rung.

    reported → assigned → rectifying → rectified → verified
    assigned | rectifying --(deadline passed)--> overdue --supervise--> supervised
    overdue | supervised --complete--> rectified;  rectified --reject--> rectifying

Escalation (docs/hidden-dangers.md): an overdue danger goes first to the supervisors of
its own area (rung :data:`AREA`), then to the level above (rung :data:`ABOVE`), after
:data:`ESCALATION_AFTER` of being overdue — a major danger to its area at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from realtime.protocol import DangerAction, DangerGrade, DangerState

_S = DangerState

TRANSITIONS: Final[dict[DangerAction, tuple[frozenset[DangerState], DangerState]]] = {
    DangerAction.ASSIGN: (frozenset({_S.REPORTED}), _S.ASSIGNED),
    DangerAction.START: (frozenset({_S.ASSIGNED}), _S.RECTIFYING),
    DangerAction.COMPLETE: (frozenset({_S.RECTIFYING, _S.OVERDUE, _S.SUPERVISED}), _S.RECTIFIED),
    DangerAction.VERIFY: (frozenset({_S.RECTIFIED}), _S.VERIFIED),
    DangerAction.REJECT: (frozenset({_S.RECTIFIED}), _S.RECTIFYING),
    DangerAction.SUPERVISE: (frozenset({_S.OVERDUE}), _S.SUPERVISED),
}
"""Each action: the states it may start from, and the state it leads to."""

OPEN_STATES: Final = frozenset(set(DangerState) - {_S.VERIFIED})
"""Not yet closed (the statistics' ``open``)."""
DEADLINE_STATES: Final = frozenset({_S.ASSIGNED, _S.RECTIFYING})
"""States in which a passing deadline makes a danger overdue."""
LATE_STATES: Final = frozenset({_S.OVERDUE, _S.SUPERVISED})
"""States in which an overdue danger escalates with time."""

AREA: Final = "area"
"""Rung 1: the supervisors of the danger's own area (本级督促)."""
ABOVE: Final = "above"
"""Rung 2: the level above (上级督办); the top."""
RUNGS: Final = (AREA, ABOVE)

ESCALATION_AFTER: Final[dict[DangerGrade, tuple[dt.timedelta, dt.timedelta]]] = {
    DangerGrade.MAJOR: (dt.timedelta(0), dt.timedelta(days=3)),
    DangerGrade.GENERAL: (dt.timedelta(days=3), dt.timedelta(days=7)),
}
"""How long after a danger became overdue it reaches each rung (:data:`RUNGS`)."""


DEADLINE_ACTIONS: Final = frozenset({DangerAction.ASSIGN, DangerAction.SUPERVISE})
"""The actions that set the deadline; the others keep it (the deadline is what the danger
is judged against, so the enterprise cannot move it while it does the work)."""
MAX_DEADLINE_AHEAD: Final = dt.timedelta(days=366)
"""How far ahead a deadline may lie (further is a typo, or a way never to be overdue)."""


class Error(Exception):
    """An action that the life cycle does not allow (the message says why)."""


def next_state(action: DangerAction, state: DangerState) -> DangerState:
    """The state ``action`` leads to from ``state``; :class:`Error` when it may not."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise Error(f"cannot {action} a hidden danger that is {state} (only when {allowed})")
    return target


def missing_fields(
    action: DangerAction, *, note: str, deadline: dt.datetime | None, responsible_name: str
) -> list[str]:
    """The fields ``action`` requires but did not get (empty: complete)."""
    missing = []
    if action in {DangerAction.ASSIGN, DangerAction.SUPERVISE} and deadline is None:
        missing.append("deadline")
    if action is DangerAction.ASSIGN and not responsible_name.strip():
        missing.append("responsible_name")
    if action in {DangerAction.REJECT, DangerAction.SUPERVISE} and not note.strip():
        missing.append("note")
    return missing


def deadline_problem(deadline: dt.datetime, now: dt.datetime) -> str | None:
    """Why ``deadline``, set at ``now``, cannot be (None: it can)."""
    if deadline <= now:
        return f"the deadline {deadline.isoformat()} is already past"
    if deadline > now + MAX_DEADLINE_AHEAD:
        return f"a deadline lies at most {MAX_DEADLINE_AHEAD.days} days ahead"
    return None


def action_deadline_problem(
    action: DangerAction, deadline: dt.datetime | None, now: dt.datetime
) -> str | None:
    """Why ``action`` cannot carry ``deadline`` (None: it can, or it carries none)."""
    if deadline is None:
        return None
    if action not in DEADLINE_ACTIONS:
        return f"{action} takes no deadline (assign and supervise set it)"
    return deadline_problem(deadline, now)


def due_rung(
    grade: DangerGrade, overdue_at: dt.datetime, escalated_to: str, now: dt.datetime
) -> str | None:
    """The next rung an overdue danger is due to climb to now (one rung per call, so each
    rung gets its own event), or None when it is not due yet or is at the top."""
    reached = RUNGS.index(escalated_to) + 1 if escalated_to in RUNGS else 0
    if reached >= len(RUNGS):
        return None
    return RUNGS[reached] if now >= overdue_at + ESCALATION_AFTER[grade][reached] else None
