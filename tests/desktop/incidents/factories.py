"""Builders of incident and task views for the console's incident tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from backend.incidents.catalogue import load_catalogue
from backend.server.catalogue_handlers import catalogue_views
from realtime.event_kinds import EventKind
from realtime.incident_states import (
    AssigneeKind,
    EscalationCause,
    EscalationLevel,
    IncidentLevel,
    IncidentState,
    TaskState,
)
from realtime.protocol import (
    CatalogueResult,
    EscalationView,
    Event,
    IncidentView,
    Role,
    SupervisionView,
    TaskView,
    UserInfo,
)
from tests.desktop.factories import T0


def make_incident(incident_id: int = 1, **fields: Any) -> IncidentView:
    """An open incident with sensible defaults."""
    values: dict[str, Any] = {
        "version": 1,
        "state": IncidentState.OPEN,
        "level": IncidentLevel.III,
        "type_code": "hazchem_leak",
        "type_name": "危险化学品泄漏",
        "title": f"事件 {incident_id}",
        "jurisdiction": "330102",
        "commander": "officer1",
        "opened_at": T0,
        "opened_by": "officer1",
        "updated_at": T0,
    }
    values.update(fields)
    return IncidentView(id=incident_id, **values)


def make_task(task_id: int = 1, incident_id: int = 1, **fields: Any) -> TaskView:
    """A task sent to the fire desk with sensible defaults."""
    values: dict[str, Any] = {
        "version": 1,
        "state": TaskState.SENT,
        "assignee_kind": AssigneeKind.AGENCY,
        "assignee_ref": "fire",
        "agency": "fire",
        "jurisdiction": "330102",
        "escalation_level": EscalationLevel.AGENCY_DESK,
        "created_at": T0,
        "created_by": "officer1",
        "updated_at": T0,
    }
    values.update(fields)
    return TaskView(id=task_id, incident_id=incident_id, **values)


def escalation(
    to_level: EscalationLevel = EscalationLevel.AGENCY_SUPERVISOR,
    cause: EscalationCause = EscalationCause.ACCEPT,
) -> EscalationView:
    """One step up the agency ladder."""
    return EscalationView(
        cause=cause, from_level=EscalationLevel.AGENCY_DESK, to_level=to_level, by="", at=T0
    )


def supervision(flag_id: int = 1, *, answered: bool = False) -> SupervisionView:
    """A supervision flag, answered or not."""
    return SupervisionView(
        id=flag_id,
        by="supervisor1",
        note="请加快处置",
        created_at=T0,
        answered_at=T0 + dt.timedelta(minutes=5) if answered else None,
        answered_by="fire1" if answered else "",
        answer="已到场" if answered else "",
    )


def incident_event(
    seq: int, incident: IncidentView, kind: EventKind = EventKind.INCIDENT_CHANGED
) -> Event:
    """An ``incident.*`` event about ``incident``."""
    return Event(seq=seq, at=T0, kind=kind, actor="officer1", incident=incident)


def task_event(seq: int, task: TaskView, kind: EventKind = EventKind.TASK_CHANGED) -> Event:
    """A ``task.*`` event about ``task``."""
    return Event(seq=seq, at=T0, kind=kind, actor="officer1", task=task)


def user(role: Role = Role.OFFICER, agency: str | None = None, jurisdiction: str = "") -> UserInfo:
    """A logged-in user."""
    return UserInfo(
        username="u", display_name="U", role=role, agency=agency, jurisdiction=jurisdiction
    )


def catalogue_result() -> CatalogueResult:
    """The catalogue DutyDesk ships, as ``catalogue.get`` answers it."""
    digest, areas = catalogue_views(load_catalogue())
    return CatalogueResult(digest=digest, areas=areas)
