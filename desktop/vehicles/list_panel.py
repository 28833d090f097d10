"""The vehicle list dock: search and filter, last report and its age, follow, send a text
or another order (车辆指令, :mod:`desktop.vehicles.command_dialog`; also from the list's
context menu).

A thin Qt model over the plain-Python :class:`~desktop.vehicles.roster.VehicleRoster`;
ages are recomputed every second. Texts go out through
:meth:`~desktop.service.ConsoleService.query` and their outcome is shown in the panel.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from desktop.vehicles import command_labels
from desktop.vehicles.command_dialog import VehicleCommandDialog
from desktop.vehicles.roster import StateFilter, VehicleRoster, VehicleRow, VehicleState
from realtime.protocol import DevicesResult, ListDevices, Presence, ResultData, SendText, TextSent

logger = logging.getLogger(__name__)

TICK_MS = 1000
REFRESH_MIN_MS = 200
"""Shortest time between two rebuilds of the list while positions stream in."""
"""Ages are recomputed this often."""
STATE_COLOURS: dict[VehicleState, QColor] = {
    VehicleState.ALARM: QColor("#d32f2f"),
    VehicleState.OFFLINE: QColor("#9e9e9e"),
    VehicleState.MOVING: QColor("#2e7d32"),
    VehicleState.STOPPED: QColor("#1565c0"),
}
Index = QModelIndex | QPersistentModelIndex


class VehicleColumn(enum.IntEnum):
    """The columns of the vehicle list."""

    PLATE = 0
    NAME = 1
    OWNER = 2
    STATE = 3
    SPEED = 4
    LAST_REPORT = 5
    AGE = 6


def state_label(state: VehicleState) -> str:
    """Return the name of a vehicle state."""
    labels = {
        VehicleState.ALARM: QCoreApplication.translate("Vehicles", "Alarm"),
        VehicleState.OFFLINE: QCoreApplication.translate("Vehicles", "Offline"),
        VehicleState.MOVING: QCoreApplication.translate("Vehicles", "Moving"),
        VehicleState.STOPPED: QCoreApplication.translate("Vehicles", "Stopped"),
    }
    return labels[state]


def row_state_label(row: VehicleRow) -> str:
    """Return what the state column says: the state, or "unknown" for a vehicle not heard
    from since the server started (a stale "offline" or "online" would mislead)."""
    if row.state is VehicleState.OFFLINE and row.presence is Presence.UNKNOWN:
        return QCoreApplication.translate("Vehicles", "Unknown")
    return state_label(row.state)


class VehicleTableModel(QAbstractTableModel):
    """The filtered rows of a roster, recomputed on change and every tick.

    Unfiltered, only the rows the view asks for are computed (a tick over 20,000
    vehicles cost ≈ 150 ms on the GUI thread when every row was made); a filter needs
    every row's state, so filtered lists are computed whole.
    """

    def __init__(self, roster: VehicleRoster, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._roster = roster
        self._devices: list[str] = []
        self._made: dict[int, VehicleRow] = {}
        """Rows computed since the last refresh, by index (all of them when filtered)."""
        self._now = roster.now()
        self._text = ""
        self._state_filter = StateFilter.ALL
        self.refresh()

    def set_filter(self, text: str, state_filter: StateFilter) -> None:
        """Keep only the vehicles matching ``text`` and ``state_filter``."""
        self._text, self._state_filter = text, state_filter
        self.refresh()

    def refresh(self) -> None:
        """Recompute rows (ages move on even when nothing arrives)."""
        self._now = self._roster.now()
        if self._text or self._state_filter is not StateFilter.ALL:
            rows = self._roster.filtered(self._text, self._state_filter, self._now)
            devices = [row.device for row in rows]
            made = dict(enumerate(rows))
        else:
            devices = self._roster.order()
            made = {}
        if devices == self._devices:
            self._made = made
            if devices:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(devices) - 1, len(VehicleColumn) - 1)
                )
            return
        self.beginResetModel()
        self._devices = list(devices)
        self._made = made
        self.endResetModel()

    def row_at(self, row: int) -> VehicleRow | None:
        """The vehicle shown in ``row``."""
        if not 0 <= row < len(self._devices):
            return None
        made = self._made.get(row)
        if made is None:
            made = self._made[row] = self._roster.row(self._devices[row], self._now)
        return made

    def devices(self) -> list[str]:
        """The devices listed, top to bottom."""
        return list(self._devices)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        """Qt: the number of listed vehicles."""
        return 0 if parent.isValid() else len(self._devices)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        """Qt: the number of columns."""
        return 0 if parent.isValid() else len(VehicleColumn)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Qt: column titles."""
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        titles = {
            VehicleColumn.PLATE: self.tr("Plate"),
            VehicleColumn.NAME: self.tr("Name"),
            VehicleColumn.OWNER: self.tr("Company"),
            VehicleColumn.STATE: self.tr("State"),
            VehicleColumn.SPEED: self.tr("km/h"),
            VehicleColumn.LAST_REPORT: self.tr("Last report"),
            VehicleColumn.AGE: self.tr("Age"),
        }
        return titles.get(VehicleColumn(section))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Qt: cell text and the state colour."""
        row = self.row_at(index.row())
        if row is None:
            return None
        column = VehicleColumn(index.column())
        if role == Qt.ItemDataRole.ForegroundRole and column is VehicleColumn.STATE:
            return QBrush(STATE_COLOURS[row.state])
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column is VehicleColumn.PLATE:
            return row.plate or row.device
        if column is VehicleColumn.NAME:
            return row.name
        if column is VehicleColumn.OWNER:
            return row.owner
        if column is VehicleColumn.STATE:
            return row_state_label(row)
        if column is VehicleColumn.SPEED:
            return f"{row.speed_kmh:.0f}" if row.speed_kmh is not None else ""
        if column is VehicleColumn.LAST_REPORT:
            return texts.format_time(row.last_report) if row.last_report else "–"
        return texts.format_duration(row.age.total_seconds()) if row.age is not None else "–"


class SendTextDialog(QDialog):
    """Compose a text for a vehicle terminal."""

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("send_text_dialog")
        self.setWindowTitle(self.tr("Send text to {vehicle}").format(vehicle=label))
        layout = QVBoxLayout(self)
        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setPlaceholderText(self.tr("Message (at most 500 characters)"))
        layout.addWidget(self.text_edit)
        self.emergency_check = QCheckBox(self.tr("Emergency"), self)
        self.tts_check = QCheckBox(self.tr("Read aloud (TTS)"), self)
        self.tts_check.setChecked(True)
        self.display_check = QCheckBox(self.tr("Show on the terminal's display"), self)
        self.display_check.setChecked(True)
        for check in (self.emergency_check, self.tts_check, self.display_check):
            layout.addWidget(check)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def message(self) -> str:
        """The text as typed, trimmed."""
        return self.text_edit.toPlainText().strip()


class VehicleListPanel(QWidget):
    """Search, state filter, the table, and buttons to follow a vehicle or text it."""

    follow_requested = Signal(str)
    """The officer wants the map to follow this device."""
    replay_requested = Signal(str)
    """The officer wants to replay this device's track."""

    def __init__(
        self, service: ConsoleService, roster: VehicleRoster, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("vehicle_list_panel")
        self._service = service
        self.roster = roster
        self._closed = False
        self.send_dialog: SendTextDialog | None = None
        self.command_dialog: VehicleCommandDialog | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        filters = QHBoxLayout()
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("vehicle_search")
        self.search_edit.setPlaceholderText(self.tr("Plate, name or company…"))
        self.search_edit.setClearButtonEnabled(True)
        filters.addWidget(self.search_edit, 1)
        self.state_combo = QComboBox(self)
        self.state_combo.setObjectName("vehicle_state_filter")
        for state_filter, label in (
            (StateFilter.ALL, self.tr("All")),
            (StateFilter.ONLINE, self.tr("Online")),
            (StateFilter.OFFLINE, self.tr("Offline")),
            (StateFilter.UNKNOWN, self.tr("Unknown")),
            (StateFilter.MOVING, self.tr("Moving")),
            (StateFilter.STOPPED, self.tr("Stopped")),
            (StateFilter.ALARM, self.tr("Alarm")),
        ):
            self.state_combo.addItem(label, state_filter.value)
        filters.addWidget(self.state_combo)
        layout.addLayout(filters)

        self.model = VehicleTableModel(roster, self)
        self.table = QTableView(self)
        self.table.setObjectName("vehicle_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _index: self.follow_selected())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        layout.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.follow_button = QPushButton(self.tr("Follow on map"), self)
        self.follow_button.clicked.connect(self.follow_selected)
        buttons.addWidget(self.follow_button)
        self.text_button = QPushButton(self.tr("Send text…"), self)
        self.text_button.clicked.connect(self.open_send_dialog)
        buttons.addWidget(self.text_button)
        self.command_button = QPushButton(self.tr("Vehicle command…"), self)
        self.command_button.setObjectName("vehicle_command_button")
        self.command_button.clicked.connect(self.open_command_dialog)
        self.command_button.setEnabled(command_labels.may_query(service.user))
        buttons.addWidget(self.command_button)
        self.replay_button = QPushButton(self.tr("Replay track…"), self)
        self.replay_button.clicked.connect(self._request_replay)
        buttons.addWidget(self.replay_button)
        self.reload_button = QPushButton(self.tr("Reload"), self)
        self.reload_button.clicked.connect(self.load_devices)
        buttons.addWidget(self.reload_button)
        layout.addLayout(buttons)
        self.status_label = plain_label(parent=self)
        self.status_label.setObjectName("vehicle_status")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)

        self.search_edit.textChanged.connect(self._apply_filter)
        # Plate, Enter: the map follows the first vehicle found, no row or button to click.
        self.search_edit.returnPressed.connect(self.follow_first_found)
        self.state_combo.currentIndexChanged.connect(self._apply_filter)
        # Telemetry arrives many times a second; the list is rebuilt at most every
        # REFRESH_MIN_MS (at once when it has been quiet, so a single change shows now).
        self._refresh_pending = False
        self._cooldown = QTimer(self)
        self._cooldown.setSingleShot(True)
        self._cooldown.setInterval(REFRESH_MIN_MS)
        self._cooldown.timeout.connect(self._cooldown_over)
        self._remove_listener = roster.add_listener(self._roster_changed)
        service.welcomed.connect(self._on_welcome)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.model.refresh)
        self._timer.start()

    def _on_welcome(self, _welcome: object) -> None:
        # Courtesy only (the server decides): roles that may send no order see it greyed.
        self.command_button.setEnabled(command_labels.may_query(self._service.user))

    def _context_menu(self, point: QPoint) -> QMenu | None:
        """Follow, text, order or replay the vehicle under the pointer."""
        index = self.table.indexAt(point)
        if not index.isValid():
            return None
        self.table.selectRow(index.row())
        menu = QMenu(self)
        menu.addAction(self.tr("Follow on map"), self.follow_selected)
        menu.addAction(self.tr("Send text…"), self.open_send_dialog)
        order = menu.addAction(self.tr("Vehicle command…"), self.open_command_dialog)
        order.setEnabled(self.command_button.isEnabled())
        menu.addAction(self.tr("Replay track…"), self._request_replay)
        menu.popup(self.table.viewport().mapToGlobal(point))
        return menu

    def _roster_changed(self) -> None:
        if self._cooldown.isActive():
            self._refresh_pending = True
            return
        self.model.refresh()
        self._cooldown.start()

    def _cooldown_over(self) -> None:
        if self._refresh_pending:
            self._refresh_pending = False
            self.model.refresh()
            self._cooldown.start()

    def _apply_filter(self, *_args: object) -> None:
        state_filter = StateFilter(str(self.state_combo.currentData()))
        self.model.set_filter(self.search_edit.text(), state_filter)

    def load_devices(self) -> None:
        """Ask the server for the device registry."""
        self._service.query(ListDevices(req=""), self._on_devices, self.show_query_error)

    def _on_devices(self, result: ResultData) -> None:
        if not self._closed and isinstance(result, DevicesResult):
            self.roster.set_devices(result.devices)

    def show_query_error(self, code: str, message: str) -> None:
        """Show why a query of the panel (or the device registry's load) failed."""
        if self._closed:
            return
        logger.info("vehicle list query failed: %s %s", code, message)
        self.status_label.setText(f"{texts.error_summary(code)} ({message})")

    def selected_device(self) -> str | None:
        """The device of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows()
        row = self.model.row_at(rows[0].row()) if rows else None
        return row.device if row is not None else None

    def select_device(self, device: str) -> bool:
        """Select ``device``'s row; return whether it is listed."""
        devices = self.model.devices()
        if device not in devices:
            return False
        self.table.selectRow(devices.index(device))
        return True

    def follow_first_found(self) -> bool:
        """Select and follow the first vehicle the search leaves; return whether one did."""
        devices = self.model.devices()
        if not devices:
            return False
        self.table.selectRow(0)
        self.follow_requested.emit(devices[0])
        return True

    def follow_selected(self) -> None:
        """Ask the map to follow the selected vehicle."""
        device = self.selected_device()
        if device is not None:
            self.follow_requested.emit(device)

    def _request_replay(self) -> None:
        device = self.selected_device()
        if device is not None:
            self.replay_requested.emit(device)

    def open_send_dialog(self) -> SendTextDialog | None:
        """Open the text dialog for the selected vehicle (None when nothing is selected)."""
        device = self.selected_device()
        if device is None:
            return None
        dialog = SendTextDialog(self.roster.label(device), self)
        dialog.accepted.connect(lambda: self._send_from(dialog, device))
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self.send_dialog = dialog
        dialog.open()
        return dialog

    def open_command_dialog(self) -> VehicleCommandDialog | None:
        """Open the 车辆指令 dialog for the selected vehicle (None when nothing is selected)."""
        device = self.selected_device()
        if device is None:
            return None
        dialog = VehicleCommandDialog(
            self._service, device, self.roster.label(device), self._service.user, self
        )
        dialog.follow_requested.connect(self.follow_requested)
        dialog.finished.connect(lambda _result: self._forget_command_dialog(dialog))
        self.command_dialog = dialog
        dialog.open()
        return dialog

    def _forget_command_dialog(self, dialog: VehicleCommandDialog) -> None:
        if self.command_dialog is dialog:
            self.command_dialog = None
        dialog.deleteLater()

    def _forget_dialog(self, dialog: SendTextDialog) -> None:
        if self.send_dialog is dialog:
            self.send_dialog = None
        dialog.deleteLater()

    def _send_from(self, dialog: SendTextDialog, device: str) -> None:
        text = dialog.message()
        if text:
            self.send_text(
                device,
                text,
                emergency=dialog.emergency_check.isChecked(),
                tts=dialog.tts_check.isChecked(),
                display=dialog.display_check.isChecked(),
            )

    def send_text(
        self,
        device: str,
        text: str,
        *,
        emergency: bool = False,
        tts: bool = True,
        display: bool = True,
    ) -> None:
        """Send ``text`` to ``device``; the outcome appears in the status line."""
        label = self.roster.label(device)
        self.status_label.setText(self.tr("Sending text to {vehicle}…").format(vehicle=label))
        command = SendText(
            req="", device=device, text=text[:500], emergency=emergency, tts=tts, display=display
        )

        def on_result(result: ResultData) -> None:
            if self._closed or not isinstance(result, TextSent):
                return
            if result.acknowledged:
                message = self.tr("{vehicle} acknowledged the text.")
            else:
                message = self.tr("Text sent to {vehicle}; the terminal did not acknowledge it.")
            self.status_label.setText(message.format(vehicle=label))

        def on_error(code: str, message: str) -> None:
            if self._closed:
                return
            logger.info("text to %s failed: %s %s", device, code, message)
            self.status_label.setText(
                self.tr("Text to {vehicle} failed: {reason}").format(
                    vehicle=label, reason=f"{texts.error_summary(code)} ({message})"
                )
            )

        self._service.query(command, on_result, on_error)

    def shutdown(self) -> None:
        """Stop the timer and the roster listener (the window is closing)."""
        self._closed = True
        self._timer.stop()
        self._remove_listener()
