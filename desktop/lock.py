"""The idle lock: after a while without keyboard or mouse input the console hides its
data behind a lock screen that asks for the password (and the second-factor code when
the login needed one). The connection and everything the console holds are kept:
alarms keep arriving and sounding, and the lock screen counts those that arrived while
it was up. The server checks the password (``session.unlock``); five wrong tries end
the session, which takes the console back to the login.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFormLayout,
    QFrame,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from desktop.state import StoreChange, announces_alarm

logger = logging.getLogger(__name__)

DEFAULT_IDLE_LOCK_SECONDS = 30 * 60.0
"""Idle time after which the console locks (30 minutes)."""
IDLE_LOCK_KEY = "security/idle_lock_minutes"
"""QSettings key of the idle time in minutes (0: never lock)."""
OVERLAY_STYLE = "#lock_overlay { background: #263238; }"
COUNT_STYLE = "color: white; background: #c62828; font-size: 18px; font-weight: bold; padding: 6px;"

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)
_SHORTCUT_EVENTS = frozenset({QEvent.Type.Shortcut, QEvent.Type.ShortcutOverride})


class IdleWatcher(QObject):
    """Emits :attr:`idle` once the application had no keyboard or mouse input for
    ``idle_seconds`` (then again only after new input and another idle stretch).

    The application-wide event filter only notes the time of the last input (cheap for
    the many events a live map makes); a coarse timer compares it with the clock.
    """

    idle = Signal()

    def __init__(
        self,
        idle_seconds: float,
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._last_input = clock()
        self._fired = False
        self.swallow_shortcuts = False
        """While locked: keyboard shortcuts of the window underneath must not fire."""
        self._timer = QTimer(self)
        # Checking a few times per idle period is precise enough and costs nothing.
        self._timer.setInterval(max(20, min(5_000, int(idle_seconds * 1000 / 4))))
        self._timer.timeout.connect(self.check)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Note input; swallow shortcuts while locked."""
        kind = event.type()
        if kind in _INPUT_EVENTS:
            self._last_input = self._clock()
            self._fired = False
        elif self.swallow_shortcuts and kind in _SHORTCUT_EVENTS:
            return True
        return False

    def check(self) -> None:
        """Emit :attr:`idle` if the idle time has passed since the last input."""
        if not self._fired and self._clock() - self._last_input >= self.idle_seconds:
            self._fired = True
            self.idle.emit()

    def stop(self) -> None:
        """Stop watching (the window closes)."""
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


