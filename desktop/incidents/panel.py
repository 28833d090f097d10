"""The "事件与任务" dock: the incident list, the task inbox and the incident workspace as
tabs, and the alarm detail pane's 立案 / 并案 buttons.

Agency desks and village or town officers see the inbox first; the command centre the
incident list (:func:`~desktop.incidents.state.inbox_first`).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QPushButton, QTabWidget, QWidget

from desktop.console_model import FRAME_MARGIN_DEG, Extent
from desktop.incidents.desk import IncidentDesk
from desktop.incidents.dialogs import AttachAlarmDialog, NewIncidentDialog, OpenIncidentDialog
from desktop.incidents.lists import IncidentList, TaskInbox
from desktop.incidents.state import commands_incidents, inbox_first
from desktop.incidents.workspace import IncidentWorkspace
from desktop.map.registry_layers import MapPoint
from realtime.incident_states import INCIDENT_FINAL_STATES
from realtime.protocol import AlarmView, IncidentView, UserInfo
from realtime.states import is_open


def incident_ring(
    alarms: Iterable[AlarmView | None],
) -> tuple[list[MapPoint], Extent | None]:
    """The map points of an incident's alarms (those placed) and the extent that frames
    them with a margin (None when none is placed)."""
    points = [
        MapPoint(id=str(alarm.id), lon=alarm.lon, lat=alarm.lat, label=alarm.title)
        for alarm in alarms
        if alarm is not None and alarm.lon is not None and alarm.lat is not None
    ]
    if not points:
        return points, None
    lons = [point.lon for point in points]
    lats = [point.lat for point in points]
    margin = FRAME_MARGIN_DEG
    return points, (min(lons) - margin, min(lats) - margin, max(lons) + margin, max(lats) + margin)


class IncidentsPanel(QTabWidget):
    """The incident list, the task inbox and the workspace, as tabs."""

    def __init__(self, desk: IncidentDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("incidents_panel")
        self.desk = desk
        self.incident_list = IncidentList(desk.board, self)
        self.inbox = TaskInbox(desk.board, self)
        self.workspace = IncidentWorkspace(desk, self)
        self.addTab(self.incident_list, self.tr("Incidents"))
        self.addTab(self.inbox, self.tr("Tasks"))
        self.addTab(self.workspace, self.tr("Workspace"))
        self.incident_list.open_requested.connect(self.open_incident)
        self.inbox.open_requested.connect(self.open_incident)
        desk.opened.connect(self.open_incident)
        # 立案 without an alarm (a report by telephone, a leader's instruction).
        self.new_button = QPushButton(self.tr("New incident…"), self)
        self.new_button.setObjectName("new_incident_button")
        self.new_button.setEnabled(False)
        self.new_button.clicked.connect(self.start_new)
        self.setCornerWidget(self.new_button)
        self.new_dialog: NewIncidentDialog | None = None

    def start_new(self) -> NewIncidentDialog:
        """Ask for the new incident's title, type, place and level, then open it."""
        if self.new_dialog is not None:
            self.new_dialog.reject()
        dialog = NewIncidentDialog(self.desk.catalogue, self)
        self.new_dialog = dialog

        def accepted() -> None:
            self.desk.open_incident(
                alarm_id=None,
                title=dialog.title_edit.text().strip(),
                type_code=dialog.type_picker.type_code,
                level=dialog.level,
                place=dialog.place_edit.text().strip(),
                description=dialog.description_edit.toPlainText().strip(),
            )

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def arrange_for(self, user: UserInfo) -> None:
        """Put the inbox first for agency desks and grid levels, the list for the centre."""
        self.new_button.setEnabled(commands_incidents(user))
        first = self.inbox if inbox_first(user) else self.incident_list
        second = self.incident_list if first is self.inbox else self.inbox
        for index, (widget, title) in enumerate(
            ((first, self._title(first)), (second, self._title(second)))
        ):
            self.removeTab(self.indexOf(widget))
            self.insertTab(index, widget, title)
        self.setCurrentWidget(first)

    def _title(self, widget: QWidget) -> str:
        return self.tr("Tasks") if widget is self.inbox else self.tr("Incidents")

    def tab_titles(self) -> list[str]:
        """The tab titles in order."""
        return [self.tabText(index) for index in range(self.count())]

    def open_incident(self, incident_id: int) -> None:
        """Show an incident in the workspace tab."""
        self.workspace.show_incident(incident_id)
        self.setCurrentWidget(self.workspace)

    def show_task_list(self) -> None:
        """Show the task inbox (the badge's click)."""
        self.setCurrentWidget(self.inbox)

    def tick(self) -> None:
        """Redraw the countdowns (every second)."""
        self.workspace.refresh_countdowns()
        if self.inbox.isVisible():
            self.inbox.refresh()


