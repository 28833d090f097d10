"""The small forms of the incident workspace: a note, raising an incident, attaching an
alarm, sending a task, changing level and commander, moving deadlines, supervision."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.incidents.catalogue_picker import CataloguePicker
from desktop.incidents.catalogue_state import CatalogueState
from desktop.incidents.labels import deadline_label, incident_level_label, incident_state_label
from desktop.incidents.recommend import RecommendationTable, best
from desktop.incidents.state import deadline_at
from desktop.plain_text import plain_label
from realtime.incident_states import (
    PENDING_DEADLINES,
    AssigneeKind,
    Deadline,
    IncidentLevel,
)
from realtime.protocol import IncidentView, RankedResource, Recommendation, TaskView

MAX_DEADLINE_MINUTES = 90 * 24 * 60
"""The longest deadline the server takes (90 days)."""


class _Form(QDialog):
    """A dialog with a form, an OK button enabled when the input is complete, and Cancel."""

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.main_layout = QVBoxLayout(self)
        self.form = QFormLayout()
        self.main_layout.addLayout(self.form)
        box = QDialogButtonBox(self)
        self.ok_button: QPushButton = box.addButton(
            self.tr("OK"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        box.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        self._box = box

    def finish_layout(self) -> None:
        """Put the buttons last and check the input once."""
        self.main_layout.addWidget(self._box)
        self.update_ok()

    def update_ok(self) -> None:
        """Enable OK when the input is complete (every field optional by default)."""
        self.ok_button.setEnabled(True)


class TextDialog(_Form):
    """Asks for a text: a note, a reason, the feedback, an answer."""

    def __init__(
        self, title: str, prompt: str, *, required: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(title, parent)
        self.setObjectName("incident_text_dialog")
        self._required = required
        self.main_layout.insertWidget(0, plain_label(prompt, self))
        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setObjectName("text_edit")
        self.main_layout.insertWidget(1, self.text_edit)
        self.text_edit.textChanged.connect(self.update_ok)
        self.finish_layout()

    @property
    def text(self) -> str:
        """The text as typed, trimmed."""
        return self.text_edit.toPlainText().strip()

    def update_ok(self) -> None:
        """A required text must not be empty."""
        self.ok_button.setEnabled(bool(self.text) or not self._required)


def _level_combo(parent: QWidget, default_text: str | None) -> QComboBox:
    combo = QComboBox(parent)
    if default_text is not None:
        combo.addItem(default_text, None)
    for level in IncidentLevel:
        combo.addItem(incident_level_label(level), level)
    return combo


def _level_of(combo: QComboBox) -> IncidentLevel | None:
    """The level chosen in a level combo (None: the default entry). Qt hands an enum
    stored as item data back as its plain string."""
    data = combo.currentData()
    return IncidentLevel(data) if isinstance(data, str) else None


class OpenIncidentDialog(_Form):
    """Raise an incident from an alarm (立案): title, type and level default to the
    alarm's and the catalogue's."""

    def __init__(
        self,
        alarm_id: int,
        title: str,
        parent: QWidget | None = None,
        catalogue: CatalogueState | None = None,
    ) -> None:
        super().__init__(
            self.tr("Raise an incident from alarm {alarm_id}").format(alarm_id=alarm_id), parent
        )
        self.setObjectName("open_incident_dialog")
        self.alarm_id = alarm_id
        self.title_edit = QLineEdit(title, self)
        self.form.addRow(self.tr("Title:"), self.title_edit)
        # No type chosen: the server takes the one the alarm type suggests.
        self.type_picker = CataloguePicker(catalogue or CatalogueState(), self)
        self.form.addRow(self.tr("Type (default: suggested by the alarm type):"), self.type_picker)
        self.level_combo = _level_combo(self, self.tr("The type's default"))
        self.form.addRow(self.tr("Level:"), self.level_combo)
        self.finish_layout()

    @property
    def type_code(self) -> str | None:
        """The type chosen, or None for the one the alarm type suggests."""
        return self.type_picker.type_code or None

    @property
    def level(self) -> IncidentLevel | None:
        """The level chosen, or None for the catalogue's."""
        return _level_of(self.level_combo)


