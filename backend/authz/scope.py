"""The building blocks of every scope rule: the role groups, the region-code prefix, and
the one refusal for an object outside the scope (shared by :mod:`backend.authz.policy`
and :mod:`backend.authz.incidents`, which re-export what callers use)."""

from __future__ import annotations

from backend.authz.principal import Principal
from backend.errors import ForbiddenError
from realtime.protocol import Role

COMMAND_CENTRE = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
"""The duty officers' roles: they see the whole of their area and run the response."""
READERS = COMMAND_CENTRE | {Role.VIEWER, Role.TRAINER}
"""Who sees the area's telemetry, devices and sensors: the command centre, wall displays
(viewers) and trainers (who see like a viewer on live data)."""
CONSOLE_ROLES = frozenset(Role) - {Role.DEVICE, Role.ENTERPRISE}
"""The staff's console roles (the authority, its agencies and trainers): what each then
sees is scoped. Enterprise users open a console too, but hold only the rows that name
:data:`ENTERPRISE_USERS` (their hidden dangers, the notices published to them)."""
ENTERPRISE_USERS = frozenset({Role.ENTERPRISE})
"""Users of a supervised enterprise, each bound to its enterprise (``Principal.enterprise``)."""
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
"""Who overrides and supervises (督办)."""


def hidden(what: str) -> ForbiddenError:
    """The refusal for an object outside the principal's scope, and for one that does not
    exist: the same words, so the answer never tells which (nor anything about it)."""
    return ForbiddenError(f"no such {what} in your area")


def in_jurisdiction(principal: Principal, jurisdiction: str) -> bool:
    """Return whether ``jurisdiction`` lies inside the principal's area (region-code prefix).

    An unplaced object (``""``) lies only inside the whole area (``""``).
    """
    return jurisdiction.startswith(principal.jurisdiction)


def outside_staff(principal: Principal) -> bool:
    """Return whether the principal is no staff console (a device account, an enterprise
    user): it sees nothing of the area by place alone (no alarm, incident, task, fix,
    reading, device, registry item, handover), only what names it."""
    return principal.role not in CONSOLE_ROLES


def sees_jurisdiction(principal: Principal, code: str) -> bool:
    """Return whether the principal may see an object that lies in ``code`` (a fix, a
    reading, a sensor, a device): a console role whose area contains it. Device
    accounts and enterprise users see nothing."""
    return not outside_staff(principal) and code.startswith(principal.jurisdiction)
