"""Vehicle rules: a deterministic, sans-I/O engine that turns position fixes into decisions.

Feed every :class:`~devices.observations.Position` to :meth:`VehicleRulesEngine.observe`
(:mod:`.engine`) and call :meth:`VehicleRulesEngine.check_timeouts` periodically; both
return :class:`RuleHit` and :class:`RuleCleared` (:mod:`.decisions`). The rules are frozen
msgspec structs, loaded with :meth:`RulesConfig.from_json` or built in code (:mod:`.config`:
overspeed, geofence, no-go zone, route corridor, parking, night driving, offline, terminal
alarm bits); each kind has its evaluator (:mod:`.evaluators`); the engine keeps plain,
copyable state per vehicle (:mod:`.state`). Fixes at or before a vehicle's last accepted fix
and backfill are never evaluated, and a gap longer than ``max_gap_s`` restarts pending
timers. This package re-exports the public names, so importers use
``from backend.vehicles.rules import X``.
"""

from backend.vehicles.rules.config import (
    CHINA_STANDARD_TIME,
    DEFAULT_TIMEZONE,
    LATCHED_TERMINAL_ALARMS,
    MAX_RULE_ID_LENGTH,
    ConfigError,
    Error,
    GeofenceRule,
    NightDrivingRule,
    NoGoZoneRule,
    OfflineRule,
    OverspeedRule,
    ParkingRule,
    RouteCorridorRule,
    Rule,
    RuleBase,
    RulesConfig,
    SpeedSection,
    SpeedZone,
    TerminalAlarmRule,
    load_timezone,
)
from backend.vehicles.rules.decisions import (
    DetailValue,
    RuleCleared,
    RuleDecision,
    RuleHit,
    RuleKind,
    device_alarm_for,
)
from backend.vehicles.rules.engine import VehicleRulesEngine
from backend.vehicles.rules.state import (
    ConditionState,
    DwellState,
    ParkingState,
    RuleState,
    TerminalAlarmState,
    VehicleState,
)

__all__ = [
    "CHINA_STANDARD_TIME",
    "DEFAULT_TIMEZONE",
    "LATCHED_TERMINAL_ALARMS",
    "MAX_RULE_ID_LENGTH",
    "ConditionState",
    "ConfigError",
    "DetailValue",
    "DwellState",
    "Error",
    "GeofenceRule",
    "NightDrivingRule",
    "NoGoZoneRule",
    "OfflineRule",
    "OverspeedRule",
    "ParkingRule",
    "ParkingState",
    "RouteCorridorRule",
    "Rule",
    "RuleBase",
    "RuleCleared",
    "RuleDecision",
    "RuleHit",
    "RuleKind",
    "RuleState",
    "RulesConfig",
    "SpeedSection",
    "SpeedZone",
    "TerminalAlarmRule",
    "TerminalAlarmState",
    "VehicleRulesEngine",
    "VehicleState",
    "device_alarm_for",
    "load_timezone",
]
