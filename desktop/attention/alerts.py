"""Sound, flash and tray for the alarm queue, and the status bar's sound indicator.

:class:`AlarmAttention` follows the alarm store: it plays the level's tone when an alarm
arrives and again on the :class:`~desktop.attention.reminders.ReminderSchedule` until the
alarm is acknowledged or muted, toggles the queue model's flash phase while a red alarm
waits, and asks the :class:`~desktop.attention.tray.TrayNotifier` to announce red and
orange alarms when the window is not in front.

:class:`SoundIndicator` keeps the global mute visible: while the sound is off the status
bar says 已静音 in red, and one click switches it back on. It also says when this computer
cannot play sound or video at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QPushButton, QStatusBar

from desktop import multimedia
from desktop.alarm_model import AlarmTableModel, flashes
from desktop.attention.reminders import ReminderSchedule
from desktop.attention.tray import TrayNotifier
from desktop.plain_text import plain_label, plain_tooltip
from desktop.sounder import AlarmSounder
from desktop.state import AlarmStore, ChangeKind, StoreChange

logger = logging.getLogger(__name__)

REMINDER_TICK_MS = 1000
"""How often the schedule is looked at (the shortest repeat is 10 s)."""
FLASH_MS = 700
"""Half a flash period: calm enough for a long night, impossible to miss."""
MUTED_STYLE = "color: white; background: #c62828; font-weight: bold; padding: 0 6px;"
NOTICE_STYLE = "color: #8d6e63; padding: 0 6px;"


class AlarmAttention(QObject):
    """Plays, repeats, flashes and notifies for the alarms of ``store``."""

    mutes_changed = Signal()
    """An alarm was muted or unmuted, or stopped sounding."""

    def __init__(
        self,
        store: AlarmStore,
        sounder: AlarmSounder,
        model: AlarmTableModel,
        *,
        tray: TrayNotifier | None = None,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._sounder = sounder
        self._model = model
        self._tray = tray
        self.schedule = ReminderSchedule(clock)
        """Which alarms sound again, and when."""
        self.reminder_timer = QTimer(self)
        self.reminder_timer.setObjectName("reminder_timer")
        self.reminder_timer.setInterval(REMINDER_TICK_MS)
        self.reminder_timer.timeout.connect(self.remind)
        self.flash_timer = QTimer(self)
        self.flash_timer.setObjectName("flash_timer")
        self.flash_timer.setInterval(FLASH_MS)
        self.flash_timer.timeout.connect(self._toggle_flash)
        self._remove_listener = store.add_listener(self._on_store_change)
        self._on_store_change(StoreChange(ChangeKind.RESET))
        self.reminder_timer.start()

    # ------------------------------------------------------------------ muting

    def mute(self, alarm_id: int) -> bool:
        """Silence one alarm until it is acknowledged; return whether it was sounding."""
        muted = self.schedule.mute(alarm_id)
        if muted:
            logger.info("alarm %s muted by the officer", alarm_id)
            self.mutes_changed.emit()
        return muted

    def unmute(self, alarm_id: int) -> bool:
        """Let a muted alarm sound again; return whether it was muted."""
        unmuted = self.schedule.unmute(alarm_id)
        if unmuted:
            logger.info("alarm %s unmuted", alarm_id)
            self.mutes_changed.emit()
        return unmuted

    def toggle_mute(self, alarm_id: int) -> bool:
        """Mute a sounding alarm or unmute a muted one; return whether anything changed."""
        if self.schedule.is_muted(alarm_id):
            return self.unmute(alarm_id)
        return self.mute(alarm_id)

    # ------------------------------------------------------------------ following

    def remind(self) -> int:
        """Sound the alarms whose reminder is due (the timer calls this); return how many."""
        played = 0
        for _alarm_id, level in self.schedule.due():
            played += self._sounder.play(level)
        return played

    def _on_store_change(self, change: StoreChange) -> None:
        level = self.schedule.apply(change, self._store)
        if level is not None:
            self._sounder.play(level)
        if change.kind is ChangeKind.ADDED and change.alarm is not None and self._tray is not None:
            self._tray.notify(change.alarm)
        self._update_flashing()
        self.mutes_changed.emit()

    def _update_flashing(self) -> None:
        if any(flashes(alarm) for alarm in self._store):
            if not self.flash_timer.isActive():
                self.flash_timer.start()
        elif self.flash_timer.isActive() or self._model.flash_on:
            self.flash_timer.stop()
            self._model.set_flash_phase(False)

    def _toggle_flash(self) -> None:
        self._model.set_flash_phase(not self._model.flash_on)

    def shutdown(self) -> None:
        """Stop the timers and stop following the store (the window is closing)."""
        self.reminder_timer.stop()
        self.flash_timer.stop()
        self._remove_listener()
        if self._tray is not None:
            self._tray.hide()


class SoundIndicator(QObject):
    """The status bar's 已静音 button (global mute, one click undoes it) and the notice
    when sound or video cannot play on this computer."""

    def __init__(self, sounder: AlarmSounder, status_bar: QStatusBar) -> None:
        super().__init__(status_bar)
        self._sounder = sounder
        self.muted_button = QPushButton(status_bar)
        self.muted_button.setObjectName("sound_muted_button")
        self.muted_button.setFlat(True)
        self.muted_button.setStyleSheet(MUTED_STYLE)
        self.muted_button.setText(self.tr("Muted"))
        self.muted_button.setToolTip(
            self.tr("The alarm sound is off for every alarm. Click to switch it back on.")
        )
        self.muted_button.clicked.connect(lambda: sounder.set_muted(False))
        self.notice_label = plain_label(parent=status_bar)
        self.notice_label.setObjectName("media_notice_label")
        self.notice_label.setStyleSheet(NOTICE_STYLE)
        status_bar.addPermanentWidget(self.muted_button)
        status_bar.addPermanentWidget(self.notice_label)
        sounder.muted_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args: object) -> None:
        """Show 已静音 while muted; say what this computer cannot play."""
        self.muted_button.setVisible(self._sounder.muted)
        if not multimedia.multimedia_available():
            self.notice_label.setText(self.tr("No video or sound"))
            self.notice_label.setToolTip(
                plain_tooltip(
                    self.tr(
                        "The multimedia module cannot load ({reason}): cameras cannot be "
                        "watched and alarms use the system bell."
                    ).format(reason=multimedia.failure())
                )
            )
            self.notice_label.show()
        elif not self._sounder.uses_sound_effect:
            self.notice_label.setText(self.tr("No sound device"))
            self.notice_label.setToolTip(
                self.tr("No sound device answers: alarms use the system bell.")
            )
            self.notice_label.show()
        else:
            self.notice_label.hide()
