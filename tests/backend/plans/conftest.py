"""Fixtures for plans in incidents: a real server (SQLite and PostgreSQL) with desks of
the command centre, two agencies, a viewer and a neighbouring district, and emergency
plans written straight into ``registry_items`` (the registry service is another lane's;
this package only reads the rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz.principal import Principal
from backend.server.app import DutyDeskServer
from backend.storage.models import RegistryItem
from realtime.incident_states import AssigneeKind, IncidentLevel
from realtime.protocol import (
    ChangeIncident,
    GetChecklist,
    IncidentResult,
    IncidentView,
    OpenIncident,
    PlanDetails,
    PlanStep,
    Role,
    SendTask,
    TaskResult,
)
from tests.backend.conftest import Console, open_console

AREA = "330106"
NEIGHBOUR_AREA = "330105"

DESKS = (
    # username, role, agency, jurisdiction
    ("centre", Role.OFFICER, None, AREA),
    ("fire_desk", Role.AGENCY, "fire", ""),
    ("police_desk", Role.AGENCY, "police", ""),
    ("wall", Role.VIEWER, None, AREA),
    ("neighbour", Role.OFFICER, None, NEIGHBOUR_AREA),
)

LEVEL_II = PlanDetails(
    type_codes=["hazchem_leak", "hazchem_fire_explosion"],
    levels=["II"],
    response_level="II",
    roles=["总指挥", "现场指挥部"],
    steps=[
        PlanStep(id="s1", text="启动Ⅱ级应急响应, 报告区政府", role="总指挥", within_min=10),
        PlanStep(id="s2", text="消防救援队伍堵漏、稀释", role="fire", within_min=30),
        PlanStep(id="s3", text="疏散下风向群众, 设置警戒", role="police", within_min=45),
        PlanStep(id="s4", text="组织专家会商"),
    ],
)
LEVEL_I = PlanDetails(
    type_codes=["hazchem_leak"],
    levels=["I"],
    response_level="I",
    roles=["总指挥"],
    steps=[
        PlanStep(id="a1", text="启动Ⅰ级应急响应, 报告市政府", role="总指挥", within_min=5),
        PlanStep(id="a2", text="请求市消防支队增援", role="fire", within_min=15),
    ],
)


async def add_plan(
    sessions: async_sessionmaker[AsyncSession],
    code: str,
    name: str,
    details: PlanDetails,
    *,
    jurisdiction: str = AREA,
    retired: bool = False,
    raw_details: dict[str, object] | None = None,
) -> None:
    """Write a plan row as the registry service would (``raw_details``: a damaged row)."""
    now = dt.datetime.now(dt.UTC)
    async with sessions.begin() as session:
        session.add(
            RegistryItem(
                kind="plan",
                code=code,
                name=name,
                jurisdiction=jurisdiction,
                details=raw_details if raw_details is not None else msgspec.to_builtins(details),
                retired=retired,
                created_at=now,
                updated_at=now,
                updated_by="seed",
            )
        )


def password(username: str) -> str:
    return f"pw-{username}-long-enough"


@dataclass
class World:
    """The server, its desks and its plans."""

    server: DutyDeskServer
    users: dict[str, Principal]

    async def console(self, username: str) -> Console:
        return await open_console(self.server, username, password(username))

    async def open(
        self,
        centre: Console,
        *,
        type_code: str = "hazchem_leak",
        level: IncidentLevel = IncidentLevel.II,
        tasks: tuple[str, ...] = ("fire",),
    ) -> IncidentView:
        """An incident opened by the centre over the wire, with a task per agency."""
        result = await centre.client.request(
            OpenIncident(
                req="",
                type_code=type_code,
                title="化工园区液氯储罐泄漏",
                jurisdiction=AREA,
                level=level,
            )
        )
        assert isinstance(result, IncidentResult)
        for agency in tasks:
            sent = await centre.client.request(
                SendTask(
                    req="",
                    incident_id=result.incident.id,
                    assignee_kind=AssigneeKind.AGENCY,
                    assignee_ref=agency,
                )
            )
            assert isinstance(sent, TaskResult)
        got = await self.server.incidents.get_incident(self.users["centre"], result.incident.id)
        return got

    async def change_level(
        self, centre: Console, incident: IncidentView, level: IncidentLevel
    ) -> IncidentView:
        current = await self.server.incidents.get_incident(self.users["centre"], incident.id)
        result = await centre.client.request(
            ChangeIncident(
                req="", incident_id=incident.id, expected_version=current.version, level=level
            )
        )
        assert isinstance(result, IncidentResult)
        return result.incident


@pytest.fixture
async def world(server: DutyDeskServer) -> World:
    users = {}
    for username, role, agency, jurisdiction in DESKS:
        users[username] = await server.users.add_user(
            username,
            password(username),
            role,
            display_name=f"{username} 席",
            agency=agency,
            jurisdiction=jurisdiction,
        )
    await add_plan(server.sessions, "HZ-LEAK-II", "危化品泄漏Ⅱ级响应预案", LEVEL_II)
    await add_plan(server.sessions, "HZ-LEAK-I", "危化品泄漏Ⅰ级响应预案", LEVEL_I)
    # Neither applies to an incident of AREA: another district's, and a retired one.
    await add_plan(
        server.sessions, "NB-LEAK-II", "邻区泄漏预案", LEVEL_II, jurisdiction=NEIGHBOUR_AREA
    )
    await add_plan(server.sessions, "OLD-LEAK-II", "旧版泄漏预案", LEVEL_II, retired=True)
    return World(server, users)


def checklist_request(incident_id: int) -> GetChecklist:
    return GetChecklist(req="", incident_id=incident_id)
