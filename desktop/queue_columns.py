"""The alarm queue's column widths, measured from what the columns show.

Level, state and age come from a small vocabulary: their widths are measured once from
every label (in the bold font of a new alarm). Number, type and place grow with the rows
that arrive (up to a cap); the title takes the rest of the width and is elided in the
middle only when it truly does not fit (the tooltip then gives the full text).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHeaderView, QTableView

from desktop import texts
from desktop.alarm_model import AlarmTableModel, Column
from realtime.states import AlarmLevel, AlarmState

CELL_PADDING = 18
"""Pixels around a cell's text (margins, the grid line)."""
WIDTH_CAPS: dict[Column, int] = {Column.ID: 90, Column.TYPE: 170, Column.PLACE: 280}
"""Widest a growing column gets by itself (the officer can still drag it wider)."""
LONGEST_AGE_SECONDS = 99 * 3600 + 59 * 60
"""The age whose label is measured for the age column (an alarm open for days)."""


class QueueColumns(QObject):
    """Sizes the columns of ``view`` (showing ``model``) to their content."""

    def __init__(self, view: QTableView, model: AlarmTableModel) -> None:
        super().__init__(view)
        self._view = view
        self._model = model
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setWordWrap(False)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        self.widths: dict[Column, int] = {}
        """The width each column other than the title has been given."""
        self._metrics = QFontMetrics(view.font())
        self._header_metrics = QFontMetrics(header.font())
        model.rowsInserted.connect(self._on_rows_inserted)
        model.modelReset.connect(self.fit_all)
        self.remeasure()

    def remeasure(self) -> None:
        """Measure again from scratch (after the view's font changed)."""
        bold = QFont(self._view.font())
        bold.setBold(True)
        self._metrics = QFontMetrics(bold)
        self._header_metrics = QFontMetrics(self._view.horizontalHeader().font())
        self.widths = {}
        vocabulary = {
            Column.ID: ["0000"],
            Column.LEVEL: [texts.level_label(level) for level in AlarmLevel],
            Column.STATE: [texts.state_label(state) for state in AlarmState],
            Column.AGE: [texts.format_duration(LONGEST_AGE_SECONDS)],
        }
        for column, labels in vocabulary.items():
            self._grow(column, labels)
        self.fit_all()

    def text_width(self, text: str) -> int:
        """Pixels ``text`` needs in a cell (bold, as a new alarm is drawn)."""
        return self._metrics.horizontalAdvance(text) + CELL_PADDING

    def fit_all(self) -> None:
        """Measure every row."""
        self._fit_rows(0, self._model.rowCount() - 1)

    def _on_rows_inserted(
        self, _parent: QModelIndex | QPersistentModelIndex, first: int, last: int
    ) -> None:
        self._fit_rows(first, last)

    def _fit_rows(self, first: int, last: int) -> None:
        for column in (Column.ID, Column.TYPE, Column.PLACE):
            labels = [
                str(self._model.index(row, column).data(Qt.ItemDataRole.DisplayRole) or "")
                for row in range(first, last + 1)
            ]
            self._grow(column, labels)

    def _grow(self, column: Column, labels: list[str]) -> None:
        title = self._model.headerData(column, Qt.Orientation.Horizontal) or ""
        wanted = max(
            [self._header_metrics.horizontalAdvance(str(title)) + CELL_PADDING]
            + [self.text_width(label) for label in labels]
        )
        wanted = min(wanted, WIDTH_CAPS.get(column, wanted))
        if wanted > self.widths.get(column, 0):
            self.widths[column] = wanted
            self._view.setColumnWidth(column, wanted)
