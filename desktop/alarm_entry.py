"""Manual alarm entry (接警录入): the form an officer fills in while on the phone.

:class:`ManualAlarmEntry` keeps the main window's form: one at a time, sent through the
:class:`~desktop.service.ConsoleService`, opened again when the server refuses it.
"""

from __future__ import annotations

import dataclasses
import logging
import re

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.protocol import CreateAlarm
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{2,23}$")
"""A phone number as callers give it: digits, spaces and dashes, optionally a leading +."""
MAX_PLACE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 4000


@dataclasses.dataclass(frozen=True, slots=True)
class ManualAlarm:
    """A validated phone report, ready to send."""

    alarm_type: str
    level: AlarmLevel
    title: str
    place: str
    caller_name: str = ""
    caller_phone: str = ""
    lat: float | None = None
    lon: float | None = None
    description: str = ""
    caller_address: str = ""
    sensitive_note: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class ManualAlarmInput:
    """The form's raw text, as typed."""

    alarm_type: str
    level: AlarmLevel
    place: str
    caller_name: str = ""
    caller_phone: str = ""
    lat: str = ""
    lon: str = ""
    description: str = ""
    caller_address: str = ""
    sensitive_note: str = ""

    @classmethod
    def from_command(cls, command: CreateAlarm) -> ManualAlarmInput:
        """Rebuild the form input from a command that was refused, so nothing is lost."""
        return cls(
            alarm_type=command.alarm_type,
            level=command.level,
            place=command.place,
            caller_name=command.caller_name,
            caller_phone=command.caller_phone,
            lat="" if command.lat is None else repr(command.lat),
            lon="" if command.lon is None else repr(command.lon),
            description=command.description,
            caller_address=command.caller_address,
            sensitive_note=command.sensitive_note,
        )


