"""The control-room layout: proportions, readable queue, default detail, per-user layouts,
the wall display, and a window that stays on its screen."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, QSettings, Qt, QTranslator
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QToolBar, QWidget
from pytestqt.qtbot import QtBot

from desktop.alarm_model import Column
from desktop.control_room import DEFAULT_SIZE, layout_group
from desktop.main_window import LAYOUT_VERSION, MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from desktop.urgent import most_urgent_unacknowledged
from realtime.client import ConnectionState
from realtime.protocol import Limits, Role, UserInfo, Welcome
from realtime.states import AlarmLevel, AlarmState
from tests.desktop.conftest import FakeClient, ignore_offscreen_quirks, wait_until
from tests.desktop.factories import T0, evolve, make_alarm, make_event

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

FakeService = tuple[ConsoleService, list[FakeClient]]
Run = Callable[..., Any]
SCENARIO = Path(__file__).parents[2] / "resources" / "scenarios" / "demo_city.json"
SERVER = "ws://10.0.0.5:8765/console"


def started(fake_service: FakeService, run: Run) -> ConsoleService:
    service, _clients = fake_service

    async def start() -> None:
        service.start("ws://fake/console", "officer1", "pw")
        await wait_until(lambda: service.state is ConnectionState.LIVE, what="live")

    run(start())
    return service


def open_window(
    qtbot: QtBot,
    service: ConsoleService,
    settings: QSettings,
    *,
    username: str = "officer1",
    server: str = SERVER,
    wall: bool = False,
) -> MainWindow:
    window = MainWindow(
        service,
        AlarmSounder(use_audio=False),
        settings,
        username=username,
        server=server,
        wall=wall,
    )
    qtbot.addWidget(window)
    window.show()
    return window


def at_default_size(window: MainWindow) -> None:
    """The window as it opens on a control-room screen (offscreen's screen is smaller)."""
    window.resize(DEFAULT_SIZE)
    window.control_room.apply_proportions()
    QApplication.processEvents()


def area(widget: QWidget) -> int:
    return widget.width() * widget.height() if widget.isVisible() else 0


def scenario_alarms() -> list[dict[str, Any]]:
    incidents: list[dict[str, Any]] = json.loads(SCENARIO.read_text("utf-8"))["incidents"]
    return incidents


def plain(tooltip: str) -> str:
    document = QTextDocument()
    document.setHtml(tooltip)
    return document.toPlainText().replace("\xa0", " ")


def raise_scenario(service: ConsoleService) -> None:
    now = dt.datetime.now(dt.UTC)
    for number, incident in enumerate(scenario_alarms(), start=1):
        alarm = make_alarm(
            number,
            first_seen=now - dt.timedelta(minutes=number),
            level=AlarmLevel(incident["level"]),
            alarm_type=incident["alarm_type"],
            title=incident["title"],
            place=incident["place"],
            description=incident["description"],
        )
        service.on_event(make_event(number, alarm))


# ---------------------------------------------------------------------- proportions


def test_the_queue_and_the_map_get_most_of_the_window(
    qtbot: QtBot, fake_service: FakeService, run: Run, settings: QSettings
) -> None:
    window = open_window(qtbot, started(fake_service, run), settings)
    at_default_size(window)
    queue, map_area = area(window.queue_view), area(window.map_dock)
    others = area(window.detail_dock) + area(window.event_log_dock)
    assert queue + map_area > 1.5 * others
    assert min(queue, map_area) > max(area(window.detail_dock), area(window.event_log_dock))
    # The event log sits under the queue only: the map and the detail keep their height.
    central = window.centralWidget()
    assert central is not None
    assert window.event_log_dock.width() <= central.width() + 8
    assert window.map_dock.height() > 0.8 * central.height()


def test_typical_titles_and_places_are_readable_at_the_default_size(
    qtbot: QtBot,
    fake_service: FakeService,
    run: Run,
    settings: QSettings,
    chinese: list[QTranslator],
) -> None:
    assert chinese, "the Chinese translation did not load"
    service = started(fake_service, run)
    window = open_window(qtbot, service, settings)
    at_default_size(window)
    raise_scenario(service)
    QApplication.processEvents()
    view, columns = window.queue_view, window.queue_view.columns
    for row in range(window.queue_proxy.rowCount()):
        for column in (Column.LEVEL, Column.TITLE, Column.PLACE, Column.STATE, Column.AGE):
            text = window.queue_proxy.index(row, column).data()
            assert columns.text_width(text) <= view.columnWidth(column), (column.name, text)
    place_end = view.columnViewportPosition(Column.PLACE) + view.columnWidth(Column.PLACE)
    assert view.columnViewportPosition(Column.PLACE) >= 0
    assert place_end <= view.viewport().width()
    assert view.textElideMode() is Qt.TextElideMode.ElideMiddle


def test_cells_explain_themselves_in_tooltips(
    qtbot: QtBot, fake_service: FakeService, run: Run, settings: QSettings
) -> None:
    service = started(fake_service, run)
    window = open_window(qtbot, service, settings)
    raise_scenario(service)
    first = scenario_alarms()[0]
    row = window.queue_alarm_ids().index(1)
    title_tip = plain(window.queue_proxy.index(row, Column.TITLE).data(Qt.ItemDataRole.ToolTipRole))
    place_tip = plain(window.queue_proxy.index(row, Column.PLACE).data(Qt.ItemDataRole.ToolTipRole))
    assert first["title"] in title_tip
    assert first["description"] in title_tip
    assert first["place"] in place_tip


# ---------------------------------------------------------------------- default detail


def test_most_urgent_is_the_highest_level_then_the_oldest() -> None:
    old = T0 - dt.timedelta(minutes=5)
    alarms = [
        make_alarm(1, level=AlarmLevel.YELLOW, first_seen=old),
        make_alarm(2, level=AlarmLevel.RED, state=AlarmState.ACKNOWLEDGED, first_seen=old),
        make_alarm(3, level=AlarmLevel.ORANGE),
        make_alarm(4, level=AlarmLevel.ORANGE, first_seen=old),
    ]
    urgent = most_urgent_unacknowledged(alarms)
    assert urgent is not None
    assert urgent.id == 4
    assert most_urgent_unacknowledged(alarms[1:2]) is None


def test_the_detail_shows_the_most_urgent_alarm_until_one_is_selected(
    qtbot: QtBot, fake_service: FakeService, run: Run, settings: QSettings
) -> None:
    service = started(fake_service, run)
    window = open_window(qtbot, service, settings)
    pane = window.detail_pane

    def shown() -> int | None:
        return pane.alarm_id

    assert shown() is None
    assert not pane.caption_label.isVisible()
    yellow = make_alarm(1, level=AlarmLevel.YELLOW, first_seen=T0 - dt.timedelta(minutes=9))
    service.on_event(make_event(1, yellow))
    assert shown() == 1
    assert pane.caption_label.isVisible()
    assert pane.caption_label.text() == "Most urgent unacknowledged alarm"
    red = make_alarm(2, level=AlarmLevel.RED, title="储罐起火")
    service.on_event(make_event(2, red))
    assert shown() == 2  # follows a more urgent arrival
    assert "储罐起火" in pane.header_label.text()
    service.on_event(make_event(3, evolve(red, state=AlarmState.ACKNOWLEDGED)))
    assert shown() == 1  # acknowledged: no longer waiting
    # The officer's choice wins, whatever arrives next.
    assert window.select_alarm(2)
    assert shown() == 2
    assert not pane.caption_label.isVisible()
    service.on_event(make_event(4, make_alarm(3, level=AlarmLevel.RED)))
    assert shown() == 2
    window.queue_view.clearSelection()
    assert shown() == 3
    assert pane.caption_label.isVisible()


# ---------------------------------------------------------------------- per-user layouts


def test_each_user_gets_their_own_layout_on_each_server(
    qtbot: QtBot, fake_service: FakeService, run: Run, settings: QSettings
) -> None:
    service = started(fake_service, run)
    first = open_window(qtbot, service, settings, username="officer1")
    first.event_log_dock.hide()
    first.close()
    second = open_window(qtbot, service, settings, username="officer2")
    second.map_dock.hide()
    second.close()

    again = open_window(qtbot, service, settings, username="officer1")
    assert again.event_log_dock.isHidden()
    assert not again.map_dock.isHidden()
    other = open_window(qtbot, service, settings, username="officer2")
    assert other.map_dock.isHidden()
    assert not other.event_log_dock.isHidden()
    elsewhere = open_window(qtbot, service, settings, username="officer1", server="ws://b/c")
    assert not elsewhere.event_log_dock.isHidden()
    # The URL's slashes do not nest settings groups; the user's name does not either.
    assert "/" not in layout_group(SERVER, "a/b").removeprefix("layout/").replace("/", "", 1)


def test_a_layout_of_an_older_version_is_ignored_and_reset_restores_the_default(
    qtbot: QtBot, fake_service: FakeService, run: Run, settings: QSettings
) -> None:
    service = started(fake_service, run)
    old = open_window(qtbot, service, settings)
    old.event_log_dock.hide()
    settings.setValue(
        f"{layout_group(SERVER, 'officer1')}/state", old.saveState(LAYOUT_VERSION - 1)
    )
    fresh = open_window(qtbot, service, settings)
    assert not fresh.event_log_dock.isHidden()
    assert not fresh.control_room.restored
    fresh.event_log_dock.hide()
    fresh.map_dock.hide()
    fresh.reset_layout()
    assert not fresh.event_log_dock.isHidden()
    assert not fresh.map_dock.isHidden()


# ---------------------------------------------------------------------- wall display


def test_the_wall_shows_map_queue_and_counters_and_offers_no_editing(
    qtbot: QtBot, fake_service: FakeService, run: Run, settings: QSettings
) -> None:
    service = started(fake_service, run)
    window = open_window(qtbot, service, settings, wall=True)
    wall = window.wall
    assert wall is not None
    raise_scenario(service)

    async def welcome() -> None:
        user = UserInfo(username="leader", display_name="", role=Role.OFFICER, jurisdiction="")
        service.on_welcome(
            Welcome(
                protocol=1,
                server_version="test",
                session_token="token",
                user=user,
                head_seq=0,
                limits=Limits(max_message_bytes=1 << 20, rate_per_second=20, rate_burst=60),
            )
        )

    run(welcome())  # the role would enable the phone-report form: not on the wall
    assert window.map_dock.isVisible()
    assert window.queue_view.isVisible()
    assert not window.detail_dock.isVisible()
    assert not window.event_log_dock.isVisible()
    assert not window.menuBar().isVisible()
    assert not any(toolbar.isVisible() for toolbar in window.findChildren(QToolBar))
    assert wall.enabled_actions() == [wall.quit_action]
    assert not window.new_alarm_action.isEnabled()
    assert window.detail_pane.isHidden() or not window.detail_dock.isVisible()
    assert wall.counters.level_labels[AlarmLevel.RED].text() == "Red 3"
    assert wall.counters.unacknowledged_label.text() == "Unacknowledged 10"
    assert window.queue_view.font().pixelSize() >= 20
    assert area(window.map_dock) > area(window.queue_view) * 0.5
    assert window.queue_view.isColumnHidden(Column.TYPE)
    # On a wall screen the counters share the width: each is readable in full.
    at_default_size(window)
    for label in [*wall.counters.level_labels.values(), wall.counters.unacknowledged_label]:
        assert label.width() >= label.fontMetrics().horizontalAdvance(label.text()), label.text()
    # The wall's fixed layout never overwrites the officer's own.
    window.close()
    assert settings.value(f"{layout_group(SERVER, 'officer1')}/state") is None


# ---------------------------------------------------------------------- screen bounds


def test_the_window_stays_within_the_screen_after_a_burst_of_long_alarms(
    qtbot: QtBot, fake_service: FakeService, run: Run, settings: QSettings
) -> None:
    service = started(fake_service, run)
    unshown = MainWindow(service, AlarmSounder(use_audio=False), settings, username="o")
    qtbot.addWidget(unshown)
    screen = unshown.screen()
    assert screen is not None
    available: QRect = screen.availableGeometry()
    # Built before it is shown, the window already fits: its docks asked for more once.
    assert available.size().boundedTo(unshown.size()) == unshown.size()
    window = open_window(qtbot, service, settings)
    assert available.contains(window.frameGeometry())
    long_title = "3号储罐区 H2S 浓度超限，" * 12
    long_place = "化工园区 A 区 3 号储罐东侧管廊" * 8
    for number in range(1, 201):
        alarm = make_alarm(
            number,
            level=list(AlarmLevel)[number % 4],
            title=f"{long_title}{number}",
            place=long_place,
            description="持续上升，" * 80,
            last_note="现场反馈：" * 60,
        )
        service.on_event(make_event(number, alarm))
        if number % 50 == 0:
            window.notification_bar.show_message("警情已录入：" + long_title, error=False)
            QApplication.processEvents()
    window.select_alarm(200)
    for _ in range(5):
        QApplication.processEvents()
    assert available.contains(window.frameGeometry()), (window.frameGeometry(), available)
    assert window.minimumSizeHint().height() <= available.height()
    assert window.minimumSizeHint().width() <= available.width()
