"""The chat panel of one incident: messages between desks with photos and read markers.

:class:`ChatPanel` shows the incident's messages in ``seq`` order (author and desk, time,
the attachments, who has read it), a box to write in, "attach photo" (a file dialog; the
file goes up in chunks with a progress bar) and, on a click on a message with
attachments, fetches the attachment and opens it. It is a thin Qt layer over
:class:`~desktop.incidents.chat_state.ChatState`; everything goes through the desktop's
:class:`~desktop.service.ConsoleService` (``query`` and ``event_received``). Text is
always shown as plain text.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QStandardPaths,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.incidents.chat_state import (
    ChatMessage,
    ChatState,
    chunks,
    content_type_for,
    size_label,
)
from desktop.service import ConsoleService
from desktop.texts import DISPLAY_TIMEZONE, agency_label
from realtime.aio import TaskSet
from realtime.protocol import (
    MAX_ATTACHMENT_READ_BYTES,
    MAX_MESSAGE_ATTACHMENTS,
    MAX_MESSAGE_CHARS,
    AttachmentData,
    AttachmentView,
    Command,
    Event,
    GetAttachment,
    GetIncidentTimeline,
    MarkRead,
    MessageResult,
    PostMessage,
    ReadResult,
    TimelineResult,
    UploadAttachment,
    UploadResult,
)
from realtime.protocol.chat import sanitise_filename

logger = logging.getLogger(__name__)

ANSWER_TIMEOUT = 40.0
"""Longest the panel waits for one answer (the service gives up after its own timeout)."""
MARK_READ_DELAY_MS = 300
"""Messages arriving together are marked read with one command."""
MESSAGES_MIN_LINES = 9
"""The conversation shows at least this many lines, however short the dock."""
EDITOR_MAX_LINES = 3
"""The message editor's height: the conversation gets the room."""

_R = TypeVar("_R")


