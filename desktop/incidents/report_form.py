"""The report form (事件上报) of grid officers: the event type from the catalogue picker,
the place (an address, a click on the map, or both), a description and photos.

Sending goes in two steps. ``incident.report`` opens the incident; only then does each
photo go up in chunks (``attachment.upload``) and one ``incident.post`` carries them. A
photo that fails does not undo the report: the form says which photo failed and why.
Refusals (outside your area, too many reports this hour…) are said in the officer's words.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.incidents.catalogue_picker import CataloguePicker
from desktop.incidents.catalogue_state import CatalogueState
from desktop.incidents.chat_state import chunks, content_type_for
from desktop.incidents.labels import refusal_text
from desktop.incidents.report_state import PhotoOutcome, Problem, ReportDraft
from desktop.map.point_pick import PointPickTool
from desktop.service import ConsoleService
from realtime.aio import TaskSet
from realtime.protocol import (
    MAX_MESSAGE_ATTACHMENTS,
    Command,
    ErrorCode,
    MessageResult,
    PostMessage,
    ReportIncident,
    ReportResult,
    ReportView,
    UploadAttachment,
    UploadResult,
)

logger = logging.getLogger(__name__)

ANSWER_TIMEOUT = 40.0
"""Seconds to wait for one answer (a report, a chunk, the post)."""

_R = TypeVar("_R")


class Error(Exception):
    """Base class of the report form's errors."""


