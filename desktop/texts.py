"""Human words for wire values (levels, states, actions, alarm types, error codes).

Everything goes through Qt's translator at call time, so the words follow the language
the console was started in. Source strings are English; ``resources/translations``
holds the Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping

from PySide6.QtCore import QCoreApplication

from desktop.alarm_types import MANUAL_ALARM_TYPES as MANUAL_ALARM_TYPES  # noqa: PLC0414
from desktop.alarm_types import alarm_type_label as alarm_type_label  # noqa: PLC0414
from desktop.service import LocalErrorCode
from realtime.client import Refusal
from realtime.event_kinds import EventKind
from realtime.protocol import ContactField, ErrorCode, Role, SessionEndReason
from realtime.states import AlarmAction, AlarmLevel, AlarmState

DISPLAY_TIMEZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
"""Times are stored in UTC and shown in this zone."""


def level_label(level: AlarmLevel) -> str:
    """Return the name of an alarm level (红色, 橙色…)."""
    labels = {
        AlarmLevel.RED: QCoreApplication.translate("Labels", "Red"),
        AlarmLevel.ORANGE: QCoreApplication.translate("Labels", "Orange"),
        AlarmLevel.YELLOW: QCoreApplication.translate("Labels", "Yellow"),
        AlarmLevel.BLUE: QCoreApplication.translate("Labels", "Blue"),
    }
    return labels[level]


def state_label(state: AlarmState) -> str:
    """Return the name of an alarm state (待接警, 已派警…)."""
    labels = {
        AlarmState.NEW: QCoreApplication.translate("Labels", "New"),
        AlarmState.ACKNOWLEDGED: QCoreApplication.translate("Labels", "Acknowledged"),
        AlarmState.DISPATCHED: QCoreApplication.translate("Labels", "Dispatched"),
        AlarmState.HANDLING: QCoreApplication.translate("Labels", "Handling"),
        AlarmState.RESOLVED: QCoreApplication.translate("Labels", "Resolved"),
        AlarmState.CLOSED: QCoreApplication.translate("Labels", "Closed"),
        AlarmState.FALSE_ALARM: QCoreApplication.translate("Labels", "False alarm"),
        AlarmState.MERGED: QCoreApplication.translate("Labels", "Merged"),
    }
    return labels[state]


def action_label(action: AlarmAction) -> str:
    """Return the label of an action button (接警, 派警…)."""
    labels = {
        AlarmAction.ACKNOWLEDGE: QCoreApplication.translate("Labels", "Acknowledge"),
        AlarmAction.DISPATCH: QCoreApplication.translate("Labels", "Dispatch…"),
        AlarmAction.START_HANDLING: QCoreApplication.translate("Labels", "Start handling"),
        AlarmAction.RESOLVE: QCoreApplication.translate("Labels", "Resolve…"),
        AlarmAction.REOPEN: QCoreApplication.translate("Labels", "Reopen…"),
        AlarmAction.CLOSE: QCoreApplication.translate("Labels", "Close"),
        AlarmAction.MARK_FALSE: QCoreApplication.translate("Labels", "Mark false…"),
        AlarmAction.MERGE: QCoreApplication.translate("Labels", "Merge…"),
    }
    return labels[action]


def role_label(role: str) -> str:
    """Return the name of a user role."""
    labels: dict[str, str] = {
        Role.OFFICER: QCoreApplication.translate("Labels", "Duty officer"),
        Role.SUPERVISOR: QCoreApplication.translate("Labels", "Supervisor"),
        Role.AGENCY: QCoreApplication.translate("Labels", "Agency desk"),
        Role.VIEWER: QCoreApplication.translate("Labels", "Viewer (read only)"),
        Role.ADMIN: QCoreApplication.translate("Labels", "Administrator"),
        Role.TRAINER: QCoreApplication.translate("Labels", "Trainer"),
        Role.ENTERPRISE: QCoreApplication.translate("Labels", "Enterprise"),
    }
    return labels.get(role, role)


_AGENCY_NAMES: dict[str, str] = {}
"""The server's names of its agencies (``agencies.list``), for codes shipped labels lack."""


def set_agency_names(names: Mapping[str, str]) -> None:
    """Take the server's agency names (code → Chinese name) for :func:`agency_label`."""
    _AGENCY_NAMES.clear()
    _AGENCY_NAMES.update(names)


