"""信息发布: the notices of the user's area by state, the draft editor, the workflow
buttons (submit; approve and send back for a supervisor other than whoever drafted or
submitted it; withdraw) and the selected notice's receipts per recipient and channel,
kept current by the ``notice.*`` events. The buttons are a courtesy; the server decides.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.incidents.labels import format_moment, refusal_text
from desktop.plain_text import plain_label, rich_label
from desktop.publishing.editor import NoticeEditor
from desktop.publishing.labels import (
    LEVEL_COLOURS,
    channel_label,
    delivery_label,
    kind_label,
    level_label,
    recipient_kind_label,
    state_label,
)
from desktop.service import ConsoleService
from realtime.aio import TaskSet
from realtime.client import ConnectionState
from realtime.protocol import (
    ApproveNotice,
    CancelNotice,
    Event,
    GetNotice,
    ListNotices,
    NoticeDetail,
    NoticeInput,
    NoticeResult,
    NoticesResult,
    NoticeState,
    NoticeView,
    ReceiptRow,
    RejectNotice,
    Role,
    SaveNotice,
    SubmitNotice,
)

logger = logging.getLogger(__name__)

REFRESH_DELAY_MS = 300
"""Delivery receipts come in bursts: read once after."""
NOTICE_COLUMNS = ("state", "level", "kind", "title", "drafted_by", "at", "deliveries")
RECEIPT_COLUMNS = ("recipient", "kind", "channel", "address", "state", "at", "error")
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


class PanelError(Exception):
    """A refused or failed command (code and the server's message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PublishingPanel(QWidget):
    """The notices and their receipts."""

    message = Signal(str, bool)
    """(text, is an error) for the window's notification bar."""

    def __init__(self, service: ConsoleService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("publishing_panel")
        self.setWindowTitle(self.tr("Publishing"))
        self._service = service
        self._tasks = TaskSet()
        self.notices: list[NoticeView] = []
        self.receipts: list[ReceiptRow] = []
        self.selected: NoticeView | None = None
        self.filter = QComboBox(self)
        self.filter.addItem(self.tr("All"), None)
        for state in NoticeState:
            self.filter.addItem(state_label(state), state)
        self.filter.currentIndexChanged.connect(self.reload)
        self.status = plain_label(parent=self)
        self.status.setWordWrap(True)
        refresh = QPushButton(self.tr("Refresh"), self)
        refresh.clicked.connect(self.reload)
        self.buttons = self._make_buttons()
        self.table = _table(
            self,
            "notices_table",
            [
                self.tr("State"),
                self.tr("Level"),
                self.tr("Kind"),
                self.tr("Title"),
                self.tr("Drafted by"),
                self.tr("Time"),
                self.tr("Sent / delivered / read / failed"),
            ],
        )
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.detail = rich_label(self)
        self.detail.setObjectName("notice_detail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.receipt_table = _table(
            self,
            "receipts_table",
            [
                self.tr("Recipient"),
                self.tr("Type"),
                self.tr("Channel"),
                self.tr("Address"),
                self.tr("State"),
                self.tr("Time"),
                self.tr("Error"),
            ],
        )
        top = QHBoxLayout()
        top.addWidget(plain_label(self.tr("Show"), self))
        top.addWidget(self.filter)
        top.addWidget(self.status, 1)
        top.addWidget(refresh)
        actions = QHBoxLayout()
        for button in self.buttons.values():
            actions.addWidget(button)
        actions.addStretch(1)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.detail)
        lower_layout.addWidget(self.receipt_table)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(actions)
        layout.addWidget(split, 1)
        self._list_timer = _single_shot(self, self.reload)
        self._detail_timer = _single_shot(self, self._reload_detail)
        service.event_received.connect(self._on_event)
        service.connection_changed.connect(self._on_connection_changed)
        self._update_buttons()

    def _make_buttons(self) -> dict[str, QPushButton]:
        buttons = {
            "new": QPushButton(self.tr("New…"), self),
            "edit": QPushButton(self.tr("Edit…"), self),
            "submit": QPushButton(self.tr("Submit"), self),
            "approve": QPushButton(self.tr("Approve and publish"), self),
            "reject": QPushButton(self.tr("Send back…"), self),
            "cancel": QPushButton(self.tr("Withdraw…"), self),
        }
        for name, button in buttons.items():
            button.setObjectName(f"notice_{name}_button")
        buttons["new"].clicked.connect(lambda: self.open_editor(None))
        buttons["edit"].clicked.connect(lambda: self.open_editor(self.selected))
        buttons["submit"].clicked.connect(self.submit)
        buttons["approve"].clicked.connect(self.approve)
        buttons["reject"].clicked.connect(self.send_back)
        buttons["cancel"].clicked.connect(self.withdraw)
        return buttons

    # ------------------------------------------------------------------ reading

    def reload(self) -> None:
        """Read the list (of the state chosen) again."""
        state = self.filter.currentData()
        command = ListNotices(req="", states=[state] if isinstance(state, NoticeState) else [])
        self._start(self._list(command), "notice list")

    async def _list(self, command: ListNotices) -> None:
        result = await self._service.ask(command, NoticesResult, PanelError)
        self.notices = result.notices
        self.status.setText(self.tr("{count} notice(s)").format(count=len(self.notices)))
        self._fill_notices()

    def _reload_detail(self) -> None:
        if self.selected is not None:
            self._start(self._detail(self.selected.id), "notice detail")

    async def _detail(self, notice_id: int) -> None:
        result = await self._service.ask(
            GetNotice(req="", notice_id=notice_id), NoticeDetail, PanelError
        )
        if self.selected is None or self.selected.id != notice_id:
            return
        self.selected = result.notice
        self.receipts = result.receipts
        self._show_detail()

    def _on_connection_changed(self, state: ConnectionState, _detail: str) -> None:
        if state is ConnectionState.LIVE:
            self.reload()

    def _on_event(self, event: Event) -> None:
        notice = event.notice
        if not isinstance(notice, NoticeView):
            return
        self._list_timer.start()
        if self.selected is not None and self.selected.id == notice.id:
            self._detail_timer.start()

    # ------------------------------------------------------------------ acting

    def open_editor(
        self, notice: NoticeView | None, draft: NoticeInput | None = None
    ) -> NoticeEditor:
        """Open the editor on ``notice`` (None: a new draft, from ``draft`` if given)."""
        editor = NoticeEditor(notice.notice if notice is not None else draft, self)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def save() -> None:
            command = SaveNotice(
                req="",
                notice=editor.notice(),
                notice_id=notice.id if notice is not None else None,
                version=notice.version if notice is not None else None,
            )
            self._act(command, self.tr("Draft saved."))

        editor.accepted.connect(save)
        editor.open()
        return editor

    def submit(self) -> None:
        """Send the selected draft for approval."""
        if (notice := self.selected) is not None:
            command = SubmitNotice(req="", notice_id=notice.id, version=notice.version)
            self._act(command, self.tr("Submitted for approval."))

    def approve(self) -> None:
        """Approve and publish the selected notice."""
        if (notice := self.selected) is not None:
            command = ApproveNotice(req="", notice_id=notice.id, version=notice.version)
            self._act(command, self.tr("Approved and published."))

    def send_back(self, reason: str | None = None) -> None:
        """Send the selected notice back to its drafter with a reason."""
        if (notice := self.selected) is None:
            return
        reason = reason or self._ask_reason(self.tr("Send back"))
        if reason:
            command = RejectNotice(
                req="", notice_id=notice.id, version=notice.version, reason=reason
            )
            self._act(command, self.tr("Sent back."))

    def withdraw(self, reason: str | None = None) -> None:
        """Withdraw the selected published notice."""
        if (notice := self.selected) is None:
            return
        reason = reason or self._ask_reason(self.tr("Withdraw"))
        if reason:
            command = CancelNotice(
                req="", notice_id=notice.id, version=notice.version, reason=reason
            )
            self._act(command, self.tr("Withdrawn."))

    def _ask_reason(self, title: str) -> str:
        text, ok = QInputDialog.getText(self, title, self.tr("Reason"))
        return text.strip() if ok else ""

    def _act(
        self,
        command: SaveNotice | SubmitNotice | ApproveNotice | RejectNotice | CancelNotice,
        done: str,
    ) -> None:
        async def run() -> None:
            result = await self._service.ask(command, NoticeResult, PanelError)
            self.selected = result.notice
            self._update_buttons()
            self.message.emit(done, False)
            self.reload()
            self._reload_detail()

        self._start(run(), type(command).__name__)

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
            except PanelError as exc:
                text = refusal_text(exc.code, exc.message)
                self.status.setText(text)
                self.message.emit(text, True)
            except TimeoutError:
                self.status.setText(self.tr("No answer in time."))

        self._tasks.start(guarded(), name=f"publishing {what}")

    # ------------------------------------------------------------------ showing

    def _fill_notices(self) -> None:
        selected = self.selected.id if self.selected is not None else None
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.notices))
        for row, notice in enumerate(self.notices):
            for column, text in enumerate(self.notice_cells(notice)):
                item = QTableWidgetItem(text)
                if column == NOTICE_COLUMNS.index("level"):
                    item.setBackground(LEVEL_COLOURS[notice.notice.level])
                self.table.setItem(row, column, item)
            if notice.id == selected:
                self.table.selectRow(row)
                self.selected = notice
        self.table.blockSignals(False)
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def notice_cells(self, notice: NoticeView) -> list[str]:
        """The row of a notice, column by column."""
        counts = notice.counts
        return [
            state_label(notice.state),
            level_label(notice.notice.level),
            kind_label(notice.notice.kind),
            notice.notice.title,
            notice.drafted_by,
            format_moment(notice.published_at or notice.submitted_at or notice.drafted_at),
            f"{counts.sent} / {counts.delivered} / {counts.read} / {counts.failed}"
            if notice.state in (NoticeState.PUBLISHED, NoticeState.CANCELLED)
            else "",
        ]

    def _on_selection(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        self.selected = self.notices[min(rows)] if rows else None
        self.receipts = []
        self._show_detail()
        self._reload_detail()

    def _show_detail(self) -> None:
        notice = self.selected
        if notice is None:
            self.detail.clear()
        else:
            # The drafter's and the approver's text: escaped, so it shows literally.
            parts = [notice.notice.body]
            if notice.notice.instruction:
                parts.append(self.tr("Instruction: {text}").format(text=notice.notice.instruction))
            if notice.reason:
                parts.append(self.tr("Reason: {text}").format(text=notice.reason))
            self.detail.setText(
                f"<b>{html.escape(notice.notice.title)}</b><br>"
                + "<br>".join(html.escape(part) for part in parts)
            )
        self.receipt_table.setRowCount(len(self.receipts))
        for row, receipt in enumerate(self.receipts):
            for column, text in enumerate(self.receipt_cells(receipt)):
                self.receipt_table.setItem(row, column, QTableWidgetItem(text))
        self.receipt_table.resizeColumnsToContents()
        self._update_buttons()

    def receipt_cells(self, receipt: ReceiptRow) -> list[str]:
        """The row of a receipt (the address as the server masked it)."""
        return [
            receipt.recipient,
            recipient_kind_label(receipt.recipient_kind),
            channel_label(receipt.channel),
            receipt.address,
            delivery_label(receipt.state),
            format_moment(receipt.at),
            receipt.error,
        ]

    def _update_buttons(self) -> None:
        user = self._service.user
        notice = self.selected
        name = user.username if user is not None else ""
        role = user.role if user is not None else None
        drafting = role in (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)
        supervisor = role in SUPERVISORS
        state = notice.state if notice is not None else None
        author = notice is not None and (notice.drafted_by == name or supervisor)
        editable = state in (NoticeState.DRAFT, NoticeState.REJECTED) and author
        # Two people, always: whoever drafted or submitted it never approves it.
        second = notice is not None and name not in (notice.drafted_by, notice.submitted_by)
        enabled = {
            "new": drafting,
            "edit": editable,
            "submit": editable,
            "approve": supervisor and state is NoticeState.PENDING and second,
            "reject": supervisor and state is NoticeState.PENDING,
            "cancel": supervisor and state is NoticeState.PUBLISHED,
        }
        for key, button in self.buttons.items():
            button.setEnabled(bool(enabled[key]))
        self.buttons["approve"].setToolTip(
            self.tr("A notice you drafted or submitted is approved by another supervisor.")
            if supervisor and state is NoticeState.PENDING and not second
            else ""
        )

    def text_at(self, table: QTableWidget, row: int, column: int) -> str:
        """The text of a cell (for tests and screen readers)."""
        item = table.item(row, column)
        return item.text() if item is not None else ""

    def close_tasks(self) -> None:
        """Cancel the commands still running (the window is closing)."""
        self._tasks.cancel()


def _table(parent: QWidget, name: str, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _single_shot(parent: QWidget, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(REFRESH_DELAY_MS)
    timer.timeout.connect(slot)
    return timer
