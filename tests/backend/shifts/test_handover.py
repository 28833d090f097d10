"""Shift handover over a real server: the report as generated, signing and accepting
(who may, once each), events seen by the desk's scope, the history, hostile input."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from backend.authz.principal import Principal
from backend.server.app import DutyDeskServer
from realtime.client import CommandError
from realtime.incident_states import AssigneeKind, Deadline
from realtime.protocol import (
    AcceptHandover,
    CreateAlarm,
    DraftHandover,
    ErrorCode,
    GetHandover,
    HandoverResult,
    HandoversResult,
    HandoverState,
    HandoverView,
    ListHandovers,
    Ping,
    Pong,
    Role,
    SignHandover,
)
from realtime.states import AlarmLevel
from tests.backend.conftest import Console, open_console
from tests.backend.shifts.conftest import DISTRICT, TOWN, password


async def login(server: DutyDeskServer, username: str) -> Console:
    return await open_console(server, username, password(username))


async def principal(server: DutyDeskServer, username: str) -> Principal:
    (found,) = [user for user in await server.users.list_users() if user.username == username]
    return found


async def handover(console: Console, command: object) -> HandoverResult:
    result = await console.client.request(command)  # type: ignore[arg-type]
    assert isinstance(result, HandoverResult)
    return result


async def refused(console: Console, command: object) -> CommandError:
    with pytest.raises(CommandError) as caught:
        await console.client.request(command)  # type: ignore[arg-type]
    return caught.value


async def busy_district(server: DutyDeskServer) -> None:
    """An open alarm, an open incident with an overdue task, an escalated one and a
    supervised one, in the district."""
    district = await principal(server, "district1")
    await server.alarms.create_manual(
        district,
        CreateAlarm(
            req="",
            alarm_type="fire",
            level=AlarmLevel.RED,
            title="仓库冒烟",
            jurisdiction=DISTRICT,
        ),
    )
    incident = await server.incidents.open_incident(
        district, type_code="hazchem_leak", title="槽车泄漏", jurisdiction=DISTRICT
    )
    overdue = await server.incidents.send_task(
        district,
        incident.id,
        assignee_kind=AssigneeKind.AGENCY,
        assignee_ref="fire",
        deadlines={Deadline.ACCEPT: 1},
    )
    await server.incidents.set_deadlines(
        district,
        overdue.id,
        1,
        {Deadline.ACCEPT: dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)},
        note="测试：已超时",
    )
    supervised = await server.incidents.send_task(
        district, incident.id, assignee_kind=AssigneeKind.GRID_LEVEL, assignee_ref=TOWN
    )
    supervisor = await server.users.add_user(
        "district_lead", password("district_lead"), Role.SUPERVISOR, jurisdiction=DISTRICT
    )
    await server.incidents.supervise(supervisor, supervised.id, "今天下班前回复进展")


async def test_the_report_is_a_snapshot_signed_then_accepted_and_both_are_events(
    grid: DutyDeskServer,
) -> None:
    await busy_district(grid)
    outgoing = await login(grid, "district1")
    incoming = await login(grid, "district2")
    other_district = await login(grid, "neighbour")
    try:
        draft = await handover(outgoing, DraftHandover(req="", notes="夜班平稳"))
        report = draft.report
        assert report.open_alarms.count == 1
        assert report.open_alarms.items[0].title == "仓库冒烟"
        assert report.open_incidents.count == 1
        assert report.overdue_tasks.count == 1
        assert report.overdue_tasks.items[0].title == "消防救援", "the agency by its name"
        assert report.supervised_tasks.count == 1
        assert "今天下班前回复进展" in report.supervised_tasks.items[0].detail
        assert draft.handover.state is HandoverState.DRAFT
        assert draft.handover.counts["open_alarms"] == 1

        # Later changes do not rewrite what was handed over.
        await grid.alarms.create_manual(
            await principal(grid, "district1"),
            CreateAlarm(
                req="",
                alarm_type="fire",
                level=AlarmLevel.RED,
                title="又一起",
                jurisdiction=DISTRICT,
            ),
        )
        signed = await handover(
            outgoing,
            SignHandover(req="", handover_id=draft.handover.id, notes="夜班平稳，注意槽车"),
        )
        assert signed.handover.state is HandoverState.SIGNED
        assert signed.report == report

        accepted = await handover(
            incoming, AcceptHandover(req="", handover_id=draft.handover.id, remark="已知悉")
        )
        view = accepted.handover
        assert (view.state, view.accepted_by, view.remark) == (
            HandoverState.ACCEPTED,
            "district2",
            "已知悉",
        )
        assert view.signed_at is not None
        assert view.accepted_at is not None

        def handover_events(console: Console) -> list[str]:
            return [
                event.kind
                for event in console.recorder.events
                if isinstance(event.handover, HandoverView)
            ]

        await incoming.recorder.wait_for(lambda: len(handover_events(incoming)) == 2)
        assert handover_events(incoming) == ["handover.signed", "handover.accepted"]
        assert handover_events(other_district) == []

        again = await handover(outgoing, GetHandover(req="", handover_id=view.id))
        assert again.report == report
        assert again.handover.notes == "夜班平稳，注意槽车"
    finally:
        for console in (outgoing, incoming, other_district):
            await console.close()


async def test_refusals_keep_the_handover_as_it_was(grid: DutyDeskServer) -> None:
    outgoing = await login(grid, "district1")
    colleague = await login(grid, "district2")
    town = await login(grid, "town1")
    neighbour = await login(grid, "neighbour")
    try:
        draft = await handover(outgoing, DraftHandover(req=""))
        number = draft.handover.id
        # Only the author signs; nobody accepts an unsigned one.
        assert (await refused(colleague, SignHandover(req="", handover_id=number))).code is (
            ErrorCode.FORBIDDEN
        )
        unsigned = await refused(colleague, AcceptHandover(req="", handover_id=number))
        assert unsigned.code is ErrorCode.ILLEGAL_TRANSITION
        assert "not signed" in unsigned.message
        await handover(outgoing, SignHandover(req="", handover_id=number, notes="第一次"))
        # A signed handover is not edited by signing again.
        twice = await refused(outgoing, SignHandover(req="", handover_id=number, notes="改过"))
        assert twice.code is ErrorCode.ILLEGAL_TRANSITION
        own = await refused(outgoing, AcceptHandover(req="", handover_id=number))
        assert own.code is ErrorCode.FORBIDDEN
        assert "your own" in own.message
        # A town officer sees the district's handover? No: out of scope, like a missing one.
        hidden = await refused(town, GetHandover(req="", handover_id=number))
        missing = await refused(town, GetHandover(req="", handover_id=999_999))
        assert (hidden.code, hidden.message) == (missing.code, missing.message)
        assert (await refused(neighbour, AcceptHandover(req="", handover_id=number))).message == (
            missing.message
        )
        # Oversize notes are refused before anything runs; the session goes on.
        huge = await refused(outgoing, DraftHandover(req="", notes="长" * 4001))
        assert huge.code is ErrorCode.BAD_MESSAGE
        assert isinstance(await outgoing.client.request(Ping(req="")), Pong)
        bad_incoming = await refused(outgoing, DraftHandover(req="", incoming="town1"))
        assert bad_incoming.code is ErrorCode.VALIDATION

        await handover(colleague, AcceptHandover(req="", handover_id=number))
        accepted_twice = await refused(colleague, AcceptHandover(req="", handover_id=number))
        assert accepted_twice.code is ErrorCode.ILLEGAL_TRANSITION
        final = await handover(outgoing, GetHandover(req="", handover_id=number))
        assert final.handover.notes == "第一次"
        assert final.handover.accepted_by == "district2"
    finally:
        for console in (outgoing, colleague, town, neighbour):
            await console.close()


async def test_the_history_is_per_desk_newest_first_and_paged(grid: DutyDeskServer) -> None:
    district = await login(grid, "district1")
    town = await login(grid, "town1")
    try:
        ids = [(await handover(district, DraftHandover(req=""))).handover.id for _ in range(3)]
        await handover(town, DraftHandover(req=""))
        page = await district.client.request(ListHandovers(req="", limit=2))
        assert isinstance(page, HandoversResult)
        assert [h.id for h in page.handovers] == ids[:0:-1]
        assert page.more
        rest = await district.client.request(
            ListHandovers(req="", limit=2, before_id=page.handovers[-1].id)
        )
        assert isinstance(rest, HandoversResult)
        assert [h.id for h in rest.handovers] == [ids[0]]
        assert not rest.more
        # The district reads the town desk's history; the town cannot read the district's.
        towns = await district.client.request(ListHandovers(req="", jurisdiction=TOWN))
        assert isinstance(towns, HandoversResult)
        assert [h.author for h in towns.handovers] == ["town1"]
        up = await refused(town, ListHandovers(req="", jurisdiction=DISTRICT))
        assert up.code is ErrorCode.FORBIDDEN
    finally:
        await district.close()
        await town.close()


async def test_a_snapshot_in_the_database_decodes_as_stored(grid: DutyDeskServer) -> None:
    district = await login(grid, "district1")
    try:
        draft = await handover(district, DraftHandover(req=""))
        encoded = msgspec.json.encode(draft.report)
        assert msgspec.json.decode(encoded, type=type(draft.report)) == draft.report
    finally:
        await district.close()


async def test_a_client_generating_handovers_in_a_loop_is_limited(grid: DutyDeskServer) -> None:
    grid.handovers.drafts_per_hour = 3
    district = await login(grid, "district1")
    try:
        for _ in range(3):
            await handover(district, DraftHandover(req=""))
        limited = await refused(district, DraftHandover(req=""))
        assert limited.code is ErrorCode.RATE_LIMITED
        page = await district.client.request(ListHandovers(req=""))
        assert isinstance(page, HandoversResult)
        assert len(page.handovers) == 3
    finally:
        await district.close()
