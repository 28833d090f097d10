"""Incremental vehicle updates and clustering at wide zoom (issue 18, points 2 and 6)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.map.clusters import cell_metres, grid_clusters
from desktop.map.projection import from_mercator, to_mercator
from desktop.map.vehicles import CHUNK_POSITIONS, VehicleState, VehicleStore
from desktop.map.view import MapView
from realtime.protocol import PositionView, Telemetry
from realtime.states import AlarmLevel, AlarmState
from tests.desktop.conftest import ignore_offscreen_quirks
from tests.desktop.factories import make_alarm

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

PROVINCE_SPAN_M = 400_000.0
STREET_SPAN_M = 4_000.0


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fix(device: str, lon: float, lat: float, **fields: Any) -> PositionView:
    at = fields.pop("at", None) or now()
    return PositionView(device=device, at=at, lon=lon, lat=lat, **fields)


@pytest.fixture
def map_view(qtbot: QtBot) -> Iterator[MapView]:
    view = MapView(VehicleStore(), basemap=False)
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()


def cell_centre(cell_m: float, column: int, row: int) -> tuple[float, float]:
    """(lon, lat) of the middle of a grid cell: a group placed there stays in one cell."""
    return from_mercator((column + 0.5) * cell_m, (row + 0.5) * cell_m)


# ---------------------------------------------------------------------- clustering (no Qt)


def test_grid_clusters_count_group_and_rank_members() -> None:
    rng = np.random.default_rng(1)
    crowd_x = 1_500.0 + rng.uniform(-400, 400, 7)
    crowd_y = 2_500.0 + rng.uniform(-400, 400, 7)
    x = np.concatenate([crowd_x, [5_500.0, 5_600.0], [9_500.0]])
    y = np.concatenate([crowd_y, [500.0, 600.0], [9_500.0]])
    rank = np.array([0, 0, 2, 0, 1, 0, 0, 3, 3, 0])
    clusters = grid_clusters(x, y, rank, cell_m=1_000.0, min_size=3)
    assert len(clusters) == 1
    assert clusters.count.tolist() == [7]
    assert clusters.clustered.tolist() == [True] * 7 + [False] * 3
    assert clusters.rank.tolist() == [2], "the most urgent member, not an outsider's 3"
    assert clusters.x[0] == pytest.approx(crowd_x.mean())
    assert clusters.y[0] == pytest.approx(crowd_y.mean())
    assert clusters.bounds[0].tolist() == pytest.approx(
        [crowd_x.min(), crowd_y.min(), crowd_x.max(), crowd_y.max()]
    )
    # with a lower threshold the pair clusters too, the single point never does
    pairs = grid_clusters(x, y, rank, cell_m=1_000.0, min_size=2)
    assert sorted(pairs.count.tolist()) == [2, 7]
    assert not pairs.clustered[-1]


def test_grid_clusters_handle_negative_coordinates_and_nothing() -> None:
    x = np.array([-10.0, -20.0, -30.0, 10.0])
    y = np.array([-10.0, -20.0, -30.0, 10.0])
    clusters = grid_clusters(x, y, np.zeros(4, dtype=np.intp), cell_m=1_000.0, min_size=3)
    assert clusters.count.tolist() == [3], "cells left and right of 0 are different cells"
    empty = grid_clusters(
        np.empty(0), np.empty(0), np.empty(0, dtype=np.intp), cell_m=1.0, min_size=2
    )
    assert len(empty) == 0
    assert len(empty.clustered) == 0


def test_cluster_symbols_keep_off_cell_edges_and_a_shifted_grid_falls_between() -> None:
    x = np.array([10.0, 20.0, 30.0])  # crowded in the corner of cell (0, 0)
    y = np.array([10.0, 20.0, 30.0])
    rank = np.zeros(3, dtype=np.intp)
    kept = grid_clusters(x, y, rank, cell_m=1_000.0, min_size=3, keep_off_edge=0.4)
    assert (kept.x[0], kept.y[0]) == pytest.approx((400.0, 400.0))
    assert kept.bounds[0].tolist() == pytest.approx([10.0, 10.0, 30.0, 30.0]), "true extent"
    shifted = grid_clusters(
        x, y, rank, cell_m=1_000.0, min_size=3, keep_off_edge=0.4, grid_offset=0.5
    )
    # the shifted cell runs from -500 to 500: the symbol stays near its middle, 0
    assert (shifted.x[0], shifted.y[0]) == pytest.approx((20.0, 20.0))
    assert abs(shifted.x[0] - kept.x[0]) > 300


def test_the_cluster_grid_changes_only_at_power_of_two_zoom_steps() -> None:
    assert cell_metres(100.0) == 8192.0
    assert cell_metres(120.0) == 8192.0, "a small zoom keeps the grid: clusters do not jitter"
    assert cell_metres(150.0) == 16384.0


# ---------------------------------------------------------------------- incremental update


def test_a_partial_update_changes_exactly_the_vehicles_it_names(map_view: MapView) -> None:
    store = map_view.vehicles
    layer = map_view.vehicle_layer
    store.update(
        fix(f"v{i:02d}", 120.0 + i * 0.01, 30.0, speed_kmh=40.0, heading_deg=90.0)
        for i in range(20)
    )
    map_view.refresh()
    before = layer.positions()
    assert layer.count(VehicleState.MOVING) == 20

    changed = store.update(
        [
            fix("v03", 121.0, 31.0, speed_kmh=0.0),  # stops somewhere else
            fix("v07", 120.5, 30.5, speed_kmh=60.0, heading_deg=180.0, alarms=["emergency"]),
            fix("new", 120.3, 30.3, speed_kmh=10.0),
        ]
    )
    assert changed == {"v03", "v07", "new"}
    assert store.remove("v11")
    assert store.remove("v19")  # the last row: nothing moves into its place
    map_view.refresh()

    after = layer.positions()
    assert set(after) == (set(before) - {"v11", "v19"}) | {"new"}
    for device in set(before) - {"v03", "v07", "v11", "v19"}:
        assert after[device] == before[device], device
        assert layer.state_of(device) is VehicleState.MOVING
        record = store.get(device)
        assert record is not None
        assert (record.position.lon, record.position.lat) == pytest.approx(
            (120.0 + int(device[1:]) * 0.01, 30.0)
        )
    assert after["v03"] == pytest.approx(to_mercator(121.0, 31.0))
    assert layer.state_of("v03") is VehicleState.STOPPED
    assert after["v07"] == pytest.approx(to_mercator(120.5, 30.5))
    assert layer.state_of("v07") is VehicleState.ALARM
    assert after["new"] == pytest.approx(to_mercator(120.3, 30.3))
    assert layer.state_of("v11") is None
    record = store.get("v07")
    assert record is not None
    assert record.position.alarms == ["emergency"]
    assert record.position.heading_deg == 180.0
    assert store.counts()[VehicleState.MOVING] == 17  # 18 left, v03 stopped, v07 alarm, new


def test_an_older_fix_in_the_same_batch_loses_to_the_newer(map_view: MapView) -> None:
    t = now()
    store = map_view.vehicles
    store.update(
        [
            fix("a", 120.0, 30.0, at=t),
            fix("a", 120.2, 30.2, at=t + dt.timedelta(seconds=2)),
            fix("a", 120.1, 30.1, at=t + dt.timedelta(seconds=1)),
        ]
    )
    record = store.get("a")
    assert record is not None
    assert (record.position.lon, record.x) == pytest.approx((120.2, to_mercator(120.2, 30.2)[0]))


def test_a_large_message_is_applied_in_slices_then_drawn_whole(
    map_view: MapView, qtbot: QtBot
) -> None:
    store = map_view.vehicles
    count = 3 * CHUNK_POSITIONS + 17
    positions = [
        fix(f"d{i}", 120.0 + (i % 100) * 0.001, 30.0, speed_kmh=30.0) for i in range(count)
    ]
    assert store.apply_telemetry(Telemetry(positions=positions)) == frozenset()
    assert store.pending == count, "queued, not applied inside the caller's frame"
    assert len(store) == 0
    qtbot.waitUntil(lambda: map_view.vehicle_layer.count() == count)
    assert store.pending == 0
    assert map_view.vehicle_layer.count(VehicleState.MOVING) == count


def test_slices_apply_one_chunk_at_least_and_closing_applies_the_rest() -> None:
    store = VehicleStore()
    asked: list[bool] = []
    heard: list[frozenset[str]] = []
    store.add_listener(heard.append)
    store.set_scheduler(lambda: asked.append(True))
    positions = [fix(f"d{i}", 120.0, 30.0) for i in range(2 * CHUNK_POSITIONS + 5)]
    store.apply_telemetry(Telemetry(positions=positions))
    assert asked == [True]
    assert store.apply_pending(0.0) is True
    assert len(store) == CHUNK_POSITIONS
    assert heard == [], "listeners (the roster, the replay picker) hear once per message"
    store.set_scheduler(None)  # the map closes: nothing accepted is lost
    assert len(store) == len(positions)
    assert store.pending == 0
    assert heard == [frozenset(p.device for p in positions)]
    small = [fix("x", 121.0, 31.0)]
    assert store.apply_telemetry(Telemetry(positions=small)) == {"x"}


# ---------------------------------------------------------------------- clusters on the map


def test_vehicles_cluster_at_province_zoom_and_expand_at_street_zoom(
    map_view: MapView, qtbot: QtBot
) -> None:
    map_view.center_on(120.0, 30.0, span_m=PROVINCE_SPAN_M)
    cell = cell_metres(map_view.metres_per_pixel())
    lon, lat = cell_centre(cell, 365, 105)
    rng = np.random.default_rng(5)
    crowd = [
        fix(f"c{i}", lon + rng.uniform(-0.01, 0.01), lat + rng.uniform(-0.01, 0.01), speed_kmh=30.0)
        for i in range(30)
    ]
    crowd.append(fix("alarm", lon, lat, alarms=["emergency"]))
    loners = [fix("far1", lon + 1.5, lat), fix("far2", lon - 1.5, lat)]
    map_view.vehicles.update(crowd + loners)
    map_view.center_on(lon, lat, span_m=PROVINCE_SPAN_M)
    map_view.refresh()
    layer = map_view.vehicle_layer
    assert layer.cluster_count == 1
    assert layer.clusters.count.tolist() == [31]
    assert layer.clusters.rank.tolist() == [1], "a cluster holding an alarm vehicle shows red"
    assert int(layer.sprites.shown.sum()) == 2, "only the two loners are drawn on their own"
    assert layer.count() == 33

    # clicking the cluster zooms in on it
    span_before = map_view.metres_per_pixel()
    centre = map_view.view_box.mapViewToScene(QPointF(layer.clusters.x[0], layer.clusters.y[0]))
    point: QPoint = map_view.canvas.mapFromScene(centre)
    QTest.mouseClick(
        map_view.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )
    qtbot.waitUntil(lambda: map_view.metres_per_pixel() < span_before / 4)
    view_lon, view_lat = map_view.view_center()
    assert (view_lon, view_lat) == pytest.approx((lon, lat), abs=0.05)

    map_view.center_on(lon, lat, span_m=STREET_SPAN_M)
    assert layer.cluster_count == 0
    assert bool(layer.sprites.shown.all()), "at street zoom every vehicle is its own symbol"


def test_alarm_clusters_take_the_colour_of_their_most_severe_alarm(map_view: MapView) -> None:
    map_view.center_on(120.0, 30.0, span_m=PROVINCE_SPAN_M)
    cell = cell_metres(map_view.metres_per_pixel())
    lon, lat = cell_centre(cell, 365, 105)
    levels = [AlarmLevel.BLUE, AlarmLevel.YELLOW, AlarmLevel.RED, AlarmLevel.YELLOW]
    crowd = [
        make_alarm(i + 1, level=level, state=AlarmState.ACKNOWLEDGED, lon=lon + i * 0.002, lat=lat)
        for i, level in enumerate(levels)
    ]
    alone = make_alarm(9, level=AlarmLevel.BLUE, lon=lon + 2.0, lat=lat)
    layer = map_view.alarm_layer
    layer.set_alarms([*crowd, alone])
    map_view.center_on(lon, lat, span_m=PROVINCE_SPAN_M)
    assert layer.cluster_count == 1
    assert layer.clusters.count.tolist() == [4]
    assert layer.cluster_level(0) is AlarmLevel.RED
    assert layer.unacknowledged_count == 1
    assert len(layer.unacknowledged.data) == 1, "the lone alarm is drawn on its own"
    assert sum(len(item.data) for item in layer.by_level.values()) == 0

    map_view.center_on(lon, lat, span_m=STREET_SPAN_M * 10)
    assert layer.cluster_count == 0
    assert len(layer.by_level[AlarmLevel.RED].data) == 1
    assert len(layer.by_level[AlarmLevel.YELLOW].data) == 2
    assert layer.count() == 5
