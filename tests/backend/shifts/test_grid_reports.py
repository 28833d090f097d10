"""Reporting from the grid over a real server: where a report lands, who sees it, what a
hostile or broken client gets, and the reporter's own list."""

from __future__ import annotations

import asyncio

import pytest

from backend.authz.principal import Principal
from backend.server.app import DutyDeskServer
from realtime.client import CommandError
from realtime.incident_states import (
    EscalationLevel,
    IncidentAction,
    IncidentState,
    TaskAction,
    TaskState,
)
from realtime.protocol import (
    ErrorCode,
    ListMyReports,
    Ping,
    Pong,
    ReportIncident,
    ReportResult,
    ReportsResult,
)
from tests.backend.conftest import Console, open_console
from tests.backend.shifts.conftest import (
    DISTRICT,
    IN_DISTRICT,
    IN_SHANGHAI,
    OTHER_VILLAGE,
    TOWN,
    VILLAGE,
    password,
)


async def login(server: DutyDeskServer, username: str) -> Console:
    return await open_console(server, username, password(username))


async def principal(server: DutyDeskServer, username: str) -> Principal:
    (found,) = [user for user in await server.users.list_users() if user.username == username]
    return found


async def seen_by(server: DutyDeskServer, username: str) -> list[int]:
    views = await server.incidents.list_incidents(await principal(server, username))
    return [view.id for view in views]


async def report(console: Console, **fields: object) -> ReportResult:
    command = ReportIncident(req="", **fields)  # type: ignore[arg-type]
    result = await console.client.request(command)
    assert isinstance(result, ReportResult)
    return result


async def test_a_village_item_lands_at_the_village_and_its_officers_work_it(
    grid: DutyDeskServer,
) -> None:
    village = await login(grid, "village1")
    district = await login(grid, "district1")
    neighbour_village = await login(grid, "village2")
    try:
        done = await report(
            village,
            type_code="septic_tank_work",
            place="幸福村3组",
            lat=IN_DISTRICT[0],
            lon=IN_DISTRICT[1],
            description="化粪池清掏无人监护",
        )
        assert done.incident.jurisdiction == VILLAGE
        assert done.incident.reported_by == "village1"
        assert done.incident.direct_report is not True
        assert done.task is not None
        assert (done.task.jurisdiction, done.task.escalation_level) == (
            VILLAGE,
            EscalationLevel.VILLAGE,
        )
        assert done.report.task_state is TaskState.SENT
        # The district sees it by prefix; another village does not. (Live delivery of
        # incident events is the wire branch's routing; its fan-out tests cover it.)
        assert await seen_by(grid, "district1") == [done.incident.id]
        assert await seen_by(grid, "village2") == []
        # The village works the task (the task commands are the wire branch's rows).
        accepted = await grid.incidents.act_on_task(
            await principal(grid, "village1b"), done.task.id, TaskAction.ACCEPT, 1
        )
        assert accepted.state is TaskState.ACCEPTED
    finally:
        for console in (village, district, neighbour_village):
            await console.close()


async def test_a_town_item_reported_by_a_village_goes_to_its_town_and_up_when_returned(
    grid: DutyDeskServer,
) -> None:
    village = await login(grid, "village1")
    town = await login(grid, "town1")
    try:
        done = await report(village, type_code="hazchem_illegal_storage", place="幸福村仓库")
        assert done.incident.jurisdiction == VILLAGE  # an address only: the reporter's area
        assert done.task is not None
        assert done.task.jurisdiction == TOWN
        returned = await grid.incidents.act_on_task(
            await principal(grid, "town1"), done.task.id, TaskAction.RETURN, 1, "需要区应急局执法"
        )
        assert returned.state is TaskState.RETURNED
        mine = await village.client.request(ListMyReports(req=""))
        assert isinstance(mine, ReportsResult)
        (only,) = mine.reports
        assert (only.task_state, only.task_level, only.task_assignee) == (
            TaskState.SENT,
            EscalationLevel.DISTRICT,
            DISTRICT,
        )
    finally:
        await village.close()
        await town.close()


async def test_a_direct_item_is_flagged_for_the_district_and_an_agency_item_has_no_task(
    grid: DutyDeskServer,
) -> None:
    village = await login(grid, "village1")
    district = await login(grid, "district1")
    try:
        direct = await report(village, type_code="collective_petition", place="村委会门口")
        assert direct.incident.direct_report is True
        assert direct.report.direct
        assert direct.incident.jurisdiction == VILLAGE
        assert direct.task is not None
        assert direct.task.jurisdiction == TOWN

        district_view = await grid.incidents.get_incident(
            await principal(grid, "district1"), direct.incident.id
        )
        assert district_view.direct_report is True

        leak = await report(village, type_code="hazchem_leak", place="村口加油站")
        assert leak.task is None
        assert leak.incident.state is IncidentState.OPEN
        assert leak.report.task_state is None
    finally:
        await village.close()
        await district.close()


