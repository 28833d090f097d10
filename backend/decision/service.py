"""Decision support for a hazardous-chemical leak or fire (``decision.support``).

For a place (an incident's, or a point) it works out which chemicals are involved — those
named in the request, else those of the hazard source named, else those of the nearest
hazard source within :data:`SOURCE_SEARCH_M` of the place — draws the isolation and
protective-action rings (:mod:`backend.decision.rings`) and lists what lies inside them:
registry items (enterprises, protection targets with their population, shelters, other
hazard sources), cameras and sensors, nearest first.

Scope: registry items by :attr:`~backend.authz.policy.Scope.REGISTRY` (inside the user's
area or an area above it; unplaced: everyone), cameras by the camera rule (their area and
agency, or shared with their agency), sensors by their jurisdiction. A hazard source the
user may not see is refused exactly like a missing one. Names not in the chemical table
come back in ``unknown_chemicals``, never dropped.

The registry is read directly (rows of ``registry_items``, ``details`` decoded with
:func:`msgspec.convert`); the service writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import geo
from backend.alarms import grants
from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.authz.registry import can_see_item
from backend.decision import rings as ring_rules
from backend.decision.chemicals import Chemical, ChemicalTable
from backend.errors import ValidationError
from backend.storage.models import CameraRecord, RegistryItem, SensorRecord
from realtime.protocol import (
    ChemicalView,
    DecisionSupport,
    EnterpriseDetails,
    ExposedView,
    HazardSourceDetails,
    IncidentView,
    ItemKind,
    RegistryDetails,
    RingKind,
    RingView,
    SupportRequest,
    TargetDetails,
)

logger = logging.getLogger(__name__)

SOURCE_SEARCH_M = 200.0
"""How near a hazard source must be to the place to be taken as the one that leaks."""
MAX_EXPOSED = 1000
"""Entries listed at most (nearest first); the population counts every target inside."""
EXPOSED_KINDS = (ItemKind.ENTERPRISE, ItemKind.TARGET, ItemKind.SHELTER, ItemKind.HAZARD_SOURCE)
"""Registry kinds a leak endangers (teams, equipment, experts and plans are resources,
ranked by ``recommend``)."""

_METRES_PER_DEGREE = 111_320.0


class Error(ValidationError):
    """Base class of decision support's refusals."""


