"""The alarm queue's quick filter: level, kind, jurisdiction and free text, combined.

:class:`QueueFilter` is the plain rule (every field set must match); :class:`QuickFilterBar`
is the row above the queue that edits it, with a clear button and the count
``显示 n / m`` (rows shown / alarms held). The filter hides rows only: sounds, flashing
and counts in the status bar still cover every alarm.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from desktop import texts
from desktop.alarm_model import AlarmQueueProxy, AlarmTableModel
from desktop.places import jurisdiction_name
from desktop.plain_text import plain_label
from desktop.state import AlarmStore, StoreChange
from realtime.protocol import AlarmView
from realtime.states import AlarmLevel

TEXT_MIN_WIDTH = 100
BOX_MIN_CHARACTERS = 4


@dataclasses.dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue shows: alarms matching every field that is set (empty: any)."""

    level: AlarmLevel | None = None
    alarm_type: str = ""
    jurisdiction: str = ""
    """A jurisdiction code; alarms in it or in any area under it match."""
    text: str = ""
    """Words found (case-insensitively) in the number, title, place, description, source
    reference or the type's name; every word must be found."""

    @property
    def active(self) -> bool:
        """Whether anything is filtered."""
        return bool(self.level or self.alarm_type or self.jurisdiction or self.text.strip())

    def matches(self, alarm: AlarmView) -> bool:
        """Whether ``alarm`` passes the filter."""
        if self.level is not None and alarm.level is not self.level:
            return False
        if self.alarm_type and alarm.alarm_type != self.alarm_type:
            return False
        if self.jurisdiction and not alarm.jurisdiction.startswith(self.jurisdiction):
            return False
        words = self.text.casefold().split()
        if not words:
            return True
        haystack = " ".join(
            (
                str(alarm.id),
                alarm.title,
                alarm.place,
                alarm.description,
                alarm.source_ref,
                alarm.alarm_type,
                texts.alarm_type_label(alarm.alarm_type),
            )
        ).casefold()
        return all(word in haystack for word in words)


