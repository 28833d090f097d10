"""A system-tray notification when a red or orange alarm arrives behind the officer's back.

While the console's window is the active one the queue, the sound and the flashing row
say enough; when another window is in front (a report, a browser, a video) the tray icon
shows a message naming the alarm, and a click on it brings the console forward with
that alarm selected. Without a system tray (many kiosk sessions) the window asks the
window manager for attention instead (the taskbar entry flashes).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from desktop import texts
from realtime.protocol import AlarmView
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

NOTIFYING_LEVELS = frozenset({AlarmLevel.RED, AlarmLevel.ORANGE})
"""Levels announced in the tray when the window is not in front."""
MESSAGE_MS = 15_000
"""How long the tray message stays (the desktop may shorten it)."""
ICON_PIXELS = 32


def tray_icon_image() -> QIcon:
    """A red dot: the console's tray icon (drawn, so no file is needed)."""
    pixmap = QPixmap(ICON_PIXELS, ICON_PIXELS)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#d32f2f"))
    painter.setPen(QColor("white"))
    painter.drawEllipse(2, 2, ICON_PIXELS - 4, ICON_PIXELS - 4)
    painter.end()
    return QIcon(pixmap)


class TrayNotifier(QObject):
    """Shows a tray message for a red or orange alarm while ``window`` is not active.

    ``tray`` and ``tray_available`` are the edge to the desktop (tests pass their own).
    ``open_alarm`` is called with the alarm id when the officer clicks the message.
    """

    def __init__(
        self,
        window: QWidget,
        open_alarm: Callable[[int], object],
        *,
        tray: QSystemTrayIcon | None = None,
        tray_available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._open_alarm = open_alarm
        self._last_alarm_id: int | None = None
        self.prefix = ""
        """Put before every message's title (a drill console's 【演练】)."""
        self.tray: QSystemTrayIcon | None = None
        """The tray icon, None where the desktop has no tray."""
        if tray_available():
            self.tray = tray if tray is not None else QSystemTrayIcon(window)
            self.tray.setIcon(tray_icon_image())
            self.tray.setToolTip(QCoreApplication.translate("Attention", "DutyDesk"))
            self.tray.messageClicked.connect(self._on_message_clicked)
            self.tray.show()
        else:
            logger.info("no system tray; alarms behind other windows flash the taskbar")

    def notify(self, alarm: AlarmView) -> bool:
        """Announce ``alarm`` if it is red or orange and the window is not in front;
        return whether it was announced."""
        if alarm.level not in NOTIFYING_LEVELS or self._window.isActiveWindow():
            return False
        self._last_alarm_id = alarm.id
        if self.tray is None:
            QApplication.alert(self._window)
            return True
        title = self.prefix + QCoreApplication.translate(
            "Attention", "{level} alarm No. {alarm_id}"
        ).format(level=texts.level_label(alarm.level), alarm_id=alarm.id)
        body = " · ".join(
            part
            for part in (alarm.title, alarm.place, texts.alarm_type_label(alarm.alarm_type))
            if part
        )
        # Linux notification servers read the body as markup: a device's title must not
        # become a link or a remote image there.
        body = html.escape(body, quote=False)
        icon = (
            QSystemTrayIcon.MessageIcon.Critical
            if alarm.level is AlarmLevel.RED
            else QSystemTrayIcon.MessageIcon.Warning
        )
        self.tray.showMessage(title, body, icon, MESSAGE_MS)
        return True

    def hide(self) -> None:
        """Take the icon out of the tray (the window is closing)."""
        if self.tray is not None:
            self.tray.hide()

    def _on_message_clicked(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()
        if self._last_alarm_id is not None:
            self._open_alarm(self._last_alarm_id)
