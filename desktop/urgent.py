"""The detail pane's default: the most urgent unacknowledged alarm, until one is selected.

An officer who has selected nothing should still see what matters most: the open alarm
nobody has acknowledged yet, highest level first, then the one waiting longest. The pane
says so in its caption and follows as alarms come and go; once the officer selects an
alarm, the pane shows that one instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QItemSelection, QObject

from desktop.alarm_queue import AlarmQueueView
from desktop.detail_pane import AlarmDetailPane
from desktop.service import ConsoleService
from desktop.state import AlarmStore
from realtime.protocol import AlarmView
from realtime.states import LEVEL_RANK, AlarmState


def most_urgent_unacknowledged(alarms: Iterable[AlarmView]) -> AlarmView | None:
    """The unacknowledged alarm of the highest level, the oldest first; None if none."""
    waiting = (alarm for alarm in alarms if alarm.state is AlarmState.NEW)
    return min(
        waiting,
        key=lambda alarm: (LEVEL_RANK[alarm.level], alarm.first_seen, alarm.id),
        default=None,
    )


class UrgentDetail(QObject):
    """Shows the most urgent unacknowledged alarm in ``pane`` while ``queue`` has no selection."""

    def __init__(
        self,
        service: ConsoleService,
        store: AlarmStore,
        queue: AlarmQueueView,
        pane: AlarmDetailPane,
    ) -> None:
        super().__init__(pane)
        self._store = store
        self._queue = queue
        self._pane = pane
        self.shown_alarm_id: int | None = None
        """The alarm shown by default (None while a selection is shown, or nothing waits)."""
        service.alarm_changed.connect(self.update)
        service.snapshot_replaced.connect(self.update)
        queue.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.update()

    @property
    def caption(self) -> str:
        """The pane's caption while it shows the default alarm."""
        return self.tr("Most urgent unacknowledged alarm")

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.update()

    def update(self, *_args: object) -> None:
        """Show the default alarm unless the officer has selected one."""
        if self._queue.selected_alarm_id() is not None:
            self.shown_alarm_id = None
            self._pane.set_caption("")
            return
        alarm = most_urgent_unacknowledged(self._store)
        alarm_id = alarm.id if alarm is not None else None
        if alarm_id != self._pane.alarm_id or alarm_id != self.shown_alarm_id:
            self._pane.show_alarm(alarm_id)
        self.shown_alarm_id = alarm_id
        self._pane.set_caption(self.caption if alarm is not None else "")
