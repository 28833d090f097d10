"""收到的通知: the notices published to the user's enterprise or agency, newest first,
unread ones in bold; opening one marks it read (its sender sees the receipt). A
``notice.published``/``notice.cancelled`` event brings the list up to date at once.
Enterprise and agency consoles place :class:`InboxPanel` where their layout wants it.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.incidents.labels import format_moment, refusal_text
from desktop.plain_text import plain_label, rich_label
from desktop.publishing.labels import LEVEL_COLOURS, kind_label, level_label
from desktop.service import ConsoleService
from realtime.aio import TaskSet
from realtime.client import ConnectionState
from realtime.protocol import Event, InboxItem, InboxResult, ListInbox, MarkNoticeRead

logger = logging.getLogger(__name__)

COLUMNS = ("level", "kind", "title", "published")


class InboxError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InboxPanel(QWidget):
    """The notices received, and the one opened."""

    unread_changed = Signal(int)
    """How many received notices are still unread (for a badge)."""

    def __init__(self, service: ConsoleService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inbox_panel")
        self.setWindowTitle(self.tr("Received notices"))
        self._service = service
        self._tasks = TaskSet()
        self.items: list[InboxItem] = []
        self.status = plain_label(parent=self)
        refresh = QPushButton(self.tr("Refresh"), self)
        refresh.clicked.connect(self.reload)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("inbox_table")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Level"), self.tr("Kind"), self.tr("Title"), self.tr("Published")]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.text = rich_label(self)
        self.text.setObjectName("inbox_text")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(refresh)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.text)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        service.event_received.connect(self._on_event)
        service.connection_changed.connect(self._on_connection_changed)

    @property
    def unread(self) -> int:
        """Received notices not opened yet."""
        return sum(1 for item in self.items if item.read_at is None and not item.cancelled)

    def reload(self) -> None:
        """Read the inbox again."""
        self._start(self._read(), "inbox")

    async def _read(self) -> None:
        result = await self._service.ask(ListInbox(req=""), InboxResult, InboxError)
        self.show_items(result.items)

    def show_items(self, items: list[InboxItem]) -> None:
        """Show ``items`` (newest first)."""
        self.items = items
        self.status.setText(
            self.tr("{count} notice(s), {unread} unread").format(
                count=len(items), unread=self.unread
            )
        )
        self.table.blockSignals(True)
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            cells = [
                level_label(item.level),
                kind_label(item.kind),
                (self.tr("[Withdrawn] ") if item.cancelled else "") + item.title,
                format_moment(item.published_at),
            ]
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column == 0:
                    cell.setBackground(LEVEL_COLOURS[item.level])
                if item.read_at is None:
                    font = QFont(cell.font())
                    font.setBold(True)
                    cell.setFont(font)
                self.table.setItem(row, column, cell)
        self.table.blockSignals(False)
        self.table.resizeColumnsToContents()
        self.unread_changed.emit(self.unread)

    def open_item(self, row: int) -> None:
        """Show the notice of ``row`` and mark it read."""
        item = self.items[row]
        # The notice's text is the drafter's: escaped, so it shows literally.
        parts = [item.body]
        if item.instruction:
            parts.append(self.tr("What to do: {text}").format(text=item.instruction))
        if item.area:
            parts.append(self.tr("Area: {text}").format(text=item.area))
        if item.cancelled:
            parts.append(self.tr("This notice was withdrawn."))
        self.text.setText(
            f"<b>{html.escape(item.title)}</b><br>"
            + "<br>".join(html.escape(part) for part in parts)
        )
        if item.read_at is None:
            self._start(self._mark_read(item.id), "notice read")

    async def _mark_read(self, notice_id: int) -> None:
        result = await self._service.ask(
            MarkNoticeRead(req="", notice_id=notice_id), InboxResult, InboxError
        )
        read = {item.id: item for item in result.items}
        self.show_items([read.get(item.id, item) for item in self.items])

    def _on_selection(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        if rows:
            self.open_item(rows[0])

    def _on_event(self, event: Event) -> None:
        if isinstance(event.inbox, InboxItem):
            self.reload()

    def _on_connection_changed(self, state: ConnectionState, _detail: str) -> None:
        if state is ConnectionState.LIVE:
            self.reload()

    def _start(self, coroutine: Coroutine[Any, Any, None], what: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # built before the loop runs: the first LIVE reads it
            coroutine.close()
            logger.debug("no running loop: %s not read", what)
            return

        async def guarded() -> None:
            try:
                await coroutine
            except InboxError as exc:
                self.status.setText(refusal_text(exc.code, exc.message))
            except TimeoutError:
                self.status.setText(self.tr("No answer in time."))

        self._tasks.start(guarded(), name=f"inbox {what}")

    def close_tasks(self) -> None:
        """Cancel the reads still running (the window is closing)."""
        self._tasks.cancel()
