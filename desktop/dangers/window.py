"""The hidden dangers in the main window: the 隐患 dock and its menu for the bureau, and,
when an enterprise user logs in, the switch to its workplace (every other dock, the
queue, toolbars and menus put away).

Kept out of :mod:`desktop.main_window` so the window stays layout and wiring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QBoxLayout, QDockWidget, QLayout, QMainWindow, QToolBar, QWidget

from desktop.dangers.panel import DangerBoardPanel
from desktop.dangers.workplace import EnterpriseWorkplace
from desktop.service import ConsoleService
from realtime.protocol import Role, UserInfo

SEES_DANGERS = frozenset(
    {Role.OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.VIEWER, Role.TRAINER, Role.ENTERPRISE}
)


_STATUS_KEPT = frozenset({"connection_label", "data_age_label", "queued_label", "user_label"})
"""The status-bar labels an enterprise's workplace shows."""


class WindowDangers(QObject):
    """Builds and wires the window's hidden-danger views."""

    def __init__(
        self,
        window: QMainWindow,
        service: ConsoleService,
        *,
        keep: tuple[QWidget, ...],
        notify: Callable[[str, bool], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self._keep = keep
        """What stays of the central widget in the workplace (the link banner, the
        notification bar)."""
        self._notify = notify
        self.panel = DangerBoardPanel(service, window)
        self.panel.message.connect(notify)
        self.dock = QDockWidget(QCoreApplication.translate("MainWindow", "Hidden dangers"), window)
        self.dock.setObjectName("danger_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self.menu = window.menuBar().addMenu(
            QCoreApplication.translate("MainWindow", "Hidden &dangers")
        )
        self.show_action = QAction(
            QCoreApplication.translate("MainWindow", "Hidden danger board"), window
        )
        self.show_action.triggered.connect(self.show)
        self.menu.addAction(self.show_action)
        self.workplace: EnterpriseWorkplace | None = None
        """Set when an enterprise user is logged in."""

    def show(self) -> None:
        """Open the board."""
        self.dock.show()
        self.dock.raise_()
        self.panel.reload()

    def on_welcome(self, user: UserInfo) -> None:
        """The role decides: an enterprise gets its workplace; staff get the board."""
        if user.role is Role.ENTERPRISE:
            self.enter_workplace(user)
            return
        self.menu.menuAction().setVisible(user.role in SEES_DANGERS)
        if user.role in SEES_DANGERS:
            self.panel.on_welcome(user)

    def enter_workplace(self, user: UserInfo) -> None:
        """Show only the enterprise's workplace."""
        window = self._window
        for dock in window.findChildren(QDockWidget):
            # Taken out of the layout, not only hidden: the tab bars of tabified docks
            # stayed and were drawn over the workplace's own tabs.
            window.removeDockWidget(dock)
            dock.hide()
            dock.toggleViewAction().setVisible(False)
        for toolbar in window.findChildren(QToolBar):
            toolbar.hide()
        # The status bar keeps the connection, the data's age, the queued commands and the
        # user; alarm, task, warning and sound counters mean nothing to an enterprise.
        for widget in window.statusBar().findChildren(
            QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
        ):
            if widget.objectName() not in _STATUS_KEPT:
                widget.hide()
        language = QCoreApplication.translate("MainWindow", "&Language")
        for action in window.menuBar().actions():
            action.setVisible(action.text() == language)
        central = window.centralWidget()
        layout = central.layout() if central is not None else None
        if self.workplace is None and layout is not None:
            _hide_items(layout, self._keep)  # the alarm queue and its filters
            self.workplace = EnterpriseWorkplace(self._service, user, window)
            self.workplace.board.message.connect(self._notify)
            if isinstance(layout, QBoxLayout):
                layout.addWidget(self.workplace, 1)
        window.setWindowTitle(
            QCoreApplication.translate(
                "MainWindow", "DutyDesk – enterprise workplace – {user}"
            ).format(user=user.display_name or user.username)
        )


def _hide_items(layout: QLayout, keep: Iterable[QWidget]) -> None:
    """Hide every widget of ``layout`` but ``keep``, also those of its nested layouts (the
    queue's filter row is one: left visible, it was squeezed over the workplace's tabs)."""
    kept = set(keep)
    for index in range(layout.count()):
        item = layout.itemAt(index)
        if item is None:
            continue
        nested = item.layout()
        if nested is not None:
            _hide_items(nested, kept)
        widget = item.widget()
        if widget is not None and widget not in kept:
            widget.hide()