class QuickFilterBar(QWidget):
    """The filter row over the queue; it sets ``proxy``'s row filter as it is edited."""

    filter_changed = Signal(object)
    """The :class:`QueueFilter` now applied."""

    def __init__(
        self,
        store: AlarmStore,
        model: AlarmTableModel,
        proxy: AlarmQueueProxy,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("quick_filter_bar")
        self._store = store
        self._model = model
        self._proxy = proxy
        self.filter = QueueFilter()
        """The filter applied now."""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text_edit = QLineEdit(self)
        self.text_edit.setObjectName("filter_text_edit")
        self.text_edit.setPlaceholderText(self.tr("Search number, title, place… (Ctrl+F)"))
        self.text_edit.setClearButtonEnabled(True)
        self.level_box = QComboBox(self)
        self.level_box.setObjectName("filter_level_box")
        self.level_box.addItem(self.tr("All levels"), None)
        for level in AlarmLevel:
            self.level_box.addItem(texts.level_label(level), level.value)
        self.type_box = QComboBox(self)
        self.type_box.setObjectName("filter_type_box")
        self.jurisdiction_box = QComboBox(self)
        self.jurisdiction_box.setObjectName("filter_jurisdiction_box")
        self.clear_button = QPushButton(self.tr("Clear"), self)
        self.clear_button.setObjectName("filter_clear_button")
        self.count_label = plain_label(parent=self)
        self.count_label.setObjectName("filter_count_label")
        # The bar never widens the window (the docks decide that); the lists open as wide
        # as they need.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.text_edit.setMinimumWidth(TEXT_MIN_WIDTH)
        for box in (self.level_box, self.type_box, self.jurisdiction_box):
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(BOX_MIN_CHARACTERS)
        layout.addWidget(self.text_edit, 3)
        layout.addWidget(self.level_box)
        layout.addWidget(self.type_box)
        layout.addWidget(self.jurisdiction_box)
        layout.addWidget(self.clear_button)
        layout.addWidget(self.count_label)
        self._fill_choices()

        self.text_edit.textChanged.connect(self._apply)
        self.text_edit.returnPressed.connect(self._apply)
        for box in (self.level_box, self.type_box, self.jurisdiction_box):
            box.currentIndexChanged.connect(self._apply)
        self.clear_button.clicked.connect(self.clear)
        self._remove_listener = store.add_listener(self._on_store_change)
        for signal in (proxy.rowsInserted, proxy.rowsRemoved, proxy.modelReset):
            signal.connect(self.refresh_count)
        self._apply()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Escape clears the filter."""
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            return
        super().keyPressEvent(event)

    def focus_search(self) -> None:
        """Put the cursor in the search field, its text selected (Ctrl+F)."""
        self.text_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.text_edit.selectAll()

    def set_filter(self, wanted: QueueFilter) -> None:
        """Set every field of the bar to ``wanted`` (and apply it)."""
        self._fill_choices(extra_type=wanted.alarm_type, extra_jurisdiction=wanted.jurisdiction)
        for box, value in (
            (self.level_box, wanted.level.value if wanted.level is not None else None),
            (self.type_box, wanted.alarm_type),
            (self.jurisdiction_box, wanted.jurisdiction),
        ):
            box.blockSignals(True)
            box.setCurrentIndex(max(box.findData(value), 0))
            box.blockSignals(False)
        self.text_edit.blockSignals(True)
        self.text_edit.setText(wanted.text)
        self.text_edit.blockSignals(False)
        self._apply()

    def clear(self) -> None:
        """Show every alarm again."""
        self.set_filter(QueueFilter())

    def refresh_count(self, *_args: object) -> None:
        """Redraw ``显示 n / m``."""
        shown, held = self._proxy.rowCount(), self._model.rowCount()
        self.count_label.setText(self.tr("Showing {shown} / {held}").format(shown=shown, held=held))
        self.count_label.setStyleSheet("color: #c62828; font-weight: bold;" if shown < held else "")

    def shutdown(self) -> None:
        """Stop following the store (the window is closing)."""
        self._remove_listener()

    def _apply(self, *_args: object) -> None:
        level = self.level_box.currentData()
        self.filter = QueueFilter(
            level=AlarmLevel(level) if level else None,
            alarm_type=str(self.type_box.currentData() or ""),
            jurisdiction=str(self.jurisdiction_box.currentData() or ""),
            text=self.text_edit.text(),
        )
        self._proxy.set_row_filter(self.filter.matches if self.filter.active else None)
        self.clear_button.setEnabled(self.filter.active)
        self.refresh_count()
        self.filter_changed.emit(self.filter)

    def _on_store_change(self, _change: StoreChange) -> None:
        self._fill_choices()
        self.refresh_count()

    def _fill_choices(self, *, extra_type: str = "", extra_jurisdiction: str = "") -> None:
        """Offer the kinds and jurisdictions of the alarms held (keeping the choice)."""
        types = ({alarm.alarm_type for alarm in self._store} | {extra_type}) - {""}
        areas = ({alarm.jurisdiction for alarm in self._store} | {extra_jurisdiction}) - {""}
        self._refill(
            self.type_box,
            self.tr("All kinds"),
            sorted((texts.alarm_type_label(code), code) for code in types),
        )
        self._refill(
            self.jurisdiction_box,
            self.tr("All jurisdictions"),
            sorted((jurisdiction_name(code), code) for code in areas),
        )

    @staticmethod
    def _refill(box: QComboBox, everything: str, choices: list[tuple[str, str]]) -> None:
        current = box.currentData()
        wanted = [("", everything), *((code, label) for label, code in choices)]
        held = [(box.itemData(i), box.itemText(i)) for i in range(box.count())]
        if held == wanted:
            return
        box.blockSignals(True)
        box.clear()
        for code, label in wanted:
            box.addItem(label, code)
        box.setCurrentIndex(max(box.findData(current), 0) if current else 0)
        box.blockSignals(False)
