"""Human words for incidents and tasks: levels, states, actions, deadlines, rungs,
countdowns and the server's refusals, through Qt's translator (English source, Chinese in
``resources/translations``)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QCoreApplication

from desktop import texts
from desktop.incidents.state import Countdown
from realtime.incident_states import (
    Deadline,
    EscalationLevel,
    IncidentAction,
    IncidentLevel,
    IncidentState,
    TaskAction,
    TaskState,
)
from realtime.protocol import ErrorCode


def incident_level_label(level: IncidentLevel) -> str:
    """Return an incident level with its name (Ⅰ级 特别重大…)."""
    labels = {
        IncidentLevel.I: QCoreApplication.translate("Incidents", "Level I (particularly serious)"),
        IncidentLevel.II: QCoreApplication.translate("Incidents", "Level II (serious)"),
        IncidentLevel.III: QCoreApplication.translate(
            "Incidents", "Level III (relatively serious)"
        ),
        IncidentLevel.IV: QCoreApplication.translate("Incidents", "Level IV (ordinary)"),
    }
    return labels[level]


def incident_state_label(state: IncidentState) -> str:
    """Return the name of an incident state (接报, 处置中…)."""
    labels = {
        IncidentState.OPEN: QCoreApplication.translate("Incidents", "Open"),
        IncidentState.RESPONDING: QCoreApplication.translate("Incidents", "Responding"),
        IncidentState.UNDER_CONTROL: QCoreApplication.translate("Incidents", "Under control"),
        IncidentState.CLOSED: QCoreApplication.translate("Incidents", "Closed"),
    }
    return labels[state]


def incident_action_label(action: IncidentAction) -> str:
    """Return the label of an incident action button."""
    labels = {
        IncidentAction.RESPOND: QCoreApplication.translate("Incidents", "Respond"),
        IncidentAction.CONTROL: QCoreApplication.translate("Incidents", "Under control"),
        IncidentAction.FLARE_UP: QCoreApplication.translate("Incidents", "Flared up…"),
        IncidentAction.CLOSE: QCoreApplication.translate("Incidents", "Close…"),
    }
    return labels[action]


def task_state_label(state: TaskState) -> str:
    """Return the name of a task state (已下达, 已签收…)."""
    labels = {
        TaskState.SENT: QCoreApplication.translate("Incidents", "Sent"),
        TaskState.ACCEPTED: QCoreApplication.translate("Incidents", "Accepted"),
        TaskState.EN_ROUTE: QCoreApplication.translate("Incidents", "En route"),
        TaskState.ON_SCENE: QCoreApplication.translate("Incidents", "On scene"),
        TaskState.DONE: QCoreApplication.translate("Incidents", "Done"),
        TaskState.DECLINED: QCoreApplication.translate("Incidents", "Declined"),
        TaskState.RETURNED: QCoreApplication.translate("Incidents", "Returned"),
        TaskState.CANCELLED: QCoreApplication.translate("Incidents", "Cancelled"),
    }
    return labels[state]


def task_action_label(action: TaskAction) -> str:
    """Return the label of a task action button (签收, 出发…)."""
    labels = {
        TaskAction.ACCEPT: QCoreApplication.translate("Incidents", "Accept"),
        TaskAction.SET_OUT: QCoreApplication.translate("Incidents", "Set out"),
        TaskAction.ARRIVE: QCoreApplication.translate("Incidents", "Arrived"),
        TaskAction.FINISH: QCoreApplication.translate("Incidents", "Finish…"),
        TaskAction.DECLINE: QCoreApplication.translate("Incidents", "Decline…"),
        TaskAction.RETURN: QCoreApplication.translate("Incidents", "Return…"),
        TaskAction.CANCEL: QCoreApplication.translate("Incidents", "Cancel task"),
    }
    return labels[action]


def deadline_label(deadline: Deadline) -> str:
    """Return the name of a deadline (签收时限…)."""
    labels = {
        Deadline.ACCEPT: QCoreApplication.translate("Incidents", "Accept by"),
        Deadline.ARRIVE: QCoreApplication.translate("Incidents", "Arrive by"),
        Deadline.FINISH: QCoreApplication.translate("Incidents", "Finish by"),
    }
    return labels[deadline]


def rung_label(level: EscalationLevel) -> str:
    """Return the desk of an escalation rung (村/社区, 街镇…)."""
    labels = {
        EscalationLevel.VILLAGE: QCoreApplication.translate("Incidents", "Village"),
        EscalationLevel.TOWN: QCoreApplication.translate("Incidents", "Town"),
        EscalationLevel.DISTRICT: QCoreApplication.translate("Incidents", "District"),
        EscalationLevel.AGENCY_DESK: QCoreApplication.translate("Incidents", "Agency desk"),
        EscalationLevel.AGENCY_SUPERVISOR: QCoreApplication.translate(
            "Incidents", "Agency supervisor"
        ),
        EscalationLevel.COMMAND_CENTRE: QCoreApplication.translate("Incidents", "Command centre"),
    }
    return labels[level]


def countdown_text(left: Countdown) -> str:
    """``签收 还剩 4分12秒`` or ``签收 超时 3分``; empty when nothing is pending."""
    if left.deadline is None or left.left is None:
        return ""
    name = deadline_label(left.deadline)
    seconds = left.left.total_seconds()
    if seconds < 0:
        return QCoreApplication.translate("Incidents", "{deadline}: overdue {duration}").format(
            deadline=name, duration=texts.format_duration(-seconds)
        )
    return QCoreApplication.translate("Incidents", "{deadline}: {duration} left").format(
        deadline=name, duration=texts.format_duration(seconds)
    )


def refusal_text(code: str, message: str) -> str:
    """A refused incident or task command in the officer's words (with the server's)."""
    summaries: dict[str, str] = {
        ErrorCode.STALE_VERSION: QCoreApplication.translate(
            "Incidents", "Someone changed it meanwhile; it was reloaded. Decide again."
        ),
        ErrorCode.ILLEGAL_TRANSITION: QCoreApplication.translate(
            "Incidents", "Not possible in its current state."
        ),
        ErrorCode.NOT_FOUND: QCoreApplication.translate(
            "Incidents", "Not found, or not in your area."
        ),
        ErrorCode.FORBIDDEN: QCoreApplication.translate("Incidents", "You may not do this here."),
        ErrorCode.VALIDATION: QCoreApplication.translate(
            "Incidents", "The server did not accept the input."
        ),
    }
    summary = summaries.get(code) or texts.error_summary(code)
    return f"{summary} ({message})" if message else summary


def format_moment(moment: dt.datetime | None) -> str:
    """A time as local wall-clock time, or a dash."""
    return texts.format_time(moment) if moment is not None else "—"
