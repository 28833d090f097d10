"""What the vehicle rules decide: :class:`RuleHit` (an alarm condition began) and
:class:`RuleCleared` (it ended), and the alarm-service message for a hit."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from realtime.protocol import DeviceAlarm
from realtime.states import AlarmLevel

DetailValue = float | int | str | None
"""A value in a decision's ``detail`` (JSON-friendly)."""


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
