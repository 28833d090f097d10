"""The early-warning detector, sans I/O: readings in, warning decisions out.

Per sensor a bounded ring of recent readings (trimmed to the fit window), evaluated at
most once per ``eval_interval_s`` of the readings' own time (so an exercise's clock works
and a fast feed costs little). Each condition — a sensor's trend (``trend``), a hazard
source's sensors rising together (``co_rise``) — goes through the same small state
machine:

* it must *hold* for ``dwell_s`` before it raises (:class:`Raise`);
* while raised, a more severe level escalates it (:class:`Escalate`), a milder one does
  not de-escalate (no flapping);
* it clears (:class:`Clear`) only once it is *released* for ``dwell_s``: for a trend, the
  crossing is predicted beyond ``horizon × clear_factor`` or the slope turned; between
  the two bands nothing changes (hysteresis).

The service keeps one open warning per condition key in the database; this module only
decides. docs/early-warning.md gives the rules with their defaults.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from backend.early_warning.trend import LeadBands, finite, fit, rank, seconds_to
from backend.sensors.rules import Direction, SensorConfig, Threshold
from realtime.protocol.early_warning import (
    FitMethod,
    TrendProjection,
    WarningLevel,
    WarningSource,
)

MAX_BUFFER: Final = 2000
"""Readings kept per sensor at most (whatever the window): memory stays bounded."""

LEVEL_NAMES: Final = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
"""Alarm and warning levels in words (titles are Chinese: officers read them)."""


@dataclass(frozen=True, slots=True)
class WarningSettings:
    """How warnings are raised (``dutydesk serve`` options; docs/early-warning.md)."""

    window_s: float = 300.0
    """The fit covers the readings of this many seconds."""
    min_points: int = 5
    """Fewer readings in the window: no fit."""
    horizon_s: float = 600.0
    """How far ahead the fitted line is followed."""
    dwell_s: float = 60.0
    """A condition must hold (or be released) this long before it raises (or clears)."""
    method: FitMethod = FitMethod.THEIL_SEN
    eval_interval_s: float = 5.0
    """A sensor is evaluated at most this often (reading time)."""
    bands: LeadBands = field(default_factory=LeadBands)
    clear_factor: float = 1.5
    """A trend clears once the crossing is predicted beyond ``horizon × clear_factor``."""
    co_rise_min_sensors: int = 2
    """Sensors of one hazard source that must rise together."""
    co_rise_fraction: float = 0.1
    """A rise counts when it covers this share of the way to the first level per window."""


Key = tuple[WarningSource, str]
"""A condition: its source and its subject (the sensor id or the hazard source code)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """What a raise or an escalation says about the warning of ``key``."""

    key: Key
    level: WarningLevel
    at: dt.datetime
    title: str
    detail: str
    sensors: tuple[str, ...]
    hazard_source: str = ""
    predicted_at: dt.datetime | None = None
    projection: TrendProjection | None = None


@dataclass(frozen=True, slots=True)
class Raise(Finding):
    """Open a warning for ``key`` (or merge into the open one: its count grows)."""


@dataclass(frozen=True, slots=True)
class Escalate(Finding):
    """The open warning of ``key`` is now more severe."""


@dataclass(frozen=True, slots=True)
class Clear:
    """The condition of ``key`` went away: its open warning clears."""

    key: Key
    at: dt.datetime
    note: str


Decision = Raise | Escalate | Clear


@dataclass(slots=True)
class _Condition:
    active: bool = False
    level: WarningLevel = WarningLevel.BLUE
    pending_since: float | None = None
    released_since: float | None = None


def _step(
    condition: _Condition,
    *,
    holds: bool,
    released: bool,
    level: WarningLevel,
    t: float,
    dwell: float,
) -> type[Decision] | None:
    """Move one condition on; return what to decide (None: nothing)."""
    if holds:
        condition.released_since = None
        if condition.active:
            if rank(level) > rank(condition.level):
                condition.level = level
                return Escalate
            return None
        if condition.pending_since is None:
            condition.pending_since = t
        if t - condition.pending_since >= dwell:
            condition.active, condition.level, condition.pending_since = True, level, None
            return Raise
        return None
    condition.pending_since = None
    if not (released and condition.active):
        condition.released_since = None
        return None
    if condition.released_since is None:
        condition.released_since = t
    if t - condition.released_since >= dwell:
        condition.active, condition.released_since = False, None
        return Clear
    return None


def _utc(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, dt.UTC)


