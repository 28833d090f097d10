"""Pickers of the registry's edit dialog for what the console already knows.

- :class:`AgencyPicker`: the agencies of ``agencies.list`` by their Chinese names.
- :class:`JurisdictionPicker`: the user's own jurisdiction and the codes below it the
  console has seen (named from the basemap when it can), or a code typed in (digits only).
- :class:`TypeCodesPicker`: a plan's incident types by their catalogue names, added from
  the event catalogue (:class:`~desktop.incidents.catalogue_picker.CataloguePicker`) and
  removed by row.

:class:`RegistryChoices` holds what they offer; the window keeps it current.
"""

from __future__ import annotations

import dataclasses
import re

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.incidents.catalogue_picker import CataloguePicker
from desktop.incidents.catalogue_state import CatalogueState
from desktop.map.basemap import region_for_jurisdiction
from desktop.registry.forms import FormValue

JURISDICTION_TEXT = re.compile(r"^(\d{0,12})(?:\s.*)?$")
"""A jurisdiction as the picker shows or takes it: its digits, then perhaps its name."""
CODE_DATA = Qt.ItemDataRole.UserRole + 1
"""Where a type row keeps its code."""


@dataclasses.dataclass(slots=True)
class RegistryChoices:
    """What the registry form offers beyond free text."""

    agencies: dict[str, str] = dataclasses.field(default_factory=dict)
    """Agency code → Chinese name (``agencies.list``)."""
    jurisdictions: set[str] = dataclasses.field(default_factory=set)
    """Jurisdiction codes the console has seen (registry items, alarms, incidents)."""
    catalogue: CatalogueState = dataclasses.field(default_factory=CatalogueState)
    """The event catalogue (the incident desk's, kept current by it)."""

    def jurisdictions_for(self, own: str) -> list[str]:
        """The user's own jurisdiction first, then the codes seen below it, sorted."""
        below = sorted(code for code in self.jurisdictions if code.startswith(own) and code != own)
        return [own, *below] if own else below

    def type_name(self, code: str) -> str:
        """An incident type's catalogue name with its code, or the code when unknown."""
        item = self.catalogue.item(code)
        return f"{item.name_zh}（{code}）" if item is not None else code


def jurisdiction_text(code: str) -> str:
    """How the picker shows a jurisdiction: its code, then its area's name if known."""
    region = region_for_jurisdiction(code) if code else None
    return f"{code} {region.name}" if region is not None and region.name else code


class AgencyPicker(QComboBox):
    """Choose an agency by its name; "—" for none."""

    def __init__(self, choices: RegistryChoices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItem("—", "")
        for code in sorted(choices.agencies):
            self.addItem(f"{choices.agencies[code] or texts.agency_label(code)}（{code}）", code)

    def set_value(self, value: FormValue) -> None:
        """Choose the agency ``value`` (kept, by its label, if the list lacks it)."""
        code = value if isinstance(value, str) else ""
        index = self.findData(code)
        if index < 0:
            self.addItem(f"{texts.agency_label(code)}（{code}）", code)
            index = self.count() - 1
        self.setCurrentIndex(index)

    def value(self) -> FormValue:
        """The code of the agency chosen ("" for none)."""
        data = self.currentData()
        return data if isinstance(data, str) else ""


class JurisdictionPicker(QComboBox):
    """Choose a jurisdiction the console knows, or type a code (digits only)."""

    def __init__(self, choices: RegistryChoices, own: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.lineEdit()
        if line is not None:
            line.setValidator(
                QRegularExpressionValidator(QRegularExpression(JURISDICTION_TEXT.pattern), self)
            )
            line.setPlaceholderText(self.tr("Jurisdiction code (digits)"))
        for code in choices.jurisdictions_for(own):
            self.addItem(jurisdiction_text(code), code)

    def set_value(self, value: FormValue) -> None:
        """Show ``value`` (a code)."""
        code = value if isinstance(value, str) else ""
        index = self.findData(code)
        if index >= 0:
            self.setCurrentIndex(index)
        else:
            self.setEditText(jurisdiction_text(code) if code else "")

    def value(self) -> FormValue:
        """The code chosen or typed ("" for the whole area)."""
        found = JURISDICTION_TEXT.match(self.currentText().strip())
        return found.group(1) if found is not None else self.currentText().strip()


class TypeCodesPicker(QWidget):
    """A plan's incident types: a list by catalogue name, 添加… and 移除."""

    def __init__(self, choices: RegistryChoices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._choices = choices
        self.list = QListWidget(self)
        self.list.setObjectName("registry_type_codes_list")
        self.list.setFixedHeight(72)
        self.add_button = QPushButton(self.tr("Add…"), self)
        self.add_button.setObjectName("registry_type_codes_add")
        self.add_button.clicked.connect(self.open_chooser)
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.remove_button.clicked.connect(self.remove_current)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.chooser: QDialog | None = None
        self.catalogue_picker: CataloguePicker | None = None

    def set_value(self, value: FormValue) -> None:
        """Show these codes."""
        self.list.clear()
        for code in value if isinstance(value, list) else []:
            if isinstance(code, str):
                self.add_code(code)

    def value(self) -> FormValue:
        """The codes listed, in order."""
        return [code for code in self.codes() if code]

    def codes(self) -> list[str]:
        """The codes listed."""
        rows = (self.list.item(index) for index in range(self.list.count()))
        return [str(row.data(CODE_DATA)) for row in rows if row is not None]

    def texts(self) -> list[str]:
        """The rows as shown (tests read them)."""
        rows = (self.list.item(index) for index in range(self.list.count()))
        return [row.text() for row in rows if row is not None]

    def add_code(self, code: str) -> bool:
        """List ``code`` (once); return whether it was added."""
        code = code.strip()
        if not code or code in self.codes():
            return False
        row = QListWidgetItem(self._choices.type_name(code), self.list)
        row.setData(CODE_DATA, code)
        return True

    def remove_current(self) -> None:
        """Remove the row selected."""
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)

    def open_chooser(self) -> QDialog:
        """Open the catalogue to choose a type; OK adds it."""
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Choose an incident type"))
        picker = CataloguePicker(self._choices.catalogue, dialog)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
        )
        box.accepted.connect(dialog.accept)
        box.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(picker)
        layout.addWidget(box)
        dialog.accepted.connect(lambda: self.add_code(picker.type_code))
        dialog.finished.connect(lambda _result: self._forget_chooser(dialog))
        self.chooser = dialog
        self.catalogue_picker = picker
        dialog.open()
        return dialog

    def _forget_chooser(self, dialog: QDialog) -> None:
        if self.chooser is dialog:
            self.chooser = None
            self.catalogue_picker = None
        dialog.deleteLater()


PICKERS = (AgencyPicker, JurisdictionPicker, TypeCodesPicker)
"""The picker widgets: each has ``set_value`` and ``value`` in form terms."""
Picker = AgencyPicker | JurisdictionPicker | TypeCodesPicker


def make_picker(
    field: str, choices: RegistryChoices | None, own_jurisdiction: str, parent: QWidget
) -> Picker | None:
    """The picker of ``field`` (None: the field is typed as text)."""
    if choices is None:
        return None
    if field == "agency":
        return AgencyPicker(choices, parent)
    if field == "jurisdiction":
        return JurisdictionPicker(choices, own_jurisdiction, parent)
    if field == "type_codes":
        return TypeCodesPicker(choices, parent)
    return None
