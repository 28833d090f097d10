"""The incidents part of the main window: the 事件与任务 dock, the alarm detail pane's
立案/并案/事件 buttons, the status bar's task badge, and the incident's alarms on the map.

Kept out of :mod:`desktop.main_window` so the window stays layout and wiring.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from desktop.detail_pane import AlarmDetailPane
from desktop.incidents.badge import TaskBadge
from desktop.incidents.desk import IncidentDesk
from desktop.incidents.panel import AlarmIncidentActions, IncidentsPanel, incident_ring
from desktop.incidents.state import IncidentBoard, inbox_first
from desktop.map.decision_rings import DecisionRingsLayer
from desktop.map.layers import LayerKey
from desktop.map.view import MapView
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from desktop.state import AlarmStore
from realtime.protocol import AgencyView, AlarmView, DecisionSupport, UserInfo

RING_VIEW_MARGIN = 2.4
"""The map shows this many times the outer ring's radius across."""


class WindowIncidents(QObject):
    """Builds and wires the window's incident views; the window calls :meth:`tick`."""

    def __init__(
        self,
        window: QMainWindow,
        service: ConsoleService,
        sounder: AlarmSounder,
        *,
        alarms: AlarmStore,
        detail_pane: AlarmDetailPane,
        map_view: MapView,
        map_dock: QDockWidget,
        notify: Callable[[str, bool], None],
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__(window)
        self._alarms = alarms
        self._map_view = map_view
        self._map_dock = map_dock
        # A drill console's deadlines and countdowns run on the exercise clock.
        board = IncidentBoard(clock) if clock is not None else None
        self.desk = IncidentDesk(service, board, parent=self)
        self.panel = IncidentsPanel(self.desk, window)
        self.dock = QDockWidget(
            QCoreApplication.translate("MainWindow", "Incidents and tasks"), window
        )
        self.dock.setObjectName("incidents_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.alarm_actions = AlarmIncidentActions(self.desk, detail_pane)
        for button in (
            self.alarm_actions.raise_button,
            self.alarm_actions.attach_button,
            self.alarm_actions.open_button,
        ):
            detail_pane.extra_buttons.add_button(button)
        self.badge = TaskBadge(self.desk.board, sounder, window.statusBar())
        window.statusBar().addPermanentWidget(self.badge)

        self.alarm_actions.open_requested.connect(self.open_incident)
        self.badge.open_requested.connect(self.show_task_list)
        self.desk.message.connect(notify)
        self.desk.opened.connect(lambda _incident_id: self.show())
        self.panel.workspace.map_focus_requested.connect(self.focus_alarms)
        self.decision_rings = map_view.add_layer(DecisionRingsLayer(map_view.view_box.childGroup))
        decision = self.panel.workspace.decision_pane
        decision.map_requested.connect(self.show_rings)
        decision.answered.connect(self._follow_answer)

    def set_agencies(self, agencies: list[AgencyView]) -> None:
        """Take the agencies' names (for sending tasks)."""
        self.panel.workspace.set_agencies(agencies)

    def on_welcome(self, user: UserInfo) -> None:
        """Arrange the tabs for this user; inbox-first desks see the dock at once."""
        self.panel.arrange_for(user)
        if inbox_first(user):
            self.show()

    def set_alarm(self, alarm: AlarmView | None) -> None:
        """The alarm selected in the queue (for 立案/并案)."""
        self.alarm_actions.set_alarm(alarm)

    def tick(self) -> None:
        """Redraw the countdowns and the badge (every second: deadlines pass)."""
        self.badge.refresh()
        self.panel.tick()

    def show(self) -> None:
        """Bring the incidents dock to the front."""
        self.dock.show()
        self.dock.raise_()

    def show_task_list(self) -> None:
        """Show the task inbox (the badge's click)."""
        self.show()
        self.panel.show_task_list()

    def open_incident(self, incident_id: int) -> None:
        """Open an incident in the workspace."""
        self.show()
        self.panel.open_incident(incident_id)

    def open_first_incident(self) -> bool:
        """Open the first incident of the list in the workspace and ring its alarms."""
        incidents = self.desk.board.open_incidents()
        if not incidents:
            return False
        self.open_incident(incidents[0].id)
        self.focus_alarms(list(incidents[0].alarm_ids))
        return True

    def focus_alarms(self, alarm_ids: list[int]) -> None:
        """Ring these alarms on the map and zoom to them (an incident's alarms)."""
        points, extent = incident_ring(self._alarms.get(alarm_id) for alarm_id in alarm_ids)
        self._map_view.incident_marker.set_points(points)
        if extent is not None:
            self._map_dock.show()
            self._map_dock.raise_()
            self._map_view.zoom_to_extent(*extent)

    def show_rings(self, answer: DecisionSupport, *, centre: bool = True) -> None:
        """Draw decision support's rings around the incident; centre the map on them."""
        self.decision_rings.show_rings(answer.lat, answer.lon, answer.rings)
        if centre and answer.rings:
            # Asked for on the map: shown even if the officer had hidden the layer.
            self._map_view.set_layer_visible(LayerKey.DECISION_RINGS, True)
            outer = max(ring.radius_m for ring in answer.rings)
            self._map_dock.show()
            self._map_dock.raise_()
            # Mercator metres are ground metres stretched by 1/cos(latitude).
            stretch = 1 / max(math.cos(math.radians(answer.lat)), 0.01)
            self._map_view.center_on(
                answer.lon, answer.lat, span_m=outer * RING_VIEW_MARGIN * stretch
            )

    def _follow_answer(self, answer: DecisionSupport) -> None:
        """Redraw rings already shown when a new answer comes (another spill size…)."""
        if self.decision_rings.circles:
            self.show_rings(answer, centre=False)
