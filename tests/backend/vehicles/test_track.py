"""Track analysis for replay: distance, moving/stopped time, stops, overspeed segments,
GPX and CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.geo import EARTH_RADIUS_M, destination_point, haversine_m
from backend.vehicles.track import (
    CSV_COLUMNS,
    GPX_NAMESPACE,
    GPX_TRACKPOINT_EXTENSION_NAMESPACE,
    TrackError,
    analyze_track,
    find_overspeed_segments,
    find_stops,
    to_csv,
    to_gpx,
)
from devices.observations import Position

T0 = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
START = (31.0, 121.0)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
NS = {"gpx": GPX_NAMESPACE, "tpx": GPX_TRACKPOINT_EXTENSION_NAMESPACE}


def fix(
    seconds: float,
    where: tuple[float, float] = START,
    speed: float = 0.0,
    *,
    alarms: frozenset[str] = frozenset(),
) -> Position:
    return Position(
        device="V1",
        at=T0 + dt.timedelta(seconds=seconds),
        lat=where[0],
        lon=where[1],
        speed_kmh=speed,
        heading_deg=90.0,
        altitude_m=12.5,
        alarms=alarms,
    )


def drive_and_stop() -> list[Position]:
    """10 minutes east at 60 km/h, a 10-minute stop, 5 more minutes east."""
    fixes: list[Position] = []
    where = START
    for minute in range(10):
        fixes.append(fix(minute * 60, where, 60))
        where = destination_point(*where, 90, 1000)
    for minute in range(10, 21):
        fixes.append(fix(minute * 60, where, 0))
    for minute in range(21, 26):
        where = destination_point(*where, 90, 1000)
        fixes.append(fix(minute * 60, where, 60))
    return fixes


def test_distance_of_a_known_path() -> None:
    fixes = [fix(s * 60, (31.0 + s * 0.01, 121.0), 40) for s in range(11)]
    summary = analyze_track(fixes)
    assert summary.distance_m == pytest.approx(0.1 * METRES_PER_DEGREE, rel=1e-9)
    assert summary.point_count == 11
    assert summary.duration_s == 600
    assert summary.max_speed_kmh == 40


def test_moving_and_stopped_time_and_the_stop() -> None:
    fixes = drive_and_stop()
    summary = analyze_track(fixes)
    assert summary.distance_m == pytest.approx(15_000, rel=1e-6)
    assert summary.stopped_s == 600
    assert summary.moving_s == summary.duration_s - 600
    (stop,) = summary.stops
    assert (stop.started_at, stop.ended_at) == (
        T0 + dt.timedelta(minutes=10),
        T0 + dt.timedelta(minutes=20),
    )
    assert stop.duration_s == 600
    assert (stop.first_index, stop.last_index) == (10, 20)
    assert haversine_m(stop.lat, stop.lon, fixes[15].lat, fixes[15].lon) < 1


def test_short_stops_are_not_reported() -> None:
    fixes = drive_and_stop()
    assert find_stops(fixes, min_stop_s=601) == []
    assert len(find_stops(fixes, min_stop_s=600)) == 1


def test_a_silent_terminal_while_parked_is_one_long_stop() -> None:
    fixes = [fix(0, START, 30), fix(60, START, 0), fix(3660, START, 0), fix(3720, START, 40)]
    fixes[-1] = fix(3720, destination_point(*START, 0, 700), 40)
    summary = analyze_track(fixes)
    (stop,) = summary.stops
    assert stop.duration_s == 3600
    assert summary.stopped_s == 3600
    assert summary.moving_s == 120


def test_drift_within_the_radius_stays_one_stop_and_creeping_away_splits_it() -> None:
    drift = [fix(s * 60, destination_point(*START, s * 40, 15), 1) for s in range(20)]
    (stop,) = find_stops(drift)
    assert stop.duration_s == 19 * 60
    creep = [fix(s * 60, destination_point(*START, 0, s * 20), 1) for s in range(20)]
    # 20 m a minute is 1.2 km/h: stopped, but each stop ends 100 m from where it began.
    stops = find_stops(creep, min_stop_s=0)
    assert len(stops) > 1
    assert all(s.duration_s <= 6 * 60 for s in stops)


def test_overspeed_segments() -> None:
    speeds = [50, 90, 95, 50, 100, 50, 81]
    fixes = [fix(i * 10, destination_point(*START, 90, i * 250), v) for i, v in enumerate(speeds)]
    segments = find_overspeed_segments(fixes, limit_kmh=80)
    assert [(s.first_index, s.last_index, s.max_speed_kmh) for s in segments] == [
        (1, 2, 95),
        (4, 4, 100),
        (6, 6, 81),
    ]
    assert segments[0].duration_s == 10
    assert segments[0].distance_m == pytest.approx(250, rel=1e-6)
    assert segments[1].distance_m == 0
    assert analyze_track(fixes, limit_kmh=80).overspeed_segments == tuple(segments)
    assert analyze_track(fixes).overspeed_segments == ()
    assert find_overspeed_segments(fixes, limit_kmh=100) == []


def test_empty_and_single_fix_tracks() -> None:
    empty = analyze_track([], limit_kmh=80)
    assert (empty.point_count, empty.distance_m, empty.duration_s, empty.stops) == (0, 0, 0, ())
    one = analyze_track([fix(0)])
    assert (one.point_count, one.moving_s, one.stopped_s) == (1, 0, 0)


def test_out_of_order_tracks_are_refused() -> None:
    with pytest.raises(TrackError, match="sort the track"):
        analyze_track([fix(10), fix(0)])


def test_gpx_parses_back() -> None:
    fixes = drive_and_stop()
    text = to_gpx(fixes, name="苏A·D8821 <night>")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text)
    assert root.tag == f"{{{GPX_NAMESPACE}}}gpx"
    assert root.get("version") == "1.1"
    assert root.findtext("gpx:trk/gpx:name", namespaces=NS) == "苏A·D8821 <night>"
    points = root.findall("gpx:trk/gpx:trkseg/gpx:trkpt", NS)
    assert len(points) == len(fixes)
    for point, position in zip(points, fixes, strict=True):
        assert float(point.get("lat", "nan")) == pytest.approx(position.lat, abs=1e-7)
        assert float(point.get("lon", "nan")) == pytest.approx(position.lon, abs=1e-7)
        stamp = point.findtext("gpx:time", namespaces=NS)
        assert stamp is not None
        assert stamp.endswith("Z")
        assert dt.datetime.fromisoformat(stamp) == position.at
        assert point.findtext("gpx:ele", namespaces=NS) == "12.5"
        speed = point.findtext("gpx:extensions/tpx:TrackPointExtension/tpx:speed", namespaces=NS)
        assert float(speed or "nan") == pytest.approx(position.speed_kmh / 3.6, abs=0.01)


def test_gpx_times_are_utc_whatever_the_input_zone() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    local = Position(
        device="V1",
        at=dt.datetime(2026, 11, 29, 10, 0, 0, 250_000, tzinfo=shanghai),
        lat=31,
        lon=121,
    )
    root = ET.fromstring(to_gpx([local]))
    assert root.findtext("gpx:trk/gpx:trkseg/gpx:trkpt/gpx:time", namespaces=NS) == (
        "2026-11-29T02:00:00.250Z"
    )
    assert ET.fromstring(to_gpx([])).findall("gpx:trk/gpx:trkseg/gpx:trkpt", NS) == []


def test_csv_columns_and_times() -> None:
    fixes = [*drive_and_stop(), fix(2000, alarms=frozenset({"overspeed", "emergency"}))]
    rows = list(csv.reader(io.StringIO(to_csv(fixes))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(fixes) + 1
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first["time_local"] == "2026-11-29T10:00:00+08:00"
    assert first["time_utc"] == "2026-11-29T02:00:00Z"
    assert float(first["lat"]) == pytest.approx(31.0)
    assert first["speed_kmh"] == "60.0"
    last = dict(zip(CSV_COLUMNS, rows[-1], strict=True))
    assert last["alarms"] == "emergency;overspeed"
    assert (
        to_csv(fixes, timezone="UTC").splitlines()[1].split(",")[1] == "2026-11-29T02:00:00+00:00"
    )


@st.composite
def random_tracks(draw: st.DrawFn) -> list[Position]:
    fixes: list[Position] = []
    seconds = 0.0
    where = START
    for _ in range(draw(st.integers(0, 30))):
        seconds += draw(st.sampled_from([0, 1, 10, 60, 600]))
        where = destination_point(*where, draw(st.floats(0, 359)), draw(st.floats(0, 2000)))
        fixes.append(fix(seconds, where, draw(st.sampled_from([0.0, 2.0, 30.0, 90.0]))))
    return fixes


@given(random_tracks())
def test_track_invariants(fixes: list[Position]) -> None:
    summary = analyze_track(fixes, limit_kmh=80)
    assert summary.moving_s + summary.stopped_s == pytest.approx(summary.duration_s)
    assert summary.distance_m >= 0
    assert sum(s.duration_s for s in summary.stops) <= summary.stopped_s + 1e-6
    for stop in summary.stops:
        assert stop.duration_s >= 300
    covered = [
        i for s in summary.overspeed_segments for i in range(s.first_index, s.last_index + 1)
    ]
    assert covered == [i for i, p in enumerate(fixes) if p.speed_kmh > 80]
    assert len(list(csv.reader(io.StringIO(to_csv(fixes))))) == len(fixes) + 1
    assert len(ET.fromstring(to_gpx(fixes)).findall(".//gpx:trkpt", NS)) == len(fixes)
