"""How current the console's data is: the time since the server last showed it current.

The data is current as of the last event, snapshot or telemetry batch that arrived, and
as of the last answer to a ``ping``: the server answers on the same ordered stream as its
events, so a pong means every event before it has arrived. On a quiet link the heartbeat
pings every :data:`HEARTBEAT_SECONDS`, so a data age that keeps growing while the
connection claims to be live means a stuck link, not a quiet night. The status bar shows
the age and turns amber at :data:`AMBER_SECONDS`, red at :data:`RED_SECONDS`.
"""

from __future__ import annotations

import enum
import logging

from PySide6.QtCore import QObject, QTimer

from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.protocol import Ping, ResultData

logger = logging.getLogger(__name__)

LIVE_SECONDS = 2.0
"""Younger data than this shows as live."""
HEARTBEAT_SECONDS = 20.0
"""A quiet link is pinged once its data is this old."""
AMBER_SECONDS = 60.0
"""Data this old is shown amber (the heartbeat was not answered in time)."""
RED_SECONDS = 180.0
"""Data this old is shown red."""
CHECK_MS = 5_000
"""How often the heartbeat looks at the data's age."""


class Staleness(enum.Enum):
    """How the status bar colours the data age."""

    FRESH = "fresh"
    AMBER = "amber"
    RED = "red"


def staleness(age_seconds: float | None) -> Staleness:
    """The colour of a data age (no data yet is amber: nothing to trust so far)."""
    if age_seconds is None:
        return Staleness.AMBER
    if age_seconds >= RED_SECONDS:
        return Staleness.RED
    if age_seconds >= AMBER_SECONDS:
        return Staleness.AMBER
    return Staleness.FRESH


class DataHeartbeat(QObject):
    """Keeps the store's freshness: marks it on telemetry and pings a quiet link."""

    def __init__(self, service: ConsoleService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.pinging = False
        """A ping is waiting for its answer."""
        self.pings = 0
        """Pings answered (for tests and diagnostics)."""
        service.telemetry_received.connect(self._on_telemetry)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def _on_telemetry(self, _telemetry: object) -> None:
        self._service.store.mark_fresh()

    def check(self) -> None:
        """Ping the server if the link is live but nothing arrived for a while."""
        if self.pinging or self._service.state is not ConnectionState.LIVE:
            return
        age = self._service.store.data_age()
        if age is not None and age.total_seconds() < HEARTBEAT_SECONDS:
            return
        self.pinging = True
        self._service.query(Ping(req=""), self._on_pong, self._on_error)

    def _on_pong(self, _result: ResultData) -> None:
        self.pinging = False
        self.pings += 1
        self._service.store.mark_fresh()

    def _on_error(self, code: str, message: str) -> None:
        self.pinging = False
        logger.info("heartbeat not answered: %s %s", code, message)
