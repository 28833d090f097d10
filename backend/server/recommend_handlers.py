"""``recommend``: the ranked resources for an incident (or a point and a type).

The permission table's :attr:`~backend.authz.policy.Permission.RECOMMEND` names the scope
:attr:`~backend.authz.policy.Scope.REGISTRY`: the ranking holds only the items and units
the user may see (:mod:`backend.recommend.service`). An incident must be one the user may
see; one outside the scope is refused exactly like a missing one.
"""

from __future__ import annotations

from backend.errors import ValidationError
from backend.recommend.service import Place, RecommendService
from backend.server.handlers import ConsoleContext
from realtime.protocol import Recommend, Recommendation

NEEDS_A_PLACE = "name an incident, or give lat and lon (and the type_code to match a plan)"
INCIDENT_UNPLACED = "the incident has no position yet: give lat and lon with it"


async def _service(ctx: ConsoleContext) -> RecommendService:
    config = ctx.server.config
    # The road layer's graph when one is loaded: ETAs by road near the roads.
    return RecommendService(
        ctx.server.sessions,
        cover_minutes=config.cover_minutes,
        clock=config.clock,
        travel=await ctx.server.roads.travel(),
    )


async def _place(ctx: ConsoleContext, command: Recommend) -> Place:
    if (command.lat is None) != (command.lon is None):
        raise ValidationError("give both lat and lon, or neither")
    if command.incident_id is not None:
        incident = await ctx.server.incidents.get_incident(ctx.principal, command.incident_id)
        # A point given with an incident is the exact spot (the incident may lack one).
        lat = command.lat if command.lat is not None else incident.lat
        lon = command.lon if command.lon is not None else incident.lon
        if lat is None or lon is None:
            raise ValidationError(INCIDENT_UNPLACED)
        return Place(
            lat=lat,
            lon=lon,
            type_code=incident.type_code,
            level=str(incident.level),
            incident_id=incident.id,
        )
    if command.lat is None or command.lon is None:
        raise ValidationError(NEEDS_A_PLACE)
    return Place(lat=command.lat, lon=command.lon, type_code=command.type_code, level=command.level)


async def recommend(ctx: ConsoleContext, command: Recommend) -> Recommendation:
    """Rank teams, units, equipment, experts and shelters for the place, by ETA and by the
    applicable plan's needs, with the reasons and cover warnings."""
    place = await _place(ctx, command)
    service = await _service(ctx)
    return await service.recommend(ctx.principal, place, kinds=command.kinds, limit=command.limit)
