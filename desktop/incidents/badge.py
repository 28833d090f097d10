"""The status bar's task badge: overdue or escalated to this desk, and supervised.

It turns red while anything is overdue or escalated here, plays the alarm sound and
flashes briefly when a task escalates to this desk, and a click opens the task list.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from desktop.incidents.state import Badge, BoardChange, IncidentBoard
from desktop.sounder import AlarmSounder

CALM_STYLE = "border: none; padding: 0 6px;"
URGENT_STYLE = "border: none; color: white; background: #c62828; font-weight: bold; padding: 0 6px;"
FLASH_STYLE = "border: none; color: black; background: #ffeb3b; font-weight: bold; padding: 0 6px;"
FLASH_MS = 3000
"""How long the badge flashes after a task escalates to this desk."""


class TaskBadge(QPushButton):
    """A flat button in the status bar with the desk's task counts."""

    open_requested = Signal()
    """The officer clicked the badge: show the task list."""

    def __init__(
        self, board: IncidentBoard, sounder: AlarmSounder, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("task_badge")
        self.setFlat(True)
        self._board = board
        self._sounder = sounder
        self.flashing = False
        """Whether the brief highlight after an escalation is showing."""
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.setInterval(FLASH_MS)
        self._flash_timer.timeout.connect(self._end_flash)
        self.clicked.connect(self.open_requested.emit)
        board.changed.connect(self._on_board_change)
        self.refresh()

    @property
    def counts(self) -> Badge:
        """The counts shown."""
        return self._board.badge()

    def _on_board_change(self, change: BoardChange) -> None:
        if change.escalated_to_me:
            self.announce()
        self.refresh()

    def announce(self) -> None:
        """A task escalated to this desk: sound and a brief highlight."""
        self._sounder.play()
        self.flashing = True
        self._flash_timer.start()
        self.refresh()

    def _end_flash(self) -> None:
        self.flashing = False
        self.refresh()

    def refresh(self) -> None:
        """Redraw the counts (the window calls this every second: deadlines pass)."""
        counts = self.counts
        self.setText(
            self.tr("Overdue/escalated: {urgent}  Supervised: {supervised}").format(
                urgent=counts.urgent, supervised=counts.supervised
            )
        )
        self.setToolTip(
            self.tr(
                "Overdue: {overdue}, escalated to this desk: {escalated}, supervision to "
                "answer: {supervised}. Click for the list."
            ).format(
                overdue=counts.overdue, escalated=counts.escalated, supervised=counts.supervised
            )
        )
        if self.flashing:
            self.setStyleSheet(FLASH_STYLE)
        elif counts.urgent:
            self.setStyleSheet(URGENT_STYLE)
        else:
            self.setStyleSheet(CALM_STYLE)
