"""Sensor threshold rules: readings in, alarm decisions out (sans-I/O, deterministic).

Nothing here touches a clock, a socket or a database. The caller passes every reading
and, for staleness, the current time; the engine answers with a list of decisions that
say what should happen to the sensor's alarms. The rules are data (:class:`RuleSet`,
stored per sensor as JSON), because the published limits change between editions of
the regulations; :data:`DEFAULT_RULES` only seeds a new sensor.

Rules per sensor
----------------
* **Thresholds** at up to four levels (blue < yellow < orange < red) in each direction
  (``high``: a value at or above ``value`` is dangerous; ``low``: at or below, as for
  oxygen). Each level has its own ``restore`` value (hysteresis: a high level stays
  active while the value is at or above ``restore`` and ends once it is below) and a
  ``dwell_seconds`` (the level is raised only once the condition has held on every
  reading for that long; it is confirmed by the reading that completes the dwell).
  Restoring is immediate. Each direction is one alarm whose level moves up and down.
* **Rate of change**: the change over ``window_seconds`` (against the newest reading
  at least that old), per minute; ``rise`` or ``fall``. One alarm per direction.
* **Stale**: no reading for ``stale_after_cycles`` poll cycles makes one
  :class:`Offline`; the next accepted reading makes one :class:`Online`.
* **Flapping**: a threshold or rate alarm that returns within ``flap_window_seconds``
  of its :class:`Clear` yields :class:`Recur` (update the alarm raised before) instead
  of :class:`Raise` (open a new one).
* **Units**: a reading whose unit differs from the sensor's is :class:`Rejected`.
  Nothing is converted (ppm and mg/m³ differ per gas); only spellings of the very same
  unit (``℃``/``°C``, ``％``/``%``, ``m3``/``m³``) are accepted. A reading without a unit
  (Modbus register maps carry none) is taken to be in the sensor's unit.
* **Order**: a reading not newer than the last accepted one of its sensor is
  :class:`Ignored` (a duplicate or out of order) and changes nothing.

Every alarm-related decision carries ``rule`` (:class:`RuleKey`): one sensor has at most
one open alarm per rule, so ``(sensor_id, rule)`` is the alarm's dedupe key.
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from devices.observations import Reading
from realtime.states import AlarmLevel

__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_UNITS",
    "RULES_SOURCE",
    "Clear",
    "DeEscalate",
    "Decision",
    "Direction",
    "Error",
    "Escalate",
    "IgnoreReason",
    "Ignored",
    "Offline",
    "Online",
    "Placement",
    "Raise",
    "RateLimit",
    "Recur",
    "RejectReason",
    "Rejected",
    "RuleKey",
    "RuleSet",
    "RuleState",
    "SensorConfig",
    "SensorKind",
    "SensorRules",
    "SensorState",
    "Threshold",
    "default_rules",
    "normalize_unit",
    "severity",
]


class Error(ValueError):
    """A sensor or rule configuration is invalid."""


# --------------------------------------------------------------------------- vocabulary


class SensorKind(enum.StrEnum):
    """What a sensor measures."""

    CH4 = "ch4"
    CO = "co"
    H2S = "h2s"
    O2 = "o2"
    TEMPERATURE = "temperature"
    PRESSURE = "pressure"
    LIQUID_LEVEL = "liquid_level"
    FLOW = "flow"
    WIND_SPEED = "wind_speed"


DEFAULT_UNITS: Final[Mapping[SensorKind, str]] = {
    SensorKind.CH4: "%",
    SensorKind.CO: "ppm",
    SensorKind.H2S: "ppm",
    SensorKind.O2: "%",
    SensorKind.TEMPERATURE: "°C",
    SensorKind.PRESSURE: "MPa",
    SensorKind.LIQUID_LEVEL: "m",
    SensorKind.FLOW: "m³/h",
    SensorKind.WIND_SPEED: "m/s",
}
"""The unit a new sensor of each kind gets unless told otherwise."""


class Placement(enum.StrEnum):
    """Where a sensor sits, when the published limits depend on it (methane does)."""

    GENERAL = ""
    MINING_FACE = "mining_face"
    """采煤工作面."""
    FACE_RETURN_AIRWAY = "face_return_airway"
    """采煤工作面回风巷."""
    HEADING_FACE = "heading_face"
    """掘进工作面."""
    DRAINAGE_ROADWAY = "drainage_roadway"
    """瓦斯抽采（排放）巷道."""
    HIGH_GAS_MINE_INTAKE = "high_gas_mine_intake"
    """高瓦斯矿井进风巷（流）."""


class Direction(enum.StrEnum):
    """Which side of a limit is dangerous."""

    HIGH = "high"
    LOW = "low"


class RuleKey(enum.StrEnum):
    """The rule an alarm decision comes from; one open alarm per sensor and rule."""

    THRESHOLD_HIGH = "threshold_high"
    THRESHOLD_LOW = "threshold_low"
    RATE_RISE = "rate_rise"
    RATE_FALL = "rate_fall"
    OFFLINE = "offline"


_SEVERITY: Final[Mapping[AlarmLevel, int]] = {
    AlarmLevel.BLUE: 1,
    AlarmLevel.YELLOW: 2,
    AlarmLevel.ORANGE: 3,
    AlarmLevel.RED: 4,
}


def severity(level: AlarmLevel) -> int:
    """Return 1 (blue) to 4 (red): larger is more severe."""
    return _SEVERITY[level]


_UNIT_SPELLINGS: Final[Mapping[str, str]] = {
    "℃": "°C",
    "degC": "°C",
    "％": "%",
    "m3/h": "m³/h",
    "m3/min": "m³/min",
    "m3/s": "m³/s",
    "mg/m3": "mg/m³",
}


def normalize_unit(unit: str) -> str:
    """Return the canonical spelling of ``unit`` (case matters: mPa is not MPa)."""
    stripped = unit.strip()
    return _UNIT_SPELLINGS.get(stripped, stripped)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class Threshold:
    """One alarm level in one direction, with its restore value and dwell.

    ``high``: active from ``value >= value``; stays active while ``value >= restore``.
    ``low``: active from ``value <= value``; stays active while ``value <= restore``.
    """

    level: AlarmLevel
    direction: Direction
    value: float
    restore: float
    dwell_seconds: float = 0.0
    label: str = ""
    """What the level means on site, e.g. ``报警`` or ``断电`` (power cut)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and math.isfinite(self.restore)):
            raise Error(f"{self.level} {self.direction} threshold must be a finite number")
        if self.direction is Direction.HIGH and self.restore > self.value:
            raise Error(
                f"{self.level} high threshold: restore {self.restore:g} must not be above "
                f"the alarm value {self.value:g}"
            )
        if self.direction is Direction.LOW and self.restore < self.value:
            raise Error(
                f"{self.level} low threshold: restore {self.restore:g} must not be below "
                f"the alarm value {self.value:g}"
            )
        if self.dwell_seconds < 0:
            raise Error(f"{self.level} {self.direction} threshold: dwell must not be negative")

    def triggered(self, value: float) -> bool:
        """Return whether ``value`` reaches this level."""
        if self.direction is Direction.HIGH:
            return value >= self.value
        return value <= self.value

    def holds(self, value: float) -> bool:
        """Return whether an active level stays active at ``value`` (not yet restored)."""
        if self.direction is Direction.HIGH:
            return value >= self.restore
        return value <= self.restore


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Alarm when the value changes faster than ``per_minute`` (units per minute).

    The rate is taken over ``window_seconds``. The alarm ends once the rate is below
    ``restore_per_minute`` (defaults to ``per_minute``: no hysteresis).
    """

    direction: Direction
    """``high`` watches rises, ``low`` watches falls."""
    per_minute: float
    level: AlarmLevel
    window_seconds: float = 60.0
    restore_per_minute: float | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.per_minute) and self.per_minute > 0):
            raise Error("a rate limit must be a positive number of units per minute")
        if self.window_seconds <= 0:
            raise Error("a rate window must be longer than zero seconds")
        restore = self.restore_per_minute
        if restore is not None and not (0 <= restore <= self.per_minute):
            raise Error("a rate's restore must be between 0 and its limit")

    @property
    def restore(self) -> float:
        """The rate (units per minute, as a magnitude) below which the alarm ends."""
        return self.per_minute if self.restore_per_minute is None else self.restore_per_minute


_RULESET_KEYS = frozenset(
    {"thresholds", "rates", "stale_after_cycles", "offline_level", "flap_window_seconds"}
)
_THRESHOLD_KEYS = frozenset({"level", "direction", "value", "restore", "dwell_seconds", "label"})
_RATE_KEYS = frozenset(
    {"direction", "per_minute", "level", "window_seconds", "restore_per_minute", "label"}
)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every rule of one sensor; stored as JSON in ``sensors.rules``."""

    thresholds: tuple[Threshold, ...] = ()
    rates: tuple[RateLimit, ...] = ()
    stale_after_cycles: float = 3.0
    """No reading for this many poll cycles makes the sensor offline."""
    offline_level: AlarmLevel = AlarmLevel.YELLOW
    flap_window_seconds: float = 300.0
    """An alarm returning this soon after it cleared updates the old alarm."""

    def __post_init__(self) -> None:
        for direction in Direction:
            levels = sorted(
                (t for t in self.thresholds if t.direction is direction),
                key=lambda t: severity(t.level),
            )
            names = [t.level for t in levels]
            if len(set(names)) != len(names):
                raise Error(f"a {direction} level is given twice")
            sign = 1.0 if direction is Direction.HIGH else -1.0
            for lower, higher in itertools.pairwise(levels):
                if sign * higher.value < sign * lower.value:
                    raise Error(
                        f"{direction} thresholds: {higher.level} ({higher.value:g}) must be "
                        f"{'at or above' if sign > 0 else 'at or below'} "
                        f"{lower.level} ({lower.value:g})"
                    )
            if sum(1 for r in self.rates if r.direction is direction) > 1:
                raise Error(f"only one {direction} rate limit per sensor")
        if self.stale_after_cycles <= 0:
            raise Error("stale_after_cycles must be positive")
        if self.flap_window_seconds < 0:
            raise Error("flap_window_seconds must not be negative")

    def to_data(self) -> dict[str, Any]:
        """Return plain JSON-able data (what the ``sensors.rules`` column holds)."""
        data = msgspec.to_builtins(self)
        assert isinstance(data, dict)
        data["thresholds"] = list(data["thresholds"])
        data["rates"] = list(data["rates"])
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RuleSet:
        """Build and validate a rule set from JSON data; unknown keys are refused.

        Raises :class:`Error` with the reason.
        """
        _refuse_unknown(data, _RULESET_KEYS, "rules")
        for item in data.get("thresholds", ()):
            _refuse_unknown(item, _THRESHOLD_KEYS, "threshold")
        for item in data.get("rates", ()):
            _refuse_unknown(item, _RATE_KEYS, "rate")
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise Error(f"invalid sensor rules: {exc}") from exc


