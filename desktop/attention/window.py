"""The main window's attention and keyboard parts, wired in one place.

:class:`WindowAttention` adds to a :class:`~desktop.main_window.MainWindow`: the quick
filter over the queue, the repeated sounds and flashing rows
(:class:`~desktop.attention.alerts.AlarmAttention`), the tray notification, the status
bar's 已静音 / no-sound notice, the per-alarm mute (a button in the alarm detail, the
queue's context menu, Ctrl+M) and the keyboard actions of the Work and Help menus.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QPoint, Qt
from PySide6.QtWidgets import QBoxLayout, QMenu, QPushButton

from desktop.attention.alerts import AlarmAttention, SoundIndicator
from desktop.attention.queue_filter import QuickFilterBar
from desktop.attention.shortcuts import add_work_actions
from desktop.attention.tray import TrayNotifier
from desktop.sounder import AlarmSounder
from realtime.states import AlarmAction, AlarmState

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

logger = logging.getLogger(__name__)


class WindowAttention:
    """Sound, flash, tray, mute, quick filter and shortcuts of one main window."""

    def __init__(
        self,
        window: MainWindow,
        sounder: AlarmSounder,
        *,
        tray: TrayNotifier | None = None,
    ) -> None:
        self._window = window
        self._sounder = sounder
        store = window.model.alarms
        central = window.queue_view.parentWidget()
        self.filter_bar = QuickFilterBar(store, window.alarm_model, window.queue_proxy, central)
        layout = central.layout() if central is not None else None
        if not isinstance(layout, QBoxLayout):
            raise TypeError("the alarm queue must sit in a box layout")
        layout.insertWidget(layout.indexOf(window.queue_view), self.filter_bar)
        self.tray = tray if tray is not None else TrayNotifier(window, window.select_alarm)
        self.alerts = AlarmAttention(
            store, sounder, window.alarm_model, tray=self.tray, parent=window
        )
        self.sound_indicator = SoundIndicator(sounder, window.statusBar())
        # The toolbar's mute and the status bar's 已静音 undo each other.
        sounder.muted_changed.connect(window.mute_action.setChecked)

        self.mute_alarm_button = QPushButton(window.detail_pane)
        self.mute_alarm_button.setObjectName("mute_alarm_button")
        self.mute_alarm_button.clicked.connect(self.toggle_selected_mute)
        window.detail_pane.extra_buttons.add_button(self.mute_alarm_button)
        queue = window.queue_view
        queue.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        queue.customContextMenuRequested.connect(self._queue_menu)
        queue.selectionModel().selectionChanged.connect(self.refresh_mute_button)
        self.alerts.mutes_changed.connect(self.refresh_mute_button)

        self.actions = add_work_actions(
            window,
            acknowledge=lambda: self.act_on_selected(AlarmAction.ACKNOWLEDGE),
            dispatch=lambda: self.act_on_selected(AlarmAction.DISPATCH),
            next_unacknowledged=self.select_next_unacknowledged,
            search=self.filter_bar.focus_search,
            focus_map=self.focus_map,
            mute_alarm=self.toggle_selected_mute,
        )
        self.refresh_mute_button()

    # ------------------------------------------------------------------ keyboard

    def act_on_selected(self, action: AlarmAction) -> bool:
        """Start ``action`` on the selected alarm as its detail button would; return whether
        it could (the button is enabled only when the state and the role allow it)."""
        pane = self._window.detail_pane
        button = pane.action_buttons[action]
        if pane.alarm_id is None or not button.isEnabled():
            self._window.notification_bar.show_message(
                QCoreApplication.translate("MainWindow", "Select an alarm that allows this first."),
                error=True,
            )
            return False
        pane.start_action(action)
        return True

    def select_next_unacknowledged(self) -> int | None:
        """Select the next unacknowledged alarm shown after the selected one (wrapping
        round to the top); return its id, None when the queue shows none."""
        window = self._window
        ids = window.queue_alarm_ids()
        current = window.queue_view.selected_alarm_id()
        start = ids.index(current) + 1 if current in ids else 0
        for alarm_id in ids[start:] + ids[:start]:
            alarm = window.model.alarms.get(alarm_id)
            if alarm is not None and alarm.state is AlarmState.NEW and alarm_id != current:
                window.select_alarm(alarm_id)
                window.queue_view.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return alarm_id
        hidden = window.model.alarms.unacknowledged_count - sum(
            1
            for alarm_id in ids
            if (alarm := window.model.alarms.get(alarm_id)) is not None
            and alarm.state is AlarmState.NEW
        )
        message = (
            QCoreApplication.translate(
                "MainWindow", "{count} unacknowledged alarms are hidden by the filter."
            ).format(count=hidden)
            if hidden > 0
            else QCoreApplication.translate("MainWindow", "No other unacknowledged alarm.")
        )
        window.notification_bar.show_message(message, error=False)
        return None

    def focus_map(self) -> bool:
        """Bring the map forward centred on the selected alarm; return whether it could."""
        window = self._window
        alarm_id = window.queue_view.selected_alarm_id()
        alarm = window.model.alarms.get(alarm_id) if alarm_id is not None else None
        if alarm is None or alarm.lat is None or alarm.lon is None:
            window.notification_bar.show_message(
                QCoreApplication.translate("MainWindow", "Select an alarm with a place first."),
                error=True,
            )
            return False
        window.centre_map_on(alarm.lon, alarm.lat)
        window.map_view.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return True

    # ------------------------------------------------------------------ per-alarm mute

    def toggle_selected_mute(self) -> bool:
        """Mute the selected alarm (or unmute it); return whether anything changed."""
        alarm_id = self._window.queue_view.selected_alarm_id()
        return alarm_id is not None and self.alerts.toggle_mute(alarm_id)

    def refresh_mute_button(self, *_args: object) -> None:
        """Offer 静音此警情 for a sounding alarm, 取消静音 for a muted one."""
        alarm_id = self._window.queue_view.selected_alarm_id()
        schedule = self.alerts.schedule
        muted = alarm_id is not None and schedule.is_muted(alarm_id)
        self.mute_alarm_button.setText(
            QCoreApplication.translate("MainWindow", "Unmute this alarm")
            if muted
            else QCoreApplication.translate("MainWindow", "Mute this alarm")
        )
        self.mute_alarm_button.setEnabled(alarm_id is not None and schedule.reminds_of(alarm_id))

    def _queue_menu(self, position: QPoint) -> None:
        queue = self._window.queue_view
        index = queue.indexAt(position)
        if not index.isValid():
            return
        queue.selectRow(index.row())
        menu = QMenu(queue)
        menu.setObjectName("queue_context_menu")
        for action in (
            self.actions.acknowledge,
            self.actions.dispatch,
            self.actions.focus_map,
            self.actions.mute_alarm,
        ):
            menu.addAction(action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(queue.viewport().mapToGlobal(position))

    def shutdown(self) -> None:
        """Stop timers and listeners (the window is closing)."""
        self.alerts.shutdown()
        self.filter_bar.shutdown()
