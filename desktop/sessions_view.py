"""Who is logged in where (administrators): the Administration menu's session list.

The server decides who may ask (``sessions.list`` is for administrators); the menu item
is shown enabled only to them as a courtesy.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.protocol import ListSessions, ResultData, Role, SessionsResult, SessionView, Welcome

logger = logging.getLogger(__name__)


class SessionsDialog(QDialog):
    """A table of the open sessions, refreshed on demand."""

    def __init__(self, service: ConsoleService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessions_dialog")
        self.setWindowTitle(self.tr("Who is logged in"))
        self.resize(820, 360)
        self._service = service
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, 7, self)
        self.table.setObjectName("sessions_table")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("User"),
                self.tr("Kind"),
                self.tr("Address"),
                self.tr("Client"),
                self.tr("Since"),
                self.tr("Last seen"),
                self.tr("Expires"),
            ]
        )
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table)
        self.message_label = plain_label(parent=self)
        self.message_label.setObjectName("sessions_message_label")
        layout.addWidget(self.message_label)
        buttons = QDialogButtonBox(self)
        refresh = buttons.addButton(self.tr("Refresh"), QDialogButtonBox.ButtonRole.ActionRole)
        refresh.clicked.connect(self.refresh)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def refresh(self) -> None:
        """Ask the server for the open sessions."""
        self.message_label.setText(self.tr("Loading…"))
        self._service.query(ListSessions(req=""), self._on_result, self._on_error)

    def show_sessions(self, sessions: list[SessionView]) -> None:
        """Fill the table (text shown literally: names come from outside)."""
        self.table.setRowCount(len(sessions))
        for row, session in enumerate(sessions):
            cells = [
                session.username,
                session.kind,
                session.remote,
                session.client or "-",
                texts.format_time(session.started_at),
                texts.format_time(session.last_seen_at)
                + (self.tr(" (stale)") if session.stale else ""),
                texts.format_time(session.expires_at) if session.expires_at else "-",
            ]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.message_label.setText(self.tr("{count} open sessions").format(count=len(sessions)))

    def _on_result(self, result: ResultData) -> None:
        if isinstance(result, SessionsResult):
            self.show_sessions(list(result.sessions))

    def _on_error(self, code: str, message: str) -> None:
        logger.info("session list refused: %s %s", code, message)
        self.message_label.setText(texts.error_summary(code))


class SessionsAction(QObject):
    """The Administration menu with "Who is logged in…", enabled for administrators."""

    def __init__(self, window: QMainWindow, service: ConsoleService) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self.dialog: SessionsDialog | None = None
        self.action = QAction(QCoreApplication.translate("MainWindow", "Who is logged in…"), window)
        self.action.setObjectName("sessions_action")
        self.action.triggered.connect(self.open)
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "A&dministration"))
        menu.addAction(self.action)
        self._on_welcome(None)
        service.welcomed.connect(self._on_welcome)

    def _on_welcome(self, _welcome: Welcome | None) -> None:
        user = self._service.user
        self.action.setEnabled(user is not None and user.role is Role.ADMIN)

    def open(self) -> SessionsDialog:
        """Show the session list (loading it afresh)."""
        if self.dialog is None:
            self.dialog = SessionsDialog(self._service, self._window)
        self.dialog.show()
        self.dialog.refresh()
        return self.dialog