class NewIncidentDialog(_Form):
    """Open an incident without an alarm (立案): a title and a type are required; the
    place, description and level are optional (the level defaults to the type's)."""

    def __init__(self, catalogue: CatalogueState, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("New incident"), parent)
        self.setObjectName("new_incident_dialog")
        self.title_edit = QLineEdit(self)
        self.form.addRow(self.tr("Title:"), self.title_edit)
        self.type_picker = CataloguePicker(catalogue, self)
        self.form.addRow(self.tr("Type:"), self.type_picker)
        self.place_edit = QLineEdit(self)
        self.form.addRow(self.tr("Place:"), self.place_edit)
        self.description_edit = QPlainTextEdit(self)
        self.description_edit.setMaximumHeight(80)
        self.form.addRow(self.tr("Description:"), self.description_edit)
        self.level_combo = _level_combo(self, self.tr("The type's default"))
        self.form.addRow(self.tr("Level:"), self.level_combo)
        self.title_edit.textChanged.connect(self.update_ok)
        self.type_picker.chosen.connect(self.update_ok)
        self.finish_layout()

    @property
    def level(self) -> IncidentLevel | None:
        """The level chosen, or None for the catalogue's."""
        return _level_of(self.level_combo)

    def update_ok(self) -> None:
        """A title and a type are required."""
        self.ok_button.setEnabled(
            bool(self.title_edit.text().strip()) and bool(self.type_picker.type_code)
        )


class AttachAlarmDialog(_Form):
    """Attach an alarm to one of the open incidents (并案)."""

    def __init__(
        self, alarm_id: int, incidents: list[IncidentView], parent: QWidget | None = None
    ) -> None:
        super().__init__(
            self.tr("Attach alarm {alarm_id} to an incident").format(alarm_id=alarm_id), parent
        )
        self.setObjectName("attach_alarm_dialog")
        self.alarm_id = alarm_id
        self.incident_combo = QComboBox(self)
        for incident in incidents:
            self.incident_combo.addItem(
                f"#{incident.id} {incident.title} ({incident_state_label(incident.state)})",
                incident.id,
            )
        self.form.addRow(self.tr("Incident:"), self.incident_combo)
        self.finish_layout()

    @property
    def incident_id(self) -> int | None:
        """The incident chosen."""
        data = self.incident_combo.currentData()
        return data if isinstance(data, int) else None

    def update_ok(self) -> None:
        """An incident must be chosen."""
        self.ok_button.setEnabled(self.incident_combo.count() > 0)


