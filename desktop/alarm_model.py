"""Qt item models over the :class:`~desktop.state.AlarmStore` (thin adapters, no logic).

:class:`AlarmTableModel` shows one row per alarm in arrival order and follows the store's
changes; :class:`AlarmQueueProxy` orders it as the queue is read (open first, then level,
then age) using :func:`~desktop.state.queue_sort_key`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from desktop import texts
from desktop.plain_text import plain_tooltip
from desktop.state import AlarmStore, ChangeKind, StoreChange, queue_sort_key, utc_now
from realtime.protocol import AlarmView
from realtime.states import AlarmLevel, AlarmState, is_open

ALARM_ID_ROLE = Qt.ItemDataRole.UserRole + 1
"""Role that returns the alarm id of a row."""
SORT_KEY_ROLE = Qt.ItemDataRole.UserRole + 2
"""Role that returns :func:`~desktop.state.queue_sort_key` of a row."""
FLASH_ROLE = Qt.ItemDataRole.UserRole + 3
"""Role that returns whether a row is drawn in its flash colours now (see :func:`flashes`)."""

LEVEL_COLOURS: dict[AlarmLevel, QColor] = {
    AlarmLevel.RED: QColor("#d32f2f"),
    AlarmLevel.ORANGE: QColor("#ef6c00"),
    AlarmLevel.YELLOW: QColor("#f9a825"),
    AlarmLevel.BLUE: QColor("#1565c0"),
}
"""Strong colour of each level (the level cell's background)."""
LEVEL_TINTS: dict[AlarmLevel, QColor] = {
    AlarmLevel.RED: QColor("#fde0e0"),
    AlarmLevel.ORANGE: QColor("#ffe9d6"),
    AlarmLevel.YELLOW: QColor("#fff8d0"),
    AlarmLevel.BLUE: QColor("#e1ecfa"),
}
"""Light tint of each level (the other cells of an open alarm)."""
FINISHED_COLOUR = QColor("#808080")
STALE_COLOUR = QColor("#9e9e9e")

_AnyIndex = QModelIndex | QPersistentModelIndex


class Column(enum.IntEnum):
    """Columns of the alarm queue."""

    ID = 0
    LEVEL = 1
    TYPE = 2
    TITLE = 3
    PLACE = 4
    STATE = 5
    AGE = 6


def flashes(alarm: AlarmView) -> bool:
    """Whether the queue flashes ``alarm``'s row: red and not yet acknowledged."""
    return alarm.level is AlarmLevel.RED and alarm.state is AlarmState.NEW


def alarm_age_seconds(alarm: AlarmView, now: dt.datetime) -> float:
    """Return how long an alarm has been open (or was open, once finished)."""
    end = now if is_open(alarm.state) else alarm.updated_at
    return max((end - alarm.first_seen).total_seconds(), 0.0)


class AlarmTableModel(QAbstractTableModel):
    """One row per alarm of an :class:`AlarmStore`, kept in step with its changes."""

    def __init__(
        self,
        store: AlarmStore,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._clock = clock
        self._ids: list[int] = [alarm.id for alarm in store]
        self._rows: dict[int, int] = {alarm_id: row for row, alarm_id in enumerate(self._ids)}
        self._stale = False
        self._flash_on = False
        self._remove_listener = store.add_listener(self._on_store_change)

    # ------------------------------------------------------------------ API

    def alarm_at(self, row: int) -> AlarmView | None:
        """Return the alarm shown in ``row``."""
        if 0 <= row < len(self._ids):
            return self._store.get(self._ids[row])
        return None

    def row_of(self, alarm_id: int) -> int | None:
        """Return the row of an alarm, or None."""
        return self._rows.get(alarm_id)

    @property
    def stale(self) -> bool:
        """Whether the rows show data that may be out of date (the link is down)."""
        return self._stale

    def set_stale(self, stale: bool) -> None:
        """Mark the data as possibly out of date (drawn grey) or current."""
        if stale != self._stale:
            self._stale = stale
            self._all_changed()

    @property
    def flash_on(self) -> bool:
        """Whether flashing rows are in their bright phase now."""
        return self._flash_on

    def set_flash_phase(self, on: bool) -> None:
        """Switch the flashing rows (:func:`flashes`) bright or back (a timer toggles this)."""
        if on == self._flash_on:
            return
        self._flash_on = on
        roles = [Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole, FLASH_ROLE]
        for row, alarm_id in enumerate(self._ids):
            alarm = self._store.get(alarm_id)
            if alarm is not None and flashes(alarm):
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1), roles)

    def refresh_ages(self) -> None:
        """Redraw the age column (call once a second)."""
        if self._ids:
            top = self.index(0, Column.AGE)
            bottom = self.index(len(self._ids) - 1, Column.AGE)
            self.dataChanged.emit(top, bottom, [Qt.ItemDataRole.DisplayRole])

    def detach(self) -> None:
        """Stop following the store."""
        self._remove_listener()

    # ------------------------------------------------------------------ store → rows

    def _on_store_change(self, change: StoreChange) -> None:
        if change.kind is ChangeKind.RESET:
            self.beginResetModel()
            self._ids = [alarm.id for alarm in self._store]
            self._rows = {alarm_id: row for row, alarm_id in enumerate(self._ids)}
            self.endResetModel()
            return
        if change.alarm is None:  # only a reset comes without an alarm
            return
        alarm_id = change.alarm.id
        row = self._rows.get(alarm_id)
        if row is None:
            row = len(self._ids)
            self.beginInsertRows(QModelIndex(), row, row)
            self._ids.append(alarm_id)
            self._rows[alarm_id] = row
            self.endInsertRows()
        else:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def _all_changed(self) -> None:
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(Column) - 1))

    # ------------------------------------------------------------------ Qt model

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of alarms."""
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of columns."""
        return 0 if parent.isValid() else len(Column)

    def headerData(  # noqa: N802
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """Column titles."""
        if orientation is not Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        titles = {
            Column.ID: self.tr("No."),
            Column.LEVEL: self.tr("Level"),
            Column.TYPE: self.tr("Type"),
            Column.TITLE: self.tr("Title"),
            Column.PLACE: self.tr("Place"),
            Column.STATE: self.tr("State"),
            Column.AGE: self.tr("Age"),
        }
        return titles.get(Column(section)) if 0 <= section < len(Column) else None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, colours, fonts and the custom roles."""
        if not index.isValid():
            return None
        alarm = self.alarm_at(index.row())
        if alarm is None:
            return None
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(alarm, column)
        if role == ALARM_ID_ROLE:
            return alarm.id
        if role == SORT_KEY_ROLE:
            return queue_sort_key(alarm)
        if role == FLASH_ROLE:
            return self._flashing_now(alarm)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(alarm, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(alarm, column)
        if role == Qt.ItemDataRole.FontRole:
            return self._font(alarm)
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(self._tooltip(alarm, column))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (Column.ID, Column.AGE):
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def _display(self, alarm: AlarmView, column: Column) -> str:
        match column:
            case Column.ID:
                return str(alarm.id)
            case Column.LEVEL:
                return texts.level_label(alarm.level)
            case Column.TYPE:
                return texts.alarm_type_label(alarm.alarm_type)
            case Column.TITLE:
                return alarm.title if alarm.count <= 1 else f"{alarm.title} (×{alarm.count})"
            case Column.PLACE:
                return alarm.place
            case Column.STATE:
                return texts.state_label(alarm.state)
            case Column.AGE:
                return texts.format_duration(alarm_age_seconds(alarm, self._clock()))

    def _flashing_now(self, alarm: AlarmView) -> bool:
        return self._flash_on and not self._stale and flashes(alarm)

    def _tooltip(self, alarm: AlarmView, column: Column) -> str:
        """The cell's full text (a long title or place may be elided), with the description."""
        if column is Column.PLACE and alarm.place:
            return alarm.place
        if column is Column.TITLE:
            title = self._display(alarm, column)
            return "\n".join(part for part in (title, alarm.description) if part)
        return alarm.description or alarm.title

    def _background(self, alarm: AlarmView, column: Column) -> QBrush | None:
        if not is_open(alarm.state):
            return None
        if self._flashing_now(alarm):
            return QBrush(LEVEL_COLOURS[alarm.level])
        if column is Column.LEVEL:
            return QBrush(STALE_COLOUR if self._stale else LEVEL_COLOURS[alarm.level])
        return None if self._stale else QBrush(LEVEL_TINTS[alarm.level])

    def _foreground(self, alarm: AlarmView, column: Column) -> QBrush | None:
        if self._stale:
            return QBrush(QColor("white") if column is Column.LEVEL else STALE_COLOUR)
        if not is_open(alarm.state):
            return QBrush(FINISHED_COLOUR)
        if self._flashing_now(alarm):
            return QBrush(QColor("white"))
        if column is Column.LEVEL:
            dark_text = alarm.level is AlarmLevel.YELLOW
            return QBrush(QColor("black") if dark_text else QColor("white"))
        return None

    def _font(self, alarm: AlarmView) -> QFont | None:
        if alarm.state is not AlarmState.NEW and not self._stale:
            return None
        font = QFont()
        font.setBold(alarm.state is AlarmState.NEW)
        font.setItalic(self._stale)
        return font


class AlarmQueueProxy(QSortFilterProxyModel):
    """Orders the alarm queue by :func:`~desktop.state.queue_sort_key` and keeps it ordered."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_KEY_ROLE)
        self.setDynamicSortFilter(True)
        self._accepts: Callable[[AlarmView], bool] | None = None

    def set_row_filter(self, accepts: Callable[[AlarmView], bool] | None) -> None:
        """Show only the alarms ``accepts`` takes (None shows every alarm)."""
        self.beginFilterChange()
        self._accepts = accepts
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _AnyIndex) -> bool:  # noqa: N802
        """Whether the quick filter lets the row through."""
        if self._accepts is None:
            return True
        model = self.sourceModel()
        alarm = model.alarm_at(source_row) if isinstance(model, AlarmTableModel) else None
        return alarm is None or self._accepts(alarm)

    def setSourceModel(self, source_model: Any) -> None:  # noqa: N802
        """Adopt a source model and sort it."""
        super().setSourceModel(source_model)
        self.sort(0, Qt.SortOrder.AscendingOrder)

    def alarm_id_at(self, row: int) -> int | None:
        """Return the alarm id shown in ``row`` of the sorted queue."""
        value = self.index(row, 0).data(ALARM_ID_ROLE)
        return value if isinstance(value, int) else None
