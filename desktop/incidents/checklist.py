"""The plan checklist of one incident (预案): the plans that apply to it now, their steps
with who does each and by when (overdue in red), a tick box per step, who ticked it and
when, and the plan's documents.

:class:`ChecklistPane` reads ``incident.checklist`` when it is made and again whenever
the incident's type or level changes (another plan may apply then); ticks arrive live as
``incident.checklist_ticked`` events, from this desk and every other. A click on a tick
box asks for an optional note and sends ``incident.tick``; the server decides who may
tick which step (an agency's desk only its agency's steps) and says so when it refuses.
"Open plan document" (打开预案文档) fetches the plan's PDF with ``attachment.get`` into a
temporary folder and opens it with the desktop's viewer. Everything goes through the desktop's
:class:`~desktop.service.ConsoleService` (``query`` and ``event_received``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.incidents.dialogs import TextDialog
from desktop.incidents.labels import format_moment
from desktop.incidents.state import commands_incidents, may_work_tasks
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.aio import TaskSet
from realtime.event_kinds import EventKind
from realtime.protocol import (
    MAX_ATTACHMENT_READ_BYTES,
    AttachmentData,
    ChecklistResult,
    ChecklistStepView,
    ChecklistView,
    Command,
    Event,
    GetAttachment,
    GetChecklist,
    IncidentView,
    TickStep,
    UserInfo,
)
from realtime.protocol.chat import sanitise_filename

logger = logging.getLogger(__name__)

ANSWER_TIMEOUT = 40.0
"""Longest the pane waits for one answer."""
OVERDUE_INTERVAL_MS = 30_000
"""How often due times are looked at again (a step turns red when its time passes)."""
OVERDUE_COLOUR = QColor("#c62828")
COLUMNS = ("done", "step", "role", "due", "ticked", "note")

_R = TypeVar("_R")


class ChecklistError(Exception):
    """The server refused a checklist command (``code`` and its words)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _default_opener(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_overdue(step: ChecklistStepView, now: dt.datetime) -> bool:
    """Whether a step is still open past its due time."""
    return not step.done and step.due_at is not None and step.due_at < now


def may_tick(user: UserInfo | None, step: ChecklistStepView) -> bool:
    """Whether the box of a step is offered to this user: the command centre ticks every
    step, an agency's user only the steps naming its agency (the server decides anyway)."""
    if user is None or not may_work_tasks(user):
        return False
    if user.agency:
        return step.role == user.agency
    return commands_incidents(user)


class ChecklistPane(QWidget):
    """The checklist of incident ``incident_id`` for the user logged in to ``service``.

    ``ask_note`` (the note dialog: it calls back with the note, or not at all when
    cancelled), ``open_file`` (the desktop's viewer), ``download_folder`` and ``clock``
    can be replaced, for tests.
    """

    def __init__(
        self,
        service: ConsoleService,
        incident_id: int,
        parent: QWidget | None = None,
        *,
        ask_note: Callable[[str, Callable[[str], None]], None] | None = None,
        open_file: Callable[[Path], None] = _default_opener,
        download_folder: Path | None = None,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("incident_checklist_pane")
        self._service = service
        self.incident_id = incident_id
        self._ask_note = ask_note or self._note_dialog
        self._open_file = open_file
        self._download_folder = download_folder or Path(tempfile.gettempdir()) / "dutydesk-plans"
        self._clock = clock
        self._tasks = TaskSet()
        self.checklists: list[ChecklistView] = []
        self.tables: dict[str, QTableWidget] = {}
        """Plan code → its steps' table (tests read it)."""
        self.document_buttons: dict[str, QPushButton] = {}
        self.active_dialog: QDialog | None = None

        self.status = QLabel(self)
        self.status.setObjectName("checklist_status_label")
        self.status.setWordWrap(True)
        self.status.setVisible(False)
        self.empty_label = plain_label(
            self.tr("No emergency plan applies to this incident's type and level."), self
        )
        self._plans = QWidget(self)
        self._plans_layout = QVBoxLayout(self._plans)
        self._plans_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._plans)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty_label)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)

        self._overdue_timer = QTimer(self)
        self._overdue_timer.setInterval(OVERDUE_INTERVAL_MS)
        self._overdue_timer.timeout.connect(self._rebuild)
        self._overdue_timer.start()
        service.event_received.connect(self._on_event)
        self._rebuild()
        self.reload()

    # ------------------------------------------------------------------ plumbing

    def discard(self) -> None:
        """Stop at once (the pane is being replaced): no more events, reads or timers."""
        self._overdue_timer.stop()
        self._service.event_received.disconnect(self._on_event)
        self._tasks.cancel()

    async def close_checklist(self) -> None:
        """Stop what the pane still does (reads, ticks, fetches) before it goes away."""
        self._overdue_timer.stop()
        await self._tasks.close()

    async def _request(self, command: Command, expected: type[_R]) -> _R:
        return await self._service.ask(command, expected, ChecklistError, timeout=ANSWER_TIMEOUT)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # ------------------------------------------------------------------ reading

    def reload(self) -> asyncio.Task[None]:
        """Read the checklist again from the server."""
        return self._tasks.start(self._load(), "checklist-load")

    async def _load(self) -> None:
        try:
            result = await self._request(
                GetChecklist(req="", incident_id=self.incident_id), ChecklistResult
            )
        except (ChecklistError, TimeoutError) as exc:
            self._say(
                self.tr("The checklist could not be read: {reason}").format(reason=_reason(exc))
            )
            return
        self._show(result.checklists)

    def _show(self, checklists: list[ChecklistView]) -> None:
        self.checklists = list(checklists)
        self._rebuild()

    def _on_event(self, event: Event) -> None:
        incident = event.incident
        if not isinstance(incident, IncidentView) or incident.id != self.incident_id:
            return
        if event.kind == EventKind.CHECKLIST_TICKED and isinstance(event.checklist, ChecklistView):
            self._take(event.checklist)
            return
        if event.kind == EventKind.INCIDENT_CHANGED:
            self.reload()  # its level or type may have changed: another plan may apply

    def _take(self, changed: ChecklistView) -> None:
        codes = [view.plan_code for view in self.checklists]
        if changed.plan_code in codes:
            self.checklists[codes.index(changed.plan_code)] = changed
            self._rebuild()

    # ------------------------------------------------------------------ showing

    def _rebuild(self) -> None:
        while (item := self._plans_layout.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        self.tables.clear()
        self.document_buttons.clear()
        self.empty_label.setVisible(not self.checklists)
        now = self._clock()
        for view in self.checklists:
            self._plans_layout.addWidget(self._plan_box(view, now))
        self._plans_layout.addStretch(1)

    def _plan_box(self, view: ChecklistView, now: dt.datetime) -> QGroupBox:
        box = QGroupBox(self._plans)
        box.setTitle(
            self.tr("{name} ({code}) · response level {level}").format(
                name=view.plan_name, code=view.plan_code, level=view.response_level
            )
        )
        layout = QVBoxLayout(box)
        if view.roles:
            layout.addWidget(
                plain_label(self.tr("Roles: {roles}").format(roles="、".join(view.roles)), box)
            )
        table = QTableWidget(len(view.steps), len(COLUMNS), box)
        table.setObjectName(f"checklist_table_{view.plan_code}")
        table.setHorizontalHeaderLabels(
            [
                self.tr("Done"),
                self.tr("Step"),
                self.tr("Who"),
                self.tr("Due"),
                self.tr("Ticked by"),
                self.tr("Note"),
            ]
        )
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for row, step in enumerate(view.steps):
            self._fill_row(table, row, step, now)
        code = view.plan_code
        table.cellClicked.connect(lambda row, column, c=code: self._on_cell_clicked(c, row, column))
        layout.addWidget(table)
        if view.documents:
            button = QPushButton(self.tr("Open plan document"), box)
            button.setObjectName(f"checklist_documents_{code}")
            button.clicked.connect(lambda _c=False, v=view: self.choose_document(v, button))
            row_layout = QHBoxLayout()
            row_layout.addWidget(button)
            row_layout.addStretch(1)
            layout.addLayout(row_layout)
            self.document_buttons[code] = button
        self.tables[code] = table
        return box

    def _fill_row(
        self, table: QTableWidget, row: int, step: ChecklistStepView, now: dt.datetime
    ) -> None:
        box = QTableWidgetItem()
        if may_tick(self._service.user, step):
            box.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
        else:
            box.setFlags(Qt.ItemFlag.NoItemFlags)  # shown, greyed: not this desk's step
        box.setCheckState(Qt.CheckState.Checked if step.done else Qt.CheckState.Unchecked)
        box.setData(Qt.ItemDataRole.UserRole, step.id)
        who = texts.agency_label(step.role) if step.role else self.tr("Command centre")
        ticked = (
            f"{step.done_by}  {format_moment(step.done_at)}" if step.done and step.done_by else ""
        )
        cells = [
            box,
            QTableWidgetItem(step.text),
            QTableWidgetItem(who),
            QTableWidgetItem(format_moment(step.due_at) if step.due_at is not None else "—"),
            QTableWidgetItem(ticked),
            QTableWidgetItem(step.note),
        ]
        overdue = is_overdue(step, now)
        for column, item in enumerate(cells):
            if column:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            if overdue:
                item.setForeground(QBrush(OVERDUE_COLOUR))
            table.setItem(row, column, item)
        if overdue:
            cells[3].setToolTip(self.tr("Overdue"))

    def step_text(self, plan_code: str, step_id: str, column: str) -> str:
        """The text a step's cell shows (``column`` one of :data:`COLUMNS`)."""
        table = self.tables[plan_code]
        row = self._row_of(plan_code, step_id)
        item = table.item(row, COLUMNS.index(column))
        return item.text() if item is not None else ""

    def step_is_red(self, plan_code: str, step_id: str) -> bool:
        """Whether the step shows as overdue."""
        item = self.tables[plan_code].item(self._row_of(plan_code, step_id), 1)
        return item is not None and item.foreground().color() == OVERDUE_COLOUR

    def step_is_checked(self, plan_code: str, step_id: str) -> bool:
        item = self.tables[plan_code].item(self._row_of(plan_code, step_id), 0)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def step_is_offered(self, plan_code: str, step_id: str) -> bool:
        """Whether the step's box may be clicked by this user."""
        item = self.tables[plan_code].item(self._row_of(plan_code, step_id), 0)
        return item is not None and bool(item.flags() & Qt.ItemFlag.ItemIsUserCheckable)

    def _row_of(self, plan_code: str, step_id: str) -> int:
        view = next(v for v in self.checklists if v.plan_code == plan_code)
        return [step.id for step in view.steps].index(step_id)

    # ------------------------------------------------------------------ ticking

    def _on_cell_clicked(self, plan_code: str, row: int, column: int) -> None:
        if column != 0:
            return
        view = next((v for v in self.checklists if v.plan_code == plan_code), None)
        if view is None or not 0 <= row < len(view.steps):
            return
        step = view.steps[row]
        if not may_tick(self._service.user, step):
            return
        self.start_tick(plan_code, step.id, done=not step.done)
        self._rebuild()  # the box shows the state held until the server answers

    def start_tick(self, plan_code: str, step_id: str, *, done: bool) -> None:
        """Ask for an optional note, then tick (or untick) the step."""
        prompt = (
            self.tr("Note for the tick (optional):")
            if done
            else self.tr("Why is this step undone? (optional)")
        )

        def send(note: str) -> None:
            self.tick(plan_code, step_id, done=done, note=note)

        self._ask_note(prompt, send)

    def _note_dialog(self, prompt: str, then: Callable[[str], None]) -> None:
        dialog = TextDialog(self.tr("Plan step"), prompt, required=False, parent=self)
        dialog.accepted.connect(lambda: then(dialog.text))
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self.active_dialog = dialog
        dialog.open()

    def _forget_dialog(self, dialog: QDialog) -> None:
        if self.active_dialog is dialog:
            self.active_dialog = None
        dialog.deleteLater()

    def tick(
        self, plan_code: str, step_id: str, *, done: bool, note: str = ""
    ) -> asyncio.Task[None]:
        """Send the tick; the answer (and the event) show it."""
        command = TickStep(
            req="",
            incident_id=self.incident_id,
            plan_code=plan_code,
            step_id=step_id,
            done=done,
            note=note[:200],
        )
        return self._tasks.start(self._tick(command), "checklist-tick")

    async def _tick(self, command: TickStep) -> None:
        try:
            result = await self._request(command, ChecklistResult)
        except (ChecklistError, TimeoutError) as exc:
            self._say(self.tr("Not ticked: {reason}").format(reason=_reason(exc)))
            self._rebuild()
            return
        self._say("")
        self._show(result.checklists)

    # ------------------------------------------------------------------ documents

    def choose_document(self, view: ChecklistView, anchor: QWidget) -> None:
        """Open the plan's document (a menu when it has several)."""
        ids = [int(d) for d in view.documents if d.isdigit()]
        if len(ids) == 1:
            self.open_document(ids[0])
            return
        menu = QMenu(self)
        for number, attachment_id in enumerate(ids, start=1):
            action = menu.addAction(self.tr("Document {n}").format(n=number))
            action.triggered.connect(lambda _=False, i=attachment_id: self.open_document(i))
        menu.popup(anchor.mapToGlobal(anchor.rect().bottomLeft()))

    def open_document(self, attachment_id: int) -> asyncio.Task[None]:
        """Fetch a plan's document (a PDF) into the download folder and open it."""
        return self._tasks.start(self._fetch(attachment_id), "checklist-document")

    async def _fetch(self, attachment_id: int) -> None:
        self._say(self.tr("Fetching the plan's document…"))
        data = bytearray()
        filename = f"{attachment_id}.pdf"
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
                shown = part.attachment
                safe = sanitise_filename(shown.filename, shown.content_type)
                filename = f"{attachment_id}-{safe}"
                data += part.data
                if not part.data or len(data) >= part.attachment.size:
                    break
            target = self._download_folder / filename
            await asyncio.to_thread(_write, target, bytes(data))
        except (ChecklistError, TimeoutError, OSError) as exc:
            self._say(
                self.tr("The plan's document could not be fetched: {reason}").format(
                    reason=_reason(exc)
                )
            )
            return
        self._say("")
        self._open_file(target)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ChecklistError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
