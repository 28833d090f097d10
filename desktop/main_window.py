"""The duty officer's main window: alarm queue, map, detail pane, event log, status bar.

The window is layout: dockable, remembering its layout per user (QSettings), and wiring.
What the console knows lives in a plain :class:`~desktop.console_model.ConsoleModel`
(stores and post-login loads); commands go through the
:class:`~desktop.service.ConsoleService`. The window never touches the network itself.
Its menus and toolbars are made by :mod:`desktop.window_actions`; the phone-report form
is kept by :class:`~desktop.alarm_entry.ManualAlarmEntry`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QItemSelection, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.alarm_entry import ManualAlarmDialog, ManualAlarmEntry, ManualAlarmInput
from desktop.alarm_model import AlarmQueueProxy, AlarmTableModel
from desktop.alarm_queue import AlarmQueueView
from desktop.assessment import AssessmentAction
from desktop.attention.window import WindowAttention
from desktop.console_model import (
    ConsoleModel,
    LoadFailure,
    Registry,
    may_act,
    may_enter_alarms,
)
from desktop.control_room import ControlRoomLayout, contain_docks, layout_group
from desktop.dangers.window import WindowDangers
from desktop.data_age import DataHeartbeat
from desktop.detail_pane import AlarmDetailPane
from desktop.early_warning.window import WindowWarnings
from desktop.event_backfill import EventLogPane
from desktop.event_log import EventLogView
from desktop.geofence_editor import GeofenceEditor
from desktop.handover import ShiftActions
from desktop.i18n import LANGUAGE_KEY
from desktop.incidents.report_actions import GridReportActions
from desktop.incidents.window import WindowIncidents
from desktop.map.layers import LayerKey
from desktop.map.overlays import (
    hazard_points,
    jurisdiction_shapes,
    track_extent,
    track_shape,
    unit_points,
)
from desktop.map.registry_layers import MapPoint
from desktop.map.roads import RoadLoader, when_loop_runs
from desktop.map.view import MapView
from desktop.publishing.actions import PublishingActions
from desktop.registry.window import WindowRegistry
from desktop.service import CommandFailure, CommandSuccess, ConsoleService, Operation
from desktop.site_detail import SiteDetailPane
from desktop.sounder import AlarmSounder
from desktop.state import StoreChange, utc_now
from desktop.status import DisconnectedBanner, NotificationBar, StatusPanel
from desktop.trends.panel import TrendsPanel
from desktop.urgent import UrgentDetail
from desktop.vehicles.list_panel import VehicleListPanel
from desktop.vehicles.replay import TrackReplayPanel
from desktop.vehicles.track import TrackData
from desktop.video.cameras import CameraDirectory
from desktop.wall import WallMode
from desktop.window_actions import AlarmCameraAction, add_geofence_actions, add_main_actions
from realtime.client import ConnectionState
from realtime.protocol import (
    CreateAlarm,
    PositionView,
    Role,
    SensorView,
    UnitView,
    UserInfo,
    Welcome,
)

logger = logging.getLogger(__name__)

TICK_MS = 1000
"""The age column and the data age are redrawn this often."""
LAYOUT_VERSION = 8
"""Bump when the docks change so old saved layouts are ignored."""
ALARM_VIEW_SPAN_M = 20_000.0
"""Widest map view (metres across) when centring on a selected alarm (or a team)."""


class MainWindow(QMainWindow):
    """The console's main window for one logged-in user."""

    closed = Signal()
    """The officer closed the window."""

    def __init__(
        self,
        service: ConsoleService,
        sounder: AlarmSounder,
        settings: QSettings,
        *,
        username: str,
        server: str = "",
        wall: bool = False,
        model: ConsoleModel | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.setWindowTitle(self.tr("DutyDesk – duty console"))
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self._service = service
        self._sounder = sounder
        self._settings = settings
        self._username = username
        self._server = server
        self._clock = clock
        """The clock of what the window shows (a drill's exercise clock); None: the wall's."""
        if model is None:
            model = ConsoleModel(service, service.store, clock=clock or utc_now)
        self.model = model
        """The plain stores this window shows (alarms, vehicles, registries)."""
        if self.model.alarms is not service.store:
            raise ValueError("the model must hold the alarm store the service applies to")
        self.alarm_entry = ManualAlarmEntry(service, self)
        """The phone-report form (接警录入)."""

        # queue (central)
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(4, 4, 4, 4)
        self.banner = DisconnectedBanner(service, central)
        central_layout.addWidget(self.banner)
        self.notification_bar = NotificationBar(central)
        central_layout.addWidget(self.notification_bar)
        self.alarm_model = AlarmTableModel(self.model.alarms, clock=clock or utc_now, parent=self)
        self.queue_proxy = AlarmQueueProxy(self)
        self.queue_proxy.setSourceModel(self.alarm_model)
        self.queue_view = AlarmQueueView(self.alarm_model, self.queue_proxy, central)
        central_layout.addWidget(self.queue_view, 1)
        self.setCentralWidget(central)
        self.queue_view.selectionModel().selectionChanged.connect(self._on_selection_changed)

        # docks
        self.vehicle_store = self.model.vehicles
        self.map_view = MapView(self.vehicle_store, self.model.alarms, parent=self)
        self.map_dock = self._add_dock(
            "map_dock", self.tr("Map"), self.map_view, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        # The road layer, fetched for the view as the map moves (desktop.map.roads).
        self.road_loader = RoadLoader(
            self.map_view.roads,
            lambda: (*self.map_view.view_extent(), self.map_view.metres_per_pixel()),
            when_loop_runs(service.query),
            self,
        )
        self.map_view.view_changed.connect(self.road_loader.view_changed)
        service.welcomed.connect(self.road_loader.new_session)
        self.detail_pane = AlarmDetailPane(service, self)
        self.detail_dock = self._add_dock(
            "alarm_detail_dock",
            self.tr("Alarm detail"),
            self.detail_pane,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        self.event_log = EventLogView(self)
        # The log fills with the shift's events at login (desktop/event_backfill.py).
        self.event_log_pane = EventLogPane(service, self.event_log, self)
        self.event_log_dock = self._add_dock(
            "event_log_dock",
            self.tr("Event log"),
            self.event_log_pane,
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )

        self.trends_panel = TrendsPanel(service, self.model.alarms, self)
        self.trends_dock = self._add_dock(
            "trends_dock",
            self.tr("Sensor trends"),
            self.trends_panel,
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.vehicle_roster = self.model.roster
        self.vehicle_list = VehicleListPanel(service, self.vehicle_roster, self)
        self.vehicle_list_dock = self._add_dock(
            "vehicle_list_dock",
            self.tr("Vehicles"),
            self.vehicle_list,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        self.replay_panel = TrackReplayPanel(service, self.vehicle_roster, self)
        self.replay_dock = self._add_dock(
            "track_replay_dock",
            self.tr("Track replay"),
            self.replay_panel,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        # Live values of every sensor, for the detail of a hazard source clicked on the map.
        self.latest_readings = self.model.latest_readings
        self.site_detail = SiteDetailPane(self.model.alarms, self.latest_readings, self)
        self.site_detail_dock = self._add_dock(
            "site_detail_dock",
            self.tr("Site detail"),
            self.site_detail,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        self._add_incidents(service, sounder)
        self.registry = WindowRegistry(
            self, service, map_view=self.map_view, map_dock=self.map_dock, notify=self._notify
        )
        self.registry.use_catalogue(
            self.incident_desk.catalogue, self.incident_desk.catalogue_changed
        )
        self.model.agencies_changed.connect(self.registry.set_agencies)
        # The 预警 dock, its menu and the open-warning count in the status bar.
        self.warnings = WindowWarnings(
            self,
            service,
            model=self.model,
            show_trends=self.show_sensor_trends,
            notify=self._notify,
        )
        self.tabifyDockWidget(self.event_log_dock, self.trends_dock)
        self.tabifyDockWidget(self.trends_dock, self.registry.dock)
        self.tabifyDockWidget(self.registry.dock, self.warnings.dock)
        self.tabifyDockWidget(self.detail_dock, self.site_detail_dock)
        self.tabifyDockWidget(self.site_detail_dock, self.vehicle_list_dock)
        self.tabifyDockWidget(self.vehicle_list_dock, self.replay_dock)
        self.tabifyDockWidget(self.replay_dock, self.incidents_dock)
        self.detail_dock.raise_()
        self.event_log_dock.raise_()

        # No dock's content may push the window past the screen.
        contain_docks(self, unscrolled=self.map_dock)
        self.control_room = ControlRoomLayout(
            self, map_dock=self.map_dock, detail_dock=self.detail_dock, log_dock=self.event_log_dock
        )
        """The default proportions (queue and map first) and the window's screen bounds."""
        self.control_room.apply_proportions()
        self.status_panel = StatusPanel(service, self.statusBar())
        self.data_heartbeat = DataHeartbeat(service, self)
        main_actions = add_main_actions(
            self,
            sounder=sounder,
            settings=settings,
            docks=(
                self.map_dock,
                self.detail_dock,
                self.site_detail_dock,
                self.event_log_dock,
                self.trends_dock,
                self.vehicle_list_dock,
                self.replay_dock,
                self.incidents_dock,
                self.registry.dock,
            ),
            new_alarm=self.open_entry_dialog,
            reset_layout=self.reset_layout,
            set_language=self.set_language,
        )
        self.new_alarm_action = main_actions.new_alarm
        self.mute_action = main_actions.mute
        self.geofence_editor = GeofenceEditor(service, self.map_view, self)
        # The Shift menu: "Shift handover…" (交接班…) and "Duty roster" (值班表).
        self.shift_actions = ShiftActions(self, service)
        self.geofence_editor.message.connect(
            lambda text, error: self.notification_bar.show_message(text, error=error)
        )
        add_geofence_actions(self, self.geofence_editor.actions.values())
        self.camera_directory = CameraDirectory(self.map_view, self)
        self.camera_directory.message.connect(
            lambda text, error: self.notification_bar.show_message(text, error=error)
        )
        self._alarm_camera = AlarmCameraAction(
            self, self.camera_directory, self._selected_alarm_place
        )
        self.alarm_camera_action = self._alarm_camera.action

        service.alarm_changed.connect(self._on_alarm_changed)
        service.connection_changed.connect(self._on_connection_changed)
        service.command_failed.connect(self._on_command_failed)
        service.command_succeeded.connect(self._on_command_succeeded)
        service.event_received.connect(self.event_log.add_event)
        service.event_received.connect(self.model.apply_event)
        service.welcomed.connect(self.model.on_welcome)
        service.units_listed.connect(self.model.set_units)
        service.telemetry_received.connect(self.model.apply_telemetry)
        service.telemetry_received.connect(self.trends_panel.apply_telemetry)
        self.model.welcomed.connect(self._on_welcome)
        self.model.units_changed.connect(self._show_units)
        self.model.sensors_changed.connect(self._show_sensors)
        self.model.cameras_changed.connect(self.camera_directory.set_cameras)
        self.model.agencies_changed.connect(
            lambda agencies: texts.set_agency_names({a.code: a.name_zh for a in agencies})
        )
        self.model.load_failed.connect(self._on_load_failed)
        # The trends panel's own reload (its button) updates the model too.
        self.trends_panel.sensors_loaded.connect(self.model.set_sensors)
        self.map_view.alarm_clicked.connect(self.select_alarm)
        self.map_view.point_clicked.connect(self._on_map_point_clicked)
        self.map_view.vehicle_clicked.connect(self.show_vehicle)
        self.site_detail.trends_requested.connect(self.show_sensor_trends)
        self.site_detail.centre_requested.connect(self.centre_map_on)
        self.site_detail.alarm_requested.connect(self.select_alarm)
        self.vehicle_list.follow_requested.connect(self.follow_vehicle)
        self.vehicle_list.replay_requested.connect(self._open_replay)
        self.replay_panel.track_shown.connect(self._show_track_on_map)
        self.replay_panel.position_changed.connect(self._show_replay_position)

        # Hidden dangers (隐患): the board's dock and menu; an enterprise's workplace.
        self.dangers = WindowDangers(
            self, service, keep=(self.banner, self.notification_bar), notify=self._notify
        )
        self.assessment = AssessmentAction(self, service)
        # The Grid menu: "Report an event…" (事件上报…) and "My reports" (我的上报).
        self.grid_reports = GridReportActions(
            self, service, self.incident_desk.catalogue, self.map_view
        )

        # The Publishing menu: 信息发布… and 收到的通知.
        self.publishing = PublishingActions(self, service)
        # Sounds repeated until acknowledged, flashing rows, tray, quick filter, shortcuts.
        self.attention = WindowAttention(self, sounder)

        self._tick_timer = QTimer(self)
        self._tick_timer.setInterval(TICK_MS)
        self._tick_timer.timeout.connect(self._tick)
        self._tick_timer.start()
        # With nothing selected, the detail shows the most urgent unacknowledged alarm.
        self.urgent_detail = UrgentDetail(
            service, self.model.alarms, self.queue_view, self.detail_pane
        )
        self._default_state = self.saveState(LAYOUT_VERSION)
        self.wall: WallMode | None = None
        """The wall display's mode (``--wall``), if on: map, queue, counters, no editing."""
        if wall:
            self.wall = WallMode(
                self,
                service,
                self.model.alarms,
                map_dock=self.map_dock,
                queue_view=self.queue_view,
                central_layout=central_layout,
                control_room=self.control_room,
            )
        else:
            self.restore_layout()
        self._on_connection_changed(service.state, service.state_detail)

    # ------------------------------------------------------------------ building

    def _add_dock(
        self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _add_incidents(self, service: ConsoleService, sounder: AlarmSounder) -> None:
        """The incidents dock, the alarm's 立案/并案 buttons and the task badge."""
        self.incidents = WindowIncidents(
            self,
            service,
            sounder,
            alarms=self.model.alarms,
            detail_pane=self.detail_pane,
            map_view=self.map_view,
            map_dock=self.map_dock,
            notify=lambda text, error: self.notification_bar.show_message(text, error=error),
            clock=self._clock,
        )
        self.incidents_dock = self.incidents.dock
        self.incidents_panel = self.incidents.panel
        self.incident_desk = self.incidents.desk
        self.task_badge = self.incidents.badge
        self.model.agencies_changed.connect(self.incidents.set_agencies)

    def _notify(self, text: str, error: bool) -> None:
        self.notification_bar.show_message(text, error=error)

    def accept_welcome(self, welcome: Welcome) -> None:
        """Take a login announced before this window existed (the login dialog opens the
        window from the welcome itself): the post-login loads, the role's controls."""
        self.incident_desk.on_welcome(welcome)
        self.model.on_welcome(welcome)
        # The map's roads too: without this, a window opened from the welcome (after the
        # login dialog, a drill window) showed no road until the next reconnect.
        self.road_loader.new_session()

    def open_first_incident(self) -> bool:
        """Open the first incident in the workspace (before a screenshot of it)."""
        return self.incidents.open_first_incident()

    def _selected_alarm_place(self) -> tuple[float, float] | None:
        alarm_id = self.queue_view.selected_alarm_id()
        alarm = self.model.alarms.get(alarm_id) if alarm_id is not None else None
        if alarm is None or alarm.lat is None or alarm.lon is None:
            return None
        return alarm.lat, alarm.lon

    def watch_alarm_camera(self) -> bool:
        """Open the video of the camera nearest the selected alarm (within 2 km)."""
        return self._alarm_camera.watch()

    # ------------------------------------------------------------------ layout

    def _layout_key(self, what: str) -> str:
        # Per server and user: one officer's layout never lands on another's console.
        return f"{layout_group(self._server, self._username)}/{what}"

    def restore_layout(self) -> None:
        """Restore this user's saved window geometry and dock layout, if any."""
        geometry = self._settings.value(self._layout_key("geometry"))
        state = self._settings.value(self._layout_key("state"))
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            if self.restoreState(state, LAYOUT_VERSION):
                self.control_room.restored = True
            else:
                logger.info("ignoring a saved layout of another version")

    def save_layout(self) -> None:
        """Save this user's window geometry and dock layout (not the wall display's)."""
        if self.wall is not None:
            return
        self._settings.setValue(self._layout_key("geometry"), self.saveGeometry())
        self._settings.setValue(self._layout_key("state"), self.saveState(LAYOUT_VERSION))
        self._settings.sync()

    def reset_layout(self) -> None:
        """Put every dock back where it started."""
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in (self.map_dock, self.detail_dock, self.event_log_dock):
            dock.show()
        for dock in (self.trends_dock, self.vehicle_list_dock, self.replay_dock):
            dock.show()
        self.site_detail_dock.show()
        self.incidents_dock.show()
        self.registry.dock.show()
        self.detail_dock.raise_()
        self.event_log_dock.raise_()
        self.control_room.apply_proportions()

    def set_language(self, code: str) -> None:
        """Remember the language; it applies from the next start."""
        self._settings.setValue(LANGUAGE_KEY, code)
        self._settings.sync()
        self.notification_bar.show_message(
            self.tr("The language changes the next time DutyDesk starts."), error=False
        )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Save the layout and tell the application the officer is done."""
        self._tick_timer.stop()
        self.attention.shutdown()
        self.model.close()
        self.map_view.shutdown()
        self.trends_panel.shutdown()
        self.warnings.panel.shutdown()
        self.site_detail.shutdown()
        self.vehicle_list.shutdown()
        self.replay_panel.shutdown()
        self.camera_directory.close_all()
        self.save_layout()
        super().closeEvent(event)
        self.closed.emit()

    # ------------------------------------------------------------------ queue

    def select_alarm(self, alarm_id: int) -> bool:
        """Select an alarm in the queue (and show it in the detail pane)."""
        return self.queue_view.select_alarm(alarm_id)

    def queue_alarm_ids(self) -> list[int]:
        """The alarm ids in the order the queue shows them."""
        return self.queue_view.alarm_ids()

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        alarm_id = self.queue_view.selected_alarm_id()
        self.detail_pane.show_alarm(alarm_id)
        self.incidents.set_alarm(self.model.alarms.get(alarm_id) if alarm_id is not None else None)
        self._alarm_camera.update()
        if alarm_id is not None:
            self._bring_context(alarm_id)

    def _bring_context(self, alarm_id: int) -> None:
        """Show what an officer needs next to a selected alarm: where it is, and for a
        sensor's alarm the trend that led there."""
        alarm = self.model.alarms.get(alarm_id)
        if alarm is None:
            return
        if alarm.lat is not None and alarm.lon is not None:
            west, _south, east, _north = self.map_view.view_extent()
            # Keep the officer's zoom, but never leave them looking at a whole province.
            self.map_view.center_on(
                alarm.lon, alarm.lat, span_m=min(east - west, ALARM_VIEW_SPAN_M)
            )
        self.show_sensor_trend(alarm_id)

    def _tick(self) -> None:
        self.alarm_model.refresh_ages()
        self.status_panel.refresh()
        self.incidents.tick()
        if self.site_detail.isVisible():
            self.site_detail.refresh_readings()
        if self.banner.isVisible():
            self.banner.refresh()

    # ------------------------------------------------------------------ service

    def _on_alarm_changed(self, change: StoreChange) -> None:
        if change.alarm is not None and change.alarm.id == self.queue_view.selected_alarm_id():
            self.incidents.set_alarm(change.alarm)

    def _on_connection_changed(self, _state: ConnectionState, _detail: str) -> None:
        stale = self._service.cut_off
        self.alarm_model.set_stale(stale)
        self.detail_pane.set_stale(stale)
        self.site_detail.set_stale(stale)
        self.banner.refresh()

    def follow_vehicle(self, device: str) -> None:
        """Centre the map on ``device``'s newest position (from the vehicle list)."""
        position = self.vehicle_roster.position(device)
        if position is not None:
            self.map_dock.show()
            self.map_view.center_on(position.lon, position.lat)

    def _show_track_on_map(self, device: str, positions: TrackData) -> None:
        """Draw a replayed track on the map and frame it (the replay starts at its first fix)."""
        if len(positions) < 2:
            self.map_view.track.set_shapes([])
            self.map_view.track_marker.set_points([])
            return
        self._show_replay_position(positions[0])
        self.map_view.track.set_shapes(
            [track_shape(device, positions, self.vehicle_roster.label(device))]
        )
        self.map_view.zoom_to_extent(*track_extent(positions))

    def _show_replay_position(self, position: PositionView) -> None:
        self.map_view.track_marker.set_points(
            [MapPoint(id=position.device, lon=position.lon, lat=position.lat)]
        )

    def show_vehicle(self, device: str) -> bool:
        """Show a vehicle (clicked on the map) in the vehicle list, with its details."""
        if not self.vehicle_list.select_device(device):
            return False
        self.vehicle_list_dock.show()
        self.vehicle_list_dock.raise_()
        return True

    def show_sensor_trend(self, alarm_id: int) -> bool:
        """Open the trend of the sensor behind an alarm, ±30 min around it."""
        alarm = self.model.alarms.get(alarm_id)
        if alarm is None or not self.trends_panel.show_sensor_for_alarm(alarm):
            return False
        self.trends_dock.show()
        self.trends_dock.raise_()
        return True

    def show_sensor_trends(self, sensor_ids: list[str]) -> bool:
        """Open the live trends of ``sensor_ids`` (a hazard source's sensors)."""
        if not self.trends_panel.show_sensors(sensor_ids):
            return False
        self.trends_dock.show()
        self.trends_dock.raise_()
        return True

    def centre_map_on(self, lon: float, lat: float) -> None:
        """Show the map centred on a point, no wider than a town (a team's base, say)."""
        self.map_dock.show()
        self.map_dock.raise_()
        west, _south, east, _north = self.map_view.view_extent()
        self.map_view.center_on(lon, lat, span_m=min(east - west, ALARM_VIEW_SPAN_M))

    def show_hazard_source(self, name: str) -> bool:
        """Show a hazard source (clicked on the map) in the site detail."""
        return self._raise_site_detail(self.site_detail.show_hazard_source(name))

    def show_unit(self, code: str) -> bool:
        """Show a team (clicked on the map) in the site detail."""
        return self._raise_site_detail(self.site_detail.show_unit(code))

    def _raise_site_detail(self, shown: bool) -> bool:
        if shown:
            self.site_detail_dock.show()
            self.site_detail_dock.raise_()
        return shown

    def _on_map_point_clicked(self, layer: str, object_id: str) -> None:
        # Cameras open their video through the camera directory, not here.
        if layer == LayerKey.HAZARDS:
            self.show_hazard_source(object_id)
        elif layer == LayerKey.TEAMS:
            self.show_unit(object_id)

    def _open_replay(self, device: str) -> None:
        self.replay_panel.open_vehicle(device)
        self.replay_dock.show()
        self.replay_dock.raise_()

    def _show_units(self, units: list[UnitView]) -> None:
        """Put the dispatchable units on the map where they are based."""
        self.map_view.teams.set_points(unit_points(units))
        self.site_detail.set_units(units)

    def _show_sensors(self, sensors: list[SensorView]) -> None:
        """Put each major hazard source (or mine) on the map where its sensors are."""
        if self.trends_panel.sensors != self.model.sensors:
            self.trends_panel.set_sensors(sensors)
        self.map_view.hazards.set_points(hazard_points(self.model.hazard_sources))
        self.site_detail.set_hazard_sources(self.model.hazard_sources)

    def _on_welcome(self, user: UserInfo) -> None:
        self.dangers.on_welcome(user)
        self.show_jurisdiction(user.jurisdiction)
        self.incidents.on_welcome(user)
        # Courtesy only: the server decides. Read-only roles act on nothing; geofences
        # are kept by whole-area users.
        self.detail_pane.set_read_only(not may_act(user))
        self.new_alarm_action.setEnabled(may_enter_alarms(user))
        for action in self.geofence_editor.actions.values():
            action.setEnabled(may_act(user) and user.role != Role.AGENCY and not user.jurisdiction)
        self.setWindowTitle(
            self.tr("DutyDesk – duty console – {user}").format(
                user=user.display_name or user.username
            )
        )

    def show_jurisdiction(self, code: str) -> None:
        """Outline an area of responsibility (辖区) on the map; nothing for the whole area."""
        self.map_view.jurisdictions.set_shapes(jurisdiction_shapes(code))

    def _on_load_failed(self, failure: LoadFailure) -> None:
        if failure.registry is Registry.SENSORS:
            self.trends_panel.show_query_error(failure.code, failure.message)
        elif failure.registry is Registry.DEVICES:
            self.vehicle_list.show_query_error(failure.code, failure.message)
        else:
            self.camera_directory.show_load_error(failure.code, failure.message)

    def _on_command_failed(self, failure: CommandFailure) -> None:
        summary = texts.error_summary(failure.code)
        subject = (
            self.tr("Alarm {alarm_id}: ").format(alarm_id=failure.alarm_id)
            if failure.alarm_id is not None
            else ""
        )
        self.notification_bar.show_message(f"{subject}{summary} ({failure.message})", error=True)
        if failure.operation is Operation.CREATE_ALARM and isinstance(failure.command, CreateAlarm):
            self.alarm_entry.reopen(failure.command, f"{summary} ({failure.message})")

    def _on_command_succeeded(self, success: CommandSuccess) -> None:
        if success.operation is Operation.LIST_UNITS:
            return
        if success.operation is Operation.CREATE_ALARM and success.alarm is not None:
            text = self.tr("Alarm {alarm_id} entered.").format(alarm_id=success.alarm.id)
        elif success.alarm is not None and success.action is not None:
            text = self.tr("Alarm {alarm_id}: {action} done.").format(
                alarm_id=success.alarm.id, action=texts.action_label(success.action).rstrip("…")
            )
        else:
            return
        self.notification_bar.show_message(text, error=False)

    # ------------------------------------------------------------------ entry

    @property
    def entry_dialog(self) -> ManualAlarmDialog | None:
        """The open phone-report form, if any."""
        return self.alarm_entry.dialog

    def open_entry_dialog(self, form: ManualAlarmInput | None = None) -> ManualAlarmDialog:
        """Open the phone-report form (filled with ``form`` if given) and return it."""
        return self.alarm_entry.open(form)
