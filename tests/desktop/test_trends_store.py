"""The trends' plain-Python series cache, grouping, search and CSV export (no Qt)."""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from pathlib import Path

from desktop.trends.store import (
    CsvSeries,
    SeriesCache,
    alarm_moments,
    epoch,
    group_sensors,
    sensor_matches,
    sensor_of_alarm,
    subtract_ranges,
    write_series_csv,
)
from realtime.protocol import ReadingView, SensorView, SeriesPoint
from tests.desktop.factories import evolve, make_alarm

T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)


def minutes(count: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=count)


def test_subtract_ranges_leaves_the_gaps() -> None:
    assert subtract_ranges(0, 100, [(10, 20), (50, 120)]) == [(0, 10), (20, 50)]
    assert subtract_ranges(0, 100, [(-5, 200)]) == []
    assert subtract_ranges(0, 100, []) == [(0, 100)]


def test_cache_merges_history_and_live_and_knows_what_is_missing() -> None:
    cache = SeriesCache("ch4-0001", "%")
    points = [SeriesPoint(at=minutes(i), value=float(i)) for i in range(10)]
    cache.add_history(minutes(0), minutes(10), points, downsampled=False)
    assert cache.missing(epoch(minutes(2)), epoch(minutes(8))) == []
    assert cache.missing(epoch(minutes(-5)), epoch(minutes(5))) == [
        (epoch(minutes(-5)), epoch(minutes(0)))
    ]
    cache.add_reading(ReadingView(device="d", sensor="ch4-0001", at=minutes(11), value=0.9))
    cache.add_reading(ReadingView(device="d", sensor="ch4-0001", at=minutes(12), value=1.1))
    times, values = cache.arrays()
    assert len(times) == 12
    assert list(values[-2:]) == [0.9, 1.1]
    assert cache.last_value == 1.1
    assert cache.data_age(minutes(13)) == dt.timedelta(minutes=1)
    # An overlapping fetch replaces duplicates instead of doubling them.
    cache.add_history(minutes(5), minutes(7), points[5:7], downsampled=False)
    assert len(cache) == 12
    inside_times, _values = cache.points_between(epoch(minutes(3)), epoch(minutes(5)))
    assert list(inside_times) == [epoch(minutes(3)), epoch(minutes(4)), epoch(minutes(5))]


def test_a_downsampled_fetch_serves_views_until_zoomed_far_in() -> None:
    cache = SeriesCache("s")
    cache.add_history(minutes(0), minutes(400), [], downsampled=True)
    assert cache.missing(epoch(minutes(0)), epoch(minutes(200))) == []
    narrow = (epoch(minutes(10)), epoch(minutes(20)))
    assert cache.missing(*narrow) == [narrow]


def test_cache_drops_the_oldest_points_beyond_its_bound() -> None:
    cache = SeriesCache("s", max_points=5)
    points = [SeriesPoint(at=minutes(i), value=float(i)) for i in range(8)]
    cache.add_history(minutes(0), minutes(8), points, downsampled=False)
    times, values = cache.arrays()
    assert list(values) == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert times[0] == epoch(minutes(3))


def test_sensor_alarms_are_found_by_source_ref() -> None:
    mine = evolve(
        make_alarm(1, alarm_type="sensor_high"), source_ref="sensor:ch4-0001", first_seen=minutes(5)
    )
    other = evolve(make_alarm(2, alarm_type="sensor_high"), source_ref="sensor:co-0002")
    vehicle = evolve(make_alarm(3, alarm_type="overspeed"), source_ref="jt808:013800000001")
    assert sensor_of_alarm(mine) == "ch4-0001"
    assert sensor_of_alarm(vehicle) is None
    assert alarm_moments([vehicle, other, mine], "ch4-0001") == [mine]


def test_sensors_are_grouped_and_searched() -> None:
    sensors = [
        SensorView(
            sensor_id="co-0002",
            kind="co",
            unit="ppm",
            name="回风巷 一氧化碳",
            hazard_source="东山煤矿",
            enterprise="东山矿业",
        ),
        SensorView(
            sensor_id="ch4-0001",
            kind="ch4",
            unit="%",
            name="工作面 甲烷",
            hazard_source="东山煤矿",
            enterprise="东山矿业",
        ),
        SensorView(sensor_id="t-1", kind="temperature", unit="°C", name="反应釜 温度"),
    ]
    groups = group_sensors(sensors)
    assert list(groups) == ["", "东山煤矿 · 东山矿业"]
    assert [s.sensor_id for s in groups["东山煤矿 · 东山矿业"]] == ["ch4-0001", "co-0002"]
    assert sensor_matches(sensors[1], "甲烷")
    assert sensor_matches(sensors[1], "东山 ch4")
    assert not sensor_matches(sensors[2], "甲烷")


def test_csv_export_writes_local_and_utc_times(tmp_path: Path) -> None:
    path = tmp_path / "trend.csv"
    series = CsvSeries("ch4-0001", "甲烷", "%", [epoch(minutes(0))], [0.75])
    rows = write_series_csv(path, [series], zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert rows == 1
    with path.open(encoding="utf-8-sig", newline="") as stream:
        lines = list(csv.reader(stream))
    assert lines[1] == [
        "ch4-0001",
        "甲烷",
        "2025-03-01T16:00:00+08:00",
        "2025-03-01T08:00:00+00:00",
        "0.75",
        "%",
    ]


def test_csv_export_never_lets_a_peer_named_cell_run_as_a_formula(tmp_path: Path) -> None:
    # A sensor registered by an integrator as a formula must open in Excel as text.
    path = tmp_path / "trend.csv"
    series = CsvSeries(
        "=cmd|' /C calc'!A0", '=HYPERLINK("http://x","点我")', "@%", [epoch(minutes(0))], [-1.5]
    )
    write_series_csv(path, [series], zoneinfo.ZoneInfo("Asia/Shanghai"))
    with path.open(encoding="utf-8-sig", newline="") as stream:
        row = list(csv.reader(stream))[1]
    assert row[0] == "'=cmd|' /C calc'!A0"
    assert row[1] == '\'=HYPERLINK("http://x","点我")'
    assert row[5] == "'@%"
    assert row[4] == "-1.5", "numbers stay numbers"
