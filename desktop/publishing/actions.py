"""The 信息发布 menu: opens the publishing window (staff) and the received notices
(agency desks; enterprise consoles place :class:`~desktop.publishing.inbox.InboxPanel`
themselves)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from desktop.publishing.inbox import InboxPanel
from desktop.publishing.panel import PublishingPanel
from desktop.service import ConsoleService
from realtime.protocol import Role, Welcome

STAFF = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.VIEWER})
RECIPIENTS = frozenset({Role.AGENCY, Role.ENTERPRISE})


class PublishingActions(QObject):
    """The menu and its two windows (each made once, on first use)."""

    def __init__(self, window: QMainWindow, service: ConsoleService) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self.panel: PublishingPanel | None = None
        self.inbox: InboxPanel | None = None
        self.publishing_action = QAction(
            QCoreApplication.translate("MainWindow", "Publishing…"), window
        )
        self.publishing_action.setObjectName("publishing_action")
        self.publishing_action.triggered.connect(self.open_publishing)
        self.inbox_action = QAction(
            QCoreApplication.translate("MainWindow", "Received notices"), window
        )
        self.inbox_action.setObjectName("inbox_action")
        self.inbox_action.triggered.connect(self.open_inbox)
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&Publishing"))
        menu.addAction(self.publishing_action)
        menu.addAction(self.inbox_action)
        self._on_welcome(None)
        service.welcomed.connect(self._on_welcome)

    def _on_welcome(self, _welcome: Welcome | None) -> None:
        user = self._service.user
        role = user.role if user is not None else None
        self.publishing_action.setEnabled(role in STAFF)
        self.inbox_action.setEnabled(role in RECIPIENTS)

    def open_publishing(self) -> PublishingPanel:
        """Show the publishing window (and read its list)."""
        if self.panel is None:
            self.panel = PublishingPanel(self._service)
            self.panel.setWindowFlag(Qt.WindowType.Window)
            self.panel.resize(1100, 700)
            self.panel.setParent(self._window, Qt.WindowType.Window)
        self.panel.show()
        self.panel.raise_()
        self.panel.reload()
        return self.panel

    def open_inbox(self) -> InboxPanel:
        """Show the received notices."""
        if self.inbox is None:
            self.inbox = InboxPanel(self._service)
            self.inbox.resize(800, 560)
            self.inbox.setParent(self._window, Qt.WindowType.Window)
        self.inbox.show()
        self.inbox.raise_()
        self.inbox.reload()
        return self.inbox