def _refuse_unknown(item: object, allowed: frozenset[str], what: str) -> None:
    if not isinstance(item, Mapping):
        raise Error(f"{what} must be an object")
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise Error(f"unknown {what} field(s): {', '.join(map(str, unknown))}")


@dataclass(frozen=True, slots=True)
class SensorConfig:
    """One sensor as the rules see it, plus what an alarm needs to say where it is."""

    sensor_id: str
    """The tag readings carry in ``Reading.sensor`` (unique across the system)."""
    kind: SensorKind
    unit: str
    rules: RuleSet
    poll_cycle_seconds: float = 30.0
    placement: Placement = Placement.GENERAL
    name: str = ""
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    hazard_source: str = ""
    """The major hazard source or coal mine the sensor belongs to."""
    enterprise: str = ""
    jurisdiction: str = ""

    def __post_init__(self) -> None:
        if not self.sensor_id.strip() or len(self.sensor_id) > 64:
            raise Error("a sensor id needs 1 to 64 characters")
        if not self.poll_cycle_seconds > 0:
            raise Error(f"sensor {self.sensor_id}: the poll cycle must be positive")
        if (self.lat is None) != (self.lon is None):
            raise Error(f"sensor {self.sensor_id}: give both latitude and longitude, or neither")

    @property
    def stale_after_seconds(self) -> float:
        """Silence longer than this makes the sensor offline."""
        return self.rules.stale_after_cycles * self.poll_cycle_seconds


