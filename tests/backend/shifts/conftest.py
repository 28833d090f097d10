"""Users of one district's grid on a real server: the district's command centre, two
towns, two villages of one town, a neighbouring district and the fire desk."""

from __future__ import annotations

import pytest

from backend.server.app import DutyDeskServer
from realtime.protocol import Role

DISTRICT = "330106"
TOWN = "330106001"
OTHER_TOWN = "330106002"
VILLAGE = "330106001001"
OTHER_VILLAGE = "330106001002"
IN_DISTRICT = (30.28, 120.12)
"""A point the shipped basemap places in 330106 (no towns imported: villages report it
in their own area)."""
IN_SHANGHAI = (31.23, 121.47)

GRID_USERS = (
    ("district1", Role.OFFICER, DISTRICT, None),
    ("district2", Role.OFFICER, DISTRICT, None),
    ("town1", Role.OFFICER, TOWN, None),
    ("town2", Role.OFFICER, OTHER_TOWN, None),
    ("village1", Role.OFFICER, VILLAGE, None),
    ("village1b", Role.OFFICER, VILLAGE, None),
    ("village2", Role.OFFICER, OTHER_VILLAGE, None),
    ("neighbour", Role.OFFICER, "330105", None),
    ("fire_desk", Role.AGENCY, DISTRICT, "fire"),
    ("viewer1", Role.VIEWER, DISTRICT, None),
)


def password(username: str) -> str:
    return f"pw-{username}-long"


@pytest.fixture
async def grid(server: DutyDeskServer) -> DutyDeskServer:
    """The server with the grid's users."""
    for username, role, area, agency in GRID_USERS:
        await server.users.add_user(
            username, password(username), role, jurisdiction=area, agency=agency
        )
    return server
