"""Text from devices, feeds, callers and other desks is shown literally, never as markup.

Every text field a peer can set is filled with markup (``<font size=7 color=red>…``) and
driven through the real console (window, service, model, panels, map, dialogs, video
window). Then the whole window is walked: every label, tooltip, item text, map tip and
drawn text must show each hostile string as it was sent, and only the console's own
labels (an explicit allow-list) may render rich text at all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pyqtgraph as pg
import pytest
import qasync
import shiboken6
from PySide6 import QtGui
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, QSettings, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
    QLabel,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop.dialogs import DispatchDialog, MergeDialog, NoteDialog
from desktop.main_window import MainWindow
from desktop.map.sprites import ClusterItem, SpriteItem
from desktop.plain_text import OWN_MARKUP_PROPERTY
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import CommandError, ConnectionState
from realtime.protocol import (
    CamerasResult,
    CameraView,
    CircleShape,
    Command,
    DevicesResult,
    DeviceView,
    DispatchView,
    ErrorCode,
    Event,
    GeofencesResult,
    GeofenceView,
    Limits,
    ListCameras,
    ListDevices,
    ListGeofences,
    ListSensors,
    ListUnits,
    PositionView,
    ReadingView,
    ResultData,
    Role,
    SensorsResult,
    SensorView,
    Snapshot,
    Subscribe,
    Subscribed,
    Telemetry,
    ThresholdView,
    TransitionAlarm,
    UnitsResult,
    UnitView,
    UserInfo,
    Welcome,
)
from realtime.states import AlarmAction, AlarmLevel, AlarmState
from tests.desktop.conftest import FakeClient, ignore_offscreen_quirks, wait_until
from tests.desktop.factories import T0, make_alarm

NO_RAISE = r"^This plugin does not support raise\(\)$"
"""Offscreen windows cannot be brought to the front (the video window is)."""

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(*ignore_offscreen_quirks.args, NO_RAISE),
]

Run = Callable[..., Any]


def hostile(field: str) -> str:
    """Markup that, rendered, would show only ``⟦field⟧`` in large red letters."""
    return f'<font size=7 color=red>⟦{field}⟧</font><b>&amp;</b><img src="x.png">'


MARKER = re.compile(r"⟦([a-z_]+)⟧")

FIELDS = (
    "alarm_title",
    "alarm_description",
    "alarm_place",
    "caller_name",
    "alarm_note",
    "updated_by",
    "source_ref",
    "dispatch_unit",
    "dispatch_note",
    "event_actor",
    "event_note",
    "device_alarm_title",
    "device_alarm_description",
    "unit_name",
    "camera_name",
    "camera_hazard_source",
    "camera_enterprise",
    "sensor_name",
    "sensor_place",
    "sensor_hazard_source",
    "sensor_enterprise",
    "sensor_unit",
    "threshold_label",
    "vehicle_plate",
    "vehicle_owner",
    "vehicle_alarm",
    "geofence_name",
    "display_name",
)
"""Every text a peer (device, feed, caller, other desk, server) sets that the console shows."""

SENSOR_ID = "h2s-evil"
DEVICE = "013800000099"
LAT, LON = 30.27, 120.16


def hostile_alarms() -> list[Any]:
    manual = make_alarm(
        1,
        level=AlarmLevel.RED,
        state=AlarmState.ACKNOWLEDGED,
        title=hostile("alarm_title"),
        description=hostile("alarm_description"),
        place=hostile("alarm_place"),
        caller_name=hostile("caller_name"),
        caller_phone="13800138000",
        last_note=hostile("alarm_note"),
        updated_by=hostile("updated_by"),
        source_ref=hostile("source_ref"),
        lat=LAT,
        lon=LON,
        dispatches=[
            DispatchView(
                unit_id=1,
                unit_name=hostile("dispatch_unit"),
                agency="fire",
                note=hostile("dispatch_note"),
                by="officer1",
                at=T0,
            )
        ],
    )
    from_device = make_alarm(
        2,
        level=AlarmLevel.ORANGE,
        title=hostile("device_alarm_title"),
        description=hostile("device_alarm_description"),
        source="device",
        source_ref=f"sensor:{SENSOR_ID}",
        alarm_type="sensor_threshold_high",
        first_seen=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        lat=LAT + 0.01,
        lon=LON + 0.01,
    )
    return [manual, from_device]


def hostile_sensor() -> SensorView:
    return SensorView(
        sensor_id=SENSOR_ID,
        kind="h2s",
        unit=hostile("sensor_unit"),
        name=hostile("sensor_name"),
        place=hostile("sensor_place"),
        lat=LAT + 0.01,
        lon=LON + 0.01,
        hazard_source=hostile("sensor_hazard_source"),
        enterprise=hostile("sensor_enterprise"),
        thresholds=[
            ThresholdView(
                level=AlarmLevel.RED,
                direction="high",
                value=20.0,
                restore=15.0,
                label=hostile("threshold_label") + "{value}{0}",  # a format string to pyqtgraph
            )
        ],
    )


def hostile_unit() -> UnitView:
    return UnitView(
        id=1, code="F-EVIL", name=hostile("unit_name"), agency="fire", lat=LAT, lon=LON + 0.02
    )


def hostile_camera() -> CameraView:
    return CameraView(
        id=1,
        code="CAM-EVIL",
        name=hostile("camera_name"),
        lat=LAT,
        lon=LON,
        hazard_source=hostile("camera_hazard_source"),
        enterprise=hostile("camera_enterprise"),
    )


def hostile_device() -> DeviceView:
    return DeviceView(
        id=1,
        kind="jt808",
        identity=DEVICE,
        name="",
        plate=hostile("vehicle_plate"),
        owner=hostile("vehicle_owner"),
        online=True,
    )


def hostile_geofence() -> GeofenceView:
    return GeofenceView(
        id=1,
        version=1,
        name=hostile("geofence_name"),
        kind="no_go_zone",
        shape=CircleShape(lat=LAT, lon=LON, radius_m=500.0),
        level=AlarmLevel.RED,
        vehicles=[],
        created_by="supervisor1",
        created_at=T0,
        updated_by="supervisor1",
        updated_at=T0,
    )


class HostileServer(FakeClient):
    """A fake server whose registries, events and refusals are all hostile text."""

    async def run(self) -> None:
        service = self.service
        service.on_state(ConnectionState.CONNECTING, "fake")
        user = UserInfo(
            username="officer1", display_name=hostile("display_name"), role=Role.OFFICER
        )
        service.on_welcome(
            Welcome(
                protocol=1,
                server_version="test",
                session_token="token",
                user=user,
                head_seq=2,
                limits=Limits(max_message_bytes=1 << 20, rate_per_second=20, rate_burst=60),
            )
        )
        service.on_snapshot(Snapshot(head_seq=2, alarms=hostile_alarms()))
        service.on_state(ConnectionState.LIVE, "")
        await self.closed.wait()

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        self.commands.append(command)
        answers: dict[type[Any], ResultData] = {
            ListSensors: SensorsResult(sensors=[hostile_sensor()]),
            ListUnits: UnitsResult(units=[hostile_unit()]),
            ListCameras: CamerasResult(cameras=[hostile_camera()]),
            ListDevices: DevicesResult(devices=[hostile_device()]),
            ListGeofences: GeofencesResult(geofences=[hostile_geofence()]),
            Subscribe: Subscribed(topics=["positions", "readings"]),
        }
        answer = answers.get(type(command))
        if answer is not None:
            return answer
        if isinstance(command, TransitionAlarm):
            raise CommandError(ErrorCode.VALIDATION, hostile("refusal"))
        return await super().request(command, timeout)


@pytest.fixture
def hostile_window(
    qt_loop: qasync.QEventLoop, qtbot: QtBot, settings: QSettings, run: Run
) -> Iterator[MainWindow]:
    """The console, logged in to :class:`HostileServer`, with everything loaded and shown."""
    clients: list[HostileServer] = []

    def factory(
        _url: str, listener: ConsoleService, _user: str, _password: str, _seq: int | None
    ) -> HostileServer:
        client = HostileServer(listener)
        clients.append(client)
        return client

    service = ConsoleService(client_factory=factory)
    window = MainWindow(service, AlarmSounder(use_audio=False), settings, username="officer1")
    qtbot.addWidget(window)
    window.show()

    async def load() -> None:
        service.start("ws://fake/console", "officer1", "pw")
        await wait_until(lambda: service.state is ConnectionState.LIVE, what="live")
        await wait_until(lambda: bool(window.geofence_editor.geofences), what="geofences")
        await wait_until(lambda: window.vehicle_list.model.rowCount() == 1, what="vehicles")
        await wait_until(lambda: bool(window.camera_directory.cameras), what="cameras")
        now = dt.datetime.now(dt.UTC)
        service.on_telemetry(
            Telemetry(
                positions=[
                    PositionView(
                        device=DEVICE,
                        at=now,
                        lat=LAT,
                        lon=LON,
                        speed_kmh=40.0,
                        alarms=[hostile("vehicle_alarm")],
                    )
                ],
                readings=[
                    ReadingView(device="gw", sensor=SENSOR_ID, at=now, value=12.0, unit="ppm")
                ],
            )
        )
        service.on_event(
            Event(
                seq=3,
                at=now,
                kind="alarm.transitioned",
                actor=hostile("event_actor"),
                action=AlarmAction.START_HANDLING,
                note=hostile("event_note"),
                alarm=hostile_alarms()[0],
            )
        )
        await wait_until(lambda: window.map_view.vehicle_layer.count() == 1, what="vehicle drawn")

    run(load())
    assert window.select_alarm(1)
    # Zoomed in on the vehicle, so that its plate is drawn on the map.
    window.map_view.center_on(LON, LAT, span_m=2_000.0)
    window.trends_panel.add_sensor(SENSOR_ID)
    window.trends_panel.redraw()
    assert window.show_hazard_source(hostile("sensor_hazard_source"))
    window.vehicle_list.select_device(DEVICE)
    window.replay_panel.open_vehicle(DEVICE)
    window.camera_directory.open_video("CAM-EVIL")
    yield window
    if shiboken6.isValid(window):  # pytest-qt may have closed and deleted it already
        window.close()
    run(service.stop())


# ---------------------------------------------------------------------- rendering


def rendered(text: str, text_format: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """What the officer reads: ``text`` as Qt shows it in ``text_format``."""
    rich = text_format == Qt.TextFormat.RichText or (
        text_format == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)
    )
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def model_texts(view: QAbstractItemView) -> Iterator[tuple[str, str]]:
    model: QAbstractItemModel | None = view.model()  # None for a view without a model
    if model is None:
        return

    def walk(parent: QModelIndex | QPersistentModelIndex) -> Iterator[tuple[str, str]]:
        for row in range(model.rowCount(parent)):
            for column in range(64):
                index = model.index(row, column, parent)
                if not index.isValid():
                    break
                where = f"{view.objectName()}[{row},{column}]"
                display = index.data(Qt.ItemDataRole.DisplayRole)
                if isinstance(display, str):
                    yield where, display  # the standard delegate draws plain text
                tip = index.data(Qt.ItemDataRole.ToolTipRole)
                if isinstance(tip, str):
                    yield f"{where} tooltip", rendered(tip)
                if column == 0 and model.index(0, 0, index).isValid():
                    yield from walk(index)

    yield from walk(QModelIndex())


def scene_texts(view: QGraphicsView) -> Iterator[tuple[str, str]]:
    scene: QGraphicsScene | None = view.scene()
    if scene is None:
        return
    for item in scene.items():
        where = f"{view.objectName() or type(view).__name__}:{type(item).__name__}"
        if item.toolTip():
            yield f"{where} tooltip", rendered(item.toolTip())
        if isinstance(item, QGraphicsTextItem):
            yield where, item.toPlainText()
        elif isinstance(item, QGraphicsSimpleTextItem):
            yield where, item.text()
        elif isinstance(item, pg.ScatterPlotItem) and item.opts.get("tip") is not None:
            tip = item.opts["tip"]
            for x, y, data in zip(item.data["x"], item.data["y"], item.data["data"], strict=True):
                yield f"{where} hover", rendered(tip(x=x, y=y, data=data))
        elif isinstance(item, SpriteItem | ClusterItem):
            for index in range(item.point_count):
                yield f"{where} hover", rendered(item.tooltip(index))


def windows(window: MainWindow) -> list[QWidget]:
    """The main window and every window the console opened (dialogs, video)."""
    found: list[QWidget] = [window]
    found += [
        widget
        for widget in QApplication.topLevelWidgets()
        if widget is not window and widget.isVisible() and widget.objectName()
    ]
    return found


def shown_texts(window: MainWindow) -> list[tuple[str, str]]:
    """Every text the console shows, as the officer reads it, with where it is."""
    texts: list[tuple[str, str]] = []
    for top in windows(window):
        for widget in [top, *top.findChildren(QWidget)]:
            where = widget.objectName() or type(widget).__name__
            texts.append((f"{where} title", widget.windowTitle()))
            if widget.toolTip():
                texts.append((f"{where} tooltip", rendered(widget.toolTip())))
            if isinstance(widget, QLabel):
                texts.append((where, rendered(widget.text(), widget.textFormat())))
            if isinstance(widget, QAbstractItemView):
                texts += model_texts(widget)
            if isinstance(widget, QGraphicsView):
                texts += scene_texts(widget)
    return texts


QT_PLAIN_DELEGATES = {"QStyledItemDelegate", "QComboBoxDelegate", "QComboMenuDelegate"}
"""Qt's own delegates (item views, combo box pop-ups): they draw item text as plain text."""


