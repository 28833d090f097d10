"""The registry's edit dialog: the fields of one kind, checked as typed.

Text and numbers are line edits, choices combo boxes with their labels, lists one entry a
line, records (contacts, chemicals, steps, resources) a small table. Saving checks the
form (:func:`~desktop.registry.forms.parse_form`) and lists every problem in words under
it; what the server refuses is shown there too, and the dialog stays open with what was
typed. The place can be picked on the map (:attr:`RegistryEditDialog.pick_requested`).
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.plain_text import plain_label
from desktop.registry.forms import (
    COMMON_FIELDS,
    KIND_FIELDS,
    FieldSpec,
    FieldType,
    FormValue,
    empty_form,
    form_of,
    parse_form,
)
from desktop.registry.labels import (
    capability_labels,
    choice_label,
    field_label,
    kind_label,
    problem_text,
)
from desktop.registry.pickers import PICKERS, Picker, RegistryChoices, make_picker
from realtime.protocol import ErrorCode, ItemKind, RegistryItemInput, RegistryItemView, UserInfo

ERROR_STYLE = "border: 1px solid #c62828;"
SERVER_FIELD = re.compile(r"^((?:details\.)?[a-z_0-9]+)(?:\[\d+\])?[:.\s]")
"""The field a server's validation message starts with (``agency: no agency …``)."""
CAPABILITY_FIELDS = frozenset({"capabilities", "capability"})
"""Fields whose known codes (hazmat…) are shown and typed by their Chinese labels."""
RECORD_ROWS_SPARE = 1
"""Empty rows a records table keeps at its end to type into."""


def shown_capability(code: str) -> str:
    """A capability as the form shows it: its label when it is a known one."""
    return capability_labels().get(code, code)


def typed_capability(text: str) -> str:
    """A capability as typed, back to its code when it is a known label (or code)."""
    stripped = text.strip()
    for code, label in capability_labels().items():
        if stripped in (label, code):
            return code
    return text


class RecordsEditor(QWidget):
    """A records field: a table with the field's columns and add/remove buttons."""

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(spec.columns), self)
        self.table.setObjectName(f"records_{spec.name}")
        self.table.setHorizontalHeaderLabels([field_label(c.name) for c in spec.columns])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(90)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(self.tr("Add row"), self)
        self.remove_button = QPushButton(self.tr("Remove row"), self)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(lambda: self.table.insertRow(self.table.rowCount()))
        self.remove_button.clicked.connect(self._remove_row)

    def set_rows(self, rows: list[dict[str, str]]) -> None:
        """Fill the table (and leave an empty row to type into)."""
        self.table.setRowCount(len(rows) + RECORD_ROWS_SPARE)
        for row, cells in enumerate(rows):
            for column, spec in enumerate(self.spec.columns):
                text = cells.get(spec.name, "")
                if spec.name in CAPABILITY_FIELDS:
                    text = shown_capability(text)
                self.table.setItem(row, column, QTableWidgetItem(text))

    def rows(self) -> list[dict[str, str]]:
        """Every row as typed (empty rows too: the check leaves them out)."""
        rows: list[dict[str, str]] = []
        for row in range(self.table.rowCount()):
            cells: dict[str, str] = {}
            for column, spec in enumerate(self.spec.columns):
                cell = self.table.item(row, column)
                text = cell.text() if cell is not None else ""
                cells[spec.name] = (
                    typed_capability(text) if spec.name in CAPABILITY_FIELDS else text
                )
            rows.append(cells)
        return rows

    def _remove_row(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)


FieldWidget = QLineEdit | QComboBox | QPlainTextEdit | RecordsEditor | Picker


