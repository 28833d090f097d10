"""Vehicle rule definitions: frozen msgspec structs, read from JSON and built in code alike.

Each rule kind is a struct tagged by ``type`` (``{"type": "overspeed", "id": "speed",
...}``); unknown fields are refused, defaults are stated once (on the struct), and every
check that is not a type lives in ``__post_init__``, so a rule built in code (e.g. from a
geofence) is validated exactly as one read from the rules file. :meth:`RulesConfig.from_dict`
turns msgspec's complaints into a :class:`ConfigError` that names the place
(``rules[2] (reservoir).area.radius_m: ...``).
"""

from __future__ import annotations

import abc
import datetime as dt
import functools
import json
import logging
import math
import re
import zoneinfo
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, TypeAlias, get_args

import msgspec

from backend.geo import Area, Circle, LatLon, Polygon, distance_to_polyline_m
from devices.jt808.bits import RESERVED_PREFIX
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


class Error(Exception):
    """Base class for the vehicle rules' errors."""


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


# msgspec reads only "HH:MM:SS" times and cannot tell a circle from a polygon (they are
# dataclasses of backend.geo), so those fields are typed with marker classes at run time:
# msgspec hands their raw value to _decode_hook. Type checkers see the real types.
if TYPE_CHECKING:
    AreaValue: TypeAlias = Area
    TimeOfDay: TypeAlias = dt.time
else:

    class AreaValue(abc.ABC):  # noqa: B024 (a marker: nothing to implement)
        """A circle or a polygon, read from ``{"type": "circle" | "polygon", ...}``."""

    class TimeOfDay(abc.ABC):  # noqa: B024 (a marker: nothing to implement)
        """A time of day, read from ``"HH:MM"``."""

    AreaValue.register(Circle)
    AreaValue.register(Polygon)
    TimeOfDay.register(dt.time)


def _require_positive(value: float, what: str, *, allow_zero: bool = False) -> None:
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        qualifier = "non-negative" if allow_zero else "positive"
        raise ConfigError(f"{what} must be a {qualifier} number, not {value}")


def _require_durations(**values: float) -> None:
    for name, value in values.items():
        _require_positive(value, name, allow_zero=True)


def _require_route(route: tuple[LatLon, ...], what: str) -> None:
    if len(route) < 2:
        raise ConfigError(f"{what}: a route needs at least 2 points")
    for index, (lat, lon) in enumerate(route):
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ConfigError(f"{what}[{index}]: ({lat}, {lon}) is not a WGS-84 [lat, lon]")


# --------------------------------------------------------------------------- rules


class RuleBase(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"
):
    """Fields every rule has.

    ``rule_id`` (``id`` in JSON) names the rule. ``vehicles`` limits the rule to those
    vehicle ids (empty: every vehicle). ``max_gap_s`` overrides the engine's gap after
    which timers restart (useful for parking, as terminals report rarely with the ignition
    off).
    """

    rule_id: str = msgspec.field(name="id")
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
            _require_positive(self.max_gap_s, "max_gap_s")

    def applies_to(self, vehicle: str) -> bool:
        """True if this rule watches ``vehicle``."""
        return not self.vehicles or vehicle in self.vehicles

    @property
    def alarm_key(self) -> str:
        """The stable alarm key of this rule's hits (``rule.<rule_id>``)."""
        return f"rule.{self.rule_id}"


class SpeedSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A road section with its own limit: fixes within ``max_distance_m`` of the centre line
    ``route`` (``(lat, lon)`` vertices) are on it."""

    name: str
    route: tuple[LatLon, ...]
    max_distance_m: float
    limit_kmh: float

    def __post_init__(self) -> None:
        _require_route(self.route, "route")
        _require_positive(self.max_distance_m, "max_distance_m")
        _require_positive(self.limit_kmh, "limit_kmh")

    def contains(self, lat: float, lon: float) -> bool:
        """True if (lat, lon) is on this section."""
        return distance_to_polyline_m(lat, lon, self.route) <= self.max_distance_m


class SpeedZone(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An area (circle or polygon) with its own speed limit."""

    name: str
    area: AreaValue
    limit_kmh: float

    def __post_init__(self) -> None:
        _require_positive(self.limit_kmh, "limit_kmh")


class OverspeedRule(RuleBase, frozen=True, kw_only=True, tag="overspeed"):
    """Overspeed against the lowest applicable limit, with a minimum duration and hysteresis.

    Applicable limits at a fix: ``vehicle_limits_kmh[vehicle]`` (else ``limit_kmh``), plus
    every road section and speed zone the fix is in. No applicable limit: not overspeeding.
    """

    level: AlarmLevel = AlarmLevel.ORANGE
    title: str = "超速"
    limit_kmh: float | None = None
    vehicle_limits_kmh: Mapping[str, float] = msgspec.field(default_factory=dict)
    sections: tuple[SpeedSection, ...] = ()
    zones: tuple[SpeedZone, ...] = ()
    min_duration_s: float = 30.0
    clear_margin_kmh: float = 5.0
    clear_duration_s: float = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.limit_kmh is None and not (self.vehicle_limits_kmh or self.sections or self.zones):
            raise ConfigError("an overspeed rule needs at least one limit")
        if self.limit_kmh is not None:
            _require_positive(self.limit_kmh, "limit_kmh")
        for vehicle, limit in self.vehicle_limits_kmh.items():
            _require_positive(limit, f"vehicle_limits_kmh.{vehicle}")
        _require_durations(
            min_duration_s=self.min_duration_s,
            clear_margin_kmh=self.clear_margin_kmh,
            clear_duration_s=self.clear_duration_s,
        )

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


