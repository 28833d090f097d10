"""Incidents and tasks over a real server: the commands work end to end, and each console
gets exactly the incident and task events its user may see — live, and again after a
reconnect with ``resume_from`` — and the deadline runner, on a clock the test moves,
escalates an overdue task to the desks of the rung it lands on.

The consoles: the command centre (whole area), the fire desk and the police desk (agency
desks of Hangzhou), the police agency's supervisor, a village officer of Xihu (a grid
level with a task), and a viewer of another district (Shanghai), who sees nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.jurisdictions.codes import Level
from backend.jurisdictions.tree import Jurisdiction
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from realtime.client import CommandError
from realtime.incident_states import (
    AssigneeKind,
    Deadline,
    EscalationLevel,
    IncidentAction,
    IncidentState,
    TaskAction,
)
from realtime.protocol import (
    ActOnTask,
    AlarmResult,
    CreateAlarm,
    Event,
    GetIncident,
    GetIncidentTimeline,
    IncidentResult,
    IncidentsResult,
    IncidentView,
    ListIncidents,
    ListTasks,
    OpenIncident,
    Role,
    SendTask,
    SetTaskDeadlines,
    TaskList,
    TaskResult,
    TasksResult,
    TaskView,
    TimelineResult,
    TransitionIncident,
)
from realtime.states import AlarmLevel
from tests.backend.conftest import Console, open_console
from tests.backend.server.test_wire_robustness import _recv, raw_console

T0 = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)
XIHU = "330106"
VILLAGE = "330106001001"
USERS = (
    # username, role, agency, jurisdiction
    ("cc", Role.OFFICER, None, ""),
    ("fire_desk", Role.AGENCY, "fire", "3301"),
    ("police_desk", Role.AGENCY, "police", "3301"),
    ("police_chief", Role.SUPERVISOR, "police", "3301"),
    ("village", Role.OFFICER, None, VILLAGE),
    ("sh_viewer", Role.VIEWER, None, "310104"),
)
QUIET = 0.3
"""Seconds a console is watched after its expected events: anything not meant for it
would have arrived by then."""


class Clock:
    """The deadline runner's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Shift:
    server: DutyDeskServer
    clock: Clock
    consoles: dict[str, Console]


@pytest.fixture
async def shift(db_url: str, tmp_path: Path) -> AsyncIterator[Shift]:
    clock = Clock()
    server = DutyDeskServer(
        ServerConfig(
            db_url=db_url,
            data_dir=tmp_path,
            port=0,
            cipher=FieldCipher.generate(),
            console_rate_per_second=1000.0,
            console_rate_burst=1000,
            clock=clock,
            deadline_check_interval=0.05,
        )
    )
    await server.start()
    consoles: dict[str, Console] = {}
    try:
        for username, role, agency, area in USERS:
            await server.users.add_user(
                username, f"pw-{username}-pass", role, agency=agency, jurisdiction=area
            )
            consoles[username] = await open_console(server, username, f"pw-{username}-pass")
        yield Shift(server, clock, consoles)
    finally:
        for console in consoles.values():
            await console.close()
        await server.close()
    assert not server.incidents._runner.running, "the deadline runner stops with the server"


def _mark(event: Event) -> tuple[str, str]:
    """What an event is about, in words: its kind and the task's assignee (or "incident")."""
    if isinstance(event.task, TaskView):
        return (event.kind, event.task.assignee_ref)
    assert isinstance(event.incident, IncidentView), event
    return (event.kind, "incident")


def _incident_marks(events: list[Event]) -> list[tuple[str, str]]:
    return [_mark(e) for e in events if e.kind.startswith(("incident.", "task."))]


async def _got_exactly(console: Console, expected: list[tuple[str, str]]) -> None:
    def marks() -> list[tuple[str, str]]:
        return _incident_marks(console.recorder.events)

    await console.recorder.wait_for(lambda: len(marks()) >= len(expected))
    await asyncio.sleep(QUIET)
    assert marks() == expected


