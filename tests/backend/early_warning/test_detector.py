"""The detector: a trend raises after the dwell, merges and escalates, clears only past
the hysteresis band; a noisy series near the horizon raises once; co-rise."""

from __future__ import annotations

import datetime as dt
import random

from backend.early_warning.detector import (
    Clear,
    Detector,
    Escalate,
    Raise,
    WarningSettings,
    project,
)
from backend.sensors.rules import Direction, RuleSet, SensorConfig, SensorKind, Threshold
from realtime.protocol.early_warning import TrendProjection, WarningLevel, WarningSource
from realtime.states import AlarmLevel

T0 = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)


def _sensor(sensor_id: str = "CH4-1", hazard: str = "") -> SensorConfig:
    rules = RuleSet(
        thresholds=(
            Threshold(level=AlarmLevel.YELLOW, direction=Direction.HIGH, value=1.0, restore=0.8),
            Threshold(level=AlarmLevel.RED, direction=Direction.HIGH, value=1.5, restore=1.2),
        )
    )
    return SensorConfig(
        sensor_id=sensor_id, kind=SensorKind.CH4, unit="%", rules=rules, hazard_source=hazard
    )


def _detector(*configs: SensorConfig, **settings: float) -> Detector:
    known = {c.sensor_id: c for c in configs or (_sensor(),)}
    return Detector(WarningSettings(**settings), known.get)  # type: ignore[arg-type]


def _feed(
    detector: Detector, values: list[float], *, sensor: str = "CH4-1", start: int = 0
) -> list[object]:
    out: list[object] = []
    for i, value in enumerate(values):
        out += detector.observe(sensor, T0 + dt.timedelta(seconds=(start + i) * 5), value)
    return out


def test_a_rising_trend_raises_after_the_dwell_and_escalates_as_the_level_nears() -> None:
    detector = _detector()
    # 0.2 % rising 0.001 %/s: 1.0 % in 800 s from the start.
    decisions = _feed(detector, [0.2 + 0.005 * i for i in range(150)])
    raised = [d for d in decisions if isinstance(d, Raise)]
    assert len(raised) == 1
    first = raised[0]
    assert first.key == (WarningSource.TREND, "CH4-1")
    assert first.projection is not None
    assert first.projection.level == "yellow"
    assert first.predicted_at is not None
    # It raised once the crossing came within the horizon and held for the dwell.
    lead = (first.predicted_at - first.at).total_seconds()
    assert 500 < lead <= 600
    levels = [d.level for d in decisions if isinstance(d, Escalate)]
    assert first.level is WarningLevel.YELLOW
    assert levels == [WarningLevel.ORANGE, WarningLevel.RED]
    assert not any(isinstance(d, Clear) for d in decisions)


def test_the_trend_clears_only_once_it_turns_for_the_dwell() -> None:
    detector = _detector()
    rising = [0.2 + 0.005 * i for i in range(120)]
    _feed(detector, rising)
    assert detector.active()
    # Flat for 30 s: the fit still rises (the window remembers), nothing clears.
    assert _feed(detector, [rising[-1]] * 6, start=120) == []
    falling = [rising[-1] - 0.01 * i for i in range(1, 120)]
    decisions = _feed(detector, falling, start=126)
    clears = [d for d in decisions if isinstance(d, Clear)]
    assert len(clears) == 1
    assert not detector.active()


def test_a_noisy_series_near_the_edge_of_the_horizon_raises_once() -> None:
    noise = random.Random(20)
    detector = _detector()
    # Crossing predicted ~ at the horizon, jittering in and out of it.
    values = [0.4 + 0.001 * i * 5 / 5 + noise.uniform(-0.03, 0.03) for i in range(400)]
    decisions = _feed(detector, values)
    assert len([d for d in decisions if isinstance(d, Raise)]) <= 1
    assert len([d for d in decisions if isinstance(d, Clear)]) == 0


def test_a_flat_or_falling_sensor_never_raises() -> None:
    detector = _detector()
    assert _feed(detector, [0.5] * 100) == []
    assert _feed(detector, [0.9 - 0.001 * i for i in range(100)], start=100) == []


def test_a_reading_past_the_level_is_the_alarms_business() -> None:
    detector = _detector()
    # Above yellow already and rising: the next level is red.
    decisions = _feed(detector, [1.1 + 0.005 * i for i in range(60)])
    raised = [d for d in decisions if isinstance(d, Raise)]
    assert raised
    assert raised[0].projection is not None
    assert raised[0].projection.level == "red"


def test_too_few_readings_give_a_reason_not_a_projection() -> None:
    detector = _detector()
    _feed(detector, [0.2, 0.3])
    result = project(_sensor(), detector.points("CH4-1"), detector.settings)
    assert isinstance(result, str)
    assert "at least 5" in result


def test_bad_and_late_readings_are_skipped() -> None:
    detector = _detector()
    assert detector.observe("CH4-1", T0, float("nan")) == []
    assert detector.observe("unknown", T0, 1.0) == []
    detector.observe("CH4-1", T0 + dt.timedelta(seconds=10), 0.2)
    detector.observe("CH4-1", T0, 0.9)  # older than the newest: ignored
    assert detector.points("CH4-1") == [((T0 + dt.timedelta(seconds=10)).timestamp(), 0.2)]


def test_the_ring_keeps_the_window_only() -> None:
    detector = _detector()
    _feed(detector, [0.1] * 200)
    points = detector.points("CH4-1")
    assert points[-1][0] - points[0][0] <= 300


def test_sensors_of_one_hazard_source_rising_together_raise_one_co_rise() -> None:
    a, b, c = (_sensor(s, hazard="HS-1") for s in ("A", "B", "C"))
    detector = _detector(a, b, c, dwell_s=30)
    decisions: list[object] = []
    for i in range(60):
        at = T0 + dt.timedelta(seconds=i * 5)
        decisions += detector.observe("A", at, 0.1 + 0.003 * i)
        decisions += detector.observe("B", at, 0.2 + 0.003 * i)
        decisions += detector.observe("C", at, 0.3)  # flat
    co = [d for d in decisions if isinstance(d, Raise) and d.key[0] is WarningSource.CO_RISE]
    assert len(co) == 1
    assert co[0].key == (WarningSource.CO_RISE, "HS-1")
    assert co[0].sensors == ("A", "B")
    assert co[0].hazard_source == "HS-1"


def test_one_sensor_rising_alone_is_no_co_rise() -> None:
    a, b = (_sensor(s, hazard="HS-1") for s in ("A", "B"))
    detector = _detector(a, b, dwell_s=30)
    decisions: list[object] = []
    for i in range(60):
        at = T0 + dt.timedelta(seconds=i * 5)
        decisions += detector.observe("A", at, 0.1 + 0.003 * i)
        decisions += detector.observe("B", at, 0.2)
    assert not [d for d in decisions if isinstance(d, Raise) and d.key[0] is WarningSource.CO_RISE]


def test_the_projection_ends_at_the_crossing() -> None:
    detector = _detector()
    _feed(detector, [0.5 + 0.005 * i for i in range(20)])
    result = project(_sensor(), detector.points("CH4-1"), detector.settings)
    assert isinstance(result, TrendProjection)
    assert result.crossing_at == result.fitted_to_at
    assert result.level_value == 1.0
    assert abs(result.fitted_to_value - 1.0) < 1e-9
    assert abs(result.slope_per_min - 0.06) < 1e-9
