"""Fixtures for the incident chat: a real server (SQLite and PostgreSQL) with desks of
several agencies and areas, and incidents opened through the incident service itself (its
console commands come with another branch)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from backend.authz.principal import Principal
from backend.incidents.catalogue import load_catalogue
from backend.incidents.service import IncidentService
from backend.server.app import DutyDeskServer
from realtime.incident_states import AssigneeKind, IncidentAction
from realtime.protocol import IncidentView, Role
from tests.backend.conftest import Console, open_console

AREA = "330106"
"""The district the incidents happen in."""
NEIGHBOUR_AREA = "330105"

DESKS = (
    # username, role, agency, jurisdiction
    ("centre", Role.OFFICER, None, AREA),
    ("fire_desk", Role.AGENCY, "fire", ""),
    ("police_desk", Role.AGENCY, "police", ""),
    ("wall", Role.VIEWER, None, AREA),
    ("neighbour", Role.OFFICER, None, NEIGHBOUR_AREA),
)


def password(username: str) -> str:
    return f"pw-{username}-long-enough"


@dataclass
class World:
    """The server, its desks and an incident service on its database."""

    server: DutyDeskServer
    incidents: IncidentService
    users: dict[str, Principal]

    async def incident(
        self, title: str = "液氨槽车泄漏", *, agencies: tuple[str, ...] = ("fire",)
    ) -> IncidentView:
        """An open incident in :data:`AREA` with a task for each of ``agencies``."""
        centre = self.users["centre"]
        view = await self.incidents.open_incident(
            centre, type_code="hazchem_leak", title=title, jurisdiction=AREA
        )
        for agency in agencies:
            await self.incidents.send_task(
                centre, view.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref=agency
            )
        return await self.incidents.get_incident(centre, view.id)

    async def closed_incident(self) -> IncidentView:
        """An incident closed with its feedback (no tasks)."""
        view = await self.incident("已处置完毕", agencies=())
        return await self.incidents.transition(
            self.users["centre"], view.id, IncidentAction.CLOSE, view.version, note="已反馈"
        )

    async def console(self, username: str) -> Console:
        return await open_console(self.server, username, password(username))


@pytest.fixture
async def world(server: DutyDeskServer) -> AsyncIterator[World]:
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
    incidents = IncidentService(server.sessions, server.writer, load_catalogue())
    yield World(server, incidents, users)
    await incidents.stop()


JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00"
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def jpeg_bytes(size: int = 2000, fill: int = 7) -> bytes:
    """Bytes that start like a JPEG (the server checks the signature, not the picture)."""
    return JPEG_HEAD + bytes([fill]) * (size - len(JPEG_HEAD))
