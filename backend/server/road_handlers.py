"""``roads.get``: the road layer's polylines in a box, by class, for the console's map.

The permission table's :attr:`~backend.authz.policy.Permission.SEE_BASEMAP` names no
scope: roads are map data, the same for every console user.
"""

from __future__ import annotations

from backend.errors import ValidationError
from backend.server.handlers import ConsoleContext
from realtime.protocol import GetRoads, RoadsResult

EMPTY_BOX = "the box is empty: min_lat must not exceed max_lat, nor min_lon max_lon"


async def get_roads(ctx: ConsoleContext, command: GetRoads) -> RoadsResult:
    """The roads crossing the box, major classes first, simplified to ``tolerance_m``,
    at most ``max_points`` vertices (``truncated`` when roads were left out)."""
    if command.min_lat > command.max_lat or command.min_lon > command.max_lon:
        raise ValidationError(EMPTY_BOX)
    return await ctx.server.roads.roads(command)
