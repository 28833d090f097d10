"""The trend maths: Theil–Sen against a known series, robust to outliers; least squares;
flat, falling and too-short series; when a line meets a level."""

from __future__ import annotations

import pytest

from backend.early_warning.trend import (
    LeadBands,
    fit,
    least_squares,
    seconds_to,
    subsample,
    theil_sen,
)
from realtime.protocol.early_warning import FitMethod, WarningLevel


def _series(
    slope: float, start: float = 1.0, n: int = 30, step: float = 10.0
) -> list[tuple[float, float]]:
    return [(i * step, start + slope * i * step) for i in range(n)]


def test_theil_sen_recovers_the_slope_of_a_straight_series() -> None:
    line = theil_sen(_series(0.02))
    assert line is not None
    assert line.slope == pytest.approx(0.02)
    assert line.value_at(0) == pytest.approx(1.0)
    assert line.points == 30


def test_a_few_wild_readings_do_not_move_theil_sen_but_do_move_least_squares() -> None:
    points = _series(0.01)
    points[10] = (points[10][0], 500.0)
    points[20] = (points[20][0], -400.0)
    robust = theil_sen(points)
    plain = least_squares(points)
    assert robust is not None
    assert plain is not None
    assert robust.slope == pytest.approx(0.01, rel=0.05)
    assert abs(plain.slope - 0.01) > 0.1


def test_flat_and_falling_series() -> None:
    flat = theil_sen(_series(0.0))
    falling = fit(_series(-0.5, start=100), FitMethod.LEAST_SQUARES)
    assert flat is not None
    assert falling is not None
    assert flat.slope == 0
    assert seconds_to(flat, 5.0, now=290) is None  # never meets it
    assert falling.slope == pytest.approx(-0.5)
    assert seconds_to(falling, 200.0, now=290) is None  # heading away
    assert seconds_to(falling, -55.0, now=290) == pytest.approx(20.0)


def test_too_few_points_give_no_fit() -> None:
    assert theil_sen([]) is None
    assert theil_sen([(1.0, 2.0)]) is None
    assert theil_sen([(1.0, 2.0), (1.0, 3.0)]) is None
    assert least_squares([(1.0, 2.0)]) is None


def test_when_a_rising_line_meets_a_level() -> None:
    line = theil_sen(_series(0.01))  # 1.0 at t=0, 3.9 at t=290
    assert line is not None
    assert seconds_to(line, 4.0, now=290) == pytest.approx(10.0)


def test_subsampling_bounds_the_work_and_keeps_both_ends() -> None:
    points = _series(0.1, n=1000)
    sample = subsample(points, 60)
    assert len(sample) == 60
    assert sample[0] == points[0]
    assert sample[-1] == points[-1]
    line = theil_sen(points)
    assert line is not None
    assert line.slope == pytest.approx(0.1)


def test_the_level_follows_how_soon_the_crossing_comes() -> None:
    bands = LeadBands()
    assert bands.level(60) is WarningLevel.RED
    assert bands.level(120) is WarningLevel.RED
    assert bands.level(200) is WarningLevel.ORANGE
    assert bands.level(500) is WarningLevel.YELLOW
    assert bands.level(900) is WarningLevel.BLUE