def agency_label(agency: str) -> str:
    """Return the name of an agency code (fire, police…): the shipped label, else the
    server's name of it, else the code as it is."""
    labels = {
        "emergency": QCoreApplication.translate("Labels", "Emergency management"),
        "health": QCoreApplication.translate("Labels", "Health / 120"),
        "housing": QCoreApplication.translate("Labels", "Housing and construction"),
        "weather": QCoreApplication.translate("Labels", "Meteorology"),
        "fire": QCoreApplication.translate("Labels", "Fire and rescue"),
        "police": QCoreApplication.translate("Labels", "Police"),
        "medical": QCoreApplication.translate("Labels", "Medical"),
        "environment": QCoreApplication.translate("Labels", "Environment"),
        "transport": QCoreApplication.translate("Labels", "Transport"),
        "safety": QCoreApplication.translate("Labels", "Safety supervision"),
        "grid": QCoreApplication.translate("Labels", "Grid"),
    }
    return labels.get(agency) or _AGENCY_NAMES.get(agency) or agency


def sensor_kind_label(kind: str) -> str:
    """Return what a sensor measures (ch4, co…); unknown kinds are shown as they are."""
    labels = {
        "ch4": QCoreApplication.translate("Labels", "Methane"),
        "co": QCoreApplication.translate("Labels", "Carbon monoxide"),
        "h2s": QCoreApplication.translate("Labels", "Hydrogen sulphide"),
        "temperature": QCoreApplication.translate("Labels", "Temperature"),
        "pressure": QCoreApplication.translate("Labels", "Pressure"),
        "liquid_level": QCoreApplication.translate("Labels", "Liquid level"),
    }
    return labels.get(kind, kind)


def source_label(source: str) -> str:
    """Return how an alarm came in (manual entry or a device)."""
    labels = {
        "manual": QCoreApplication.translate("Labels", "Phone report"),
        "device": QCoreApplication.translate("Labels", "Device"),
    }
    return labels.get(source, source)


def contact_field_label(field: ContactField) -> str:
    """Return the name of a protected personal field of an alarm."""
    labels = {
        ContactField.CALLER_NAME: QCoreApplication.translate("Labels", "Caller's name"),
        ContactField.CALLER_PHONE: QCoreApplication.translate("Labels", "Caller's phone"),
        ContactField.CALLER_ADDRESS: QCoreApplication.translate("Labels", "Caller's address"),
        ContactField.SENSITIVE_NOTE: QCoreApplication.translate("Labels", "Sensitive note"),
    }
    return labels[field]