class SendTaskDialog(_Form):
    """Send a task (派单): to whom, what to do, and deadline overrides in minutes."""

    def __init__(self, agencies: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Send a task"), parent)
        self.setObjectName("send_task_dialog")
        self._agencies = agencies
        self.kind_combo = QComboBox(self)
        for kind, label in (
            (AssigneeKind.AGENCY, self.tr("Agency")),
            (AssigneeKind.UNIT, self.tr("Unit (code)")),
            (AssigneeKind.GRID_LEVEL, self.tr("Grid level (jurisdiction code)")),
        ):
            self.kind_combo.addItem(label, kind)
        self.form.addRow(self.tr("Send to:"), self.kind_combo)
        self.ref_combo = QComboBox(self)
        self.ref_combo.setEditable(True)
        self.form.addRow(self.tr("Assignee:"), self.ref_combo)
        self.instructions_edit = QPlainTextEdit(self)
        self.form.addRow(self.tr("Instructions:"), self.instructions_edit)
        self.deadline_spins: dict[Deadline, QSpinBox] = {}
        for deadline in Deadline:
            spin = QSpinBox(self)
            spin.setRange(0, MAX_DEADLINE_MINUTES)
            spin.setSuffix(self.tr(" min"))
            spin.setSpecialValueText(self.tr("as the type says"))
            self.deadline_spins[deadline] = spin
            self.form.addRow(deadline_label(deadline) + ":", spin)
        self.kind_combo.currentIndexChanged.connect(self._fill_refs)
        self.ref_combo.currentTextChanged.connect(self.update_ok)
        self._build_recommendation()
        self._fill_refs()
        self.finish_layout()

    def _build_recommendation(self) -> None:
        # The ranking arrives later (recommend); choosing a row fills the assignee.
        self.recommend_label = plain_label(self.tr("Ranking the resources…"), self)
        self.recommend_label.setObjectName("send_task_recommend_label")
        self.recommend_label.setWordWrap(True)
        self.form.addRow(self.tr("Recommended:"), self.recommend_label)
        self.recommend_table = RecommendationTable(self)
        self.recommend_table.setMinimumHeight(140)
        self.main_layout.addWidget(self.recommend_table)
        self.recommend_table.cellClicked.connect(lambda row, _column: self.select_recommended(row))
        self._assignee_touched = False
        self.kind_combo.activated.connect(self._touch)
        self.ref_combo.activated.connect(self._touch)
        line_edit = self.ref_combo.lineEdit()
        if line_edit is not None:
            line_edit.textEdited.connect(self._touch)

    def _touch(self) -> None:
        self._assignee_touched = True

    def set_recommendation(self, recommendation: Recommendation) -> None:
        """Show the ranked teams and units; pre-select the best available one (and take it
        as the assignee unless the officer already chose one)."""
        rows = [item for item in recommendation.items if item.kind in {"team", "unit"}]
        rows.sort(key=lambda item: (not item.available, item.score))
        touched = self._assignee_touched
        self.recommend_table.show_resources(rows)
        self.recommend_label.setText(
            self.tr("Best first; choose one to send the task to it.")
            if rows
            else self.tr("No team or unit to recommend.")
        )
        # The best one a task can go to: a unit, or a team through its agency.
        top = best([row for row in rows if row.kind == "unit" or row.agency], 1)
        if top:
            self.recommend_table.selectRow(rows.index(top[0]))
            if not touched:  # keep an assignee the officer chose meanwhile
                self._apply(top[0])

    def set_recommendation_error(self, message: str) -> None:
        """Say why there is no ranking (the task can be sent all the same)."""
        self.recommend_label.setText(self.tr("No ranking: {}").format(message))

    def select_recommended(self, row: int) -> None:
        """Choose a ranked row as the assignee (what a click does)."""
        self.recommend_table.selectRow(row)
        resource = self.recommend_table.resources[row]
        self._apply(resource)

    def _apply(self, resource: RankedResource) -> None:
        if resource.kind == "unit":
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(AssigneeKind.UNIT))
            self.ref_combo.setEditText(resource.code)
        elif resource.agency:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(AssigneeKind.AGENCY))
            index = self.ref_combo.findData(resource.agency)
            if index >= 0:
                self.ref_combo.setCurrentIndex(index)
            else:
                self.ref_combo.setEditText(resource.agency)
        self.update_ok()

    def _fill_refs(self) -> None:
        self.ref_combo.clear()
        if self.kind is AssigneeKind.AGENCY:
            for code, name in sorted(self._agencies.items()):
                self.ref_combo.addItem(f"{name} ({code})", code)

    @property
    def kind(self) -> AssigneeKind:
        """Who the task goes to."""
        # Qt hands an enum stored as item data back as its plain string.
        data = self.kind_combo.currentData()
        return AssigneeKind(data) if isinstance(data, str) else AssigneeKind.AGENCY

    @property
    def ref(self) -> str:
        """The agency code, unit code or jurisdiction code."""
        index = self.ref_combo.currentIndex()
        data = self.ref_combo.itemData(index) if index >= 0 else None
        if isinstance(data, str) and self.ref_combo.currentText() == self.ref_combo.itemText(index):
            return data
        return self.ref_combo.currentText().strip()

    @property
    def instructions(self) -> str:
        """What the sender asks for."""
        return self.instructions_edit.toPlainText().strip()

    @property
    def deadline_minutes(self) -> dict[Deadline, int | None]:
        """The overrides given (a deadline left at zero follows the type)."""
        return {d: spin.value() for d, spin in self.deadline_spins.items() if spin.value() > 0}

    def update_ok(self) -> None:
        """An assignee must be given."""
        self.ok_button.setEnabled(bool(self.ref))


