"""Authorization: which role may do what, and who may see which alarm.

Every console message passes through here on the server; the desktop's greyed-out
buttons are a courtesy, never the control.
"""

from __future__ import annotations

from backend.registry.users import Principal
from realtime.protocol import AlarmView, Role
from realtime.states import AlarmAction


class ForbiddenError(Exception):
    """The principal may not do this. ``str()`` says why, for the operator."""


_COMMAND_CENTRE = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})

_ACTION_ROLES: dict[AlarmAction, frozenset[Role]] = {
    AlarmAction.ACKNOWLEDGE: _COMMAND_CENTRE,
    AlarmAction.DISPATCH: _COMMAND_CENTRE,
    AlarmAction.START_HANDLING: _COMMAND_CENTRE | {Role.AGENCY_DISPATCHER},
    AlarmAction.RESOLVE: _COMMAND_CENTRE | {Role.AGENCY_DISPATCHER},
    AlarmAction.REOPEN: _COMMAND_CENTRE,
    AlarmAction.CLOSE: _COMMAND_CENTRE,
    AlarmAction.MARK_FALSE: _COMMAND_CENTRE,
    AlarmAction.MERGE: _COMMAND_CENTRE,
}


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
    if principal.role is Role.DEVICE:
        raise ForbiddenError("device accounts cannot open a console; use the device endpoint")


def check_create_alarm(principal: Principal, jurisdiction: str) -> None:
    """Only the command centre takes alarms, inside its own area."""
    if principal.role not in _COMMAND_CENTRE:
        raise ForbiddenError(f"role {principal.role} cannot enter alarms")
    if not in_jurisdiction(principal, jurisdiction):
        raise ForbiddenError(f"jurisdiction {jurisdiction!r} is outside your area")


def check_action(principal: Principal, action: AlarmAction, alarm: AlarmView) -> None:
    """Refuse an action the role may not take, or on an alarm the principal cannot see."""
    if not can_see(principal, alarm):
        raise ForbiddenError(f"alarm {alarm.id} is not in your area or agency")
    if principal.role not in _ACTION_ROLES[action]:
        raise ForbiddenError(f"role {principal.role} may not {action} an alarm")


def check_device(principal: Principal) -> None:
    """Only device accounts (and admins testing a feed) may use the device endpoint."""
    if principal.role not in (Role.DEVICE, Role.ADMIN):
        raise ForbiddenError("only device accounts may send device messages")


def check_reveal_contact(principal: Principal, alarm: AlarmView) -> None:
    """Only the command centre may see a caller's full phone number."""
    if principal.role not in _COMMAND_CENTRE or not can_see(principal, alarm):
        raise ForbiddenError("your role may not see callers' contact details")


def can_see_camera(principal: Principal, jurisdiction: str, agency: str) -> bool:
    """Return whether the principal may see (and watch) a camera of this area and agency.

    As for units: a user sees the cameras in their area; a user of an agency (an agency
    desk) only that agency's cameras. Device accounts see none.
    """
    if principal.role is Role.DEVICE or not in_jurisdiction(principal, jurisdiction):
        return False
    return principal.agency is None or principal.agency == agency
