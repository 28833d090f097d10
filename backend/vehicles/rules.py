"""Vehicle rules: a deterministic, sans-I/O engine that turns position fixes into decisions.

Feed every :class:`~devices.observations.Position` to :meth:`VehicleRulesEngine.observe`
and call :meth:`VehicleRulesEngine.check_timeouts` periodically; both return
:class:`RuleHit` (an alarm condition began) and :class:`RuleCleared` (it ended) decisions.
The engine never reads the clock, never does I/O and keeps its state per vehicle in plain
dataclasses (:class:`VehicleState`) that can be exported and handed back to a new engine.

Rules (configuration is plain data, loadable with :meth:`RulesConfig.from_dict`):

- ``overspeed``: the lowest applicable limit (per vehicle, default, road section, speed
  zone) exceeded for ``min_duration_s``; clears after ``clear_duration_s`` at or below
  ``limit − clear_margin_kmh`` (hysteresis); one hit per episode.
- ``geofence``: enter/exit of a circle or polygon after a dwell time on the new side.
  Transitions are events (hits only, a key per direction); the first fix only sets the
  side.
- ``no_go_zone``: being inside a forbidden area (after ``enter_dwell_s``) is an alarm.
- ``route_corridor``: farther than ``max_distance_m`` from the approved route for
  ``min_duration_s``.
- ``parking``: slower than ``speed_below_kmh`` within ``radius_m`` for longer than
  ``max_stopped_s``, unless the stop is in an allowed parking area.
- ``night_driving``: moving faster than ``speed_above_kmh`` inside a local-time window
  (e.g. 22:00–06:00 Asia/Shanghai); at most one hit per vehicle per night, cleared when
  the window ends.
- ``offline``: no contact for ``timeout_s`` (found by ``check_timeouts``); cleared by the
  next contact.
- ``terminal_alarm``: the terminal's own alarm bits (``Position.alarms``), on their
  rising edge.

Robustness: fixes at or before the last accepted fix of a vehicle (out of order or
duplicates) and backfill fixes are never evaluated; a gap between fixes longer than
``max_gap_s`` restarts every pending dwell/duration timer instead of counting as
continuous evidence (open episodes stay open).
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
import functools
import json
import logging
import math
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from backend.geo import (
    Area,
    Circle,
    LatLon,
    Polygon,
    distance_to_polyline_m,
    haversine_m,
)
from devices.observations import Position
from realtime.protocol import DeviceAlarm
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

DEFAULT_TIMEZONE: Final = "Asia/Shanghai"
"""Local time zone for time windows and local-time columns unless configured otherwise."""

CHINA_STANDARD_TIME: Final = dt.timezone(dt.timedelta(hours=8), "CST")
"""UTC+08:00 without DST: the fallback for China's zone names when tzdata is missing."""

_CHINA_ZONE_NAMES: Final = frozenset(
    {"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"}
)

MAX_RULE_ID_LENGTH: Final = 40
"""Rule ids are short so ``alarm_key`` fits the backend's 64-character alarm key."""

_RULE_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_.-]+")

DetailValue = float | int | str | None
"""A value in a decision's ``detail`` (JSON-friendly)."""


class Error(Exception):
    """Base class for this module's errors."""


class ConfigError(Error, ValueError):
    """The rules configuration is invalid; the message says where and why."""


@functools.cache
def load_timezone(name: str = DEFAULT_TIMEZONE) -> dt.tzinfo:
    """The ``tzinfo`` for an IANA zone name.

    If the system has no tz database and ``name`` is one of China's zones, fall back to a
    fixed UTC+08:00 (China has no DST), logging a warning once. Any other unknown name is a
    :class:`ConfigError`.
    """
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        if name in _CHINA_ZONE_NAMES:
            logger.warning("time zone %s not found (%s); using fixed UTC+08:00", name, exc)
            return CHINA_STANDARD_TIME
        raise ConfigError(f"unknown time zone {name!r}") from exc