# --------------------------------------------------------------------------- shipped defaults

RULES_SOURCE: Final = (
    "CH4 and CO: 煤矿安全规程 (2016) table and AQ 6201-2019 as quoted in "
    "reference/field-facts.md; O2 and H2S: 煤矿安全规程 (2016) art. 135 — check every "
    "value against the edition in force (a 2025 edition exists) and edit per sensor."
)
"""Where :data:`DEFAULT_RULES` come from."""


def _methane(alarm: float, power_cut: float, restore: float) -> RuleSet:
    return RuleSet(
        thresholds=(
            Threshold(AlarmLevel.ORANGE, Direction.HIGH, alarm, restore, label="报警"),
            Threshold(AlarmLevel.RED, Direction.HIGH, power_cut, restore, label="断电"),
        )
    )


DEFAULT_RULES: Final[Mapping[tuple[SensorKind, Placement], RuleSet]] = {
    # CH4 %: alarm / power-cut / restore below.
    (SensorKind.CH4, Placement.MINING_FACE): _methane(1.0, 1.5, 1.0),
    (SensorKind.CH4, Placement.FACE_RETURN_AIRWAY): _methane(1.0, 1.0, 1.0),
    (SensorKind.CH4, Placement.HEADING_FACE): _methane(1.0, 1.5, 1.0),
    (SensorKind.CH4, Placement.DRAINAGE_ROADWAY): _methane(2.5, 2.5, 2.5),
    (SensorKind.CH4, Placement.HIGH_GAS_MINE_INTAKE): _methane(0.5, 0.5, 0.5),
    # CO: 24 ppm is the highest allowed concentration.
    (SensorKind.CO, Placement.GENERAL): RuleSet(
        thresholds=(Threshold(AlarmLevel.ORANGE, Direction.HIGH, 24.0, 24.0, label="超限"),)
    ),
    # H2S: 0.00066 % = 6.6 ppm highest allowed concentration.
    (SensorKind.H2S, Placement.GENERAL): RuleSet(
        thresholds=(Threshold(AlarmLevel.ORANGE, Direction.HIGH, 6.6, 6.6, label="超限"),)
    ),
    # O2: intake air at workings not below 20 %.
    (SensorKind.O2, Placement.GENERAL): RuleSet(
        thresholds=(Threshold(AlarmLevel.ORANGE, Direction.LOW, 20.0, 20.0, label="缺氧"),)
    ),
}
"""Rules a new sensor starts with, by kind and placement. See :data:`RULES_SOURCE`."""


