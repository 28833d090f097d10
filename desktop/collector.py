"""Cyclic garbage is collected in the GUI thread only.

CPython runs its cycle collector in whichever thread happens to allocate when a
threshold is crossed. The map loads county outlines and tiles on worker threads, which
allocate a lot; a collection there may free a Qt object that belongs to the GUI thread,
and Qt objects must be destroyed in their own thread (otherwise: warnings at best, a
crash at worst). So the console turns automatic collection off and collects on a GUI
timer instead, with the same generation thresholds CPython would use.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

logger = logging.getLogger(__name__)


class GuiThreadCollector(QObject):
    """Collects cyclic garbage on a GUI-thread timer while started."""

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._was_enabled = False
        self.collections = 0
        """How many collections this collector ran (for diagnostics and tests)."""

    def start(self) -> None:
        """Turn automatic collection off and collect on the timer instead."""
        if self._timer.isActive():
            return
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()
        logger.debug("garbage collection moved to the GUI thread")

    def stop(self) -> None:
        """Stop the timer and give collection back to Python as it was."""
        if not self._timer.isActive():
            return
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def collect_due(self) -> int:
        """Collect the oldest generation whose threshold is crossed; return what was found."""
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        if counts[0] <= thresholds[0]:
            return 0
        # As CPython does: an older generation goes along once its own count is over.
        generation = 0
        while generation < 2 and counts[generation + 1] > thresholds[generation + 1]:
            generation += 1
        self.collections += 1
        return gc.collect(generation)
