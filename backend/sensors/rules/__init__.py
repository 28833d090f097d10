"""Sensor threshold rules: readings in, alarm decisions out (sans-I/O, deterministic).

Nothing here touches a clock, a socket or a database: the caller passes every reading and,
for staleness, the current time, and :class:`SensorRules` (:mod:`.engine`) answers with
decisions (:mod:`.decisions`) that say what should happen to the sensor's alarms. The rules
are data (:class:`RuleSet` in :mod:`.config`, stored per sensor as JSON), because the
published limits change between editions of the regulations; :data:`DEFAULT_RULES`
(:mod:`.defaults`) only seeds a new sensor; per-sensor state lives in :mod:`.state`. This
package re-exports the public names, so importers use ``from backend.sensors.rules import X``.
"""

from backend.sensors.rules.config import (
    DEFAULT_UNITS,
    Direction,
    Error,
    Placement,
    RateLimit,
    RuleKey,
    RuleSet,
    SensorConfig,
    SensorKind,
    Threshold,
    normalize_unit,
    severity,
)
from backend.sensors.rules.decisions import (
    Clear,
    Decision,
    DeEscalate,
    Escalate,
    Ignored,
    IgnoreReason,
    Offline,
    Online,
    Raise,
    Recur,
    Rejected,
    RejectReason,
)
from backend.sensors.rules.defaults import (
    DEFAULT_RULES,
    RULES_SOURCE,
    default_rules,
)
from backend.sensors.rules.engine import (
    SensorRules,
)
from backend.sensors.rules.state import (
    RuleState,
    SensorState,
)

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