def is_form_caption(label: QLabel) -> bool:
    """A caption QFormLayout made for a field from the console's own (translated) text."""
    return label.buddy() is not None and not MARKER.search(label.text())


def rich_labels(window: MainWindow) -> set[str]:
    return {
        label.objectName()
        for top in windows(window)
        for label in top.findChildren(QLabel)
        if label.textFormat() != Qt.TextFormat.PlainText and not is_form_caption(label)
    }


# ---------------------------------------------------------------------- tests


def test_every_peer_text_is_shown_literally_everywhere(hostile_window: MainWindow) -> None:
    texts = shown_texts(hostile_window)
    for where, text in texts:
        for field in MARKER.findall(text):
            assert hostile(field) in text, f"{field} rendered as markup in {where}: {text!r}"
    shown = {field for _where, text in texts for field in MARKER.findall(text)}
    assert shown == set(FIELDS)


def test_only_the_consoles_own_labels_render_rich_text(hostile_window: MainWindow) -> None:
    allowed = {"detail_header_label", "site_header_label"}
    assert rich_labels(hostile_window) == allowed
    for top in windows(hostile_window):
        for label in top.findChildren(QLabel):
            if label.objectName() in allowed:
                assert label.property(OWN_MARKUP_PROPERTY) is True
    for top in windows(hostile_window):
        for view in top.findChildren(QAbstractItemView):
            # A delegate of our own could draw item text as HTML; Qt's draw plain text.
            delegate: QAbstractItemDelegate | None = view.itemDelegate()
            if delegate is None:  # a header view: the style draws its sections as plain text
                continue
            name = delegate.metaObject().className()
            assert name in QT_PLAIN_DELEGATES, (view.objectName(), name)


