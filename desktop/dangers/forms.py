"""The hidden dangers' forms: report one (or record it as an inspection's finding), one
step of its life (assign, send back, supervise), an inspection with its findings."""

from __future__ import annotations

import datetime as dt

import msgspec
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.dangers.labels import action_label, category_label, grade_label
from desktop.plain_text import plain_label
from realtime.protocol import (
    DangerAction,
    DangerCategory,
    DangerGrade,
    HiddenDangerInput,
    InspectionInput,
)


def _deadline_edit(parent: QWidget, days: int = 7) -> QDateTimeEdit:
    edit = QDateTimeEdit(QDateTime.currentDateTime().addDays(days), parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    return edit


def _aware(edit: QDateTimeEdit) -> dt.datetime:
    local = edit.dateTime().toPython()
    if not isinstance(local, dt.datetime):
        raise TypeError(f"not a date and time: {local!r}")
    return local.astimezone(dt.UTC)


class ReportForm(QDialog):
    """Report a hidden danger (with photos), or write an inspection's finding."""

    def __init__(
        self, enterprise: str, parent: QWidget | None = None, *, photos: bool = True
    ) -> None:
        super().__init__(parent)
        self.setObjectName("danger_report_form")
        self.setWindowTitle(self.tr("Report a hidden danger"))
        layout = QFormLayout(self)
        self.enterprise = QLineEdit(enterprise, self)
        self.enterprise.setReadOnly(bool(enterprise))
        self.category = QComboBox(self)
        for category in DangerCategory:
            self.category.addItem(category_label(category), category)
        self.grade = QComboBox(self)
        for grade in DangerGrade:
            self.grade.addItem(grade_label(grade), grade)
        self.place = QLineEdit(self)
        self.description = QPlainTextEdit(self)
        self.measures = QPlainTextEdit(self)
        self.with_deadline = QCheckBox(self.tr("Set the deadline now"), self)
        self.deadline = _deadline_edit(self)
        self.responsible_name = QLineEdit(self)
        self.responsible_phone = QLineEdit(self)
        layout.addRow(self.tr("Enterprise (code)"), self.enterprise)
        layout.addRow(self.tr("Category"), self.category)
        layout.addRow(self.tr("Grade"), self.grade)
        layout.addRow(self.tr("Place"), self.place)
        layout.addRow(self.tr("Description"), self.description)
        layout.addRow(self.tr("Measures"), self.measures)
        layout.addRow(self.with_deadline, self.deadline)
        layout.addRow(self.tr("Person responsible"), self.responsible_name)
        layout.addRow(self.tr("Phone"), self.responsible_phone)
        self.photo_paths: list[str] = []
        self.photo_list = QListWidget(self)
        if photos:
            add = QPushButton(self.tr("Add photo…"), self)
            add.clicked.connect(self._pick_photos)
            layout.addRow(add, self.photo_list)
        self.problem = plain_label(parent=self)
        self.problem.setStyleSheet("color: #b00020")
        layout.addRow(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def _pick_photos(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(
            self, self.tr("Photos"), "", self.tr("Pictures (*.jpg *.jpeg *.png *.webp)")
        )
        self.photo_paths.extend(paths)
        self.photo_list.addItems(paths)

    def _accept(self) -> None:
        if not self.enterprise.text().strip():
            self.problem.setText(self.tr("Give the enterprise's code."))
        elif not self.place.text().strip() or not self.description.toPlainText().strip():
            self.problem.setText(self.tr("Give the place and a description."))
        else:
            self.accept()

    def value(self) -> HiddenDangerInput:
        """What was entered."""
        return HiddenDangerInput(
            enterprise=self.enterprise.text().strip(),
            category=self.category.currentData(),
            grade=self.grade.currentData(),
            place=self.place.text().strip(),
            description=self.description.toPlainText().strip(),
            measures=self.measures.toPlainText().strip(),
            deadline=_aware(self.deadline) if self.with_deadline.isChecked() else None,
            responsible_name=self.responsible_name.text().strip(),
            responsible_phone=self.responsible_phone.text().strip(),
        )


class StepForm(QDialog):
    """What an action needs: assign (deadline, person, measures); send back (reason);
    supervise (reason, new deadline)."""

    def __init__(self, action: DangerAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("danger_step_form")
        self.setWindowTitle(action_label(action))
        self.action = action
        layout = QFormLayout(self)
        self.note = QLineEdit(self)
        self.deadline = _deadline_edit(self)
        self.responsible_name = QLineEdit(self)
        self.responsible_phone = QLineEdit(self)
        self.measures = QPlainTextEdit(self)
        if action in {DangerAction.ASSIGN, DangerAction.SUPERVISE}:
            layout.addRow(self.tr("Deadline"), self.deadline)
        if action is DangerAction.ASSIGN:
            layout.addRow(self.tr("Person responsible"), self.responsible_name)
            layout.addRow(self.tr("Phone"), self.responsible_phone)
            layout.addRow(self.tr("Measures"), self.measures)
        if action in {DangerAction.REJECT, DangerAction.SUPERVISE}:
            layout.addRow(self.tr("Reason"), self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def fields(self) -> dict[str, object]:
        """The fields of the ``danger.act`` this form fills."""
        fields: dict[str, object] = {}
        if self.action in {DangerAction.ASSIGN, DangerAction.SUPERVISE}:
            fields["deadline"] = _aware(self.deadline)
        if self.action is DangerAction.ASSIGN:
            fields["responsible_name"] = self.responsible_name.text().strip()
            fields["responsible_phone"] = self.responsible_phone.text().strip()
            fields["measures"] = self.measures.toPlainText().strip()
        if self.action in {DangerAction.REJECT, DangerAction.SUPERVISE}:
            fields["note"] = self.note.text().strip()
        return fields


class InspectionForm(QDialog):
    """Record an inspection (执法检查) of one enterprise and its findings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspection_form")
        self.setWindowTitle(self.tr("Record an inspection"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.enterprise = QLineEdit(self)
        self.inspected_at = _deadline_edit(self, 0)
        self.inspectors = QLineEdit(self)
        self.inspectors.setPlaceholderText(self.tr("Names, separated by commas"))
        self.summary = QPlainTextEdit(self)
        form.addRow(self.tr("Enterprise (code)"), self.enterprise)
        form.addRow(self.tr("Inspected at"), self.inspected_at)
        form.addRow(self.tr("Inspectors"), self.inspectors)
        form.addRow(self.tr("Summary"), self.summary)
        layout.addLayout(form)
        self.findings: list[HiddenDangerInput] = []
        self.finding_list = QListWidget(self)
        add = QPushButton(self.tr("Add a finding…"), self)
        add.clicked.connect(self._add_finding)
        layout.addWidget(plain_label(self.tr("Hidden dangers found"), self))
        layout.addWidget(self.finding_list)
        layout.addWidget(add, 0, Qt.AlignmentFlag.AlignLeft)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _add_finding(self) -> None:
        form = ReportForm(self.enterprise.text().strip(), self, photos=False)
        if form.exec() == QDialog.DialogCode.Accepted:
            self.add_finding(form.value())

    def add_finding(self, finding: HiddenDangerInput) -> None:
        """Add one finding to the list."""
        self.findings.append(finding)
        self.finding_list.addItem(f"{grade_label(finding.grade)} · {finding.description}")

    def value(self) -> InspectionInput:
        """What was entered."""
        code = self.enterprise.text().strip()
        names = [n.strip() for n in self.inspectors.text().replace("，", ",").split(",")]
        return InspectionInput(
            enterprise=code,
            inspected_at=_aware(self.inspected_at),
            inspectors=[n for n in names if n] or ["-"],
            summary=self.summary.toPlainText().strip(),
            findings=[msgspec.structs.replace(f, enterprise=code) for f in self.findings],
        )
