"""Sound, flash, tray, mute, shortcuts and the quick filter, on real widgets.

The console's window runs over a service with the fake client (conftest); sounds are
counted by a real :class:`AlarmSounder` without audio; the tray is observed at the
``QSystemTrayIcon`` edge; repeats are driven by a hand-moved clock, never by sleeping.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot

from desktop.alarm_model import FLASH_ROLE, LEVEL_COLOURS, AlarmTableModel, Column
from desktop.attention.alerts import AlarmAttention
from desktop.attention.queue_filter import QueueFilter
from desktop.attention.reminders import REPEAT_SECONDS
from desktop.attention.shortcuts import ShortcutsDialog, shortcut_rows
from desktop.attention.tray import TrayNotifier
from desktop.dialogs import DispatchDialog
from desktop.main_window import MainWindow
from desktop.map.projection import to_mercator
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from desktop.state import AlarmStore
from realtime.client import ConnectionState
from realtime.protocol import DispatchAlarm, TransitionAlarm
from realtime.states import AlarmAction, AlarmLevel, AlarmState
from tests.desktop.conftest import FakeClient, call, ignore_offscreen_quirks, wait_until
from tests.desktop.factories import evolve, make_alarm, make_event

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

FakeService = tuple[ConsoleService, list[FakeClient]]
Run = Callable[..., Any]


class Clock:
    """Monotonic seconds moved by the test."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class RecordingTray(QSystemTrayIcon):
    """The desktop's tray, recording what it is asked to show instead of showing it."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[str, str, QSystemTrayIcon.MessageIcon]] = []

    def show(self) -> None:
        """Not on a test machine: there is no tray."""

    def hide(self) -> None:
        """Nothing is shown."""

    def showMessage(  # type: ignore[override]  # noqa: N802
        self, title: str, message: str, icon: QSystemTrayIcon.MessageIcon, msecs: int = 10000
    ) -> None:
        self.messages.append((title, message, icon))

    def setIcon(self, icon: QIcon | QPixmap) -> None:  # noqa: N802
        """The icon is drawn; nothing to show it on."""


# ---------------------------------------------------------------------- repeats and flashing


Attention = tuple[AlarmStore, AlarmSounder, AlarmTableModel, AlarmAttention, Clock]


@pytest.fixture
def attention(qtbot: QtBot) -> Iterator[Attention]:
    store = AlarmStore()
    sounder = AlarmSounder(use_audio=False)
    model = AlarmTableModel(store)
    clock = Clock()
    alerts = AlarmAttention(store, sounder, model, clock=clock)
    yield store, sounder, model, alerts, clock
    alerts.shutdown()


def test_reminders_repeat_on_the_timer_until_the_alarm_is_acknowledged(
    attention: Attention,
) -> None:
    store, sounder, _model, alerts, clock = attention
    assert alerts.reminder_timer.isActive()
    red = make_alarm(1, level=AlarmLevel.RED)
    store.apply_event(make_event(1, red))
    assert sounder.played_levels == [AlarmLevel.RED]
    for _ in range(30):  # 30 s of the reminder timer firing every second
        clock.now += 1
        alerts.reminder_timer.timeout.emit()
    assert sounder.played_levels == [AlarmLevel.RED] * 4  # at 0, 10, 20 and 30 s
    store.apply_event(make_event(2, evolve(red, state=AlarmState.ACKNOWLEDGED)))
    for _ in range(60):
        clock.now += 1
        alerts.reminder_timer.timeout.emit()
    assert sounder.play_count == 4


def test_muting_one_alarm_keeps_the_others_sounding(attention: Attention) -> None:
    store, sounder, _model, alerts, clock = attention
    store.apply_event(make_event(1, make_alarm(1, level=AlarmLevel.RED)))
    store.apply_event(make_event(2, make_alarm(2, level=AlarmLevel.ORANGE)))
    assert alerts.mute(1)
    sounder.played_levels.clear()
    clock.now += REPEAT_SECONDS[AlarmLevel.ORANGE]
    assert alerts.remind() == 1
    assert sounder.played_levels == [AlarmLevel.ORANGE]


def test_the_global_mute_silences_every_alarm_and_unmuting_resumes(attention: Attention) -> None:
    store, sounder, _model, alerts, clock = attention
    sounder.set_muted(True)
    store.apply_event(make_event(1, make_alarm(1, level=AlarmLevel.RED)))
    clock.now += 10
    assert alerts.remind() == 0
    sounder.set_muted(False)
    clock.now += 10
    assert alerts.remind() == 1


def test_a_red_unacknowledged_row_flashes_until_acknowledged(attention: Attention) -> None:
    store, _sounder, model, alerts, _clock = attention
    store.apply_event(make_event(1, make_alarm(1, level=AlarmLevel.ORANGE)))
    assert not alerts.flash_timer.isActive()  # only red flashes
    red = make_alarm(2, level=AlarmLevel.RED)
    store.apply_event(make_event(2, red))
    assert alerts.flash_timer.isActive()
    red_row = model.index(model.row_of(2) or 0, Column.TITLE)
    orange_row = model.index(model.row_of(1) or 0, Column.TITLE)
    seen = []
    for _ in range(4):
        alerts.flash_timer.timeout.emit()
        seen.append(red_row.data(FLASH_ROLE))
        assert orange_row.data(FLASH_ROLE) is False
    assert seen == [True, False, True, False]
    alerts.flash_timer.timeout.emit()
    assert red_row.data(Qt.ItemDataRole.BackgroundRole).color() == LEVEL_COLOURS[AlarmLevel.RED]
    store.apply_event(make_event(3, evolve(red, state=AlarmState.ACKNOWLEDGED)))
    assert not alerts.flash_timer.isActive()
    assert red_row.data(FLASH_ROLE) is False
    assert red_row.data(Qt.ItemDataRole.BackgroundRole).color() != LEVEL_COLOURS[AlarmLevel.RED]


# ---------------------------------------------------------------------- tray


@pytest.mark.qt_log_ignore(r"^This plugin does not support raise\(\)$")
def test_the_tray_announces_red_and_orange_only_when_the_window_is_not_in_front(
    qtbot: QtBot,
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    opened: list[int] = []
    tray = RecordingTray()
    notifier = TrayNotifier(window, opened.append, tray=tray, tray_available=lambda: True)
    assert not window.isActiveWindow()
    assert notifier.notify(make_alarm(7, level=AlarmLevel.RED, title="储罐起火", place="三号罐区"))
    assert not notifier.notify(make_alarm(8, level=AlarmLevel.YELLOW))
    assert len(tray.messages) == 1
    title, body, icon = tray.messages[0]
    assert title == "Red alarm No. 7"
    assert "储罐起火" in body
    assert "三号罐区" in body
    assert icon is QSystemTrayIcon.MessageIcon.Critical
    tray.messageClicked.emit()
    assert opened == [7]
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert not notifier.notify(make_alarm(9, level=AlarmLevel.RED))
    assert len(tray.messages) == 1


def test_a_tray_message_shows_markup_from_a_device_as_text(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    tray = RecordingTray()
    notifier = TrayNotifier(window, lambda _id: None, tray=tray, tray_available=lambda: True)
    notifier.notify(make_alarm(1, level=AlarmLevel.RED, title='<img src="http://x/t.png">火'))
    _title, body, _icon = tray.messages[0]
    assert "<img" not in body
    assert '&lt;img src="http://x/t.png"&gt;火' in body


def test_without_a_tray_the_window_asks_for_attention(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    alerted: list[QWidget] = []
    monkeypatch.setattr(QApplication, "alert", lambda widget, _ms=0: alerted.append(widget))
    notifier = TrayNotifier(window, lambda _alarm_id: None, tray_available=lambda: False)
    assert notifier.tray is None
    assert notifier.notify(make_alarm(1, level=AlarmLevel.ORANGE))
    assert alerted == [window]


# ---------------------------------------------------------------------- the window


def started(fake_service: FakeService, run: Run) -> tuple[ConsoleService, FakeClient]:
    service, clients = fake_service

    async def start() -> None:
        service.start("ws://fake/console", "officer1", "pw")
        await wait_until(lambda: service.state is ConnectionState.LIVE, what="live")

    run(start())
    return service, clients[0]


@pytest.fixture
def window(
    qtbot: QtBot, fake_service: FakeService, run: Run, settings: QSettings
) -> tuple[MainWindow, ConsoleService, FakeClient, AlarmSounder]:
    service, client = started(fake_service, run)
    sounder = AlarmSounder(use_audio=False)
    main_window = MainWindow(service, sounder, settings, username="officer1")
    qtbot.addWidget(main_window)
    main_window.show()
    main_window.activateWindow()
    qtbot.waitUntil(main_window.isActiveWindow)
    return main_window, service, client, sounder


WindowParts = tuple[MainWindow, ConsoleService, FakeClient, AlarmSounder]


def state_of(service: ConsoleService, alarm_id: int) -> AlarmState | None:
    alarm = service.store.get(alarm_id)
    return None if alarm is None else alarm.state


def is_muted(sounder: AlarmSounder) -> bool:
    return sounder.muted


def test_the_global_mute_shows_in_the_status_bar_and_one_click_undoes_it(
    qtbot: QtBot, window: WindowParts
) -> None:
    main_window, _service, _client, sounder = window
    indicator = main_window.attention.sound_indicator
    assert not indicator.muted_button.isVisible()
    main_window.mute_action.trigger()
    assert sounder.muted
    assert indicator.muted_button.isVisible()
    assert indicator.muted_button.text() == "Muted"
    QTest.mouseClick(indicator.muted_button, Qt.MouseButton.LeftButton)
    assert not is_muted(sounder)
    assert not indicator.muted_button.isVisible()
    assert not main_window.mute_action.isChecked()


def test_the_detail_pane_mutes_the_selected_alarm_only(qtbot: QtBot, window: WindowParts) -> None:
    main_window, service, _client, sounder = window
    service.on_event(make_event(1, make_alarm(1, level=AlarmLevel.RED)))
    service.on_event(make_event(2, make_alarm(2, level=AlarmLevel.RED)))
    button = main_window.attention.mute_alarm_button
    assert not button.isEnabled()  # nothing selected
    main_window.select_alarm(1)
    assert button.isEnabled()
    assert button.text() == "Mute this alarm"
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    schedule = main_window.attention.alerts.schedule
    assert schedule.is_muted(1)
    assert not schedule.is_muted(2)
    assert schedule.sounding() == [2]
    assert button.text() == "Unmute this alarm"
    assert not sounder.muted  # the global mute is untouched
    QTest.keyClick(main_window.queue_view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert not schedule.is_muted(1)


def test_every_shortcut_triggers_its_action(qtbot: QtBot, window: WindowParts, run: Run) -> None:
    main_window, service, client, _sounder = window
    first = make_alarm(1, level=AlarmLevel.RED, lat=30.27, lon=120.13)
    service.on_event(make_event(1, first))
    service.on_event(make_event(2, make_alarm(2, level=AlarmLevel.ORANGE)))
    service.on_event(make_event(3, make_alarm(3, level=AlarmLevel.BLUE, state=AlarmState.CLOSED)))
    queue = main_window.queue_view
    queue.setFocus()

    def press(key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        focused = QApplication.focusWidget() or main_window
        QTest.keyClick(focused, key, modifier)

    press(Qt.Key.Key_F4)  # next unacknowledged: the first in the queue
    assert queue.selected_alarm_id() == 1
    press(Qt.Key.Key_F4)
    assert queue.selected_alarm_id() == 2
    press(Qt.Key.Key_F4)  # wraps round
    assert queue.selected_alarm_id() == 1

    press(Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)  # the map, on the alarm
    assert main_window.map_view.hasFocus()
    west, south, east, north = main_window.map_view.view_extent()
    x, y = to_mercator(120.13, 30.27)
    assert west < x < east
    assert south < y < north

    press(Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert main_window.attention.alerts.schedule.is_muted(1)

    run(call(lambda: press(Qt.Key.Key_F2)))  # acknowledge (commands need the running loop)
    run(wait_until(lambda: any(isinstance(c, TransitionAlarm) for c in client.commands)))
    acknowledge = next(c for c in client.commands if isinstance(c, TransitionAlarm))
    assert (acknowledge.alarm_id, acknowledge.action) == (1, AlarmAction.ACKNOWLEDGE)
    run(wait_until(lambda: state_of(service, 1) is AlarmState.ACKNOWLEDGED))

    run(call(lambda: press(Qt.Key.Key_F3)))  # dispatch opens the dispatch dialog
    dialog = main_window.detail_pane.active_dialog
    assert isinstance(dialog, DispatchDialog)
    dialog.reject()
    assert not any(isinstance(c, DispatchAlarm) for c in client.commands)
    main_window.activateWindow()  # the dialog had the keyboard
    qtbot.waitUntil(main_window.isActiveWindow)

    press(Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # search
    assert main_window.attention.filter_bar.text_edit.hasFocus()

    press(Qt.Key.Key_F1)  # the help
    help_dialog = main_window.findChild(ShortcutsDialog)
    assert help_dialog is not None
    assert help_dialog.isVisible()
    listed = dict(shortcut_rows(main_window))
    for key in ("F1", "F2", "F3", "F4", "Ctrl+F", "Ctrl+G", "Ctrl+M", "Ctrl+N"):
        assert key in listed
    assert help_dialog.table.rowCount() == len(listed)
    help_dialog.reject()


def test_shortcuts_are_in_the_menus(window: WindowParts) -> None:
    main_window, _service, _client, _sounder = window
    actions = main_window.attention.actions
    work = {
        action.text(): action.shortcut().toString()
        for action in (getattr(actions, field.name) for field in dataclasses.fields(actions))
    }
    assert work["Acknowledge"] == "F2"
    assert work["Dispatch…"] == "F3"
    assert work["Next unacknowledged alarm"] == "F4"
    assert work["Keyboard shortcuts"] == "F1"
    menus = {action.text() for action in main_window.menuBar().actions()}
    assert {"&Work", "&Help"} <= menus


def test_acknowledge_without_a_selection_says_what_to_do(window: WindowParts) -> None:
    main_window, _service, client, _sounder = window
    main_window.attention.actions.acknowledge.trigger()
    assert main_window.notification_bar.isVisible()
    assert "Select an alarm" in main_window.notification_bar.message_label.text()
    assert client.commands == [] or not any(isinstance(c, TransitionAlarm) for c in client.commands)


# ---------------------------------------------------------------------- quick filter


def test_the_quick_filter_combines_level_kind_jurisdiction_and_text(
    qtbot: QtBot, window: WindowParts
) -> None:
    main_window, service, _client, _sounder = window
    alarms = [
        make_alarm(
            1, level=AlarmLevel.RED, alarm_type="fire", jurisdiction="330106", title="储罐起火"
        ),
        make_alarm(
            2,
            level=AlarmLevel.RED,
            alarm_type="hazmat_leak",
            jurisdiction="330106",
            title="氨气泄漏",
        ),
        make_alarm(
            3, level=AlarmLevel.ORANGE, alarm_type="fire", jurisdiction="330105", title="仓库起火"
        ),
        make_alarm(
            4,
            level=AlarmLevel.YELLOW,
            alarm_type="traffic",
            jurisdiction="330106",
            title="追尾",
            place="文一路",
        ),
    ]
    for seq, alarm in enumerate(alarms, start=1):
        service.on_event(make_event(seq, alarm))
    bar = main_window.attention.filter_bar
    assert bar.count_label.text() == "Showing 4 / 4"
    assert not bar.clear_button.isEnabled()

    bar.level_box.setCurrentIndex(bar.level_box.findData(AlarmLevel.RED.value))
    assert sorted(main_window.queue_alarm_ids()) == [1, 2]
    bar.type_box.setCurrentIndex(bar.type_box.findData("fire"))
    assert main_window.queue_alarm_ids() == [1]
    assert bar.count_label.text() == "Showing 1 / 4"
    bar.set_filter(QueueFilter(alarm_type="fire"))
    assert sorted(main_window.queue_alarm_ids()) == [1, 3]
    bar.jurisdiction_box.setCurrentIndex(bar.jurisdiction_box.findData("330105"))
    assert main_window.queue_alarm_ids() == [3]
    bar.clear()
    bar.text_edit.insert("文一路")
    assert main_window.queue_alarm_ids() == [4]
    bar.text_edit.clear()
    bar.text_edit.insert("起火 330105")  # every word must match: 330105 is no text
    assert main_window.queue_alarm_ids() == []
    bar.text_edit.clear()
    bar.text_edit.insert("起火")
    assert sorted(main_window.queue_alarm_ids()) == [1, 3]
    assert bar.clear_button.isEnabled()
    # A new alarm that matches appears; one that does not is counted but hidden.
    service.on_event(make_event(5, make_alarm(5, title="厂房起火", alarm_type="fire")))
    service.on_event(make_event(6, make_alarm(6, title="落石", alarm_type="natural_disaster")))
    assert sorted(main_window.queue_alarm_ids()) == [1, 3, 5]
    assert bar.count_label.text() == "Showing 3 / 6"
    QTest.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    assert len(main_window.queue_alarm_ids()) == 6
    assert bar.text_edit.text() == ""
    assert bar.level_box.currentIndex() == 0
    assert bar.count_label.text() == "Showing 6 / 6"


def test_next_unacknowledged_says_when_the_filter_hides_some(window: WindowParts) -> None:
    main_window, service, _client, _sounder = window
    service.on_event(make_event(1, make_alarm(1, level=AlarmLevel.RED)))
    main_window.attention.filter_bar.set_filter(QueueFilter(level=AlarmLevel.BLUE))
    assert main_window.attention.select_next_unacknowledged() is None
    assert "hidden by the filter" in main_window.notification_bar.message_label.text()


def test_queue_filter_rule() -> None:
    alarm = make_alarm(12, level=AlarmLevel.RED, jurisdiction="330106", source_ref="GAS-7")
    assert QueueFilter().matches(alarm)
    assert not QueueFilter().active
    assert QueueFilter(jurisdiction="3301").matches(alarm)  # an area under the city's
    assert not QueueFilter(jurisdiction="330105").matches(alarm)
    assert QueueFilter(text="gas-7").matches(alarm)
    assert QueueFilter(text="12").matches(alarm)
    assert QueueFilter(text="Fire").matches(alarm)  # the type's name
    assert not QueueFilter(level=AlarmLevel.RED, text="nothing").matches(alarm)


def test_the_sounder_logs_nothing_at_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    AlarmSounder()
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_the_filter_bar_never_widens_the_window(window: WindowParts) -> None:
    main_window, _service, _client, _sounder = window
    bar = main_window.attention.filter_bar
    central = main_window.centralWidget()
    assert central is not None
    assert central.minimumSizeHint().width() < bar.sizeHint().width()