def _parse_coordinate(text: str, low: float, high: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def validate_manual_alarm(form: ManualAlarmInput) -> ManualAlarm | list[str]:
    """Return the alarm to send, or the problems to show the officer (one per field)."""
    problems: list[str] = []
    place = form.place.strip()
    if not place:
        problems.append(QCoreApplication.translate("ManualAlarmDialog", "Enter the place."))
    elif len(place) > MAX_PLACE_LENGTH:
        problems.append(QCoreApplication.translate("ManualAlarmDialog", "The place is too long."))
    phone = form.caller_phone.strip()
    if not phone:
        problems.append(
            QCoreApplication.translate("ManualAlarmDialog", "Enter the caller's phone number.")
        )
    elif not PHONE_PATTERN.match(phone):
        problems.append(
            QCoreApplication.translate(
                "ManualAlarmDialog", "The phone number may contain only digits, spaces, - and +."
            )
        )
    lat_text, lon_text = form.lat.strip(), form.lon.strip()
    lat = lon = None
    if bool(lat_text) != bool(lon_text):
        problems.append(
            QCoreApplication.translate(
                "ManualAlarmDialog", "Give both latitude and longitude, or neither."
            )
        )
    elif lat_text:
        lat = _parse_coordinate(lat_text, -90.0, 90.0)
        lon = _parse_coordinate(lon_text, -180.0, 180.0)
        if lat is None:
            problems.append(
                QCoreApplication.translate(
                    "ManualAlarmDialog", "Latitude must be a number from -90 to 90."
                )
            )
        if lon is None:
            problems.append(
                QCoreApplication.translate(
                    "ManualAlarmDialog", "Longitude must be a number from -180 to 180."
                )
            )
    description = form.description.strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        problems.append(
            QCoreApplication.translate("ManualAlarmDialog", "The description is too long.")
        )
    address, note = form.caller_address.strip(), form.sensitive_note.strip()
    if len(address) > MAX_PLACE_LENGTH:
        problems.append(
            QCoreApplication.translate("ManualAlarmDialog", "The caller's address is too long.")
        )
    if len(note) > MAX_DESCRIPTION_LENGTH:
        problems.append(
            QCoreApplication.translate("ManualAlarmDialog", "The sensitive note is too long.")
        )
    if problems:
        return problems
    return ManualAlarm(
        alarm_type=form.alarm_type,
        level=form.level,
        title=f"{texts.alarm_type_label(form.alarm_type)} · {place}",
        place=place,
        caller_name=form.caller_name.strip(),
        caller_phone=phone,
        lat=lat,
        lon=lon,
        description=description,
        caller_address=address,
        sensitive_note=note,
    )


class ManualAlarmDialog(QDialog):
    """The phone-report form; emits :attr:`submitted` with a validated :class:`ManualAlarm`."""

    submitted = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("manual_alarm_dialog")
        self.setWindowTitle(self.tr("New alarm (phone report)"))
        self.resize(480, 520)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)
        self.caller_name_edit = QLineEdit(self)
        self.caller_name_edit.setObjectName("caller_name_edit")
        form.addRow(self.tr("Caller name:"), self.caller_name_edit)
        self.caller_phone_edit = QLineEdit(self)
        self.caller_phone_edit.setObjectName("caller_phone_edit")
        form.addRow(self.tr("Caller phone:"), self.caller_phone_edit)
        self.caller_address_edit = QLineEdit(self)
        self.caller_address_edit.setObjectName("caller_address_edit")
        self.caller_address_edit.setPlaceholderText(
            self.tr("Where the caller is, if it matters (stored encrypted)")
        )
        form.addRow(self.tr("Caller address:"), self.caller_address_edit)
        self.type_combo = QComboBox(self)
        self.type_combo.setObjectName("alarm_type_combo")
        for code in texts.MANUAL_ALARM_TYPES:
            self.type_combo.addItem(texts.alarm_type_label(code), code)
        form.addRow(self.tr("Type:"), self.type_combo)
        self.level_combo = QComboBox(self)
        self.level_combo.setObjectName("alarm_level_combo")
        for level in AlarmLevel:
            self.level_combo.addItem(texts.level_label(level), level.value)
        self.level_combo.setCurrentIndex(list(AlarmLevel).index(AlarmLevel.YELLOW))
        form.addRow(self.tr("Level:"), self.level_combo)
        self.place_edit = QLineEdit(self)
        self.place_edit.setObjectName("place_edit")
        self.place_edit.setPlaceholderText(self.tr("Address or landmark as the caller gives it"))
        form.addRow(self.tr("Place:"), self.place_edit)
        coordinates = QHBoxLayout()
        self.lat_edit = QLineEdit(self)
        self.lat_edit.setObjectName("lat_edit")
        self.lat_edit.setPlaceholderText(self.tr("latitude (optional)"))
        self.lon_edit = QLineEdit(self)
        self.lon_edit.setObjectName("lon_edit")
        self.lon_edit.setPlaceholderText(self.tr("longitude (optional)"))
        coordinates.addWidget(self.lat_edit)
        coordinates.addWidget(self.lon_edit)
        form.addRow(self.tr("Coordinates (WGS-84):"), coordinates)
        self.description_edit = QPlainTextEdit(self)
        self.description_edit.setObjectName("description_edit")
        form.addRow(self.tr("Description:"), self.description_edit)
        self.sensitive_note_edit = QPlainTextEdit(self)
        self.sensitive_note_edit.setObjectName("sensitive_note_edit")
        self.sensitive_note_edit.setPlaceholderText(
            self.tr(
                "Persons under special care, health status… Stored encrypted and shown "
                "only to those who reveal it, with a reason."
            )
        )
        self.sensitive_note_edit.setMaximumHeight(80)
        form.addRow(self.tr("Sensitive note:"), self.sensitive_note_edit)
        self.problems_label = plain_label(parent=self)
        self.problems_label.setObjectName("problems_label")
        self.problems_label.setStyleSheet("color: #c62828;")
        self.problems_label.setWordWrap(True)
        self.problems_label.hide()
        layout.addWidget(self.problems_label)
        box = QDialogButtonBox(self)
        self.submit_button = box.addButton(
            self.tr("Submit"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.submit_button.setObjectName("submit_button")
        box.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        box.accepted.connect(self.submit)
        box.rejected.connect(self.reject)
        layout.addWidget(box)

    def form_input(self) -> ManualAlarmInput:
        """Return what is typed in the form."""
        return ManualAlarmInput(
            alarm_type=str(self.type_combo.currentData()),
            level=AlarmLevel(str(self.level_combo.currentData())),
            place=self.place_edit.text(),
            caller_name=self.caller_name_edit.text(),
            caller_phone=self.caller_phone_edit.text(),
            lat=self.lat_edit.text(),
            lon=self.lon_edit.text(),
            description=self.description_edit.toPlainText(),
            caller_address=self.caller_address_edit.text(),
            sensitive_note=self.sensitive_note_edit.toPlainText(),
        )

    def fill(self, form: ManualAlarmInput) -> None:
        """Put ``form`` back into the fields (after the server refused it)."""
        type_index = self.type_combo.findData(form.alarm_type)
        if type_index < 0:
            self.type_combo.addItem(texts.alarm_type_label(form.alarm_type), form.alarm_type)
            type_index = self.type_combo.count() - 1
        self.type_combo.setCurrentIndex(type_index)
        self.level_combo.setCurrentIndex(self.level_combo.findData(form.level.value))
        self.place_edit.setText(form.place)
        self.caller_name_edit.setText(form.caller_name)
        self.caller_phone_edit.setText(form.caller_phone)
        self.lat_edit.setText(form.lat)
        self.lon_edit.setText(form.lon)
        self.description_edit.setPlainText(form.description)
        self.caller_address_edit.setText(form.caller_address)
        self.sensitive_note_edit.setPlainText(form.sensitive_note)

    def show_problems(self, problems: list[str]) -> None:
        """Show what is wrong, one line each (an empty list hides the message)."""
        self.problems_label.setText("\n".join(problems))
        self.problems_label.setVisible(bool(problems))

    def submit(self) -> None:
        """Validate; emit :attr:`submitted` and close, or show the problems and stay open."""
        result = validate_manual_alarm(self.form_input())
        if isinstance(result, list):
            self.show_problems(result)
            return
        self.show_problems([])
        self.submitted.emit(result)
        self.accept()


class ManualAlarmEntry:
    """The main window's phone-report form: one open at a time, sent through the service.

    A form the server refused opens again, filled with what was sent (:meth:`reopen`).
    """

    def __init__(self, service: ConsoleService, window: QWidget) -> None:
        self._service = service
        self._window = window
        self.dialog: ManualAlarmDialog | None = None
        """The open form, if any."""

    def open(self, form: ManualAlarmInput | None = None) -> ManualAlarmDialog:
        """Open the form (filled with ``form`` if given) and return it."""
        if self.dialog is not None:
            dialog = self.dialog
        else:
            dialog = ManualAlarmDialog(self._window)
            dialog.submitted.connect(self._submit)
            dialog.finished.connect(lambda _result: self._forget(dialog))
            self.dialog = dialog
        if form is not None:
            dialog.fill(form)
        dialog.open()
        return dialog

    def reopen(self, command: CreateAlarm, problem: str) -> ManualAlarmDialog:
        """Open the form again with the refused ``command`` and why it was refused."""
        dialog = self.open(ManualAlarmInput.from_command(command))
        dialog.show_problems([problem])
        return dialog

    def _forget(self, dialog: ManualAlarmDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _submit(self, alarm: ManualAlarm) -> None:
        self._service.create_alarm(
            alarm_type=alarm.alarm_type,
            level=alarm.level,
            title=alarm.title,
            description=alarm.description,
            place=alarm.place,
            lat=alarm.lat,
            lon=alarm.lon,
            caller_name=alarm.caller_name,
            caller_phone=alarm.caller_phone,
            caller_address=alarm.caller_address,
            sensitive_note=alarm.sensitive_note,
        )