@dataclass(frozen=True, slots=True)
class _Box:
    """A latitude/longitude box around a circle (the database narrows by it first)."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    @classmethod
    def around(cls, lat: float, lon: float, radius_m: float) -> _Box:
        dlat = radius_m / _METRES_PER_DEGREE * 1.01
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        return cls(lat - dlat, lat + dlat, lon - dlon, lon + dlon)


class DecisionService:
    """Answers ``decision.support`` from the chemical table and the stored registry."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        table: ChemicalTable,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._sessions = sessions
        self.table = table
        self.clock = clock
        """Where "now" comes from (night by default follows it; tests set it)."""

    async def support(
        self, principal: Principal, request: SupportRequest, incident: IncidentView | None = None
    ) -> DecisionSupport:
        """Decision support at the request's point, else at ``incident``'s place (which the
        caller has checked the principal may see)."""
        lat, lon = _place(request, incident)
        night = request.night if request.night is not None else ring_rules.is_night(self.clock())
        async with self._sessions() as session:
            source = await self._source(session, principal, request, lat, lon)
            names = [(name,) for name in request.chemicals] or _source_chemicals(source)
            chemicals, unknown = self._resolve(names)
            conditions = ring_rules.Conditions(
                large_spill=request.large_spill,
                night=night,
                fire=request.fire,
                radius_m=request.radius_m,
            )
            inner, outer = ring_rules.rings(chemicals, self.table.unidentified, conditions)
            found = await self._exposed(
                session,
                principal,
                (lat, lon),
                outer.radius_m,
                skip=source.id if source is not None else None,
            )
        exposed = _inside(found, (lat, lon), inner, outer)
        population = sum(entry.population or 0 for entry in exposed if entry.kind == "target")
        logger.debug(
            "decision support at (%s, %s): %s chemicals, %s unknown, %s exposed",
            lat,
            lon,
            len(chemicals),
            len(unknown),
            len(exposed),
        )
        return DecisionSupport(
            incident_id=incident.id if incident is not None else None,
            lat=lat,
            lon=lon,
            hazard_source=source.code if source is not None else "",
            chemicals=[self._chemical_view(c, conditions) for c in chemicals],
            unknown_chemicals=unknown,
            rings=[_ring_view(inner), _ring_view(outer)],
            exposed=exposed[:MAX_EXPOSED],
            population=population,
            night=night,
        )

    # ------------------------------------------------------------------ chemicals

    def _resolve(self, names: Sequence[tuple[str, ...]]) -> tuple[list[Chemical], list[str]]:
        """The chemicals of the table, each once, and the names it does not hold. Each
        entry is one chemical's names, tried in turn (a UN number, then a name)."""
        found: dict[str, Chemical] = {}
        unknown: list[str] = []
        for candidates in names:
            chemical = next(
                (hit for hit in map(self.table.find, candidates) if hit is not None), None
            )
            if chemical is None:
                name = candidates[-1]
                if name not in unknown:
                    unknown.append(name)
            else:
                found.setdefault(chemical.un_number, chemical)
        return list(found.values()), unknown

    def _chemical_view(self, chemical: Chemical, conditions: ring_rules.Conditions) -> ChemicalView:
        distances = chemical.distances(large_spill=conditions.large_spill)
        isolation = distances.isolation_m
        if conditions.fire:
            isolation = max(isolation, chemical.fire_isolation_m)
        source = f"{chemical.source}（{self.table.edition}）"
        if chemical.estimate:
            source += "；含估计值，须核对"
        return ChemicalView(
            un_number=chemical.un_number,
            name=chemical.name,
            name_en=chemical.name_en,
            cas=chemical.cas,
            hazard_class=chemical.hazard_class,
            hazards=chemical.hazards,
            first_aid=chemical.first_aid,
            firefighting=chemical.firefighting,
            spill=chemical.spill,
            isolation_m=isolation,
            protect_day_m=max(distances.day_m, isolation),
            protect_night_m=max(distances.night_m, isolation),
            source=source,
        )

    # ------------------------------------------------------------------ the registry

    async def _source(
        self,
        session: AsyncSession,
        principal: Principal,
        request: SupportRequest,
        lat: float,
        lon: float,
    ) -> RegistryItem | None:
        """The hazard source named, else (no chemicals named) the nearest within reach."""
        if request.hazard_source is not None:
            row = await session.scalar(
                select(RegistryItem).where(
                    RegistryItem.kind == ItemKind.HAZARD_SOURCE.value,
                    RegistryItem.code == request.hazard_source,
                )
            )
            if row is None or not can_see_item(principal, row.jurisdiction):
                raise authz.hidden("hazard source")
            return row
        if request.chemicals:
            return None
        nearest: tuple[float, RegistryItem] | None = None
        for row in await _placed_items(
            session, [ItemKind.HAZARD_SOURCE], lat, lon, SOURCE_SEARCH_M
        ):
            if row.lat is None or row.lon is None or not can_see_item(principal, row.jurisdiction):
                continue
            distance = geo.haversine_m(lat, lon, row.lat, row.lon)
            if distance <= SOURCE_SEARCH_M and (nearest is None or distance < nearest[0]):
                nearest = (distance, row)
        return nearest[1] if nearest is not None else None

    async def _exposed(
        self,
        session: AsyncSession,
        principal: Principal,
        centre: tuple[float, float],
        outer_m: float,
        *,
        skip: int | None,
    ) -> list[_Found]:
        """Everything the principal may see within ``outer_m`` of ``centre`` (a box first,
        the circle after)."""
        lat, lon = centre
        found = [
            _Found(row.kind, row.code, row.name, row.lat, row.lon, *_about(row))
            for row in await _placed_items(session, EXPOSED_KINDS, lat, lon, outer_m)
            if row.id != skip
            and row.lat is not None
            and row.lon is not None
            and can_see_item(principal, row.jurisdiction)
        ]
        box = _Box.around(lat, lon, outer_m)
        shared = await grants.cameras_shared(session, principal)
        cameras = await session.scalars(
            select(CameraRecord).where(
                CameraRecord.lat.between(box.min_lat, box.max_lat),
                CameraRecord.lon.between(box.min_lon, box.max_lon),
            )
        )
        found.extend(
            _Found("camera", camera.code, camera.name, camera.lat, camera.lon)
            for camera in cameras
            if authz.can_see_camera(
                principal,
                camera.jurisdiction,
                camera.agency,
                shared=[principal.agency] if camera.id in shared and principal.agency else [],
            )
        )
        if authz.allows(principal, authz.Permission.SEE_SENSORS):
            sensors = await session.scalars(
                select(SensorRecord).where(
                    SensorRecord.lat.between(box.min_lat, box.max_lat),
                    SensorRecord.lon.between(box.min_lon, box.max_lon),
                )
            )
            found.extend(
                _Found(
                    "sensor",
                    sensor.sensor_id,
                    sensor.name or sensor.sensor_id,
                    sensor.lat,
                    sensor.lon,
                    sensor.kind,
                )
                for sensor in sensors
                if sensor.lat is not None
                and sensor.lon is not None
                and authz.sees_jurisdiction(principal, sensor.jurisdiction)
            )
        return found


