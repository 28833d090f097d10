"""Geofences in the registry: drawn on a console, stored, and enforced as vehicle rules.

:class:`GeofenceService` lists, saves (create, or update against an expected version)
and deletes geofences; every write is one transaction with its event
(``geofence.saved`` / ``geofence.deleted``). :func:`rules_with_geofences` turns the
enabled geofences into :mod:`backend.vehicles.rules` rules next to the rules file's:

- ``geofence`` → a :class:`~backend.vehicles.rules.GeofenceRule` (enter and exit events
  after ``dwell_s`` on the new side);
- ``no_go_zone`` → a :class:`~backend.vehicles.rules.NoGoZoneRule` (alarm after ``dwell_s``
  inside);
- ``speed_zone`` → an :class:`~backend.vehicles.rules.OverspeedRule` with one speed zone
  (``dwell_s`` over the limit before the alarm);
- ``route_corridor`` → a :class:`~backend.vehicles.rules.RouteCorridorRule` (alarm after
  ``dwell_s`` farther than half the width from the route), plus an overspeed rule on the
  route as a road section when the corridor has a speed limit.

Generated rule ids are ``gf-<id>`` (``gf-<id>-speed`` for a corridor's limit), so a
geofence's open episodes survive its edits (:meth:`VehicleRulesEngine.replace_config`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Final

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.errors import Error as CommandError
from backend.eventlog import log as eventlog
from backend.geo import Area, Circle, LatLon, Polygon
from backend.runtime.clock import utc_now
from backend.storage.models import GeofenceRecord
from backend.vehicles.rules import (
    ConfigError,
    GeofenceRule,
    NoGoZoneRule,
    OverspeedRule,
    RouteCorridorRule,
    Rule,
    RulesConfig,
    SpeedSection,
    SpeedZone,
)
from realtime.protocol import (
    CircleShape,
    DeleteGeofence,
    ErrorCode,
    Event,
    GeofenceShape,
    GeofenceView,
    PolygonShape,
    PolylineShape,
    SaveGeofence,
)
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

AREA_KINDS: Final = frozenset({"geofence", "no_go_zone", "speed_zone"})
"""Kinds drawn as a circle or a polygon."""
ROUTE_KIND: Final = "route_corridor"
MAX_POINTS: Final = 2000
"""Most vertices a polygon or route may have."""
MAX_RADIUS_M: Final = 200_000.0
MAX_WIDTH_M: Final = 20_000.0
MAX_DWELL_S: Final = 86_400.0
MAX_LIMIT_KMH: Final = 300.0
MAX_VEHICLES: Final = 500
RULE_PREFIX: Final = "gf-"


class Error(CommandError):
    """A refused geofence operation; ``code`` and ``message`` go back to the console."""


def _validation(message: str) -> Error:
    return Error(ErrorCode.VALIDATION, message)


def _points(raw: Sequence[Sequence[float]], what: str) -> tuple[LatLon, ...]:
    if len(raw) > MAX_POINTS:
        raise _validation(f"{what} has {len(raw)} points; at most {MAX_POINTS} are allowed")
    points: list[LatLon] = []
    for index, pair in enumerate(raw):
        if len(pair) != 2:
            raise _validation(f"{what} point {index + 1} must be [lat, lon]")
        lat, lon = float(pair[0]), float(pair[1])
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90):
            raise _validation(f"{what} point {index + 1}: latitude {lat} is out of range")
        if not -180 <= lon <= 180:
            raise _validation(f"{what} point {index + 1}: longitude {lon} is out of range")
        if not points or points[-1] != (lat, lon):  # a double click repeats the last point
            points.append((lat, lon))
    return tuple(points)


def area_of(shape: GeofenceShape) -> Area:
    """The area of a circle or polygon shape; :class:`Error` (validation) if it is bad."""
    if isinstance(shape, CircleShape):
        if not math.isfinite(shape.radius_m) or shape.radius_m <= 0:
            raise _validation(f"the radius must be more than 0 m, not {shape.radius_m}")
        if shape.radius_m > MAX_RADIUS_M:
            raise _validation(f"the radius must be at most {MAX_RADIUS_M:g} m")
        return Circle(shape.lat, shape.lon, shape.radius_m)
    if isinstance(shape, PolygonShape):
        outer = _points(shape.outer, "the polygon")
        if len(outer) > 1 and outer[0] == outer[-1]:
            outer = outer[:-1]
        if len(set(outer)) < 3:
            raise _validation("a polygon needs at least 3 different points")
        try:
            return Polygon(outer)
        except ValueError as exc:
            raise _validation(f"the polygon is not valid: {exc}") from exc
    raise _validation("a route is not an area; use a circle or a polygon")


def route_of(shape: GeofenceShape) -> tuple[tuple[LatLon, ...], float]:
    """The vertices and the full width of a polyline shape; :class:`Error` if it is bad."""
    if not isinstance(shape, PolylineShape):
        raise _validation("a route corridor must be drawn as a route (polyline)")
    points = _points(shape.points, "the route")
    if len(points) < 2:
        raise _validation("a route needs at least 2 different points")
    if not math.isfinite(shape.width_m) or not 0 < shape.width_m <= MAX_WIDTH_M:
        raise _validation(f"the corridor width must be more than 0 and at most {MAX_WIDTH_M:g} m")
    return points, shape.width_m


def _clean_shape(shape: GeofenceShape) -> GeofenceShape:
    """The shape as stored: validated, repeated points dropped, polygon ring not closed."""
    if isinstance(shape, CircleShape):
        area_of(shape)
        return shape
    if isinstance(shape, PolygonShape):
        area = area_of(shape)
        if not isinstance(area, Polygon):
            raise TypeError("a polygon shape must give a polygon area")
        outer = _points(shape.outer, "the polygon")
        if outer[0] == outer[-1]:
            outer = outer[:-1]
        return PolygonShape(outer=[[lat, lon] for lat, lon in outer])
    points, width = route_of(shape)
    return PolylineShape(points=[[lat, lon] for lat, lon in points], width_m=width)


def validate(command: SaveGeofence) -> GeofenceShape:
    """Check a save command; return its cleaned shape or raise :class:`Error` (validation)."""
    if not command.name.strip():
        raise _validation("a geofence needs a name")
    if command.kind in AREA_KINDS and isinstance(command.shape, PolylineShape):
        raise _validation(f"a {command.kind} must be a circle or a polygon, not a route")
    if command.kind == ROUTE_KIND and not isinstance(command.shape, PolylineShape):
        raise _validation("a route corridor must be drawn as a route (polyline)")
    shape = _clean_shape(command.shape)
    limit = command.limit_kmh
    if limit is not None and (not math.isfinite(limit) or not 0 < limit <= MAX_LIMIT_KMH):
        raise _validation(f"the speed limit must be more than 0 and at most {MAX_LIMIT_KMH:g} km/h")
    if command.kind == "speed_zone" and limit is None:
        raise _validation("a speed zone needs a speed limit")
    if not math.isfinite(command.dwell_s) or not 0 <= command.dwell_s <= MAX_DWELL_S:
        raise _validation(f"the dwell time must be 0 to {MAX_DWELL_S:g} s")
    if len(command.vehicles) > MAX_VEHICLES:
        raise _validation(f"at most {MAX_VEHICLES} vehicles may be named")
    if any(not vehicle.strip() or len(vehicle) > 64 for vehicle in command.vehicles):
        raise _validation("vehicle ids must be 1 to 64 characters")
    if (command.id is None) != (command.expected_version is None):
        raise _validation("an update needs both id and expected_version; a new geofence neither")
    return shape


def view_of(record: GeofenceRecord) -> GeofenceView:
    """The wire view of a stored geofence."""
    return GeofenceView(
        id=record.id,
        version=record.version,
        name=record.name,
        kind=record.kind,  # type: ignore[arg-type]  # checked on the way in
        shape=msgspec.convert(record.shape, GeofenceShape),
        limit_kmh=record.limit_kmh,
        level=AlarmLevel(record.level),
        dwell_s=record.dwell_s,
        vehicles=list(record.vehicles),
        enabled=record.enabled,
        created_by=record.created_by,
        created_at=record.created_at,
        updated_by=record.updated_by,
        updated_at=record.updated_at,
    )


def _check_version(record: GeofenceRecord, expected_version: int) -> None:
    if record.version != expected_version:
        raise Error(
            ErrorCode.STALE_VERSION,
            f"geofence {record.id} changed (now version {record.version}, you saw "
            f"{expected_version}): reload it and decide again",
        )


class GeofenceService:
    """Commands and queries on geofences; the only code that writes the geofences table."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], writer: eventlog.EventWriter
    ) -> None:
        self._sessions = sessions
        self._write = writer.run

    async def list(self) -> list[GeofenceView]:
        """Every stored geofence, by id."""
        async with self._sessions() as session:
            records = await session.scalars(select(GeofenceRecord).order_by(GeofenceRecord.id))
            return [view_of(record) for record in records]

    async def save(self, actor: str, command: SaveGeofence) -> GeofenceView:
        """Create (``command.id`` None) or update a geofence, with a ``geofence.saved`` event."""
        shape = validate(command)
        now = utc_now()

        async def work(session: AsyncSession, events: list[Event]) -> GeofenceView:
            if command.id is None:
                record = GeofenceRecord(version=1, created_by=actor, created_at=now)
                session.add(record)
            else:
                found = await session.scalar(
                    select(GeofenceRecord).where(GeofenceRecord.id == command.id).with_for_update()
                )
                if found is None:
                    raise Error(ErrorCode.NOT_FOUND, f"no geofence {command.id}")
                if command.expected_version is None:
                    raise _validation("an update needs the version you saw (expected_version)")
                _check_version(found, command.expected_version)
                record = found
                record.version += 1
            record.name = command.name.strip()
            record.kind = command.kind
            record.shape = msgspec.to_builtins(shape)
            record.limit_kmh = command.limit_kmh
            record.level = command.level.value
            record.dwell_s = command.dwell_s
            record.vehicles = sorted({vehicle.strip() for vehicle in command.vehicles})
            record.enabled = command.enabled
            record.updated_by = actor
            record.updated_at = now
            await session.flush()
            view = view_of(record)
            events.append(
                await eventlog.append(
                    session,
                    kind=eventlog.EventKind.GEOFENCE_SAVED,
                    actor=actor,
                    geofence=view,
                    at=now,
                )
            )
            return view

        view = await self._write(work)
        logger.info(
            "geofence %s (%s) saved by %s as version %s", view.id, view.kind, actor, view.version
        )
        return view

    async def delete(self, actor: str, command: DeleteGeofence) -> GeofenceView:
        """Delete a geofence still at ``command.expected_version``, with a
        ``geofence.deleted`` event; return it as it was."""

        async def work(session: AsyncSession, events: list[Event]) -> GeofenceView:
            record = await session.scalar(
                select(GeofenceRecord).where(GeofenceRecord.id == command.id).with_for_update()
            )
            if record is None:
                raise Error(ErrorCode.NOT_FOUND, f"no geofence {command.id}")
            _check_version(record, command.expected_version)
            view = view_of(record)
            await session.execute(delete(GeofenceRecord).where(GeofenceRecord.id == record.id))
            events.append(
                await eventlog.append(
                    session, kind=eventlog.EventKind.GEOFENCE_DELETED, actor=actor, geofence=view
                )
            )
            return view

        view = await self._write(work)
        logger.info("geofence %s deleted by %s", view.id, actor)
        return view