async def test_closing_gives_the_reporter_the_feedback(grid: DutyDeskServer) -> None:
    village = await login(grid, "village1")
    district = await login(grid, "district1")
    try:
        done = await report(village, type_code="hazchem_leak", place="村口加油站")
        closed = await grid.incidents.transition(
            await principal(grid, "district1"),
            done.incident.id,
            IncidentAction.CLOSE,
            1,
            "已处置，无人员伤亡",
        )
        assert closed.state is IncidentState.CLOSED
        mine = await village.client.request(ListMyReports(req=""))
        assert isinstance(mine, ReportsResult)
        assert mine.reports[0].incident_state is IncidentState.CLOSED
        assert mine.reports[0].feedback == "已处置，无人员伤亡"
        # Another user's list does not show it.
        other = await login(grid, "village1b")
        try:
            theirs = await other.client.request(ListMyReports(req=""))
            assert isinstance(theirs, ReportsResult)
            assert theirs.reports == []
        finally:
            await other.close()
    finally:
        await village.close()
        await district.close()


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"type_code": "no_such_item", "place": "x"}, ErrorCode.VALIDATION, "no event type"),
        (
            {"type_code": "septic_tank_work", "lat": IN_SHANGHAI[0], "lon": IN_SHANGHAI[1]},
            ErrorCode.FORBIDDEN,
            "outside your area",
        ),
        ({"type_code": "septic_tank_work"}, ErrorCode.VALIDATION, "give the place"),
        (
            {"type_code": "septic_tank_work", "lat": IN_DISTRICT[0], "place": "x"},
            ErrorCode.VALIDATION,
            "both latitude and longitude",
        ),
    ],
)
async def test_bad_reports_are_refused_clearly_and_the_session_goes_on(
    grid: DutyDeskServer, fields: dict[str, object], code: ErrorCode, words: str
) -> None:
    village = await login(grid, "village1")
    try:
        with pytest.raises(CommandError) as refused:
            await village.client.request(ReportIncident(req="", **fields))  # type: ignore[arg-type]
        assert refused.value.code is code
        assert words in refused.value.message
        assert isinstance(await village.client.request(Ping(req="")), Pong)
        mine = await village.client.request(ListMyReports(req=""))
        assert isinstance(mine, ReportsResult)
        assert mine.reports == []
    finally:
        await village.close()


async def test_agency_desks_and_viewers_may_not_report(grid: DutyDeskServer) -> None:
    for username in ("fire_desk", "viewer1"):
        console = await login(grid, username)
        try:
            with pytest.raises(CommandError) as refused:
                await console.client.request(
                    ReportIncident(req="", type_code="septic_tank_work", place="x")
                )
            assert refused.value.code is ErrorCode.FORBIDDEN
        finally:
            await console.close()


async def test_a_flooding_client_is_limited_and_nothing_it_made_is_lost(
    grid: DutyDeskServer,
) -> None:
    grid.grid_reports.per_hour = 5
    village = await login(grid, "village1")
    other = await login(grid, "village2")
    try:
        outcomes = await asyncio.gather(
            *(
                village.client.request(
                    ReportIncident(req="", type_code="septic_tank_work", place=f"第{n}组")
                )
                for n in range(8)
            ),
            return_exceptions=True,
        )
        made = [o for o in outcomes if isinstance(o, ReportResult)]
        refused = [o for o in outcomes if isinstance(o, CommandError)]
        assert (len(made), len(refused)) == (5, 3)
        assert all(o.code is ErrorCode.RATE_LIMITED for o in refused)
        mine = await village.client.request(ListMyReports(req="", limit=3))
        assert isinstance(mine, ReportsResult)
        assert mine.more
        rest = await village.client.request(ListMyReports(req="", before_id=mine.reports[-1].id))
        assert isinstance(rest, ReportsResult)
        ids = [r.incident_id for r in (*mine.reports, *rest.reports)]
        assert sorted(ids) == sorted(r.incident.id for r in made)
        # Another reporter is not held back by it.
        assert (await report(other, type_code="septic_tank_work", place="别村")).task
        assert OTHER_VILLAGE
    finally:
        await village.close()
        await other.close()