def _as_utc(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is dt.UTC:
        return value  # the everyday case (decoders and the server clock give UTC)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, not naive {value!r}")
    return value.astimezone(dt.UTC)


def _seconds_between(earlier: dt.datetime, later: dt.datetime) -> float:
    return (later - earlier).total_seconds()


# --------------------------------------------------------------------------- decisions


class RuleKind(enum.StrEnum):
    """What kind of condition a decision is about."""

    OVERSPEED = "overspeed"
    GEOFENCE_ENTER = "geofence_enter"
    GEOFENCE_EXIT = "geofence_exit"
    NO_GO_ZONE = "no_go_zone"
    ROUTE_DEVIATION = "route_deviation"
    PARKING_OVERTIME = "parking_overtime"
    NIGHT_DRIVING = "night_driving"
    OFFLINE = "offline"
    TERMINAL_ALARM = "terminal_alarm"


@dataclass(frozen=True, slots=True)
class RuleHit:
    """An alarm condition began (or a geofence transition happened) for a vehicle.

    ``alarm_key`` is stable per vehicle and condition: use it as the device alarm's key so
    the backend keeps one open alarm per vehicle and rule (``key`` adds the vehicle).
    ``started_at`` is when the condition was first seen (the first fix of the episode);
    ``at`` is when it was confirmed (both UTC).
    """

    vehicle: str
    rule_id: str
    alarm_key: str
    kind: RuleKind
    level: AlarmLevel
    title: str
    started_at: dt.datetime
    at: dt.datetime
    lat: float | None
    lon: float | None
    detail: dict[str, DetailValue]

    @property
    def key(self) -> str:
        """``vehicle/alarm_key``: unique across vehicles, for in-memory deduplication."""
        return f"{self.vehicle}/{self.alarm_key}"

    @property
    def alarm_type(self) -> str:
        """The alarm type code for the alarm service: ``vehicle_<kind>``, or
        ``vehicle_<bit name>`` for terminal alarm bits (as the JT/T 808 ingest names them)."""
        if self.kind is RuleKind.TERMINAL_ALARM:
            return f"vehicle_{self.alarm_key}"
        return f"vehicle_{self.kind.value}"

    @property
    def description(self) -> str:
        """A one-line account: when it began and the details, e.g.
        ``since 2026-11-29T02:00:00+00:00; speed_kmh=95.0, limit_kmh=80.0``."""
        details = ", ".join(f"{name}={value}" for name, value in self.detail.items())
        return (
            f"since {self.started_at.isoformat()}; {details}"
            if details
            else (f"since {self.started_at.isoformat()}")
        )


@dataclass(frozen=True, slots=True)
class RuleCleared:
    """An alarm condition raised earlier by a :class:`RuleHit` with the same key ended."""

    vehicle: str
    rule_id: str
    alarm_key: str
    kind: RuleKind
    started_at: dt.datetime
    at: dt.datetime
    lat: float | None
    lon: float | None
    detail: dict[str, DetailValue]

    @property
    def key(self) -> str:
        """``vehicle/alarm_key``, equal to the key of the hit it clears."""
        return f"{self.vehicle}/{self.alarm_key}"


RuleDecision = RuleHit | RuleCleared
"""What the engine returns."""


def device_alarm_for(hit: RuleHit, *, label: str = "") -> DeviceAlarm:
    """The alarm-service message for a hit: ``key`` is ``hit.alarm_key`` (so, raised with
    the vehicle's source, one open alarm per vehicle and rule), the title is the rule's
    title followed by ``label`` (a plate or name), the time is when the hit was confirmed."""
    title = f"{hit.title} {label}".strip()
    return DeviceAlarm(
        ref="",
        key=hit.alarm_key,
        alarm_type=hit.alarm_type,
        level=hit.level,
        title=title[:200],
        description=hit.description[:4000],
        lat=hit.lat,
        lon=hit.lon,
        at=hit.at,
    )


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleBase:
    """Fields every rule has.

    ``vehicles`` limits the rule to those vehicle ids (empty: every vehicle).
    ``max_gap_s`` overrides the engine's gap after which timers restart (useful for parking,
    as terminals report rarely with the ignition off).
    """

    rule_id: str
    level: AlarmLevel
    title: str
    vehicles: frozenset[str] = frozenset()
    max_gap_s: float | None = None

    def __post_init__(self) -> None:
        if len(self.rule_id) > MAX_RULE_ID_LENGTH or not _RULE_ID_PATTERN.fullmatch(self.rule_id):
            raise ConfigError(
                f"rule id {self.rule_id!r} must be 1 to {MAX_RULE_ID_LENGTH} characters "
                "of A-Z, a-z, 0-9, '_', '.', '-'"
            )
        if self.max_gap_s is not None:
            _require_positive(self.max_gap_s, f"{self.rule_id}: max_gap_s")

    def applies_to(self, vehicle: str) -> bool:
        """True if this rule watches ``vehicle``."""
        return not self.vehicles or vehicle in self.vehicles

    @property
    def alarm_key(self) -> str:
        """The stable alarm key of this rule's hits (``rule.<rule_id>``)."""
        return f"rule.{self.rule_id}"


def _require_positive(value: float, what: str, *, allow_zero: bool = False) -> None:
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        qualifier = "non-negative" if allow_zero else "positive"
        raise ConfigError(f"{what} must be a {qualifier} number, not {value}")


@dataclass(frozen=True, slots=True)
class SpeedSection:
    """A road section with its own limit: fixes within ``max_distance_m`` of the centre line
    ``route`` (``(lat, lon)`` vertices) are on it."""

    name: str
    route: tuple[LatLon, ...]
    max_distance_m: float
    limit_kmh: float

    def contains(self, lat: float, lon: float) -> bool:
        """True if (lat, lon) is on this section."""
        return distance_to_polyline_m(lat, lon, self.route) <= self.max_distance_m


@dataclass(frozen=True, slots=True)
class SpeedZone:
    """An area (circle or polygon) with its own speed limit."""

    name: str
    area: Area
    limit_kmh: float


@dataclass(frozen=True, slots=True, kw_only=True)
class OverspeedRule(RuleBase):
    """Overspeed against the lowest applicable limit, with a minimum duration and hysteresis.

    Applicable limits at a fix: ``vehicle_limits_kmh[vehicle]`` (else ``limit_kmh``), plus
    every road section and speed zone the fix is in. No applicable limit: not overspeeding.
    """

    level: AlarmLevel = AlarmLevel.ORANGE
    title: str = "超速"
    limit_kmh: float | None = None
    vehicle_limits_kmh: Mapping[str, float] = field(default_factory=dict)
    sections: tuple[SpeedSection, ...] = ()
    zones: tuple[SpeedZone, ...] = ()
    min_duration_s: float = 30.0
    clear_margin_kmh: float = 5.0
    clear_duration_s: float = 10.0

    def limit_at(self, vehicle: str, lat: float, lon: float) -> tuple[float, str] | None:
        """The lowest limit for ``vehicle`` at (lat, lon) and where it comes from
        (``vehicle``, ``default``, ``section:<name>`` or ``zone:<name>``), or None."""
        candidates: list[tuple[float, str]] = []
        if vehicle in self.vehicle_limits_kmh:
            candidates.append((self.vehicle_limits_kmh[vehicle], "vehicle"))
        elif self.limit_kmh is not None:
            candidates.append((self.limit_kmh, "default"))
        candidates.extend(
            (section.limit_kmh, f"section:{section.name}")
            for section in self.sections
            if section.contains(lat, lon)
        )
        candidates.extend(
            (zone.limit_kmh, f"zone:{zone.name}")
            for zone in self.zones
            if zone.area.contains(lat, lon)
        )
        return min(candidates, key=lambda candidate: candidate[0]) if candidates else None


@dataclass(frozen=True, slots=True, kw_only=True)
class GeofenceRule(RuleBase):
    """Enter/exit events for an area; a side counts only after the dwell time on it.

    ``report`` names the directions that produce hits (``enter``, ``exit`` or both).
    """

    area: Area
    level: AlarmLevel = AlarmLevel.BLUE
    title: str = "进出区域"
    enter_dwell_s: float = 0.0
    exit_dwell_s: float = 0.0
    report: frozenset[str] = frozenset({"enter", "exit"})

    def __post_init__(self) -> None:
        RuleBase.__post_init__(self)
        if not self.report or not self.report <= {"enter", "exit"}:
            raise ConfigError(f"{self.rule_id}: report must be 'enter', 'exit' or both")

    def direction_key(self, direction: str) -> str:
        """The alarm key of one direction's hits (``rule.<rule_id>:enter``/``:exit``)."""
        return f"{self.alarm_key}:{direction}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NoGoZoneRule(RuleBase):
    """Being inside ``area`` for ``enter_dwell_s`` is an alarm; cleared after
    ``exit_dwell_s`` outside."""

    area: Area
    level: AlarmLevel = AlarmLevel.ORANGE
    title: str = "驶入禁行区域"
    enter_dwell_s: float = 0.0
    exit_dwell_s: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteCorridorRule(RuleBase):
    """Farther than ``max_distance_m`` from the approved ``route`` for ``min_duration_s``;
    cleared after ``clear_duration_s`` within ``max_distance_m − clear_margin_m``."""

    route: tuple[LatLon, ...]
    max_distance_m: float
    level: AlarmLevel = AlarmLevel.YELLOW
    title: str = "偏离路线"
    min_duration_s: float = 60.0
    clear_margin_m: float = 0.0
    clear_duration_s: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkingRule(RuleBase):
    """Stopped (slower than ``speed_below_kmh``, within ``radius_m`` of where the stop began)
    for longer than ``max_stopped_s``, unless the stop is inside one of ``allowed_areas``.
    Cleared when the vehicle moves off."""

    max_stopped_s: float
    level: AlarmLevel = AlarmLevel.BLUE
    title: str = "超时停车"
    speed_below_kmh: float = 5.0
    radius_m: float = 50.0
    allowed_areas: tuple[Area, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NightDrivingRule(RuleBase):
    """Moving faster than ``speed_above_kmh`` for ``min_duration_s`` inside the local-time
    window ``[window_start, window_end)`` (may cross midnight). At most one hit per vehicle
    per night; it clears when the window ends."""

    window_start: dt.time
    window_end: dt.time
    timezone: str = DEFAULT_TIMEZONE
    level: AlarmLevel = AlarmLevel.YELLOW
    title: str = "夜间禁行时段行驶"
    speed_above_kmh: float = 10.0
    min_duration_s: float = 30.0

    def __post_init__(self) -> None:
        RuleBase.__post_init__(self)
        if self.window_start == self.window_end:
            raise ConfigError(f"{self.rule_id}: the night window must not be empty")
        load_timezone(self.timezone)

    def night_of(self, at: dt.datetime) -> str | None:
        """The night ``at`` falls in, named by the local date the window began
        (``YYYY-MM-DD``), or None outside the window."""
        local = at.astimezone(load_timezone(self.timezone))
        clock = local.time().replace(tzinfo=None)
        if self.window_start < self.window_end:
            inside = self.window_start <= clock < self.window_end
            return local.date().isoformat() if inside else None
        if clock >= self.window_start:
            return local.date().isoformat()
        if clock < self.window_end:
            return (local.date() - dt.timedelta(days=1)).isoformat()
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class OfflineRule(RuleBase):
    """No contact from the vehicle for ``timeout_s`` seconds (checked by
    ``check_timeouts``); cleared by the next contact."""

    timeout_s: float = 300.0
    level: AlarmLevel = AlarmLevel.BLUE
    title: str = "终端离线"


LATCHED_TERMINAL_ALARMS: Final = frozenset(
    {
        "emergency",
        "danger_warning",
        "area_in_out",
        "route_in_out",
        "road_section_time_abnormal",
        "illegal_ignition",
        "illegal_displacement",
        "illegal_door_open",
    }
)
"""JT/T 808 bits the terminal clears once the platform replies: their falling edge says
nothing about the condition, so it clears nothing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalAlarmRule(RuleBase):
    """The terminal's own alarm bits, passed through on their rising edge.

    ``names`` restricts the bits (empty: all). ``levels`` sets a level per bit name
    (``level`` for the rest). A falling edge clears the hit unless the bit is in
    ``latched``. The hit's ``alarm_key`` is the bit name itself, the key the JT/T 808
    gateway uses for its own ``DeviceAlarmRaised``.
    """

    level: AlarmLevel = AlarmLevel.BLUE
    title: str = "终端报警"
    names: frozenset[str] = frozenset()
    levels: Mapping[str, AlarmLevel] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)
    latched: frozenset[str] = LATCHED_TERMINAL_ALARMS

    def watches(self, name: str) -> bool:
        """True if hits are produced for the alarm bit ``name``."""
        return not self.names or name in self.names


Rule = (
    OverspeedRule
    | GeofenceRule
    | NoGoZoneRule
    | RouteCorridorRule
    | ParkingRule
    | NightDrivingRule
    | OfflineRule
    | TerminalAlarmRule
)
"""Any rule."""


@dataclass(frozen=True, slots=True)
class RulesConfig:
    """The rules and the engine-wide settings.

    ``max_gap_s``: a gap between consecutive fixes longer than this restarts dwell/duration
    timers (each rule may override it).
    ``max_clock_ahead_s``: a fix stamped further than this ahead of its receive time (when
    the caller gives one) is not evaluated, so one bad device clock cannot make every later
    fix look stale.
    """

    rules: tuple[Rule, ...] = ()
    max_gap_s: float = 120.0
    max_clock_ahead_s: float = 600.0

    def __post_init__(self) -> None:
        _require_positive(self.max_gap_s, "max_gap_s")
        _require_positive(self.max_clock_ahead_s, "max_clock_ahead_s", allow_zero=True)
        seen: set[str] = set()
        for rule in self.rules:
            if rule.rule_id in seen:
                raise ConfigError(f"rule id {rule.rule_id!r} is used twice")
            seen.add(rule.rule_id)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RulesConfig:
        """Build from plain data (e.g. parsed JSON). Unknown keys are errors.

        Shape: ``{"max_gap_s": 120, "max_clock_ahead_s": 600,
        "rules": [{"type": "overspeed", "id": "speed", ...}, ...]}``.
        Points are ``[lat, lon]`` pairs (latitude first, WGS-84). Areas are
        ``{"type": "circle", "lat", "lon", "radius_m"}`` or
        ``{"type": "polygon", "outer": [[lat, lon], ...], "holes": [[[lat, lon], ...]]}``.
        Times of day are ``"HH:MM"``; levels are ``red``/``orange``/``yellow``/``blue``.
        """
        reader = _Reader(data, "config")
        max_gap_s = reader.number("max_gap_s", 120.0)
        max_clock_ahead_s = reader.number("max_clock_ahead_s", 600.0)
        rules = tuple(
            _rule_from_dict(item, f"rules[{index}]")
            for index, item in enumerate(reader.sequence("rules"))
        )
        reader.finish()
        return cls(rules=rules, max_gap_s=max_gap_s, max_clock_ahead_s=max_clock_ahead_s)

    @classmethod
    def from_json(cls, text: str) -> RulesConfig:
        """Build from a JSON document (see :meth:`from_dict`)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"rules configuration is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError("rules configuration must be a JSON object")
        return cls.from_dict(data)


# --------------------------------------------------------------------------- config parsing

_MISSING: Final = object()


class _Reader:
    """Reads typed fields out of one mapping, remembering which keys were used."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, Mapping) or not all(isinstance(key, str) for key in data):
            raise ConfigError(f"{where}: expected an object")
        self._data: Mapping[str, object] = data
        self._used: set[str] = set()
        self.where = where

    def raw(self, name: str) -> object:
        self._used.add(name)
        return self._data.get(name, _MISSING)

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(f"{self.where}.{name}: {message}")

    def number(self, name: str, default: float | object = _MISSING) -> float:
        value = self.raw(name)
        if value is _MISSING:
            if isinstance(default, int | float):
                return float(default)
            raise self.error(name, "is required")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise self.error(name, "must be finite")
        return float(value)

    def optional_number(self, name: str) -> float | None:
        if self._data.get(name) is None:
            self._used.add(name)
            return None
        return self.number(name)

    def string(self, name: str, default: str | object = _MISSING) -> str:
        value = self.raw(name)
        if value is _MISSING:
            if isinstance(default, str):
                return default
            raise self.error(name, "is required")
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {value!r}")
        return value

    def sequence(self, name: str, *, required: bool = False) -> Sequence[object]:
        value = self.raw(name)
        if value is _MISSING:
            if required:
                raise self.error(name, "is required")
            return ()
        if not isinstance(value, list | tuple):
            raise self.error(name, f"expected a list, got {value!r}")
        return value

    def strings(self, name: str, default: frozenset[str] = frozenset()) -> frozenset[str]:
        if name not in self._data:
            self._used.add(name)
            return default
        items = self.sequence(name)
        if not all(isinstance(item, str) for item in items):
            raise self.error(name, "expected a list of strings")
        return frozenset(str(item) for item in items)

    def mapping(self, name: str) -> Mapping[str, object]:
        value = self.raw(name)
        if value is _MISSING:
            return {}
        if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
            raise self.error(name, "expected an object")
        return value

    def level(self, default: AlarmLevel) -> AlarmLevel:
        return _parse_level(self.string("level", default.value), f"{self.where}.level")

    def time_of_day(self, name: str) -> dt.time:
        text = self.string(name)
        try:
            return dt.time.fromisoformat(text)
        except ValueError as exc:
            raise self.error(name, f"expected HH:MM, got {text!r}") from exc

    def finish(self) -> None:
        unknown = sorted(set(self._data) - self._used)
        if unknown:
            raise ConfigError(f"{self.where}: unknown field(s) {', '.join(unknown)}")


def _parse_level(text: str, where: str) -> AlarmLevel:
    try:
        return AlarmLevel(text)
    except ValueError as exc:
        choices = ", ".join(level.value for level in AlarmLevel)
        raise ConfigError(f"{where}: level must be one of {choices}, not {text!r}") from exc


def _points_from(value: object, where: str) -> tuple[LatLon, ...]:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{where}: expected a list of [lat, lon] pairs")
    points: list[LatLon] = []
    for index, item in enumerate(value):
        if (
            not isinstance(item, list | tuple)
            or len(item) != 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in item)
        ):
            raise ConfigError(f"{where}[{index}]: expected [lat, lon], got {item!r}")
        lat, lon = float(item[0]), float(item[1])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ConfigError(f"{where}[{index}]: ({lat}, {lon}) is not a WGS-84 [lat, lon]")
        points.append((lat, lon))
    return tuple(points)


def _route_from(reader: _Reader, name: str) -> tuple[LatLon, ...]:
    route = _points_from(reader.raw(name), f"{reader.where}.{name}")
    if len(route) < 2:
        raise reader.error(name, "a route needs at least 2 points")
    return route


def _area_from(value: object, where: str) -> Area:
    reader = _Reader(value, where)
    kind = reader.string("type")
    try:
        if kind == "circle":
            area: Area = Circle(
                reader.number("lat"), reader.number("lon"), reader.number("radius_m")
            )
        elif kind == "polygon":
            outer = _points_from(reader.raw("outer"), f"{where}.outer")
            holes = [
                _points_from(hole, f"{where}.holes[{index}]")
                for index, hole in enumerate(reader.sequence("holes"))
            ]
            area = Polygon(outer, holes)
        else:
            raise reader.error("type", f"expected 'circle' or 'polygon', got {kind!r}")
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    reader.finish()
    return area


def _areas_from(reader: _Reader, name: str) -> tuple[Area, ...]:
    return tuple(
        _area_from(item, f"{reader.where}.{name}[{index}]")
        for index, item in enumerate(reader.sequence(name))
    )


def _section_from(value: object, where: str) -> SpeedSection:
    reader = _Reader(value, where)
    section = SpeedSection(
        name=reader.string("name"),
        route=_route_from(reader, "route"),
        max_distance_m=reader.number("max_distance_m"),
        limit_kmh=reader.number("limit_kmh"),
    )
    _require_positive(section.max_distance_m, f"{where}.max_distance_m")
    _require_positive(section.limit_kmh, f"{where}.limit_kmh")
    reader.finish()
    return section


def _zone_from(value: object, where: str) -> SpeedZone:
    reader = _Reader(value, where)
    zone = SpeedZone(
        name=reader.string("name"),
        area=_area_from(reader.raw("area"), f"{where}.area"),
        limit_kmh=reader.number("limit_kmh"),
    )
    _require_positive(zone.limit_kmh, f"{where}.limit_kmh")
    reader.finish()
    return zone


def _durations(reader: _Reader, *names: str) -> None:
    for name in names:
        value = reader.number(name, 0.0)
        _require_positive(value, f"{reader.where}.{name}", allow_zero=True)


def _rule_from_dict(value: object, where: str) -> Rule:
    reader = _Reader(value, where)
    kind = reader.string("type")
    rule_id = reader.string("id")
    reader.where = f"{where}({rule_id})"
    vehicles = reader.strings("vehicles")
    max_gap_s = reader.optional_number("max_gap_s")
    rule: Rule
    if kind == "overspeed":
        vehicle_limits: dict[str, float] = {}
        for vehicle, limit in reader.mapping("vehicle_limits_kmh").items():
            if isinstance(limit, bool) or not isinstance(limit, int | float) or limit <= 0:
                raise reader.error("vehicle_limits_kmh", f"bad limit {limit!r} for {vehicle}")
            vehicle_limits[vehicle] = float(limit)
        defaults = OverspeedRule(rule_id=rule_id)
        rule = OverspeedRule(
            rule_id=rule_id,
            level=reader.level(defaults.level),
            title=reader.string("title", defaults.title),
            vehicles=vehicles,
            max_gap_s=max_gap_s,
            limit_kmh=reader.optional_number("limit_kmh"),
            vehicle_limits_kmh=vehicle_limits,
            sections=tuple(
                _section_from(item, f"{reader.where}.sections[{index}]")
                for index, item in enumerate(reader.sequence("sections"))
            ),
            zones=tuple(
                _zone_from(item, f"{reader.where}.zones[{index}]")
                for index, item in enumerate(reader.sequence("zones"))
            ),
            min_duration_s=reader.number("min_duration_s", defaults.min_duration_s),
            clear_margin_kmh=reader.number("clear_margin_kmh", defaults.clear_margin_kmh),
            clear_duration_s=reader.number("clear_duration_s", defaults.clear_duration_s),
        )
        if rule.limit_kmh is None and not (rule.vehicle_limits_kmh or rule.sections or rule.zones):
            raise ConfigError(f"{reader.where}: an overspeed rule needs at least one limit")
        if rule.limit_kmh is not None:
            _require_positive(rule.limit_kmh, f"{reader.where}.limit_kmh")
        _durations(reader, "min_duration_s", "clear_margin_kmh", "clear_duration_s")
    elif kind == "geofence":
        report = reader.strings("report", frozenset({"enter", "exit"}))
        rule = GeofenceRule(
            rule_id=rule_id,
            level=reader.level(AlarmLevel.BLUE),
            title=reader.string("title", "进出区域"),
            vehicles=vehicles,
            max_gap_s=max_gap_s,
            area=_area_from(reader.raw("area"), f"{reader.where}.area"),
            enter_dwell_s=reader.number("enter_dwell_s", 0.0),
            exit_dwell_s=reader.number("exit_dwell_s", 0.0),
            report=report,
        )
        _durations(reader, "enter_dwell_s", "exit_dwell_s")
    elif kind == "no_go_zone":
        rule = NoGoZoneRule(
            rule_id=rule_id,
            level=reader.level(AlarmLevel.ORANGE),
            title=reader.string("title", "驶入禁行区域"),
            vehicles=vehicles,
            max_gap_s=max_gap_s,
            area=_area_from(reader.raw("area"), f"{reader.where}.area"),
            enter_dwell_s=reader.number("enter_dwell_s", 0.0),
            exit_dwell_s=reader.number("exit_dwell_s", 30.0),
        )
        _durations(reader, "enter_dwell_s", "exit_dwell_s")
    elif kind == "route_corridor":
        rule = RouteCorridorRule(
            rule_id=rule_id,
            level=reader.level(AlarmLevel.YELLOW),
            title=reader.string("title", "偏离路线"),
            vehicles=vehicles,
            max_gap_s=max_gap_s,
            route=_route_from(reader, "route"),
            max_distance_m=reader.number("max_distance_m"),
            min_duration_s=reader.number("min_duration_s", 60.0),
            clear_margin_m=reader.number("clear_margin_m", 0.0),
            clear_duration_s=reader.number("clear_duration_s", 30.0),
        )
        _require_positive(rule.max_distance_m, f"{reader.where}.max_distance_m")
        _durations(reader, "min_duration_s", "clear_margin_m", "clear_duration_s")
    elif kind == "parking":
        rule = ParkingRule(
            rule_id=rule_id,
            level=reader.level(AlarmLevel.BLUE),
            title=reader.string("title", "超时停车"),
            vehicles=vehicles,
            max_gap_s=max_gap_s,
            max_stopped_s=reader.number("max_stopped_s"),
            speed_below_kmh=reader.number("speed_below_kmh", 5.0),
            radius_m=reader.number("radius_m", 50.0),
            allowed_areas=_areas_from(reader, "allowed_areas"),
        )
        _require_positive(rule.max_stopped_s, f"{reader.where}.max_stopped_s")
        _require_positive(rule.speed_below_kmh, f"{reader.where}.speed_below_kmh")
        _require_positive(rule.radius_m, f"{reader.where}.radius_m")
    elif kind == "night_driving":
        rule = NightDrivingRule(
            rule_id=rule_id,
            level=reader.level(AlarmLevel.YELLOW),
            title=reader.string("title", "夜间禁行时段行驶"),
            vehicles=vehicles,
            max_gap_s=max_gap_s,
            window_start=reader.time_of_day("window_start"),
            window_end=reader.time_of_day("window_end"),
            timezone=reader.string("timezone", DEFAULT_TIMEZONE),
            speed_above_kmh=reader.number("speed_above_kmh", 10.0),
            min_duration_s=reader.number("min_duration_s", 30.0),
        )
        _durations(reader, "speed_above_kmh", "min_duration_s")
    elif kind == "offline":
        rule = OfflineRule(
            rule_id=rule_id,
            level=reader.level(AlarmLevel.BLUE),
            title=reader.string("title", "终端离线"),
            vehicles=vehicles,
            max_gap_s=max_gap_s,
            timeout_s=reader.number("timeout_s", 300.0),
        )
        _require_positive(rule.timeout_s, f"{reader.where}.timeout_s")
    elif kind == "terminal_alarm":
        levels = {
            name: _parse_level(str(text), f"{reader.where}.levels.{name}")
            for name, text in reader.mapping("levels").items()
        }
        titles = {name: str(text) for name, text in reader.mapping("titles").items()}
        rule = TerminalAlarmRule(
            rule_id=rule_id,
            level=reader.level(AlarmLevel.BLUE),
            title=reader.string("title", "终端报警"),
            vehicles=vehicles,
            max_gap_s=max_gap_s,
            names=reader.strings("names"),
            levels=levels,
            titles=titles,
            latched=reader.strings("latched", LATCHED_TERMINAL_ALARMS),
        )
    else:
        raise reader.error("type", f"unknown rule type {kind!r}")
    reader.finish()
    return rule


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class ConditionState:
    """A debounced condition: pending until it held long enough, then active until its
    clearing condition held long enough. ``episode`` names the night for night driving."""

    active: bool = False
    pending_since: dt.datetime | None = None
    started_at: dt.datetime | None = None
    peak: float = 0.0
    episode: str = ""


@dataclass(slots=True)
class DwellState:
    """Which side of a geofence a vehicle is confirmed on (None before its first fix), and
    the side it may be moving to."""

    inside: bool | None = None
    candidate: bool | None = None
    pending_since: dt.datetime | None = None


@dataclass(slots=True)
class ParkingState:
    """The current stop (where and since when) and whether it has been reported."""

    anchor_lat: float | None = None
    anchor_lon: float | None = None
    stopped_since: dt.datetime | None = None
    active: bool = False


@dataclass(slots=True)
class TerminalAlarmState:
    """The watched alarm bits set in the last evaluated fix."""

    names: frozenset[str] = frozenset()


RuleState = ConditionState | DwellState | ParkingState | TerminalAlarmState

_StateT = TypeVar("_StateT", ConditionState, DwellState, ParkingState, TerminalAlarmState)


@dataclass(slots=True)
class VehicleState:
    """Everything the engine remembers about one vehicle (plain data, copyable).

    ``last_fix_at``/``last_lat``/``last_lon``: the last accepted live fix.
    ``last_contact_at``: the latest contact of any kind (for the offline rule).
    ``clock_ahead``: the last fix was stamped too far ahead of its receive time.
    ``rules``: each rule's state by rule id.
    """

    vehicle: str
    last_fix_at: dt.datetime | None = None
    last_lat: float | None = None
    last_lon: float | None = None
    last_contact_at: dt.datetime | None = None
    clock_ahead: bool = False
    rules: dict[str, RuleState] = field(default_factory=dict)

    def rule_state(self, rule_id: str, kind: type[_StateT]) -> _StateT:
        """The state of ``rule_id``, created fresh if missing or of another kind."""
        state = self.rules.get(rule_id)
        if not isinstance(state, kind):
            state = kind()
            self.rules[rule_id] = state
        return state


# --------------------------------------------------------------------------- engine


@dataclass(frozen=True, slots=True)
class _Fix:
    """The parts of an accepted fix the evaluators need (time in UTC)."""

    vehicle: str
    at: dt.datetime
    lat: float
    lon: float
    speed_kmh: float
    gap_s: float | None

    def gap_exceeds(self, max_gap_s: float) -> bool:
        return self.gap_s is not None and self.gap_s > max_gap_s


def _advance(
    state: ConditionState,
    at: dt.datetime,
    *,
    raise_when: bool,
    clear_when: bool,
    raise_after_s: float,
    clear_after_s: float,
) -> str | None:
    """Move a debounced condition on by one fix: returns "raise", "clear" or None."""
    if not state.active:
        if not raise_when:
            state.pending_since = None
            return None
        if state.pending_since is None:
            state.pending_since = at
        if _seconds_between(state.pending_since, at) >= raise_after_s:
            state.active = True
            state.started_at = state.pending_since
            state.pending_since = None
            return "raise"
        return None
    if not clear_when:
        state.pending_since = None
        return None
    if state.pending_since is None:
        state.pending_since = at
    if _seconds_between(state.pending_since, at) >= clear_after_s:
        state.active = False
        state.pending_since = None
        return "clear"
    return None


class VehicleRulesEngine:
    """Evaluates :class:`RulesConfig` against position fixes, one vehicle state at a time.

    Deterministic and free of I/O: time comes only from the fixes and from ``now`` passed
    to :meth:`check_timeouts`. Not thread-safe; call it from one task.
    """

    def __init__(self, config: RulesConfig, states: Iterable[VehicleState] = ()) -> None:
        self._config = config
        self._states: dict[str, VehicleState] = {
            state.vehicle: copy.deepcopy(state) for state in states
        }

    @property
    def config(self) -> RulesConfig:
        """The rules in force."""
        return self._config

    def replace_config(self, config: RulesConfig) -> None:
        """Put new rules in force. States of rules whose id remains are kept (so open
        episodes neither repeat nor get lost); states of removed rules are dropped."""
        self._config = config
        kept = {rule.rule_id for rule in config.rules}
        for state in self._states.values():
            for rule_id in list(state.rules):
                if rule_id not in kept:
                    del state.rules[rule_id]

    def states(self) -> list[VehicleState]:
        """Copies of every vehicle's state, to persist and later pass to a new engine."""
        return [copy.deepcopy(state) for state in self._states.values()]

    def state_of(self, vehicle: str) -> VehicleState | None:
        """A copy of one vehicle's state, or None if it was never seen."""
        state = self._states.get(vehicle)
        return copy.deepcopy(state) if state is not None else None

    def forget(self, vehicle: str) -> None:
        """Drop a vehicle's state (e.g. when it is removed from the registry)."""
        self._states.pop(vehicle, None)

    def observe(
        self, position: Position, *, received_at: dt.datetime | None = None
    ) -> list[RuleDecision]:
        """Evaluate one fix; returns the decisions it causes, in rule order.

        ``received_at`` (the server's receive time; pass it) counts as contact for the
        offline rule and guards against device clocks running ahead; without it the fix's
        own time counts as contact. Fixes at or before the vehicle's last accepted fix,
        backfill fixes and fixes stamped too far ahead count as contact only.
        """
        at = _as_utc(position.at, "position.at")
        contact = _as_utc(received_at, "received_at") if received_at is not None else at
        state = self._states.get(position.device)
        if state is None:
            state = self._states[position.device] = VehicleState(position.device)
        decisions: list[RuleDecision] = []
        if state.last_contact_at is None or contact > state.last_contact_at:
            state.last_contact_at = contact
            decisions.extend(self._back_online(state, contact, position.lat, position.lon))
        if position.backfill:
            return decisions
        if received_at is not None and self._clock_ahead(state, at, contact):
            return decisions
        if state.last_fix_at is not None and at <= state.last_fix_at:
            logger.debug(
                "vehicle %s: fix at %s is not after %s; not evaluated",
                position.device,
                at,
                state.last_fix_at,
            )
            return decisions
        gap_s = None if state.last_fix_at is None else _seconds_between(state.last_fix_at, at)
        state.last_fix_at, state.last_lat, state.last_lon = at, position.lat, position.lon
        fix = _Fix(position.device, at, position.lat, position.lon, position.speed_kmh, gap_s)
        for rule in self._config.rules:
            if not rule.applies_to(position.device):
                continue
            match rule:
                case OverspeedRule():
                    decisions.extend(self._overspeed(rule, state, fix))
                case GeofenceRule():
                    decisions.extend(self._geofence(rule, state, fix))
                case NoGoZoneRule():
                    decisions.extend(self._no_go_zone(rule, state, fix))
                case RouteCorridorRule():
                    decisions.extend(self._route_corridor(rule, state, fix))
                case ParkingRule():
                    decisions.extend(self._parking(rule, state, fix))
                case NightDrivingRule():
                    decisions.extend(self._night_driving(rule, state, fix))
                case TerminalAlarmRule():
                    decisions.extend(self._terminal_alarms(rule, state, fix, position.alarms))
                case OfflineRule():
                    pass  # contact is handled above; timeouts in check_timeouts
        for decision in decisions:
            logger.info(
                "vehicle %s: %s %s (%s)",
                decision.vehicle,
                "hit" if isinstance(decision, RuleHit) else "cleared",
                decision.alarm_key,
                decision.kind,
            )
        return decisions

    def vehicles(self) -> list[str]:
        """The vehicles the engine keeps state for (a snapshot)."""
        return list(self._states)

    def check_timeouts(
        self, now: dt.datetime, vehicles: Iterable[str] | None = None
    ) -> list[RuleDecision]:
        """Decisions due by ``now`` without a fix: vehicles gone offline, night windows
        that ended. Call it periodically (e.g. every few seconds), for all vehicles or, in
        slices, for ``vehicles`` (unknown ones are skipped)."""
        now = _as_utc(now, "now")
        decisions: list[RuleDecision] = []
        if vehicles is None:
            states: Iterable[VehicleState] = self._states.values()
        else:
            states = [state for v in vehicles if (state := self._states.get(v)) is not None]
        for state in states:
            for rule in self._config.rules:
                if not rule.applies_to(state.vehicle):
                    continue
                if isinstance(rule, OfflineRule):
                    decisions.extend(self._offline_timeout(rule, state, now))
                elif isinstance(rule, NightDrivingRule):
                    night = state.rule_state(rule.rule_id, ConditionState)
                    if night.active and rule.night_of(now) != night.episode:
                        decisions.append(
                            self._night_cleared(
                                rule, state, night, at=now, lat=state.last_lat, lon=state.last_lon
                            )
                        )
        for decision in decisions:
            logger.info(
                "vehicle %s: %s %s (%s)",
                decision.vehicle,
                "hit" if isinstance(decision, RuleHit) else "cleared",
                decision.alarm_key,
                decision.kind,
            )
        return decisions

    # ------------------------------------------------------------------ helpers

    def _clock_ahead(self, state: VehicleState, at: dt.datetime, received: dt.datetime) -> bool:
        ahead = _seconds_between(received, at) > self._config.max_clock_ahead_s
        if ahead != state.clock_ahead:
            state.clock_ahead = ahead
            if ahead:
                logger.warning(
                    "vehicle %s: fix stamped %s but received %s; not evaluated until the "
                    "clock is right",
                    state.vehicle,
                    at.isoformat(),
                    received.isoformat(),
                )
            else:
                logger.info("vehicle %s: fix times are plausible again", state.vehicle)
        return ahead

    def _max_gap(self, rule: RuleBase) -> float:
        return rule.max_gap_s if rule.max_gap_s is not None else self._config.max_gap_s

    @staticmethod
    def _hit(
        rule: RuleBase,
        kind: RuleKind,
        *,
        vehicle: str,
        started_at: dt.datetime,
        at: dt.datetime,
        lat: float | None,
        lon: float | None,
        detail: dict[str, DetailValue],
        alarm_key: str | None = None,
        level: AlarmLevel | None = None,
        title: str | None = None,
    ) -> RuleHit:
        return RuleHit(
            vehicle=vehicle,
            rule_id=rule.rule_id,
            alarm_key=alarm_key or rule.alarm_key,
            kind=kind,
            level=level or rule.level,
            title=title or rule.title,
            started_at=started_at,
            at=at,
            lat=lat,
            lon=lon,
            detail=detail,
        )

    @staticmethod
    def _cleared(
        rule: RuleBase,
        kind: RuleKind,
        *,
        vehicle: str,
        started_at: dt.datetime,
        at: dt.datetime,
        lat: float | None,
        lon: float | None,
        detail: dict[str, DetailValue],
        alarm_key: str | None = None,
    ) -> RuleCleared:
        return RuleCleared(
            vehicle=vehicle,
            rule_id=rule.rule_id,
            alarm_key=alarm_key or rule.alarm_key,
            kind=kind,
            started_at=started_at,
            at=at,
            lat=lat,
            lon=lon,
            detail=detail,
        )

    def _debounced(
        self,
        rule: RuleBase,
        kind: RuleKind,
        state: ConditionState,
        fix: _Fix,
        *,
        raise_when: bool,
        clear_when: bool,
        raise_after_s: float,
        clear_after_s: float,
        value: float,
        detail: dict[str, DetailValue],
    ) -> list[RuleDecision]:
        if fix.gap_exceeds(self._max_gap(rule)):
            state.pending_since = None
        if not state.active and state.pending_since is None:
            state.peak = value  # a new episode may begin here
        outcome = _advance(
            state,
            fix.at,
            raise_when=raise_when,
            clear_when=clear_when,
            raise_after_s=raise_after_s,
            clear_after_s=clear_after_s,
        )
        state.peak = max(state.peak, value)
        started_at = state.started_at or fix.at
        if outcome == "raise":
            return [
                self._hit(
                    rule,
                    kind,
                    vehicle=fix.vehicle,
                    started_at=started_at,
                    at=fix.at,
                    lat=fix.lat,
                    lon=fix.lon,
                    detail=detail,
                )
            ]
        if outcome == "clear":
            detail = {
                **detail,
                "peak": state.peak,
                "duration_s": _seconds_between(started_at, fix.at),
            }
            return [
                self._cleared(
                    rule,
                    kind,
                    vehicle=fix.vehicle,
                    started_at=started_at,
                    at=fix.at,
                    lat=fix.lat,
                    lon=fix.lon,
                    detail=detail,
                )
            ]
        return []

    # ------------------------------------------------------------------ rules

    def _overspeed(
        self, rule: OverspeedRule, vehicle: VehicleState, fix: _Fix
    ) -> list[RuleDecision]:
        limit = rule.limit_at(fix.vehicle, fix.lat, fix.lon)
        limit_kmh, source = limit if limit is not None else (None, "")
        return self._debounced(
            rule,
            RuleKind.OVERSPEED,
            vehicle.rule_state(rule.rule_id, ConditionState),
            fix,
            raise_when=limit_kmh is not None and fix.speed_kmh > limit_kmh,
            clear_when=limit_kmh is None or fix.speed_kmh <= limit_kmh - rule.clear_margin_kmh,
            raise_after_s=rule.min_duration_s,
            clear_after_s=rule.clear_duration_s,
            value=fix.speed_kmh,
            detail={"speed_kmh": fix.speed_kmh, "limit_kmh": limit_kmh, "limit_source": source},
        )

    def _no_go_zone(
        self, rule: NoGoZoneRule, vehicle: VehicleState, fix: _Fix
    ) -> list[RuleDecision]:
        inside = rule.area.contains(fix.lat, fix.lon)
        return self._debounced(
            rule,
            RuleKind.NO_GO_ZONE,
            vehicle.rule_state(rule.rule_id, ConditionState),
            fix,
            raise_when=inside,
            clear_when=not inside,
            raise_after_s=rule.enter_dwell_s,
            clear_after_s=rule.exit_dwell_s,
            value=fix.speed_kmh,
            detail={"inside": int(inside)},
        )

    def _route_corridor(
        self, rule: RouteCorridorRule, vehicle: VehicleState, fix: _Fix
    ) -> list[RuleDecision]:
        distance_m = distance_to_polyline_m(fix.lat, fix.lon, rule.route)
        return self._debounced(
            rule,
            RuleKind.ROUTE_DEVIATION,
            vehicle.rule_state(rule.rule_id, ConditionState),
            fix,
            raise_when=distance_m > rule.max_distance_m,
            clear_when=distance_m <= rule.max_distance_m - rule.clear_margin_m,
            raise_after_s=rule.min_duration_s,
            clear_after_s=rule.clear_duration_s,
            value=distance_m,
            detail={"distance_m": round(distance_m, 1), "max_distance_m": rule.max_distance_m},
        )

    def _geofence(self, rule: GeofenceRule, vehicle: VehicleState, fix: _Fix) -> list[RuleDecision]:
        state = vehicle.rule_state(rule.rule_id, DwellState)
        inside = rule.area.contains(fix.lat, fix.lon)
        if state.inside is None:
            state.inside = inside  # the first known side is where the vehicle is: no event
            return []
        if fix.gap_exceeds(self._max_gap(rule)):
            state.candidate = state.pending_since = None
        if inside == state.inside:
            state.candidate = state.pending_since = None
            return []
        if state.candidate != inside or state.pending_since is None:
            state.candidate, state.pending_since = inside, fix.at
        dwell_s = rule.enter_dwell_s if inside else rule.exit_dwell_s
        started_at = state.pending_since
        if _seconds_between(started_at, fix.at) < dwell_s:
            return []
        state.inside = inside
        state.candidate = state.pending_since = None
        direction = "enter" if inside else "exit"
        if direction not in rule.report:
            return []
        return [
            self._hit(
                rule,
                RuleKind.GEOFENCE_ENTER if inside else RuleKind.GEOFENCE_EXIT,
                vehicle=fix.vehicle,
                started_at=started_at,
                at=fix.at,
                lat=fix.lat,
                lon=fix.lon,
                detail={"direction": direction},
                alarm_key=rule.direction_key(direction),
            )
        ]

    def _parking(self, rule: ParkingRule, vehicle: VehicleState, fix: _Fix) -> list[RuleDecision]:
        state = vehicle.rule_state(rule.rule_id, ParkingState)
        decisions: list[RuleDecision] = []
        stopped = fix.speed_kmh < rule.speed_below_kmh
        continuing = (
            stopped
            and state.anchor_lat is not None
            and state.anchor_lon is not None
            and state.stopped_since is not None
            and haversine_m(state.anchor_lat, state.anchor_lon, fix.lat, fix.lon) <= rule.radius_m
        )
        if continuing and not state.active and fix.gap_exceeds(self._max_gap(rule)):
            state.stopped_since = fix.at  # a gap is not evidence of standing still
        elif not continuing:
            if state.active and state.stopped_since is not None:
                decisions.append(
                    self._cleared(
                        rule,
                        RuleKind.PARKING_OVERTIME,
                        vehicle=fix.vehicle,
                        started_at=state.stopped_since,
                        at=fix.at,
                        lat=state.anchor_lat,
                        lon=state.anchor_lon,
                        detail={"stopped_s": _seconds_between(state.stopped_since, fix.at)},
                    )
                )
            state.active = False
            if stopped:
                state.anchor_lat, state.anchor_lon, state.stopped_since = fix.lat, fix.lon, fix.at
            else:
                state.anchor_lat = state.anchor_lon = state.stopped_since = None
        if (
            not state.active
            and state.stopped_since is not None
            and state.anchor_lat is not None
            and state.anchor_lon is not None
            and _seconds_between(state.stopped_since, fix.at) >= rule.max_stopped_s
        ):
            anchor_lat, anchor_lon = state.anchor_lat, state.anchor_lon
            if any(area.contains(anchor_lat, anchor_lon) for area in rule.allowed_areas):
                return decisions
            state.active = True
            decisions.append(
                self._hit(
                    rule,
                    RuleKind.PARKING_OVERTIME,
                    vehicle=fix.vehicle,
                    started_at=state.stopped_since,
                    at=fix.at,
                    lat=anchor_lat,
                    lon=anchor_lon,
                    detail={
                        "stopped_s": _seconds_between(state.stopped_since, fix.at),
                        "max_stopped_s": rule.max_stopped_s,
                    },
                )
            )
        return decisions

    def _night_driving(
        self, rule: NightDrivingRule, vehicle: VehicleState, fix: _Fix
    ) -> list[RuleDecision]:
        state = vehicle.rule_state(rule.rule_id, ConditionState)
        night = rule.night_of(fix.at)
        decisions: list[RuleDecision] = []
        if state.active and night != state.episode:
            decisions.append(
                self._night_cleared(rule, vehicle, state, at=fix.at, lat=fix.lat, lon=fix.lon)
            )
        if fix.gap_exceeds(self._max_gap(rule)):
            state.pending_since = None
        outcome = _advance(
            state,
            fix.at,
            raise_when=(
                night is not None
                and night != state.episode
                and fix.speed_kmh > rule.speed_above_kmh
            ),
            clear_when=False,  # an episode ends with its night (above, or in check_timeouts)
            raise_after_s=rule.min_duration_s,
            clear_after_s=0.0,
        )
        if outcome == "raise" and night is not None:
            state.episode = night
            decisions.append(
                self._hit(
                    rule,
                    RuleKind.NIGHT_DRIVING,
                    vehicle=fix.vehicle,
                    started_at=state.started_at or fix.at,
                    at=fix.at,
                    lat=fix.lat,
                    lon=fix.lon,
                    detail={"night": night, "speed_kmh": fix.speed_kmh},
                )
            )
        return decisions

    def _night_cleared(
        self,
        rule: NightDrivingRule,
        vehicle: VehicleState,
        state: ConditionState,
        *,
        at: dt.datetime,
        lat: float | None,
        lon: float | None,
    ) -> RuleCleared:
        state.active = False
        state.pending_since = None
        return self._cleared(
            rule,
            RuleKind.NIGHT_DRIVING,
            vehicle=vehicle.vehicle,
            started_at=state.started_at or at,
            at=at,
            lat=lat,
            lon=lon,
            detail={"night": state.episode},
        )

    def _terminal_alarms(
        self,
        rule: TerminalAlarmRule,
        vehicle: VehicleState,
        fix: _Fix,
        alarms: frozenset[str],
    ) -> list[RuleDecision]:
        state = vehicle.rule_state(rule.rule_id, TerminalAlarmState)
        current = frozenset(name for name in alarms if rule.watches(name))
        decisions: list[RuleDecision] = [
            self._hit(
                rule,
                RuleKind.TERMINAL_ALARM,
                vehicle=fix.vehicle,
                started_at=fix.at,
                at=fix.at,
                lat=fix.lat,
                lon=fix.lon,
                detail={"alarm": name},
                alarm_key=name,
                level=rule.levels.get(name, rule.level),
                title=rule.titles.get(name, name),
            )
            for name in sorted(current - state.names)
        ]
        decisions.extend(
            self._cleared(
                rule,
                RuleKind.TERMINAL_ALARM,
                vehicle=fix.vehicle,
                started_at=fix.at,
                at=fix.at,
                lat=fix.lat,
                lon=fix.lon,
                detail={"alarm": name},
                alarm_key=name,
            )
            for name in sorted(state.names - current)
            if name not in rule.latched
        )
        state.names = current
        return decisions

    def _offline_timeout(
        self, rule: OfflineRule, vehicle: VehicleState, now: dt.datetime
    ) -> list[RuleDecision]:
        state = vehicle.rule_state(rule.rule_id, ConditionState)
        last = vehicle.last_contact_at
        if state.active or last is None or _seconds_between(last, now) < rule.timeout_s:
            return []
        state.active, state.started_at = True, last
        return [
            self._hit(
                rule,
                RuleKind.OFFLINE,
                vehicle=vehicle.vehicle,
                started_at=last,
                at=now,
                lat=vehicle.last_lat,
                lon=vehicle.last_lon,
                detail={"silent_s": _seconds_between(last, now), "timeout_s": rule.timeout_s},
            )
        ]

    def _back_online(
        self, vehicle: VehicleState, contact: dt.datetime, lat: float, lon: float
    ) -> list[RuleDecision]:
        decisions: list[RuleDecision] = []
        for rule in self._config.rules:
            if not isinstance(rule, OfflineRule) or not rule.applies_to(vehicle.vehicle):
                continue
            state = vehicle.rules.get(rule.rule_id)
            if not isinstance(state, ConditionState) or not state.active:
                continue
            state.active = False
            started_at = state.started_at or contact
            decisions.append(
                self._cleared(
                    rule,
                    RuleKind.OFFLINE,
                    vehicle=vehicle.vehicle,
                    started_at=started_at,
                    at=contact,
                    lat=lat,
                    lon=lon,
                    detail={"silent_s": _seconds_between(started_at, contact)},
                )
            )
        return decisions
