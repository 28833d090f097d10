"""我的上报: the reporter's own reports with how each stands — the incident's state and
level, where its task is now (which level, in which state, who has it) and the feedback
once the incident is closed.

The list is read from ``reports.mine`` when it opens, on every reconnect and, shortly
after, whenever an event arrives about the incident of one of the reports (the reporter
receives its incidents' events), so it follows the work without polling.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.incidents.labels import (
    format_moment,
    incident_level_label,
    incident_state_label,
    refusal_text,
    rung_label,
    task_state_label,
)
from desktop.incidents.report_state import MyReports
from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.protocol import Event, ListMyReports, ReportsResult, ReportView, ResultData

logger = logging.getLogger(__name__)

REFRESH_DELAY_MS = 300
"""Events about one incident come in bursts (a task sent, accepted…): read once after."""

COLUMNS = ("reported_at", "type", "place", "state", "level", "task", "feedback")


class MyReportsView(QWidget):
    """The table of the user's own reports, kept current."""

    def __init__(self, service: ConsoleService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("my_reports")
        self.setWindowTitle(self.tr("My reports"))
        self._service = service
        self.state = MyReports()
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("my_reports_table")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Reported"),
                self.tr("Type"),
                self.tr("Place"),
                self.tr("State"),
                self.tr("Level"),
                self.tr("Task now"),
                self.tr("Feedback"),
            ]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        refresh_button = QPushButton(self.tr("Refresh"), self)
        refresh_button.clicked.connect(self.reload)
        top = QHBoxLayout()
        top.addWidget(self.status_label, 1)
        top.addWidget(refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.reload)
        service.event_received.connect(self._on_event)
        service.connection_changed.connect(self._on_connection_changed)

    def reload(self) -> None:
        """Read the list again."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            logger.debug("no running loop: my reports are not read")
            return
        self._service.query(ListMyReports(req=""), self._on_result, self._on_error)

    def _on_connection_changed(self, state: ConnectionState, _detail: str) -> None:
        if state is ConnectionState.LIVE:
            self.reload()

    def _on_event(self, event: Event) -> None:
        if self.state.concerns(event):
            self._timer.start()

    def _on_result(self, result: ResultData) -> None:
        if isinstance(result, ReportsResult):
            self.state.replace(result.reports, more=result.more)
            self.status_label.setText(
                self.tr("{count} report(s)").format(count=len(self.state.reports))
            )
            self._fill()

    def _on_error(self, code: str, message: str) -> None:
        logger.info("my reports not read: %s %s", code, message)
        self.status_label.setText(
            self.tr("Not read: {reason}").format(reason=refusal_text(code, message))
        )

    def add(self, report: ReportView) -> None:
        """Show a report just made before the list is read again."""
        self.state.add(report)
        self._fill()

    def _fill(self) -> None:
        reports = self.state.reports
        self.table.setRowCount(len(reports))
        for row, report in enumerate(reports):
            for column, text in enumerate(self.cells(report)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def cells(self, report: ReportView) -> list[str]:
        """The row of ``report``, column by column."""
        return [
            format_moment(report.reported_at),
            report.type_name or report.type_code,
            report.place or report.title,
            incident_state_label(report.incident_state),
            incident_level_label(report.incident_level),
            self.task_text(report),
            report.feedback,
        ]

    def task_text(self, report: ReportView) -> str:
        """Where the report's task is now: the level, its state and who has it."""
        if report.task_level is None or report.task_state is None:
            return self.tr("no grid task")
        text = f"{rung_label(report.task_level)} · {task_state_label(report.task_state)}"
        return f"{text} · {report.task_assignee}" if report.task_assignee else text

    def text_at(self, row: int, column: str) -> str:
        """The text shown in a row's column (for tests and screen readers)."""
        item = self.table.item(row, COLUMNS.index(column))
        return item.text() if item is not None else ""