class LockOverlay(QFrame):
    """Covers the whole window: who is logged in, alarms that arrived while locked, and
    the password (and code) fields."""

    unlock_requested = Signal(str, str)
    """(password, second-factor code)."""

    def __init__(self, window: QWidget, *, second_factor: bool, username: str) -> None:
        super().__init__(window)
        self.setObjectName("lock_overlay")
        self.setStyleSheet(OVERLAY_STYLE)
        self.setAutoFillBackground(True)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        panel = QFrame(self)
        panel.setObjectName("lock_panel")
        panel.setStyleSheet("#lock_panel { background: white; border-radius: 6px; }")
        panel.setMaximumWidth(460)
        layout = QVBoxLayout(panel)
        title = plain_label(self.tr("Console locked"), panel)
        title.setStyleSheet("font-size: 20px; font-weight: bold;")
        layout.addWidget(title)
        self.user_label = plain_label(
            self.tr("Logged in as {user}. Enter the password to go on.").format(user=username),
            panel,
        )
        self.user_label.setWordWrap(True)
        layout.addWidget(self.user_label)
        self.alarm_label = plain_label(parent=panel)
        self.alarm_label.setObjectName("lock_alarm_label")
        self.alarm_label.setStyleSheet(COUNT_STYLE)
        self.alarm_label.hide()
        layout.addWidget(self.alarm_label)
        layout.addLayout(self._fields(panel, second_factor))
        self.message_label = plain_label(parent=panel)
        self.message_label.setObjectName("lock_message_label")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #c62828;")
        layout.addWidget(self.message_label)
        self.unlock_button = QPushButton(self.tr("Unlock"), panel)
        self.unlock_button.setObjectName("unlock_button")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.submit)
        self.password_edit.returnPressed.connect(self.submit)
        self.code_edit.returnPressed.connect(self.submit)
        layout.addWidget(self.unlock_button)
        outer.addWidget(panel, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.hide()

    def _fields(self, panel: QWidget, second_factor: bool) -> QFormLayout:
        form = QFormLayout()
        self.password_edit = QLineEdit(panel)
        self.password_edit.setObjectName("lock_password_edit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("Password:"), self.password_edit)
        self.code_edit = QLineEdit(panel)
        self.code_edit.setObjectName("lock_code_edit")
        self.code_edit.setMaxLength(8)
        self.code_edit.setPlaceholderText(self.tr("6 digits from the authenticator app"))
        form.addRow(self.tr("Verification code:"), self.code_edit)
        self.code_edit.setVisible(second_factor)
        label = form.labelForField(self.code_edit)
        if label is not None:
            label.setVisible(second_factor)
        return form

    def submit(self) -> None:
        """Ask for an unlock with what was typed."""
        password = self.password_edit.text()
        if not password:
            self.show_error(self.tr("Enter the password."))
            return
        self.unlock_button.setEnabled(False)
        self.message_label.setText(self.tr("Checking…"))
        self.unlock_requested.emit(password, self.code_edit.text().strip())

    def show_error(self, text: str) -> None:
        """Say why the unlock failed and allow another try."""
        self.unlock_button.setEnabled(True)
        self.password_edit.clear()
        self.code_edit.clear()
        self.message_label.setText(text)
        self.password_edit.setFocus()

    def set_alarm_count(self, count: int) -> None:
        """Show how many alarms arrived since the console locked."""
        self.alarm_label.setVisible(count > 0)
        self.alarm_label.setText(self.tr("New alarms while locked: {count}").format(count=count))


class ConsoleLock(QObject):
    """Locks ``window`` after idle and unlocks it when the server accepts the password."""

    locked_changed = Signal(bool)

    def __init__(
        self,
        window: QMainWindow,
        service: ConsoleService,
        *,
        idle_seconds: float = DEFAULT_IDLE_LOCK_SECONDS,
        username: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self.overlay = LockOverlay(
            window, second_factor=service.used_second_factor, username=username
        )
        self.overlay.unlock_requested.connect(self._on_unlock_requested)
        self.watcher = IdleWatcher(idle_seconds, self, clock=clock)
        self.watcher.idle.connect(self.lock)
        self.alarms_while_locked = 0
        self._disabled: list[QWidget] = []
        self._hidden_docks: list[QDockWidget] = []
        service.alarm_changed.connect(self._on_alarm_changed)
        service.unlock_finished.connect(self._on_unlock_finished)
        window.installEventFilter(self)

    @property
    def locked(self) -> bool:
        """Whether the lock screen is up."""
        return self.overlay.isVisible()

    def lock(self) -> None:
        """Hide the data behind the lock screen (the connection goes on)."""
        if self.locked:
            return
        logger.info("console locked after %g s idle", self.watcher.idle_seconds)
        self.alarms_while_locked = 0
        self.overlay.set_alarm_count(0)
        self.overlay.message_label.clear()
        self.overlay.unlock_button.setEnabled(True)
        # Nothing underneath may take keys or focus; floating docks would show data.
        self._disabled = [
            child
            for child in self._window.findChildren(
                QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
            )
            if child is not self.overlay and child.isEnabled()
        ]
        for child in self._disabled:
            child.setEnabled(False)
        self._hidden_docks = [
            dock
            for dock in self._window.findChildren(QDockWidget)
            if dock.isFloating() and dock.isVisible()
        ]
        for dock in self._hidden_docks:
            dock.hide()
        self.watcher.swallow_shortcuts = True
        self.overlay.setGeometry(self._window.rect())
        self.overlay.show()
        self.overlay.raise_()
        self.overlay.password_edit.setFocus()
        self.locked_changed.emit(True)

    def unlock(self) -> None:
        """Take the lock screen away (the server accepted the password)."""
        if not self.locked:
            return
        self.overlay.hide()
        self.overlay.password_edit.clear()
        self.overlay.code_edit.clear()
        for child in self._disabled:
            child.setEnabled(True)
        for dock in self._hidden_docks:
            dock.show()
        self._disabled, self._hidden_docks = [], []
        self.watcher.swallow_shortcuts = False
        logger.info("console unlocked")
        self.locked_changed.emit(False)

    def stop(self) -> None:
        """Stop watching for idle (the window closes)."""
        self.watcher.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Keep the lock screen over the whole window when it is resized."""
        if watched is self._window and event.type() == QEvent.Type.Resize and self.locked:
            self.overlay.setGeometry(self._window.rect())
        return False

    def _on_alarm_changed(self, change: StoreChange) -> None:
        if self.locked and announces_alarm(change):
            self.alarms_while_locked += 1
            self.overlay.set_alarm_count(self.alarms_while_locked)

    def _on_unlock_requested(self, password: str, code: str) -> None:
        self._service.unlock(password, code)

    def _on_unlock_finished(self, unlocked: bool, code: str, message: str) -> None:
        if unlocked:
            self.unlock()
        elif self.locked:
            self.overlay.show_error(texts.unlock_refusal(code, message))
