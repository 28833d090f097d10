"""The wall display (``--wall``): map, alarm queue and counters in large type, no editing.

For a wall screen or a leader's screen: it shows, it does not act. The menus, toolbars
and every dock but the map are hidden, every action but quitting is disabled, and the
alarm queue and counters are drawn large enough to read across a room. The wall's layout
is fixed: it is neither restored from nor saved to the officer's settings.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.alarm_model import LEVEL_COLOURS, Column
from desktop.alarm_queue import AlarmQueueView
from desktop.control_room import ControlRoomLayout
from desktop.service import ConsoleService
from desktop.state import AlarmStore
from realtime.states import AlarmLevel, AlarmState, is_open

WALL_FONT_PIXELS = 22
"""The queue's type on the wall."""
COUNTER_FONT_PIXELS = 30
"""The counters' type on the wall."""
WALL_MAP_SHARE = 0.4
"""Part of the width the map takes on the wall."""


def _keep_disabled(action: QAction) -> None:
    if action.isEnabled():
        action.setEnabled(False)


class WallCounters(QWidget):
    """Open alarms per level and the unacknowledged ones, in large type."""

    def __init__(self, service: ConsoleService, store: AlarmStore, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("wall_counters")
        self._store = store
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.level_labels: dict[AlarmLevel, QLabel] = {}
        for level in AlarmLevel:
            label = self._counter(f"wall_{level.value}_label")
            label.setStyleSheet(
                f"color: white; background: {LEVEL_COLOURS[level].name()}; padding: 4px 12px;"
            )
            self.level_labels[level] = label
            layout.addWidget(label)
        self.unacknowledged_label = self._counter("wall_unacknowledged_label")
        self.unacknowledged_label.setStyleSheet("color: #c62828; padding: 4px 12px;")
        layout.addWidget(self.unacknowledged_label)
        layout.addStretch(1)
        service.alarm_changed.connect(self.refresh)
        service.snapshot_replaced.connect(self.refresh)
        self.refresh()

    def _counter(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(label.font())
        font.setPixelSize(COUNTER_FONT_PIXELS)
        font.setBold(True)
        label.setFont(font)
        # Its full width where there is room; on a narrow screen it is clipped rather
        # than widening the window.
        label.setMinimumWidth(1)
        return label

    def refresh(self, *_args: object) -> None:
        """Count again from the store."""
        open_alarms = [alarm for alarm in self._store if is_open(alarm.state)]
        for level, label in self.level_labels.items():
            count = sum(1 for alarm in open_alarms if alarm.level is level)
            label.setText(f"{texts.level_label(level)} {count}")
        waiting = sum(1 for alarm in open_alarms if alarm.state is AlarmState.NEW)
        self.unacknowledged_label.setText(self.tr("Unacknowledged {count}").format(count=waiting))


class WallMode(QObject):
    """Turns a main window into the wall display."""

    def __init__(
        self,
        window: QMainWindow,
        service: ConsoleService,
        store: AlarmStore,
        *,
        map_dock: QDockWidget,
        queue_view: AlarmQueueView,
        central_layout: QVBoxLayout,
        control_room: ControlRoomLayout,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._map_dock = map_dock
        window.setWindowTitle(self.tr("DutyDesk – wall display"))
        window.menuBar().hide()
        for toolbar in window.findChildren(QToolBar):
            toolbar.hide()
            toolbar.toggleViewAction().setEnabled(False)
        for dock in window.findChildren(QDockWidget):
            if dock is not map_dock:
                dock.hide()
                dock.toggleViewAction().setEnabled(False)
        map_dock.show()
        map_dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.quit_action = QAction(self.tr("Quit"), window)
        self.quit_action.setObjectName("wall_quit_action")
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(window.close)
        for action in window.findChildren(QAction):
            if action is not self.quit_action:
                action.setEnabled(False)
                # The window enables actions later (the role at login, a selection): not here.
                action.changed.connect(lambda chosen=action: _keep_disabled(chosen))
        window.addAction(self.quit_action)
        self.counters = WallCounters(service, store, window)
        central_layout.insertWidget(0, self.counters)
        font = QFont(queue_view.font())
        font.setPixelSize(WALL_FONT_PIXELS)
        queue_view.setFont(font)
        queue_view.horizontalHeader().setFont(font)
        queue_view.verticalHeader().setDefaultSectionSize(WALL_FONT_PIXELS * 2)
        # Read across a room: the level's colour and the title say the type.
        queue_view.setColumnHidden(Column.TYPE, True)
        queue_view.columns.remeasure()
        control_room.map_share = WALL_MAP_SHARE
        control_room.apply_proportions()

    def enabled_actions(self) -> list[QAction]:
        """The actions still enabled (only quitting)."""
        return [action for action in self._window.findChildren(QAction) if action.isEnabled()]
