"""Authorization: which role may do what, and who may see which object.

One permission table (:data:`PERMISSIONS`) says which roles may use each capability of
the system; the server's command table names one :class:`Permission` per command, the
fan-out asks :func:`allows` before it queues telemetry, and the services ask the scope
checks below (jurisdiction and agency) for every object they read or change. The
desktop's greyed-out buttons are a courtesy, never the control.
"""

from __future__ import annotations

import enum

from backend.authz.principal import Principal
from backend.errors import ForbiddenError
from realtime.protocol import AlarmView, Role
from realtime.states import AlarmAction

__all__ = [
    "PERMISSIONS",
    "ForbiddenError",
    "Permission",
    "allows",
    "can_see",
    "can_see_camera",
    "check",
    "check_action",
    "check_console",
    "check_create_alarm",
    "check_device",
    "check_reveal_contact",
    "in_jurisdiction",
]

COMMAND_CENTRE = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
"""The duty officers' roles: they see the whole of their area and run the response."""
CONSOLE_ROLES = frozenset(Role) - {Role.DEVICE}
"""Every role that may open a console (what each then sees is scoped)."""
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


class Permission(enum.Enum):
    """A capability; its value is the phrase that completes "role X may not …"."""

    OPEN_CONSOLE = "open a console; use the device endpoint"
    FEED_DEVICES = "send device messages"
    ENTER_ALARMS = "enter alarms"
    WORK_ALARMS = "act on alarms"
    DISPATCH_UNITS = "dispatch units"
    SEE_ALARM_HISTORY = "read alarm histories"
    REVEAL_CONTACT = "see callers' contact details"
    SEE_UNITS = "see units"
    SEE_CAMERAS = "see cameras"
    SUBSCRIBE = "subscribe to the live stream"
    RECEIVE_TELEMETRY = "receive vehicle positions, sensor readings and device changes"
    SEE_DEVICES = "see the device registry"
    SEND_TEXT = "send texts to vehicles"
    READ_SENSOR_HISTORY = "read sensor history"
    SEE_SENSORS = "see the sensor registry"
    REPLAY_TRACKS = "replay vehicle tracks"
    SEE_GEOFENCES = "see geofences"
    EDIT_GEOFENCES = "edit geofences"
    DELETE_GEOFENCES = "delete geofences"
    PING = "ping the server"
    UNLOCK_SESSION = "unlock their locked console"
    SEE_SESSIONS = "see who is logged in where"


PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.OPEN_CONSOLE: CONSOLE_ROLES,
    Permission.FEED_DEVICES: frozenset({Role.DEVICE, Role.ADMIN}),
    Permission.ENTER_ALARMS: COMMAND_CENTRE,
    # Which actions a role may take on an alarm is the finer table below.
    Permission.WORK_ALARMS: COMMAND_CENTRE | {Role.AGENCY_DISPATCHER},
    Permission.DISPATCH_UNITS: COMMAND_CENTRE,
    Permission.SEE_ALARM_HISTORY: CONSOLE_ROLES,
    Permission.REVEAL_CONTACT: COMMAND_CENTRE,
    Permission.SEE_UNITS: CONSOLE_ROLES,
    Permission.SEE_CAMERAS: CONSOLE_ROLES,
    Permission.SUBSCRIBE: CONSOLE_ROLES,
    Permission.RECEIVE_TELEMETRY: COMMAND_CENTRE,
    Permission.SEE_DEVICES: COMMAND_CENTRE,
    Permission.SEND_TEXT: COMMAND_CENTRE,
    Permission.READ_SENSOR_HISTORY: COMMAND_CENTRE,
    Permission.SEE_SENSORS: COMMAND_CENTRE,
    Permission.REPLAY_TRACKS: COMMAND_CENTRE,
    Permission.SEE_GEOFENCES: COMMAND_CENTRE,
    Permission.EDIT_GEOFENCES: COMMAND_CENTRE,
    Permission.DELETE_GEOFENCES: SUPERVISORS,
    Permission.PING: CONSOLE_ROLES,
    Permission.UNLOCK_SESSION: CONSOLE_ROLES,
    Permission.SEE_SESSIONS: frozenset({Role.ADMIN}),
}
"""Which roles hold each capability: the one table every role check reads."""