class GeofenceRule(RuleBase, frozen=True, kw_only=True, tag="geofence"):
    """Enter/exit events for an area; a side counts only after the dwell time on it.

    ``report`` names the directions that produce hits (``enter``, ``exit`` or both).
    """

    area: AreaValue
    level: AlarmLevel = AlarmLevel.BLUE
    title: str = "进出区域"
    enter_dwell_s: float = 0.0
    exit_dwell_s: float = 0.0
    report: frozenset[str] = frozenset({"enter", "exit"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.report or not self.report <= {"enter", "exit"}:
            raise ConfigError("report must be 'enter', 'exit' or both")
        _require_durations(enter_dwell_s=self.enter_dwell_s, exit_dwell_s=self.exit_dwell_s)

    def direction_key(self, direction: str) -> str:
        """The alarm key of one direction's hits (``rule.<rule_id>:enter``/``:exit``)."""
        return f"{self.alarm_key}:{direction}"


class NoGoZoneRule(RuleBase, frozen=True, kw_only=True, tag="no_go_zone"):
    """Being inside ``area`` for ``enter_dwell_s`` is an alarm; cleared after
    ``exit_dwell_s`` outside."""

    area: AreaValue
    level: AlarmLevel = AlarmLevel.ORANGE
    title: str = "驶入禁行区域"
    enter_dwell_s: float = 0.0
    exit_dwell_s: float = 30.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_durations(enter_dwell_s=self.enter_dwell_s, exit_dwell_s=self.exit_dwell_s)


class RouteCorridorRule(RuleBase, frozen=True, kw_only=True, tag="route_corridor"):
    """Farther than ``max_distance_m`` from the approved ``route`` for ``min_duration_s``;
    cleared after ``clear_duration_s`` within ``max_distance_m − clear_margin_m``."""

    route: tuple[LatLon, ...]
    max_distance_m: float
    level: AlarmLevel = AlarmLevel.YELLOW
    title: str = "偏离路线"
    min_duration_s: float = 60.0
    clear_margin_m: float = 0.0
    clear_duration_s: float = 30.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_route(self.route, "route")
        _require_positive(self.max_distance_m, "max_distance_m")
        _require_durations(
            min_duration_s=self.min_duration_s,
            clear_margin_m=self.clear_margin_m,
            clear_duration_s=self.clear_duration_s,
        )


class ParkingRule(RuleBase, frozen=True, kw_only=True, tag="parking"):
    """Stopped (slower than ``speed_below_kmh``, within ``radius_m`` of where the stop began)
    for longer than ``max_stopped_s``, unless the stop is inside one of ``allowed_areas``.
    Cleared when the vehicle moves off."""

    max_stopped_s: float
    level: AlarmLevel = AlarmLevel.BLUE
    title: str = "超时停车"
    speed_below_kmh: float = 5.0
    radius_m: float = 50.0
    allowed_areas: tuple[AreaValue, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_positive(self.max_stopped_s, "max_stopped_s")
        _require_positive(self.speed_below_kmh, "speed_below_kmh")
        _require_positive(self.radius_m, "radius_m")


class NightDrivingRule(RuleBase, frozen=True, kw_only=True, tag="night_driving"):
    """Moving faster than ``speed_above_kmh`` for ``min_duration_s`` inside the local-time
    window ``[window_start, window_end)`` (may cross midnight; ``"HH:MM"`` in JSON). At most
    one hit per vehicle per night; it clears when the window ends."""

    window_start: TimeOfDay
    window_end: TimeOfDay
    timezone: str = DEFAULT_TIMEZONE
    level: AlarmLevel = AlarmLevel.YELLOW
    title: str = "夜间禁行时段行驶"
    speed_above_kmh: float = 10.0
    min_duration_s: float = 30.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.window_start == self.window_end:
            raise ConfigError("the night window must not be empty")
        load_timezone(self.timezone)
        _require_durations(speed_above_kmh=self.speed_above_kmh, min_duration_s=self.min_duration_s)

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


class OfflineRule(RuleBase, frozen=True, kw_only=True, tag="offline"):
    """No contact from the vehicle for ``timeout_s`` seconds (checked by
    ``check_timeouts``); cleared by the next contact."""

    timeout_s: float = 300.0
    level: AlarmLevel = AlarmLevel.BLUE
    title: str = "终端离线"

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_positive(self.timeout_s, "timeout_s")


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


class TerminalAlarmRule(RuleBase, frozen=True, kw_only=True, tag="terminal_alarm"):
    """The terminal's own alarm bits, passed through on their rising edge.

    ``names`` restricts the bits (empty: all). ``levels`` sets a level per bit name
    (``level`` for the rest). A falling edge clears the hit unless the bit is in
    ``latched``. The hit's ``alarm_key`` is the bit name itself, the key the JT/T 808
    gateway uses for its own ``DeviceAlarmRaised``.
    """

    level: AlarmLevel = AlarmLevel.BLUE
    title: str = "终端报警"
    names: frozenset[str] = frozenset()
    levels: Mapping[str, AlarmLevel] = msgspec.field(default_factory=dict)
    titles: Mapping[str, str] = msgspec.field(default_factory=dict)
    latched: frozenset[str] = LATCHED_TERMINAL_ALARMS

    def watches(self, name: str) -> bool:
        """True if hits are produced for the alarm bit ``name`` (never for a bit the
        standard leaves reserved: it means nothing)."""
        if name.startswith(RESERVED_PREFIX):
            return False
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


class RulesConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
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
        try:
            return msgspec.convert(data, cls, dec_hook=_decode_hook)
        except msgspec.ValidationError as exc:
            raise _config_error(exc, data) from exc

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


# --------------------------------------------------------------------------- decoding


class _CircleSpec(msgspec.Struct, forbid_unknown_fields=True, tag="circle", tag_field="type"):
    lat: float
    lon: float
    radius_m: float

    def area(self) -> Area:
        return Circle(self.lat, self.lon, self.radius_m)


class _PolygonSpec(msgspec.Struct, forbid_unknown_fields=True, tag="polygon", tag_field="type"):
    outer: tuple[LatLon, ...]
    holes: tuple[tuple[LatLon, ...], ...] = ()

    def area(self) -> Area:
        return Polygon(self.outer, self.holes)


def _area_from(value: object) -> Area:
    try:
        spec = msgspec.convert(value, _CircleSpec | _PolygonSpec)
    except msgspec.ValidationError as exc:
        # A plain ValueError, so that msgspec adds where the area is.
        raise ValueError(str(exc)) from None
    return spec.area()  # backend.geo's ValueError names what is wrong


def _time_from(value: object) -> dt.time:
    if not isinstance(value, str):
        raise ValueError(f"expected HH:MM, got {value!r}")
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected HH:MM, got {value!r}") from None


_DECODERS: Final[Mapping[object, Callable[[object], object]]] = {
    AreaValue: _area_from,
    TimeOfDay: _time_from,
}


def _decode_hook(kind: type, value: object) -> object:
    """Build the values msgspec cannot read by itself (see :data:`AreaValue`)."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise NotImplementedError(f"no decoder for {kind!r}")
    return decoder(value)


_PATH_SUFFIX: Final = re.compile(r" - at `(\$[^`]*)`")
_RULE_PATH: Final = re.compile(r"\$\.rules\[(\d+)\]")
_RULE_TYPES: Final = tuple(str(rule.__struct_config__.tag) for rule in get_args(Rule))
_CHOICES: Final[Mapping[str, tuple[str, ...]]] = {
    "level": tuple(level.value for level in AlarmLevel),
    "levels": tuple(level.value for level in AlarmLevel),
    "type": ("circle", "polygon"),
}


def _config_error(exc: msgspec.ValidationError, data: Mapping[str, object]) -> ConfigError:
    """``rules[2] (reservoir).area.radius_m: <what msgspec or a check said>``."""
    text = str(exc)
    paths = _PATH_SUFFIX.findall(text)
    message = _PATH_SUFFIX.sub("", text)
    # An area's own error carries its path inside the area: outermost path comes last.
    path = "".join([paths[-1], *(inner[1:] for inner in reversed(paths[:-1]))]) if paths else "$"
    if message.startswith(("Invalid value", "Invalid enum value")):
        field = re.sub(r"\[[^\]]*\]", "", path).rsplit(".", 1)[-1]
        choices = _RULE_TYPES if re.fullmatch(r"\$\.rules\[\d+\]\.type", path) else None
        choices = choices or _CHOICES.get(field)
        if choices:
            message = f"{message}; expected one of {', '.join(choices)}"
    return ConfigError(f"{_place(path, data)}: {message}")


def _place(path: str, data: Mapping[str, object]) -> str:
    """``$.rules[2].area`` → ``rules[2] (reservoir).area``; ``$`` → ``config``."""
    if path == "$":
        return "config"
    match = _RULE_PATH.match(path)
    if match is None:
        return path.removeprefix("$.")
    rules = data.get("rules")
    index = int(match[1])
    rule = rules[index] if isinstance(rules, list | tuple) and index < len(rules) else None
    rule_id = rule.get("id") if isinstance(rule, Mapping) else None
    named = f"rules[{index}] ({rule_id})" if isinstance(rule_id, str) else f"rules[{index}]"
    return named + path[match.end() :]
