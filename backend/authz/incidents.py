"""Who may see and work which incident and task: the scope rules :attr:`Scope.INCIDENT
<backend.authz.policy.Scope.INCIDENT>` and :attr:`Scope.TASK
<backend.authz.policy.Scope.TASK>` of the permission table, and the checks the incident
service makes with them.

The rules:

- **Scope is the jurisdiction prefix** (:func:`~backend.authz.scope.in_jurisdiction`). An
  incident is seen inside its jurisdiction, and also by the grid levels it sent a task to
  (a village sees the district's incident it works on) and by the person who reported it
  (the grid reporter follows its state and reads the feedback). A task is seen inside its
  own jurisdiction (an agency's task carries the incident's; a grid task its level's code).
- **A user of an agency** (an agency desk, or a supervisor with an agency) sees only the
  tasks of that agency and the incidents shared with it (those with a task of that
  agency), and works only those tasks. An escalated task thus reaches the rung it lands
  on: the agency's supervisor (a supervisor of that agency) and the command centre.
- **The command centre** (officer, supervisor, admin with no agency) commands the
  incidents of its area: opens them, attaches alarms, changes state, level and commander,
  sends and cancels tasks, edits deadlines. It may also record an assignee's step on its
  behalf (a report by phone from the field).
- **Supervision** (督办) is for supervisors (and admins).

An incident or task outside the scope is refused exactly like a missing one
(:func:`~backend.authz.scope.hidden`). Any other role (a viewer, a trainer) sees by scope
but works nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from backend.authz.principal import Principal
from backend.authz.scope import (
    COMMAND_CENTRE,
    SUPERVISORS,
    hidden,
    in_jurisdiction,
    outside_staff,
)
from backend.errors import ForbiddenError
from backend.incidents.deadlines import grid_level_of
from realtime.incident_states import SENDER_ACTIONS, AssigneeKind, EscalationLevel, TaskAction
from realtime.protocol import Event, IncidentView, Role, TaskView

__all__ = [
    "can_see_incident",
    "can_see_incident_event",
    "can_see_incident_scope",
    "can_see_task",
    "check_answer_supervision",
    "check_assign",
    "check_command",
    "check_open_incident",
    "check_see_incident",
    "check_see_task",
    "check_supervise",
    "check_work_task",
    "commands",
    "rungs_of",
]


def commands(principal: Principal) -> bool:
    """Return whether the principal is the command centre (a commanding role, no agency)."""
    return principal.role in COMMAND_CENTRE and principal.agency is None


def _agencyless_desk(principal: Principal) -> bool:
    # An agency desk without an agency sees nothing of any agency (as for alarms).
    return principal.role is Role.AGENCY and principal.agency is None


def can_see_incident_scope(
    principal: Principal,
    jurisdiction: str,
    agencies: Iterable[str],
    grid_areas: Iterable[str],
    reported_by: str = "",
) -> bool:
    """Return whether the principal may see an incident of this scope (:attr:`Scope.INCIDENT`):
    its jurisdiction, the agencies with a task on it, the grid levels it was sent to and
    who reported it. Chat events carry these (not the whole incident) and use it too."""
    if outside_staff(principal):
        return False
    if reported_by and reported_by == principal.username:
        return True
    if principal.agency is not None:
        return principal.agency in agencies and in_jurisdiction(principal, jurisdiction)
    if _agencyless_desk(principal):
        return False
    return in_jurisdiction(principal, jurisdiction) or any(
        in_jurisdiction(principal, area) for area in grid_areas
    )


def can_see_incident(principal: Principal, incident: IncidentView) -> bool:
    """Return whether the principal may see this incident (:attr:`Scope.INCIDENT`)."""
    return can_see_incident_scope(
        principal,
        incident.jurisdiction,
        incident.agencies,
        incident.grid_areas,
        incident.reported_by,
    )


def can_see_task(principal: Principal, task: TaskView) -> bool:
    """Return whether the principal may see this task (:attr:`Scope.TASK`)."""
    if outside_staff(principal) or _agencyless_desk(principal):
        return False
    if not in_jurisdiction(principal, task.jurisdiction):
        return False
    return principal.agency is None or principal.agency == task.agency


def can_see_incident_event(principal: Principal, event: Event) -> bool:
    """Return whether an event about a task or an incident may reach the principal, by the
    task's scope when it carries one, else by the incident's (the topic and any alarm it
    also carries are :func:`backend.authz.policy.can_see_event`'s)."""
    if isinstance(event.task, TaskView):
        return can_see_task(principal, event.task)
    if isinstance(event.incident, IncidentView):
        return can_see_incident(principal, event.incident)
    return False


def rungs_of(
    principal: Principal, level_of: Callable[[str], EscalationLevel] = grid_level_of
) -> frozenset[EscalationLevel]:
    """The ladder rungs whose escalations land at the principal's desk (the badge).

    An agency desk is its agency's first rung; a supervisor of an agency the second; the
    command centre the top of the agency ladder and, on the grid ladder, the level of its
    jurisdiction (village, town, or district and above; ``level_of`` reads it).
    """
    if principal.role is Role.AGENCY:
        return frozenset({EscalationLevel.AGENCY_DESK})
    if principal.agency is not None:
        if principal.role in SUPERVISORS:
            return frozenset({EscalationLevel.AGENCY_SUPERVISOR})
        return frozenset()
    if principal.role not in COMMAND_CENTRE:
        return frozenset()
    return frozenset({EscalationLevel.COMMAND_CENTRE, level_of(principal.jurisdiction)})


def check_see_incident(principal: Principal, incident: IncidentView) -> None:
    """Refuse unless the principal may see the incident (as if it did not exist)."""
    if not can_see_incident(principal, incident):
        raise hidden("incident")


def check_see_task(principal: Principal, task: TaskView) -> None:
    """Refuse unless the principal may see the task (as if it did not exist)."""
    if not can_see_task(principal, task):
        raise hidden("task")


def _check_commands(principal: Principal, what: str) -> None:
    if principal.role not in COMMAND_CENTRE:
        raise ForbiddenError(f"role {principal.role} may not {what}")
    if principal.agency is not None:
        raise ForbiddenError(f"only the command centre may {what}, not a user of an agency")


def check_open_incident(principal: Principal, jurisdiction: str) -> None:
    """Only the command centre opens incidents, inside its own area."""
    _check_commands(principal, "open incidents")
    if not in_jurisdiction(principal, jurisdiction):
        raise ForbiddenError(f"jurisdiction {jurisdiction!r} is outside your area")


def check_command(principal: Principal, incident: IncidentView) -> None:
    """Refuse changing the incident (state, level, alarms, tasks) unless the principal is
    the command centre of its jurisdiction."""
    check_see_incident(principal, incident)
    if not commands(principal) or not in_jurisdiction(principal, incident.jurisdiction):
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
        if not commands(principal):
            raise ForbiddenError(f"only the command centre may {action} a task")
        return
    if principal.role not in COMMAND_CENTRE and principal.role is not Role.AGENCY:
        raise ForbiddenError(f"role {principal.role} may not {action} a task")


def check_supervise(principal: Principal, task: TaskView) -> None:
    """Only supervisors flag tasks for supervision (督办), in their scope."""
    check_see_task(principal, task)
    if principal.role not in SUPERVISORS:
        raise ForbiddenError(f"role {principal.role} may not flag tasks for supervision")


def check_answer_supervision(principal: Principal, task: TaskView) -> None:
    """The task's side (whoever may work it) answers a supervision flag."""
    check_work_task(principal, task, TaskAction.FINISH)
