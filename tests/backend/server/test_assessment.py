"""``report.assessment`` over a real connection: the seeded month's figures reach a
supervisor, scoped to the area and the agency; a code outside the area is refused like a
missing one; a broken formula file is a clear refusal and the server carries on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.assessment.report import assess
from backend.server import assessment_handlers
from backend.server.app import DutyDeskServer
from realtime.client import CommandError
from realtime.protocol import AssessmentBy, AssessmentResult, ErrorCode, GetAssessment, Role
from tests.backend.assessment.conftest import seed_month
from tests.backend.conftest import Console, open_console

PASSWORD = "pw-long-enough-1"


@pytest.fixture
async def seeded(server: DutyDeskServer) -> DutyDeskServer:
    async with server.sessions() as session:
        await seed_month(session)
    users = [
        ("hz-lead", Role.SUPERVISOR, None, "3301"),
        ("police-lead", Role.SUPERVISOR, "police", "3301"),
        ("sh-lead", Role.SUPERVISOR, None, "31"),
        ("hz-officer", Role.OFFICER, None, "3301"),
        ("hz-wall", Role.VIEWER, None, "3301"),
    ]
    for name, role, agency, area in users:
        await server.users.add_user(name, PASSWORD, role, agency=agency, jurisdiction=area)
    return server


async def _ask(console: Console, **fields: object) -> AssessmentResult:
    result = await console.client.request(GetAssessment(req="", **fields))  # type: ignore[arg-type]
    assert isinstance(result, AssessmentResult)
    return result


async def test_a_supervisor_gets_the_figures_of_the_districts(seeded: DutyDeskServer) -> None:
    console = await open_console(seeded, "hz-lead", PASSWORD)
    try:
        # No ``under``: the user's own area (the city), one row per district.
        result = await _ask(console, period="2026-11")
        assert result.under == "3301"
        assert result.under_name == "杭州市"
        top = result.rows[0]
        assert (top.key, top.name, top.rank, top.score) == ("330106", "西湖区", 1, 59.28)
        assert top.figures.tasks_received == 6
        assert top.figures.accept_p90_s == 600.0
        by_agency = await _ask(console, period="2026Q4", by=AssessmentBy.AGENCY)
        fire = next(row for row in by_agency.rows if row.key == "fire")
        assert fire.figures.tasks_received == 6  # October's task is in the quarter
    finally:
        await console.close()


async def test_an_agency_supervisor_sees_only_its_agency(seeded: DutyDeskServer) -> None:
    console = await open_console(seeded, "police-lead", PASSWORD)
    try:
        by_agency = await _ask(console, period="2026-11", by=AssessmentBy.AGENCY)
        assert [row.key for row in by_agency.rows] == ["police"]
        assert by_agency.rows[0].figures.overdue == 1
        districts = await _ask(console, period="2026-11", under="3301")
        west_lake = next(row for row in districts.rows if row.key == "330106")
        # Only the police task, and the one incident shared with police.
        assert west_lake.figures.tasks_received == 1
        assert west_lake.figures.incidents_opened == 1
    finally:
        await console.close()


async def test_outside_the_area_is_refused_like_missing(seeded: DutyDeskServer) -> None:
    console = await open_console(seeded, "sh-lead", PASSWORD)
    try:
        answers = []
        for under in ("3301", "319999", "not a code"):
            with pytest.raises(CommandError) as refused:
                await _ask(console, period="2026-11", under=under)
            answers.append((refused.value.code, refused.value.message))
        assert set(answers) == {(ErrorCode.FORBIDDEN, "no such jurisdiction in your area")}
        # Shanghai's own districts are its to see (none has any work this month).
        result = await _ask(console, period="2026-11")
        assert result.rows
        assert all(row.figures.tasks_received == 0 for row in result.rows)
    finally:
        await console.close()


@pytest.mark.parametrize("username", ["hz-officer", "hz-wall"])
async def test_officers_and_wall_displays_do_not_see_rankings(
    seeded: DutyDeskServer, username: str
) -> None:
    console = await open_console(seeded, username, PASSWORD)
    try:
        with pytest.raises(CommandError) as refused:
            await _ask(console, period="2026-11")
        assert refused.value.code is ErrorCode.FORBIDDEN
        assert "may not see the quantified assessment" in refused.value.message
    finally:
        await console.close()


async def test_a_broken_formula_file_is_refused_and_the_server_carries_on(
    seeded: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUTYDESK_ASSESSMENT_FORMULA", "/nonexistent/formula.json")
    console = await open_console(seeded, "hz-lead", PASSWORD)
    try:
        with pytest.raises(CommandError) as refused:
            await _ask(console, period="2026-11")
        assert refused.value.code is ErrorCode.VALIDATION
        assert "the server's assessment formula: cannot read" in refused.value.message
        monkeypatch.delenv("DUTYDESK_ASSESSMENT_FORMULA")
        assert (await _ask(console, period="2026-11")).rows[0].score == 59.28
    finally:
        await console.close()


async def test_a_burst_of_reports_is_computed_two_at_a_time(
    seeded: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = {"now": 0, "most": 0}

    async def slow_assess(*args: Any, **kwargs: Any) -> AssessmentResult:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        try:
            await asyncio.sleep(0.2)
            return await assess(*args, **kwargs)
        finally:
            running["now"] -= 1

    monkeypatch.setattr(assessment_handlers, "assess", slow_assess)
    consoles = [await open_console(seeded, "hz-lead", PASSWORD) for _ in range(5)]
    try:
        results = await asyncio.gather(*(_ask(console, period="2026-11") for console in consoles))
        assert {result.rows[0].key for result in results} == {"330106"}
        assert running["most"] == assessment_handlers.CONCURRENT_REPORTS
    finally:
        for console in consoles:
            await console.close()
