"""The task inbox (任务收件箱) and the incident list (事件列表).

The inbox shows this desk's open tasks, most urgent first, with their countdowns; the
incident list the open incidents by level and time. Double-clicking a row asks the
window to open the incident in the workspace.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.incidents.labels import (
    countdown_text,
    format_moment,
    incident_level_label,
    incident_state_label,
    rung_label,
    task_state_label,
)
from desktop.incidents.state import BoardChange, IncidentBoard, countdown, open_supervisions
from desktop.incidents.workspace import assignee_text, fit_columns
from realtime.incident_states import task_is_open

OVERDUE_COLOUR = QColor("#c62828")
ESCALATED_BACKGROUND = QColor("#ffe0b2")
ROW_TEXT_SLACK = 4
"""Pixels kept free beside a cell's text when measuring how many lines it wraps onto."""


def _table(parent: QWidget, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    fit_columns(table, stretch=1)
    table.verticalHeader().hide()
    # A narrow dock must not cut an incident's title short: it wraps onto more lines.
    table.setWordWrap(True)
    table.horizontalHeader().sectionResized.connect(lambda *_: fit_rows(table))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    return table


def fit_rows(table: QTableWidget) -> None:
    """Make each row as tall as its wrapped text needs at the columns' widths now.

    Measured here, with the margins the item's text is painted inside: the view's own
    measure leaves them out and cuts a title that just wraps onto one more line."""
    metrics = table.fontMetrics()
    margin = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
    for row in range(table.rowCount()):
        height = table.verticalHeader().defaultSectionSize()
        for column in range(table.columnCount()):
            item = table.item(row, column)
            if item is None:
                continue
            width = max(table.columnWidth(column) - margin - ROW_TEXT_SLACK, 1)
            needed = metrics.boundingRect(
                QRect(0, 0, width, 100_000), Qt.TextFlag.TextWordWrap, item.text()
            ).height()
            height = max(height, needed + margin)
        table.setRowHeight(row, height)


class _BoardTable(QWidget):
    """A table over the board whose rows open an incident on double-click."""

    open_requested = Signal(int)
    """Open this incident in the workspace."""

    def __init__(self, board: IncidentBoard, headers: list[str], parent: QWidget | None) -> None:
        super().__init__(parent)
        self._board = board
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = _table(self, headers)
        layout.addWidget(self.table)
        self.table.itemDoubleClicked.connect(self._on_double_click)
        board.changed.connect(self._on_board_change)

    def _on_board_change(self, _change: BoardChange) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the board."""
        raise NotImplementedError

    def _set_row(self, row: int, incident_id: int, key: int, cells: list[str]) -> None:
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)  # all of it, however narrow the column
            item.setData(Qt.ItemDataRole.UserRole, incident_id)
            item.setData(Qt.ItemDataRole.UserRole + 1, key)
            self.table.setItem(row, column, item)

    def row_keys(self) -> list[int]:
        """The task (inbox) or incident (list) ids in row order."""
        keys: list[int] = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None:
                keys.append(int(item.data(Qt.ItemDataRole.UserRole + 1)))
        return keys

    def cell(self, row: int, column: int) -> str:
        """The text of one cell."""
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def open_row(self, row: int) -> None:
        """Open the incident of a row (what a double-click does)."""
        item = self.table.item(row, 0)
        if item is not None:
            self.open_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _on_double_click(self, item: QTableWidgetItem) -> None:
        self.open_row(item.row())


class TaskInbox(_BoardTable):
    """This desk's open tasks, most urgent first, with live countdowns."""

    def __init__(self, board: IncidentBoard, parent: QWidget | None = None) -> None:
        super().__init__(
            board,
            [
                self.tr("Task"),
                self.tr("Incident"),
                self.tr("Assignee"),
                self.tr("State"),
                self.tr("Deadline"),
                self.tr("Escalated to"),
                self.tr("Supervision"),
            ],
            parent,
        )
        self.setObjectName("task_inbox")
        self.table.setObjectName("task_inbox_table")
        self.refresh()

    def refresh(self) -> None:
        """Redraw the inbox (order and countdowns) from the board."""
        now = self._board.now()
        tasks = self._board.inbox()
        self.table.setRowCount(len(tasks))
        for row, task in enumerate(tasks):
            incident = self._board.incidents.get(task.incident_id)
            title = f"#{task.incident_id} {incident.title}" if incident else f"#{task.incident_id}"
            left = countdown(task, now)
            escalated = self._board.escalated_to_me(task)
            cells = [
                f"#{task.id}",
                title,
                assignee_text(task),
                task_state_label(task.state),
                countdown_text(left),
                rung_label(task.escalation_level) if task.escalations else "",
                self.tr("open") if open_supervisions(task) else "",
            ]
            self._set_row(row, task.incident_id, task.id, cells)
            for column in range(len(cells)):
                item = self.table.item(row, column)
                if item is None:
                    continue
                if left.overdue:
                    item.setForeground(QBrush(OVERDUE_COLOUR))
                if escalated:
                    item.setBackground(QBrush(ESCALATED_BACKGROUND))
        fit_rows(self.table)


class IncidentList(_BoardTable):
    """The incidents this user sees: open ones by level (I on top), newest first."""

    def __init__(self, board: IncidentBoard, parent: QWidget | None = None) -> None:
        super().__init__(
            board,
            [
                self.tr("No."),
                self.tr("Title"),
                self.tr("Type"),
                self.tr("Level"),
                self.tr("State"),
                self.tr("Opened"),
                self.tr("Tasks open"),
            ],
            parent,
        )
        self.setObjectName("incident_list")
        self.table.setObjectName("incident_list_table")
        self.refresh()

    def refresh(self) -> None:
        """Redraw the list from the board."""
        incidents = self._board.open_incidents()
        self.table.setRowCount(len(incidents))
        for row, incident in enumerate(incidents):
            open_tasks = sum(
                1 for task in self._board.tasks_of(incident.id) if task_is_open(task.state)
            )
            cells = [
                f"#{incident.id}",
                incident.title,
                incident.type_name or incident.type_code,
                incident_level_label(incident.level),
                incident_state_label(incident.state),
                format_moment(incident.opened_at),
                str(open_tasks),
            ]
            self._set_row(row, incident.id, incident.id, cells)
        fit_rows(self.table)
