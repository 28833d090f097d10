"""Track analysis, GPX/CSV export, the replay clock and the roster (no Qt)."""

from __future__ import annotations

import csv
import datetime as dt
import xml.etree.ElementTree as ET
import zoneinfo
from pathlib import Path

import numpy as np
import pytest

from desktop.map.vehicles import VehicleStore
from desktop.vehicles.roster import StateFilter, VehicleRoster, VehicleState
from desktop.vehicles.track import (
    GPX_NAMESPACE,
    ReplayClock,
    TrackData,
    analyse_track,
    haversine_m,
    write_gpx,
    write_track_csv,
)
from desktop.vehicles.track import Error as TrackError
from realtime.protocol import DeviceView, Event, PositionView, TrackAlarms, TrackColumns

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
