"""Incidents and their tasks as tables: states, actions, levels and deadlines.

An incident (事件) groups alarms and reports under one type from the event catalogue; the
command centre sends tasks (任务) to agencies, units and grid levels, each with its own
life and its own deadlines. The backend enforces these tables; the console reads them to
offer only what is legal now and to show which deadline a task is counting down to.
Kept in the wire contract, beside :mod:`realtime.states` (the alarms' table), so the two
sides can never disagree.
"""

from __future__ import annotations

import enum


class IncidentState(enum.StrEnum):
    """Where an incident is in its life (接报 → 处置中 → 已控制 → 结案)."""

    OPEN = "open"
    RESPONDING = "responding"
    UNDER_CONTROL = "under_control"
    CLOSED = "closed"


class IncidentAction(enum.StrEnum):
    """What the commander can do to an incident's state."""

    RESPOND = "respond"
    """The response is under way (usually when the first task is sent)."""
    CONTROL = "control"
    """The situation is under control; tasks may still be finishing."""
    FLARE_UP = "flare_up"
    """It got worse again (复燃): back to responding."""
    CLOSE = "close"
    """结案, with the feedback to the reporter: only when no task is open (each is done,
    cancelled, or was declined or returned to the sender, who has seen why)."""


class IncidentLevel(enum.StrEnum):
    """The incident's grade under the national classification (I is the most severe)."""

    I = "I"  # noqa: E741 (the grade's own name)
    II = "II"
    III = "III"
    IV = "IV"


INCIDENT_LEVEL_RANK: dict[IncidentLevel, int] = {
    IncidentLevel.I: 0,
    IncidentLevel.II: 1,
    IncidentLevel.III: 2,
    IncidentLevel.IV: 3,
}
"""Sort key: lower is more severe."""

INCIDENT_LEVEL_NAMES: dict[IncidentLevel, tuple[str, str]] = {
    IncidentLevel.I: ("特别重大", "particularly serious"),
    IncidentLevel.II: ("重大", "serious"),
    IncidentLevel.III: ("较大", "relatively serious"),
    IncidentLevel.IV: ("一般", "ordinary"),
}
"""The grades' names, Chinese and English."""

_IS = IncidentState
_IA = IncidentAction

INCIDENT_TRANSITIONS: dict[tuple[IncidentState, IncidentAction], IncidentState] = {
    (_IS.OPEN, _IA.RESPOND): _IS.RESPONDING,
    (_IS.RESPONDING, _IA.CONTROL): _IS.UNDER_CONTROL,
    (_IS.UNDER_CONTROL, _IA.FLARE_UP): _IS.RESPONDING,
    # Closing is guarded by the tasks (all done or cancelled), not by the state: an incident
    # found to be nothing is closed straight from open, with the feedback saying so.
    (_IS.OPEN, _IA.CLOSE): _IS.CLOSED,
    (_IS.RESPONDING, _IA.CLOSE): _IS.CLOSED,
    (_IS.UNDER_CONTROL, _IA.CLOSE): _IS.CLOSED,
}
"""Every legal incident transition. Anything not listed is refused by the server."""

INCIDENT_FINAL_STATES: frozenset[IncidentState] = frozenset({_IS.CLOSED})
"""States an incident never leaves: a recurrence is a new incident."""

INCIDENT_NOTE_REQUIRED: frozenset[IncidentAction] = frozenset({_IA.CLOSE, _IA.FLARE_UP})
"""Incident actions that need a written note (the feedback, or what happened)."""


def next_incident_state(state: IncidentState, action: IncidentAction) -> IncidentState | None:
    """Return the state ``action`` leads to from ``state``, or None when it is illegal."""
    return INCIDENT_TRANSITIONS.get((state, action))


def allowed_incident_actions(state: IncidentState) -> list[IncidentAction]:
    """Return the actions legal in ``state``, in the order of :class:`IncidentAction`."""
    return [action for action in IncidentAction if (state, action) in INCIDENT_TRANSITIONS]


# --------------------------------------------------------------------------- tasks


class AssigneeKind(enum.StrEnum):
    """Who a task is sent to."""

    AGENCY = "agency"
    """An agency's desk (fire, police, medical…): ``ref`` is the agency code."""
    UNIT = "unit"
    """One unit of the registry: ``ref`` is the unit's code; its agency's desk works it."""
    GRID_LEVEL = "grid_level"
    """A grid level (district, town/street, village/community): ``ref`` is its jurisdiction
    code; the officers of that level (and above) work it."""


class HandlingLevel(enum.StrEnum):
    """Which level handles an event type by default (the catalogue's 处置层级)."""

    VILLAGE = "village"
    TOWN = "town"
    DISTRICT = "district"
    AGENCY = "agency"
    """A functional department (职能部门) rather than a grid level."""


class EscalationLevel(enum.StrEnum):
    """A rung of an escalation ladder: the desk that must act on an overdue task."""

    VILLAGE = "village"
    TOWN = "town"
    DISTRICT = "district"
    AGENCY_DESK = "agency_desk"
    AGENCY_SUPERVISOR = "agency_supervisor"
    COMMAND_CENTRE = "command_centre"


