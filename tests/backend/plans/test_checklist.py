"""Plan checklists in incidents over a real server (SQLite and PostgreSQL): the plan that
applies to the incident's type and level with its steps and due times; a tick shows who
and when in the answer, in the event and on a second console, and reaches only those who
see the incident; the checklist follows a change of level (ticks kept per plan); an
agency desk ticks only its agency's steps; a closed incident, an unknown plan or step, and
a hostile peer are refused with a clear error while the service keeps going."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from backend.storage.models import ChecklistTick
from realtime.client import CommandError
from realtime.event_kinds import EventKind
from realtime.incident_states import IncidentAction, IncidentLevel
from realtime.protocol import (
    ChecklistResult,
    ChecklistView,
    ErrorCode,
    Event,
    IncidentView,
    TickStep,
    TransitionIncident,
)
from tests.backend.conftest import Console, open_console
from tests.backend.plans.conftest import (
    LEVEL_II,
    World,
    add_plan,
    checklist_request,
    password,
)
from tests.backend.server.test_wire_robustness import _recv, raw_console

QUIET = 0.3
"""Seconds a console is watched after the expected events: anything not meant for it
would have arrived by then."""


async def checklists(console: Console, incident_id: int) -> list[ChecklistView]:
    result = await console.client.request(checklist_request(incident_id))
    assert isinstance(result, ChecklistResult)
    assert result.incident_id == incident_id
    return result.checklists


async def tick(
    console: Console,
    incident_id: int,
    step_id: str,
    *,
    plan_code: str = "HZ-LEAK-II",
    done: bool = True,
    note: str = "",
) -> ChecklistResult:
    result = await console.client.request(
        TickStep(
            req="",
            incident_id=incident_id,
            plan_code=plan_code,
            step_id=step_id,
            done=done,
            note=note,
        )
    )
    assert isinstance(result, ChecklistResult)
    return result


def ticked_events(console: Console, incident_id: int) -> list[Event]:
    return [
        event
        for event in console.recorder.events
        if event.kind == EventKind.CHECKLIST_TICKED
        and isinstance(event.incident, IncidentView)
        and event.incident.id == incident_id
    ]


async def refused(console: Console, command: TickStep) -> CommandError:
    with pytest.raises(CommandError) as caught:
        await console.client.request(command)
    return caught.value


async def test_a_level_ii_leak_shows_the_level_ii_plan_with_its_steps_and_due_times(
    world: World,
) -> None:
    centre = await world.console("centre")
    try:
        incident = await world.open(centre)
        [plan] = await checklists(centre, incident.id)
        assert (plan.plan_code, plan.plan_name, plan.response_level) == (
            "HZ-LEAK-II",
            "危化品泄漏Ⅱ级响应预案",
            "II",
        )
        assert plan.roles == ["总指挥", "现场指挥部"]
        assert [(s.id, s.role, s.done) for s in plan.steps] == [
            ("s1", "总指挥", False),
            ("s2", "fire", False),
            ("s3", "police", False),
            ("s4", "", False),
        ]
        assert plan.steps[0].due_at == incident.opened_at + dt.timedelta(minutes=10)
        assert plan.steps[2].due_at == incident.opened_at + dt.timedelta(minutes=45)
        assert plan.steps[3].due_at is None
    finally:
        await centre.close()


async def test_an_incident_of_a_type_without_a_plan_has_an_empty_checklist(world: World) -> None:
    centre = await world.console("centre")
    try:
        incident = await world.open(centre, type_code="building_fire", tasks=())
        assert await checklists(centre, incident.id) == []
    finally:
        await centre.close()


async def test_a_tick_shows_who_and_when_in_the_answer_the_event_and_a_second_console(
    world: World,
) -> None:
    centre, wall, fire, police, neighbour = [
        await world.console(name)
        for name in ("centre", "wall", "fire_desk", "police_desk", "neighbour")
    ]
    try:
        incident = await world.open(centre)
        before = dt.datetime.now(dt.UTC)
        result = await tick(centre, incident.id, "s1", note="已电话报告区长")
        step = result.checklists[0].steps[0]
        assert (step.done, step.done_by, step.note) == (True, "centre", "已电话报告区长")
        assert step.done_at is not None
        assert step.done_at >= before - dt.timedelta(seconds=1)

        for console in (centre, wall, fire):
            await console.recorder.wait_for(lambda c=console: ticked_events(c, incident.id))
            [event] = ticked_events(console, incident.id)
            assert event.actor == "centre"
            assert event.note == "已电话报告区长"
            assert event.fields == ["s1"]
            assert event.at == step.done_at
            assert isinstance(event.checklist, ChecklistView)
            assert event.checklist.plan_code == "HZ-LEAK-II"
            assert event.checklist.steps[0] == step
        # The police desk has no task on it, the neighbour is another district.
        await asyncio.sleep(QUIET)
        assert ticked_events(police, incident.id) == []
        assert ticked_events(neighbour, incident.id) == []

        # The wall reads the same checklist; ticking again keeps the first who and when.
        assert (await checklists(wall, incident.id))[0].steps[0] == step
        again = await tick(centre, incident.id, "s1")
        assert again.checklists[0].steps[0] == step
        await asyncio.sleep(QUIET)
        assert len(ticked_events(wall, incident.id)) == 1

        # Unticking clears it (the event log keeps who ticked and unticked).
        cleared = await tick(centre, incident.id, "s1", done=False)
        assert cleared.checklists[0].steps[0].done is False
        assert cleared.checklists[0].steps[0].done_by == ""
        await wall.recorder.wait_for(lambda: len(ticked_events(wall, incident.id)) == 2)
    finally:
        for console in (centre, wall, fire, police, neighbour):
            await console.close()


async def test_the_checklist_follows_a_change_of_level_and_keeps_each_plans_ticks(
    world: World,
) -> None:
    centre = await world.console("centre")
    try:
        incident = await world.open(centre)
        await tick(centre, incident.id, "s1")
        await world.change_level(centre, incident, IncidentLevel.I)
        [plan] = await checklists(centre, incident.id)
        assert plan.plan_code == "HZ-LEAK-I"
        assert [step.done for step in plan.steps] == [False, False]
        error = await refused(
            centre, TickStep(req="", incident_id=incident.id, plan_code="HZ-LEAK-II", step_id="s2")
        )
        assert error.code is ErrorCode.VALIDATION
        assert "no plan 'HZ-LEAK-II' applies" in error.message
        await tick(centre, incident.id, "a1", plan_code="HZ-LEAK-I")

        await world.change_level(centre, incident, IncidentLevel.II)
        [back] = await checklists(centre, incident.id)
        assert back.plan_code == "HZ-LEAK-II"
        assert [step.done for step in back.steps] == [True, False, False, False]
    finally:
        await centre.close()


async def test_an_agency_desk_ticks_only_its_agencys_steps(world: World) -> None:
    centre, fire, police, wall = [
        await world.console(name) for name in ("centre", "fire_desk", "police_desk", "wall")
    ]
    try:
        incident = await world.open(centre, tasks=("fire",))
        result = await tick(fire, incident.id, "s2", note="已出动2车")
        assert result.checklists[0].steps[1].done_by == "fire_desk"
        for step_id in ("s1", "s3", "s4"):
            error = await refused(
                fire,
                TickStep(req="", incident_id=incident.id, plan_code="HZ-LEAK-II", step_id=step_id),
            )
            assert error.code is ErrorCode.FORBIDDEN
            assert "only its agency's steps" in error.message
        # The police desk has no task: the incident is refused like a missing one.
        hidden = await refused(
            police, TickStep(req="", incident_id=incident.id, plan_code="HZ-LEAK-II", step_id="s3")
        )
        missing = await refused(
            police, TickStep(req="", incident_id=99999, plan_code="HZ-LEAK-II", step_id="s3")
        )
        assert (hidden.code, hidden.message) == (missing.code, missing.message)
        # A viewer reads but never ticks.
        viewer = await refused(
            wall, TickStep(req="", incident_id=incident.id, plan_code="HZ-LEAK-II", step_id="s4")
        )
        assert viewer.code is ErrorCode.FORBIDDEN
        # The command centre ticks an agency's step on its behalf (a report by phone).
        assert (await tick(centre, incident.id, "s3")).checklists[0].steps[2].done
    finally:
        for console in (centre, fire, police, wall):
            await console.close()


async def test_a_closed_incident_takes_no_more_ticks(world: World) -> None:
    centre = await world.console("centre")
    try:
        incident = await world.open(centre, tasks=())
        await tick(centre, incident.id, "s1")
        current = await world.server.incidents.get_incident(world.users["centre"], incident.id)
        await centre.client.request(
            TransitionIncident(
                req="",
                incident_id=incident.id,
                action=IncidentAction.CLOSE,
                expected_version=current.version,
                note="泄漏已控制, 已反馈",
            )
        )
        error = await refused(
            centre, TickStep(req="", incident_id=incident.id, plan_code="HZ-LEAK-II", step_id="s2")
        )
        assert error.code is ErrorCode.VALIDATION
        assert "is closed" in error.message
        # Still readable, with what was ticked.
        [plan] = await checklists(centre, incident.id)
        assert [step.done for step in plan.steps] == [True, False, False, False]
    finally:
        await centre.close()


async def test_unknown_plans_and_steps_are_refused_and_nothing_is_written(world: World) -> None:
    centre = await world.console("centre")
    try:
        incident = await world.open(centre, tasks=())
        for plan_code, step_id, words in (
            ("NO-SUCH-PLAN", "s1", "no plan 'NO-SUCH-PLAN' applies"),
            ("NB-LEAK-II", "s1", "no plan 'NB-LEAK-II' applies"),  # another district's
            ("OLD-LEAK-II", "s1", "no plan 'OLD-LEAK-II' applies"),  # retired
            ("HZ-LEAK-II", "s99", "has no step 's99'"),
        ):
            error = await refused(
                centre,
                TickStep(req="", incident_id=incident.id, plan_code=plan_code, step_id=step_id),
            )
            assert error.code is ErrorCode.VALIDATION
            assert words in error.message
        async with world.server.sessions() as session:
            assert await session.get(ChecklistTick, (incident.id, "HZ-LEAK-II", "s99")) is None
        # The session and the service go on.
        assert (await tick(centre, incident.id, "s4")).checklists[0].steps[3].done
    finally:
        await centre.close()


async def test_a_damaged_plan_row_is_left_out_without_costing_the_others(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await add_plan(
        world.server.sessions,
        "BROKEN",
        "损坏的预案",
        LEVEL_II,
        raw_details={"type": "plan", "type_codes": "not a list"},
    )
    centre = await world.console("centre")
    try:
        incident = await world.open(centre, tasks=())
        assert [plan.plan_code for plan in await checklists(centre, incident.id)] == ["HZ-LEAK-II"]
        assert "plan BROKEN left out" in caplog.text
    finally:
        await centre.close()


async def test_ticks_come_again_on_resume_only_to_those_who_see_the_incident(
    world: World,
) -> None:
    centre = await world.console("centre")
    try:
        incident = await world.open(centre, tasks=())
        await tick(centre, incident.id, "s1", note="已报告")
    finally:
        await centre.close()
    wall = await open_console(world.server, "wall", password("wall"), last_seq=0)
    neighbour = await open_console(world.server, "neighbour", password("neighbour"), last_seq=0)
    try:
        await wall.recorder.wait_for(lambda: ticked_events(wall, incident.id))
        [event] = ticked_events(wall, incident.id)
        assert isinstance(event.checklist, ChecklistView)
        assert event.checklist.steps[0].done_by == "centre"
        await asyncio.sleep(QUIET)
        assert ticked_events(neighbour, incident.id) == []
    finally:
        await wall.close()
        await neighbour.close()


async def test_a_hostile_tick_is_refused_and_the_session_goes_on(world: World) -> None:
    centre = await world.console("centre")
    try:
        incident = await world.open(centre, tasks=())
    finally:
        await centre.close()
    async with raw_console(world.server, "centre", password("centre")) as ws:
        for payload in (
            {"plan_code": "HZ-LEAK-II", "step_id": "s1", "note": "长" * 201},
            {"plan_code": "../../etc", "step_id": "s1"},
            {"plan_code": "HZ-LEAK-II", "step_id": "x" * 33},
            {"plan_code": "HZ-LEAK-II", "step_id": "s1", "done": "yes"},
        ):
            await ws.send(
                json.dumps(
                    {"type": "incident.tick", "req": "bad", "incident_id": incident.id, **payload}
                )
            )
            answer = await _recv(ws)
            assert (answer["type"], answer["code"]) == ("error", "bad_message"), answer
        await ws.send(
            json.dumps(
                {
                    "type": "incident.tick",
                    "req": "good",
                    "incident_id": incident.id,
                    "plan_code": "HZ-LEAK-II",
                    "step_id": "s1",
                }
            )
        )
        while (answer := await _recv(ws))["type"] != "result":
            pass
        assert answer["data"]["checklists"][0]["steps"][0]["done"] is True
