"""The shipped sensor rules: published limits a new sensor starts with (:data:`DEFAULT_RULES`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from backend.sensors.rules.config import Direction, Placement, RuleSet, SensorKind, Threshold
from realtime.states import AlarmLevel

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
