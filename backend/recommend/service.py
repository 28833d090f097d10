"""Read what the ranking needs, scoped to the asking user, and rank it.

The candidates are the registry's items (``registry_items``: teams, equipment, experts,
shelters; plans for the needs) and the dispatchable units (``units``), each only when the
user may see it:

- a registry item (:attr:`Scope.REGISTRY <backend.authz.policy.Scope.REGISTRY>`) when its
  jurisdiction lies inside the user's, or is an area above the user's (a city's team
  serves its towns), or is unplaced (``""``); retired items never;
- a unit per the units' scope (:func:`backend.authz.policy.can_see_unit`);
- a vehicle fix only when the user sees the jurisdiction it lies in (else the team is
  placed at its base: telemetry is not widened by a recommendation).

A unit that a team lists (``TeamDetails.units``) takes that team's capabilities and state.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.authz.registry import can_see_item
from backend.plans.matching import PlanCandidate, applicable_plans
from backend.recommend.ranking import (
    DEFAULT_COVER_MINUTES,
    DEFAULT_FRESH_FOR,
    Candidate,
    Fix,
    Settings,
    needs_of,
    rank,
)
from backend.recommend.travel import TravelModel
from backend.storage.latest import newest_row_id
from backend.storage.models import Device, PositionRecord, RegistryItem, Unit
from realtime.protocol import (
    Availability,
    EquipmentDetails,
    ExpertDetails,
    ItemKind,
    PlanDetails,
    Recommendation,
    RegistryDetails,
    ShelterDetails,
    TeamDetails,
    TeamState,
)

logger = logging.getLogger(__name__)

DEFAULT_KINDS = (ItemKind.TEAM, ItemKind.EQUIPMENT, ItemKind.EXPERT, ItemKind.SHELTER)
"""What a recommendation ranks when the request names no kinds (units always)."""

_AVAILABILITY_RANK = {Availability.AVAILABLE: 0, Availability.BUSY: 1, Availability.UNAVAILABLE: 2}


@dataclass(frozen=True, slots=True)
class Place:
    """Where and what to recommend for."""

    lat: float
    lon: float
    type_code: str = ""
    level: str = ""
    incident_id: int | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    """The common columns of a registry item (what a candidate needs of them)."""

    code: str
    name: str
    jurisdiction: str
    agency: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class _Scoped:
    items: list[tuple[_Item, RegistryDetails]]
    units: list[_Item]


_DECODER = msgspec.json.Decoder(RegistryDetails)
"""Straight from the stored JSON text to the typed details (the slow part of 5,000 rows
was the generic JSON decode, then the conversion)."""


class RecommendService:
    """Ranks the resources a user may see for a place (one read, one ranking)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        cover_minutes: float = DEFAULT_COVER_MINUTES,
        fresh_for: dt.timedelta = DEFAULT_FRESH_FOR,
        clock: Callable[[], dt.datetime] | None = None,
        travel: TravelModel | None = None,
    ) -> None:
        """``travel``: the road model of the loaded road layer (``None``: straight line)."""
        self._sessions = sessions
        self._travel = travel
        self._cover_minutes = cover_minutes
        self._fresh_for = fresh_for
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    async def recommend(
        self,
        principal: Principal,
        place: Place,
        *,
        kinds: Sequence[ItemKind] = (),
        limit: int = 20,
    ) -> Recommendation:
        """The ranking, per kind, of what ``principal`` may see, for ``place``."""
        wanted = set(kinds or DEFAULT_KINDS)
        async with self._sessions() as session:
            # Plans give the needs; teams name the units that share their capabilities.
            scoped = await self._read(session, principal, wanted | {ItemKind.PLAN, ItemKind.TEAM})
            vehicles = {
                vehicle
                for _, details in scoped.items
                if isinstance(details, TeamDetails)
                for vehicle in details.vehicles
            }
            fixes = await _latest_fixes(session, principal, vehicles)
        now = self._clock()
        plans = [
            PlanCandidate(row.code, details)
            for row, details in scoped.items
            if isinstance(details, PlanDetails)
        ]
        needs = needs_of(applicable_plans(place.type_code, place.level, plans))
        candidates = list(_candidates(scoped, fixes, wanted))
        settings = Settings(
            cover_minutes=self._cover_minutes, fresh_for=self._fresh_for, limit=limit
        )
        if self._travel is not None:
            settings = dataclasses.replace(settings, travel=self._travel)
        # Pure CPU work (a few ms for thousands): off the loop all the same.
        items = await asyncio.to_thread(
            rank, place.lat, place.lon, candidates, needs, now=now, settings=settings
        )
        return Recommendation(
            incident_id=place.incident_id,
            lat=place.lat,
            lon=place.lon,
            type_code=place.type_code,
            plan_code=needs.plan_code,
            needs=needs.listed(),
            cover_minutes=self._cover_minutes,
            items=items,
            ranked_at=now,
        )

    async def _read(
        self, session: AsyncSession, principal: Principal, kinds: set[ItemKind]
    ) -> _Scoped:
        table = RegistryItem.__table__
        # The details as their text: decoded once, by msgspec, into the typed struct.
        query = (
            select(
                table.c.kind,
                table.c.code,
                table.c.name,
                table.c.jurisdiction,
                table.c.agency,
                table.c.lat,
                table.c.lon,
                cast(table.c.details, Text),
            )
            .where(table.c.kind.in_(sorted(kinds)), table.c.retired.is_(False))
            .order_by(table.c.kind, table.c.code)
        )
        connection = await session.connection()
        items: list[tuple[_Item, RegistryDetails]] = []
        for kind, code, name, jurisdiction, agency, lat, lon, text in await connection.execute(
            query
        ):
            if not can_see_item(principal, jurisdiction):
                continue
            try:
                details = _DECODER.decode(text)
            except msgspec.DecodeError as exc:
                # One bad row must not cost the others their ranking.
                logger.warning("registry item %s/%s left out: %s", kind, code, exc)
                continue
            items.append((_Item(code, name, jurisdiction, agency, lat, lon), details))
        units = Unit.__table__
        unit_rows = await connection.execute(
            select(
                units.c.code,
                units.c.name,
                units.c.jurisdiction,
                units.c.agency,
                units.c.lat,
                units.c.lon,
            ).order_by(units.c.code)
        )
        return _Scoped(
            items,
            [
                _Item(*row)
                for row in unit_rows
                if authz.can_see_unit(principal, row.jurisdiction, row.agency)
            ],
        )