def test_the_alarm_detail_shows_each_field_as_sent(hostile_window: MainWindow) -> None:
    pane = hostile_window.detail_pane
    header = pane.header_label
    assert rendered(header.text(), header.textFormat()) == hostile("alarm_title")
    assert header.font().bold() or "<b>" in header.text()  # the console's own emphasis stays
    for key, field in (
        ("place", "alarm_place"),
        ("note", "alarm_note"),
        ("description", "alarm_description"),
    ):
        label = pane.findChild(QLabel, f"detail_{key}_label")
        assert label is not None
        assert label.text() == hostile(field)
        assert label.textFormat() == Qt.TextFormat.PlainText
    assert pane.field_text("caller") == f"{hostile('caller_name')} 13800138000"
    assert hostile("updated_by") in pane.field_text("updated")
    assert hostile("source_ref") in pane.field_text("source")
    tip = hostile_window.queue_proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert rendered(tip) == hostile("alarm_description")


def test_the_site_detail_and_the_status_bar_show_each_field_as_sent(
    hostile_window: MainWindow,
) -> None:
    site = hostile_window.site_detail
    header = site.header_label
    assert rendered(header.text(), header.textFormat()).startswith(hostile("sensor_hazard_source"))
    assert site.enterprise_label.text() == hostile("sensor_enterprise")
    assert site.place_label.text() == hostile("sensor_place")
    assert site.enterprise_label.textFormat() == Qt.TextFormat.PlainText
    user_label = hostile_window.status_panel.user_label
    assert user_label.text().startswith(hostile("display_name"))
    assert user_label.textFormat() == Qt.TextFormat.PlainText
    assert hostile("display_name") in hostile_window.windowTitle()


