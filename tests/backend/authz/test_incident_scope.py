"""The incident and task rows of the permission table, rule by rule (the service tests in
tests/backend/incidents and the live tests in tests/backend/server/test_incident_fanout.py
show them over a database and real consoles): who receives which incident and task
event, the deliberate choice for an event that carries an alarm too, the reporter, the
rungs of an escalation, and the grid level read from the jurisdiction tree."""

from __future__ import annotations

import datetime as dt

import msgspec

from backend.authz import incidents as scope
from backend.authz import policy
from backend.authz.principal import Principal
from backend.incidents.deadlines import first_rung, grid_levels
from realtime.incident_states import (
    AssigneeKind,
    EscalationLevel,
    IncidentLevel,
    IncidentState,
    TaskState,
)
from realtime.protocol import AlarmView, Event, IncidentView, Role, TaskView
from realtime.states import AlarmLevel, AlarmState

T0 = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)
XIHU = "330106"
_L = EscalationLevel

CC = Principal(1, "cc", "值班员", Role.OFFICER, None, "")
FIRE_DESK = Principal(2, "fire_desk", "消防席", Role.AGENCY, "fire", "3301")
POLICE_DESK = Principal(3, "police_desk", "公安席", Role.AGENCY, "police", "3301")
FIRE_CHIEF = Principal(4, "fire_chief", "消防值班长", Role.SUPERVISOR, "fire", "3301")
POLICE_CHIEF = Principal(5, "police_chief", "公安值班长", Role.SUPERVISOR, "police", "3301")
GRID_REPORTER = Principal(6, "grid1", "网格员", Role.OFFICER, None, "330106001001")
OTHER_DISTRICT = Principal(7, "sh", "邻区", Role.VIEWER, None, "310104")
DEVICE = Principal(8, "device1", "设备", Role.DEVICE, None, "")
DESK_WITHOUT_AGENCY = Principal(9, "nobody", "?", Role.AGENCY, None, "")


def _incident(**changes: object) -> IncidentView:
    incident = IncidentView(
        id=1,
        version=1,
        state=IncidentState.RESPONDING,
        level=IncidentLevel.III,
        type_code="hazchem_transport_accident",
        title="槽车侧翻",
        jurisdiction=XIHU,
        reported_by="grid1",
        opened_at=T0,
        opened_by="cc",
        updated_at=T0,
        agencies=["fire"],
    )
    return msgspec.structs.replace(incident, **changes)


def _task(agency: str = "police", level: EscalationLevel = _L.AGENCY_DESK) -> TaskView:
    return TaskView(
        id=7,
        incident_id=1,
        version=1,
        state=TaskState.SENT,
        assignee_kind=AssigneeKind.AGENCY,
        assignee_ref=agency,
        agency=agency,
        jurisdiction=XIHU,
        escalation_level=level,
        created_at=T0,
        created_by="cc",
        updated_at=T0,
    )


def _alarm(shared_with: list[str]) -> AlarmView:
    return AlarmView(
        id=3,
        version=1,
        state=AlarmState.NEW,
        level=AlarmLevel.RED,
        alarm_type="vehicle_sos",
        title="槽车 SOS",
        jurisdiction=XIHU,
        source="jt808",
        first_seen=T0,
        last_seen=T0,
        updated_at=T0,
        shared_with=shared_with,
    )


def _event(kind: str, **about: object) -> Event:
    return Event(seq=1, at=T0, kind=kind, actor="cc", **about)  # type: ignore[arg-type]


def _receivers(event: Event) -> set[str]:
    everyone = (
        CC,
        FIRE_DESK,
        POLICE_DESK,
        FIRE_CHIEF,
        POLICE_CHIEF,
        GRID_REPORTER,
        OTHER_DISTRICT,
        DEVICE,
        DESK_WITHOUT_AGENCY,
    )
    return {p.username for p in everyone if policy.can_see_event(p, event)}


def test_an_incident_event_reaches_its_area_its_agencies_and_its_reporter() -> None:
    assert _receivers(_event("incident.changed", incident=_incident())) == {
        "cc",
        "fire_desk",  # fire has a task on it
        "fire_chief",
        "grid1",  # the reporter, though the village is not the incident's area
    }


def test_the_reporter_sees_its_incident_and_the_feedback_but_no_task() -> None:
    closed = _incident(state=IncidentState.CLOSED, feedback="已处置完毕")
    assert scope.can_see_incident(GRID_REPORTER, closed)
    assert not scope.can_see_task(GRID_REPORTER, _task("fire"))
    someone_else = _incident(reported_by="grid2")
    assert not scope.can_see_incident(GRID_REPORTER, someone_else)


def test_a_task_event_reaches_its_agency_and_the_command_centre_only() -> None:
    assert _receivers(_event("task.sent", task=_task("police"))) == {
        "cc",
        "police_desk",
        "police_chief",
    }


def test_an_escalated_task_reaches_the_rung_it_lands_on() -> None:
    up = _task("police", _L.AGENCY_SUPERVISOR)
    receivers = _receivers(_event("task.escalated", task=up))
    assert {"police_chief", "cc"} <= receivers
    assert "fire_chief" not in receivers, "another agency's supervisor"
    assert scope.rungs_of(POLICE_CHIEF) == {_L.AGENCY_SUPERVISOR}
    assert scope.rungs_of(CC) == {_L.COMMAND_CENTRE, _L.DISTRICT}


def test_an_event_of_an_incident_and_its_alarm_needs_both_scopes() -> None:
    """An incident raised from an alarm: the incident's scope decides who gets it, and the
    alarm inside never reaches a desk it is not shared with."""
    incident = _incident()  # fire has a task, police none
    shared = _event("incident.opened", incident=incident, alarm=_alarm(["fire", "police"]))
    assert _receivers(shared) == {"cc", "fire_desk", "fire_chief"}, (
        "police sees the alarm but has no task: the incident's event is not for it"
    )
    not_shared = _event("incident.opened", incident=incident, alarm=_alarm([]))
    # The fire desk has a task but not the alarm; its supervisor sees every alarm of its
    # area (the alarm rule limits agency desks only).
    assert _receivers(not_shared) == {"cc", "fire_chief"}, "no alarm details to the fire desk"
    # The service records the alarm by id only, so the desk with a task gets the event.
    by_id = _event("incident.opened", incident=incident)
    assert "fire_desk" in _receivers(by_id)
    assert "police_desk" not in _receivers(by_id)


def test_an_agency_desk_without_an_agency_sees_no_incident_and_no_task() -> None:
    assert not scope.can_see_incident(DESK_WITHOUT_AGENCY, _incident(reported_by=""))
    assert not scope.can_see_task(DESK_WITHOUT_AGENCY, _task())


def test_the_grid_level_is_the_tree_s_where_it_knows_the_code() -> None:
    recorded = {"3301060010": "village", "330106001": "town", "330106": "district"}
    level_of = grid_levels(recorded.get)
    assert level_of("3301060010") is _L.VILLAGE, "a 10-digit village the tree knows"
    assert level_of("330106001") is _L.TOWN
    assert level_of("330106") is _L.DISTRICT
    # Codes the tree does not know: the digit rule.
    assert level_of("330106002003") is _L.VILLAGE
    assert level_of("330106002") is _L.TOWN
    assert level_of("") is _L.DISTRICT
    assert first_rung(AssigneeKind.GRID_LEVEL, "3301060010", level_of) is _L.VILLAGE
    village_officer = Principal(10, "v", "v", Role.OFFICER, None, "3301060010")
    assert scope.rungs_of(village_officer, level_of) == {_L.COMMAND_CENTRE, _L.VILLAGE}
