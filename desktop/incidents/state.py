"""What the console knows of incidents and tasks, in plain Python (no Qt).

:class:`IncidentBoard` holds the incidents and tasks this user sees, by id: filled from
``incidents.list`` and ``tasks.list`` after every (re)sync and kept current by the
``incident.*`` and ``task.*`` events. From it come each task's countdown (the deadline it
waits on now, :data:`realtime.incident_states.PENDING_DEADLINES`), the desk's inbox
sorted by urgency, the incident list, the badge counts (overdue, escalated to this desk,
supervised and not answered) and each incident's timeline, appended live by ``seq``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable

from desktop.console_model import Emitter
from desktop.map.vehicles import utc_now
from realtime.event_kinds import EventKind
from realtime.incident_states import (
    INCIDENT_FINAL_STATES,
    INCIDENT_LEVEL_RANK,
    PENDING_DEADLINES,
    Deadline,
    EscalationLevel,
    task_is_open,
)
from realtime.protocol import Event, IncidentView, Role, TaskList, TaskView, UserInfo

logger = logging.getLogger(__name__)

COMMAND_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
"""Roles that command incidents when the user belongs to no agency (the command centre)."""
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
"""Roles that flag tasks for supervision (督办)."""
VILLAGE_CODE_LENGTH = 12
TOWN_CODE_LENGTH = 9


def grid_rung(jurisdiction: str) -> EscalationLevel:
    """The grid rung a jurisdiction code stands for (12 digits a village, 9 a town, else
    the district), as the server reads it."""
    if len(jurisdiction) >= VILLAGE_CODE_LENGTH:
        return EscalationLevel.VILLAGE
    if len(jurisdiction) == TOWN_CODE_LENGTH:
        return EscalationLevel.TOWN
    return EscalationLevel.DISTRICT


def commands_incidents(user: UserInfo | None) -> bool:
    """Whether this user is the command centre (opens, changes and closes incidents)."""
    return user is not None and user.role in COMMAND_ROLES and not user.agency


def may_supervise(user: UserInfo | None) -> bool:
    """Whether this user flags tasks for supervision (督办)."""
    return user is not None and user.role in SUPERVISOR_ROLES


def may_work_tasks(user: UserInfo | None) -> bool:
    """Whether this user takes a task's steps (its desk, or the command centre for it)."""
    return user is not None and (user.role in COMMAND_ROLES or user.role == Role.AGENCY)


def inbox_first(user: UserInfo | None) -> bool:
    """Whether the console opens on the task inbox (agency desks, village and town
    officers) rather than the incident list (the command centre)."""
    if user is None:
        return False
    if user.agency or user.role == Role.AGENCY:
        return True
    return grid_rung(user.jurisdiction) in (EscalationLevel.VILLAGE, EscalationLevel.TOWN)


def rungs_of(user: UserInfo | None) -> frozenset[EscalationLevel]:
    """The ladder rungs whose escalations land at this user's desk (the badge)."""
    if user is None:
        return frozenset()
    if user.role == Role.AGENCY:
        return frozenset({EscalationLevel.AGENCY_DESK})
    if user.agency:
        if user.role in SUPERVISOR_ROLES:
            return frozenset({EscalationLevel.AGENCY_SUPERVISOR})
        return frozenset()
    if user.role not in COMMAND_ROLES:
        return frozenset()
    return frozenset({EscalationLevel.COMMAND_CENTRE, grid_rung(user.jurisdiction)})


@dataclasses.dataclass(frozen=True, slots=True)
class Countdown:
    """The deadline a task waits on now and how long is left (negative when overdue)."""

    deadline: Deadline | None
    """Which deadline (None: the task is settled, or has no deadline pending)."""
    due: dt.datetime | None
    left: dt.timedelta | None

    @property
    def overdue(self) -> bool:
        """Whether the deadline has passed."""
        return self.left is not None and self.left < dt.timedelta(0)


def deadline_at(task: TaskView, deadline: Deadline) -> dt.datetime | None:
    """The time of one of the task's deadlines (None when it does not apply)."""
    return {
        Deadline.ACCEPT: task.accept_by,
        Deadline.ARRIVE: task.arrive_by,
        Deadline.FINISH: task.finish_by,
    }[deadline]


def countdown(task: TaskView, now: dt.datetime) -> Countdown:
    """The deadline ``task`` counts down to at ``now``: the first of its state's pending
    deadlines that is set (a task sent without an accept deadline counts down to
    arriving); none for a settled task."""
    for deadline in PENDING_DEADLINES[task.state]:
        due = deadline_at(task, deadline)
        if due is not None:
            return Countdown(deadline, due, due - now)
    return Countdown(None, None, None)


