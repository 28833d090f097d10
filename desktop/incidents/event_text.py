"""Incident, task and chat events in the officer's words, for the event log.

The server's ``note`` on these events is partly its own English summary ("accept deadline
… passed (sent): agency_desk → agency_supervisor", "raised from alarm #3"); the views the
event carries say the same in structured form, so the console writes the line itself, in
its language, and shows a note only where a person wrote it (a reason, a result, the
feedback, an answer).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from desktop.incidents import labels
from realtime.event_kinds import EventKind
from realtime.incident_states import DEADLINE_CAUSE, EscalationCause
from realtime.protocol import ChecklistView, Event, IncidentView, MessageView, TaskView

MESSAGE_PREVIEW_CHARS = 60
"""How much of a chat message the event log shows."""

_DEADLINE_OF_CAUSE = {cause: deadline for deadline, cause in DEADLINE_CAUSE.items()}


def incident_event_text(event: Event) -> str | None:
    """The subject and what happened, for an incident, task or chat event; ``None`` for
    any other event (the log then shows it as before)."""
    if isinstance(event.message, MessageView):
        return _message_text(event.message)
    if isinstance(event.task, TaskView):
        return _task_text(event.kind, event.task)
    if isinstance(event.checklist, ChecklistView) and isinstance(event.incident, IncidentView):
        return _checklist_text(event, event.incident, event.checklist)
    if isinstance(event.incident, IncidentView):
        return _incident_text(event.kind, event.incident)
    return None


def _incident_subject(incident: IncidentView) -> str:
    return QCoreApplication.translate("EventText", "incident #{id} {title}").format(
        id=incident.id, title=incident.title
    )


def _task_subject(task: TaskView) -> str:
    return QCoreApplication.translate(
        "EventText", "task #{id} ({assignee}) of incident #{incident}"
    ).format(
        id=task.id, assignee=task.assignee_name or task.assignee_ref, incident=task.incident_id
    )


def _incident_text(kind: str, incident: IncidentView) -> str:
    subject = _incident_subject(incident)
    state = labels.incident_state_label(incident.state)
    if kind == EventKind.INCIDENT_OPENED:
        level = labels.incident_level_label(incident.level)
        return " · ".join((subject, incident.type_name or incident.type_code, level))
    if kind == EventKind.INCIDENT_ALARM_ATTACHED:
        alarms = "、".join(f"#{alarm_id}" for alarm_id in incident.alarm_ids)
        attached = QCoreApplication.translate("EventText", "alarms {alarms}").format(alarms=alarms)
        return " · ".join((subject, attached))
    # incident.changed: its state (and the feedback or note a person gave).
    return " · ".join(part for part in (subject, state, incident.last_note) if part)


def _checklist_text(event: Event, incident: IncidentView, checklist: ChecklistView) -> str:
    step_id = event.fields[0] if event.fields else ""
    step = next((s for s in checklist.steps if s.id == step_id), None)
    if step is None:
        what = QCoreApplication.translate("EventText", "plan {plan}").format(
            plan=checklist.plan_name
        )
    elif step.done:
        what = QCoreApplication.translate("EventText", "plan {plan}: ticked {step}").format(
            plan=checklist.plan_name, step=step.text
        )
    else:
        what = QCoreApplication.translate("EventText", "plan {plan}: unticked {step}").format(
            plan=checklist.plan_name, step=step.text
        )
    return " · ".join(part for part in (_incident_subject(incident), what, event.note) if part)


def _task_text(kind: str, task: TaskView) -> str:
    subject = _task_subject(task)
    state = labels.task_state_label(task.state)
    if kind == EventKind.TASK_ESCALATED and task.escalations:
        step = task.escalations[-1]
        if step.cause is EscalationCause.RETURNED:
            why = QCoreApplication.translate("EventText", "returned")
        else:
            why = QCoreApplication.translate("EventText", "{deadline} missed").format(
                deadline=labels.deadline_label(_DEADLINE_OF_CAUSE[step.cause])
            )
        rungs = f"{labels.rung_label(step.from_level)} → {labels.rung_label(step.to_level)}"
        return " · ".join((subject, why, rungs))
    if (
        kind in (EventKind.TASK_SUPERVISED, EventKind.TASK_SUPERVISION_ANSWERED)
        and task.supervisions
    ):
        flag = task.supervisions[-1]
        said = flag.answer if kind == EventKind.TASK_SUPERVISION_ANSWERED else flag.note
        return " · ".join(part for part in (subject, said) if part)
    # task.sent and task.changed: where it stands, and the person's note of the last step.
    note = task.last_note if task.last_action is not None else ""
    return " · ".join(part for part in (subject, state, note) if part)


def _message_text(message: MessageView) -> str:
    text = message.text
    if len(text) > MESSAGE_PREVIEW_CHARS:
        text = text[: MESSAGE_PREVIEW_CHARS - 1] + "…"
    files = (
        QCoreApplication.translate("EventText", "{count} attachment(s)").format(
            count=len(message.attachments)
        )
        if message.attachments
        else ""
    )
    subject = QCoreApplication.translate("EventText", "incident #{id}").format(
        id=message.incident_id
    )
    return " · ".join(part for part in (subject, text, files) if part)