def next_level(config: SensorConfig, value: float, *, rising: bool) -> Threshold | None:
    """The alarm level a reading of ``value`` heading up (or down) meets next: the nearest
    threshold in that direction the value has not reached yet."""
    direction = Direction.HIGH if rising else Direction.LOW
    ahead = [
        t for t in config.rules.thresholds if t.direction is direction and not t.triggered(value)
    ]
    if not ahead:
        return None
    return min(ahead, key=lambda t: abs(t.value - value))


def project(
    config: SensorConfig,
    points: list[tuple[float, float]],
    settings: WarningSettings,
    *,
    horizon_s: float | None = None,
) -> TrendProjection | str:
    """The trend of ``points`` ((time, value), oldest first) for the trends panel and the
    detector, or why there is none."""
    horizon = settings.horizon_s if horizon_s is None else horizon_s
    if len(points) < settings.min_points:
        return (
            f"{len(points)} readings in the last {settings.window_s:g} s "
            f"(at least {settings.min_points} needed)"
        )
    line = fit(points, settings.method)
    if line is None:
        return "the readings share one time"
    now, newest = points[-1]
    target = next_level(config, newest, rising=line.slope > 0) if line.slope != 0 else None
    lead = seconds_to(line, target.value, now=now) if target is not None else None
    reach = lead if lead is not None and lead <= horizon else None
    end = now + (reach if reach is not None else horizon)
    return TrendProjection(
        sensor=config.sensor_id,
        unit=config.unit,
        method=settings.method,
        window_s=round(settings.window_s),
        points=len(points),
        at=_utc(now),
        slope_per_min=line.slope * 60,
        fitted_from_at=_utc(line.first),
        fitted_from_value=line.value_at(line.first),
        fitted_to_at=_utc(end),
        fitted_to_value=line.value_at(end),
        horizon_s=round(horizon),
        level=target.level.value if target is not None else "",
        level_value=target.value if target is not None else None,
        crossing_at=_utc(now + reach) if reach is not None else None,
    )


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} 分 {rest:02d} 秒" if minutes else f"{rest} 秒"