def open_supervisions(task: TaskView) -> int:
    """How many supervision flags on ``task`` are not answered yet."""
    return sum(1 for flag in task.supervisions if flag.answered_at is None)


def urgency_key(task: TaskView, now: dt.datetime) -> tuple[int, float, int]:
    """Sort key of the inbox: overdue first (most overdue on top), then the nearest
    deadline, then tasks without one, oldest first."""
    left = countdown(task, now).left
    if left is None:
        return (2, 0.0, task.id)
    return (0 if left < dt.timedelta(0) else 1, left.total_seconds(), task.id)


@dataclasses.dataclass(frozen=True, slots=True)
class Badge:
    """The status bar's counts."""

    overdue: int
    """Open tasks of this desk past their deadline."""
    escalated: int
    """Open tasks escalated to this desk."""
    supervised: int
    """Open tasks with a supervision flag not answered yet."""

    @property
    def urgent(self) -> int:
        """What the badge's first number shows: overdue or escalated to me."""
        return self.overdue + self.escalated


@dataclasses.dataclass(frozen=True, slots=True)
class BoardChange:
    """What changed on the board (all None after a reload)."""

    incident_id: int | None = None
    task_id: int | None = None
    escalated_to_me: bool = False
    """A task escalated to this desk just now (sound and highlight)."""
    timeline_event: Event | None = None
    """An event appended to a loaded timeline."""


def incident_of(event: Event) -> int | None:
    """The incident an event is about (its own, or its task's), if any."""
    if isinstance(event.incident, IncidentView):
        return event.incident.id
    if isinstance(event.task, TaskView):
        return event.task.incident_id
    return None