def default_rules(kind: SensorKind, placement: Placement = Placement.GENERAL) -> RuleSet:
    """Return the shipped rules for a sensor kind and placement.

    Methane without a known placement gets the mining-face limits (the strictest
    power-cut in the table that applies at a face); a kind without published limits gets
    only the stale rule, and its thresholds must be configured per sensor.
    """
    rules = DEFAULT_RULES.get((kind, placement))
    if rules is not None:
        return rules
    if kind is SensorKind.CH4:
        return DEFAULT_RULES[(SensorKind.CH4, Placement.MINING_FACE)]
    return DEFAULT_RULES.get((kind, Placement.GENERAL), RuleSet())


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True)
class Raise:
    """Open a new alarm for ``(sensor_id, rule)`` at ``level``."""

    sensor_id: str
    rule: RuleKey
    level: AlarmLevel
    value: float
    threshold: float
    """The limit crossed: a threshold value, or a rate in units per minute."""
    at: dt.datetime
    label: str = ""


@dataclass(frozen=True, slots=True)
class Recur:
    """The alarm of ``(sensor_id, rule)`` came back within the flap window after its
    :class:`Clear`: update that alarm (count, last seen, level) rather than open one."""

    sensor_id: str
    rule: RuleKey
    level: AlarmLevel
    value: float
    threshold: float
    at: dt.datetime
    cleared_at: dt.datetime
    label: str = ""


@dataclass(frozen=True, slots=True)
class Escalate:
    """The open alarm of ``(sensor_id, rule)`` moves up from ``previous`` to ``level``."""

    sensor_id: str
    rule: RuleKey
    level: AlarmLevel
    previous: AlarmLevel
    value: float
    threshold: float
    at: dt.datetime
    label: str = ""