def test_refusals_and_dialogs_show_the_peers_text_as_sent(
    hostile_window: MainWindow, run: Run
) -> None:
    pane = hostile_window.detail_pane
    for action, dialog_type in (
        (AlarmAction.DISPATCH, DispatchDialog),
        (AlarmAction.MERGE, MergeDialog),
        (AlarmAction.MARK_FALSE, NoteDialog),
    ):

        async def start(chosen: AlarmAction = action) -> None:
            pane.start_action(chosen)
            await asyncio.sleep(0.05)

        run(start())
        dialog = pane.active_dialog
        assert isinstance(dialog, dialog_type)
        if isinstance(dialog, MergeDialog):
            dialog.target_edit.setText("2")
        labels = dialog.findChildren(QLabel)
        assert labels
        assert all(
            label.textFormat() == Qt.TextFormat.PlainText
            for label in labels
            if not is_form_caption(label)
        )
        shown = [label.text() for label in labels]
        expected = hostile("device_alarm_title" if action is AlarmAction.MERGE else "alarm_title")
        assert any(expected in text for text in shown), shown
        if isinstance(dialog, DispatchDialog):
            assert dialog.unit_list.item(0).text().startswith(hostile("unit_name"))
        if isinstance(dialog, NoteDialog):
            dialog.note_edit.setPlainText("误报")

            async def refused(ok: Any = dialog.ok_button) -> None:
                ok.click()
                await wait_until(hostile_window.notification_bar.isVisible, what="refusal")

            run(refused())
        else:
            dialog.reject()
    message = hostile_window.notification_bar.message_label
    assert message.textFormat() == Qt.TextFormat.PlainText
    assert message.text().endswith(f"({hostile('refusal')})")
