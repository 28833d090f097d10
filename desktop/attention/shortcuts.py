"""Keyboard-first work: the shortcuts of the alarm queue and the 快捷键 help dialog.

Every shortcut is a ``QAction`` in a menu (处置 Work, 帮助 Help), so the menus show it too;
the help dialog lists every action of the window that has a shortcut, so it cannot fall
out of step with them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ACKNOWLEDGE_KEY = "F2"
DISPATCH_KEY = "F3"
NEXT_UNACKNOWLEDGED_KEY = "F4"
SEARCH_KEY = "Ctrl+F"
FOCUS_MAP_KEY = "Ctrl+G"
MUTE_ALARM_KEY = "Ctrl+M"
HELP_KEY = "F1"


@dataclasses.dataclass(frozen=True, slots=True)
class WorkActions:
    """The keyboard actions of the Work menu (tests trigger them by their keys)."""

    acknowledge: QAction
    dispatch: QAction
    next_unacknowledged: QAction
    search: QAction
    focus_map: QAction
    mute_alarm: QAction
    shortcuts_help: QAction


def _action(
    window: QMainWindow, name: str, text: str, key: str, slot: Callable[[], object]
) -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    action.setShortcut(QKeySequence(key))
    # The window's shortcuts work from any of its docks, not only the focused widget.
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)
    return action


def add_work_actions(
    window: QMainWindow,
    *,
    acknowledge: Callable[[], object],
    dispatch: Callable[[], object],
    next_unacknowledged: Callable[[], object],
    search: Callable[[], object],
    focus_map: Callable[[], object],
    mute_alarm: Callable[[], object],
) -> WorkActions:
    """Add the Work and Help menus with the keyboard actions to ``window``."""

    actions = WorkActions(
        acknowledge=_action(
            window,
            "acknowledge_action",
            QCoreApplication.translate("Shortcuts", "Acknowledge"),
            ACKNOWLEDGE_KEY,
            acknowledge,
        ),
        dispatch=_action(
            window,
            "dispatch_action",
            QCoreApplication.translate("Shortcuts", "Dispatch…"),
            DISPATCH_KEY,
            dispatch,
        ),
        next_unacknowledged=_action(
            window,
            "next_unacknowledged_action",
            QCoreApplication.translate("Shortcuts", "Next unacknowledged alarm"),
            NEXT_UNACKNOWLEDGED_KEY,
            next_unacknowledged,
        ),
        search=_action(
            window,
            "search_action",
            QCoreApplication.translate("Shortcuts", "Search the queue"),
            SEARCH_KEY,
            search,
        ),
        focus_map=_action(
            window,
            "focus_map_action",
            QCoreApplication.translate("Shortcuts", "Show the alarm on the map"),
            FOCUS_MAP_KEY,
            focus_map,
        ),
        mute_alarm=_action(
            window,
            "mute_alarm_action",
            QCoreApplication.translate("Shortcuts", "Mute / unmute the selected alarm"),
            MUTE_ALARM_KEY,
            mute_alarm,
        ),
        shortcuts_help=_action(
            window,
            "shortcuts_help_action",
            QCoreApplication.translate("Shortcuts", "Keyboard shortcuts"),
            HELP_KEY,
            lambda: open_shortcuts_dialog(window),
        ),
    )
    work_menu = window.menuBar().addMenu(QCoreApplication.translate("Shortcuts", "&Work"))
    work_menu.setObjectName("work_menu")
    for action in (
        actions.acknowledge,
        actions.dispatch,
        actions.next_unacknowledged,
        actions.search,
        actions.focus_map,
        actions.mute_alarm,
    ):
        work_menu.addAction(action)
    help_menu = window.menuBar().addMenu(QCoreApplication.translate("Shortcuts", "&Help"))
    help_menu.setObjectName("help_menu")
    help_menu.addAction(actions.shortcuts_help)
    return actions


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(key, what it does) of every action of ``window`` with a shortcut, sorted by key."""
    rows: dict[str, str] = {}
    for action in window.findChildren(QAction):
        key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if key and action.text():
            rows[key] = action.text().replace("&", "").rstrip("…")
    return sorted(rows.items(), key=lambda row: (len(row[0]), row[0]))


class ShortcutsDialog(QDialog):
    """The 快捷键 help: every shortcut of the window and what it does."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle(QCoreApplication.translate("Shortcuts", "Keyboard shortcuts"))
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setObjectName("shortcuts_table")
        self.table.setHorizontalHeaderLabels(
            [
                QCoreApplication.translate("Shortcuts", "Key"),
                QCoreApplication.translate("Shortcuts", "Does"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for row, (key, text) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(key))
            self.table.setItem(row, 1, QTableWidgetItem(text))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(460, 420)


def open_shortcuts_dialog(window: QWidget) -> ShortcutsDialog:
    """Open the 快捷键 help over ``window`` (closed with Esc) and return it."""
    existing = window.findChild(ShortcutsDialog)
    if isinstance(existing, ShortcutsDialog):
        existing.deleteLater()
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