async def _latest_fixes(
    session: AsyncSession, principal: Principal, vehicles: Iterable[str]
) -> dict[str, Fix]:
    """The newest fix of each of ``vehicles`` the principal may see, by identity."""
    identities = sorted(vehicles)
    if not identities:
        return {}
    table, devices = PositionRecord.__table__, Device.__table__
    newest = newest_row_id(table, "device", devices, "identity")
    query = (
        select(table.c.device, table.c.at, table.c.lat, table.c.lon, table.c.jurisdiction)
        .select_from(devices.join(table, table.c.id == newest))
        .where(devices.c.identity.in_(identities))
    )
    connection = await session.connection()
    return {
        device: Fix(device, lat, lon, at)
        for device, at, lat, lon, jurisdiction in await connection.execute(query)
        if authz.sees_jurisdiction(principal, jurisdiction)
    }


def _item_candidate(
    row: _Item, details: RegistryDetails, fixes: dict[str, Fix]
) -> Candidate | None:
    common = (row.code, row.name, row.lat, row.lon, row.agency, row.jurisdiction)
    match details:
        case TeamDetails():
            return Candidate(
                ItemKind.TEAM.value,
                *common,
                capabilities=frozenset(details.capabilities),
                available=details.state is TeamState.STANDBY,
                fixes=tuple(fixes[v] for v in details.vehicles if v in fixes),
            )
        case EquipmentDetails():
            return Candidate(
                ItemKind.EQUIPMENT.value,
                *common,
                capabilities=frozenset(details.capabilities),
                available=details.quantity > 0,
                spare=details.quantity,
            )
        case ExpertDetails():
            return Candidate(
                ItemKind.EXPERT.value,
                *common,
                capabilities=frozenset(details.specialties),
                available=details.availability is Availability.AVAILABLE,
                availability_rank=_AVAILABILITY_RANK[details.availability],
            )
        case ShelterDetails():
            spare = max(0, details.capacity - details.occupancy)
            return Candidate(
                ItemKind.SHELTER.value,
                *common,
                capabilities=frozenset(),
                available=spare > 0,
                spare=float(spare),
            )
        case _:
            return None


def _candidates(
    scoped: _Scoped, fixes: dict[str, Fix], kinds: set[ItemKind]
) -> Iterable[Candidate]:
    team_of_unit: dict[str, TeamDetails] = {}
    for row, details in scoped.items:
        if isinstance(details, TeamDetails):
            for unit_code in details.units:
                team_of_unit.setdefault(unit_code, details)
        candidate = _item_candidate(row, details, fixes)
        if candidate is not None and ItemKind(candidate.kind) in kinds:
            yield candidate
    for unit in scoped.units:
        team = team_of_unit.get(unit.code)
        yield Candidate(
            kind="unit",
            code=unit.code,
            name=unit.name,
            lat=unit.lat,
            lon=unit.lon,
            agency=unit.agency,
            jurisdiction=unit.jurisdiction,
            capabilities=frozenset(team.capabilities) if team else None,
            available=team.state is TeamState.STANDBY if team else True,
        )
