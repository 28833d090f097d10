"""Count the clicks and keystrokes of a task, performed only through input events.

Conventions (docs/user-guide.md, "操作步数 / Steps per task"):

- a *click* is one press and release of a mouse button on a widget (a menu title and the
  menu entry under it are two clicks);
- a *key* is one key press, a chord such as Ctrl+N included (one key);
- *typed* counts the characters of free text the officer types (a phone number, a place),
  one per character (a Chinese character is counted once, as the input method commits
  it); they depend on what is said on the phone, so they are shown apart from the keys.

Each scenario records its figures in ``steps.json`` beside this module; ``python -m
tests.desktop.usability.report`` prints the table of the user guide from it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenu, QMenuBar, QWidget

RESULTS = Path(__file__).with_name("steps.json")
"""The figures of the last run of the scenarios, one entry per task."""


class Error(Exception):
    """A step cannot be performed (the widget it needs is not on screen)."""


@dataclasses.dataclass(slots=True)
class Steps:
    """The input events of one task, sent to the real widgets and counted."""

    task: str
    clicks: int = 0
    keys: int = 0
    typed: int = 0
    shortcuts: list[str] = dataclasses.field(default_factory=list)

    def click(self, widget: QWidget, at: QPoint | None = None) -> None:
        """Click ``widget`` (at its centre unless ``at`` is given)."""
        if not widget.isVisible():
            raise Error(f"{widget.objectName() or type(widget).__name__} is not on screen")
        self.clicks += 1
        if at is None:
            QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
        else:
            QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)

    def click_row(self, view: QAbstractItemView, index: QModelIndex) -> None:
        """Click the row of ``index`` in a list or table."""
        rect = view.visualRect(index)
        if not rect.isValid():
            raise Error(f"row {index.row()} is not shown")
        self.click(view.viewport(), rect.center())

    def menu(self, bar: QMenuBar, entry: str) -> None:
        """Open the menu holding the action named ``entry`` and click that entry."""
        for title in bar.actions():
            menu = title.menu()
            if not isinstance(menu, QMenu):
                continue
            action = next((a for a in menu.actions() if a.objectName() == entry), None)
            if action is not None:
                self.click(bar, bar.actionGeometry(title).center())
                if not menu.isVisible():
                    raise Error(f"the menu of {entry} did not open")
                self.click(menu, menu.actionGeometry(action).center())
                return
        raise Error(f"no menu entry {entry}")

    def key(
        self,
        widget: QWidget,
        key: Qt.Key,
        modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
        *,
        shortcut: str = "",
    ) -> None:
        """Press one key (or chord) in ``widget``; ``shortcut`` names it for the table."""
        self.keys += 1
        if shortcut and shortcut not in self.shortcuts:
            self.shortcuts.append(shortcut)
        QTest.keyClick(widget, key, modifier)

    def type(self, widget: QWidget, text: str) -> None:
        """Type ``text`` into ``widget``, one keystroke per character."""
        self.typed += len(text)
        for character in text:
            if character.isascii():
                QTest.keyClicks(widget, character)
            else:  # QTest knows only ASCII keys; this is what an input method commits
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    event = QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, character)
                    QApplication.sendEvent(widget, event)

    def restart(self) -> None:
        """Forget the steps so far (they belong to the task before this one)."""
        self.clicks = self.keys = self.typed = 0
        self.shortcuts.clear()

    @property
    def actions(self) -> int:
        """Clicks and keys together: what a budget bounds."""
        return self.clicks + self.keys

    def record(self, title: str, screenshot: str) -> None:
        """Store the figures under this task (the other tasks' figures are kept)."""
        results = json.loads(RESULTS.read_text("utf-8")) if RESULTS.exists() else {}
        results[self.task] = {
            "title": title,
            "clicks": self.clicks,
            "keys": self.keys,
            "typed": self.typed,
            "shortcuts": self.shortcuts,
            "screenshot": screenshot,
        }
        ordered = dict(sorted(results.items(), key=lambda item: TASK_ORDER.index(item[0])))
        RESULTS.write_text(json.dumps(ordered, ensure_ascii=False, indent=2) + "\n", "utf-8")


TASK_ORDER = ["phone_report", "acknowledge", "dispatch", "follow_vehicle", "camera", "handover"]
"""The tasks in the order of the table."""
