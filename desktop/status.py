"""The status bar and the disconnection banner: connection, data age, counts."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStatusBar, QWidget

from desktop import texts
from desktop.data_age import LIVE_SECONDS, Staleness, staleness
from desktop.plain_text import make_plain, plain_label, plain_tooltip
from desktop.service import ConsoleService
from realtime.client import ConnectionState

GOOD_STYLE = "color: #2e7d32; font-weight: bold;"
BUSY_STYLE = "color: #ef6c00; font-weight: bold;"
BAD_STYLE = "color: white; background: #c62828; font-weight: bold; padding: 0 6px;"
STALENESS_STYLES = {Staleness.FRESH: "", Staleness.AMBER: BUSY_STYLE, Staleness.RED: BAD_STYLE}
"""The data age label's look by :func:`~desktop.data_age.staleness`."""
BANNER_STYLE = (
    "color: white; background: #c62828; font-size: 15px; font-weight: bold; padding: 8px;"
)


class StatusPanel(QObject):
    """Fills a :class:`QStatusBar` with the connection, data age and counters."""

    def __init__(self, service: ConsoleService, status_bar: QStatusBar) -> None:
        super().__init__(status_bar)
        self._service = service
        self.connection_label = plain_label(parent=status_bar)
        self.connection_label.setObjectName("connection_label")
        self.data_age_label = plain_label(parent=status_bar)
        self.data_age_label.setObjectName("data_age_label")
        self.unacknowledged_label = plain_label(parent=status_bar)
        self.unacknowledged_label.setObjectName("unacknowledged_label")
        self.queued_label = plain_label(parent=status_bar)
        self.queued_label.setObjectName("queued_label")
        self.user_label = plain_label(parent=status_bar)
        self.user_label.setObjectName("user_label")
        for label in (
            self.connection_label,
            self.data_age_label,
            self.unacknowledged_label,
            self.queued_label,
            self.user_label,
        ):
            status_bar.addPermanentWidget(label)
        service.connection_changed.connect(self.refresh)
        service.alarm_changed.connect(self.refresh)
        service.snapshot_replaced.connect(self.refresh)
        service.queued_changed.connect(self.refresh)
        service.welcomed.connect(self.refresh)
        self.refresh()

    def data_age_text(self) -> str:
        """``数据实时`` while data arrives, else how old the data is (desktop/data_age.py)."""
        age = self._service.store.data_age()
        if age is None:
            return self.tr("Data: none yet")
        seconds = age.total_seconds()
        if self._service.state is ConnectionState.LIVE and seconds < LIVE_SECONDS:
            return self.tr("Data: live")
        return self.tr("Data: {age} old").format(age=texts.format_duration(seconds))

    def data_staleness(self) -> Staleness:
        """How stale the data is: amber, then red, as it ages without word from the server."""
        age = self._service.store.data_age()
        return staleness(None if age is None else age.total_seconds())

    def connection_text(self) -> str:
        """The connection state as the officer reads it."""
        state = self._service.state
        if state is ConnectionState.LIVE:
            server = urlsplit(self._service.state_detail).netloc
            if self._service.server_count > 1 and server:
                return self.tr("Connected to {server}").format(server=server)
            return self.tr("Connected")
        if state is ConnectionState.AUTH_FAILED:
            return self.tr("Login refused: {reason}").format(reason=self._service.state_detail)
        if state is ConnectionState.SESSION_ENDED:
            return self.tr("Session ended: {reason}").format(
                reason=texts.session_end_label(self._service.state_detail)
            )
        if state is ConnectionState.SYNCING:
            return self.tr("Synchronising…")
        if state is ConnectionState.CONNECTING and not self._service.cut_off:
            return self.tr("Connecting…")
        age = self._service.store.data_age()
        if age is None:
            return self.tr("Disconnected")
        return self.tr("Disconnected – data {age} old").format(
            age=texts.format_duration(age.total_seconds())
        )

    def refresh(self, *_args: object) -> None:
        """Redraw every label (also called once a second for the data age)."""
        state = self._service.state
        self.connection_label.setText(self.connection_text())
        self.connection_label.setToolTip(plain_tooltip(self._service.state_detail))
        if state is ConnectionState.LIVE:
            self.connection_label.setStyleSheet(GOOD_STYLE)
        elif self._service.cut_off:
            self.connection_label.setStyleSheet(BAD_STYLE)
        else:
            self.connection_label.setStyleSheet(BUSY_STYLE)
        self.data_age_label.setText(self.data_age_text())
        self.data_age_label.setStyleSheet(STALENESS_STYLES[self.data_staleness()])
        unacknowledged = self._service.store.unacknowledged_count
        self.unacknowledged_label.setText(
            self.tr("Unacknowledged: {count}").format(count=unacknowledged)
        )
        self.unacknowledged_label.setStyleSheet(BAD_STYLE if unacknowledged else "")
        queued = self._service.queued_commands
        self.queued_label.setText(self.tr("Queued commands: {count}").format(count=queued))
        self.queued_label.setVisible(queued > 0)
        user = self._service.user
        self.user_label.setText(
            ""
            if user is None
            else f"{user.display_name or user.username} ({texts.role_label(user.role)})"
        )


class DisconnectedBanner(QLabel):
    """A red banner over the queue while the console is cut off from the server."""

    def __init__(self, service: ConsoleService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        make_plain(self)
        self.setObjectName("disconnected_banner")
        self._service = service
        self.setStyleSheet(BANNER_STYLE)
        self.setWordWrap(True)
        self.hide()
        service.connection_changed.connect(self.refresh)
        service.queued_changed.connect(self.refresh)

    def refresh(self, *_args: object) -> None:
        """Show or hide the banner and update its text."""
        if not self._service.cut_off:
            self.hide()
            return
        age = self._service.store.data_age() or dt.timedelta(0)
        if self._service.state is ConnectionState.AUTH_FAILED:
            text = self.tr("The server refused the login: {reason}").format(
                reason=self._service.state_detail
            )
        elif self._service.state is ConnectionState.SESSION_ENDED:
            text = self.tr("Your session was ended: {reason}. Log in again.").format(
                reason=texts.session_end_label(self._service.state_detail)
            )
        else:
            text = self.tr(
                "No connection to the server. What you see is {age} old and may be out of "
                "date. Commands are queued ({count}) and sent when the connection is back. "
                "Reconnecting…"
            ).format(
                age=texts.format_duration(age.total_seconds()),
                count=self._service.queued_commands,
            )
        self.setText(text)
        self.show()


class NotificationBar(QWidget):
    """A dismissable line over the queue for command outcomes (errors stay until closed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notification_bar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        self.message_label = plain_label(parent=self)
        self.message_label.setObjectName("notification_label")
        self.message_label.setWordWrap(True)
        layout.addWidget(self.message_label, 1)
        close_button = QPushButton("×", self)
        close_button.setFlat(True)
        close_button.setFixedWidth(28)
        close_button.clicked.connect(self.hide)
        layout.addWidget(close_button)
        self.hide()

    def show_message(self, text: str, *, error: bool) -> None:
        """Show ``text``; errors are red."""
        self.message_label.setText(text)
        colour = "#ffebee" if error else "#e8f5e9"
        self.setStyleSheet(f"#notification_bar {{ background: {colour}; }}")
        self.show()
