"""The map's road layer: what it asks for at each zoom, the answers it keeps, and what it
draws — one path per class for the view, major roads over minor ones, names at street
zoom — fetched a moment after the map stops moving, from the cache when asked before."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from backend.cli.demo import DEMO_ROADS
from backend.roads.reader import Tally, read_roads
from desktop.map.layers import LayerKey
from desktop.map.road_plan import RoadCache, least_class, request_for
from desktop.map.roads import DEBOUNCE_MS, ROAD_STYLE, RoadLoader, when_loop_runs
from desktop.map.vehicles import VehicleStore
from desktop.map.view import MapView
from realtime.protocol import GetRoads, RoadClass, RoadClassLines, RoadLine, RoadsResult
from tests.desktop.conftest import ignore_offscreen_quirks

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

PARK = (118.7823, 32.2561)
"""The demo's chemical park (lon, lat)."""


def demo_answer(command: GetRoads) -> RoadsResult:
    """What the server answers from the demo's road layer (the box and class applied)."""
    by_class: dict[RoadClass, list[RoadLine]] = {}
    for segment in read_roads(DEMO_ROADS, Tally()):
        if segment.road_class.rank > command.min_class.rank:
            continue
        lats = [p[0] for p in segment.points]
        lons = [p[1] for p in segment.points]
        if max(lats) < command.min_lat or min(lats) > command.max_lat:
            continue
        if max(lons) < command.min_lon or min(lons) > command.max_lon:
            continue
        flat = [value for point in segment.points for value in point]
        by_class.setdefault(segment.road_class, []).append(
            RoadLine(name=segment.name, points=flat, oneway=segment.oneway != 0)
        )
    return RoadsResult(
        classes=[
            RoadClassLines(road_class=k, lines=v)
            for k, v in sorted(by_class.items(), key=lambda item: item[0].rank)
        ]
    )


class FakeServer:
    """Answers ``roads.get`` as the server would, and counts the requests."""

    def __init__(self) -> None:
        self.asked: list[GetRoads] = []
        self.fail_with: str | None = None

    def query(
        self,
        command: GetRoads,
        on_result: Callable[[object], None],
        on_error: Callable[[str, str], None],
    ) -> None:
        self.asked.append(command)
        if self.fail_with is not None:
            on_error(self.fail_with, "no")
        else:
            on_result(demo_answer(command))


@pytest.fixture
def map_view(qtbot: QtBot) -> Iterator[MapView]:
    view = MapView(VehicleStore())
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def loader(map_view: MapView, server: FakeServer) -> RoadLoader:
    loader = RoadLoader(
        map_view.roads,
        lambda: (*map_view.view_extent(), map_view.metres_per_pixel()),
        server.query,
        map_view,
    )
    map_view.view_changed.connect(loader.view_changed)
    loader.new_session()  # logged in (at China's extent: no road asked for yet)
    return loader


def test_the_class_drawn_follows_the_zoom() -> None:
    assert least_class(5) is RoadClass.SERVICE
    assert least_class(30) is RoadClass.TERTIARY
    assert least_class(100) is RoadClass.SECONDARY
    assert least_class(400) is RoadClass.TRUNK
    assert least_class(2_000) is None
    assert request_for(100, 20, 130, 50, 5_000) is None


def test_nearby_views_ask_the_same_box_and_the_cache_keeps_the_latest() -> None:
    first = request_for(118.752, 32.242, 118.802, 32.272, 5.0)
    nudged = request_for(118.7525, 32.2425, 118.8025, 32.2725, 5.2)
    assert first is not None
    assert first == nudged
    # The box holds the view with a margin.
    assert first.min_lon < 118.752
    assert first.max_lat > 32.272
    cache = RoadCache(size=2)
    answer = RoadsResult(classes=[])
    cache.put(first, answer)
    assert cache.get(first) is answer
    for n in range(3):
        other = request_for(100 + n, 30, 100.05 + n, 30.03, 5.0)
        assert other is not None
        cache.put(other, answer)
    assert cache.get(first) is None
    assert len(cache) == 2


