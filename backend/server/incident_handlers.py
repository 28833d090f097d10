"""What each incident and task command does (``incident.*``, ``incidents.list``,
``task.*``, ``tasks.list``): one small function per command, named in the command table
(:mod:`backend.server.commands`), which has already checked the role's permission.

The incident service (:class:`backend.incidents.service.IncidentService`) applies the
scope rules :attr:`~backend.authz.policy.Scope.INCIDENT` and
:attr:`~backend.authz.policy.Scope.TASK` to every object it reads or changes; an incident
or task outside the user's scope is refused exactly like a missing one. An incident comes
back with the tasks the user may see (an agency desk: its own).
"""

from __future__ import annotations

from backend.authz import incidents as incident_scope
from backend.errors import ValidationError
from backend.incidents.service import IncidentService
from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    ActOnTask,
    AnswerSupervision,
    AttachAlarm,
    ChangeIncident,
    GetIncident,
    GetIncidentTimeline,
    IncidentResult,
    IncidentsResult,
    IncidentView,
    ListIncidents,
    ListTasks,
    OpenIncident,
    SendTask,
    SetTaskDeadlines,
    SuperviseTask,
    TaskList,
    TaskResult,
    TasksResult,
    TimelineResult,
    TransitionIncident,
)


def _service(ctx: ConsoleContext) -> IncidentService:
    return ctx.server.incidents


async def _with_tasks(ctx: ConsoleContext, incident: IncidentView) -> IncidentResult:
    tasks = await _service(ctx).tasks_of(ctx.principal, incident.id)
    return IncidentResult(incident=incident, tasks=tasks)


# ---------------------------------------------------------------------------- incidents


async def open_incident(ctx: ConsoleContext, command: OpenIncident) -> IncidentResult:
    """Open an incident, or raise one from an alarm (立案)."""
    incident = await _service(ctx).open_incident(
        ctx.principal,
        type_code=command.type_code,
        title=command.title,
        description=command.description,
        place=command.place,
        lat=command.lat,
        lon=command.lon,
        jurisdiction=command.jurisdiction,
        level=command.level,
        commander=command.commander,
        alarm_id=command.alarm_id,
    )
    return IncidentResult(incident=incident)


async def attach_alarm(ctx: ConsoleContext, command: AttachAlarm) -> IncidentResult:
    """Attach an alarm to an open incident (并案)."""
    incident = await _service(ctx).attach_alarm(
        ctx.principal, command.incident_id, command.alarm_id, command.expected_version
    )
    return await _with_tasks(ctx, incident)


async def transition_incident(ctx: ConsoleContext, command: TransitionIncident) -> IncidentResult:
    """Move an incident along its life (close: with the feedback to the reporter)."""
    incident = await _service(ctx).transition(
        ctx.principal, command.incident_id, command.action, command.expected_version, command.note
    )
    return await _with_tasks(ctx, incident)


async def change_incident(ctx: ConsoleContext, command: ChangeIncident) -> IncidentResult:
    """Change an open incident's level, commander or type."""
    incident = await _service(ctx).change(
        ctx.principal,
        command.incident_id,
        command.expected_version,
        level=command.level,
        commander=command.commander,
        type_code=command.type_code,
        note=command.note,
    )
    return await _with_tasks(ctx, incident)


async def get_incident(ctx: ConsoleContext, command: GetIncident) -> IncidentResult:
    """One incident with the tasks the user may see."""
    incident = await _service(ctx).get_incident(ctx.principal, command.incident_id)
    return await _with_tasks(ctx, incident)


async def incident_timeline(ctx: ConsoleContext, command: GetIncidentTimeline) -> TimelineResult:
    """The incident's events the user may see (as the live stream filters them), by seq."""
    events = await _service(ctx).timeline(ctx.principal, command.incident_id)
    return TimelineResult(
        incident_id=command.incident_id,
        events=[event for event in events if event.seq > command.after_seq],
    )


async def list_incidents(ctx: ConsoleContext, command: ListIncidents) -> IncidentsResult:
    """The open (and recently closed) incidents the user may see."""
    return IncidentsResult(incidents=await _service(ctx).list_incidents(ctx.principal))


# ---------------------------------------------------------------------------- tasks


async def send_task(ctx: ConsoleContext, command: SendTask) -> TaskResult:
    """Send a task to an agency, a unit or a grid level (派单)."""
    task = await _service(ctx).send_task(
        ctx.principal,
        command.incident_id,
        assignee_kind=command.assignee_kind,
        assignee_ref=command.assignee_ref,
        instructions=command.instructions,
        deadlines=command.deadline_minutes,
    )
    return TaskResult(task=task)


async def act_on_task(ctx: ConsoleContext, command: ActOnTask) -> TaskResult:
    """Take one step of a task; a grid level's return names the task sent one level up
    (when the user may see it)."""
    task, sent_on = await _service(ctx).take_step(
        ctx.principal, command.task_id, command.action, command.expected_version, command.note
    )
    if sent_on is not None and not incident_scope.can_see_task(ctx.principal, sent_on):
        sent_on = None
    return TaskResult(task=task, sent_on=sent_on)


async def set_task_deadlines(ctx: ConsoleContext, command: SetTaskDeadlines) -> TaskResult:
    """Move a task's deadlines (延期/调整)."""
    task = await _service(ctx).set_deadlines(
        ctx.principal, command.task_id, command.expected_version, command.deadlines, command.note
    )
    return TaskResult(task=task)


async def supervise_task(ctx: ConsoleContext, command: SuperviseTask) -> TaskResult:
    """Flag a task for supervision (督办)."""
    task = await _service(ctx).supervise(
        ctx.principal, command.task_id, command.note, command.due_at
    )
    return TaskResult(task=task)


async def answer_supervision(ctx: ConsoleContext, command: AnswerSupervision) -> TaskResult:
    """Answer a supervision flag (once)."""
    task = await _service(ctx).answer_supervision(
        ctx.principal, command.supervision_id, command.answer
    )
    return TaskResult(task=task)


async def list_tasks(ctx: ConsoleContext, command: ListTasks) -> TasksResult:
    """The inbox, the tasks escalated to the user, the supervised ones, or an incident's."""
    service, principal = _service(ctx), ctx.principal
    if command.which is TaskList.INBOX:
        tasks = await service.inbox(principal)
    elif command.which is TaskList.ESCALATED:
        tasks = await service.escalated_to(principal)
    elif command.which is TaskList.SUPERVISED:
        tasks = await service.open_supervisions(principal)
    else:
        if command.incident_id is None:
            raise ValidationError("say which incident's tasks (incident_id)")
        tasks = await service.tasks_of(principal, command.incident_id)
    return TasksResult(which=command.which, tasks=tasks)