async def _open_and_send(shift: Shift) -> tuple[IncidentView, dict[str, TaskView]]:
    cc = shift.consoles["cc"].client
    opened = await cc.request(
        OpenIncident(
            req=cc.new_request_id(),
            type_code="hazchem_transport_accident",
            title="液氨槽车侧翻",
            jurisdiction=XIHU,
        )
    )
    assert isinstance(opened, IncidentResult)
    tasks: dict[str, TaskView] = {}
    for kind, ref in (
        (AssigneeKind.AGENCY, "fire"),
        (AssigneeKind.AGENCY, "police"),
        (AssigneeKind.GRID_LEVEL, VILLAGE),
    ):
        sent = await cc.request(
            SendTask(
                req=cc.new_request_id(),
                incident_id=opened.incident.id,
                assignee_kind=kind,
                assignee_ref=ref,
                instructions=f"{ref}: 到场处置",
            )
        )
        assert isinstance(sent, TaskResult)
        tasks[ref] = sent.task
    fire = shift.consoles["fire_desk"].client
    accepted = await fire.request(
        ActOnTask(
            req=fire.new_request_id(),
            task_id=tasks["fire"].id,
            action=TaskAction.ACCEPT,
            expected_version=tasks["fire"].version,
        )
    )
    assert isinstance(accepted, TaskResult)
    assert accepted.task.assignee_user == "fire_desk"
    return opened.incident, tasks


EXPECTED = {
    "cc": [
        ("incident.opened", "incident"),
        ("task.sent", "fire"),
        ("incident.changed", "incident"),
        ("task.sent", "police"),
        ("task.sent", VILLAGE),
        ("task.changed", "fire"),
    ],
    # Shared with fire by its task: the incident's change that names fire, its own task.
    "fire_desk": [
        ("task.sent", "fire"),
        ("incident.changed", "incident"),
        ("task.changed", "fire"),
    ],
    # The incident did not change after police got its task: only the task.
    "police_desk": [("task.sent", "police")],
    "police_chief": [("task.sent", "police")],
    # The village sees its own task; the incident's change came before it had one.
    "village": [("task.sent", VILLAGE)],
    "sh_viewer": [],
}


async def test_each_console_gets_exactly_its_incident_events_live_and_on_resume(
    shift: Shift,
) -> None:
    before = (
        shift.consoles["cc"].recorder.events[-1].seq if shift.consoles["cc"].recorder.events else 0
    )
    incident, _ = await _open_and_send(shift)
    for username, expected in EXPECTED.items():
        await _got_exactly(shift.consoles[username], expected)

    # Every console reconnects and resumes from before the incident: the same events.
    for username, expected in EXPECTED.items():
        resumed = await open_console(shift.server, username, f"pw-{username}-pass", last_seq=before)
        try:
            await _got_exactly(resumed, expected)
            assert not resumed.recorder.snapshots, f"{username}: a replay, not a snapshot"
        finally:
            await resumed.close()

    # The timeline is filtered exactly like the stream.
    for username in ("cc", "fire_desk", "police_desk"):
        client = shift.consoles[username].client
        timeline = await client.request(
            GetIncidentTimeline(req=client.new_request_id(), incident_id=incident.id)
        )
        assert isinstance(timeline, TimelineResult)
        assert _incident_marks(timeline.events) == EXPECTED[username], username
        # after_seq resumes after the last event held.
        held = timeline.events[0].seq
        rest = await client.request(
            GetIncidentTimeline(
                req=client.new_request_id(), incident_id=incident.id, after_seq=held
            )
        )
        assert isinstance(rest, TimelineResult)
        assert rest.events == timeline.events[1:], username


async def test_what_each_desk_may_read_and_do(shift: Shift) -> None:
    incident, tasks = await _open_and_send(shift)
    fire = shift.consoles["fire_desk"].client
    got = await fire.request(GetIncident(req=fire.new_request_id(), incident_id=incident.id))
    assert isinstance(got, IncidentResult)
    assert [t.assignee_ref for t in got.tasks] == ["fire"], "an agency sees only its own task"
    cc = shift.consoles["cc"].client
    got = await cc.request(GetIncident(req=cc.new_request_id(), incident_id=incident.id))
    assert isinstance(got, IncidentResult)
    assert [t.assignee_ref for t in got.tasks] == ["fire", "police", VILLAGE]

    # Another district's viewer: the incident does not exist for it, like a missing one.
    viewer = shift.consoles["sh_viewer"].client
    for incident_id in (incident.id, 999_999):
        with pytest.raises(CommandError) as hidden:
            await viewer.request(GetIncident(req=viewer.new_request_id(), incident_id=incident_id))
        assert (hidden.value.code, hidden.value.message) == (
            "forbidden",
            "no such incident in your area",
        )
    listed = await viewer.request(ListIncidents(req=viewer.new_request_id()))
    assert listed == IncidentsResult(incidents=[])

    # The police desk may not touch the fire task (hidden), nor cancel its own.
    police = shift.consoles["police_desk"].client
    with pytest.raises(CommandError, match="no such task in your area"):
        await police.request(
            ActOnTask(
                req=police.new_request_id(),
                task_id=tasks["fire"].id,
                action=TaskAction.SET_OUT,
                expected_version=2,
            )
        )
    with pytest.raises(CommandError, match="only the command centre may cancel"):
        await police.request(
            ActOnTask(
                req=police.new_request_id(),
                task_id=tasks["police"].id,
                action=TaskAction.CANCEL,
                expected_version=1,
            )
        )
    inbox = await police.request(ListTasks(req=police.new_request_id()))
    assert isinstance(inbox, TasksResult)
    assert [t.assignee_ref for t in inbox.tasks] == ["police"]

    # A re-send of a step after a lost answer (same req) is answered, not taken twice.
    step = {
        "type": "task.act",
        "req": "accept-1",
        "task_id": tasks["police"].id,
        "action": "accept",
        "expected_version": 1,
    }
    async with raw_console(shift.server, "police_desk", "pw-police_desk-pass") as ws:
        answers = []
        for _ in range(2):
            await ws.send(json.dumps(step))
            while (answer := await _recv(ws)).get("req") != "accept-1":
                pass
            answers.append(answer)
    assert answers[0] == answers[1]
    assert answers[0]["type"] == "result"
    assert answers[0]["data"]["task"]["version"] == 2