def event_kind_label(kind: str) -> str:
    """Return what an event-log entry records; unknown kinds are shown as they are."""
    labels: dict[str, str] = {
        EventKind.ALARM_RAISED: QCoreApplication.translate("Labels", "Alarm raised"),
        EventKind.ALARM_REPEATED: QCoreApplication.translate("Labels", "Alarm repeated"),
        EventKind.ALARM_LEVEL_CHANGED: QCoreApplication.translate("Labels", "Alarm level changed"),
        EventKind.ALARM_RESTORED: QCoreApplication.translate("Labels", "Alarm restored"),
        EventKind.ALARM_TRANSITIONED: QCoreApplication.translate("Labels", "Alarm changed"),
        EventKind.ALARM_DISPATCHED: QCoreApplication.translate("Labels", "Units dispatched"),
        EventKind.ALARM_MERGED_IN: QCoreApplication.translate("Labels", "Alarm merged in"),
        EventKind.CONTACT_REVEALED: QCoreApplication.translate("Labels", "Personal data viewed"),
        EventKind.CONTACT_REVEAL_REFUSED: QCoreApplication.translate(
            "Labels", "Too many personal data views refused"
        ),
        EventKind.DEVICE_ONLINE: QCoreApplication.translate("Labels", "Device online"),
        EventKind.DEVICE_OFFLINE: QCoreApplication.translate("Labels", "Device offline"),
        EventKind.DEVICE_ADDED: QCoreApplication.translate("Labels", "Device registered"),
        EventKind.DEVICE_REMOVED: QCoreApplication.translate("Labels", "Device removed"),
        EventKind.GEOFENCE_SAVED: QCoreApplication.translate("Labels", "Geofence saved"),
        EventKind.GEOFENCE_DELETED: QCoreApplication.translate("Labels", "Geofence deleted"),
        EventKind.ALARM_SHARED: QCoreApplication.translate("Labels", "Alarm shared"),
        EventKind.ALARM_UNSHARED: QCoreApplication.translate("Labels", "Alarm share revoked"),
        EventKind.CAMERA_SHARED: QCoreApplication.translate("Labels", "Camera shared"),
        EventKind.CAMERA_UNSHARED: QCoreApplication.translate("Labels", "Camera share revoked"),
        EventKind.JURISDICTIONS_IMPORTED: QCoreApplication.translate(
            "Labels", "Jurisdictions imported"
        ),
        EventKind.INCIDENT_OPENED: QCoreApplication.translate("Labels", "Incident opened"),
        EventKind.INCIDENT_ALARM_ATTACHED: QCoreApplication.translate(
            "Labels", "Alarm attached to incident"
        ),
        EventKind.INCIDENT_CHANGED: QCoreApplication.translate("Labels", "Incident changed"),
        EventKind.TASK_SENT: QCoreApplication.translate("Labels", "Task sent"),
        EventKind.TASK_CHANGED: QCoreApplication.translate("Labels", "Task changed"),
        EventKind.TASK_ESCALATED: QCoreApplication.translate("Labels", "Task escalated"),
        EventKind.TASK_SUPERVISED: QCoreApplication.translate("Labels", "Task under supervision"),
        EventKind.TASK_SUPERVISION_ANSWERED: QCoreApplication.translate(
            "Labels", "Supervision answered"
        ),
        EventKind.INCIDENT_MESSAGE: QCoreApplication.translate("Labels", "Message"),
        EventKind.INCIDENT_MESSAGE_READ: QCoreApplication.translate("Labels", "Messages read"),
        EventKind.HANDOVER_SIGNED: QCoreApplication.translate("Labels", "Shift handed over"),
        EventKind.HANDOVER_ACCEPTED: QCoreApplication.translate("Labels", "Shift taken over"),
        EventKind.REGISTRY_CHANGED: QCoreApplication.translate("Labels", "Registry item changed"),
        EventKind.REGISTRY_CONTACT_REVEALED: QCoreApplication.translate(
            "Labels", "Registry contacts viewed"
        ),
        EventKind.REGISTRY_IMPORTED: QCoreApplication.translate("Labels", "Registry imported"),
        EventKind.EXERCISE_STARTED: QCoreApplication.translate("Labels", "Exercise started"),
        EventKind.EXERCISE_CHANGED: QCoreApplication.translate("Labels", "Exercise changed"),
        EventKind.EXERCISE_INJECTED: QCoreApplication.translate(
            "Labels", "Exercise event injected"
        ),
        EventKind.EXERCISE_ENDED: QCoreApplication.translate("Labels", "Exercise ended"),
        EventKind.RECORDING_MADE: QCoreApplication.translate("Labels", "Recording made"),
        EventKind.CHECKLIST_TICKED: QCoreApplication.translate("Labels", "Plan step ticked"),
        EventKind.WARNING_RAISED: QCoreApplication.translate("Labels", "Early warning raised"),
        EventKind.WARNING_CHANGED: QCoreApplication.translate("Labels", "Early warning changed"),
        EventKind.WARNING_ENDED: QCoreApplication.translate("Labels", "Early warning ended"),
        EventKind.WEATHER_IMPORTED: QCoreApplication.translate(
            "Labels", "Weather warning imported"
        ),
        EventKind.NOTICE_SAVED: QCoreApplication.translate("Labels", "Notice drafted"),
        EventKind.NOTICE_SUBMITTED: QCoreApplication.translate(
            "Labels", "Notice submitted for approval"
        ),
        EventKind.NOTICE_REJECTED: QCoreApplication.translate("Labels", "Notice sent back"),
        EventKind.NOTICE_PUBLISHED: QCoreApplication.translate("Labels", "Notice published"),
        EventKind.NOTICE_CANCELLED: QCoreApplication.translate("Labels", "Notice withdrawn"),
        EventKind.NOTICE_DELIVERY: QCoreApplication.translate("Labels", "Notice delivery"),
        EventKind.DANGER_REPORTED: QCoreApplication.translate("Labels", "Hidden danger reported"),
        EventKind.DANGER_CHANGED: QCoreApplication.translate("Labels", "Hidden danger changed"),
        EventKind.DANGER_OVERDUE: QCoreApplication.translate("Labels", "Hidden danger overdue"),
        EventKind.DANGER_ESCALATED: QCoreApplication.translate("Labels", "Hidden danger escalated"),
        EventKind.INSPECTION_RECORDED: QCoreApplication.translate("Labels", "Inspection recorded"),
        EventKind.VEHICLE_COMMAND: QCoreApplication.translate("Labels", "Vehicle command"),
    }
    return labels.get(kind, kind)


