"""The event-type picker: the catalogue's areas → categories → items in a tree, a search
box that matches Chinese or English names or codes, and what the chosen item means (the
level that handles it, 直报, the default level, the deadlines).

The widget is a thin view of a :class:`~desktop.incidents.catalogue_state.CatalogueState`;
it never talks to the server (the incident desk keeps the state current).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from desktop.incidents.catalogue_state import CatalogueState
from desktop.incidents.labels import deadline_label, incident_level_label
from realtime.incident_states import Deadline, HandlingLevel
from realtime.protocol import CatalogueItemView

CODE_ROLE = Qt.ItemDataRole.UserRole
"""Where an item row keeps its code (area and category rows keep none)."""


def handling_level_label(level: HandlingLevel) -> str:
    """Return who handles an item (村社, 镇街, 区, a functional department)."""
    labels = {
        HandlingLevel.VILLAGE: QCoreApplication.translate("Catalogue", "Village / community"),
        HandlingLevel.TOWN: QCoreApplication.translate("Catalogue", "Town / street"),
        HandlingLevel.DISTRICT: QCoreApplication.translate("Catalogue", "District"),
        HandlingLevel.AGENCY: QCoreApplication.translate("Catalogue", "Functional department"),
    }
    return labels[level]


def item_summary(item: CatalogueItemView) -> str:
    """What an item means for the officer, on a few lines."""
    lines = [
        f"{item.name_zh}（{item.code}）",
        QCoreApplication.translate("Catalogue", "Handled by: {level}").format(
            level=handling_level_label(item.handling_level)
        ),
        QCoreApplication.translate("Catalogue", "Default level: {level}").format(
            level=incident_level_label(item.default_level)
        ),
    ]
    if item.reports_straight_to_district:
        lines.append(
            QCoreApplication.translate("Catalogue", "Reported straight to the district (直报)")
        )
    deadlines = [
        QCoreApplication.translate("Catalogue", "{deadline} within {minutes} min").format(
            deadline=deadline_label(kind), minutes=minutes
        )
        for kind, minutes in (
            (Deadline.ACCEPT, item.deadlines.accept),
            (Deadline.ARRIVE, item.deadlines.arrive),
            (Deadline.FINISH, item.deadlines.finish),
        )
        if minutes is not None
    ]
    if deadlines:
        lines.append(
            QCoreApplication.translate("Catalogue", "Deadlines: {deadlines}").format(
                deadlines="；".join(deadlines)
            )
        )
    return "\n".join(lines)


class CataloguePicker(QWidget):
    """Choose an event type (事项) from the catalogue; ``type_code`` is the choice."""

    chosen = Signal(str)
    """The code of the item chosen ("" when the choice is cleared)."""

    def __init__(self, catalogue: CatalogueState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("catalogue_picker")
        self._catalogue = catalogue
        self._code = ""
        self._rows: dict[str, QTreeWidgetItem] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("catalogue_search")
        self.search_edit.setPlaceholderText(self.tr("Search by Chinese or English name or code"))
        self.search_edit.setClearButtonEnabled(True)
        layout.addWidget(self.search_edit)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("catalogue_tree")
        self.tree.setHeaderHidden(True)
        self.tree.setMinimumHeight(180)
        layout.addWidget(self.tree)
        self.detail_label = QLabel(self)
        self.detail_label.setObjectName("catalogue_detail")
        self.detail_label.setTextFormat(Qt.TextFormat.PlainText)
        self.detail_label.setWordWrap(True)
        layout.addWidget(self.detail_label)
        self.search_edit.textChanged.connect(self.refresh)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        self.refresh()

    @property
    def type_code(self) -> str:
        """The code of the item chosen, "" for none."""
        return self._code

    def refresh(self) -> None:
        """Show the items matching the search (all of them for an empty search)."""
        query = self.search_edit.text()
        self.tree.blockSignals(True)
        self.tree.clear()
        areas: dict[str, QTreeWidgetItem] = {}
        self._rows = {}
        for branch in self._catalogue.search(query):
            area_row = areas.get(branch.area.code)
            if area_row is None:
                area_row = QTreeWidgetItem(self.tree, [branch.area.name_zh])
                area_row.setFlags(Qt.ItemFlag.ItemIsEnabled)
                areas[branch.area.code] = area_row
            category_row = QTreeWidgetItem(area_row, [branch.category.name_zh])
            category_row.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for item in branch.items:
                row = QTreeWidgetItem(category_row, [f"{item.name_zh}  {item.code}"])
                row.setData(0, CODE_ROLE, item.code)
                row.setToolTip(0, item.name_en)
                self._rows[item.code] = row
                if item.code == self._code:
                    # Show the choice: open its area and category.
                    area_row.setExpanded(True)
                    category_row.setExpanded(True)
                    self.tree.setCurrentItem(row)
        if query.strip():
            self.tree.expandAll()
        self.tree.blockSignals(False)
        self._show_detail()

    def select(self, code: str) -> bool:
        """Choose item ``code``; return whether the catalogue has it."""
        if code and code not in self._catalogue:
            return False
        self._set_code(code)
        self.refresh()
        return True

    def visible_codes(self) -> list[str]:
        """The item codes the tree shows now, in order."""
        return list(self._rows)

    def row_of(self, code: str) -> QTreeWidgetItem | None:
        """The tree row of item ``code`` when the search shows it."""
        return self._rows.get(code)

    def _on_current_changed(self, row: QTreeWidgetItem | None, _previous: object) -> None:
        code = row.data(0, CODE_ROLE) if row is not None else None
        if isinstance(code, str):
            self._set_code(code)
            self._show_detail()

    def _set_code(self, code: str) -> None:
        if code != self._code:
            self._code = code
            self.chosen.emit(code)

    def _show_detail(self) -> None:
        item = self._catalogue.item(self._code) if self._code else None
        if item is not None:
            self.detail_label.setText(item_summary(item))
        elif not self._catalogue.loaded:
            self.detail_label.setText(self.tr("The event catalogue has not arrived yet."))
        else:
            self.detail_label.setText(self.tr("Choose an event type."))
