"""How consoles see incidents and their tasks: the views the event log carries.

An incident event carries the incident (:class:`IncidentView`); a task event carries the
task (:class:`TaskView`) with its escalation and supervision history, so the console can
show a task's whole story from the newest event about it. The commands that act on them
come with the console wiring (issue 15).
"""

from __future__ import annotations

import datetime as dt

import msgspec

from realtime.incident_states import (
    AssigneeKind,
    EscalationCause,
    EscalationLevel,
    IncidentLevel,
    IncidentState,
    TaskAction,
    TaskState,
)


class IncidentView(msgspec.Struct, kw_only=True):
    """An incident (事件) as consoles see it."""

    id: int
    version: int
    state: IncidentState
    level: IncidentLevel
    type_code: str
    """The event catalogue item (e.g. ``hazchem_leak``)."""
    type_name: str = ""
    """The item's Chinese name when the incident was last written (for consoles that do
    not hold the catalogue)."""
    title: str
    description: str = ""
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    jurisdiction: str = ""
    commander: str = ""
    """The username of the commander (指挥员)."""
    reported_by: str = ""
    """Who reported it: the alarm's reporter or the user who opened it; the feedback is
    for them."""
    opened_at: dt.datetime
    opened_by: str
    closed_at: dt.datetime | None = None
    feedback: str = ""
    """The feedback to the reporter (反馈), written when the incident is closed."""
    alarm_ids: list[int] = msgspec.field(default_factory=list)
    agencies: list[str] = msgspec.field(default_factory=list)
    """The agencies with a task on this incident: their desks see it."""
    grid_areas: list[str] = msgspec.field(default_factory=list)
    """The jurisdictions of the grid levels with a task on it: their officers see it."""
    updated_at: dt.datetime
    updated_by: str = ""
    last_note: str = ""


class EscalationView(msgspec.Struct, kw_only=True):
    """One step up the ladder: a deadline passed, or the assignee returned the task."""

    cause: EscalationCause
    from_level: EscalationLevel
    to_level: EscalationLevel
    note: str = ""
    """Why, in words (the deadline that passed, or the assignee's reason)."""
    by: str
    at: dt.datetime


class SupervisionView(msgspec.Struct, kw_only=True):
    """A supervision flag (督办) on a task: shown to the task's desk until answered."""

    id: int
    by: str
    note: str
    due_at: dt.datetime | None = None
    created_at: dt.datetime
    answered_at: dt.datetime | None = None
    answered_by: str = ""
    answer: str = ""


class TaskView(msgspec.Struct, kw_only=True):
    """A task (任务) of an incident as consoles see it."""

    id: int
    incident_id: int
    version: int
    state: TaskState
    assignee_kind: AssigneeKind
    assignee_ref: str
    """The agency code, the unit's code, or the grid level's jurisdiction code."""
    assignee_name: str = ""
    agency: str = ""
    """The agency whose desk works this task ("" for a grid level's task)."""
    jurisdiction: str = ""
    assignee_user: str = ""
    """The user who accepted it on the assignee's side."""
    instructions: str = ""
    """What the sender asked for."""
    last_action: TaskAction | None = None
    last_note: str = ""
    accept_by: dt.datetime | None = None
    arrive_by: dt.datetime | None = None
    finish_by: dt.datetime | None = None
    escalation_level: EscalationLevel
    """The rung of the ladder that must act now (the assignee's own, until a deadline
    passes)."""
    returned_from: int | None = None
    """The task this one replaces, when a lower level returned it."""
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str = ""
    escalations: list[EscalationView] = msgspec.field(default_factory=list)
    supervisions: list[SupervisionView] = msgspec.field(default_factory=list)