class RefusedError(Error):
    """The server refused a command of the report (``code`` and its words)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def report_refusal_text(code: str, message: str) -> str:
    """A refused report in the reporter's words (with the server's)."""
    if code == ErrorCode.FORBIDDEN and "outside your area" in message:
        summary = QCoreApplication.translate(
            "Report", "The place lies outside your area: report it to that area's officers."
        )
    elif code == ErrorCode.FORBIDDEN:
        summary = QCoreApplication.translate("Report", "Your account may not report events.")
    elif code == ErrorCode.RATE_LIMITED:
        summary = QCoreApplication.translate(
            "Report",
            "You have reached the limit of reports for this hour: wait, or telephone the "
            "command centre.",
        )
    elif code == ErrorCode.VALIDATION:
        summary = QCoreApplication.translate(
            "Report", "The report is incomplete or the event type is unknown."
        )
    else:
        return refusal_text(code, message)
    return f"{summary} ({message})" if message else summary


def problem_text(problem: Problem) -> str:
    """What the officer must still do, for one :class:`Problem`."""
    texts = {
        Problem.NO_TYPE: QCoreApplication.translate("Report", "Choose the event type."),
        Problem.NO_PLACE: QCoreApplication.translate(
            "Report", "Give the place: an address, or a point on the map."
        ),
        Problem.PLACE_TOO_LONG: QCoreApplication.translate(
            "Report", "The place is longer than 200 characters."
        ),
        Problem.DESCRIPTION_TOO_LONG: QCoreApplication.translate(
            "Report", "The description is longer than 4000 characters."
        ),
        Problem.TOO_MANY_PHOTOS: QCoreApplication.translate(
            "Report", "At most {count} photos go with a report."
        ).format(count=MAX_MESSAGE_ATTACHMENTS),
        Problem.NOT_A_PHOTO: QCoreApplication.translate(
            "Report", "Only photos (JPEG, PNG, WebP) and PDF files can be attached."
        ),
    }
    return texts[problem]


def _default_chooser(parent: QWidget) -> list[str]:
    names, _filter = QFileDialog.getOpenFileNames(
        parent,
        QCoreApplication.translate("FileDialogs", "Choose photos"),
        "",
        QCoreApplication.translate(
            "FileDialogs", "Photos and PDF (*.jpg *.jpeg *.png *.webp *.pdf)"
        ),
    )
    return names


def _reason(exc: Exception) -> str:
    if isinstance(exc, RefusedError):
        return refusal_text(exc.code, exc.message)
    if isinstance(exc, TimeoutError):
        return QCoreApplication.translate("Report", "no answer in time")
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


class ReportDialog(QDialog):
    """The 事件上报 form. Not modal: the officer clicks the map while it is open.

    ``choose_files`` (the file dialog) can be replaced, for tests.
    """

    reported = Signal(object)
    """A report was taken (its :class:`~realtime.protocol.ReportView`)."""
    finished_sending = Signal()
    """The report and its photos are done (each photo sent or said why not)."""

    def __init__(
        self,
        service: ConsoleService,
        catalogue: CatalogueState,
        pick_tool: PointPickTool | None = None,
        parent: QWidget | None = None,
        *,
        choose_files: Callable[[QWidget], list[str]] = _default_chooser,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("report_dialog")
        self.setWindowTitle(self.tr("Report an event"))
        self._service = service
        self._pick_tool = pick_tool
        self.choose_files = choose_files
        """Asks for the photos (the file dialog; a test replaces it)."""
        self._tasks = TaskSet(on_done=self._update)
        self.draft = ReportDraft()
        self._showing_problems = False
        self.outcomes: list[PhotoOutcome] = []
        """How each photo of the last report fared."""
        self.report: ReportView | None = None
        """The report taken (None until the server took it)."""

        self.picker = CataloguePicker(catalogue, self)
        self.place_edit = QLineEdit(self)
        self.place_edit.setObjectName("place_edit")
        self.place_edit.setPlaceholderText(self.tr("Address or landmark, e.g. 幸福村3组"))
        self.position_label = QLabel(self)
        self.position_label.setObjectName("position_label")
        self.pick_button = QPushButton(self.tr("Pick on the map"), self)
        self.pick_button.setObjectName("pick_button")
        self.pick_button.setCheckable(True)
        self.pick_button.setEnabled(pick_tool is not None)
        self.clear_position_button = QPushButton(self.tr("Address only"), self)
        self.description_edit = QPlainTextEdit(self)
        self.description_edit.setObjectName("description_edit")
        self.description_edit.setPlaceholderText(self.tr("What happened, who is affected"))
        self.description_edit.setMaximumHeight(100)
        self.photos_list = QListWidget(self)
        self.photos_list.setObjectName("photos_list")
        self.photos_list.setMaximumHeight(80)
        self.add_photos_button = QPushButton(self.tr("Add photos…"), self)
        self.remove_photo_button = QPushButton(self.tr("Remove photo"), self)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("report_status")
        self.status_label.setWordWrap(True)
        self.send_button = QPushButton(self.tr("Report"), self)
        self.send_button.setObjectName("send_report_button")
        self.send_button.setDefault(True)
        close_button = QPushButton(self.tr("Close"), self)
        self._lay_out(close_button)
        self._connect(close_button)
        self._show_position()
        self._update()

    def _lay_out(self, close_button: QPushButton) -> None:
        position_row = QHBoxLayout()
        position_row.addWidget(self.position_label, 1)
        position_row.addWidget(self.pick_button)
        position_row.addWidget(self.clear_position_button)
        photo_buttons = QHBoxLayout()
        photo_buttons.addWidget(self.add_photos_button)
        photo_buttons.addWidget(self.remove_photo_button)
        photo_buttons.addStretch(1)
        form = QFormLayout()
        form.addRow(self.tr("Event type:"), self.picker)
        form.addRow(self.tr("Place:"), self.place_edit)
        form.addRow(self.tr("Position:"), position_row)
        form.addRow(self.tr("Description:"), self.description_edit)
        form.addRow(self.tr("Photos:"), self.photos_list)
        form.addRow("", photo_buttons)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)

    def _connect(self, close_button: QPushButton) -> None:
        self.picker.chosen.connect(self._on_type)
        self.place_edit.textChanged.connect(self._on_place)
        self.description_edit.textChanged.connect(self._on_description)
        self.pick_button.toggled.connect(self._on_pick_toggled)
        self.clear_position_button.clicked.connect(self.clear_position)
        self.add_photos_button.clicked.connect(self.add_photos)
        self.remove_photo_button.clicked.connect(self.remove_photo)
        self.send_button.clicked.connect(self.send)
        close_button.clicked.connect(self.close)
        if self._pick_tool is not None:
            self._pick_tool.picked.connect(self.set_position)
            self._pick_tool.cancelled.connect(self._on_pick_cancelled)

    # ------------------------------------------------------------------ input

    def _on_type(self, code: str) -> None:
        self.draft.type_code = code
        self._update()

    def _on_place(self, text: str) -> None:
        self.draft.place = text
        self._update()

    def _on_description(self) -> None:
        self.draft.description = self.description_edit.toPlainText()
        self._update()

    def _on_pick_toggled(self, checked: bool) -> None:
        if self._pick_tool is None:
            return
        if checked:
            self._pick_tool.start()
            self._say(self.tr("Click the place on the map; Esc cancels."))
        else:
            self._pick_tool.cancel()

    def _on_pick_cancelled(self) -> None:
        self.pick_button.setChecked(False)
        self._update()

    def set_position(self, lat: float, lon: float) -> None:
        """The place's position (a click on the map does this)."""
        self.draft.position = (lat, lon)
        self.pick_button.setChecked(False)
        self._show_position()
        self._update()

    def clear_position(self) -> None:
        """Report by the address only."""
        self.draft.position = None
        if self._pick_tool is not None:
            self._pick_tool.clear()
        self._show_position()
        self._update()

    def _show_position(self) -> None:
        position = self.draft.position
        self.position_label.setText(
            self.tr("{lat:.5f}, {lon:.5f}").format(lat=position[0], lon=position[1])
            if position is not None
            else self.tr("none (the address only)")
        )
        self.clear_position_button.setEnabled(position is not None)

    def add_photos(self) -> None:
        """Choose photos to go with the report."""
        self.draft.add_photos(Path(name) for name in self.choose_files(self) if name)
        self._show_photos()

    def remove_photo(self) -> None:
        """Drop the photo selected in the list."""
        row = self.photos_list.currentRow()
        if 0 <= row < len(self.draft.photos):
            del self.draft.photos[row]
            self._show_photos()

    def _show_photos(self) -> None:
        self.photos_list.clear()
        self.photos_list.addItems([photo.name for photo in self.draft.photos])
        self._update()

    def _update(self) -> None:
        problems = self.draft.problems()
        sending = bool(self._tasks)
        self.send_button.setEnabled(not problems and not sending and self.report is None)
        if self.report is not None or sending or self.pick_button.isChecked():
            return
        # What is missing replaces an earlier hint, never the outcome of a send.
        if problems:
            self.status_label.setText(" ".join(problem_text(p) for p in problems))
            self._showing_problems = True
        elif self._showing_problems:
            self.status_label.clear()
            self._showing_problems = False

    def _say(self, text: str) -> None:
        self.status_label.setText(text)
        self._showing_problems = False

    # ------------------------------------------------------------------ sending

    async def close_form(self) -> None:
        """Stop sending (the report already taken stays taken)."""
        await self._tasks.close()

    async def _request(self, command: Command, expected: type[_R]) -> _R:
        return await self._service.ask(command, expected, RefusedError, timeout=ANSWER_TIMEOUT)

    def send(self) -> asyncio.Task[None] | None:
        """Send the report, then its photos."""
        problems = self.draft.problems()
        if problems or self._tasks or self.report is not None:
            return None
        task = self._tasks.start(
            self._send(self.draft.command(), list(self.draft.photos)), "report-send"
        )
        self._update()
        return task

    async def _send(self, command: ReportIncident, photos: list[Path]) -> None:
        self._say(self.tr("Sending the report…"))
        try:
            result = await self._request(command, ReportResult)
        except (RefusedError, TimeoutError) as exc:
            code = exc.code if isinstance(exc, RefusedError) else "internal"
            message = exc.message if isinstance(exc, RefusedError) else _reason(exc)
            logger.info("report refused: %s %s", code, message)
            self._say(
                self.tr("Not reported: {reason}").format(reason=report_refusal_text(code, message))
            )
            return
        self.report = result.report
        self.reported.emit(result.report)
        said = self.tr("Reported: incident {incident_id}.").format(incident_id=result.incident.id)
        self._say(said)
        if photos:
            said = await self._send_photos(result.incident.id, photos, said)
        self._say(said)
        self.finished_sending.emit()

    async def _send_photos(self, incident_id: int, photos: list[Path], said: str) -> str:
        self.outcomes = []
        self.progress.setRange(0, len(photos))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        try:
            for index, photo in enumerate(photos):
                self._say(
                    said
                    + " "
                    + self.tr("Sending photo {number} of {count}: {name}").format(
                        number=index + 1, count=len(photos), name=photo.name
                    )
                )
                self.outcomes.append(await self._upload(incident_id, photo))
                self.progress.setValue(index + 1)
        finally:
            self.progress.setVisible(False)
        sent = [o.attachment_id for o in self.outcomes if o.attachment_id is not None]
        failed = [outcome for outcome in self.outcomes if not outcome.sent]
        if sent:
            try:
                await self._request(
                    PostMessage(
                        req="",
                        incident_id=incident_id,
                        text=self.tr("Photos of the report"),
                        attachment_ids=sent,
                    ),
                    MessageResult,
                )
            except (RefusedError, TimeoutError) as exc:
                logger.info("incident %s: photos not posted: %s", incident_id, exc)
                return (
                    said
                    + " "
                    + self.tr("The photos were stored but not posted: {reason}").format(
                        reason=_reason(exc)
                    )
                )
        if not failed:
            return said + " " + self.tr("{count} photo(s) sent.").format(count=len(sent))
        lines = [
            self.tr("{name} was not sent: {reason}").format(
                name=outcome.path.name, reason=outcome.reason
            )
            for outcome in failed
        ]
        return "\n".join([said, *lines])

    async def _upload(self, incident_id: int, photo: Path) -> PhotoOutcome:
        content_type = content_type_for(photo.name)
        if content_type is None:
            return PhotoOutcome(photo, reason=problem_text(Problem.NOT_A_PHOTO))
        try:
            data = await asyncio.to_thread(photo.read_bytes)
        except OSError as exc:
            return PhotoOutcome(photo, reason=_reason(exc))
        upload_id = secrets.token_hex(8)
        try:
            for offset, piece, final in chunks(data):
                result = await self._request(
                    UploadAttachment(
                        req="",
                        upload_id=upload_id,
                        incident_id=incident_id,
                        filename=photo.name,
                        content_type=content_type,
                        offset=offset,
                        data=piece,
                        final=final,
                    ),
                    UploadResult,
                )
                if result.attachment is not None:
                    return PhotoOutcome(photo, attachment_id=result.attachment.id)
        except (RefusedError, TimeoutError) as exc:
            logger.info("incident %s: photo %s not sent: %s", incident_id, photo.name, exc)
            return PhotoOutcome(photo, reason=_reason(exc))
        return PhotoOutcome(photo, reason=self.tr("the server did not store it"))

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        """Qt: leave the map's pick mode when the form closes."""
        if self._pick_tool is not None:
            self._pick_tool.cancel()
        super().closeEvent(event)