class TaskState(enum.StrEnum):
    """Where a task is (下达 → 签收 → 出发 → 到场 → 办结; 拒收, 退回, 撤销)."""

    SENT = "sent"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    DONE = "done"
    DECLINED = "declined"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class TaskAction(enum.StrEnum):
    """What the assignee (or, for cancel, the sender) can do to a task."""

    ACCEPT = "accept"
    SET_OUT = "set_out"
    ARRIVE = "arrive"
    FINISH = "finish"
    DECLINE = "decline"
    """Refuse the task as not ours (拒收), with the reason."""
    RETURN = "return"
    """Give it back as beyond our means (退回), with the reason; it goes up a level."""
    CANCEL = "cancel"
    """The sender withdraws the task (撤销)."""


class Deadline(enum.StrEnum):
    """The three deadlines of a task, each counted from when it was sent."""

    ACCEPT = "accept"
    ARRIVE = "arrive"
    FINISH = "finish"


class EscalationCause(enum.StrEnum):
    """Why a task went up a rung: one of its deadlines passed, or it was returned."""

    ACCEPT = "accept"
    ARRIVE = "arrive"
    FINISH = "finish"
    RETURNED = "returned"


DEADLINE_CAUSE: dict[Deadline, EscalationCause] = {
    Deadline.ACCEPT: EscalationCause.ACCEPT,
    Deadline.ARRIVE: EscalationCause.ARRIVE,
    Deadline.FINISH: EscalationCause.FINISH,
}
"""The cause recorded when a deadline passes."""

_TS = TaskState
_TA = TaskAction

TASK_TRANSITIONS: dict[tuple[TaskState, TaskAction], TaskState] = {
    (_TS.SENT, _TA.ACCEPT): _TS.ACCEPTED,
    (_TS.SENT, _TA.DECLINE): _TS.DECLINED,
    (_TS.ACCEPTED, _TA.SET_OUT): _TS.EN_ROUTE,
    (_TS.ACCEPTED, _TA.ARRIVE): _TS.ON_SCENE,
    (_TS.EN_ROUTE, _TA.ARRIVE): _TS.ON_SCENE,
    # Grid work (a dispute settled by phone, a notice put up) can be finished without a
    # recorded trip; the finish note says what was done.
    (_TS.ACCEPTED, _TA.FINISH): _TS.DONE,
    (_TS.EN_ROUTE, _TA.FINISH): _TS.DONE,
    (_TS.ON_SCENE, _TA.FINISH): _TS.DONE,
    # What turns out to be beyond the assignee can be given back at any point before done.
    (_TS.SENT, _TA.RETURN): _TS.RETURNED,
    (_TS.ACCEPTED, _TA.RETURN): _TS.RETURNED,
    (_TS.EN_ROUTE, _TA.RETURN): _TS.RETURNED,
    (_TS.ON_SCENE, _TA.RETURN): _TS.RETURNED,
    (_TS.SENT, _TA.CANCEL): _TS.CANCELLED,
    (_TS.ACCEPTED, _TA.CANCEL): _TS.CANCELLED,
    (_TS.EN_ROUTE, _TA.CANCEL): _TS.CANCELLED,
    (_TS.ON_SCENE, _TA.CANCEL): _TS.CANCELLED,
}
"""Every legal task transition. Anything not listed is refused by the server."""

TASK_FINAL_STATES: frozenset[TaskState] = frozenset(
    {_TS.DONE, _TS.DECLINED, _TS.RETURNED, _TS.CANCELLED}
)
"""States a task never leaves. A declined or returned task is replaced by a new one."""

TASK_NOTE_REQUIRED: frozenset[TaskAction] = frozenset({_TA.DECLINE, _TA.RETURN, _TA.FINISH})
"""Task actions that need a written note: the reason, or what was done (处置结果)."""

SENDER_ACTIONS: frozenset[TaskAction] = frozenset({_TA.CANCEL})
"""Actions of the side that sent the task; every other action is the assignee's."""

PENDING_DEADLINES: dict[TaskState, tuple[Deadline, ...]] = {
    _TS.SENT: (Deadline.ACCEPT, Deadline.ARRIVE, Deadline.FINISH),
    _TS.ACCEPTED: (Deadline.ARRIVE, Deadline.FINISH),
    _TS.EN_ROUTE: (Deadline.ARRIVE, Deadline.FINISH),
    _TS.ON_SCENE: (Deadline.FINISH,),
    _TS.DONE: (),
    _TS.DECLINED: (),
    _TS.RETURNED: (),
    _TS.CANCELLED: (),
}
"""The deadlines a task in each state has not met yet: each one that passes escalates."""


def next_task_state(state: TaskState, action: TaskAction) -> TaskState | None:
    """Return the state ``action`` leads to from ``state``, or None when it is illegal."""
    return TASK_TRANSITIONS.get((state, action))


def allowed_task_actions(state: TaskState) -> list[TaskAction]:
    """Return the actions legal in ``state``, in the order of :class:`TaskAction`."""
    return [action for action in TaskAction if (state, action) in TASK_TRANSITIONS]


def waits_on(state: TaskState) -> Deadline | None:
    """The deadline a task in ``state`` counts down to (the console's countdown), if any."""
    pending = PENDING_DEADLINES[state]
    return pending[0] if pending else None


def task_is_open(state: TaskState) -> bool:
    """Return whether a task in ``state`` still needs work."""
    return state not in TASK_FINAL_STATES
