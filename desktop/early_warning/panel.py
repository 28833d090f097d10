"""The 预警 panel: the warnings of the user's area (level colour, source, what it is about,
predicted time, age, state), live by events, with acknowledge and close (role gated; the
server checks the role, the area and the version again)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.early_warning.labels import LEVEL_COLOURS, level_label, source_label, state_label
from desktop.early_warning.state import OPEN_STATES, WarningBook, age_seconds, can_work
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from desktop.state import utc_now
from realtime.protocol import (
    ActOnWarning,
    EarlyWarningView,
    Event,
    ListWarnings,
    ResultData,
    Role,
    WarningAction,
    WarningResult,
    WarningsResult,
)
from realtime.protocol.early_warning import WarningState

logger = logging.getLogger(__name__)

AGE_REFRESH_MS = 5000
COLUMNS = 7
LEVEL, SOURCE, TITLE, SUBJECT, PREDICTED, AGE, STATE = range(COLUMNS)
ID_ROLE = Qt.ItemDataRole.UserRole


def _clock_time(moment: dt.datetime) -> str:
    """A predicted time as local wall-clock time (today's, usually: no date)."""
    return moment.astimezone(texts.DISPLAY_TIMEZONE).strftime("%H:%M:%S")


class WarningPanel(QWidget):
    """The warning table with its buttons."""

    count_changed = Signal(int)
    """How many warnings are open now (for the status bar)."""
    sensor_requested = Signal(str)
    """The officer asked for a warning's sensor trend (double click on a trend warning)."""

    def __init__(
        self,
        service: ConsoleService,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("early_warning_panel")
        self._service = service
        self._clock = clock
        self.book = WarningBook()
        self.role: Role | None = None
        self.sensor_names: dict[str, str] = {}
        self.hazard_names: dict[str, str] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        buttons = QHBoxLayout()
        self.acknowledge_button = QPushButton(self.tr("Acknowledge"), self)
        self.acknowledge_button.setObjectName("warning_acknowledge")
        self.acknowledge_button.clicked.connect(self.acknowledge_selected)
        buttons.addWidget(self.acknowledge_button)
        self.close_button = QPushButton(self.tr("Close…"), self)
        self.close_button.setObjectName("warning_close")
        self.close_button.clicked.connect(self._ask_close)
        buttons.addWidget(self.close_button)
        self.ended_check = QCheckBox(self.tr("Show ended"), self)
        self.ended_check.toggled.connect(self._on_show_ended)
        buttons.addWidget(self.ended_check)
        reload_button = QPushButton(self.tr("Reload"), self)
        reload_button.clicked.connect(self.load)
        buttons.addWidget(reload_button)
        buttons.addStretch(1)
        self.status_label = plain_label(parent=self)
        buttons.addWidget(self.status_label)
        layout.addLayout(buttons)
        self.table = QTableWidget(0, COLUMNS, self)
        self.table.setObjectName("warning_table")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Level"),
                self.tr("Source"),
                self.tr("Warning"),
                self.tr("Hazard source / sensor"),
                self.tr("Predicted"),
                self.tr("Age"),
                self.tr("State"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        for column in (LEVEL, SOURCE, SUBJECT, PREDICTED, AGE, STATE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(self._on_double_click)
        layout.addWidget(self.table, 1)
        self._ages = QTimer(self)
        self._ages.setInterval(AGE_REFRESH_MS)
        self._ages.timeout.connect(self.refresh)
        self._ages.start()
        service.event_received.connect(self.apply_event)
        self._update_buttons()

    # ------------------------------------------------------------------ data

    def set_role(self, role: Role | None) -> None:
        """The user's role (acknowledge and close are offered to the command centre)."""
        self.role = role
        self._update_buttons()

    def set_sensor_names(self, names: Mapping[str, str]) -> None:
        """Sensor id → name, to say which sensors a warning is about."""
        self.sensor_names = dict(names)
        self.refresh()

    def set_hazard_names(self, names: Mapping[str, str]) -> None:
        """Hazard source code → name, to say which hazard source a warning is about."""
        self.hazard_names = dict(names)
        self.refresh()

    def load(self) -> None:
        """Ask the server for the warnings of the user's area."""
        command = ListWarnings(req="", include_ended=self.book.show_ended)
        self._service.query(command, self._on_list, self._on_error)

    def _on_list(self, result: ResultData) -> None:
        if isinstance(result, WarningsResult):
            self.book.replace(result.warnings)
            self.refresh()

    def apply_event(self, event: Event) -> None:
        """Take a live ``warning.*`` event."""
        if self.book.apply_event(event):
            self.refresh()

    def _on_error(self, code: str, message: str) -> None:
        logger.info("warning command failed: %s %s", code, message)
        self.status_label.setText(f"{texts.error_summary(code)} ({message})")

    # ------------------------------------------------------------------ table

    def refresh(self) -> None:
        """Redraw the table from the book (keeping the selection)."""
        selected = self.selected_id()
        rows = self.book.rows()
        now = self._clock()
        self.table.setRowCount(len(rows))
        for row, warning in enumerate(rows):
            for column, text in enumerate(self._cells(warning, now)):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, column, item)
                item.setText(text)
                item.setData(ID_ROLE, warning.id)
            level = self.table.item(row, LEVEL)
            if level is not None:
                level.setBackground(QBrush(LEVEL_COLOURS[warning.level]))
                level.setForeground(QBrush(QColor("white")))
            if warning.id == selected:
                self.table.selectRow(row)
        self.count_changed.emit(self.book.open_count())
        self._update_buttons()

    def _cells(self, warning: EarlyWarningView, now: dt.datetime) -> list[str]:
        return [
            level_label(warning.level),
            source_label(warning.source),
            warning.title + (f" ×{warning.count}" if warning.count > 1 else ""),
            self._subject(warning),
            _clock_time(warning.predicted_at) if warning.predicted_at else "–",
            texts.format_duration(age_seconds(warning, now)),
            state_label(warning.state),
        ]

    def _subject(self, warning: EarlyWarningView) -> str:
        sensors = "、".join(self.sensor_names.get(s, s) for s in warning.sensors)
        hazard = self.hazard_names.get(warning.hazard_source, warning.hazard_source)
        if hazard and sensors:
            return f"{hazard}：{sensors}"
        return hazard or sensors

    def selected_id(self) -> int | None:
        """The id of the selected warning."""
        items = self.table.selectedItems()
        if not items:
            return None
        value = items[0].data(ID_ROLE)
        return value if isinstance(value, int) else None

    def select(self, warning_id: int) -> bool:
        """Select a warning's row; return whether it is shown."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, LEVEL)
            if item is not None and item.data(ID_ROLE) == warning_id:
                self.table.selectRow(row)
                return True
        return False

    def _update_buttons(self) -> None:
        warning = self.book.get(self.selected_id() or -1)
        allowed = can_work(self.role)
        is_open = warning is not None and warning.state in OPEN_STATES
        self.acknowledge_button.setVisible(allowed)
        self.close_button.setVisible(allowed)
        self.acknowledge_button.setEnabled(
            warning is not None and warning.state is WarningState.ACTIVE
        )
        self.close_button.setEnabled(is_open)

    def _on_show_ended(self, checked: bool) -> None:
        self.book.show_ended = checked
        self.load()

    def _on_double_click(self, item: QTableWidgetItem) -> None:
        warning = self.book.get(item.data(ID_ROLE))
        if warning is not None and warning.sensors:
            self.sensor_requested.emit(warning.sensors[0])

    # ------------------------------------------------------------------ actions

    def acknowledge_selected(self) -> None:
        """Acknowledge the selected warning."""
        self._act(WarningAction.ACKNOWLEDGE, "")

    def close_selected(self, note: str) -> None:
        """Close the selected warning with ``note``."""
        self._act(WarningAction.CLOSE, note)

    def _ask_close(self) -> None:
        note, ok = QInputDialog.getText(
            self, self.tr("Close warning"), self.tr("Why is it closed while it still holds?")
        )
        if ok and note.strip():
            self.close_selected(note.strip())

    def _act(self, action: WarningAction, note: str) -> None:
        warning = self.book.get(self.selected_id() or -1)
        if warning is None:
            return
        command = ActOnWarning(
            req="", warning_id=warning.id, version=warning.version, action=action, note=note
        )
        self._service.query(command, self._on_acted, self._on_error)

    def _on_acted(self, result: ResultData) -> None:
        if isinstance(result, WarningResult):
            self.status_label.setText("")
            self.book.apply(result.warning)
            self.refresh()

    def shutdown(self) -> None:
        """Stop the age timer (the window is closing)."""
        self._ages.stop()
