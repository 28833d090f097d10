"""Applies large telemetry messages to a :class:`~desktop.map.vehicles.VehicleStore`
a slice per event-loop turn, so the map keeps painting while 20,000 vehicles move.

The store queues a message bigger than :data:`~desktop.map.vehicles.DEFER_ABOVE`
positions in chunks and asks this feed to drain them; each turn applies chunks for at most
:data:`DRAIN_BUDGET_MS` and yields to the event loop (and so to the next paint).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from desktop.map.vehicles import VehicleStore

logger = logging.getLogger(__name__)

DRAIN_BUDGET_MS = 6.0
"""Time spent applying queued positions per event-loop turn (a frame lasts ~16-33 ms)."""


class VehicleFeed(QObject):
    """Drains a store's queued telemetry between frames, then calls ``on_drained``."""

    def __init__(
        self,
        store: VehicleStore,
        on_drained: Callable[[], None],
        *,
        budget_ms: float = DRAIN_BUDGET_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._on_drained = on_drained
        self._budget_s = budget_ms / 1000.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._drain)
        self._schedule = self._timer.start
        store.set_scheduler(self._schedule)

    def _drain(self) -> None:
        if self._store.pending:
            self._store.apply_pending(self._budget_s)
            self._timer.start()  # the next slice, or the redraw, in a turn of its own
        else:
            self._on_drained()

    def close(self) -> None:
        """Apply whatever waits and stop deferring (the map is closing)."""
        self._timer.stop()
        self._store.set_scheduler(None)
