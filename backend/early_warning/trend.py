"""Trend maths, sans I/O: fit a line to a sensor's recent readings and say when it meets
a level.

Times are seconds (any origin, e.g. POSIX time); values are the sensor's unit. Two fits:
Theil–Sen (the median of the slopes between every pair of points, robust to a few wild
readings; the series is evenly subsampled to at most :data:`MAX_FIT_POINTS` points first,
so the work stays bounded at ~1 800 pairs) and ordinary least squares. The intercept of
Theil–Sen is the median of ``value - slope × time`` (Sen 1968).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from realtime.protocol.early_warning import FitMethod, WarningLevel

MAX_FIT_POINTS: Final = 60
"""Theil–Sen subsamples to at most this many points (O(n²) pairs)."""


@dataclass(frozen=True, slots=True)
class Fit:
    """A fitted line ``value = intercept + slope × (t - origin)``."""

    slope: float
    """Units per second."""
    intercept: float
    """The fitted value at ``origin``."""
    origin: float
    first: float
    """The oldest time fitted."""
    last: float
    """The newest time fitted."""
    points: int

    def value_at(self, t: float) -> float:
        """The fitted value at time ``t``."""
        return self.intercept + self.slope * (t - self.origin)

    def time_at(self, value: float) -> float | None:
        """When the fitted line meets ``value`` (None: a flat line never does)."""
        if self.slope == 0:
            return None
        return self.origin + (value - self.intercept) / self.slope


def subsample(points: Sequence[tuple[float, float]], limit: int) -> Sequence[tuple[float, float]]:
    """At most ``limit`` points, evenly spread, always keeping the first and the last."""
    if len(points) <= limit:
        return points
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def theil_sen(
    points: Sequence[tuple[float, float]], *, max_points: int = MAX_FIT_POINTS
) -> Fit | None:
    """The Theil–Sen line through ``points`` ((time, value), oldest first); None when
    fewer than two distinct times."""
    sample = subsample(points, max_points)
    slopes = [
        (v2 - v1) / (t2 - t1)
        for i, (t1, v1) in enumerate(sample)
        for t2, v2 in sample[i + 1 :]
        if t2 != t1
    ]
    if not slopes:
        return None
    slope = statistics.median(slopes)
    origin = sample[-1][0]
    intercept = statistics.median(v - slope * (t - origin) for t, v in sample)
    return Fit(slope, intercept, origin, points[0][0], points[-1][0], len(points))


def least_squares(points: Sequence[tuple[float, float]]) -> Fit | None:
    """The ordinary least-squares line through ``points``; None when fewer than two
    distinct times."""
    if len(points) < 2:
        return None
    origin = points[-1][0]
    mean_t = statistics.fmean(t - origin for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    spread = sum((t - origin - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return None
    slope = sum((t - origin - mean_t) * (v - mean_v) for t, v in points) / spread
    intercept = mean_v - slope * mean_t
    return Fit(slope, intercept, origin, points[0][0], points[-1][0], len(points))


def fit(points: Sequence[tuple[float, float]], method: FitMethod) -> Fit | None:
    """The line ``method`` fits through ``points`` (None: not enough to fit)."""
    if method is FitMethod.LEAST_SQUARES:
        return least_squares(points)
    return theil_sen(points)


def seconds_to(line: Fit, value: float, *, now: float) -> float | None:
    """Seconds from ``now`` until the line meets ``value`` heading towards it (0: it is
    there already); None when it is heading away or flat."""
    if line.value_at(now) == value:
        return 0.0
    meets = line.time_at(value)
    if meets is None or meets < now:
        return None
    return meets - now


@dataclass(frozen=True, slots=True)
class LeadBands:
    """The warning level by how soon the level is predicted to be crossed (seconds):
    within ``red_s`` red, within ``orange_s`` orange, within ``yellow_s`` yellow, else blue."""

    red_s: float = 120.0
    orange_s: float = 300.0
    yellow_s: float = 600.0

    def level(self, lead_s: float) -> WarningLevel:
        """The warning level of a crossing ``lead_s`` seconds ahead."""
        if lead_s <= self.red_s:
            return WarningLevel.RED
        if lead_s <= self.orange_s:
            return WarningLevel.ORANGE
        if lead_s <= self.yellow_s:
            return WarningLevel.YELLOW
        return WarningLevel.BLUE


_RANK: Final = {level: rank for rank, level in enumerate(WarningLevel)}


def rank(level: WarningLevel) -> int:
    """0 (blue) to 3 (red): larger is more severe."""
    return _RANK[level]


def finite(value: float) -> bool:
    """Whether ``value`` is a usable reading (not NaN or infinite)."""
    return math.isfinite(value)