class ChatError(Exception):
    """The server refused a chat command (``code`` and its words)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ChatModel(QAbstractListModel):
    """The messages of a :class:`ChatState`, one row each (plain text)."""

    MessageRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, state: ChatState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._rows: list[ChatMessage] = []

    def refresh(self) -> None:
        """Show the state as it is now."""
        self.beginResetModel()
        self._rows = self.state.messages
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:  # noqa: N802
        """Qt: the number of messages."""
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Qt: a message's text block, or the message itself (:attr:`MessageRole`)."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        message = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.describe(message)
        if role == self.MessageRole:
            return message
        if role == Qt.ItemDataRole.TextAlignmentRole and message.mine:
            return Qt.AlignmentFlag.AlignRight
        return None

    def describe(self, message: ChatMessage) -> str:
        """The lines a message shows: who and when, the text, attachments, read marker."""
        desk = f"（{agency_label(message.agency)}）" if message.agency else ""
        when = message.at.astimezone(DISPLAY_TIMEZONE).strftime("%H:%M:%S")
        lines = (
            [f"{message.author_name}{desk}  {when}", message.text]
            if message.text
            else [f"{message.author_name}{desk}  {when}"]
        )
        lines += [
            self.tr("Attachment: {name} ({size})").format(
                name=attachment.filename, size=size_label(attachment.size)
            )
            for attachment in message.attachments
        ]
        readers = self.state.readers_of(message.seq)
        if message.mine and readers:
            lines.append(self.tr("Read by {names}").format(names="、".join(readers)))
        return "\n".join(lines)


def _default_opener(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def _default_chooser(parent: QWidget) -> str:
    name, _filter = QFileDialog.getOpenFileName(
        parent,
        QCoreApplication.translate("FileDialogs", "Attach a photo"),
        "",
        QCoreApplication.translate(
            "FileDialogs", "Photos and PDF (*.jpg *.jpeg *.png *.webp *.pdf)"
        ),
    )
    return name


def _download_folder() -> Path:
    cache = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(cache) / "attachments"


class ChatPanel(QWidget):
    """The chat of incident ``incident_id`` for the user logged in to ``service``.

    ``choose_file`` (the file dialog), ``open_file`` (the desktop's viewer) and
    ``download_folder`` (where fetched attachments are kept) can be replaced, for tests.
    """

    def __init__(
        self,
        service: ConsoleService,
        incident_id: int,
        parent: QWidget | None = None,
        *,
        choose_file: Callable[[QWidget], str] = _default_chooser,
        open_file: Callable[[Path], None] = _default_opener,
        download_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        me = service.user.username if service.user is not None else ""
        self.state = ChatState(incident_id, me)
        self.model = ChatModel(self.state, self)
        self._choose_file = choose_file
        self._open_file = open_file
        self._download_folder = download_folder or _download_folder()
        self._tasks = TaskSet()
        self._uploads = itertools.count(1)
        self.pending: list[AttachmentView] = []
        """Attachments uploaded and waiting to go with the next message."""

        self.messages_view = QListView(self)
        self.messages_view.setModel(self.model)
        self.messages_view.setWordWrap(True)
        self.messages_view.setSpacing(4)
        self.messages_view.clicked.connect(self._on_clicked)
        # The conversation, not the editor, gets the room: several messages stay in view
        # even in a short dock.
        self.messages_view.setMinimumHeight(self.fontMetrics().lineSpacing() * MESSAGES_MIN_LINES)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setVisible(False)
        self.pending_label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.editor = QPlainTextEdit(self)
        self.editor.setPlaceholderText(self.tr("Write a message to every desk on this incident"))
        self.editor.setMaximumHeight(self.fontMetrics().lineSpacing() * EDITOR_MAX_LINES)
        self.attach_button = QPushButton(self.tr("Attach photo…"), self)
        self.attach_button.clicked.connect(self.attach)
        self.send_button = QPushButton(self.tr("Send"), self)
        self.send_button.clicked.connect(self.send)

        buttons = QHBoxLayout()
        buttons.addWidget(self.attach_button)
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messages_view, 1)
        layout.addWidget(self.pending_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.editor)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

        self._mark_timer = QTimer(self)
        self._mark_timer.setSingleShot(True)
        self._mark_timer.setInterval(MARK_READ_DELAY_MS)
        self._mark_timer.timeout.connect(self.mark_read)
        service.event_received.connect(self._on_event)
        self._show_pending()
        self._tasks.start(self._load_history(), "chat-history")

    # ------------------------------------------------------------------ plumbing

    async def close_chat(self) -> None:
        """Stop what the panel still does (uploads, fetches) before it goes away."""
        self._mark_timer.stop()
        await self._tasks.close()

    async def _request(self, command: Command, expected: type[_R]) -> _R:
        return await self._service.ask(command, expected, ChatError, timeout=ANSWER_TIMEOUT)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _changed(self) -> None:
        self.model.refresh()
        self.messages_view.scrollToBottom()
        if self.state.to_mark() is not None:
            self._mark_timer.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Qt: what arrived while the panel was hidden is read now that it shows."""
        super().showEvent(event)
        if self.state.to_mark() is not None:
            self._mark_timer.start()

    # ------------------------------------------------------------------ messages

    async def _load_history(self) -> None:
        try:
            result = await self._request(
                GetIncidentTimeline(req="", incident_id=self.state.incident_id), TimelineResult
            )
        except (ChatError, TimeoutError) as exc:
            logger.info("incident %s: no chat history: %s", self.state.incident_id, exc)
            self._say(self.tr("Earlier messages are not available now."))
            return
        if self.state.load(result.events):
            self._changed()

    def _on_event(self, event: Event) -> None:
        if self.state.apply(event):
            self._changed()

    def send(self) -> None:
        """Send what is written, with the attachments waiting."""
        text = self.editor.toPlainText().strip()
        if not text and not self.pending:
            self._say(self.tr("Write something or attach a photo first."))
            return
        if len(text) > MAX_MESSAGE_CHARS:
            self._say(
                self.tr("A message holds at most {count} characters.").format(
                    count=MAX_MESSAGE_CHARS
                )
            )
            return
        command = PostMessage(
            req="",
            incident_id=self.state.incident_id,
            text=text,
            attachment_ids=[attachment.id for attachment in self.pending],
        )
        self.send_button.setEnabled(False)
        self._tasks.start(self._send(command), "chat-send")

    async def _send(self, command: PostMessage) -> None:
        try:
            result = await self._request(command, MessageResult)
        except (ChatError, TimeoutError) as exc:
            self._say(self.tr("Not sent: {reason}").format(reason=_reason(exc)))
            return
        finally:
            self.send_button.setEnabled(True)
        # The event follows (or came first): the state keeps one entry per seq.
        self.editor.clear()
        self.pending.clear()
        self._show_pending()
        self._say("")
        logger.debug("message %s sent", result.seq)

    def mark_read(self) -> None:
        """Mark the newest message read (the others see "read by …")."""
        upto = self.state.to_mark()
        if upto is None or not self.isVisible():
            return
        self.state.marked = upto
        self._tasks.start(self._mark(upto), "chat-mark-read")

    async def _mark(self, upto: int) -> None:
        command = MarkRead(req="", incident_id=self.state.incident_id, up_to_seq=upto)
        try:
            result = await self._request(command, ReadResult)
        except (ChatError, TimeoutError) as exc:
            logger.info("read mark on incident %s not kept: %s", self.state.incident_id, exc)
            return
        self.state.marked = max(self.state.marked, result.up_to_seq)

    # ------------------------------------------------------------------ attachments

    def attach(self) -> None:
        """Choose a photo (or PDF) and upload it for the next message."""
        if len(self.pending) >= MAX_MESSAGE_ATTACHMENTS:
            self._say(
                self.tr("A message takes at most {count} attachments.").format(
                    count=MAX_MESSAGE_ATTACHMENTS
                )
            )
            return
        name = self._choose_file(self)
        if name:
            self.upload(Path(name))

    def upload(self, path: Path) -> asyncio.Task[None] | None:
        """Upload ``path`` in chunks, showing the progress; it joins the next message."""
        content_type = content_type_for(path.name)
        if content_type is None:
            self._say(self.tr("Only photos (JPEG, PNG, WebP) and PDF files can be attached."))
            return None
        self.attach_button.setEnabled(False)
        return self._tasks.start(self._upload(path, content_type), "chat-upload")

    async def _upload(self, path: Path, content_type: str) -> None:
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            self._say(self.tr("Cannot read {name}: {reason}").format(name=path.name, reason=exc))
            self.attach_button.setEnabled(True)
            return
        upload_id = f"{secrets.token_hex(6)}-{next(self._uploads)}"
        self.progress.setRange(0, max(1, len(data)))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        try:
            for offset, piece, final in chunks(data):
                result = await self._request(
                    UploadAttachment(
                        req="",
                        upload_id=upload_id,
                        incident_id=self.state.incident_id,
                        filename=path.name,
                        content_type=content_type,
                        offset=offset,
                        data=piece,
                        final=final,
                    ),
                    UploadResult,
                )
                self.progress.setValue(result.received)
                if result.attachment is not None:
                    self.pending.append(result.attachment)
                    self._show_pending()
            self._say("")
        except (ChatError, TimeoutError) as exc:
            self._say(
                self.tr("{name} was not attached: {reason}").format(
                    name=path.name, reason=_reason(exc)
                )
            )
        finally:
            self.progress.setVisible(False)
            self.attach_button.setEnabled(True)

    def _show_pending(self) -> None:
        names = "、".join(attachment.filename for attachment in self.pending)
        self.pending_label.setText(
            self.tr("To send with the message: {names}").format(names=names) if names else ""
        )
        self.pending_label.setVisible(bool(names))

    def _on_clicked(self, index: QModelIndex) -> None:
        message = index.data(ChatModel.MessageRole)
        if not isinstance(message, ChatMessage) or not message.attachments:
            return
        if len(message.attachments) == 1:
            self.open_attachment(message.attachments[0])
            return
        menu = QMenu(self)
        for attachment in message.attachments:
            action = menu.addAction(attachment.filename)
            action.triggered.connect(lambda _=False, a=attachment: self.open_attachment(a))
        menu.popup(
            self.messages_view.viewport().mapToGlobal(self.messages_view.visualRect(index).center())
        )

    def open_attachment(self, attachment: AttachmentView) -> asyncio.Task[None]:
        """Fetch an attachment (kept in the download folder) and open it."""
        return self._tasks.start(self._fetch(attachment), "chat-fetch")

    async def _fetch(self, attachment: AttachmentView) -> None:
        # Saved under a name whose extension says what the bytes are (opened by it).
        safe = sanitise_filename(attachment.filename, attachment.content_type)
        target = self._download_folder / f"{attachment.id}-{safe}"
        self._say(self.tr("Fetching {name}…").format(name=attachment.filename))
        data = bytearray()
        try:
            while len(data) < attachment.size:
                part = await self._request(
                    GetAttachment(
                        req="",
                        attachment_id=attachment.id,
                        offset=len(data),
                        length=MAX_ATTACHMENT_READ_BYTES,
                    ),
                    AttachmentData,
                )
                if not part.data:
                    break
                data += part.data
            await asyncio.to_thread(_write, target, bytes(data))
        except (ChatError, TimeoutError, OSError) as exc:
            self._say(
                self.tr("{name} could not be fetched: {reason}").format(
                    name=attachment.filename, reason=_reason(exc)
                )
            )
            return
        self._say("")
        self._open_file(target)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ChatError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
