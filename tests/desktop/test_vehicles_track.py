"""Track analysis, GPX/CSV export, the replay clock and the roster (no Qt)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import math
import xml.etree.ElementTree as ET
import zoneinfo
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.map.vehicles import VehicleStore
from desktop.vehicles.roster import StateFilter, VehicleRoster, VehicleState
from desktop.vehicles.track import (
    EARTH_RADIUS_M,
    GPX_NAMESPACE,
    GPX_TRACKPOINT_EXTENSION_NAMESPACE,
    TRACK_CSV_HEADER,
    ReplayClock,
    TrackData,
    analyse_track,
    haversine_m,
    write_gpx,
    write_track_csv,
)
from desktop.vehicles.track import Error as TrackError
from realtime.protocol import DeviceView, Event, PositionView, Presence, TrackAlarms, TrackColumns

T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)


def fix(
    minute: float, lat: float, lon: float, speed: float, alarms: list[str] | None = None
) -> PositionView:
    return PositionView(
        device="013800000001",
        at=T0 + dt.timedelta(minutes=minute),
        lat=lat,
        lon=lon,
        speed_kmh=speed,
        alarms=alarms or [],
    )


def test_haversine_of_known_distances() -> None:
    # One degree of latitude on the mean sphere: 2πR/360.
    assert haversine_m(30.0, 120.0, 31.0, 120.0) == pytest.approx(111_195.08, abs=0.5)
    assert haversine_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(111_195.08, abs=0.5)
    assert haversine_m(32.0, 118.8, 32.0, 118.8) == 0.0


def test_analysis_of_a_known_path() -> None:
    track = [
        fix(0, 30.00, 120.0, 60),
        fix(10, 30.01, 120.0, 90),  # overspeed
        fix(20, 30.02, 120.0, 95),  # overspeed
        fix(30, 30.03, 120.0, 0),  # a six-minute stop starts
        fix(33, 30.03, 120.0, 1),
        fix(36, 30.03, 120.0, 0),
        fix(40, 30.04, 120.0, 50, ["Overspeed"]),  # flagged by the terminal
        fix(41, 30.04, 120.0, 0),  # a one-minute halt: not a stop
        fix(42, 30.05, 120.0, 40),
    ]
    analysis = analyse_track(track)
    assert analysis.distance_m == pytest.approx(5 * 1111.9508, rel=1e-6)
    # Moving: 0→10→20→30 (30 min), 40→41 and 42 end; stopped: 30→40 and 41→42.
    assert analysis.moving_time == dt.timedelta(minutes=31)
    assert analysis.stopped_time == dt.timedelta(minutes=11)
    assert [(s.first, s.last, s.duration) for s in analysis.stops] == [
        (3, 5, dt.timedelta(minutes=6))
    ]
    assert [(seg.first, seg.last, seg.max_speed_kmh) for seg in analysis.overspeed] == [
        (1, 2, 95),
        (6, 6, 50),
    ]
    assert analysis.max_speed_kmh == 95
    assert analyse_track(track, speed_limit_kmh=100).overspeed[0].first == 6


def test_gpx_parses_back_and_csv_has_every_fix(tmp_path: Path) -> None:
    track = [fix(0, 30.0, 120.0, 10), fix(1, 30.001, 120.002, 12, ["overspeed"])]
    gpx = tmp_path / "track.gpx"
    write_gpx(gpx, "013800000001", "浙A12345", track)
    root = ET.parse(gpx).getroot()
    ns = {"g": GPX_NAMESPACE}
    assert root.tag == f"{{{GPX_NAMESPACE}}}gpx"
    assert root.findtext("g:trk/g:name", namespaces=ns) == "浙A12345"
    points = root.findall("g:trk/g:trkseg/g:trkpt", ns)
    assert [(float(p.attrib["lat"]), float(p.attrib["lon"])) for p in points] == [
        (30.0, 120.0),
        (30.001, 120.002),
    ]
    assert points[1].findtext("g:time", namespaces=ns) == "2025-03-01T08:01:00Z"
    path = tmp_path / "track.csv"
    write_track_csv(path, "013800000001", track, zoneinfo.ZoneInfo("Asia/Shanghai"))
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["time_local"] for row in rows] == [
        "2025-03-01T16:00:00+08:00",
        "2025-03-01T16:01:00+08:00",
    ]
    assert rows[1]["alarms"] == "overspeed"


def test_replay_clock_plays_pauses_steps_and_stops_at_the_end() -> None:
    clock = ReplayClock([fix(minute, 30, 120, 10) for minute in range(5)])  # 240 s
    clock.speed = 64
    clock.play()
    assert clock.advance(1.0)  # 64 s: the second fix
    assert clock.index == 1
    clock.pause()
    assert not clock.advance(10.0)
    clock.step(1)
    assert clock.index == 2
    clock.step(-5)
    assert clock.index == 0
    clock.play()
    clock.advance(100.0)
    assert clock.index == 4
    assert clock.at_end
    assert not clock.playing
    clock.play()  # from the start again
    assert clock.index == 0


def test_roster_filters_and_ages() -> None:
    now = T0 + dt.timedelta(minutes=2)
    roster = VehicleRoster(clock=lambda: now)
    roster.set_devices(
        [
            DeviceView(
                id=1,
                kind="jt808",
                identity="a",
                name="危化 1",
                plate="浙A1",
                owner="江北化工",
                online=True,
            ),
            DeviceView(
                id=2, kind="jt808", identity="b", name="危化 2", plate="浙A2", owner="东山物流"
            ),
            DeviceView(id=3, kind="modbus", identity="m", name="传感器"),
        ]
    )
    roster.update_positions(
        [
            PositionView(device="a", at=T0, lat=30, lon=120, speed_kmh=40),
            PositionView(device="b", at=T0 - dt.timedelta(hours=1), lat=30, lon=120),
        ]
    )
    rows = {row.device: row for row in roster.rows()}
    assert set(rows) == {"a", "b"}
    assert rows["a"].state is VehicleState.MOVING
    assert rows["a"].age == dt.timedelta(minutes=2)
    assert rows["b"].state is VehicleState.OFFLINE
    assert [r.device for r in roster.filtered("江北")] == ["a"]
    assert [r.device for r in roster.filtered("浙a2")] == ["b"]
    assert [r.device for r in roster.filtered(state_filter=StateFilter.OFFLINE)] == ["b"]
    assert [r.device for r in roster.filtered(state_filter=StateFilter.MOVING)] == ["a"]
    roster.update_positions(
        [PositionView(device="a", at=T0 + dt.timedelta(minutes=1), lat=30, lon=120, alarms=["sos"])]
    )
    assert [r.device for r in roster.filtered(state_filter=StateFilter.ALARM)] == ["a"]
    event = Event(
        seq=1,
        at=now,
        kind="device.removed",
        actor="registry",
        device=DeviceView(id=2, kind="jt808", identity="b", name="危化 2"),
    )
    roster.apply_event(event)
    assert "b" not in roster.devices


def test_track_data_from_the_wire_columns_reads_as_positions() -> None:
    fixes = [
        fix(0, 30.0, 120.0, 60),
        fix(1, 30.001, 120.002, 95, ["overspeed"]),
        fix(2, 30.0015, 120.003, 0),
    ]
    columns = TrackColumns(
        device="013800000001",
        t0=T0,
        t_ms=[0, 60_000, 120_000],
        lat_e7=[300000000, 300010000, 300015000],
        lon_e7=[1200000000, 1200020000, 1200030000],
        speed_kmh=[60.0, 95.0, 0.0],
        heading_deg=[0.0, 0.0, 0.0],
        alarms=[TrackAlarms(1, ["overspeed"])],
    )
    track = TrackData.from_columns(columns)
    assert len(track) == 3
    assert list(track) == fixes
    assert track[-1] == fixes[-1]
    assert list(track[1:]) == fixes[1:]
    assert list(track[::2]) == fixes[::2]
    assert track.at(1) == T0 + dt.timedelta(minutes=1)
    assert analyse_track(track) == analyse_track(fixes)
    assert TrackData.from_positions(fixes).alarms == track.alarms
    with pytest.raises(IndexError):
        track[3]

    shuffled = TrackData.from_positions([fixes[2], fixes[1], fixes[0]]).sorted_by_time()
    assert list(shuffled) == fixes, "sorting moves the alarms with their fixes"

    empty = TrackData.empty("013800000001")
    assert not empty
    assert analyse_track(empty).distance_m == 0.0
    assert ReplayClock(empty).at_end
    with pytest.raises(TrackError):
        TrackData(
            "x",
            times_us=np.zeros(2, dtype=np.int64),
            lat=np.zeros(1),
            lon=np.zeros(2),
            speed_kmh=np.zeros(2),
            heading_deg=np.zeros(2),
        )


def test_the_roster_reads_positions_from_the_map_store() -> None:
    """One store of positions in the console: the list and the map cannot disagree."""
    store = VehicleStore(clock=lambda: T0)
    roster = VehicleRoster(store, clock=lambda: T0 + dt.timedelta(seconds=10))
    changes: list[int] = []
    roster.add_listener(lambda: changes.append(1))
    store.update([PositionView(device="013800000001", at=T0, lat=30.0, lon=120.0, speed_kmh=40)])
    assert changes == [1]
    position = roster.position("013800000001")
    assert position is not None
    assert position.speed_kmh == 40
    [row] = roster.rows()
    assert row.state is VehicleState.MOVING
    # An older fix reaches neither.
    roster.update_positions(
        [PositionView(device="013800000001", at=T0 - dt.timedelta(seconds=5), lat=0, lon=0)]
    )
    record = store.get("013800000001")
    assert record is not None
    assert record.position.speed_kmh == 40


# ------------------------------------------------------- analysis and export, in depth

START = (31.0, 121.0)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
GPX_NS = {"g": GPX_NAMESPACE, "tpx": GPX_TRACKPOINT_EXTENSION_NAMESPACE}
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def north(where: tuple[float, float], metres: float) -> tuple[float, float]:
    """``metres`` due north of ``where`` (along a meridian: exact on the sphere)."""
    return where[0] + metres / METRES_PER_DEGREE, where[1]


def fix_s(
    seconds: float,
    where: tuple[float, float] = START,
    speed: float = 0.0,
    alarms: list[str] | None = None,
) -> PositionView:
    return fix(seconds / 60, where[0], where[1], speed, alarms)


def drive_and_stop() -> list[PositionView]:
    """10 minutes north at 60 km/h, a 10-minute stop, 5 more minutes north."""
    fixes: list[PositionView] = []
    where = START
    for minute in range(10):
        fixes.append(fix_s(minute * 60, where, 60))
        where = north(where, 1000)
    for minute in range(10, 21):
        fixes.append(fix_s(minute * 60, where, 0))
    for minute in range(21, 26):
        where = north(where, 1000)
        fixes.append(fix_s(minute * 60, where, 60))
    return fixes


def test_distance_of_a_known_path() -> None:
    fixes = [fix_s(s * 60, (31.0 + s * 0.01, 121.0), 40) for s in range(11)]
    analysis = analyse_track(fixes)
    assert analysis.distance_m == pytest.approx(0.1 * METRES_PER_DEGREE, rel=1e-9)
    assert analysis.max_speed_kmh == 40
    assert analysis.moving_time == dt.timedelta(minutes=10)


def test_moving_and_stopped_time_and_the_stop() -> None:
    fixes = drive_and_stop()
    analysis = analyse_track(fixes)
    assert analysis.distance_m == pytest.approx(15_000, rel=1e-6)
    # The fix at minute 20 still reports 0 km/h, so the minute in which the vehicle
    # drives off counts as stopped (the rule in the module docstring).
    assert analysis.stopped_time == dt.timedelta(minutes=11)
    assert analysis.moving_time + analysis.stopped_time == dt.timedelta(minutes=25)
    (stop,) = analysis.stops
    assert (stop.start, stop.end) == (T0 + dt.timedelta(minutes=10), T0 + dt.timedelta(minutes=20))
    assert stop.duration == dt.timedelta(minutes=10)
    assert (stop.first, stop.last) == (10, 20)
    assert haversine_m(stop.lat, stop.lon, fixes[15].lat, fixes[15].lon) < 1


def test_short_stops_are_not_reported() -> None:
    fixes = drive_and_stop()
    assert analyse_track(fixes, min_stop=dt.timedelta(seconds=601)).stops == ()
    assert len(analyse_track(fixes, min_stop=dt.timedelta(seconds=600)).stops) == 1


def test_a_silent_terminal_while_parked_is_one_long_stop() -> None:
    fixes = [fix_s(0, START, 30), fix_s(60, START, 0), fix_s(3660, START, 0)]
    fixes.append(fix_s(3720, north(START, 700), 40))
    analysis = analyse_track(fixes)
    (stop,) = analysis.stops
    assert stop.duration == dt.timedelta(hours=1)
    assert analysis.moving_time == dt.timedelta(minutes=1)
    assert analysis.stopped_time == dt.timedelta(minutes=61)


def test_gps_drift_while_stopped_stays_one_stop() -> None:
    drift = [fix_s(s * 60, north(START, (s % 3) * 15), 1) for s in range(20)]
    (stop,) = analyse_track(drift).stops
    assert stop.duration == dt.timedelta(minutes=19)


def test_overspeed_segments() -> None:
    speeds = [50, 90, 95, 50, 100, 50, 81]
    fixes = [fix_s(i * 10, north(START, i * 250), v) for i, v in enumerate(speeds)]
    segments = analyse_track(fixes, speed_limit_kmh=80).overspeed
    assert [(s.first, s.last, s.max_speed_kmh) for s in segments] == [
        (1, 2, 95),
        (4, 4, 100),
        (6, 6, 81),
    ]
    assert segments[0].end - segments[0].start == dt.timedelta(seconds=10)
    assert analyse_track(fixes, speed_limit_kmh=100).overspeed == ()


def test_empty_and_single_fix_tracks() -> None:
    empty = analyse_track([])
    assert (empty.distance_m, empty.stops, empty.overspeed, empty.max_speed_kmh) == (
        0,
        (),
        (),
        0,
    )
    one = analyse_track([fix_s(0)])
    assert (one.moving_time, one.stopped_time) == (dt.timedelta(0), dt.timedelta(0))


def test_gpx_escapes_the_name_and_keeps_every_fix(tmp_path: Path) -> None:
    fixes = drive_and_stop()
    path = tmp_path / "track.gpx"
    write_gpx(path, "013800000001", "苏A·D8821 <night>", fixes)
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.parse(path).getroot()
    assert root.get("version") == "1.1"
    assert root.findtext("g:trk/g:name", namespaces=GPX_NS) == "苏A·D8821 <night>"
    points = root.findall("g:trk/g:trkseg/g:trkpt", GPX_NS)
    assert len(points) == len(fixes)
    for point, position in zip(points, fixes, strict=True):
        assert float(point.get("lat", "nan")) == pytest.approx(position.lat, abs=1e-7)
        assert float(point.get("lon", "nan")) == pytest.approx(position.lon, abs=1e-7)
        stamp = point.findtext("g:time", namespaces=GPX_NS)
        assert stamp is not None
        assert stamp.endswith("Z")
        assert dt.datetime.fromisoformat(stamp) == position.at
        values = point.find("g:extensions/tpx:TrackPointExtension", GPX_NS)
        assert values is not None
        speed = float(values.findtext("tpx:speed", "nan", GPX_NS))
        assert speed == pytest.approx(position.speed_kmh / 3.6, abs=0.01)
        assert float(values.findtext("tpx:course", "nan", GPX_NS)) == position.heading_deg


def test_gpx_times_are_utc_whatever_the_input_zone(tmp_path: Path) -> None:
    local = PositionView(
        device="V1", at=dt.datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI), lat=31, lon=121
    )
    path = tmp_path / "track.gpx"
    write_gpx(path, "V1", "", [local])
    root = ET.parse(path).getroot()
    assert root.findtext("g:trk/g:trkseg/g:trkpt/g:time", namespaces=GPX_NS) == (
        "2026-11-29T02:00:00Z"
    )
    assert root.findtext("g:trk/g:name", namespaces=GPX_NS) == "V1", "the device if no name"
    write_gpx(path, "V1", "", [])
    assert ET.parse(path).getroot().findall("g:trk/g:trkseg/g:trkpt", GPX_NS) == []


def test_csv_is_for_excel_with_local_and_utc_times(tmp_path: Path) -> None:
    fixes = [*drive_and_stop(), fix_s(2000, alarms=["overspeed", "emergency"])]
    path = tmp_path / "track.csv"
    write_track_csv(path, "013800000001", fixes, SHANGHAI)
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert tuple(rows[0]) == TRACK_CSV_HEADER
    assert len(rows) == len(fixes) + 1
    first = dict(zip(TRACK_CSV_HEADER, rows[1], strict=True))
    assert first["device"] == "013800000001"
    assert first["time_local"] == "2025-03-01T16:00:00+08:00"
    assert first["time_utc"] == "2025-03-01T08:00:00+00:00"
    assert float(first["lat"]) == pytest.approx(31.0)
    assert first["speed_kmh"] == "60.0"
    last = dict(zip(TRACK_CSV_HEADER, rows[-1], strict=True))
    assert last["alarms"] == "overspeed;emergency"
    write_track_csv(path, "013800000001", fixes, dt.UTC)
    with path.open(encoding="utf-8-sig", newline="") as stream:
        assert next(csv.DictReader(stream))["time_local"] == "2025-03-01T08:00:00+00:00"


@st.composite
def random_tracks(draw: st.DrawFn) -> list[PositionView]:
    fixes: list[PositionView] = []
    seconds = 0.0
    where = START
    for _ in range(draw(st.integers(0, 30))):
        seconds += draw(st.sampled_from([0, 1, 10, 60, 600]))
        where = north(where, draw(st.floats(-2000, 2000)))
        fixes.append(fix_s(seconds, where, draw(st.sampled_from([0.0, 2.0, 30.0, 90.0]))))
    return fixes


@given(random_tracks())
def test_track_invariants(fixes: list[PositionView]) -> None:
    analysis = analyse_track(fixes, speed_limit_kmh=80)
    duration = fixes[-1].at - fixes[0].at if fixes else dt.timedelta(0)
    assert analysis.moving_time + analysis.stopped_time == duration
    assert analysis.distance_m >= 0
    assert sum((s.duration for s in analysis.stops), dt.timedelta(0)) <= analysis.stopped_time
    assert all(stop.duration >= dt.timedelta(minutes=5) for stop in analysis.stops)
    covered = [i for s in analysis.overspeed for i in range(s.first, s.last + 1)]
    assert covered == [i for i, p in enumerate(fixes) if p.speed_kmh > 80]


@given(random_tracks())
def test_exports_have_a_row_and_a_point_per_fix(
    tmp_path_factory: pytest.TempPathFactory, fixes: list[PositionView]
) -> None:
    folder = tmp_path_factory.mktemp("export")
    write_track_csv(folder / "t.csv", "V1", fixes, SHANGHAI)
    with (folder / "t.csv").open(encoding="utf-8-sig", newline="") as stream:
        assert len(list(csv.reader(stream))) == len(fixes) + 1
    write_gpx(folder / "t.gpx", "V1", "", fixes)
    assert len(ET.parse(folder / "t.gpx").getroot().findall(".//g:trkpt", GPX_NS)) == len(fixes)


def test_roster_says_unknown_for_vehicles_not_heard_since_the_server_started() -> None:
    now = T0 + dt.timedelta(minutes=2)
    last_heard = T0 - dt.timedelta(hours=3)
    roster = VehicleRoster(clock=lambda: now)
    roster.set_devices(
        [
            DeviceView(
                id=1,
                kind="jt808",
                identity="u",
                name="危化 1",
                last_seen=last_heard,
                presence=Presence.UNKNOWN,
            ),
            DeviceView(
                id=2, kind="jt808", identity="off", name="危化 2", presence=Presence.OFFLINE
            ),
            DeviceView(
                id=3,
                kind="jt808",
                identity="on",
                name="危化 3",
                online=True,
                presence=Presence.ONLINE,
            ),
        ]
    )
    rows = {row.device: row for row in roster.rows()}
    assert rows["u"].presence is Presence.UNKNOWN
    assert not rows["u"].online
    assert rows["u"].last_report == last_heard, "when it was last heard"
    assert rows["u"].age == dt.timedelta(hours=3, minutes=2)
    assert rows["off"].presence is Presence.OFFLINE
    assert rows["on"].presence is Presence.ONLINE
    assert [r.device for r in roster.filtered(state_filter=StateFilter.UNKNOWN)] == ["u"]
    assert [r.device for r in roster.filtered(state_filter=StateFilter.OFFLINE)] == ["off"]
    assert [r.device for r in roster.filtered(state_filter=StateFilter.ONLINE)] == ["on"]

    # A fresh fix is as good as hearing from it; the last report is the newer time.
    roster.update_positions([PositionView(device="u", at=now, lat=30, lon=120)])
    row = next(r for r in roster.rows() if r.device == "u")
    assert row.presence is Presence.ONLINE
    assert row.last_report == now

    # The server heard it (a device event): its presence is what the event says.
    roster.apply_event(
        Event(
            seq=2,
            at=now,
            kind="device.offline",
            actor="off",
            device=DeviceView(
                id=3, kind="jt808", identity="on", name="危化 3", presence=Presence.OFFLINE
            ),
        )
    )
    assert next(r for r in roster.rows() if r.device == "on").presence is Presence.OFFLINE


def test_csv_never_lets_a_peer_named_cell_run_as_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "track.csv"
    write_track_csv(path, "+8613800000001", [fix_s(0, alarms=["-overspeed"])], SHANGHAI)
    with path.open(encoding="utf-8-sig", newline="") as stream:
        row = dict(zip(TRACK_CSV_HEADER, list(csv.reader(stream))[1], strict=True))
    assert row["device"] == "'+8613800000001"
    assert row["alarms"] == "'-overspeed"
