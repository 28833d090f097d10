"""Widgets over a service with a fake client: detail pane, status bar, entry form, window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from desktop.alarm_entry import ManualAlarmDialog, ManualAlarmInput, validate_manual_alarm
from desktop.detail_pane import AlarmDetailPane
from desktop.dialogs import DispatchDialog, MergeDialog, NoteDialog
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from desktop.state import ChangeKind, StoreChange
from realtime.client import ConnectionState
from realtime.protocol import (
    CreateAlarm,
    DispatchAlarm,
    ErrorCode,
    Limits,
    Role,
    TransitionAlarm,
    UserInfo,
    Welcome,
)
from realtime.states import AlarmAction, AlarmLevel, AlarmState, allowed_actions
from tests.desktop.conftest import FakeClient, call, ignore_offscreen_quirks, wait_until
from tests.desktop.factories import evolve, make_alarm, make_dispatch, make_event

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

FakeService = tuple[ConsoleService, list[FakeClient]]
Run = Callable[..., Any]


def started(fake_service: FakeService, run: Run) -> tuple[ConsoleService, FakeClient]:
    service, clients = fake_service

    async def start() -> None:
        service.start("ws://fake/console", "officer1", "pw")
        await wait_until(lambda: service.state is ConnectionState.LIVE, what="live")

    run(start())
    return service, clients[0]


def enabled_actions(pane: AlarmDetailPane) -> set[AlarmAction]:
    return {action for action, button in pane.action_buttons.items() if button.isEnabled()}


# ---------------------------------------------------------------------- detail pane


def test_detail_actions_follow_the_state(qtbot: QtBot, fake_service: FakeService, run: Run) -> None:
    service, _client = started(fake_service, run)
    pane = AlarmDetailPane(service)
    qtbot.addWidget(pane)
    assert enabled_actions(pane) == set()
    alarm = make_alarm(1, dispatches=[make_dispatch(1, "西湖消防站")])
    service.on_event(make_event(1, alarm))
    pane.show_alarm(1)
    assert pane.field_text("state") == "New"
    assert pane.units_list.item(0).text().startswith("西湖消防站")
    assert enabled_actions(pane) == set(allowed_actions(AlarmState.NEW))
    for state in AlarmState:
        alarm = evolve(alarm, state=state)
        service.on_event(make_event(alarm.version + 10, alarm))
        assert enabled_actions(pane) == set(allowed_actions(state)), state


def test_a_read_only_console_greys_out_every_action_and_shows_the_shares(
    qtbot: QtBot, fake_service: FakeService, run: Run
) -> None:
    service, _client = started(fake_service, run)
    pane = AlarmDetailPane(service)
    qtbot.addWidget(pane)
    service.on_event(make_event(1, make_alarm(1, shared_with=["police", "water"])))
    pane.show_alarm(1)
    assert enabled_actions(pane) == set(allowed_actions(AlarmState.NEW))
    # A shipped label for a known code; the code itself for one the console never heard of.
    assert pane.field_text("shared") == "Police、water"
    pane.set_read_only(True)
    assert enabled_actions(pane) == set(), "a viewer acts on nothing"
    pane.set_read_only(False)
    assert enabled_actions(pane) == set(allowed_actions(AlarmState.NEW))


def test_acknowledge_sends_the_current_version(
    qtbot: QtBot, fake_service: FakeService, run: Run
) -> None:
    service, client = started(fake_service, run)
    pane = AlarmDetailPane(service)
    qtbot.addWidget(pane)
    service.on_event(make_event(1, make_alarm(1, version=4)))
    pane.show_alarm(1)

    async def acknowledge() -> None:
        pane.action_buttons[AlarmAction.ACKNOWLEDGE].click()
        await wait_until(lambda: pane.field_text("state") == "Acknowledged", what="ack")

    run(acknowledge())
    command = client.commands[-1]
    assert isinstance(command, TransitionAlarm)
    assert (command.alarm_id, command.action, command.expected_version) == (
        1,
        AlarmAction.ACKNOWLEDGE,
        4,
    )
    assert not pane.action_buttons[AlarmAction.ACKNOWLEDGE].isEnabled()


def test_resolve_asks_for_a_note_first(qtbot: QtBot, fake_service: FakeService, run: Run) -> None:
    service, client = started(fake_service, run)
    pane = AlarmDetailPane(service)
    qtbot.addWidget(pane)
    service.on_event(make_event(1, make_alarm(1, state=AlarmState.HANDLING)))
    pane.show_alarm(1)
    pane.action_buttons[AlarmAction.RESOLVE].click()
    dialog = pane.active_dialog
    assert isinstance(dialog, NoteDialog)
    assert not dialog.ok_button.isEnabled()  # the note is required
    dialog.note_edit.setPlainText("明火已扑灭，无人员伤亡")
    assert dialog.ok_button.isEnabled()
    run(call(dialog.ok_button.click))
    run(wait_until(lambda: pane.field_text("state") == "Resolved", what="resolved"))
    command = client.commands[-1]
    assert isinstance(command, TransitionAlarm)
    assert command.action is AlarmAction.RESOLVE
    assert command.note == "明火已扑灭，无人员伤亡"


def test_dispatch_lists_units_and_sends_the_ticked_ones(
    qtbot: QtBot, fake_service: FakeService, run: Run
) -> None:
    service, client = started(fake_service, run)
    pane = AlarmDetailPane(service)
    qtbot.addWidget(pane)
    service.on_event(make_event(1, make_alarm(1, state=AlarmState.ACKNOWLEDGED, version=2)))
    pane.show_alarm(1)
    run(call(pane.action_buttons[AlarmAction.DISPATCH].click))
    dialog = pane.active_dialog
    assert isinstance(dialog, DispatchDialog)
    run(wait_until(lambda: dialog.unit_list.count() == 3, what="units listed"))
    assert not dialog.ok_button.isEnabled()
    dialog.unit_list.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.unit_list.item(2).setCheckState(Qt.CheckState.Checked)
    dialog.note_edit.setText("携带泡沫")
    assert dialog.ok_button.isEnabled()
    run(call(dialog.ok_button.click))
    run(wait_until(lambda: pane.field_text("state") == "Dispatched", what="dispatched"))
    command = client.commands[-1]
    assert isinstance(command, DispatchAlarm)
    assert (command.alarm_id, command.unit_ids, command.note, command.expected_version) == (
        1,
        [1, 3],
        "携带泡沫",
        2,
    )


def test_merge_asks_for_an_open_target(qtbot: QtBot, fake_service: FakeService, run: Run) -> None:
    service, client = started(fake_service, run)
    pane = AlarmDetailPane(service)
    qtbot.addWidget(pane)
    service.on_event(make_event(1, make_alarm(1)))
    service.on_event(make_event(2, make_alarm(2, title="同一起火灾")))
    service.on_event(make_event(3, make_alarm(3, state=AlarmState.CLOSED)))
    pane.show_alarm(1)
    pane.action_buttons[AlarmAction.MERGE].click()
    dialog = pane.active_dialog
    assert isinstance(dialog, MergeDialog)
    for target, problem in (("1", "itself"), ("3", "finished"), ("99", "No alarm")):
        dialog.target_edit.setText(target)
        assert not dialog.ok_button.isEnabled()
        assert problem in dialog.target_label.text()
    dialog.target_edit.setText("2")
    assert "同一起火灾" in dialog.target_label.text()
    run(call(dialog.ok_button.click))
    run(wait_until(lambda: pane.field_text("state").startswith("Merged"), what="merged"))
    command = client.commands[-1]
    assert isinstance(command, TransitionAlarm)
    assert (command.action, command.merge_into) == (AlarmAction.MERGE, 2)


# ---------------------------------------------------------------------- entry form


def form(**changes: Any) -> ManualAlarmInput:
    values: dict[str, Any] = {
        "alarm_type": "hazmat_leak",
        "level": AlarmLevel.ORANGE,
        "place": "滨江区江南大道 88 号",
        "caller_name": "王先生",
        "caller_phone": "138 0013 8000",
    }
    values.update(changes)
    return ManualAlarmInput(**values)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"place": "  "}, "Enter the place."),
        ({"caller_phone": ""}, "Enter the caller's phone number."),
        ({"caller_phone": "call me"}, "The phone number may contain only digits"),
        ({"lat": "30.2"}, "Give both latitude and longitude, or neither."),
        ({"lat": "95", "lon": "120.1"}, "Latitude must be a number from -90 to 90."),
        ({"lat": "30.2", "lon": "east"}, "Longitude must be a number from -180 to 180."),
    ],
)
def test_entry_validation_rejects_bad_input(changes: dict[str, str], problem: str) -> None:
    result = validate_manual_alarm(form(**changes))
    assert isinstance(result, list)
    assert any(line.startswith(problem) for line in result), result


def test_entry_validation_builds_the_alarm() -> None:
    result = validate_manual_alarm(form(lat=" 30.2 ", lon="120.21", description=" 气味刺鼻 "))
    assert not isinstance(result, list)
    assert result.title == "Hazardous chemical leak · 滨江区江南大道 88 号"
    assert (result.lat, result.lon, result.description) == (30.2, 120.21, "气味刺鼻")
    assert result.caller_phone == "138 0013 8000"


def test_entry_form_shows_problems_and_stays_open(qtbot: QtBot) -> None:
    dialog = ManualAlarmDialog()
    qtbot.addWidget(dialog)
    dialog.open()
    sent: list[object] = []
    dialog.submitted.connect(sent.append)
    dialog.submit_button.click()
    assert sent == []
    assert dialog.isVisible()
    assert "Enter the place." in dialog.problems_label.text()
    assert dialog.problems_label.isVisible()


# ---------------------------------------------------------------------- main window


@pytest.fixture
def window(
    qtbot: QtBot, fake_service: FakeService, run: Run, settings: QSettings
) -> tuple[MainWindow, ConsoleService, FakeClient, AlarmSounder]:
    service, client = started(fake_service, run)
    sounder = AlarmSounder(use_audio=False)
    main_window = MainWindow(service, sounder, settings, username="officer1")
    qtbot.addWidget(main_window)
    main_window.show()
    return main_window, service, client, sounder


WindowParts = tuple[MainWindow, ConsoleService, FakeClient, AlarmSounder]


def test_queue_shows_new_alarms_and_sounds_by_level(window: WindowParts) -> None:
    main_window, service, _client, sounder = window
    service.on_event(make_event(1, make_alarm(1, level=AlarmLevel.BLUE)))
    assert main_window.queue_alarm_ids() == [1]
    assert sounder.play_count == 0  # blue alarms are silent
    service.on_event(make_event(2, make_alarm(2, level=AlarmLevel.RED, title="储罐起火")))
    assert main_window.queue_alarm_ids() == [2, 1]
    assert sounder.played_levels == [AlarmLevel.RED]
    assert main_window.status_panel.unacknowledged_label.text() == "Unacknowledged: 2"
    main_window.mute_action.trigger()
    service.on_event(make_event(3, make_alarm(3, level=AlarmLevel.ORANGE)))
    assert sounder.play_count == 1
    assert main_window.queue_alarm_ids() == [2, 3, 1]


def test_selecting_a_row_shows_the_alarm(window: WindowParts) -> None:
    main_window, service, _client, _sounder = window
    service.on_event(make_event(1, make_alarm(1, place="文一路")))
    assert main_window.select_alarm(1)
    assert main_window.detail_pane.alarm_id == 1
    assert main_window.detail_pane.field_text("place") == "文一路"


def test_status_bar_shows_a_lost_connection_and_the_data_age(window: WindowParts) -> None:
    main_window, service, _client, _sounder = window
    service.on_event(make_event(1, make_alarm(1)))
    panel = main_window.status_panel
    assert panel.connection_label.text() == "Connected"
    assert panel.data_age_label.text() == "Data: live"
    assert not main_window.banner.isVisible()
    service.on_state(ConnectionState.DISCONNECTED, "link lost")
    # Pretend the link went down 75 s ago.
    went_down = service.store.last_update
    assert went_down is not None
    service.store.mark_fresh(went_down - dt.timedelta(seconds=75))
    panel.refresh()
    main_window.banner.refresh()
    assert panel.connection_label.text().startswith("Disconnected – data 1 min 1")
    assert "#c62828" in panel.connection_label.styleSheet()
    assert panel.data_age_label.text().startswith("Data: 1 min 1")
    assert main_window.banner.isVisible()
    assert "may be out of date" in main_window.banner.text()
    assert main_window.alarm_model.stale
    assert main_window.queue_alarm_ids() == [1]  # the last data stays visible
    service.on_state(ConnectionState.LIVE, "")
    assert not main_window.banner.isVisible()
    assert panel.connection_label.text() == "Connected"


def test_status_bar_names_the_server_in_use_when_there_are_several(
    window: WindowParts,
) -> None:
    main_window, service, _client, _sounder = window
    panel = main_window.status_panel
    service.server_count = 2
    service.on_state(ConnectionState.LIVE, "ws://10.0.0.6:8765/console")
    assert panel.connection_label.text() == "Connected to 10.0.0.6:8765"
    assert "ws://10.0.0.6:8765/console" in panel.connection_label.toolTip()
    service.server_count = 1
    service.on_state(ConnectionState.CONNECTING, "ws://10.0.0.6:8765/console")
    service.on_state(ConnectionState.LIVE, "ws://10.0.0.6:8765/console")
    assert panel.connection_label.text() == "Connected"


def test_commands_while_disconnected_are_counted_as_queued(window: WindowParts, run: Run) -> None:
    main_window, service, client, _sounder = window
    service.on_event(make_event(1, make_alarm(1)))
    client.connected.clear()
    service.on_state(ConnectionState.DISCONNECTED, "link lost")
    main_window.select_alarm(1)
    run(call(main_window.detail_pane.action_buttons[AlarmAction.ACKNOWLEDGE].click))
    panel = main_window.status_panel
    assert panel.queued_label.text() == "Queued commands: 1"
    assert "Commands are queued (1)" in main_window.banner.text()

    async def reconnect() -> None:
        await wait_until(lambda: client.queued_commands == 1, what="queued in the client")
        client.connected.set()
        service.on_state(ConnectionState.LIVE, "")
        await wait_until(lambda: service.queued_commands == 0, what="queue drained")

    run(reconnect())
    assert panel.queued_label.isHidden()
    assert main_window.detail_pane.field_text("state") == "Acknowledged"


def test_refused_command_is_explained(window: WindowParts, run: Run) -> None:
    main_window, service, client, _sounder = window
    service.on_event(make_event(1, make_alarm(1)))
    client.refuse[1] = ErrorCode.STALE_VERSION
    main_window.select_alarm(1)
    run(call(main_window.detail_pane.action_buttons[AlarmAction.ACKNOWLEDGE].click))
    bar = main_window.notification_bar
    run(wait_until(bar.isVisible, what="notification"))
    text = bar.message_label.text()
    assert text.startswith("Alarm 1: Someone else changed this alarm meanwhile.")
    assert "refused by the fake server" in text


def test_entry_form_sends_a_create_command(window: WindowParts, run: Run) -> None:
    main_window, _service, client, sounder = window
    main_window.new_alarm_action.trigger()
    dialog = main_window.entry_dialog
    assert dialog is not None
    dialog.caller_name_edit.setText("李女士")
    dialog.caller_phone_edit.setText("0571-88990011")
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData("explosion"))
    dialog.level_combo.setCurrentIndex(dialog.level_combo.findData("red"))
    dialog.place_edit.setText("钱塘区化工园区")
    dialog.lat_edit.setText("30.30")
    dialog.lon_edit.setText("120.52")
    dialog.description_edit.setPlainText("听到巨响，有黑烟")
    run(call(dialog.submit_button.click))
    assert main_window.entry_dialog is None  # closed after a valid submit

    run(wait_until(lambda: main_window.queue_alarm_ids() != [], what="alarm in queue"))
    command = client.commands[-1]
    assert isinstance(command, CreateAlarm)
    assert command.alarm_type == "explosion"
    assert command.level is AlarmLevel.RED
    assert (command.place, command.lat, command.lon) == ("钱塘区化工园区", 30.3, 120.52)
    assert (command.caller_name, command.caller_phone) == ("李女士", "0571-88990011")
    assert command.description == "听到巨响，有黑烟"
    assert sounder.play_count == 1


def test_layout_is_saved_per_user(
    qtbot: QtBot, fake_service: FakeService, settings: QSettings
) -> None:
    service, _clients = fake_service
    sounder = AlarmSounder(use_audio=False)
    first = MainWindow(service, sounder, settings, username="officer1")
    qtbot.addWidget(first)
    first.show()
    first.event_log_dock.hide()
    first.close()
    again = MainWindow(service, sounder, settings, username="officer1")
    qtbot.addWidget(again)
    again.show()
    assert again.event_log_dock.isHidden()
    other = MainWindow(service, sounder, settings, username="officer2")
    qtbot.addWidget(other)
    other.show()
    assert not other.event_log_dock.isHidden()


@pytest.mark.parametrize(
    ("role", "area", "acts", "enters", "draws"),
    [
        (Role.VIEWER, "", False, False, False),
        (Role.TRAINER, "", False, False, False),
        (Role.AGENCY, "", True, False, False),
        (Role.OFFICER, "3301", True, True, False),
        (Role.OFFICER, "", True, True, True),
    ],
)
def test_the_console_offers_only_what_the_role_may_do(
    window: WindowParts, run: Run, role: Role, area: str, acts: bool, enters: bool, draws: bool
) -> None:
    main_window, service, _client, _sounder = window
    user = UserInfo(username="u", display_name="", role=role, agency="fire", jurisdiction=area)

    async def welcome() -> None:
        # The welcome starts the registry loads, which need the loop.
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

    run(welcome())
    assert main_window.detail_pane.read_only is not acts
    assert main_window.new_alarm_action.isEnabled() is enters
    assert all(a.isEnabled() is draws for a in main_window.geofence_editor.actions.values())


def test_disconnected_warning_does_not_flicker_while_reconnecting(window: WindowParts) -> None:
    main_window, service, _client, _sounder = window
    panel = main_window.status_panel
    service.on_state(ConnectionState.DISCONNECTED, "link lost")
    for state in (ConnectionState.CONNECTING, ConnectionState.DISCONNECTED) * 2:
        service.on_state(state, "retrying")
        assert main_window.banner.isVisible(), state
        assert main_window.alarm_model.stale, state
        assert panel.connection_label.text().startswith("Disconnected"), state
    service.on_state(ConnectionState.SYNCING, "")
    assert not main_window.banner.isVisible()
    assert panel.connection_label.text() == "Synchronising…"


def test_first_connection_attempt_is_not_an_outage(
    qtbot: QtBot, fake_service: FakeService, settings: QSettings
) -> None:
    service, _clients = fake_service
    main_window = MainWindow(service, AlarmSounder(use_audio=False), settings, username="o")
    qtbot.addWidget(main_window)
    main_window.show()
    service.on_state(ConnectionState.CONNECTING, "ws://fake/console")
    assert main_window.status_panel.connection_label.text() == "Connecting…"
    assert not main_window.banner.isVisible()
    service.on_state(ConnectionState.DISCONNECTED, "cannot reach server: refused")
    assert main_window.banner.isVisible()
    assert main_window.status_panel.connection_label.text() == "Disconnected"
    assert main_window.status_panel.data_age_label.text() == "Data: none yet"


def test_refused_login_is_shown_in_the_banner(window: WindowParts) -> None:
    main_window, service, _client, _sounder = window
    service.on_state(ConnectionState.AUTH_FAILED, "unknown user or wrong password")
    assert main_window.banner.text() == (
        "The server refused the login: unknown user or wrong password"
    )
    assert main_window.status_panel.connection_label.text() == (
        "Login refused: unknown user or wrong password"
    )


def test_refused_entry_reopens_the_form_with_what_was_typed(window: WindowParts, run: Run) -> None:
    main_window, _service, client, _sounder = window
    client.refuse_create = ErrorCode.VALIDATION
    dialog = main_window.open_entry_dialog(
        ManualAlarmInput(
            alarm_type="traffic",
            level=AlarmLevel.YELLOW,
            place="绕城高速 K12",
            caller_phone="110",
            lat="30.25",
            lon="120.1",
        )
    )
    run(call(dialog.submit_button.click))
    run(wait_until(lambda: main_window.entry_dialog is not None, what="form reopened"))
    again = main_window.entry_dialog
    assert again is not None
    assert again.isVisible()
    assert (again.place_edit.text(), again.caller_phone_edit.text()) == ("绕城高速 K12", "110")
    assert (again.lat_edit.text(), again.lon_edit.text()) == ("30.25", "120.1")
    assert again.type_combo.currentData() == "traffic"
    assert again.problems_label.text().startswith("The server did not accept the input.")
    assert main_window.queue_alarm_ids() == []


def test_the_dispatch_dialog_follows_only_the_officers_own_changes(qtbot: QtBot) -> None:
    """F2 then F3 at once: the acknowledgement coming back does not make the dispatch a
    conflict; a change by someone else while the dialog is open still does."""
    alarm = make_alarm(7, version=1)
    dialog = DispatchDialog(alarm, [], username="officer1")
    qtbot.addWidget(dialog)
    mine = evolve(alarm, state=AlarmState.ACKNOWLEDGED, updated_by="officer1")
    dialog.follow_own_change(StoreChange(ChangeKind.UPDATED, mine, alarm))
    assert dialog.expected_version == 2
    theirs = evolve(mine, level=AlarmLevel.RED, updated_by="supervisor1")
    dialog.follow_own_change(StoreChange(ChangeKind.UPDATED, theirs, mine))
    assert dialog.expected_version == 2, "someone else's change: the server must refuse"
    other = evolve(make_alarm(8), updated_by="officer1", version=9)
    dialog.follow_own_change(StoreChange(ChangeKind.UPDATED, other, None))
    assert dialog.expected_version == 2, "another alarm"
