"""An enterprise user's workplace (企业工作台): the only thing its console shows — its
hidden dangers (report with photos, start, complete), its inspections, and the notices
published to it. No alarms, no map, no vehicles (the server sends none either)."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.dangers.panel import DangerBoardPanel
from desktop.plain_text import plain_label
from desktop.publishing.inbox import InboxPanel
from desktop.service import ConsoleService
from realtime.protocol import UserInfo


def make_inbox_panel(service: ConsoleService, parent: QWidget) -> QWidget:
    """The notices published to this enterprise (lane pub's inbox)."""
    return InboxPanel(service, parent)


class EnterpriseWorkplace(QWidget):
    """The enterprise's workplace: its board and its inbox."""

    def __init__(self, service: ConsoleService, user: UserInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("enterprise_workplace")
        enterprise = user.enterprise if isinstance(user.enterprise, str) else ""
        self.title = plain_label(
            self.tr("Workplace of {enterprise} — {user}").format(
                enterprise=enterprise, user=user.display_name or user.username
            ),
            self,
        )
        self.title.setStyleSheet("font-size: 16px; font-weight: bold; padding: 4px")
        self.board = DangerBoardPanel(service, self, enterprise=enterprise)
        self.inbox = make_inbox_panel(service, self)
        # One row of tabs: its dangers, its inspections, the notices published to it.
        self.tabs = self.board.tabs
        self.tabs.addTab(self.inbox, self.tr("Received notices"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.board, 1)
        self.board.listed.connect(self._name_the_enterprise)
        self._user = user
        self.board.on_welcome(user)

    def _name_the_enterprise(self) -> None:
        # UserInfo names the enterprise by its code; its dangers carry its name.
        names = {d.enterprise_name for d in self.board.board.dangers.values() if d.enterprise_name}
        if len(names) == 1:
            self.title.setText(
                self.tr("Workplace of {enterprise} — {user}").format(
                    enterprise=names.pop(), user=self._user.display_name or self._user.username
                )
            )
