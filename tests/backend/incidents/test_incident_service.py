"""The incident service on SQLite and PostgreSQL: incidents from alarms, tasks through
their life, version checks, closing, and what each desk may see and do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable

import pytest
from sqlalchemy import select

from backend.authz import policy as access
from backend.authz.principal import Principal
from backend.errors import Error
from backend.eventlog import log as eventlog
from backend.incidents.catalogue import Catalogue
from backend.incidents.service import IncidentService
from backend.storage.models import Agency, EventRecord
from realtime.event_kinds import EventKind
from realtime.incident_states import (
    AssigneeKind,
    Deadline,
    EscalationLevel,
    IncidentAction,
    IncidentLevel,
    IncidentState,
    TaskAction,
    TaskState,
)
from realtime.protocol import ErrorCode, IncidentView, TaskView, TransitionAlarm
from realtime.states import AlarmAction
from tests.backend.incidents.conftest import (
    AREA,
    DEVICE,
    FIRE_DESK,
    NEIGHBOUR,
    OFFICER,
    OFFICER2,
    POLICE_DESK,
    SUPERVISOR,
    T0,
    TOWN_OFFICER,
    VILLAGE,
    VILLAGE_OFFICER,
    Env,
)


async def _refused(
    code: ErrorCode, awaitable: Awaitable[object], match: str | None = None
) -> Error:
    with pytest.raises(Error, match=match) as refused:
        await awaitable
    assert refused.value.code is code, refused.value.message
    return refused.value


async def _incident(env: Env) -> IncidentView:
    alarm = await env.alarm()
    return await env.service.open_incident(OFFICER, alarm_id=alarm.id)


async def _task(env: Env, incident: IncidentView, agency: str = "fire") -> TaskView:
    return await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref=agency
    )


async def _step(
    env: Env, who: Principal, task: TaskView, action: TaskAction, note: str = ""
) -> TaskView:
    return await env.service.act_on_task(who, task.id, action, task.version, note)


# ---------------------------------------------------------------------------- incidents


async def test_an_alarm_is_raised_to_an_incident_with_its_facts(env: Env) -> None:
    alarm = await env.alarm()
    incident = await env.service.open_incident(OFFICER, alarm_id=alarm.id)
    assert incident.state is IncidentState.OPEN
    assert incident.version == 1
    assert incident.type_code == "hazchem_leak", "suggested by the alarm's type"
    assert incident.type_name == "危险化学品泄漏"
    assert incident.level is IncidentLevel.II, "the catalogue item's default level"
    assert (incident.title, incident.place, incident.jurisdiction) == (
        alarm.title,
        alarm.place,
        AREA,
    )
    assert (incident.lat, incident.lon) == (alarm.lat, alarm.lon)
    assert incident.alarm_ids == [alarm.id]
    assert incident.commander == OFFICER.username
    assert incident.reported_by == alarm.reported_by
    assert incident.opened_at == T0

    event = env.published[-1]
    assert event.kind == EventKind.INCIDENT_OPENED
    assert event.incident == incident
    async with env.sessions() as session:
        history = await eventlog.events_of_alarm(session, alarm.id)
        assert [e.kind for e in history] == [EventKind.ALARM_RAISED, EventKind.INCIDENT_OPENED]
        timeline = await eventlog.events_of_incident(session, incident.id)
        assert [e.seq for e in timeline] == [event.seq]
        report = await eventlog.verify(session)
    assert report.ok, report.problems


async def test_an_incident_reported_by_a_person_needs_a_type_and_a_title(env: Env) -> None:
    await _refused(
        ErrorCode.VALIDATION, env.service.open_incident(OFFICER, title="x"), "event type"
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.open_incident(OFFICER, type_code="nope", title="x"),
        "no event type 'nope'",
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.open_incident(OFFICER, type_code="landslide", title="  "),
        "a title is required",
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.open_incident(OFFICER, type_code="landslide", title="长" * 201),
        "a title is longer than 200 characters",
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.open_incident(OFFICER, type_code="landslide", title="x", lat=30.0),
        "both latitude and longitude",
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.open_incident(OFFICER, type_code="landslide", title="x", lat=95.0, lon=1.0),
        "WGS-84",
    )
    incident = await env.service.open_incident(
        OFFICER2,
        type_code="landslide",
        title="山体滑坡",
        place="留下镇",
        lat=30.25,
        lon=120.05,
        level=IncidentLevel.III,
        commander="supervisor1",
    )
    assert incident.jurisdiction == AREA, "the officer's own area by default"
    assert incident.reported_by == OFFICER2.username
    assert incident.level is IncidentLevel.III
    assert incident.commander == "supervisor1"
    assert incident.alarm_ids == []


async def test_who_may_open_an_incident(env: Env) -> None:
    alarm = await env.alarm()
    await _refused(ErrorCode.FORBIDDEN, env.service.open_incident(FIRE_DESK, alarm_id=alarm.id))
    await _refused(
        ErrorCode.FORBIDDEN,
        env.service.open_incident(OFFICER2, type_code="landslide", title="x", jurisdiction="3301"),
        "outside your area",
    )
    await _refused(
        ErrorCode.FORBIDDEN,
        env.service.open_incident(OFFICER, alarm_id=999),
        "^no such alarm in your area$",
    )
    hidden_alarm = await _refused(
        ErrorCode.FORBIDDEN, env.service.open_incident(NEIGHBOUR, alarm_id=alarm.id)
    )
    assert hidden_alarm.message == "no such alarm in your area", "refused like a missing one"


async def test_alarms_attach_once_and_only_while_they_mean_something(env: Env) -> None:
    incident = await _incident(env)
    again = await env.alarm(title="又一个报警：槽车泄漏")
    attached = await env.service.attach_alarm(OFFICER, incident.id, again.id, incident.version)
    assert attached.alarm_ids == [incident.alarm_ids[0], again.id]
    assert attached.version == incident.version + 1
    assert env.published[-1].kind == EventKind.INCIDENT_ALARM_ATTACHED

    await _refused(
        ErrorCode.VALIDATION,
        env.service.attach_alarm(OFFICER, incident.id, again.id, attached.version),
        f"already part of incident {incident.id}",
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.open_incident(OFFICER, alarm_id=again.id),
        "already part of incident",
    )
    await _refused(
        ErrorCode.STALE_VERSION,
        env.service.attach_alarm(OFFICER, incident.id, (await env.alarm()).id, incident.version),
    )
    false_alarm = await env.alarm(title="误报")
    await env.alarms.transition(
        OFFICER,
        TransitionAlarm(
            req="",
            alarm_id=false_alarm.id,
            action=AlarmAction.MARK_FALSE,
            expected_version=1,
            note="误报",
        ),
    )
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION,
        env.service.attach_alarm(OFFICER, incident.id, false_alarm.id, attached.version),
        "false_alarm",
    )


async def test_state_and_level_changes_check_table_and_version(env: Env) -> None:
    incident = await _incident(env)
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION,
        env.service.transition(OFFICER, incident.id, IncidentAction.CONTROL, incident.version),
        "allowed: respond, close",
    )
    responding = await env.service.transition(
        OFFICER, incident.id, IncidentAction.RESPOND, incident.version
    )
    assert responding.state is IncidentState.RESPONDING
    # A second officer acting on what they saw before the change is told to look again.
    await _refused(
        ErrorCode.STALE_VERSION,
        env.service.change(OFFICER2, incident.id, incident.version, level=IncidentLevel.I),
        "reload it",
    )
    raised = await env.service.change(
        OFFICER2, incident.id, responding.version, level=IncidentLevel.I, note="伤亡扩大"
    )
    assert raised.level is IncidentLevel.I
    assert raised.last_note == "level II → I: 伤亡扩大"
    await _refused(
        ErrorCode.VALIDATION,
        env.service.change(OFFICER, incident.id, raised.version, level=IncidentLevel.I),
        "like that already",
    )
    await _refused(
        ErrorCode.VALIDATION, env.service.change(OFFICER, incident.id, raised.version), "say what"
    )
    handed = await env.service.change(
        OFFICER, incident.id, raised.version, commander="supervisor1", level=IncidentLevel.I
    )
    assert handed.last_note == "commander officer1 → supervisor1"
    assert handed.commander == "supervisor1"
    controlled = await env.service.transition(
        OFFICER, incident.id, IncidentAction.CONTROL, handed.version
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.transition(OFFICER, incident.id, IncidentAction.FLARE_UP, controlled.version),
        "needs a note",
    )
    again = await env.service.transition(
        OFFICER, incident.id, IncidentAction.FLARE_UP, controlled.version, "复燃"
    )
    assert again.state is IncidentState.RESPONDING
    kinds = [
        e.kind
        for e in env.published
        if isinstance(e.incident, IncidentView) and e.kind.startswith("incident")
    ]
    assert kinds.count(EventKind.INCIDENT_CHANGED) == 5


# ---------------------------------------------------------------------------- tasks


async def test_a_task_gets_the_catalogue_deadlines_and_moves_the_incident(env: Env) -> None:
    incident = await _incident(env)
    task = await env.service.send_task(
        OFFICER,
        incident.id,
        assignee_kind=AssigneeKind.AGENCY,
        assignee_ref="fire",
        instructions="堵漏、稀释",
    )
    assert task.state is TaskState.SENT
    assert (task.agency, task.jurisdiction, task.instructions) == ("fire", AREA, "堵漏、稀释")
    assert task.accept_by == T0 + dt.timedelta(minutes=5)
    assert task.arrive_by == T0 + dt.timedelta(minutes=30)
    assert task.finish_by == T0 + dt.timedelta(minutes=480)
    assert task.escalation_level is EscalationLevel.AGENCY_DESK
    sent, moved = env.published[-2:]
    assert sent.kind == EventKind.TASK_SENT
    assert sent.task == task
    assert moved.kind == EventKind.INCIDENT_CHANGED
    assert isinstance(moved.incident, IncidentView)
    assert moved.incident.state is IncidentState.RESPONDING, "the first task starts the response"
    assert moved.incident.agencies == ["fire"]

    police = await env.service.send_task(
        OFFICER,
        incident.id,
        assignee_kind=AssigneeKind.AGENCY,
        assignee_ref="police",
        deadlines={Deadline.ACCEPT: 2, Deadline.ARRIVE: None},
    )
    assert police.accept_by == T0 + dt.timedelta(minutes=2)
    assert police.arrive_by is None
    assert env.published[-1].kind == EventKind.TASK_SENT, "no second state change"
    await _refused(
        ErrorCode.VALIDATION,
        env.service.send_task(
            OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire"
        ),
        "already has an open task",
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.send_task(
            OFFICER,
            incident.id,
            assignee_kind=AssigneeKind.AGENCY,
            assignee_ref="medical",
            deadlines={Deadline.ACCEPT: 60, Deadline.ARRIVE: 10},
        ),
        "accept .60 min. comes after arrive",
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.send_task(
            OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="Fire Brigade"
        ),
        "agency code",
    )


async def test_a_task_goes_only_to_a_registered_active_agency_named_in_chinese(env: Env) -> None:
    incident = await _incident(env)
    fire = await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire"
    )
    assert (fire.agency, fire.assignee_name) == ("fire", "消防救援")
    # A typo would send the task to a desk nobody works: refused, nothing written.
    before = len(env.published)
    await _refused(
        ErrorCode.VALIDATION,
        env.service.send_task(
            OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="firee"
        ),
        "no active agency 'firee'",
    )
    async with env.sessions.begin() as session:
        police = await session.get(Agency, "police")
        assert police is not None
        police.active = False
    await _refused(
        ErrorCode.VALIDATION,
        env.service.send_task(
            OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="police"
        ),
        "no active agency 'police'",
    )
    assert len(env.published) == before


async def test_units_and_grid_levels_are_resolved_and_scoped(env: Env) -> None:
    incident = await _incident(env)
    unit = await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.UNIT, assignee_ref="FIRE-HAZ"
    )
    assert (unit.agency, unit.assignee_name) == ("fire", "消防救援支队 · 危化品处置队")
    await _refused(
        ErrorCode.VALIDATION,
        env.service.send_task(
            OFFICER, incident.id, assignee_kind=AssigneeKind.UNIT, assignee_ref="NOPE"
        ),
        "no unit",
    )
    grid = await env.service.send_task(
        OFFICER2, incident.id, assignee_kind=AssigneeKind.GRID_LEVEL, assignee_ref=VILLAGE
    )
    assert (grid.agency, grid.jurisdiction) == ("", VILLAGE)
    assert grid.escalation_level is EscalationLevel.VILLAGE
    await _refused(
        ErrorCode.FORBIDDEN,
        env.service.send_task(
            OFFICER2, incident.id, assignee_kind=AssigneeKind.GRID_LEVEL, assignee_ref="330105001"
        ),
        "outside your area",
    )
    await _refused(
        ErrorCode.VALIDATION,
        env.service.send_task(
            OFFICER2, incident.id, assignee_kind=AssigneeKind.GRID_LEVEL, assignee_ref="33-01"
        ),
        "jurisdiction code",
    )
    shared = await env.service.get_incident(VILLAGE_OFFICER, incident.id)
    assert shared.grid_areas == [VILLAGE]
    assert shared.agencies == ["fire"]


async def test_a_task_walks_its_life_and_refuses_what_the_table_does_not_allow(env: Env) -> None:
    incident = await _incident(env)
    task = await _task(env, incident)
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION,
        _step(env, FIRE_DESK, task, TaskAction.ARRIVE),
        "allowed: accept, decline, return, cancel",
    )
    await _refused(ErrorCode.VALIDATION, _step(env, FIRE_DESK, task, TaskAction.DECLINE), "reason")
    accepted = await _step(env, FIRE_DESK, task, TaskAction.ACCEPT)
    assert accepted.assignee_user == FIRE_DESK.username
    assert accepted.last_action is TaskAction.ACCEPT
    await _refused(ErrorCode.STALE_VERSION, _step(env, FIRE_DESK, task, TaskAction.SET_OUT))
    en_route = await _step(env, FIRE_DESK, accepted, TaskAction.SET_OUT)
    on_scene = await _step(env, FIRE_DESK, en_route, TaskAction.ARRIVE)
    await _refused(
        ErrorCode.VALIDATION, _step(env, FIRE_DESK, on_scene, TaskAction.FINISH), "what was done"
    )
    done = await _step(env, FIRE_DESK, on_scene, TaskAction.FINISH, "泄漏已堵住")
    assert (done.state, done.last_note, done.version) == (TaskState.DONE, "泄漏已堵住", 5)
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION, _step(env, OFFICER, done, TaskAction.CANCEL), "nothing"
    )
    kinds = [e.kind for e in env.published if isinstance(e.task, TaskView)]
    assert kinds == [EventKind.TASK_SENT] + [EventKind.TASK_CHANGED] * 4
    refused = await _task(env, incident, "transport")
    declined = await _step(env, OFFICER, refused, TaskAction.DECLINE, "非本部门职责")
    assert declined.state is TaskState.DECLINED


async def test_close_waits_for_every_task_and_carries_the_feedback(env: Env) -> None:
    incident = await _incident(env)
    fire = await _task(env, incident, "fire")
    police = await _task(env, incident, "police")
    fire_done = await _step(env, FIRE_DESK, fire, TaskAction.ACCEPT)
    fire_done = await _step(env, FIRE_DESK, fire_done, TaskAction.FINISH, "处置完毕")
    # The fire desk finishing does not close the incident.
    current = await env.service.get_incident(OFFICER, incident.id)
    assert current.state is IncidentState.RESPONDING
    await _refused(
        ErrorCode.VALIDATION,
        env.service.transition(OFFICER, incident.id, IncidentAction.CLOSE, current.version),
        "feedback to the reporter",
    )
    error = await _refused(
        ErrorCode.ILLEGAL_TRANSITION,
        env.service.transition(
            OFFICER, incident.id, IncidentAction.CLOSE, current.version, "已处置完毕"
        ),
        "still has open tasks",
    )
    assert f"#{police.id} 公安 (sent)" in error.message, "the open task named by its agency"
    await _step(env, OFFICER, police, TaskAction.CANCEL, "无需警力")
    closed = await env.service.transition(
        OFFICER, incident.id, IncidentAction.CLOSE, current.version, "泄漏已处置，道路恢复通行"
    )
    assert closed.state is IncidentState.CLOSED
    assert closed.feedback == "泄漏已处置，道路恢复通行"
    assert closed.closed_at == T0
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION,
        env.service.send_task(
            OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="medical"
        ),
        "closed",
    )
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION,
        env.service.change(OFFICER, incident.id, closed.version, level=IncidentLevel.I),
        "closed",
    )
    assert [v.id for v in await env.service.list_incidents(OFFICER)] == [incident.id]
    env.clock.advance(25 * 60)
    assert await env.service.list_incidents(OFFICER) == [], "closed a day ago: off the list"

    timeline = await env.service.timeline(OFFICER, incident.id)
    seqs = [event.seq for event in timeline]
    assert seqs == sorted(seqs)
    assert timeline[0].kind == EventKind.INCIDENT_OPENED
    assert timeline[-1].kind == EventKind.INCIDENT_CHANGED
    assert len(timeline) == 1 + 2 + 1 + 2 + 1 + 1, (
        "opened, 2 sent, responding, fire x2, cancel, close"
    )


# ---------------------------------------------------------------------------- scope


async def test_an_agency_desk_sees_and_works_only_its_own(env: Env) -> None:
    incident = await _incident(env)
    other = await env.service.open_incident(
        OFFICER, type_code="landslide", title="滑坡", jurisdiction=AREA
    )
    fire = await _task(env, incident, "fire")
    police = await _task(env, incident, "police")

    assert [v.id for v in await env.service.list_incidents(FIRE_DESK)] == [incident.id]
    assert {v.id for v in await env.service.list_incidents(OFFICER)} == {incident.id, other.id}
    await _refused(
        ErrorCode.FORBIDDEN,
        env.service.get_incident(FIRE_DESK, other.id),
        "^no such incident in your area$",
    )
    assert [t.id for t in await env.service.tasks_of(FIRE_DESK, incident.id)] == [fire.id]
    assert [t.id for t in await env.service.tasks_of(OFFICER, incident.id)] == [fire.id, police.id]
    assert [t.id for t in await env.service.inbox(FIRE_DESK)] == [fire.id]
    assert [t.id for t in await env.service.inbox(POLICE_DESK)] == [police.id]
    await _refused(ErrorCode.FORBIDDEN, env.service.get_task(FIRE_DESK, police.id))
    assert await env.service.get_task(FIRE_DESK, fire.id) == fire
    await _refused(ErrorCode.FORBIDDEN, _step(env, FIRE_DESK, police, TaskAction.ACCEPT))
    await _refused(
        ErrorCode.FORBIDDEN, _step(env, FIRE_DESK, fire, TaskAction.CANCEL), "command centre"
    )
    await _refused(
        ErrorCode.FORBIDDEN,
        env.service.transition(FIRE_DESK, incident.id, IncidentAction.CONTROL, 2),
        "command centre",
    )
    await _refused(
        ErrorCode.FORBIDDEN,
        env.service.send_task(
            FIRE_DESK, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire"
        ),
    )
    # The incident's timeline, as the fire desk reads it, has none of the police's task.
    timeline = await env.service.timeline(FIRE_DESK, incident.id)
    assert all(
        not isinstance(event.task, TaskView) or event.task.agency == "fire" for event in timeline
    )
    assert any(isinstance(event.task, TaskView) for event in timeline)
    await _refused(ErrorCode.FORBIDDEN, env.service.timeline(FIRE_DESK, other.id))
    # What the fan-out will ask of every event.
    police_sent = next(
        e for e in env.published if isinstance(e.task, TaskView) and e.task.id == police.id
    )
    assert access.can_see_event(OFFICER, police_sent)
    assert not access.can_see_event(FIRE_DESK, police_sent)
    opened_other = next(
        e
        for e in env.published
        if isinstance(e.incident, IncidentView) and e.incident.id == other.id
    )
    assert not access.can_see_event(FIRE_DESK, opened_other)
    assert not access.can_see_event(DEVICE, opened_other)


async def test_grid_levels_see_what_they_were_sent_and_work_it(env: Env) -> None:
    incident = await _incident(env)
    grid = await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.GRID_LEVEL, assignee_ref=VILLAGE
    )
    # The village sees the district's incident it works on; the neighbour district does not.
    assert [v.id for v in await env.service.list_incidents(VILLAGE_OFFICER)] == [incident.id]
    assert await env.service.list_incidents(NEIGHBOUR) == []
    assert [t.id for t in await env.service.inbox(VILLAGE_OFFICER)] == [grid.id]
    assert [t.id for t in await env.service.inbox(TOWN_OFFICER)] == [grid.id]
    assert await env.service.inbox(FIRE_DESK) == []
    accepted = await _step(env, VILLAGE_OFFICER, grid, TaskAction.ACCEPT)
    # The village works the task but does not command the district's incident.
    await _refused(
        ErrorCode.FORBIDDEN,
        env.service.change(VILLAGE_OFFICER, incident.id, 3, level=IncidentLevel.I),
    )
    await _refused(ErrorCode.FORBIDDEN, _step(env, NEIGHBOUR, accepted, TaskAction.SET_OUT))
    await _refused(ErrorCode.FORBIDDEN, _step(env, DEVICE, accepted, TaskAction.SET_OUT))


async def test_supervision_is_flagged_by_supervisors_and_answered_by_the_desk(env: Env) -> None:
    incident = await _incident(env)
    task = await _task(env, incident)
    await _refused(ErrorCode.FORBIDDEN, env.service.supervise(OFFICER, task.id, "请加快"))
    await _refused(ErrorCode.VALIDATION, env.service.supervise(SUPERVISOR, task.id, " "))
    due = T0 + dt.timedelta(hours=1)
    flagged = await env.service.supervise(SUPERVISOR, task.id, "请立即签收", due)
    assert flagged.version == task.version, "a flag does not make the desk's view stale"
    [flag] = flagged.supervisions
    assert (flag.by, flag.note, flag.due_at, flag.answered_at) == (
        SUPERVISOR.username,
        "请立即签收",
        due,
        None,
    )
    assert env.published[-1].kind == EventKind.TASK_SUPERVISED
    await _refused(
        ErrorCode.FORBIDDEN, env.service.answer_supervision(POLICE_DESK, flag.id, "已签收")
    )
    answered = await env.service.answer_supervision(FIRE_DESK, flag.id, "已签收，车辆出动")
    assert answered.supervisions[0].answered_by == FIRE_DESK.username
    assert answered.supervisions[0].answer == "已签收，车辆出动"
    assert env.published[-1].kind == EventKind.TASK_SUPERVISION_ANSWERED
    await _refused(
        ErrorCode.VALIDATION, env.service.answer_supervision(FIRE_DESK, flag.id, "再答"), "answered"
    )
    await _refused(
        ErrorCode.FORBIDDEN,
        env.service.answer_supervision(FIRE_DESK, 999, "x"),
        "^no such supervision in your area$",
    )
    await _step(env, OFFICER, task, TaskAction.CANCEL)
    await _refused(
        ErrorCode.ILLEGAL_TRANSITION, env.service.supervise(SUPERVISOR, task.id, "x"), "cancelled"
    )


async def test_unknown_ids_are_refused_like_hidden_ones(env: Env) -> None:
    """A missing incident or task gets the very refusal of one outside the scope, so an
    answer never tells which ids exist."""
    for what, call in (
        ("incident", env.service.get_incident(OFFICER, 404)),
        ("task", env.service.get_task(OFFICER, 404)),
        ("task", env.service.act_on_task(OFFICER, 404, TaskAction.ACCEPT, 1)),
        ("incident", env.service.transition(OFFICER, 404, IncidentAction.RESPOND, 1)),
    ):
        await _refused(ErrorCode.FORBIDDEN, call, f"^no such {what} in your area$")


async def test_events_are_recorded_against_their_incident(env: Env) -> None:
    incident = await _incident(env)
    await _task(env, incident)
    async with env.sessions() as session:
        rows = (await session.execute(select(EventRecord.kind, EventRecord.incident_id))).all()
    by_kind = {kind: incident_id for kind, incident_id in rows}
    assert by_kind[EventKind.ALARM_RAISED] is None
    assert by_kind[EventKind.INCIDENT_OPENED] == incident.id
    assert by_kind[EventKind.TASK_SENT] == incident.id, "a task's events belong to its incident"


async def test_the_default_clock_is_the_real_one(env: Env) -> None:
    service = IncidentService(env.sessions, env.writer, env.catalogue)
    before = dt.datetime.now(dt.UTC)
    incident = await service.open_incident(OFFICER, type_code="landslide", title="滑坡")
    assert before <= incident.opened_at <= dt.datetime.now(dt.UTC)


async def test_an_incident_is_reclassified_and_survives_a_changed_catalogue(env: Env) -> None:
    incident = await _incident(env)
    await _refused(
        ErrorCode.VALIDATION,
        env.service.change(OFFICER, incident.id, incident.version, type_code="nope"),
        "no event type",
    )
    retyped = await env.service.change(
        OFFICER, incident.id, incident.version, type_code="hazchem_fire_explosion", note="起火"
    )
    assert (retyped.type_code, retyped.type_name) == (
        "hazchem_fire_explosion",
        "危险化学品火灾爆炸",
    )
    assert retyped.last_note == "type hazchem_leak → hazchem_fire_explosion: 起火"
    # A site replaces its catalogue: incidents of a dropped type still take tasks.
    site = Catalogue.from_dict(
        {
            "version": 1,
            "areas": [
                {
                    "code": "grid",
                    "name": {"zh": "网格"},
                    "categories": [
                        {
                            "code": "disputes",
                            "name": {"zh": "纠纷"},
                            "items": [
                                {
                                    "code": "dispute",
                                    "name": {"zh": "纠纷"},
                                    "handling_level": "village",
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )
    service = IncidentService(env.sessions, env.writer, site, clock=env.clock)
    task = await service.send_task(
        OFFICER,
        incident.id,
        assignee_kind=AssigneeKind.AGENCY,
        assignee_ref="fire",
        deadlines={Deadline.ACCEPT: 5},
    )
    assert (task.accept_by, task.arrive_by, task.finish_by) == (
        T0 + dt.timedelta(minutes=5),
        None,
        None,
    )
