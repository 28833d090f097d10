"""What the sensor rules answer: alarm decisions (:class:`Raise` … :class:`Online`) and
readings refused or skipped (:class:`Rejected`, :class:`Ignored`)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from backend.sensors.rules.config import RuleKey
from realtime.states import AlarmLevel


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