@dataclass(frozen=True, slots=True)
class DeEscalate:
    """The open alarm of ``(sensor_id, rule)`` moves down from ``previous`` to ``level``:
    ``value`` passed ``restore``, the restore value of ``previous``."""

    sensor_id: str
    rule: RuleKey
    level: AlarmLevel
    previous: AlarmLevel
    value: float
    restore: float
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Clear:
    """The condition of ``(sensor_id, rule)`` is over: ``value`` (the restoring reading)
    passed ``restore``. The operator's alarm stays open until they close it."""

    sensor_id: str
    rule: RuleKey
    previous: AlarmLevel
    value: float
    restore: float
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Offline:
    """No reading since ``last_reading_at`` (None: never) for longer than allowed.

    Raise one sensor-offline alarm (rule :attr:`RuleKey.OFFLINE`) at ``level``.
    """

    sensor_id: str
    level: AlarmLevel
    last_reading_at: dt.datetime | None
    at: dt.datetime
    silent_seconds: float
    rule: RuleKey = RuleKey.OFFLINE


@dataclass(frozen=True, slots=True)
class Online:
    """Readings are back after an :class:`Offline` (clear the offline alarm)."""

    sensor_id: str
    at: dt.datetime
    offline_since: dt.datetime
    rule: RuleKey = RuleKey.OFFLINE


class RejectReason(enum.StrEnum):
    """Why a reading was refused (do not store it; tell the source)."""

    UNIT_MISMATCH = "unit_mismatch"
    NOT_A_NUMBER = "not_a_number"


