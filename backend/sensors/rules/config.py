"""Sensor rule configuration: the vocabulary, thresholds, rate limits, rule sets, sensors.

:class:`RuleSet` (with its :class:`Threshold` and :class:`RateLimit` items) is a frozen
msgspec struct stored per sensor as JSON in ``sensors.rules``: :meth:`RuleSet.from_data`
reads it back, refusing unknown fields and saying which; every check beyond types lives in
``__post_init__``, so rules built in code are checked the same way.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from realtime.states import AlarmLevel


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


class Threshold(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
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


class RateLimit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
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


class RuleSet(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
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
        data: dict[str, Any] = msgspec.to_builtins(self)
        data["thresholds"] = list(data["thresholds"])
        data["rates"] = list(data["rates"])
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RuleSet:
        """Build and validate a rule set from JSON data; unknown keys are refused.

        Raises :class:`Error` with the reason.
        """
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise Error(f"invalid sensor rules: {exc}") from exc


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