def error_summary(code: str) -> str:
    """Return what a failed command's error code means for the officer."""
    summaries: dict[str, str] = {
        ErrorCode.STALE_VERSION: QCoreApplication.translate(
            "Labels",
            "Someone else changed this alarm meanwhile. Check its current state and decide again.",
        ),
        ErrorCode.ILLEGAL_TRANSITION: QCoreApplication.translate(
            "Labels", "This action is not allowed in the alarm's current state."
        ),
        ErrorCode.FORBIDDEN: QCoreApplication.translate("Labels", "Your role does not allow this."),
        ErrorCode.UNAUTHORIZED: QCoreApplication.translate(
            "Labels", "You are not logged in, or your session has ended."
        ),
        ErrorCode.NOT_FOUND: QCoreApplication.translate(
            "Labels", "The alarm or unit was not found."
        ),
        ErrorCode.VALIDATION: QCoreApplication.translate(
            "Labels", "The server did not accept the input."
        ),
        ErrorCode.BAD_MESSAGE: QCoreApplication.translate(
            "Labels", "The server could not read the command."
        ),
        ErrorCode.RATE_LIMITED: QCoreApplication.translate(
            "Labels", "Too many commands in a short time; wait a moment and try again."
        ),
        ErrorCode.INTERNAL: QCoreApplication.translate(
            "Labels", "The server failed to carry out the command."
        ),
        LocalErrorCode.OUTBOX_FULL: QCoreApplication.translate(
            "Labels", "Too many commands are waiting for the connection; try again later."
        ),
        LocalErrorCode.TIMEOUT: QCoreApplication.translate(
            "Labels", "The command got no answer in time and was not carried out."
        ),
        LocalErrorCode.NOT_CONNECTED: QCoreApplication.translate(
            "Labels", "Not logged in to a server."
        ),
    }
    return summaries.get(code, QCoreApplication.translate("Labels", "The command failed."))


def format_duration(seconds: float) -> str:
    """Return a compact duration: ``45秒``, ``3分12秒``, ``2小时05分``."""
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return QCoreApplication.translate("Labels", "{hours} h {minutes:02d} min").format(
            hours=hours, minutes=minutes
        )
    if minutes:
        return QCoreApplication.translate("Labels", "{minutes} min {seconds} s").format(
            minutes=minutes, seconds=secs
        )
    return QCoreApplication.translate("Labels", "{seconds} s").format(seconds=secs)


def format_time(moment: dt.datetime) -> str:
    """Return a stored UTC time as local wall-clock time."""
    return moment.astimezone(DISPLAY_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


def session_end_label(reason: str) -> str:
    """Why the server ended the session (the close reason), as the officer reads it."""
    labels = {
        SessionEndReason.PASSWORD_CHANGED: QCoreApplication.translate(
            "Labels", "your password was changed"
        ),
        SessionEndReason.ACCOUNT_CHANGED: QCoreApplication.translate(
            "Labels", "your role, agency or jurisdiction was changed"
        ),
        SessionEndReason.DISABLED: QCoreApplication.translate(
            "Labels", "your account was disabled"
        ),
        SessionEndReason.LOGGED_OUT: QCoreApplication.translate(
            "Labels", "an administrator logged you out"
        ),
        SessionEndReason.SECOND_FACTOR_CHANGED: QCoreApplication.translate(
            "Labels", "your second factor was changed"
        ),
        SessionEndReason.UNLOCK_FAILED: QCoreApplication.translate(
            "Labels", "too many wrong passwords on the lock screen"
        ),
        SessionEndReason.EXPIRED: QCoreApplication.translate("Labels", "the session expired"),
        SessionEndReason.CLOSED: QCoreApplication.translate("Labels", "the session was closed"),
    }
    try:
        return labels[SessionEndReason(reason)]
    except ValueError:
        return reason


def unlock_refusal(code: str, message: str) -> str:
    """Why the lock screen did not open (the server's answer to ``session.unlock``)."""
    tries = re.search(r"\((\d+) tries left\)", message)
    if "second factor" in message:
        return QCoreApplication.translate(
            "Labels", "The verification code is missing, wrong or was used already."
        )
    if tries is not None:
        return QCoreApplication.translate(
            "Labels", "Wrong password ({tries} tries left before the session ends)."
        ).format(tries=tries.group(1))
    if code == ErrorCode.UNAUTHORIZED:
        return QCoreApplication.translate("Labels", "Wrong password.")
    return error_summary(code)


def refusal_text(refusal: Refusal) -> str:
    """What a handshake the server turned away before checking the login means for the
    officer (the password was not judged)."""
    wait = (
        QCoreApplication.translate("Labels", " Try again in {seconds} s.").format(
            seconds=f"{refusal.retry_after:g}"
        )
        if refusal.retry_after is not None
        else ""
    )
    if refusal.status == 429:
        return (
            QCoreApplication.translate(
                "Labels",
                "Too many failed logins from this computer or for this user; the server "
                "refuses logins for a while.",
            )
            + wait
        )
    if refusal.status == 503:
        return (
            QCoreApplication.translate(
                "Labels",
                "The server is busy or its database is unavailable; the login was not checked.",
            )
            + wait
        )
    return QCoreApplication.translate(
        "Labels", "The server refused the connection (HTTP {status})."
    ).format(status=refusal.status)
