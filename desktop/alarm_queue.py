"""The alarm queue: the main window's central table, one row per alarm, one selected.

It shows an :class:`~desktop.alarm_model.AlarmTableModel` through its
:class:`~desktop.alarm_model.AlarmQueueProxy` (open first, then level, then age).
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

from desktop.alarm_model import AlarmQueueProxy, AlarmTableModel
from desktop.queue_columns import QueueColumns


class AlarmQueueView(QTableView):
    """A read-only, single-row-selection table of ``model`` ordered by ``proxy``."""

    def __init__(
        self, model: AlarmTableModel, proxy: AlarmQueueProxy, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._proxy = proxy
        self.setObjectName("alarm_queue_view")
        self.setModel(proxy)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(False)
        self.columns = QueueColumns(self, model)
        """The columns' widths, sized to what they show."""

    def selected_alarm_id(self) -> int | None:
        """The id of the selected alarm, if any."""
        rows = self.selectionModel().selectedRows()
        return self._proxy.alarm_id_at(rows[0].row()) if rows else None

    def select_alarm(self, alarm_id: int) -> bool:
        """Select the row of ``alarm_id``; False when the queue does not hold it."""
        source_row = self._model.row_of(alarm_id)
        if source_row is None:
            return False
        proxy_index = self._proxy.mapFromSource(self._model.index(source_row, 0))
        self.selectRow(proxy_index.row())
        return True

    def alarm_ids(self) -> list[int]:
        """The alarm ids in the order the queue shows them."""
        ids = (self._proxy.alarm_id_at(row) for row in range(self._proxy.rowCount()))
        return [alarm_id for alarm_id in ids if alarm_id is not None]