class IgnoreReason(enum.StrEnum):
    """Why the rules skipped a reading (storing it is the caller's choice)."""

    DUPLICATE = "duplicate"
    """Same time as the last accepted reading of the sensor: do not store it again."""
    OUT_OF_ORDER = "out_of_order"
    """Older than the last accepted reading (late or backfilled): fine to store."""
    UNKNOWN_SENSOR = "unknown_sensor"
    """No rules are configured for this sensor: store it, nothing to evaluate."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """The reading is refused; ``reason`` says why in words an integrator can act on."""

    sensor_id: str
    why: RejectReason
    reason: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Ignored:
    """The reading changed nothing in the rules."""

    sensor_id: str
    why: IgnoreReason
    at: dt.datetime


Decision = Raise | Recur | Escalate | DeEscalate | Clear | Offline | Online | Rejected | Ignored
"""Everything :class:`SensorRules` can answer."""


# --------------------------------------------------------------------------- state


def _ts(at: dt.datetime) -> float:
    if at.tzinfo is None:
        raise Error("naive datetime given to the sensor rules: use aware UTC times")
    return at.timestamp()


def _dt(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


@dataclass(slots=True)
class RuleState:
    """State of one rule of one sensor. Times are UTC epoch seconds."""

    level: AlarmLevel | None = None
    """The active level, or None when normal."""
    pending_since: dict[AlarmLevel, float] = field(default_factory=dict)
    """Per level not yet raised: since when every reading has reached it (dwell)."""
    cleared_at: float | None = None
    """When the last alarm of this rule cleared (flap suppression)."""


@dataclass(slots=True)
class SensorState:
    """Everything the engine remembers about one sensor; small and JSON-able.

    Rebuild it at start with :meth:`SensorRules.restore_state` from the last stored
    reading and the sensor's open alarms (or from :meth:`to_data` saved earlier).
    Times are UTC epoch seconds.
    """

    watch_since: float
    """When the engine started expecting readings (the stale clock's origin)."""
    last_at: float | None = None
    """Time of the last accepted reading."""
    last_value: float | None = None
    last_received: float | None = None
    """Arrival time of the last accepted reading (the stale clock)."""
    offline_since: float | None = None
    """Set while an :class:`Offline` is in force."""
    rules: dict[RuleKey, RuleState] = field(default_factory=dict)
    rate_samples: list[tuple[float, float]] = field(default_factory=list)
    """Recent (time, value) pairs for the rate rules, oldest first, bounded by the window."""

    def to_data(self) -> dict[str, Any]:
        """Return the state as JSON-able data."""
        data = msgspec.to_builtins(self)
        assert isinstance(data, dict)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SensorState:
        """Rebuild a state saved by :meth:`to_data`."""
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise Error(f"invalid sensor state: {exc}") from exc


# --------------------------------------------------------------------------- engine


@dataclass(slots=True)
class _Sensor:
    config: SensorConfig
    state: SensorState
    unit: str
    high: tuple[Threshold, ...]
    low: tuple[Threshold, ...]
    rise: RateLimit | None
    fall: RateLimit | None
    rate_window: float


def _compile(config: SensorConfig, state: SensorState) -> _Sensor:
    def by_severity(direction: Direction) -> tuple[Threshold, ...]:
        return tuple(
            sorted(
                (t for t in config.rules.thresholds if t.direction is direction),
                key=lambda t: severity(t.level),
            )
        )

    rates = {r.direction: r for r in config.rules.rates}
    rise, fall = rates.get(Direction.HIGH), rates.get(Direction.LOW)
    return _Sensor(
        config=config,
        state=state,
        unit=normalize_unit(config.unit),
        high=by_severity(Direction.HIGH),
        low=by_severity(Direction.LOW),
        rise=rise,
        fall=fall,
        rate_window=max((r.window_seconds for r in config.rules.rates), default=0.0),
    )


class SensorRules:
    """The rules of every configured sensor and their state.

    Call :meth:`observe` for each reading and :meth:`tick` about once a second; act on
    the decisions they return. Not thread-safe; cheap enough to call on the event loop.
    """

    def __init__(self, sensors: Iterable[SensorConfig] = (), *, now: dt.datetime) -> None:
        self._sensors: dict[str, _Sensor] = {}
        for config in sensors:
            self.configure(config, now=now)

    # ------------------------------------------------------------------ configuration

    def configure(self, config: SensorConfig, *, now: dt.datetime) -> None:
        """Add a sensor or replace its configuration.

        A replaced sensor keeps its last reading, offline state and the active levels
        that its new rules still define; pending dwell times restart.
        """
        existing = self._sensors.get(config.sensor_id)
        if existing is None:
            state = SensorState(watch_since=_ts(now))
        else:
            state = existing.state
            keep = _rule_keys(config.rules)
            state.rules = {
                key: RuleState(level=rule.level, cleared_at=rule.cleared_at)
                for key, rule in state.rules.items()
                if key in keep
            }
        self._sensors[config.sensor_id] = _compile(config, state)

    def remove(self, sensor_id: str) -> None:
        """Stop watching a sensor (no decision is made for its open alarms)."""
        self._sensors.pop(sensor_id, None)

    def configs(self) -> list[SensorConfig]:
        """Every configured sensor's configuration."""
        return [sensor.config for sensor in self._sensors.values()]

    def config(self, sensor_id: str) -> SensorConfig | None:
        """Return a sensor's configuration, or None."""
        sensor = self._sensors.get(sensor_id)
        return None if sensor is None else sensor.config

    def state(self, sensor_id: str) -> SensorState | None:
        """Return a sensor's live state (do not mutate it), or None."""
        sensor = self._sensors.get(sensor_id)
        return None if sensor is None else sensor.state

    def restore_state(
        self,
        sensor_id: str,
        *,
        last_at: dt.datetime | None = None,
        last_value: float | None = None,
        active_levels: Mapping[RuleKey, AlarmLevel] | None = None,
        offline_since: dt.datetime | None = None,
        state: SensorState | None = None,
    ) -> None:
        """Rebuild a configured sensor's state at start.

        Either pass ``state`` (saved with :meth:`SensorState.to_data`), or the last stored
        reading and the levels of the sensor's open alarms per rule (so an alarm open
        before a restart is escalated, lowered or cleared rather than raised again).
        The stale clock restarts from the sensor's ``watch_since``.
        """
        sensor = self._sensors.get(sensor_id)
        if sensor is None:
            raise Error(f"sensor {sensor_id} is not configured")
        if state is None:
            state = SensorState(watch_since=sensor.state.watch_since)
            if last_at is not None:
                state.last_at = _ts(last_at)
                state.last_value = last_value
            if offline_since is not None:
                state.offline_since = _ts(offline_since)
            for key, level in (active_levels or {}).items():
                if key is not RuleKey.OFFLINE:
                    state.rules[key] = RuleState(level=level)
        self._sensors[sensor_id] = _compile(sensor.config, state)

    # ------------------------------------------------------------------ evaluation

    def observe(
        self, reading: Reading, *, received_at: dt.datetime | None = None
    ) -> list[Decision]:
        """Evaluate one reading and return what to do.

        ``received_at`` (default ``reading.at``) feeds the stale clock, which
        :meth:`tick` compares with its ``now``; dwell, rates and flapping use
        ``reading.at``.
        """
        sensor = self._sensors.get(reading.sensor)
        if sensor is None:
            return [Ignored(reading.sensor, IgnoreReason.UNKNOWN_SENSOR, reading.at)]
        unit = normalize_unit(reading.unit)
        if unit and unit != sensor.unit:
            return [
                Rejected(
                    reading.sensor,
                    RejectReason.UNIT_MISMATCH,
                    f"sensor {reading.sensor} measures in {sensor.unit!r} but the reading is "
                    f"in {reading.unit!r}; no conversion is attempted: fix the device's "
                    "unit or the sensor's registry entry",
                    reading.at,
                )
            ]
        value = reading.value
        if not math.isfinite(value):
            return [
                Rejected(
                    reading.sensor,
                    RejectReason.NOT_A_NUMBER,
                    f"sensor {reading.sensor} sent {value!r}, not a finite number",
                    reading.at,
                )
            ]
        state = sensor.state
        at = _ts(reading.at)
        if state.last_at is not None and at <= state.last_at:
            why = IgnoreReason.DUPLICATE if at == state.last_at else IgnoreReason.OUT_OF_ORDER
            return [Ignored(reading.sensor, why, reading.at)]

        decisions: list[Decision] = []
        if state.offline_since is not None:
            decisions.append(Online(reading.sensor, reading.at, _dt(state.offline_since)))
            state.offline_since = None
        if state.last_at is not None and at - state.last_at > sensor.config.stale_after_seconds:
            # Nothing is known about the gap: dwell and rates start afresh.
            for rule in state.rules.values():
                rule.pending_since.clear()
            state.rate_samples.clear()
        state.last_at = at
        state.last_value = value
        state.last_received = _ts(received_at) if received_at is not None else at

        if sensor.high:
            decision = self._thresholds(sensor, RuleKey.THRESHOLD_HIGH, sensor.high, value, at)
            if decision is not None:
                decisions.append(decision)
        if sensor.low:
            decision = self._thresholds(sensor, RuleKey.THRESHOLD_LOW, sensor.low, value, at)
            if decision is not None:
                decisions.append(decision)
        if sensor.rise is not None or sensor.fall is not None:
            self._rates(sensor, value, at, decisions)
        return decisions

    def tick(self, now: dt.datetime) -> list[Decision]:
        """Return an :class:`Offline` for each sensor that has just gone silent."""
        now_ts = _ts(now)
        decisions: list[Decision] = []
        for sensor_id, sensor in self._sensors.items():
            state = sensor.state
            if state.offline_since is not None:
                continue
            since = state.last_received if state.last_received is not None else state.watch_since
            silent = now_ts - since
            if silent > sensor.config.stale_after_seconds:
                state.offline_since = now_ts
                decisions.append(
                    Offline(
                        sensor_id,
                        sensor.config.rules.offline_level,
                        None if state.last_at is None else _dt(state.last_at),
                        now,
                        silent,
                    )
                )
        return decisions

    # ------------------------------------------------------------------ rules

    @staticmethod
    def _thresholds(
        sensor: _Sensor, key: RuleKey, levels: tuple[Threshold, ...], value: float, at: float
    ) -> Decision | None:
        rule = sensor.state.rules.get(key)
        if rule is None:
            rule = sensor.state.rules[key] = RuleState()
        current = rule.level
        current_rank = 0 if current is None else severity(current)
        pending = rule.pending_since
        reached: Threshold | None = None
        for threshold in levels:
            if threshold.triggered(value):
                since = pending.setdefault(threshold.level, at)
                if at - since >= threshold.dwell_seconds:
                    reached = threshold
            else:
                pending.pop(threshold.level, None)
        target: Threshold | None = None
        if current is not None:
            for threshold in reversed(levels):
                if severity(threshold.level) <= current_rank and threshold.holds(value):
                    target = threshold
                    break
        if reached is not None and (target is None or severity(reached.level) > current_rank):
            target = reached
        step = _Step(
            level=None if target is None else target.level,
            threshold=0.0 if target is None else target.value,
            label="" if target is None else target.label,
            restore=0.0 if current is None else _restore_of(levels, current),
        )
        return _apply(sensor, key, rule, step, value=value, at=at)

    @staticmethod
    def _rates(sensor: _Sensor, value: float, at: float, decisions: list[Decision]) -> None:
        samples = sensor.state.rate_samples
        # Keep the newest sample at least one window old, and everything after it.
        cutoff = at - sensor.rate_window
        index = bisect.bisect_right(samples, cutoff, key=lambda sample: sample[0])
        if index > 1:
            del samples[: index - 1]
        for limit, key in ((sensor.rise, RuleKey.RATE_RISE), (sensor.fall, RuleKey.RATE_FALL)):
            if limit is None:
                continue
            reference = _reference(samples, at - limit.window_seconds)
            if reference is None:
                continue
            ref_at, ref_value = reference
            per_minute = (value - ref_value) * 60.0 / (at - ref_at)
            sign = 1.0 if key is RuleKey.RATE_RISE else -1.0
            rule = sensor.state.rules.get(key)
            if rule is None:
                rule = sensor.state.rules[key] = RuleState()
            change = sign * per_minute
            active = change >= limit.per_minute or (
                rule.level is not None and change >= limit.restore
            )
            step = _Step(
                level=limit.level if active else None,
                threshold=sign * limit.per_minute,
                label=limit.label,
                restore=sign * limit.restore,
            )
            decision = _apply(sensor, key, rule, step, value=per_minute, at=at)
            if decision is not None:
                decisions.append(decision)
        samples.append((at, value))


@dataclass(frozen=True, slots=True)
class _Step:
    """Where one rule of one sensor goes on one reading."""

    level: AlarmLevel | None
    """The level the rule should now be at (None: normal)."""
    threshold: float
    """The limit of ``level`` (for raising and escalating)."""
    label: str
    restore: float
    """The restore value of the current level (for lowering and clearing)."""


def _apply(
    sensor: _Sensor, key: RuleKey, rule: RuleState, step: _Step, *, value: float, at: float
) -> Decision | None:
    """Move ``rule`` to ``step.level`` and return the decision that says so, if any."""
    sensor_id = sensor.config.sensor_id
    current, target = rule.level, step.level
    rule.level = target
    if target is None:
        if current is None:
            return None
        rule.cleared_at = at
        return Clear(sensor_id, key, current, value, step.restore, _dt(at))
    if current is None:
        cleared_at = rule.cleared_at
        if cleared_at is not None and at - cleared_at <= sensor.config.rules.flap_window_seconds:
            return Recur(
                sensor_id, key, target, value, step.threshold, _dt(at), _dt(cleared_at), step.label
            )
        return Raise(sensor_id, key, target, value, step.threshold, _dt(at), step.label)
    if severity(target) > severity(current):
        return Escalate(sensor_id, key, target, current, value, step.threshold, _dt(at), step.label)
    if severity(target) < severity(current):
        return DeEscalate(sensor_id, key, target, current, value, step.restore, _dt(at))
    return None


def _restore_of(levels: tuple[Threshold, ...], level: AlarmLevel) -> float:
    """Return the restore value of ``level``, or of the nearest level below it when the
    rules no longer define it (they were edited while the alarm was open)."""
    below = [t for t in levels if severity(t.level) <= severity(level)]
    return (below[-1] if below else levels[0]).restore


def _reference(samples: list[tuple[float, float]], cutoff: float) -> tuple[float, float] | None:
    """Return the newest sample taken at or before ``cutoff``."""
    index = bisect.bisect_right(samples, cutoff, key=lambda sample: sample[0])
    return samples[index - 1] if index else None


def _rule_keys(rules: RuleSet) -> set[RuleKey]:
    keys: set[RuleKey] = set()
    for threshold in rules.thresholds:
        keys.add(
            RuleKey.THRESHOLD_HIGH
            if threshold.direction is Direction.HIGH
            else RuleKey.THRESHOLD_LOW
        )
    for rate in rules.rates:
        keys.add(RuleKey.RATE_RISE if rate.direction is Direction.HIGH else RuleKey.RATE_FALL)
    return keys
