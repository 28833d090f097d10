"""Who may see and work which incident and task: every check of :mod:`backend.incidents`
in one place, to be folded into :mod:`backend.authz.policy` with the console wiring.

The rules:

- **Scope is the jurisdiction prefix** (:func:`backend.authz.policy.in_jurisdiction`). An
  incident is seen inside its jurisdiction, and also by the grid levels it sent a task to
  (a village sees the district's incident it works on). A task is seen inside its own
  jurisdiction (an agency's task carries the incident's; a grid task its level's code).
- **A user of an agency** (an agency desk, or a supervisor with an agency) sees only the
  tasks of that agency and the incidents shared with it (those with a task of that
  agency), and works only those tasks.
- **The command centre** (officer, supervisor, admin with no agency) commands the
  incidents of its area: opens them, attaches alarms, changes state, level and commander,
  sends and cancels tasks, edits deadlines. It may also record an assignee's step on its
  behalf (a report by phone from the field).
- **Supervision** (督办) is for supervisors (and admins).

Role names: the agency desk is ``Role.AGENCY`` today (renamed ``Role.AGENCY``
by issue 14): :data:`AGENCY_DESK` is the one place naming it. Any other role (a future
viewer or trainer) sees by scope but works nothing.
"""

from __future__ import annotations

from typing import Final

from backend.authz.policy import can_see_incident_scope, in_jurisdiction
from backend.authz.principal import Principal
from backend.errors import ForbiddenError
from backend.incidents.deadlines import grid_level_of
from realtime.incident_states import SENDER_ACTIONS, AssigneeKind, EscalationLevel, TaskAction
from realtime.protocol import Event, IncidentView, Role, TaskView

AGENCY_DESK: Final = Role.AGENCY
"""The agency desk's role (``Role.AGENCY`` after issue 14's rename)."""

COMMAND_ROLES: Final = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
"""Roles that command incidents (when the user belongs to no agency)."""

SUPERVISOR_ROLES: Final = frozenset({Role.SUPERVISOR, Role.ADMIN})
"""Roles that may flag a task for supervision (督办)."""


def _commands(principal: Principal) -> bool:
    return principal.role in COMMAND_ROLES and principal.agency is None


def can_see_incident(principal: Principal, incident: IncidentView) -> bool:
    """Return whether the principal may see this incident (the rule is
    :func:`backend.authz.policy.can_see_incident_scope`, which chat events use too)."""
    return can_see_incident_scope(
        principal, incident.jurisdiction, incident.agencies, incident.grid_areas
    )


def can_see_task(principal: Principal, task: TaskView) -> bool:
    """Return whether the principal may see this task."""
    if principal.role is Role.DEVICE or not in_jurisdiction(principal, task.jurisdiction):
        return False
    return principal.agency is None or principal.agency == task.agency


def can_see_event(principal: Principal, event: Event) -> bool:
    """Return whether an ``incident.*``/``task.*`` event may reach the principal (events
    about anything else are left to :mod:`backend.authz.policy`)."""
    if isinstance(event.incident, IncidentView) and not can_see_incident(principal, event.incident):
        return False
    return not (isinstance(event.task, TaskView) and not can_see_task(principal, event.task))


def rungs_of(principal: Principal) -> frozenset[EscalationLevel]:
    """The ladder rungs whose escalations land at the principal's desk (the badge).

    An agency desk is its agency's first rung; a supervisor of an agency the second; the
    command centre the top of the agency ladder and, on the grid ladder, the level of its
    jurisdiction (village, town, or district and above).
    """
    if principal.role is AGENCY_DESK:
        return frozenset({EscalationLevel.AGENCY_DESK})
    if principal.agency is not None:
        if principal.role in SUPERVISOR_ROLES:
            return frozenset({EscalationLevel.AGENCY_SUPERVISOR})
        return frozenset()
    if principal.role not in COMMAND_ROLES:
        return frozenset()
    return frozenset({EscalationLevel.COMMAND_CENTRE, grid_level_of(principal.jurisdiction)})


def check_see_incident(principal: Principal, incident: IncidentView) -> None:
    """Refuse unless the principal may see the incident."""
    if not can_see_incident(principal, incident):
        raise ForbiddenError(f"incident {incident.id} is not in your area or shared with you")


def check_see_task(principal: Principal, task: TaskView) -> None:
    """Refuse unless the principal may see the task."""
    if not can_see_task(principal, task):
        raise ForbiddenError(f"task {task.id} is not yours to see")


def check_open_incident(principal: Principal, jurisdiction: str) -> None:
    """Only the command centre opens incidents, inside its own area."""
    if not _commands(principal):
        raise ForbiddenError(f"role {principal.role} may not open incidents")
    if not in_jurisdiction(principal, jurisdiction):
        raise ForbiddenError(f"jurisdiction {jurisdiction!r} is outside your area")


def check_command(principal: Principal, incident: IncidentView) -> None:
    """Refuse changing the incident (state, level, alarms, tasks) unless the principal is
    the command centre of its jurisdiction."""
    check_see_incident(principal, incident)
    if not _commands(principal) or not in_jurisdiction(principal, incident.jurisdiction):
        raise ForbiddenError(
            f"only the command centre of incident {incident.id}'s area may change it"
        )


def check_assign(principal: Principal, kind: AssigneeKind, jurisdiction: str) -> None:
    """Refuse sending a task to a unit or grid level outside the principal's area."""
    if not in_jurisdiction(principal, jurisdiction):
        what = "grid level" if kind is AssigneeKind.GRID_LEVEL else "unit"
        raise ForbiddenError(f"the {what} ({jurisdiction or 'unplaced'}) is outside your area")


def check_work_task(principal: Principal, task: TaskView, action: TaskAction) -> None:
    """Refuse a task action the principal may not take.

    The assignee's steps (accept, set out, arrive, finish, decline, return) are for the
    agency's desk, or the grid level's officers, or the command centre on their behalf;
    cancelling is the sender's (the command centre).
    """
    check_see_task(principal, task)
    if action in SENDER_ACTIONS:
        if not _commands(principal):
            raise ForbiddenError(f"only the command centre may {action} a task")
        return
    if principal.role not in COMMAND_ROLES and principal.role is not AGENCY_DESK:
        raise ForbiddenError(f"role {principal.role} may not {action} a task")


def check_supervise(principal: Principal, task: TaskView) -> None:
    """Only supervisors flag tasks for supervision (督办), in their scope."""
    check_see_task(principal, task)
    if principal.role not in SUPERVISOR_ROLES:
        raise ForbiddenError(f"role {principal.role} may not flag tasks for supervision")


def check_answer_supervision(principal: Principal, task: TaskView) -> None:
    """The task's side (whoever may work it) answers a supervision flag."""
    check_work_task(principal, task, TaskAction.FINISH)
