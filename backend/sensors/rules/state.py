"""What the sensor rules remember per sensor: small, JSON-able state (UTC epoch seconds)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from backend.sensors.rules.config import Error, RuleKey
from realtime.states import AlarmLevel


def timestamp_of(at: dt.datetime) -> float:
    if at.tzinfo is None:
        raise Error("naive datetime given to the sensor rules: use aware UTC times")
    return at.timestamp()


def datetime_of(ts: float) -> dt.datetime:
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

    def copy(self) -> RuleState:
        """An independent copy."""
        return RuleState(self.level, dict(self.pending_since), self.cleared_at)


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

    def copy(self) -> SensorState:
        """An independent copy (cheap: taken for every reading, see
        :meth:`SensorRules.snapshot`)."""
        return SensorState(
            watch_since=self.watch_since,
            last_at=self.last_at,
            last_value=self.last_value,
            last_received=self.last_received,
            offline_since=self.offline_since,
            rules={key: rule.copy() for key, rule in self.rules.items()},
            rate_samples=list(self.rate_samples),
        )

    def to_data(self) -> dict[str, Any]:
        """Return the state as JSON-able data."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SensorState:
        """Rebuild a state saved by :meth:`to_data`."""
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise Error(f"invalid sensor state: {exc}") from exc