ACTION_ROLES: dict[AlarmAction, frozenset[Role]] = {
    AlarmAction.ACKNOWLEDGE: COMMAND_CENTRE,
    AlarmAction.DISPATCH: COMMAND_CENTRE,
    AlarmAction.START_HANDLING: COMMAND_CENTRE | {Role.AGENCY_DISPATCHER},
    AlarmAction.RESOLVE: COMMAND_CENTRE | {Role.AGENCY_DISPATCHER},
    AlarmAction.REOPEN: COMMAND_CENTRE,
    AlarmAction.CLOSE: COMMAND_CENTRE,
    AlarmAction.MARK_FALSE: COMMAND_CENTRE,
    AlarmAction.MERGE: COMMAND_CENTRE,
}
"""Which roles may take each alarm action (all of them hold :attr:`Permission.WORK_ALARMS`)."""


def allows(principal: Principal, permission: Permission) -> bool:
    """Return whether the principal's role holds ``permission``."""
    return principal.role in PERMISSIONS[permission]


def check(principal: Principal, permission: Permission) -> None:
    """Refuse unless the principal's role holds ``permission``."""
    if principal.role not in PERMISSIONS[permission]:
        raise ForbiddenError(f"role {principal.role} may not {permission.value}")


def in_jurisdiction(principal: Principal, jurisdiction: str) -> bool:
    """Return whether ``jurisdiction`` lies inside the principal's area (region-code prefix)."""
    return jurisdiction.startswith(principal.jurisdiction)


def can_see(principal: Principal, alarm: AlarmView) -> bool:
    """Return whether the principal may see this alarm at all."""
    if principal.role is Role.DEVICE:
        return False
    if not in_jurisdiction(principal, alarm.jurisdiction):
        return False
    if principal.role is Role.AGENCY_DISPATCHER:
        return any(d.agency == principal.agency for d in alarm.dispatches)
    return True


def check_console(principal: Principal) -> None:
    """Refuse device accounts on the console endpoint."""
    if not allows(principal, Permission.OPEN_CONSOLE):
        raise ForbiddenError("device accounts cannot open a console; use the device endpoint")


def check_create_alarm(principal: Principal, jurisdiction: str) -> None:
    """Only the command centre takes alarms, inside its own area."""
    if not allows(principal, Permission.ENTER_ALARMS):
        raise ForbiddenError(f"role {principal.role} cannot enter alarms")
    if not in_jurisdiction(principal, jurisdiction):
        raise ForbiddenError(f"jurisdiction {jurisdiction!r} is outside your area")


def check_action(principal: Principal, action: AlarmAction, alarm: AlarmView) -> None:
    """Refuse an action the role may not take, or on an alarm the principal cannot see."""
    if not can_see(principal, alarm):
        raise ForbiddenError(f"alarm {alarm.id} is not in your area or agency")
    if principal.role not in ACTION_ROLES[action]:
        raise ForbiddenError(f"role {principal.role} may not {action} an alarm")


def check_device(principal: Principal) -> None:
    """Only device accounts (and admins testing a feed) may use the device endpoint."""
    if not allows(principal, Permission.FEED_DEVICES):
        raise ForbiddenError("only device accounts may send device messages")


def check_reveal_contact(principal: Principal, alarm: AlarmView) -> None:
    """Only the command centre may see a caller's full phone number."""
    if not allows(principal, Permission.REVEAL_CONTACT) or not can_see(principal, alarm):
        raise ForbiddenError("your role may not see callers' contact details")


def can_see_camera(principal: Principal, jurisdiction: str, agency: str) -> bool:
    """Return whether the principal may see (and watch) a camera of this area and agency.

    As for units: a user sees the cameras in their area; a user of an agency (an agency
    desk) only that agency's cameras. Device accounts see none.
    """
    if principal.role is Role.DEVICE or not in_jurisdiction(principal, jurisdiction):
        return False
    return principal.agency is None or principal.agency == agency
