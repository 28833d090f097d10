"""Deadlines that escalate, on a clock the test moves: exactly once per deadline, up the
right ladder, again after a restart, and never twice with two servers on one database."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz import incidents as access
from backend.authz.principal import Principal
from backend.errors import Error
from backend.eventlog import log as eventlog
from backend.incidents import service as service_module
from backend.incidents.service import IncidentService
from backend.storage import faults
from backend.storage.models import TaskEscalation
from realtime.event_kinds import EventKind
from realtime.incident_states import (
    AssigneeKind,
    Deadline,
    EscalationCause,
    EscalationLevel,
    TaskAction,
    TaskState,
)
from realtime.protocol import Event, Role, TaskView
from tests.backend.incidents.conftest import (
    DEVICE,
    FIRE_DESK,
    OFFICER,
    POLICE_DESK,
    SUPERVISOR,
    T0,
    TOWN,
    TOWN_OFFICER,
    VILLAGE,
    VILLAGE_OFFICER,
    Env,
)

_L = EscalationLevel


async def _fire_task(env: Env) -> TaskView:
    alarm = await env.alarm()
    incident = await env.service.open_incident(OFFICER, alarm_id=alarm.id)
    # hazchem_leak: accept 5 min, arrive 30 min, finish 480 min.
    return await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire"
    )


async def _escalation_rows(env: Env) -> int:
    async with env.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(TaskEscalation)) or 0)


def _escalated(env: Env) -> list[TaskView]:
    return [
        event.task
        for event in env.published
        if event.kind == EventKind.TASK_ESCALATED and isinstance(event.task, TaskView)
    ]


async def test_each_overdue_deadline_escalates_exactly_once_up_the_agency_ladder(
    env: Env,
) -> None:
    task = await _fire_task(env)
    assert env.service.tracker.pending(task.id) == {
        Deadline.ACCEPT: T0 + dt.timedelta(minutes=5),
        Deadline.ARRIVE: T0 + dt.timedelta(minutes=30),
        Deadline.FINISH: T0 + dt.timedelta(minutes=480),
    }
    env.clock.advance(4)
    assert await env.service.check_deadlines() == []

    env.clock.advance(2)
    [first] = await env.service.check_deadlines()
    assert first.escalation_level is _L.AGENCY_SUPERVISOR
    [step] = first.escalations
    assert (step.cause, step.from_level, step.to_level, step.by) == (
        EscalationCause.ACCEPT,
        _L.AGENCY_DESK,
        _L.AGENCY_SUPERVISOR,
        "system",
    )
    assert "accept deadline" in step.note
    assert first.version == task.version, "an escalation does not make the desk's view stale"
    event = env.published[-1]
    assert (event.kind, event.actor, event.at) == (
        EventKind.TASK_ESCALATED,
        "system",
        env.clock.now,
    )

    # Checked again and again, the same deadline never escalates twice.
    for _ in range(3):
        env.clock.advance(1)
        assert await env.service.check_deadlines() == []
    assert await _escalation_rows(env) == 1

    env.clock.advance(30)  # past arrive: still not even accepted
    [second] = await env.service.check_deadlines()
    assert second.escalation_level is _L.COMMAND_CENTRE
    assert [e.cause for e in second.escalations] == [EscalationCause.ACCEPT, EscalationCause.ARRIVE]

    accepted = await env.service.act_on_task(OFFICER, task.id, TaskAction.ACCEPT, task.version)
    on_scene = await env.service.act_on_task(OFFICER, task.id, TaskAction.ARRIVE, accepted.version)
    assert set(env.service.tracker.pending(task.id)) == {Deadline.FINISH}
    env.clock.advance(480)
    [third] = await env.service.check_deadlines()
    assert third.escalation_level is _L.COMMAND_CENTRE, "the top of the ladder stays the top"
    assert third.escalations[-1].from_level is _L.COMMAND_CENTRE
    assert await _escalation_rows(env) == 3
    assert len(_escalated(env)) == 3
    done = await env.service.act_on_task(
        OFFICER, task.id, TaskAction.FINISH, on_scene.version, "处置完毕"
    )
    assert done.state is TaskState.DONE
    assert env.service.tracker.pending(task.id) == {}


async def test_a_deadline_met_in_time_never_escalates(env: Env) -> None:
    task = await _fire_task(env)
    env.clock.advance(3)
    accepted = await env.service.act_on_task(OFFICER, task.id, TaskAction.ACCEPT, task.version)
    assert Deadline.ACCEPT not in env.service.tracker.pending(task.id)
    await env.service.act_on_task(OFFICER, task.id, TaskAction.CANCEL, accepted.version)
    env.clock.advance(24 * 60)
    assert await env.service.check_deadlines() == []
    assert await _escalation_rows(env) == 0
    assert len(env.service.tracker) == 0


async def test_grid_tasks_go_village_town_district_and_returns_go_up_with_the_reason(
    env: Env,
) -> None:
    incident = await env.service.open_incident(
        OFFICER, type_code="neighbour_dispute", title="邻里纠纷：漏水", jurisdiction=VILLAGE
    )
    # neighbour_dispute (routine): accept 60 min, arrive 480 min, finish 3 days.
    task = await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.GRID_LEVEL, assignee_ref=VILLAGE
    )
    assert task.escalation_level is _L.VILLAGE
    env.clock.advance(61)
    [first] = await env.service.check_deadlines()
    assert (first.escalations[0].from_level, first.escalation_level) == (_L.VILLAGE, _L.TOWN)
    env.clock.advance(480)
    [second] = await env.service.check_deadlines()
    assert second.escalation_level is _L.DISTRICT

    # The village finds it beyond its means: the task goes to the town with the reason.
    returned = await env.service.act_on_task(
        VILLAGE_OFFICER, task.id, TaskAction.RETURN, task.version, "涉及物业与开发商，村级无法协调"
    )
    assert returned.state is TaskState.RETURNED
    assert returned.escalations[-1].cause is EscalationCause.RETURNED
    assert returned.escalations[-1].note == "涉及物业与开发商，村级无法协调"
    sent = env.published[-1]
    assert sent.kind == EventKind.TASK_SENT
    assert isinstance(sent.task, TaskView)
    upper = sent.task
    assert (upper.assignee_ref, upper.jurisdiction, upper.returned_from) == (TOWN, TOWN, task.id)
    assert upper.escalation_level is _L.TOWN
    assert "涉及物业与开发商" in upper.instructions
    assert upper.accept_by == env.clock.now + dt.timedelta(minutes=60), "fresh deadlines"
    assert [t.id for t in await env.service.inbox(TOWN_OFFICER)] == [upper.id]
    assert env.service.tracker.pending(task.id) == {}

    # The town returns it too: it goes to the district, and the district cannot return
    # further up the grid: its return goes back to the sender.
    env.clock.advance(5)
    district_sent = await env.service.act_on_task(
        TOWN_OFFICER, upper.id, TaskAction.RETURN, upper.version, "需区级协调"
    )
    assert district_sent.state is TaskState.RETURNED
    top = env.published[-1].task
    assert isinstance(top, TaskView)
    assert (top.assignee_ref, top.escalation_level) == ("330106", _L.DISTRICT)
    back = await env.service.act_on_task(
        OFFICER, top.id, TaskAction.RETURN, top.version, "转职能部门"
    )
    assert back.escalations[-1].to_level is _L.DISTRICT
    assert env.published[-1].kind == EventKind.TASK_CHANGED, "nothing above the district"


async def test_a_returned_agency_task_goes_back_to_the_command_centre(env: Env) -> None:
    task = await _fire_task(env)
    returned = await env.service.act_on_task(
        OFFICER, task.id, TaskAction.RETURN, task.version, "需要化工专家"
    )
    assert returned.escalations[-1].to_level is _L.COMMAND_CENTRE
    assert env.published[-1].kind == EventKind.TASK_CHANGED


async def test_changed_deadlines_are_tracked_and_checked_in_order(env: Env) -> None:
    task = await _fire_task(env)
    later = T0 + dt.timedelta(minutes=20)
    extended = await env.service.set_deadlines(
        OFFICER, task.id, task.version, {Deadline.ACCEPT: later}, "道路拥堵"
    )
    assert extended.accept_by == later
    assert extended.version == task.version + 1
    assert env.published[-1].kind == EventKind.TASK_CHANGED
    env.clock.advance(10)
    assert await env.service.check_deadlines() == [], "the old accept deadline is gone"
    env.clock.advance(11)
    [escalated] = await env.service.check_deadlines()
    assert escalated.escalations[0].cause is EscalationCause.ACCEPT

    with pytest.raises(Error, match="accept deadline would fall after the arrive"):
        await env.service.set_deadlines(
            OFFICER, task.id, extended.version, {Deadline.ACCEPT: T0 + dt.timedelta(hours=2)}
        )
    with pytest.raises(Error, match="say which"):
        await env.service.set_deadlines(OFFICER, task.id, extended.version, {})
    with pytest.raises(Error, match="changed"):
        await env.service.set_deadlines(OFFICER, task.id, task.version, {Deadline.FINISH: None})
    cleared = await env.service.set_deadlines(
        OFFICER, task.id, extended.version, {Deadline.ARRIVE: None, Deadline.FINISH: None}
    )
    assert env.service.tracker.pending(task.id) == {}
    cancelled = await env.service.act_on_task(OFFICER, task.id, TaskAction.CANCEL, cleared.version)
    with pytest.raises(Error, match="cancelled"):
        await env.service.set_deadlines(
            OFFICER, task.id, cancelled.version, {Deadline.FINISH: None}
        )


async def test_deadlines_are_recovered_from_the_database_after_a_restart(env: Env) -> None:
    first = await _fire_task(env)
    env.clock.advance(6)
    [escalated] = await env.service.check_deadlines()
    assert escalated.id == first.id
    second_incident = await env.service.open_incident(
        OFFICER, type_code="building_fire", title="民房起火", jurisdiction="330106"
    )
    second = await env.service.send_task(
        OFFICER, second_incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire"
    )
    await env.service.stop()

    restarted = env.new_service()
    assert len(restarted.tracker) == 0
    pending = await restarted.reload_deadlines()
    # first: arrive and finish (accept escalated already); second: all three.
    assert pending == 5
    assert set(restarted.tracker.pending(first.id)) == {Deadline.ARRIVE, Deadline.FINISH}
    env.clock.advance(25)  # T0+31: past second's accept (T0+11), first's arrive (T0+30)
    escalated_now = await restarted.check_deadlines()
    assert sorted((t.id, t.escalations[-1].cause) for t in escalated_now) == [
        (first.id, EscalationCause.ARRIVE),
        (second.id, EscalationCause.ACCEPT),
    ]
    # The old instance, still holding its tracker, cannot escalate them a second time.
    assert await env.service.check_deadlines() == []
    assert await _escalation_rows(env) == 3


async def test_a_restarted_service_reloads_on_its_first_check(env: Env) -> None:
    task = await _fire_task(env)
    env.clock.advance(6)
    restarted = env.new_service()
    [escalated] = await restarted.check_deadlines()
    assert escalated.id == task.id


async def test_two_servers_checking_together_escalate_once(env: Env) -> None:
    task = await _fire_task(env)
    other = env.new_service(own_writer=True)
    await other.reload_deadlines()
    env.clock.advance(6)
    results = await asyncio.gather(env.service.check_deadlines(), other.check_deadlines())
    assert sum(len(found) for found in results) == 1
    assert await _escalation_rows(env) == 1
    assert [t.id for t in _escalated(env)] == [task.id]


async def test_tasks_another_server_sent_are_picked_up_by_the_periodic_resync(
    env: Env,
) -> None:
    watcher = IncidentService(
        env.sessions, env.writer, env.catalogue, clock=env.clock, resync_every=3600
    )
    assert await watcher.check_deadlines() == []  # loaded: nothing open yet
    task = await _fire_task(env)  # sent by the other server (env.service)
    env.clock.advance(6)
    assert await watcher.check_deadlines() == [], "not seen until the next resync"
    eager = IncidentService(
        env.sessions, env.writer, env.catalogue, clock=env.clock, resync_every=0
    )
    await eager.reload_deadlines()
    second = await env.service.open_incident(
        OFFICER, type_code="building_fire", title="民房起火", jurisdiction="330106"
    )
    later = await env.service.send_task(
        OFFICER, second.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire"
    )
    env.clock.advance(11)
    escalated = await eager.check_deadlines()
    assert {t.id for t in escalated} == {task.id, later.id}


@pytest.mark.logs_errors
async def test_an_escalation_that_could_not_be_written_is_tried_again(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _fire_task(env)
    env.clock.advance(6)

    def fail(what: str) -> None:
        raise faults.InjectedCommitFailureError(f"injected ({what})")

    monkeypatch.setattr(faults, "before_commit", fail)
    with pytest.raises(faults.InjectedCommitFailureError):
        await env.service.check_deadlines()
    assert await _escalation_rows(env) == 0
    assert Deadline.ACCEPT in env.service.tracker.pending(task.id), "put back for the next check"
    monkeypatch.undo()
    [escalated] = await env.service.check_deadlines()
    assert escalated.id == task.id


async def test_the_runner_escalates_on_its_own(env: Env) -> None:
    escalated = asyncio.Event()

    def publish(events: Sequence[Event]) -> None:
        env.published.extend(events)
        if any(event.kind == EventKind.TASK_ESCALATED for event in events):
            escalated.set()

    writer = eventlog.EventWriter(env.sessions, publish)
    service = IncidentService(
        env.sessions, writer, env.catalogue, clock=env.clock, check_interval=0.01
    )
    task = await _fire_task(env)
    service.start()
    try:
        env.clock.advance(6)
        async with asyncio.timeout(10):
            await escalated.wait()
    finally:
        await service.stop()
    assert [t.id for t in _escalated(env)] == [task.id]


async def test_a_task_changed_during_a_reload_is_not_lost(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        await _fire_task_on_new_incident(env)
    incident = await env.service.open_incident(
        OFFICER, type_code="building_fire", title="又一起火灾", jurisdiction="330106"
    )
    monkeypatch.setattr(service_module, "RELOAD_PAGE", 1)
    # Hold the reload before its second page until a task has been sent meanwhile.
    real_sessions = env.sessions
    reached, go_on = asyncio.Event(), asyncio.Event()
    opened = 0

    @contextlib.asynccontextmanager
    async def held_sessions() -> AsyncIterator[AsyncSession]:
        nonlocal opened
        opened += 1
        if opened == 2:
            reached.set()
            await go_on.wait()
        async with real_sessions() as session:
            yield session

    monkeypatch.setattr(env.service, "_sessions", held_sessions)
    reload = asyncio.create_task(env.service.reload_deadlines())
    await reached.wait()
    sent = await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="police"
    )
    go_on.set()
    pending = await reload
    assert set(env.service.tracker.pending(sent.id)) == set(Deadline)
    assert pending == len(env.service.tracker) == 4 * 3


async def _fire_task_on_new_incident(env: Env) -> TaskView:
    incident = await env.service.open_incident(
        OFFICER, type_code="building_fire", title="起火", jurisdiction="330106"
    )
    return await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire"
    )


async def test_a_deadline_that_no_longer_applies_is_dropped_quietly(env: Env) -> None:
    task = await _fire_task(env)
    await env.service.reload_deadlines()
    accepted = await env.service.act_on_task(OFFICER, task.id, TaskAction.ACCEPT, task.version)
    # A stale entry (as a second server's tracker may hold) and one for no task at all.
    env.service.tracker.set(accepted.id, Deadline.ACCEPT, T0 + dt.timedelta(minutes=5))
    env.service.tracker.set(999, Deadline.ACCEPT, T0)
    env.clock.advance(6)
    assert await env.service.check_deadlines() == []
    assert await _escalation_rows(env) == 0
    assert set(env.service.tracker.pending(task.id)) == {Deadline.ARRIVE, Deadline.FINISH}


async def test_a_deadline_another_server_extended_is_tracked_at_its_new_time(env: Env) -> None:
    task = await _fire_task(env)
    await env.service.reload_deadlines()
    other = env.new_service(own_writer=True)
    later = T0 + dt.timedelta(minutes=20)
    await other.set_deadlines(OFFICER, task.id, task.version, {Deadline.ACCEPT: later})
    env.clock.advance(6)
    assert await env.service.check_deadlines() == [], "this server still had the old time"
    assert env.service.tracker.pending(task.id)[Deadline.ACCEPT] == later
    env.clock.advance(15)
    [escalated] = await env.service.check_deadlines()
    assert escalated.escalations[0].cause is EscalationCause.ACCEPT


FIRE_SUPERVISOR = Principal(10, "fire_chief", "消防值班领导", Role.SUPERVISOR, "fire", "")


async def test_an_escalated_task_lands_at_the_next_desk_up(env: Env) -> None:
    task = await _fire_task(env)
    assert await env.service.escalated_to(FIRE_SUPERVISOR) == []
    env.clock.advance(6)
    await env.service.check_deadlines()
    assert [t.id for t in await env.service.escalated_to(FIRE_SUPERVISOR)] == [task.id]
    assert await env.service.escalated_to(FIRE_DESK) == [], "it went above the desk"
    assert await env.service.escalated_to(OFFICER) == []
    env.clock.advance(30)
    await env.service.check_deadlines()
    assert await env.service.escalated_to(FIRE_SUPERVISOR) == []
    assert [t.id for t in await env.service.escalated_to(OFFICER)] == [task.id]
    assert await env.service.escalated_to(POLICE_DESK) == []


async def test_a_village_task_overdue_lands_at_the_town(env: Env) -> None:
    incident = await env.service.open_incident(
        OFFICER, type_code="garbage_pileup", title="垃圾堆积", jurisdiction=VILLAGE
    )
    task = await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.GRID_LEVEL, assignee_ref=VILLAGE
    )
    assert await env.service.escalated_to(VILLAGE_OFFICER) == [], "not escalated yet"
    env.clock.advance(61)
    await env.service.check_deadlines()
    assert [t.id for t in await env.service.escalated_to(TOWN_OFFICER)] == [task.id]
    assert await env.service.escalated_to(VILLAGE_OFFICER) == []


def test_the_rungs_of_each_desk() -> None:
    assert access.rungs_of(FIRE_DESK) == {_L.AGENCY_DESK}
    assert access.rungs_of(FIRE_SUPERVISOR) == {_L.AGENCY_SUPERVISOR}
    assert access.rungs_of(OFFICER) == {_L.COMMAND_CENTRE, _L.DISTRICT}
    assert access.rungs_of(TOWN_OFFICER) == {_L.COMMAND_CENTRE, _L.TOWN}
    assert access.rungs_of(VILLAGE_OFFICER) == {_L.COMMAND_CENTRE, _L.VILLAGE}
    assert access.rungs_of(DEVICE) == frozenset()
    fire_officer = Principal(11, "fire_officer", "消防员", Role.OFFICER, "fire", "")
    assert access.rungs_of(fire_officer) == frozenset()


async def test_a_desk_on_no_rung_has_nothing_escalated_to_it(env: Env) -> None:
    assert await env.service.escalated_to(DEVICE) == []


async def test_the_desk_sees_its_supervision_flags_until_it_answers(env: Env) -> None:
    task = await _fire_task(env)
    assert await env.service.open_supervisions(FIRE_DESK) == []
    flagged = await env.service.supervise(SUPERVISOR, task.id, "请立即签收")
    assert [t.id for t in await env.service.open_supervisions(FIRE_DESK)] == [task.id]
    assert [t.id for t in await env.service.open_supervisions(SUPERVISOR)] == [task.id]
    assert await env.service.open_supervisions(POLICE_DESK) == []
    await env.service.answer_supervision(FIRE_DESK, flagged.supervisions[0].id, "已签收")
    assert await env.service.open_supervisions(FIRE_DESK) == []
