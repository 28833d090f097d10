"""The event log at login: the events of the shift so far, then the live ones.

After each welcome (a login, a reconnect) the pane asks the server for the events since
the start of the user's shift (``events.recent``, scoped by the server as the live stream
is) and merges them into the log by ``seq``; live events that arrive meanwhile are shown
once. A line over the log says it is loading, then how many events were loaded and from
when.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop import texts
from desktop.event_log import EventLogView
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.protocol import (
    MAX_RECENT_EVENTS,
    RecentEvents,
    RecentEventsResult,
    ResultData,
    Role,
)

logger = logging.getLogger(__name__)


class EventLogPane(QWidget):
    """The event log with its loading line; fills the log at every welcome."""

    def __init__(
        self, service: ConsoleService, log: EventLogView, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("event_log_pane")
        self._service = service
        self.log = log
        self.loading = False
        """Whether the events of the shift are being loaded."""
        self.loaded: int | None = None
        """How many events the last load brought (None before one finished)."""
        self._username: str | None = None
        self.status_label = plain_label(parent=self)
        self.status_label.setObjectName("event_log_status")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.status_label)
        layout.addWidget(log, 1)
        service.welcomed.connect(self._on_welcome)
        if service.user is not None and service.started:
            # The window was opened from the welcome itself: load now.
            self._username = service.user.username
            self.load()

    def _on_welcome(self, _welcome: object) -> None:
        user = self._service.user
        username = user.username if user is not None else None
        if username != self._username:
            self.log.clear_events()  # another user: nothing of the last one's log stays
            self._username = username
        if user is not None and user.role is Role.ENTERPRISE:
            return  # an enterprise user's console holds its workplace only
        self.load()

    def load(self) -> None:
        """Ask for the events of the shift; they merge into the log when they arrive."""
        self.loading = True
        self.status_label.setText(self.tr("Loading this shift's events…"))
        self.status_label.show()
        self._service.query(
            RecentEvents(req="", limit=MAX_RECENT_EVENTS), self._on_result, self._on_error
        )

    def _on_result(self, result: ResultData) -> None:
        self.loading = False
        if not isinstance(result, RecentEventsResult):
            self._on_error("bad_message", type(result).__name__)
            return
        self.log.add_events(result.events)
        self.loaded = len(result.events)
        text = self.tr("{count} events of this shift loaded (since {time})").format(
            count=self.loaded, time=texts.format_time(result.since)
        )
        if result.more:
            text += self.tr("; older ones are not shown")
        self.status_label.setText(text)
        logger.info("loaded %s events since %s", self.loaded, result.since)

    def _on_error(self, code: str, message: str) -> None:
        self.loading = False
        logger.info("the events of the shift were not loaded: %s %s", code, message)
        self.status_label.setText(
            self.tr("The events of this shift could not be loaded: {reason}").format(
                reason=texts.error_summary(code)
            )
        )