class IncidentBoard:
    """The incidents and tasks one user sees, kept current by results and events."""

    def __init__(self, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self._clock = clock
        self.user: UserInfo | None = None
        self.incidents: dict[int, IncidentView] = {}
        self.tasks: dict[int, TaskView] = {}
        self._listed: dict[TaskList, set[int]] = {}
        self._timelines: dict[int, dict[int, Event]] = {}
        self._listed_rungs: frozenset[EscalationLevel] = frozenset()
        """The rungs of the tasks the server listed as escalated to this desk: the server's
        word for this user's rungs where it knows better (a local code's grid level)."""
        self.changed = Emitter[BoardChange]()
        """Every change (a reload, an incident, a task, a timeline entry)."""

    def now(self) -> dt.datetime:
        """The board's clock (tests control it)."""
        return self._clock()

    def set_user(self, user: UserInfo | None) -> None:
        """Remember who is logged in (their rungs and inbox follow from it)."""
        self.user = user

    def clear(self) -> None:
        """Forget everything (another user logs in)."""
        self.user = None
        self.incidents.clear()
        self.tasks.clear()
        self._listed.clear()
        self._timelines.clear()
        self._listed_rungs = frozenset()
        self.changed.emit(BoardChange())

    # ------------------------------------------------------------------ results

    def replace_incidents(self, incidents: Iterable[IncidentView]) -> None:
        """Hold exactly these incidents (the answer to ``incidents.list``)."""
        self.incidents = {incident.id: incident for incident in incidents}
        self.changed.emit(BoardChange())

    def replace_tasks(self, which: TaskList, tasks: Iterable[TaskView]) -> None:
        """Hold these tasks as the list ``which``: tasks that left it (and every other
        list) are forgotten, so a reload after a reconnect drops what went away."""
        views = list(tasks)
        if which is TaskList.ESCALATED:
            self._listed_rungs = frozenset(task.escalation_level for task in views)
        new_ids = {task.id for task in views}
        old_ids = self._listed.get(which, set())
        self._listed[which] = new_ids
        others = set().union(*(ids for key, ids in self._listed.items() if key != which))
        for task_id in old_ids - new_ids - others:
            self.tasks.pop(task_id, None)
        for task in views:
            self._upsert_task(task)
        self.changed.emit(BoardChange())

    def upsert_incident(self, incident: IncidentView, tasks: Iterable[TaskView] = ()) -> None:
        """Hold an incident (and its tasks) from a command's result."""
        held = self.incidents.get(incident.id)
        if held is None or incident.version >= held.version:
            self.incidents[incident.id] = incident
        for task in tasks:
            self._upsert_task(task)
        self.changed.emit(BoardChange(incident_id=incident.id))

    def upsert_task(self, task: TaskView) -> None:
        """Hold a task from a command's result."""
        self._upsert_task(task)
        self.changed.emit(BoardChange(incident_id=task.incident_id, task_id=task.id))

    def _upsert_task(self, task: TaskView) -> None:
        held = self.tasks.get(task.id)
        # A result may cross the event that reported the same change: keep the newer.
        if held is None or (task.version, task.updated_at) >= (held.version, held.updated_at):
            self.tasks[task.id] = task

    # ------------------------------------------------------------------ events

    def apply_event(self, event: Event) -> BoardChange | None:
        """Apply one event from the live stream; return what changed (None: not ours)."""
        incident = event.incident if isinstance(event.incident, IncidentView) else None
        task = event.task if isinstance(event.task, TaskView) else None
        if incident is None and task is None:
            return None
        if incident is not None:
            self.incidents[incident.id] = incident
        escalated = False
        if task is not None:
            # Events come in seq order: the newest event's view is the task as it is now.
            self.tasks[task.id] = task
            escalated = (
                event.kind == EventKind.TASK_ESCALATED
                and task_is_open(task.state)
                and task.escalation_level in self.my_rungs()
            )
        incident_id = incident_of(event)
        timeline_event: Event | None = None
        if incident_id is not None and incident_id in self._timelines:
            entries = self._timelines[incident_id]
            if event.seq not in entries:
                entries[event.seq] = event
                timeline_event = event
        change = BoardChange(
            incident_id=incident_id,
            task_id=task.id if task is not None else None,
            escalated_to_me=escalated,
            timeline_event=timeline_event,
        )
        self.changed.emit(change)
        return change

    # ------------------------------------------------------------------ timelines

    def set_timeline(self, incident_id: int, events: Iterable[Event]) -> None:
        """Hold (or extend) an incident's timeline; entries are kept once, by ``seq``."""
        entries = self._timelines.setdefault(incident_id, {})
        for event in events:
            entries[event.seq] = event
        self.changed.emit(BoardChange(incident_id=incident_id))

    def timeline(self, incident_id: int) -> list[Event] | None:
        """An incident's timeline by ``seq`` (None until loaded)."""
        entries = self._timelines.get(incident_id)
        if entries is None:
            return None
        return [entries[seq] for seq in sorted(entries)]

    def last_timeline_seq(self, incident_id: int) -> int:
        """The newest ``seq`` held of an incident's timeline (0: none), to resume after."""
        entries = self._timelines.get(incident_id)
        return max(entries, default=0) if entries else 0

    # ------------------------------------------------------------------ views

    def tasks_of(self, incident_id: int) -> list[TaskView]:
        """The tasks of an incident this user sees, oldest first."""
        return sorted(
            (task for task in self.tasks.values() if task.incident_id == incident_id),
            key=lambda task: task.id,
        )

    def in_my_inbox(self, task: TaskView) -> bool:
        """Whether ``task`` is open work of this user's desk (an agency's tasks for its
        users; every open task in scope for the others, as the server's inbox)."""
        if not task_is_open(task.state):
            return False
        agency = self.user.agency if self.user is not None else None
        return not agency or task.agency == agency

    def inbox(self) -> list[TaskView]:
        """This desk's open tasks, most urgent first."""
        now = self.now()
        return sorted(
            (task for task in self.tasks.values() if self.in_my_inbox(task)),
            key=lambda task: urgency_key(task, now),
        )

    def open_incidents(self) -> list[IncidentView]:
        """The incidents, open ones first by level (I on top) and newest first; the
        closed after them."""
        return sorted(
            self.incidents.values(),
            key=lambda incident: (
                incident.state in INCIDENT_FINAL_STATES,
                INCIDENT_LEVEL_RANK[incident.level],
                -incident.opened_at.timestamp(),
                incident.id,
            ),
        )

    def my_rungs(self) -> frozenset[EscalationLevel]:
        """The rungs whose escalations land at this desk: from the login, and those of
        the tasks the server listed as escalated here."""
        return rungs_of(self.user) | self._listed_rungs

    def escalated_to_me(self, task: TaskView) -> bool:
        """Whether an open task went up the ladder and now waits on this desk's rung."""
        return (
            task_is_open(task.state)
            and bool(task.escalations)
            and task.escalation_level in self.my_rungs()
        )

    def badge(self) -> Badge:
        """The counts of the status bar's badge."""
        now = self.now()
        open_tasks = [task for task in self.tasks.values() if task_is_open(task.state)]
        escalated = {task.id for task in open_tasks if self.escalated_to_me(task)}
        overdue = {
            task.id
            for task in open_tasks
            if self.in_my_inbox(task) and task.id not in escalated and countdown(task, now).overdue
        }
        supervised = sum(1 for task in open_tasks if open_supervisions(task))
        return Badge(overdue=len(overdue), escalated=len(escalated), supervised=supervised)

    def alarm_incident(self, alarm_id: int) -> IncidentView | None:
        """The incident an alarm belongs to, if this user sees it."""
        for incident in self.incidents.values():
            if alarm_id in incident.alarm_ids:
                return incident
        return None
