"""Early warning (预警) on the wire: warnings raised *before* an alarm, from trends,
from several sensors of one hazard source rising together, and from weather warnings
(CAP) that cover a hazard source.

A warning sits below an alarm: it does not ring the alarm queue, it has its own life
cycle (active → acknowledged → cleared | closed) and it never floods — a condition must
hold for a dwell time before it raises, must fall back past a hysteresis band before it
clears, and a repeat of the same condition (same source, same sensor or hazard source)
merges into the open warning (its ``count`` grows) instead of raising a new one.

The trends panel asks for a sensor's projection (``sensor.projection``): the fitted line
over the recent window and where it meets the next level within the horizon.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final

import msgspec

from realtime.protocol.common import AwareDateTime, ShortText, Tagged

MAX_CAP_BYTES: Final = 256 * 1024
"""The largest CAP document ``weather.import`` takes."""
MAX_HORIZON_S: Final = 6 * 3600
"""The longest projection horizon a console may ask for (seconds)."""

HorizonSeconds = Annotated[int, msgspec.Meta(ge=60, le=MAX_HORIZON_S)]


class WarningLevel(enum.StrEnum):
    """预警级别, as the national early-warning colours (red the most severe); also the
    level of a published notice."""

    BLUE = "blue"
    """蓝色 (IV 级, 一般)"""
    YELLOW = "yellow"
    """黄色 (III 级, 较重)"""
    ORANGE = "orange"
    """橙色 (II 级, 严重)"""
    RED = "red"
    """红色 (I 级, 特别严重)"""


class WarningSource(enum.StrEnum):
    """What raised a warning."""

    TREND = "trend"
    """A sensor's fitted trend meets an alarm level within the horizon."""
    CO_RISE = "co_rise"
    """Several sensors of one hazard source rise together (none need be near a level)."""
    WEATHER = "weather"
    """A weather warning (imported CAP alert) covers a hazard source."""


class WarningState(enum.StrEnum):
    """A warning's life cycle: active → acknowledged → cleared | closed."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    """An officer has seen it; it stays until its condition clears."""
    CLEARED = "cleared"
    """Its condition went away (past the hysteresis band, for the dwell time) or the
    weather alert expired or was cancelled."""
    CLOSED = "closed"
    """An officer closed it (with a note) while its condition still held."""


class WarningAction(enum.StrEnum):
    """What an officer does to a warning with ``warning.act``."""

    ACKNOWLEDGE = "acknowledge"
    CLOSE = "close"


class FitMethod(enum.StrEnum):
    """How a trend is fitted (docs/early-warning.md gives the formulas)."""

    THEIL_SEN = "theil_sen"
    """The median of pairwise slopes: robust to a few wild readings."""
    LEAST_SQUARES = "least_squares"


class TrendProjection(msgspec.Struct, kw_only=True):
    """A sensor's fitted trend and where it leads."""

    sensor: str
    unit: str = ""
    method: FitMethod
    window_s: int
    """The fit covers the readings of this many seconds before ``at``."""
    points: int
    """Readings in the window."""
    at: AwareDateTime
    """The newest reading fitted."""
    slope_per_min: float
    """Units per minute (negative: falling)."""
    fitted_from_at: AwareDateTime
    fitted_from_value: float
    fitted_to_at: AwareDateTime
    """The end of the drawn line: the predicted crossing, else ``at`` + horizon."""
    fitted_to_value: float
    horizon_s: int
    level: str = ""
    """The alarm level the trend is heading for ("" none within reach)."""
    level_value: float | None = None
    crossing_at: AwareDateTime | None = None
    """When the fitted line meets ``level_value`` (None: not within the horizon)."""


class WeatherAlert(msgspec.Struct, kw_only=True):
    """The imported CAP alert behind a ``weather`` warning."""

    identifier: str
    sender: str
    sent: AwareDateTime
    event: str
    """CAP ``event`` (e.g. 暴雨, 雷电, 大风)."""
    headline: str = ""
    severity: str = ""
    """CAP severity (Extreme, Severe, Moderate, Minor, Unknown)."""
    onset: AwareDateTime | None = None
    expires: AwareDateTime | None = None
    area: str = ""
    """CAP ``areaDesc``."""


class EarlyWarningView(msgspec.Struct, kw_only=True):
    """A warning as a console sees it."""

    id: int
    version: int
    source: WarningSource
    level: WarningLevel
    state: WarningState
    title: str
    detail: str = ""
    jurisdiction: str = ""
    hazard_source: str = ""
    """The registry code of the hazard source concerned ("" none)."""
    sensors: list[str] = msgspec.field(default_factory=list)
    """The sensors whose readings raised it."""
    raised_at: AwareDateTime
    updated_at: AwareDateTime
    count: int = 1
    """Repeats merged into it."""
    predicted_at: AwareDateTime | None = None
    """For a trend: when the level is predicted to be crossed."""
    projection: TrendProjection | None = None
    weather: WeatherAlert | None = None
    acknowledged_by: str = ""
    closed_by: str = ""
    ended_at: AwareDateTime | None = None
    """When it cleared or was closed."""
    note: str = ""


class ListWarnings(Tagged, tag="warning.list"):
    """Ask for the warnings of the user's area (open ones; ended ones since ``since``)."""

    req: str
    include_ended: bool = False
    since: AwareDateTime | None = None


class ActOnWarning(Tagged, tag="warning.act"):
    """Acknowledge or close a warning (against the version read)."""

    req: str
    warning_id: int
    version: int
    action: WarningAction
    note: ShortText = ""
    """Required to close a warning whose condition still holds."""


class GetProjection(Tagged, tag="sensor.projection"):
    """Ask for a sensor's trend projection (for the trends panel)."""

    req: str
    sensor: str
    horizon_s: HorizonSeconds | None = None
    """Default: the server's configured horizon."""


class ImportWeather(Tagged, tag="weather.import"):
    """Import a weather warning (a CAP 1.2 document, UTF-8 XML): the hazard sources its
    areas cover get a ``weather`` warning (a CAP ``Cancel`` or ``Update`` applies to the
    warnings of the alert it references)."""

    req: str
    cap_xml: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CAP_BYTES)]


class WarningsResult(msgspec.Struct, tag="warnings", kw_only=True):
    warnings: list[EarlyWarningView]


class WarningResult(msgspec.Struct, tag="warning", kw_only=True):
    warning: EarlyWarningView


class ProjectionResult(msgspec.Struct, tag="projection", kw_only=True):
    sensor: str
    projection: TrendProjection | None = None
    reason: str = ""
    """Why there is no projection (too few readings, no numeric readings…)."""


class WeatherImported(msgspec.Struct, tag="weather_imported", kw_only=True):
    alert: WeatherAlert
    warnings: list[EarlyWarningView]
    """The warnings raised, changed or ended by it (those inside the user's area)."""