# --------------------------------------------------------------------------- rules


def rules_of(view: GeofenceView) -> list[Rule]:
    """The vehicle rules one geofence stands for (none when it is disabled)."""
    if not view.enabled:
        return []
    rule_id = f"{RULE_PREFIX}{view.id}"
    vehicles = frozenset(view.vehicles)
    dwell = view.dwell_s
    if view.kind == ROUTE_KIND:
        route, width = route_of(view.shape)
        rules: list[Rule] = [
            RouteCorridorRule(
                rule_id=rule_id,
                level=view.level,
                title=f"偏离路线 {view.name}",
                vehicles=vehicles,
                route=route,
                max_distance_m=width / 2,
                min_duration_s=dwell,
            )
        ]
        if view.limit_kmh is not None:
            section = SpeedSection(view.name, route, width / 2, view.limit_kmh)
            rules.append(
                OverspeedRule(
                    rule_id=f"{rule_id}-speed",
                    level=view.level,
                    title=f"超速 {view.name}",
                    vehicles=vehicles,
                    sections=(section,),
                    min_duration_s=dwell,
                )
            )
        return rules
    area = area_of(view.shape)
    if view.kind == "no_go_zone":
        return [
            NoGoZoneRule(
                rule_id=rule_id,
                level=view.level,
                title=f"驶入禁行区域 {view.name}",
                vehicles=vehicles,
                area=area,
                enter_dwell_s=dwell,
            )
        ]
    if view.kind == "speed_zone":
        if view.limit_kmh is None:
            raise TypeError(f"speed zone {view.id} has no limit")
        return [
            OverspeedRule(
                rule_id=rule_id,
                level=view.level,
                title=f"超速 {view.name}",
                vehicles=vehicles,
                zones=(SpeedZone(view.name, area, view.limit_kmh),),
                min_duration_s=dwell,
            )
        ]
    return [
        GeofenceRule(
            rule_id=rule_id,
            level=view.level,
            title=f"进出区域 {view.name}",
            vehicles=vehicles,
            area=area,
            enter_dwell_s=dwell,
            exit_dwell_s=dwell,
        )
    ]


def rules_with_geofences(
    base: RulesConfig | None, geofences: Sequence[GeofenceView]
) -> RulesConfig:
    """The file's rules (``base``) plus the rules of the enabled geofences.

    A geofence whose rules cannot be built, or whose rule id the file already uses, is
    left out with a logged error: one bad row never disables the other rules.
    """
    base = base if base is not None else RulesConfig()
    rules: list[Rule] = list(base.rules)
    used = {rule.rule_id for rule in rules}
    for view in geofences:
        try:
            generated = rules_of(view)
        except (Error, ConfigError) as exc:
            logger.error("geofence %s is not enforced: %s", view.id, exc)
            continue
        clash = [rule.rule_id for rule in generated if rule.rule_id in used]
        if clash:
            logger.error("geofence %s is not enforced: rule id %s is in use", view.id, clash[0])
            continue
        used.update(rule.rule_id for rule in generated)
        rules.extend(generated)
    return RulesConfig(
        rules=tuple(rules), max_gap_s=base.max_gap_s, max_clock_ahead_s=base.max_clock_ahead_s
    )