async def test_an_overdue_task_escalates_to_the_desks_of_the_rung_it_lands_on(
    shift: Shift,
) -> None:
    incident, tasks = await _open_and_send(shift)
    cc = shift.consoles["cc"].client
    police_task = tasks["police"]
    moved = await cc.request(
        SetTaskDeadlines(
            req=cc.new_request_id(),
            task_id=police_task.id,
            expected_version=police_task.version,
            deadlines={Deadline.ACCEPT: T0 + dt.timedelta(seconds=10)},
            note="限10秒内签收",
        )
    )
    assert isinstance(moved, TaskResult)
    chief = shift.consoles["police_chief"]
    await asyncio.sleep(0.2)
    assert not [e for e in chief.recorder.events if e.kind == "task.escalated"], "not yet due"

    shift.clock.now = T0 + dt.timedelta(seconds=11)
    await chief.recorder.wait_for(
        lambda: any(e.kind == "task.escalated" for e in chief.recorder.events)
    )
    escalated = next(e for e in chief.recorder.events if e.kind == "task.escalated")
    assert isinstance(escalated.task, TaskView)
    assert escalated.task.id == police_task.id
    assert escalated.task.escalation_level is EscalationLevel.AGENCY_SUPERVISOR
    for username in ("cc", "police_desk"):
        recorder = shift.consoles[username].recorder
        await recorder.wait_for(lambda r=recorder: any(e.seq == escalated.seq for e in r.events))
    await asyncio.sleep(QUIET)
    for username in ("fire_desk", "village", "sh_viewer"):
        assert all(e.seq != escalated.seq for e in shift.consoles[username].recorder.events), (
            username
        )

    # The badge: the supervisor's list of tasks escalated to its rung.
    client = chief.client
    badge = await client.request(ListTasks(req=client.new_request_id(), which=TaskList.ESCALATED))
    assert isinstance(badge, TasksResult)
    assert [t.id for t in badge.tasks] == [police_task.id]
    cc_badge = await cc.request(ListTasks(req=cc.new_request_id(), which=TaskList.ESCALATED))
    assert isinstance(cc_badge, TasksResult)
    assert cc_badge.tasks == [], "one rung at a time: the command centre is next"
    assert incident.id == escalated.task.incident_id


async def test_the_grid_reporter_follows_its_incident_to_the_feedback(shift: Shift) -> None:
    """A village officer reports; the district opens the incident at district level, which
    lies outside the village: the reporter still gets its events and reads the feedback."""
    village = shift.consoles["village"].client
    reported = await village.request(
        CreateAlarm(
            req=village.new_request_id(),
            alarm_type="fire",
            level=AlarmLevel.ORANGE,
            title="村口仓库冒烟",
            jurisdiction=VILLAGE,
        )
    )
    assert isinstance(reported, AlarmResult)
    cc = shift.consoles["cc"].client
    opened = await cc.request(
        OpenIncident(req=cc.new_request_id(), alarm_id=reported.alarm.id, jurisdiction=XIHU)
    )
    assert isinstance(opened, IncidentResult)
    assert opened.incident.reported_by == "village"
    closed = await cc.request(
        TransitionIncident(
            req=cc.new_request_id(),
            incident_id=opened.incident.id,
            action=IncidentAction.CLOSE,
            expected_version=opened.incident.version,
            note="已扑灭，无人员伤亡",
        )
    )
    assert isinstance(closed, IncidentResult)
    expected = [("incident.opened", "incident"), ("incident.changed", "incident")]
    await _got_exactly(shift.consoles["village"], expected)
    last = shift.consoles["village"].recorder.events[-1].incident
    assert isinstance(last, IncidentView)
    assert (last.state, last.feedback) == (IncidentState.CLOSED, "已扑灭，无人员伤亡")
    for username in ("fire_desk", "police_desk", "sh_viewer"):
        assert not _incident_marks(shift.consoles[username].recorder.events), username