class RegistryEditDialog(QDialog):
    """Create or change one registry item of one kind."""

    save_requested = Signal(object, object, str)
    """(the :class:`~realtime.protocol.RegistryItemInput`, the version it was read at or
    None for a new item, the note)."""
    pick_requested = Signal()
    """The officer wants to pick the place on the map."""

    def __init__(
        self,
        kind: ItemKind,
        item: RegistryItemView | None = None,
        *,
        user: UserInfo | None = None,
        choices: RegistryChoices | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``choices``: what the agency, jurisdiction and incident-type pickers offer
        (None: those fields are typed as text)."""
        super().__init__(parent)
        self.setObjectName("registry_edit_dialog")
        self._choices = choices
        self._own_jurisdiction = user.jurisdiction if user is not None else ""
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.kind = kind
        self.expected_version = item.version if item is not None else None
        self._conflict = False
        title = self.tr("Edit: {name}") if item is not None else self.tr("New: {kind}")
        self.setWindowTitle(
            title.format(name=item.name if item is not None else "", kind=kind_label(kind))
        )
        self.resize(560, 680)
        self.fields: dict[str, FieldWidget] = {}
        scroll = self._build_form()
        self.error_label = plain_label(parent=self)
        self.error_label.setObjectName("registry_form_errors")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()
        box = QDialogButtonBox(self)
        self.save_button = box.addButton(self.tr("Save"), QDialogButtonBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        box.accepted.connect(self.submit)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(box)

        if item is not None:
            self.set_values(form_of(item))
            code = self.fields["code"]
            if isinstance(code, QLineEdit):
                code.setReadOnly(True)  # the code is the item's key for years
        else:
            self.set_values(
                empty_form(
                    kind,
                    user.jurisdiction if user is not None else "",
                    (user.agency or "") if user is not None else "",
                )
            )
        if user is not None and user.agency is not None:
            agency = self.fields["agency"]
            # An agency's desk keeps its own items.
            if isinstance(agency, QLineEdit):
                agency.setReadOnly(True)
            else:
                agency.setEnabled(False)

    def _build_form(self) -> QScrollArea:
        form_widget = QWidget(self)
        form = QFormLayout(form_widget)
        for spec in (*COMMON_FIELDS, *KIND_FIELDS[self.kind]):
            widget = self._field_widget(spec, form_widget)
            self.fields[spec.name] = widget
            label = field_label(spec.name) + (" *" if spec.required else "")
            if spec.name == "lon":
                row = QHBoxLayout()
                row.addWidget(widget, 1)
                self.pick_button = QPushButton(self.tr("Pick on map"), form_widget)
                self.pick_button.setObjectName("registry_pick_button")
                self.pick_button.clicked.connect(self.pick_requested.emit)
                row.addWidget(self.pick_button)
                form.addRow(label, row)
            else:
                form.addRow(label, widget)
        self.note_edit = QLineEdit(form_widget)
        self.note_edit.setObjectName("registry_note")
        self.note_edit.setPlaceholderText(self.tr("Why (kept in the history)"))
        form.addRow(self.tr("Note"), self.note_edit)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_widget)
        return scroll

    # ------------------------------------------------------------------ fields

    def _field_widget(self, spec: FieldSpec, parent: QWidget) -> FieldWidget:
        widget: FieldWidget
        picker = make_picker(spec.name, self._choices, self._own_jurisdiction, parent)
        if picker is not None:
            widget = picker
        elif spec.type is FieldType.CHOICE:
            widget = QComboBox(parent)
            if not spec.required:
                widget.addItem("—", "")
            for value in spec.choices:
                widget.addItem(choice_label(spec.name, value), value)
        elif spec.type in (FieldType.LIST, FieldType.CODES):
            widget = QPlainTextEdit(parent)
            widget.setPlaceholderText(self.tr("One per line"))
            if spec.name in CAPABILITY_FIELDS:
                widget.setToolTip(
                    self.tr("One per line; known capabilities: {names}").format(
                        names="、".join(capability_labels().values())
                    )
                )
            widget.setFixedHeight(64)
        elif spec.type is FieldType.RECORDS:
            widget = RecordsEditor(spec, parent)
        else:
            widget = QLineEdit(parent)
            widget.setMaxLength(spec.max_length if spec.type is FieldType.TEXT else 64)
        widget.setObjectName(f"registry_field_{spec.name}")
        return widget

    def set_values(self, values: dict[str, FormValue]) -> None:
        """Fill the fields named in ``values``."""
        for name, value in values.items():
            widget = self.fields.get(name)
            if isinstance(widget, PICKERS):
                widget.set_value(value)
            elif isinstance(widget, QLineEdit) and isinstance(value, str):
                widget.setText(value)
            elif isinstance(widget, QComboBox) and isinstance(value, str):
                index = widget.findData(value)
                if index < 0:
                    widget.addItem(value, value)  # a value this console does not know
                    index = widget.count() - 1
                widget.setCurrentIndex(index)
            elif isinstance(widget, QPlainTextEdit) and isinstance(value, list):
                entries = [str(entry) for entry in value]
                if name in CAPABILITY_FIELDS:
                    entries = [shown_capability(entry) for entry in entries]
                widget.setPlainText("\n".join(entries))
            elif isinstance(widget, RecordsEditor) and isinstance(value, list):
                widget.set_rows([row for row in value if isinstance(row, dict)])

    def values(self) -> dict[str, FormValue]:
        """The form as typed."""
        values: dict[str, FormValue] = {}
        for name, widget in self.fields.items():
            if isinstance(widget, PICKERS):
                values[name] = widget.value()
            elif isinstance(widget, QLineEdit):
                values[name] = widget.text()
            elif isinstance(widget, QComboBox):
                data = widget.currentData()
                values[name] = data if isinstance(data, str) else ""
            elif isinstance(widget, QPlainTextEdit):
                lines = widget.toPlainText().splitlines()
                if name in CAPABILITY_FIELDS:
                    lines = [typed_capability(line) for line in lines]
                values[name] = lines
            else:
                values[name] = widget.rows()
        return values

    def set_place(self, lat: float, lon: float) -> None:
        """Put a point picked on the map into latitude and longitude."""
        self.set_values({"lat": f"{lat:.6f}", "lon": f"{lon:.6f}"})

    # ------------------------------------------------------------------ saving

    def check(self) -> RegistryItemInput | None:
        """Check the form; show every problem (and mark the fields) or return the item."""
        for widget in self.fields.values():
            widget.setStyleSheet("")
        item, errors = parse_form(self.kind, self.values())
        if errors:
            for error in errors:
                marked = self.fields.get(error.field)
                if marked is not None:
                    marked.setStyleSheet(ERROR_STYLE)
            self.show_error("\n".join(problem_text(self.kind, error) for error in errors))
            return None
        self.error_label.hide()
        return item

    def submit(self) -> None:
        """Check and ask to save; the dialog closes when the server has stored it."""
        item = self.check()
        if item is None:
            return
        self.save_button.setEnabled(False)
        self.save_requested.emit(item, self.expected_version, self.note_edit.text().strip())

    def show_error(self, text: str) -> None:
        """Show what is wrong under the form (the server's refusal too) and let the
        officer correct it."""
        self.error_label.setText(text)
        self.error_label.show()
        self.save_button.setEnabled(True)

    def refused(self, code: str, text: str, message: str = "") -> None:
        """The server refused the save: say why, next to the field its message names
        (``details.enterprise: …``) when it names one; what was typed stays."""
        self._conflict = code == ErrorCode.STALE_VERSION and self.expected_version is not None
        named = SERVER_FIELD.match(message)
        field = named.group(1).rsplit(".", 1)[-1] if named is not None else ""
        widget = self.fields.get(field)
        if widget is not None:
            widget.setStyleSheet(ERROR_STYLE)
            text = f"{field_label(field)}: {text}"
        self.show_error(text)

    def rebase(self, current: RegistryItemView) -> bool:
        """After a conflict, the item as reloaded: the next save is checked against that
        version (the officer has been told and saves again on purpose). A change arriving
        without a conflict does not rebase: the server must still catch it."""
        if not self._conflict or current.version == self.expected_version:
            return False
        self.expected_version = current.version
        self._conflict = False
        return True