def test_the_view_gets_a_path_per_class_after_the_map_stops(
    qtbot: QtBot, map_view: MapView, loader: RoadLoader, server: FakeServer
) -> None:
    # Several moves in a row: one request, after the map stops.
    for span in (9_000, 8_000, 7_000):
        map_view.center_on(*PARK, span_m=span)
    assert server.asked == []
    qtbot.waitUntil(lambda: len(server.asked) == 1, timeout=DEBOUNCE_MS * 8)
    asked = server.asked[0]
    assert asked.min_class is RoadClass.SERVICE
    assert asked.min_lat < PARK[1] < asked.max_lat
    layer = map_view.roads
    assert layer.visible
    drawn = {k for k, item in layer.paths.items() if not item.path().isEmpty()}
    assert drawn == set(RoadClass)
    # Each class is one path through its roads; the view is inside what was drawn.
    trunk = layer.paths[RoadClass.TRUNK].path()
    assert trunk.elementCount() > 8
    x_min, y_min, x_max, y_max = map_view.view_extent()
    view = QRectF(x_min, y_min, x_max - x_min, y_max - y_min)
    assert layer.paths[RoadClass.PRIMARY].path().boundingRect().intersects(view)
    # Pens by class; the major classes above the minor ones.
    assert layer.paths[RoadClass.MOTORWAY].pen().color() == QColor(
        ROAD_STYLE[RoadClass.MOTORWAY][1]
    )
    assert layer.paths[RoadClass.MOTORWAY].zValue() > layer.paths[RoadClass.SERVICE].zValue()
    assert layer.casings[RoadClass.TRUNK].zValue() < layer.paths[RoadClass.SERVICE].zValue()
    # Names of the major roads at street zoom, once each.
    names = [label.text() for label in layer.labels]
    assert "化工大道" in names
    assert "园区支路一" not in names  # service roads are not named
    assert len(names) == len(set(names))
    assert layer.label_group.isVisible()


def test_zoomed_out_only_the_major_roads_and_panning_back_uses_the_cache(
    qtbot: QtBot, map_view: MapView, loader: RoadLoader, server: FakeServer
) -> None:
    map_view.center_on(*PARK, span_m=200_000)
    qtbot.waitUntil(lambda: len(server.asked) == 1, timeout=DEBOUNCE_MS * 8)
    assert server.asked[0].min_class in {RoadClass.TRUNK, RoadClass.SECONDARY}
    layer = map_view.roads
    assert layer.paths[RoadClass.SERVICE].path().isEmpty()
    assert not layer.paths[RoadClass.TRUNK].path().isEmpty()
    assert not layer.label_group.isVisible()
    map_view.center_on(*PARK, span_m=8_000)
    qtbot.waitUntil(lambda: len(server.asked) == 2, timeout=DEBOUNCE_MS * 8)
    map_view.center_on(*PARK, span_m=200_000)
    qtbot.wait(DEBOUNCE_MS * 3)
    assert len(server.asked) == 2  # the first answer, from the cache
    assert layer.paths[RoadClass.SERVICE].path().isEmpty()


def test_province_zoom_draws_no_road_and_a_refusal_keeps_the_map(
    qtbot: QtBot, map_view: MapView, loader: RoadLoader, server: FakeServer
) -> None:
    map_view.center_on(*PARK, span_m=2_000_000)
    qtbot.wait(DEBOUNCE_MS * 3)
    assert server.asked == []
    assert not map_view.roads.visible
    server.fail_with = "not_connected"
    map_view.center_on(*PARK, span_m=8_000)
    qtbot.waitUntil(lambda: len(server.asked) == 1, timeout=DEBOUNCE_MS * 8)
    assert all(item.path().isEmpty() for item in map_view.roads.paths.values())
    # A new session fetches again (the retry does too, a few seconds later).
    server.fail_with = None
    loader.new_session()
    assert len(server.asked) == 2
    assert not map_view.roads.paths[RoadClass.PRIMARY].path().isEmpty()


def test_nothing_is_asked_before_a_session_begins(
    qtbot: QtBot, map_view: MapView, server: FakeServer
) -> None:
    loader = RoadLoader(
        map_view.roads,
        lambda: (*map_view.view_extent(), map_view.metres_per_pixel()),
        server.query,
        map_view,
    )
    map_view.view_changed.connect(loader.view_changed)
    map_view.center_on(*PARK, span_m=8_000)
    qtbot.wait(DEBOUNCE_MS * 3)
    assert server.asked == []
    loader.new_session()
    assert len(server.asked) == 1


def test_the_roads_layer_is_in_the_layer_menu(map_view: MapView) -> None:
    assert LayerKey.ROADS in map_view.layer_actions
    map_view.set_layer_visible(LayerKey.ROADS, False)
    assert not map_view.roads.visible


def test_without_a_running_loop_the_query_fails_at_once(server: FakeServer) -> None:
    errors: list[str] = []
    guarded = when_loop_runs(server.query)
    guarded(
        GetRoads(req="", min_lat=1, min_lon=1, max_lat=2, max_lon=2),
        lambda _result: None,
        lambda code, _message: errors.append(code),
    )
    assert errors == ["no_loop"]
    assert server.asked == []
