"""A plan's documents (预案文档) in the registry panel: list them, open one, upload one.

:class:`PlanDocumentsBox` sits under the detail of the selected plan. It names each
document by its file (read with a one-byte ``attachment.get``), opens one on a double
click (fetched into the download folder, opened with the desktop's viewer) and, for who
may change the plan, offers "上传预案文档…": a PDF chosen in a file dialog goes up in
chunks (``attachment.upload`` with the plan's code) with a progress bar, then the plan is
saved (``registry.save``, the version held) with the new attachment's id appended to its
``documents``. The server decides who may attach and read; this is a courtesy.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QCoreApplication, QStandardPaths, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.incidents.chat_state import chunks, size_label
from desktop.plain_text import plain_label
from desktop.registry.forms import form_of, parse_form
from desktop.registry.state import RegistryState
from desktop.service import ConsoleService
from realtime.aio import TaskSet
from realtime.client import ConnectionState
from realtime.protocol import (
    MAX_ATTACHMENT_READ_BYTES,
    AttachmentData,
    AttachmentView,
    Command,
    GetAttachment,
    ItemKind,
    PlanDetails,
    RegistryItemResult,
    RegistryItemView,
    ResultData,
    SaveRegistryItem,
    UploadAttachment,
    UploadResult,
)
from realtime.protocol.chat import sanitise_filename

logger = logging.getLogger(__name__)

PDF = "application/pdf"
MAX_PLAN_DOCUMENTS = 20
"""As many documents as a plan holds (the wire's limit on ``documents``)."""
ANSWER_TIMEOUT = 40.0
"""Longest the box waits for one answer."""
LIST_LINES = 4
"""Rows the document list shows before it scrolls."""
DocumentRole = Qt.ItemDataRole.UserRole + 1
"""The attachment id of a row (None: an entry that is not an attachment id)."""

_R = TypeVar("_R")


class Error(Exception):
    """The server refused a command of the box (``code`` and its words)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _default_chooser(parent: QWidget) -> str:
    name, _filter = QFileDialog.getOpenFileName(
        parent,
        QCoreApplication.translate("FileDialogs", "Upload a plan document"),
        "",
        QCoreApplication.translate("FileDialogs", "PDF documents (*.pdf)"),
    )
    return name


def _default_opener(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def _download_folder() -> Path:
    cache = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(cache) / "plan-documents"


def is_pdf(path: Path) -> bool:
    """Whether the file is named and starts like a PDF (the server checks the bytes too)."""
    return path.suffix.lower() == ".pdf"


def with_document(plan: RegistryItemView, attachment_id: int) -> SaveRegistryItem:
    """The ``registry.save`` that appends ``attachment_id`` to the plan's documents."""
    form = form_of(plan)
    documents = form.get("documents", [])
    form["documents"] = [*(str(entry) for entry in documents), str(attachment_id)]
    item, errors = parse_form(ItemKind.PLAN, form)
    if item is None:
        raise Error("invalid", "; ".join(f"{error.field}: {error.problem}" for error in errors))
    return SaveRegistryItem(req="", item=item, expected_version=plan.version)


class PlanDocumentsBox(QGroupBox):
    """The documents of the plan shown in the registry panel.

    ``choose_file`` (the file dialog), ``open_file`` (the desktop's viewer) and
    ``download_folder`` can be replaced (attributes of the same names), for tests.
    """

    def __init__(
        self,
        service: ConsoleService,
        state: RegistryState,
        parent: QWidget | None = None,
        *,
        choose_file: Callable[[QWidget], str] = _default_chooser,
        open_file: Callable[[Path], None] = _default_opener,
        download_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("plan_documents")
        self.setTitle(self.tr("Plan documents"))
        self._service = service
        self._state = state
        self.choose_file = choose_file
        self.open_file = open_file
        self.download_folder = download_folder or _download_folder()
        self._tasks = TaskSet()
        self._uploads = itertools.count(1)
        self._plan_code = ""
        self._editable = False
        self._names: dict[int, AttachmentView] = {}
        self._asked: set[int] = set()

        self.list = QListWidget(self)
        self.list.setObjectName("plan_documents_list")
        self.list.itemDoubleClicked.connect(self._on_double_clicked)
        # A few rows: the plan's detail above keeps the room.
        self.list.setMaximumHeight(self.fontMetrics().lineSpacing() * LIST_LINES)
        self.open_button = QPushButton(self.tr("Open"), self)
        self.open_button.setObjectName("plan_documents_open")
        self.open_button.clicked.connect(self.open_selected)
        self.upload_button = QPushButton(self.tr("Upload plan document…"), self)
        self.upload_button.setObjectName("plan_documents_upload")
        self.upload_button.clicked.connect(self.choose_and_upload)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.status = plain_label(parent=self)
        self.status.setWordWrap(True)
        self.status.setVisible(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.upload_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.list.currentRowChanged.connect(lambda _row: self._update_controls())
        self.set_plan(None, editable=False)

    # ------------------------------------------------------------------ plumbing

    async def close_box(self) -> None:
        """Stop the uploads and fetches still running."""
        await self._tasks.close()

    async def _request(self, command: Command, expected: type[_R]) -> _R:
        return await self._service.ask(command, expected, Error, timeout=ANSWER_TIMEOUT)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    @property
    def busy(self) -> bool:
        """Whether an upload or fetch is running."""
        return bool(self._tasks)

    # ------------------------------------------------------------------ showing

    def set_plan(self, item: RegistryItemView | None, *, editable: bool) -> None:
        """Show ``item``'s documents (hidden for anything but a plan)."""
        details = item.details if item is not None else None
        plan = item if isinstance(details, PlanDetails) else None
        code = plan.code if plan is not None else ""
        if code != self._plan_code:
            self._say("")
        self._plan_code = code
        self._editable = editable and plan is not None and not plan.retired
        self.setVisible(plan is not None)
        self.list.clear()
        documents = details.documents if isinstance(details, PlanDetails) else []
        for entry in documents:
            attachment_id = int(entry) if entry.isdigit() else None
            row = QListWidgetItem(self._row_text(entry, attachment_id), self.list)
            row.setData(DocumentRole, attachment_id)
            live = self._service.state is ConnectionState.LIVE
            if attachment_id is not None and attachment_id not in self._asked and live:
                self._ask_name(attachment_id)
        if not documents and plan is not None:
            self.list.addItem(self.tr("No documents yet."))
        self._update_controls()

    def _row_text(self, entry: str, attachment_id: int | None) -> str:
        view = self._names.get(attachment_id) if attachment_id is not None else None
        if view is None:
            return self.tr("Document {id}").format(id=entry)
        return f"{view.filename}（{size_label(view.size)}）"

    def _ask_name(self, attachment_id: int) -> None:
        """Read one byte of the document: its answer names the file."""
        self._asked.add(attachment_id)

        def answered(result: ResultData) -> None:
            if isinstance(result, AttachmentData):
                self._names[attachment_id] = result.attachment
                self._rename(attachment_id)

        def failed(code: str, message: str) -> None:
            logger.info("plan document %s not readable: %s %s", attachment_id, code, message)

        command = GetAttachment(req="", attachment_id=attachment_id, offset=0, length=1)
        self._service.query(command, answered, failed)

    def _rename(self, attachment_id: int) -> None:
        for index in range(self.list.count()):
            row = self.list.item(index)
            if row is not None and row.data(DocumentRole) == attachment_id:
                row.setText(self._row_text(str(attachment_id), attachment_id))

    def document_texts(self) -> list[str]:
        """The rows shown (tests read them)."""
        rows = (self.list.item(index) for index in range(self.list.count()))
        return [row.text() for row in rows if row is not None]

    def _update_controls(self) -> None:
        self.upload_button.setVisible(self._editable)
        self.upload_button.setEnabled(self._editable and not self.progress.isVisible())
        row = self.list.currentItem()
        self.open_button.setEnabled(row is not None and row.data(DocumentRole) is not None)

    # ------------------------------------------------------------------ opening

    def _on_double_clicked(self, row: QListWidgetItem) -> None:
        attachment_id = row.data(DocumentRole)
        if isinstance(attachment_id, int):
            self.open_document(attachment_id)

    def open_selected(self) -> asyncio.Task[None] | None:
        """Open the document selected in the list."""
        row = self.list.currentItem()
        attachment_id = row.data(DocumentRole) if row is not None else None
        return self.open_document(attachment_id) if isinstance(attachment_id, int) else None

    def open_document(self, attachment_id: int) -> asyncio.Task[None]:
        """Fetch a document into the download folder and open it with the desktop's viewer."""
        return self._tasks.start(self._fetch(attachment_id), "plan-document-fetch")

    async def _fetch(self, attachment_id: int) -> None:
        self._say(self.tr("Fetching the plan's document…"))
        data = bytearray()
        try:
            while True:
                part = await self._request(
                    GetAttachment(
                        req="",
                        attachment_id=attachment_id,
                        offset=len(data),
                        length=MAX_ATTACHMENT_READ_BYTES,
                    ),
                    AttachmentData,
                )
                data += part.data
                if not part.data or len(data) >= part.attachment.size:
                    break
            self._names[attachment_id] = part.attachment
            shown = part.attachment
            safe = sanitise_filename(shown.filename, shown.content_type)
            target = self.download_folder / f"{attachment_id}-{safe}"
            await asyncio.to_thread(_write, target, bytes(data))
        except (Error, TimeoutError, OSError) as exc:
            self._say(
                self.tr("The plan's document could not be fetched: {reason}").format(
                    reason=_reason(exc)
                )
            )
            return
        self._say("")
        self.open_file(target)

    # ------------------------------------------------------------------ uploading

    def choose_and_upload(self) -> asyncio.Task[None] | None:
        """Choose a PDF and upload it to the plan shown."""
        name = self.choose_file(self)
        return self.upload(Path(name)) if name else None

    def upload(self, path: Path) -> asyncio.Task[None] | None:
        """Upload ``path`` (a PDF) to the plan shown, then save the plan with it."""
        plan = self._state.item(ItemKind.PLAN, self._plan_code) if self._plan_code else None
        if plan is None or not isinstance(plan.details, PlanDetails):
            return None
        if not is_pdf(path):
            self._say(self.tr("Only PDF files can be a plan's document."))
            return None
        if len(plan.details.documents) >= MAX_PLAN_DOCUMENTS:
            self._say(
                self.tr("A plan holds at most {count} documents.").format(count=MAX_PLAN_DOCUMENTS)
            )
            return None
        self.progress.setVisible(True)
        self._update_controls()
        return self._tasks.start(self._upload(plan.code, path), "plan-document-upload")

    async def _upload(self, plan_code: str, path: Path) -> None:
        try:
            data = await asyncio.to_thread(path.read_bytes)
            attachment = await self._send(plan_code, path.name, data)
            plan = self._state.item(ItemKind.PLAN, plan_code)
            if plan is None:
                raise Error("not_found", plan_code)
            saved = await self._request(with_document(plan, attachment.id), RegistryItemResult)
        except (Error, TimeoutError, OSError) as exc:
            self._say(
                self.tr("{name} was not attached: {reason}").format(
                    name=path.name, reason=_reason(exc)
                )
            )
            return
        finally:
            self.progress.setVisible(False)
            self._update_controls()
        logger.info("document %s attached to plan %s", attachment.id, plan_code)
        self._names[attachment.id] = attachment
        self._state.upsert(saved.item)
        self._say(self.tr("{name} attached to the plan.").format(name=path.name))
        if saved.item.code == self._plan_code:
            self.set_plan(saved.item, editable=self._editable)

    async def _send(self, plan_code: str, filename: str, data: bytes) -> AttachmentView:
        upload_id = f"{secrets.token_hex(6)}-{next(self._uploads)}"
        self.progress.setRange(0, max(1, len(data)))
        self.progress.setValue(0)
        for offset, piece, final in chunks(data):
            result = await self._request(
                UploadAttachment(
                    req="",
                    upload_id=upload_id,
                    plan_code=plan_code,
                    filename=filename,
                    content_type=PDF,
                    offset=offset,
                    data=piece,
                    final=final,
                ),
                UploadResult,
            )
            self.progress.setValue(result.received)
            if result.attachment is not None:
                return result.attachment
        raise Error("bad_message", "the last chunk made no attachment")


def _reason(exc: Exception) -> str:
    if isinstance(exc, Error):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
