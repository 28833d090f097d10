"""The registry table: a thin Qt model over the items a
:class:`~desktop.registry.state.RegistryFilter` keeps, with the columns that matter for
the kind shown (a team: 名称, 类型, 人数, 能力, 状态, 辖区)."""

from __future__ import annotations

from typing import Any

import msgspec
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QBrush, QColor

from desktop.registry.labels import field_label, jurisdiction_label, value_text
from desktop.registry.state import RegistryFilter, RegistryState, RegistryUpdate
from realtime.protocol import ItemKind, RegistryItemView

KIND_COLUMNS: dict[ItemKind, tuple[str, ...]] = {
    ItemKind.ENTERPRISE: ("code", "name", "industry", "risk_grade", "credit_code", "jurisdiction"),
    ItemKind.HAZARD_SOURCE: ("code", "name", "grade", "enterprise", "chemicals", "jurisdiction"),
    ItemKind.TEAM: (
        "code",
        "name",
        "team_type",
        "members",
        "capabilities",
        "state",
        "jurisdiction",
    ),
    ItemKind.EQUIPMENT: (
        "code",
        "name",
        "category",
        "quantity",
        "measure",
        "owner",
        "jurisdiction",
    ),
    ItemKind.SHELTER: ("code", "name", "capacity", "occupancy", "facilities", "jurisdiction"),
    ItemKind.EXPERT: (
        "code",
        "name",
        "specialties",
        "organisation",
        "title",
        "availability",
        "jurisdiction",
    ),
    ItemKind.TARGET: ("code", "name", "category", "population", "address", "jurisdiction"),
    ItemKind.PLAN: ("code", "name", "type_codes", "levels", "response_level", "jurisdiction"),
}
"""The columns of each kind's table, as field names."""

RETIRED_COLOUR = "#9e9e9e"
REFILL_MS = 100
"""How long a burst of live changes is gathered before the rows are recomputed."""


def field_value(item: RegistryItemView, field: str) -> object:
    """The value of a common field or of the item's details."""
    if field in item.__struct_fields__:
        return getattr(item, field)
    value = getattr(item.details, field, None)
    return msgspec.to_builtins(value) if isinstance(value, list) else value


def cell_text(item: RegistryItemView, field: str) -> str:
    """What a table cell shows for ``field`` of ``item``."""
    value = field_value(item, field)
    if field == "jurisdiction":
        return jurisdiction_label(str(value))
    if field == "chemicals" and isinstance(value, list):
        return "；".join(str(entry.get("name", "")) for entry in value if isinstance(entry, dict))
    return value_text(field, value)


class RegistryTableModel(QAbstractTableModel):
    """The items of one kind passing the panel's filter, one row each, ordered by code."""

    def __init__(self, state: RegistryState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.filter = RegistryFilter(ItemKind.TEAM)
        self._rows: list[RegistryItemView] = []
        self._refill_timer = QTimer(self)
        self._refill_timer.setSingleShot(True)
        self._refill_timer.setInterval(REFILL_MS)
        self._refill_timer.timeout.connect(self._refill)
        self._remove_listener = state.add_listener(self._on_update)
        self.destroyed.connect(self._remove_listener)

    @property
    def columns(self) -> tuple[str, ...]:
        """The field names of the columns shown."""
        return KIND_COLUMNS[self.filter.kind]

    def set_filter(self, chosen: RegistryFilter) -> None:
        """Show what ``chosen`` keeps."""
        kind_changed = chosen.kind is not self.filter.kind
        self.filter = chosen
        self._refill_timer.stop()
        if kind_changed:
            self.beginResetModel()
            self._rows = self._state.matching(chosen)
            self.endResetModel()
        else:
            self._refill()

    def item_at(self, row: int) -> RegistryItemView | None:
        """The item of ``row``."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, code: str) -> int | None:
        """The row of item ``code`` (None when the filter hides it)."""
        for row, item in enumerate(self._rows):
            if item.code == code:
                return row
        return None

    def codes(self) -> list[str]:
        """The codes shown, in order."""
        return [item.code for item in self._rows]

    def _on_update(self, update: RegistryUpdate) -> None:
        # Gathered: a file import brings one event per item.
        if update.kind is self.filter.kind and not self._refill_timer.isActive():
            self._refill_timer.start()

    def flush(self) -> None:
        """Show now what changed since the last refill."""
        if self._refill_timer.isActive():
            self._refill_timer.stop()
            self._refill()

    def _refill(self) -> None:
        rows = self._state.matching(self.filter)
        if [item.code for item in rows] == self.codes():
            self._rows = rows
            if rows:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1)
                )
            return
        # Rows came or went: the view keeps its selection by code (the panel restores it).
        self.layoutAboutToBeChanged.emit()
        self._rows = rows
        self.layoutChanged.emit()

    # ------------------------------------------------------------------ Qt

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        """Rows shown."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        """Columns of the kind shown."""
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        """The cell's text; retired items in grey."""
        item = self.item_at(index.row())
        if item is None or not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(item, self.columns[index.column()])
        if role == Qt.ItemDataRole.ForegroundRole and item.retired:
            return QBrush(QColor(RETIRED_COLOUR))
        if role == Qt.ItemDataRole.UserRole:
            return item.code
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = 0
    ) -> Any:
        """The column's field label."""
        if (
            orientation is Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.columns)
        ):
            return field_label(self.columns[section])
        return None