class Detector:
    """Readings in, warning decisions out (see the module)."""

    def __init__(
        self, settings: WarningSettings, config_of: Callable[[str], SensorConfig | None]
    ) -> None:
        self.settings = settings
        self._config_of = config_of
        self._readings: dict[str, collections.deque[tuple[float, float]]] = {}
        self._evaluated: dict[str, float] = {}
        self._conditions: dict[Key, _Condition] = {}
        self._rises: dict[str, dict[str, tuple[float, float]]] = {}
        """Hazard source → sensor → (time, share of the way to its first level risen per
        window): a co-rise looks at its own hazard source's sensors only."""

    def points(self, sensor_id: str) -> list[tuple[float, float]]:
        """The readings of ``sensor_id`` inside the fit window, oldest first."""
        return list(self._readings.get(sensor_id, ()))

    def restore(self, key: Key, level: WarningLevel) -> None:
        """Take an open warning stored before the start as raised (so it can clear)."""
        self._conditions[key] = _Condition(active=True, level=level)

    def undo(self, decision: Decision) -> None:
        """Take back a decision that could not be written (it is decided again)."""
        condition = self._conditions.get(decision.key)
        if condition is None:
            return
        if isinstance(decision, Raise):
            condition.active = False
        elif isinstance(decision, Clear):
            condition.active = True

    def active(self) -> dict[Key, WarningLevel]:
        """The conditions raised now and their levels."""
        return {key: c.level for key, c in self._conditions.items() if c.active}

    def observe(self, sensor_id: str, at: dt.datetime, value: float) -> list[Decision]:
        """Take one stored reading; return the decisions it leads to (usually none)."""
        config = self._config_of(sensor_id)
        if config is None or not finite(value):
            return []
        t = at.timestamp()
        ring = self._readings.setdefault(sensor_id, collections.deque(maxlen=MAX_BUFFER))
        if ring and t <= ring[-1][0]:
            return []  # late or repeated: the fit needs time order
        ring.append((t, value))
        while ring and ring[0][0] < t - self.settings.window_s:
            ring.popleft()
        last = self._evaluated.get(sensor_id)
        if last is not None and t - last < self.settings.eval_interval_s:
            return []
        self._evaluated[sensor_id] = t
        projection = project(config, list(ring), self.settings)
        decisions = list(self._trend(config, projection, t))
        if config.hazard_source:
            self._note_rise(config, projection, t)
            decisions += self._co_rise(config.hazard_source, t)
        return decisions

    def _trend(
        self, config: SensorConfig, projection: TrendProjection | str, t: float
    ) -> Iterable[Decision]:
        settings = self.settings
        key: Key = (WarningSource.TREND, config.sensor_id)
        holds = released = False
        level = WarningLevel.BLUE
        lead: float | None = None
        if isinstance(projection, TrendProjection):
            line_end = projection.fitted_to_at.timestamp()
            if projection.crossing_at is not None:
                lead = projection.crossing_at.timestamp() - t
                holds = True
                level = settings.bands.level(lead)
            elif projection.level_value is not None and projection.slope_per_min != 0:
                # Heading for a level beyond the horizon: released only past the band.
                slope = projection.slope_per_min / 60
                far = (projection.level_value - projection.fitted_to_value) / slope
                released = line_end - t + far > settings.horizon_s * settings.clear_factor
            else:
                released = True  # flat, or no level ahead in its direction
        step = _step(
            self._conditions.setdefault(key, _Condition()),
            holds=holds,
            released=released,
            level=level,
            t=t,
            dwell=settings.dwell_s,
        )
        if step is None:
            return
        name = config.name or config.sensor_id
        if step is Clear:
            yield Clear(key, _utc(t), f"{name} 趋势已缓和")
            return
        made = Raise if step is Raise else Escalate
        if not isinstance(projection, TrendProjection) or lead is None:
            return  # a trend holds only with a projection and its lead
        target = LEVEL_NAMES.get(projection.level, projection.level)
        title = f"{name} 趋势预警：约 {_clock(lead)} 后达到{target}报警值"
        detail = (
            f"近 {projection.window_s} 秒 {projection.points} 个读数，"
            f"变化 {projection.slope_per_min:+.3g} {config.unit}/分，"
            f"报警值 {projection.level_value:g} {config.unit}"
        )
        yield made(
            key,
            level,
            _utc(t),
            title[:200],
            detail,
            (config.sensor_id,),
            hazard_source=config.hazard_source,
            predicted_at=projection.crossing_at,
            projection=projection,
        )

    def _note_rise(self, config: SensorConfig, projection: TrendProjection | str, t: float) -> None:
        if not isinstance(projection, TrendProjection) or projection.slope_per_min <= 0:
            self._rises.setdefault(config.hazard_source, {})[config.sensor_id] = (t, 0.0)
            return
        first = next_level(config, projection.fitted_from_value, rising=True)
        way = first.value - projection.fitted_from_value if first is not None else 0.0
        rise = projection.slope_per_min / 60 * self.settings.window_s
        share = rise / way if way > 0 else 0.0
        self._rises.setdefault(config.hazard_source, {})[config.sensor_id] = (t, share)

    def _co_rise(self, hazard_source: str, t: float) -> Iterable[Decision]:
        settings = self.settings
        rising: list[str] = []
        still: list[str] = []
        for sensor_id, (when, share) in self._rises.get(hazard_source, {}).items():
            config = self._config_of(sensor_id)
            if config is None or config.hazard_source != hazard_source:
                continue
            if t - when > settings.window_s:
                continue  # not heard from within the window: not rising together
            if share >= settings.co_rise_fraction:
                rising.append(sensor_id)
            if share >= settings.co_rise_fraction / 2:
                still.append(sensor_id)
        need = settings.co_rise_min_sensors
        level = WarningLevel.ORANGE if len(rising) > need else WarningLevel.YELLOW
        key: Key = (WarningSource.CO_RISE, hazard_source)
        step = _step(
            self._conditions.setdefault(key, _Condition()),
            holds=len(rising) >= need,
            released=len(still) < need,
            level=level,
            t=t,
            dwell=settings.dwell_s,
        )
        if step is None:
            return
        if step is Clear:
            yield Clear(key, _utc(t), "多个传感器同时上升的趋势已缓和")
            return
        made = Raise if step is Raise else Escalate
        labels = "、".join(self._name(sensor_id) for sensor_id in sorted(rising))
        yield made(
            key,
            level,
            _utc(t),
            f"{len(rising)} 个传感器同时上升"[:200],
            f"同时上升：{labels}"[:2000],
            tuple(sorted(rising)),
            hazard_source=hazard_source,
        )

    def _name(self, sensor_id: str) -> str:
        config = self._config_of(sensor_id)
        return (config.name or sensor_id) if config is not None else sensor_id