class AlarmIncidentActions(QObject):
    """立案 (raise an incident from the selected alarm) and 并案 (attach it to one)."""

    open_requested = Signal(int)
    """Open this incident (the one the selected alarm belongs to)."""

    def __init__(self, desk: IncidentDesk, parent: QWidget) -> None:
        super().__init__(parent)
        self._desk = desk
        self._parent = parent
        self._alarm: AlarmView | None = None
        self.active_dialog: QDialog | None = None
        self.raise_button = QPushButton(self.tr("Raise incident…"), parent)
        self.raise_button.setObjectName("raise_incident_button")
        self.raise_button.clicked.connect(self.start_raise)
        self.attach_button = QPushButton(self.tr("Attach to incident…"), parent)
        self.attach_button.setObjectName("attach_incident_button")
        self.attach_button.clicked.connect(self.start_attach)
        self.open_button = QPushButton(self.tr("Open incident"), parent)
        self.open_button.setObjectName("open_alarm_incident_button")
        self.open_button.clicked.connect(self._open_alarm_incident)
        desk.board.changed.connect(lambda _change: self.refresh())
        self.refresh()

    def set_alarm(self, alarm: AlarmView | None) -> None:
        """The alarm selected in the queue (None: none)."""
        self._alarm = alarm
        self.refresh()

    def _open_incidents(self) -> list[IncidentView]:
        return [
            incident
            for incident in self._desk.board.open_incidents()
            if incident.state not in INCIDENT_FINAL_STATES
        ]

    def refresh(self) -> None:
        """Enable the buttons for an open alarm not yet in an incident, for the centre."""
        alarm = self._alarm
        free = (
            alarm is not None
            and is_open(alarm.state)
            and self._desk.board.alarm_incident(alarm.id) is None
            and commands_incidents(self._desk.board.user)
        )
        self.raise_button.setEnabled(free)
        self.attach_button.setEnabled(free and bool(self._open_incidents()))
        incident = self._alarm_incident()
        self.open_button.setEnabled(incident is not None)
        self.open_button.setText(
            self.tr("Incident #{incident_id}").format(incident_id=incident.id)
            if incident is not None
            else self.tr("Open incident")
        )

    def _alarm_incident(self) -> IncidentView | None:
        return self._desk.board.alarm_incident(self._alarm.id) if self._alarm else None

    def _open_alarm_incident(self) -> None:
        incident = self._alarm_incident()
        if incident is not None:
            self.open_requested.emit(incident.id)

    def _open(self, dialog: QDialog) -> None:
        if self.active_dialog is not None:
            self.active_dialog.reject()
        self.active_dialog = dialog
        dialog.finished.connect(lambda _r: self._forget(dialog))
        dialog.open()

    def _forget(self, dialog: QDialog) -> None:
        if self.active_dialog is dialog:
            self.active_dialog = None
        dialog.deleteLater()

    def start_raise(self) -> None:
        """Ask for the title, type and level, then raise the incident."""
        alarm = self._alarm
        if alarm is None:
            return
        dialog = OpenIncidentDialog(
            alarm.id, alarm.title, self._parent, catalogue=self._desk.catalogue
        )
        dialog.accepted.connect(
            lambda: self._desk.open_incident(
                alarm_id=dialog.alarm_id,
                title=dialog.title_edit.text().strip(),
                type_code=dialog.type_code,
                level=dialog.level,
            )
        )
        self._open(dialog)

    def start_attach(self) -> None:
        """Pick an open incident and attach the alarm to it."""
        alarm = self._alarm
        if alarm is None:
            return
        dialog = AttachAlarmDialog(alarm.id, self._open_incidents(), self._parent)

        def attach() -> None:
            if dialog.incident_id is not None:
                self._desk.attach_alarm(dialog.incident_id, dialog.alarm_id)

        dialog.accepted.connect(attach)
        self._open(dialog)
