"""Geofences on the console map: drawing with the mouse, the save dialog, stored shapes."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop.geofence_editor import GeofenceDialog, GeofenceEditor
from desktop.map.geofences import DrawMode, GeofenceDrawTool, GeofenceLayer, ground_distance_m
from desktop.map.projection import to_mercator
from desktop.map.vehicles import VehicleStore
from desktop.map.view import MapView
from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.protocol import (
    CircleShape,
    Command,
    DeleteGeofence,
    Event,
    GeofenceResult,
    GeofencesResult,
    GeofenceView,
    ListGeofences,
    PolygonShape,
    PolylineShape,
    ResultData,
    SaveGeofence,
)
from realtime.states import AlarmLevel
from tests.desktop.conftest import FakeClient, ignore_offscreen_quirks, wait_until

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]
FakeService = tuple[ConsoleService, list[FakeClient]]
HANGZHOU = (120.155, 30.274)
NOW = dt.datetime.now(dt.UTC)
# (lon, lat) corners of a park a few km across, inside the 20 km view.
PARK = [(120.12, 30.25), (120.18, 30.25), (120.18, 30.30), (120.12, 30.30)]


@pytest.fixture
def map_view(qtbot: QtBot) -> Iterator[MapView]:
    view = MapView(VehicleStore(), basemap=False)
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    view.center_on(*HANGZHOU, span_m=20_000)
    yield view
    # The qasync loop of the service tests runs pytest-qt's deleteLater on the view first.
    if shiboken6.isValid(view):
        view.shutdown()


def pixel(view: MapView, lon: float, lat: float) -> QPoint:
    scene = view.view_box.mapViewToScene(QPointF(*to_mercator(lon, lat)))
    point: QPoint = view.canvas.mapFromScene(scene)
    return point


def click(view: MapView, lon: float, lat: float) -> None:
    QTest.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pixel(view, lon, lat))


def tolerance_deg(view: MapView) -> float:
    """Two pixels, in degrees (a click lands on a whole pixel)."""
    return 2 * math.degrees(view.metres_per_pixel() / 6_378_137.0)


def make_tool(view: MapView) -> tuple[GeofenceDrawTool, list[object], list[bool]]:
    tool = GeofenceDrawTool(view, GeofenceLayer(view.geofences.container))
    shapes: list[object] = []
    cancelled: list[bool] = []
    tool.finished.connect(shapes.append)
    tool.cancelled.connect(lambda: cancelled.append(True))
    return tool, shapes, cancelled


def view_of(geofence_id: int, name: str, kind: str, shape: Any, **fields: Any) -> GeofenceView:
    return GeofenceView(
        id=geofence_id,
        version=fields.pop("version", 1),
        name=name,
        kind=kind,  # type: ignore[arg-type]
        shape=shape,
        level=AlarmLevel.ORANGE,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


def test_polygon_drawn_by_clicks_has_the_clicked_coordinates(map_view: MapView) -> None:
    tool, shapes, _ = make_tool(map_view)
    tool.start(DrawMode.POLYGON)
    for lon, lat in PARK:
        click(map_view, lon, lat)
    assert len(tool.points) == 4
    QTest.mouseDClick(
        map_view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pixel(map_view, *PARK[-1])
    )
    assert not tool.drawing
    assert len(shapes) == 1
    shape = shapes[0]
    assert isinstance(shape, PolygonShape)
    assert len(shape.outer) == 4  # the double click adds no point
    tolerance = tolerance_deg(map_view)
    for (lat, lon), (want_lon, want_lat) in zip(shape.outer, PARK, strict=True):
        assert lat == pytest.approx(want_lat, abs=tolerance)
        assert lon == pytest.approx(want_lon, abs=tolerance)


def test_enter_finishes_a_route_and_esc_cancels(map_view: MapView) -> None:
    tool, shapes, cancelled = make_tool(map_view)
    tool.start(DrawMode.ROUTE)
    click(map_view, *PARK[0])
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Return)
    assert tool.drawing  # one point is not a route yet
    click(map_view, *PARK[1])
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Return)
    assert isinstance(shapes[-1], PolylineShape)
    assert len(shapes[-1].points) == 2

    tool.start(DrawMode.POLYGON)
    click(map_view, *PARK[0])
    click(map_view, *PARK[1])
    QTest.keyClick(map_view.canvas, Qt.Key.Key_Escape)
    assert cancelled == [True]
    assert tool.mode is None
    assert tool.points == []
    assert len(shapes) == 1


def test_circle_is_a_centre_and_an_edge_and_a_drag_adds_nothing(map_view: MapView) -> None:
    tool, shapes, _ = make_tool(map_view)
    tool.start(DrawMode.CIRCLE)
    centre, edge = PARK[0], (120.14, 30.25)
    click(map_view, *centre)
    viewport = map_view.canvas.viewport()
    start = pixel(map_view, *PARK[2])
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 30))
    assert len(tool.points) == 1
    click(map_view, *edge)
    assert len(shapes) == 1
    shape = shapes[0]
    assert isinstance(shape, CircleShape)
    expected = ground_distance_m(centre[1], centre[0], edge[1], edge[0])
    assert shape.radius_m == pytest.approx(expected, abs=3 * map_view.metres_per_pixel())


def test_stored_shapes_render_with_names_and_pick_by_click(map_view: MapView) -> None:
    layer = GeofenceLayer(map_view.geofences.container)
    tool = GeofenceDrawTool(map_view, layer)
    picked: list[int] = []
    tool.geofence_clicked.connect(picked.append)
    layer.set_geofences(
        [
            view_of(1, "园区禁行区", "no_go_zone", PolygonShape(outer=[[a, o] for o, a in PARK])),
            view_of(2, "学校限速", "speed_zone", CircleShape(lat=30.2, lon=120.0, radius_m=500.0)),
            view_of(
                3,
                "危化品路线",
                "route_corridor",
                PolylineShape(points=[[30.26, 120.10], [30.26, 120.20]], width_m=300.0),
            ),
        ]
    )
    assert layer.count() == 3
    assert layer.label_of(1) == "园区禁行区"
    click(map_view, 120.13, 30.29)  # inside the park only
    click(map_view, 120.11, 30.2601)  # on the route, west of the park
    assert picked == [1, 3]
    layer.set_geofences([])
    assert layer.count() == 0


def serve_geofences(client: FakeClient, stored: dict[int, GeofenceView]) -> None:
    """Let the fake client answer geofence commands from ``stored``."""
    original = client.request

    async def request(command: Command, timeout: float | None = 30.0) -> ResultData:
        if isinstance(command, ListGeofences):
            client.commands.append(command)
            return GeofencesResult(geofences=list(stored.values()))
        if isinstance(command, SaveGeofence):
            client.commands.append(command)
            geofence_id = command.id or max(stored, default=0) + 1
            view = view_of(
                geofence_id,
                command.name,
                command.kind,
                command.shape,
                version=(command.expected_version or 0) + 1,
                limit_kmh=command.limit_kmh,
                dwell_s=command.dwell_s,
            )
            stored[geofence_id] = view
            return GeofenceResult(geofence=view)
        if isinstance(command, DeleteGeofence):
            client.commands.append(command)
            return GeofenceResult(geofence=stored.pop(command.id), deleted=True)
        return await original(command, timeout)

    client.request = request  # type: ignore[method-assign]


def test_drawn_shape_is_saved_through_the_dialog_and_drawn(
    qtbot: QtBot, map_view: MapView, fake_service: FakeService, run: Run
) -> None:
    service, clients = fake_service
    stored = {7: view_of(7, "旧围栏", "geofence", CircleShape(lat=30.2, lon=120.0, radius_m=300.0))}
    host = QWidget()
    qtbot.addWidget(host)
    editor = GeofenceEditor(service, map_view, host)

    async def scenario() -> None:
        service.start("ws://fake/console", "officer1", "pw")
        serve_geofences(clients[0], stored)
        await wait_until(lambda: service.state is ConnectionState.LIVE, what="live")
        await wait_until(lambda: editor.layer.count() == 1, what="stored geofences")

        editor.actions[DrawMode.POLYGON].trigger()
        assert editor.tool.mode is DrawMode.POLYGON
        for lon, lat in PARK[:3]:
            click(map_view, lon, lat)
        QTest.keyClick(map_view.canvas, Qt.Key.Key_Enter)
        dialog = editor.dialog
        assert isinstance(dialog, GeofenceDialog)
        assert not editor.actions[DrawMode.POLYGON].isChecked()
        assert not dialog.save_button.isEnabled()  # no name yet
        dialog.name_edit.setText("化工园区")
        dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("speed_zone"))
        dialog.limit_spin.setValue(40)
        dialog.dwell_spin.setValue(10)
        dialog.vehicles_edit.setText("13912345678， 13800000000")
        dialog.save_button.click()
        await wait_until(lambda: editor.layer.count() == 2, what="saved geofence drawn")
        await wait_until(lambda: editor.dialog is None, what="dialog closed")

    run(scenario())
    saves = [c for c in clients[0].commands if isinstance(c, SaveGeofence)]
    assert len(saves) == 1
    save = saves[0]
    assert (save.name, save.kind, save.limit_kmh, save.dwell_s) == (
        "化工园区",
        "speed_zone",
        40,
        10,
    )
    assert save.vehicles == ["13912345678", "13800000000"]
    assert save.id is None
    assert isinstance(save.shape, PolygonShape)
    assert len(save.shape.outer) == 3
    assert editor.layer.label_of(8) == "化工园区"

    # A later event from another console updates the layer; a delete event removes it.
    moved = view_of(7, "新围栏", "geofence", CircleShape(lat=30.2, lon=120.0, radius_m=300.0))
    moved = view_of(7, "新围栏", "geofence", moved.shape, version=2)
    editor.apply_event(Event(seq=1, at=NOW, kind="geofence.saved", actor="x", geofence=moved))
    assert editor.layer.label_of(7) == "新围栏"
    editor.apply_event(Event(seq=2, at=NOW, kind="geofence.deleted", actor="x", geofence=moved))
    assert editor.layer.count() == 1


def test_editing_sends_the_expected_version(
    qtbot: QtBot, map_view: MapView, fake_service: FakeService, run: Run
) -> None:
    service, clients = fake_service
    stored = {
        3: view_of(
            3,
            "危化品路线",
            "route_corridor",
            PolylineShape(points=[[30.26, 120.10], [30.26, 120.20]], width_m=300.0),
            version=4,
        )
    }
    host = QWidget()
    qtbot.addWidget(host)
    editor = GeofenceEditor(service, map_view, host)

    async def scenario() -> None:
        service.start("ws://fake/console", "supervisor1", "pw")
        serve_geofences(clients[0], stored)
        await wait_until(lambda: editor.layer.count() == 1, what="stored geofences")
        click(map_view, 120.15, 30.2601)
        dialog = editor.dialog
        assert isinstance(dialog, GeofenceDialog)
        assert dialog.name_edit.text() == "危化品路线"
        assert dialog.width_spin.value() == 300
        dialog.width_spin.setValue(500)
        dialog.save_button.click()
        await wait_until(lambda: editor.dialog is None, what="saved")
        editor.edit(3)
        assert editor.dialog is not None
        assert editor.dialog.delete_button is not None
        editor.dialog.delete_button.click()
        await wait_until(lambda: editor.layer.count() == 0, what="deleted")

    run(scenario())
    save = next(c for c in clients[0].commands if isinstance(c, SaveGeofence))
    assert (save.id, save.expected_version) == (3, 4)
    assert isinstance(save.shape, PolylineShape)
    assert save.shape.width_m == 500
    delete = next(c for c in clients[0].commands if isinstance(c, DeleteGeofence))
    assert (delete.id, delete.expected_version) == (3, 5)