@dataclass(frozen=True, slots=True)
class _Found:
    """Something placed near the incident, before its distance is known."""

    kind: str
    code: str
    name: str
    lat: float
    lon: float
    category: str = ""
    population: int | None = None


def _inside(
    found: Sequence[_Found],
    centre: tuple[float, float],
    inner: ring_rules.Ring,
    outer: ring_rules.Ring,
) -> list[ExposedView]:
    """What lies inside the rings, each with its distance and its innermost ring, nearest
    first."""
    exposed = []
    for item in found:
        distance = geo.haversine_m(centre[0], centre[1], item.lat, item.lon)
        ring = ring_rules.ring_of(distance, inner, outer)
        if ring is not None:
            exposed.append(
                ExposedView(
                    kind=item.kind,
                    code=item.code,
                    name=item.name,
                    category=item.category,
                    distance_m=round(distance, 1),
                    ring=ring,
                    population=item.population,
                    lat=item.lat,
                    lon=item.lon,
                )
            )
    exposed.sort(key=lambda entry: (entry.distance_m, entry.kind, entry.code))
    return exposed


async def _placed_items(
    session: AsyncSession, kinds: Sequence[ItemKind], lat: float, lon: float, radius_m: float
) -> list[RegistryItem]:
    box = _Box.around(lat, lon, radius_m)
    rows = await session.scalars(
        select(RegistryItem).where(
            RegistryItem.kind.in_([kind.value for kind in kinds]),
            RegistryItem.retired.is_(False),
            RegistryItem.lat.between(box.min_lat, box.max_lat),
            RegistryItem.lon.between(box.min_lon, box.max_lon),
        )
    )
    return list(rows)


def _details(row: RegistryItem) -> RegistryDetails | None:
    try:
        details: RegistryDetails = msgspec.convert(row.details, RegistryDetails)
        return details
    except msgspec.ValidationError as exc:
        # One broken row must not cost the commander the rest of the picture.
        logger.warning("registry item %s/%s: unreadable details (%s)", row.kind, row.code, exc)
        return None


def _about(row: RegistryItem) -> tuple[str, int | None]:
    """An item's category and population as listed."""
    details = _details(row)
    if isinstance(details, TargetDetails):
        return details.category.value, details.population
    if isinstance(details, EnterpriseDetails):
        return details.industry, None
    if isinstance(details, HazardSourceDetails):
        return str(details.grade), None
    return "", None


def _source_chemicals(source: RegistryItem | None) -> list[tuple[str, ...]]:
    """The chemicals a hazard source holds: each by its UN number, then its name."""
    if source is None:
        return []
    details = _details(source)
    if not isinstance(details, HazardSourceDetails):
        return []
    return [
        (chemical.un_number, chemical.name) if chemical.un_number else (chemical.name,)
        for chemical in details.chemicals
    ]


def _place(request: SupportRequest, incident: IncidentView | None) -> tuple[float, float]:
    if (request.lat is None) != (request.lon is None):
        raise Error("give both lat and lon, or neither")
    if request.lat is not None and request.lon is not None:
        return request.lat, request.lon
    if incident is None:
        raise Error("name an incident or give a point (lat, lon)")
    if incident.lat is None or incident.lon is None:
        raise Error(f"incident {incident.id} has no place on the map: give a point (lat, lon)")
    return incident.lat, incident.lon


def _ring_view(ring: ring_rules.Ring) -> RingView:
    return RingView(kind=RingKind(ring.kind), radius_m=ring.radius_m, chemical=ring.chemical)
