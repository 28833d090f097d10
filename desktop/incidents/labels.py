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


def _t(text: str) -> str:
    return QCoreApplication.translate("Incidents", text)


def incident_level_label(level: IncidentLevel) -> str:
    """Return an incident level with its name (Ⅰ级 特别重大…)."""
    labels = {
        IncidentLevel.I: _t("Level I (particularly serious)"),
        IncidentLevel.II: _t("Level II (serious)"),
        IncidentLevel.III: _t("Level III (relatively serious)"),
        IncidentLevel.IV: _t("Level IV (ordinary)"),
    }
    return labels[level]


def incident_state_label(state: IncidentState) -> str:
    """Return the name of an incident state (接报, 处置中…)."""
    labels = {
        IncidentState.OPEN: _t("Open"),
        IncidentState.RESPONDING: _t("Responding"),
        IncidentState.UNDER_CONTROL: _t("Under control"),
        IncidentState.CLOSED: _t("Closed"),
    }
    return labels[state]


def incident_action_label(action: IncidentAction) -> str:
    """Return the label of an incident action button."""
    labels = {
        IncidentAction.RESPOND: _t("Respond"),
        IncidentAction.CONTROL: _t("Under control"),
        IncidentAction.FLARE_UP: _t("Flared up…"),
        IncidentAction.CLOSE: _t("Close…"),
    }
    return labels[action]


def task_state_label(state: TaskState) -> str:
    """Return the name of a task state (已下达, 已签收…)."""
    labels = {
        TaskState.SENT: _t("Sent"),
        TaskState.ACCEPTED: _t("Accepted"),
        TaskState.EN_ROUTE: _t("En route"),
        TaskState.ON_SCENE: _t("On scene"),
        TaskState.DONE: _t("Done"),
        TaskState.DECLINED: _t("Declined"),
        TaskState.RETURNED: _t("Returned"),
        TaskState.CANCELLED: _t("Cancelled"),
    }
    return labels[state]


def task_action_label(action: TaskAction) -> str:
    """Return the label of a task action button (签收, 出发…)."""
    labels = {
        TaskAction.ACCEPT: _t("Accept"),
        TaskAction.SET_OUT: _t("Set out"),
        TaskAction.ARRIVE: _t("Arrived"),
        TaskAction.FINISH: _t("Finish…"),
        TaskAction.DECLINE: _t("Decline…"),
        TaskAction.RETURN: _t("Return…"),
        TaskAction.CANCEL: _t("Cancel task"),
    }
    return labels[action]


def deadline_label(deadline: Deadline) -> str:
    """Return the name of a deadline (签收时限…)."""
    labels = {
        Deadline.ACCEPT: _t("Accept by"),
        Deadline.ARRIVE: _t("Arrive by"),
        Deadline.FINISH: _t("Finish by"),
    }
    return labels[deadline]


def rung_label(level: EscalationLevel) -> str:
    """Return the desk of an escalation rung (村/社区, 街镇…)."""
    labels = {
        EscalationLevel.VILLAGE: _t("Village"),
        EscalationLevel.TOWN: _t("Town"),
        EscalationLevel.DISTRICT: _t("District"),
        EscalationLevel.AGENCY_DESK: _t("Agency desk"),
        EscalationLevel.AGENCY_SUPERVISOR: _t("Agency supervisor"),
        EscalationLevel.COMMAND_CENTRE: _t("Command centre"),
    }
    return labels[level]


def countdown_text(left: Countdown) -> str:
    """``签收 还剩 4分12秒`` or ``签收 超时 3分``; empty when nothing is pending."""
    if left.deadline is None or left.left is None:
        return ""
    name = deadline_label(left.deadline)
    seconds = left.left.total_seconds()
    if seconds < 0:
        return _t("{deadline}: overdue {duration}").format(
            deadline=name, duration=texts.format_duration(-seconds)
        )
    return _t("{deadline}: {duration} left").format(
        deadline=name, duration=texts.format_duration(seconds)
    )


def refusal_text(code: str, message: str) -> str:
    """A refused incident or task command in the officer's words (with the server's)."""
    summaries: dict[str, str] = {
        ErrorCode.STALE_VERSION: _t("Someone changed it meanwhile; it was reloaded. Decide again."),
        ErrorCode.ILLEGAL_TRANSITION: _t("Not possible in its current state."),
        ErrorCode.NOT_FOUND: _t("Not found, or not in your area."),
        ErrorCode.FORBIDDEN: _t("You may not do this here."),
        ErrorCode.VALIDATION: _t("The server did not accept the input."),
    }
    summary = summaries.get(code) or texts.error_summary(code)
    return f"{summary} ({message})" if message else summary


def format_moment(moment: dt.datetime | None) -> str:
    """A time as local wall-clock time, or a dash."""
    return texts.format_time(moment) if moment is not None else "—"
