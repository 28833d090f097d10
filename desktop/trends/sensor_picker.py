"""The trends dock's sensor list: search, pick by check box, reload the registry.

Sensors are grouped by hazard source and enterprise; checking one asks the panel to show
its trend (:attr:`SensorPicker.sensor_toggled`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.plain_text import plain_tooltip
from desktop.trends.store import group_sensors, sensor_matches
from realtime.protocol import SensorView

SENSOR_ID_ROLE = Qt.ItemDataRole.UserRole


class SensorPicker(QWidget):
    """A search field over a check-box tree of sensors, and a button to reload them."""

    sensor_toggled = Signal(str, bool)
    """The officer checked (True) or unchecked (False) a sensor, by id."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sensors: Mapping[str, SensorView] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("trends_search")
        self.search_edit.setPlaceholderText(self.tr("Search sensors…"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self.apply_search)
        layout.addWidget(self.search_edit)
        self.sensor_tree = QTreeWidget(self)
        self.sensor_tree.setObjectName("trends_sensor_tree")
        self.sensor_tree.setHeaderHidden(True)
        self.sensor_tree.itemChanged.connect(self._on_item_changed)
        layout.addWidget(self.sensor_tree, 1)
        self.reload_button = QPushButton(self.tr("Reload sensors"), self)
        layout.addWidget(self.reload_button)

    def fill(self, sensors: Mapping[str, SensorView], checked: Collection[str]) -> None:
        """List ``sensors`` by group, checking those in ``checked`` (no toggles are sent)."""
        self._sensors = sensors
        self.sensor_tree.blockSignals(True)
        try:
            self.sensor_tree.clear()
            for heading, members in group_sensors(sensors.values()).items():
                group = QTreeWidgetItem(self.sensor_tree, [heading or self.tr("Other sensors")])
                group.setFlags(group.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
                for sensor in members:
                    label = f"{sensor.name or sensor.sensor_id} ({sensor.sensor_id})"
                    item = QTreeWidgetItem(group, [label])
                    item.setData(0, SENSOR_ID_ROLE, sensor.sensor_id)
                    item.setToolTip(0, plain_tooltip(sensor.place))
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(
                        0,
                        Qt.CheckState.Checked
                        if sensor.sensor_id in checked
                        else Qt.CheckState.Unchecked,
                    )
                group.setExpanded(True)
        finally:
            self.sensor_tree.blockSignals(False)

    def _groups(self) -> Iterable[QTreeWidgetItem]:
        for group_index in range(self.sensor_tree.topLevelItemCount()):
            group = self.sensor_tree.topLevelItem(group_index)
            if group is not None:
                yield group

    @staticmethod
    def _children(group: QTreeWidgetItem) -> Iterable[QTreeWidgetItem]:
        for child_index in range(group.childCount()):
            child = group.child(child_index)
            if child is not None:
                yield child

    def _sensor_items(self) -> Iterable[QTreeWidgetItem]:
        for group in self._groups():
            yield from self._children(group)

    def visible_sensor_ids(self) -> list[str]:
        """The sensor ids the search leaves in the list."""
        return [
            str(item.data(0, SENSOR_ID_ROLE))
            for item in self._sensor_items()
            if not item.isHidden()
        ]

    def apply_search(self, text: str) -> None:
        """Hide the sensors (and the groups left empty) that ``text`` does not match."""
        needle = text.strip().casefold()
        for group in self._groups():
            group_matches = bool(needle) and needle in group.text(0).casefold()
            shown = 0
            for item in self._children(group):
                sensor = self._sensors.get(str(item.data(0, SENSOR_ID_ROLE)))
                visible = sensor is not None and (group_matches or sensor_matches(sensor, text))
                item.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)

    def _on_item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        sensor_id = item.data(0, SENSOR_ID_ROLE)
        if not isinstance(sensor_id, str):
            return
        self.sensor_toggled.emit(sensor_id, item.checkState(0) == Qt.CheckState.Checked)

    def set_checked(self, sensor_id: str, checked: bool) -> None:
        """Check or uncheck ``sensor_id`` in the list (no toggle is sent)."""
        self.sensor_tree.blockSignals(True)
        try:
            for item in self._sensor_items():
                if item.data(0, SENSOR_ID_ROLE) == sensor_id:
                    item.setCheckState(
                        0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
                    )
        finally:
            self.sensor_tree.blockSignals(False)