class ChangeIncidentDialog(_Form):
    """Change an incident's level (定级), commander or type (定性), with a note."""

    def __init__(
        self,
        incident: IncidentView,
        parent: QWidget | None = None,
        catalogue: CatalogueState | None = None,
    ) -> None:
        super().__init__(
            self.tr("Change incident {incident_id}").format(incident_id=incident.id), parent
        )
        self.setObjectName("change_incident_dialog")
        self._incident = incident
        self.level_combo = _level_combo(self, None)
        self.level_combo.setCurrentIndex(self.level_combo.findData(incident.level))
        self.form.addRow(self.tr("Level:"), self.level_combo)
        self.commander_edit = QLineEdit(incident.commander, self)
        self.form.addRow(self.tr("Commander:"), self.commander_edit)
        self.type_picker = CataloguePicker(catalogue or CatalogueState(), self)
        self.type_picker.select(incident.type_code)
        self.form.addRow(self.tr("Type:"), self.type_picker)
        self.note_edit = QLineEdit(self)
        self.form.addRow(self.tr("Note:"), self.note_edit)
        self.level_combo.currentIndexChanged.connect(self.update_ok)
        self.commander_edit.textChanged.connect(self.update_ok)
        self.type_picker.chosen.connect(self.update_ok)
        self.finish_layout()

    @property
    def level(self) -> IncidentLevel | None:
        """The new level, None when unchanged."""
        level = _level_of(self.level_combo)
        return level if level is not None and level != self._incident.level else None

    @property
    def commander(self) -> str | None:
        """The new commander, None when unchanged."""
        text = self.commander_edit.text().strip()
        return text if text and text != self._incident.commander else None

    @property
    def type_code(self) -> str | None:
        """The new type (定性), None when unchanged."""
        code = self.type_picker.type_code
        return code if code and code != self._incident.type_code else None

    @property
    def note(self) -> str:
        """Why."""
        return self.note_edit.text().strip()

    def update_ok(self) -> None:
        """Something must change."""
        self.ok_button.setEnabled(
            self.level is not None or self.commander is not None or self.type_code is not None
        )


class DeadlinesDialog(_Form):
    """Move a task's pending deadlines (延期), with a note."""

    def __init__(self, task: TaskView, now: dt.datetime, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Deadlines of task {task_id}").format(task_id=task.id), parent)
        self.setObjectName("deadlines_dialog")
        self.edits: dict[Deadline, QDateTimeEdit] = {}
        for deadline in PENDING_DEADLINES[task.state]:
            current = deadline_at(task, deadline) or now + dt.timedelta(hours=1)
            edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(current.timestamp())), self)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            self.edits[deadline] = edit
            self.form.addRow(deadline_label(deadline) + ":", edit)
        self._original = {d: e.dateTime() for d, e in self.edits.items()}
        self.note_edit = QLineEdit(self)
        self.form.addRow(self.tr("Note:"), self.note_edit)
        for edit in self.edits.values():
            edit.dateTimeChanged.connect(self.update_ok)
        self.finish_layout()

    @property
    def deadlines(self) -> dict[Deadline, dt.datetime | None]:
        """The deadlines moved."""
        return {
            deadline: dt.datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), dt.UTC)
            for deadline, edit in self.edits.items()
            if edit.dateTime() != self._original[deadline]
        }

    @property
    def note(self) -> str:
        """Why."""
        return self.note_edit.text().strip()

    def update_ok(self) -> None:
        """At least one deadline must move."""
        self.ok_button.setEnabled(bool(self.deadlines))


class SuperviseDialog(_Form):
    """Flag a task for supervision (督办): what is asked and, optionally, within how long."""

    def __init__(self, task: TaskView, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Supervise task {task_id}").format(task_id=task.id), parent)
        self.setObjectName("supervise_dialog")
        self.note_edit = QPlainTextEdit(self)
        self.form.addRow(self.tr("What is asked:"), self.note_edit)
        self.due_spin = QSpinBox(self)
        self.due_spin.setRange(0, MAX_DEADLINE_MINUTES)
        self.due_spin.setSuffix(self.tr(" min"))
        self.due_spin.setSpecialValueText(self.tr("no deadline"))
        self.form.addRow(self.tr("Answer within:"), self.due_spin)
        self.note_edit.textChanged.connect(self.update_ok)
        self.finish_layout()

    @property
    def note(self) -> str:
        """What is asked."""
        return self.note_edit.toPlainText().strip()

    def due_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the answer is due, counted from ``now``."""
        minutes = self.due_spin.value()
        return now + dt.timedelta(minutes=minutes) if minutes else None

    def update_ok(self) -> None:
        """What is asked must be written."""
        self.ok_button.setEnabled(bool(self.note))
