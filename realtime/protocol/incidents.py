"""How consoles see incidents and their tasks: the views the event log carries.

An incident event carries the incident (:class:`IncidentView`); a task event carries the
task (:class:`TaskView`) with its escalation and supervision history, so the console can
show a task's whole story from the newest event about it.

The commands (``incident.*``, ``task.*``, ``incidents.list``, ``tasks.list``) and their
results are here too; :mod:`realtime.protocol.console` and :mod:`realtime.protocol.server`
add them to the command and result unions. Who may send which is the server's permission
table (docs/protocol.md).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import msgspec

from realtime.incident_states import (
    AssigneeKind,
    Deadline,
    EscalationCause,
    EscalationLevel,
    IncidentAction,
    IncidentLevel,
    IncidentState,
    TaskAction,
    TaskState,
)
from realtime.protocol.common import (
    AwareDateTime,
    JurisdictionCode,
    Latitude,
    Longitude,
    LongText,
    ShortText,
    Tagged,
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
    # Left out of the JSON unless set, so other incidents encode as before.
    direct_report: bool | msgspec.UnsetType = msgspec.UNSET
    """``True``: reported from the grid with an item that reports straight to the district
    (直报); the district's console flags it."""


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


# ---------------------------------------------------------------------------- commands

DeadlineMinutes = Annotated[int, msgspec.Meta(ge=1, le=90 * 24 * 60)]
"""A deadline in minutes from when a task is sent (1 minute to 90 days)."""


class OpenIncident(Tagged, tag="incident.open"):
    """Open an incident (立案), or raise one from an alarm (``alarm_id``).

    From an alarm, what is not given is taken from it (title, place, position,
    jurisdiction, description, reporter) and the type from the catalogue item its alarm
    type suggests. Without an alarm, ``type_code`` and ``title`` are required. The
    jurisdiction is where the place lies (placed by the server when a position is given).
    """

    req: str
    type_code: str | None = None
    title: ShortText = ""
    description: LongText = ""
    place: ShortText = ""
    lat: Latitude | None = None
    lon: Longitude | None = None
    jurisdiction: JurisdictionCode | None = None
    level: IncidentLevel | None = None
    """Default: the catalogue item's ``default_level``."""
    commander: str | None = None
    """Default: the user who opens it."""
    alarm_id: int | None = None


class AttachAlarm(Tagged, tag="incident.attach_alarm"):
    """Attach an alarm to an open incident (并案): the same event reported again."""

    req: str
    incident_id: int
    alarm_id: int
    expected_version: int


class TransitionIncident(Tagged, tag="incident.transition"):
    """Move an incident along its life (:data:`realtime.incident_states.INCIDENT_TRANSITIONS`).

    ``close`` needs every task settled and the feedback to the reporter as ``note``;
    ``flare_up`` needs a note.
    """

    req: str
    incident_id: int
    action: IncidentAction
    expected_version: int
    note: LongText = ""


class ChangeIncident(Tagged, tag="incident.change"):
    """Change an open incident's level (定级), commander or type (定性); at least one."""

    req: str
    incident_id: int
    expected_version: int
    level: IncidentLevel | None = None
    commander: str | None = None
    type_code: str | None = None
    note: LongText = ""


class GetIncident(Tagged, tag="incident.get"):
    """Ask for one incident with the tasks this user may see."""

    req: str
    incident_id: int


class GetIncidentTimeline(Tagged, tag="incident.timeline"):
    """Ask for the incident's timeline: every event about it this user may see (alarms
    attached, tasks and their steps, escalations, supervision, messages), by ``seq``;
    ``after_seq`` resumes after the last one held."""

    req: str
    incident_id: int
    after_seq: int = 0


class ListIncidents(Tagged, tag="incidents.list"):
    """Ask for the open (and recently closed) incidents this user may see."""

    req: str


class SendTask(Tagged, tag="task.send"):
    """Send a task (派单) to an agency, a unit or a grid level.

    Deadlines default to the incident type's in the catalogue; ``deadline_minutes``
    overrides any of them (a kind mapped to null does not apply).
    """

    req: str
    incident_id: int
    assignee_kind: AssigneeKind
    assignee_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """The agency code, the unit's code, or the grid level's jurisdiction code."""
    instructions: LongText = ""
    deadline_minutes: dict[Deadline, DeadlineMinutes | None] = msgspec.field(default_factory=dict)


class ActOnTask(Tagged, tag="task.act"):
    """Take one step of a task (:data:`realtime.incident_states.TASK_TRANSITIONS`).

    ``decline`` and ``return`` need the reason, ``finish`` what was done, as ``note``.
    """

    req: str
    task_id: int
    action: TaskAction
    expected_version: int
    note: LongText = ""


class SetTaskDeadlines(Tagged, tag="task.set_deadlines"):
    """Move a task's deadlines (延期/调整): the kinds given are set, null clears one."""

    req: str
    task_id: int
    expected_version: int
    deadlines: dict[Deadline, AwareDateTime | None]
    note: LongText = ""


class SuperviseTask(Tagged, tag="task.supervise"):
    """Flag a task for supervision (督办): what is asked and, optionally, by when."""

    req: str
    task_id: int
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    due_at: AwareDateTime | None = None


class AnswerSupervision(Tagged, tag="task.answer_supervision"):
    """The flagged desk answers a supervision flag (once)."""

    req: str
    supervision_id: int
    answer: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class TaskList(enum.StrEnum):
    """Which tasks ``tasks.list`` returns."""

    INBOX = "inbox"
    """The open tasks this user's desk works (its agency's, or its grid level's)."""
    ESCALATED = "escalated"
    """Open tasks escalated to this user's rung (the badge)."""
    SUPERVISED = "supervised"
    """Open tasks with a supervision flag not answered yet that this user sees."""
    INCIDENT = "incident"
    """The tasks of ``incident_id`` this user may see."""


class ListTasks(Tagged, tag="tasks.list"):
    """Ask for a list of tasks (:class:`TaskList`)."""

    req: str
    which: TaskList = TaskList.INBOX
    incident_id: int | None = None
    """Required with ``which`` = ``incident``."""


# ---------------------------------------------------------------------------- results


class IncidentResult(msgspec.Struct, tag="incident", kw_only=True):
    """An incident after a command, or as asked for, with the tasks the user may see."""

    incident: IncidentView
    tasks: list[TaskView] = msgspec.field(default_factory=list)


class IncidentsResult(msgspec.Struct, tag="incidents", kw_only=True):
    incidents: list[IncidentView]


class TaskResult(msgspec.Struct, tag="task", kw_only=True):
    """A task after a command. ``sent_on`` is the new task a grid level's return created
    one level up (absent otherwise)."""

    task: TaskView
    sent_on: TaskView | None = None


class TasksResult(msgspec.Struct, tag="tasks", kw_only=True):
    which: TaskList
    tasks: list[TaskView]