@pytest.mark.parametrize(
    ("payload", "code", "words"),
    [
        (
            {"type": "task.send", "incident_id": 1, "assignee_kind": "squad", "assignee_ref": "x"},
            "bad_message",
            "assignee_kind",
        ),
        (
            {
                "type": "task.send",
                "incident_id": 1,
                "assignee_kind": "agency",
                "assignee_ref": "fire",
                "deadline_minutes": {"accept": 0},
            },
            "bad_message",
            ">= 1",
        ),
        (
            {
                "type": "task.set_deadlines",
                "task_id": 1,
                "expected_version": 1,
                "deadlines": {"accept": "2026-12-05T10:00:00"},
            },
            "bad_message",
            "timezone",
        ),
        (
            {"type": "task.act", "task_id": 1, "action": "finish", "expected_version": 1},
            "validation",
            "finish needs what was done",
        ),
        (
            {"type": "incident.open", "type_code": "hazchem_leak", "title": "x", "lat": 30.2},
            "validation",
            "both latitude and longitude",
        ),
        ({"type": "incident.open", "title": "无类型"}, "validation", "choose the event type"),
        ({"type": "tasks.list", "which": "incident"}, "validation", "incident_id"),
        ({"type": "task.supervise", "task_id": 1, "note": ""}, "bad_message", "length"),
    ],
)
async def test_bad_incident_commands_get_a_clear_error_and_change_nothing(
    shift: Shift, payload: dict[str, object], code: str, words: str
) -> None:
    incident, tasks = await _open_and_send(shift)
    cc = shift.consoles["cc"].client
    before = await cc.request(GetIncident(req=cc.new_request_id(), incident_id=incident.id))
    async with raw_console(shift.server, "cc", "pw-cc-pass") as ws:
        await ws.send(json.dumps({**payload, "req": "bad-1"}))
        while (answer := await _recv(ws)).get("req") != "bad-1":
            pass
        assert (answer["type"], answer["code"]) == ("error", code), answer
        assert words in answer["message"], answer["message"]
        await ws.send(json.dumps({"type": "ping", "req": "still-there"}))
        while (answer := await _recv(ws)).get("req") != "still-there":
            pass
        assert answer["type"] == "result", "the session goes on"
    after = await cc.request(GetIncident(req=cc.new_request_id(), incident_id=incident.id))
    assert after == before, "nothing changed"
    assert isinstance(after, IncidentResult)
    assert [t.id for t in after.tasks] == [task.id for task in tasks.values()]


async def test_a_grid_task_starts_on_the_rung_the_jurisdiction_tree_records(
    shift: Shift,
) -> None:
    """An imported community with an 11-digit local code: by its digits it would count as
    the district; the tree says village, and so does its task."""
    community = Jurisdiction(
        code="33010600101",
        name="试点社区",
        level=Level.VILLAGE,
        parent="330106001",
        bbox=(120.0, 30.0, 120.1, 30.1),
        source="test.csv",
    )
    shift.server.jurisdictions.replace_imported([community])
    cc = shift.consoles["cc"].client
    opened = await cc.request(
        OpenIncident(
            req=cc.new_request_id(), type_code="hazchem_leak", title="社区异味", jurisdiction=XIHU
        )
    )
    assert isinstance(opened, IncidentResult)
    sent = await cc.request(
        SendTask(
            req=cc.new_request_id(),
            incident_id=opened.incident.id,
            assignee_kind=AssigneeKind.GRID_LEVEL,
            assignee_ref=community.code,
        )
    )
    assert isinstance(sent, TaskResult)
    assert sent.task.escalation_level is EscalationLevel.VILLAGE
    # A code the tree does not know keeps the digit rule.
    other = await cc.request(
        SendTask(
            req=cc.new_request_id(),
            incident_id=opened.incident.id,
            assignee_kind=AssigneeKind.GRID_LEVEL,
            assignee_ref="330106009",
        )
    )
    assert isinstance(other, TaskResult)
    assert other.task.escalation_level is EscalationLevel.TOWN
