"""The 车辆指令 dialog: orders greyed by role, the fields of each order, the second step
shown as a clear confirmation (what, which vehicle, by whom), and the terminal's answer
(position, doors, parameters as a table)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
import qasync
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desktop.service import ConsoleService
from desktop.vehicles import command_labels
from desktop.vehicles.command_dialog import VehicleCommandDialog
from desktop.vehicles.list_panel import VehicleListPanel
from desktop.vehicles.roster import VehicleRoster
from realtime.client import CommandError
from realtime.protocol import (
    Command,
    ConfirmVehicleCommand,
    DevicesResult,
    ErrorCode,
    Limits,
    ListDevices,
    ResultData,
    Role,
    SendVehicleCommand,
    UserInfo,
    VehicleCommandResult,
    VehicleCommandView,
    Welcome,
)
from realtime.protocol.vehicle_commands import (
    CallBack,
    CommandOutcome,
    DoorControl,
    ParameterValue,
    PositionReply,
    QueryParameters,
    QueryPosition,
    TextToDriver,
    VehicleControl,
)
from tests.desktop.conftest import ignore_offscreen_quirks, wait_until
from tests.desktop.test_trends_panel import AnsweringClient
from tests.desktop.test_vehicles_panels import DEVICES

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]
AT = dt.datetime(2026, 12, 5, 14, 0, tzinfo=dt.UTC)
DEVICE = "013800000001"
SUPERVISOR = UserInfo(username="supervisor1", display_name="王班长", role=Role.SUPERVISOR)
OFFICER = UserInfo(username="officer1", display_name="值班员一", role=Role.OFFICER)
VIEWER = UserInfo(username="viewer1", display_name="观察员", role=Role.VIEWER)
TOKEN = "Zk3v9Qm2xY7pL0aB-token"


def _view(command: SendVehicleCommand, **fields: Any) -> VehicleCommandResult:
    return VehicleCommandResult(
        command=VehicleCommandView(
            device=command.device,
            order=command.order,
            requested_by="supervisor1",
            at=AT,
            **fields,
        )
    )


def answer(command: Command) -> ResultData:
    if isinstance(command, ListDevices):
        return DevicesResult(devices=DEVICES)
    if isinstance(command, ConfirmVehicleCommand):
        assert command.token == TOKEN
        return VehicleCommandResult(
            command=VehicleCommandView(
                device=DEVICE,
                order=VehicleControl(door=DoorControl.LOCK),
                outcome=CommandOutcome.ANSWERED,
                requested_by="supervisor1",
                at=AT,
                result="success",
                position=PositionReply(
                    lat=31.2304, lon=121.4737, speed_kmh=0, heading=0, at=AT, door_locked=True
                ),
                protocol="2019",
            )
        )
    if isinstance(command, SendVehicleCommand):
        order = command.order
        if isinstance(order, QueryPosition):
            position = PositionReply(lat=31.2304, lon=121.4737, speed_kmh=42, heading=90, at=AT)
            return _view(
                command, outcome=CommandOutcome.ANSWERED, result="success", position=position
            )
        if isinstance(order, VehicleControl):
            return _view(
                command,
                outcome=CommandOutcome.CONFIRM_NEEDED,
                token=TOKEN,
                confirm_by=AT + dt.timedelta(seconds=60),
            )
        if isinstance(order, QueryParameters):
            values = [
                ParameterValue(id=0x0029, value=30),
                ParameterValue(id=0x0083, value="浙A10001"),
            ]
            return _view(
                command, outcome=CommandOutcome.ANSWERED, result="success", parameters=values
            )
        if isinstance(order, CallBack):
            raise CommandError(ErrorCode.DEVICE_OFFLINE, "terminal 013800000001 is not connected")
    raise CommandError(ErrorCode.BAD_MESSAGE, "unexpected")


@pytest.fixture
def service(qt_loop: qasync.QEventLoop) -> Iterator[ConsoleService]:
    def factory(_url: str, listener: ConsoleService, *_args: Any) -> AnsweringClient:
        return AnsweringClient(listener, answer)

    console = ConsoleService(client_factory=factory, telemetry_topics=())
    yield console
    qt_loop.run_until_complete(console.stop())


def _cells(dialog: VehicleCommandDialog) -> list[tuple[str, str]]:
    table = dialog.answer_table
    rows = []
    for row in range(table.rowCount()):
        item, value = table.item(row, 0), table.item(row, 1)
        assert item is not None
        assert value is not None
        rows.append((item.text(), value.text()))
    return rows


def _enabled_orders(dialog: VehicleCommandDialog) -> list[str]:
    model = dialog.order_combo.model()
    return [
        tag
        for row, tag in enumerate(command_labels.ORDER_TAGS)
        if model.item(row).isEnabled()  # type: ignore[attr-defined]
    ]


def test_orders_are_greyed_by_role(qtbot: QtBot, service: ConsoleService) -> None:
    officer = VehicleCommandDialog(service, DEVICE, "浙A10001", OFFICER)
    qtbot.addWidget(officer)
    assert _enabled_orders(officer) == ["query_position", "track", "call_back", "query_parameters"]
    assert not officer.listen_check.isEnabled()
    supervisor = VehicleCommandDialog(service, DEVICE, "浙A10001", SUPERVISOR)
    qtbot.addWidget(supervisor)
    assert _enabled_orders(supervisor) == list(command_labels.ORDER_TAGS)
    assert supervisor.listen_check.isEnabled()
    viewer = VehicleCommandDialog(service, DEVICE, "浙A10001", VIEWER)
    qtbot.addWidget(viewer)
    assert _enabled_orders(viewer) == []
    assert not viewer.send_button.isEnabled()


def test_a_query_shows_the_position_and_the_map_button(
    qtbot: QtBot, run: Run, service: ConsoleService
) -> None:
    dialog = VehicleCommandDialog(service, DEVICE, "浙A10001", OFFICER)
    qtbot.addWidget(dialog)

    async def query() -> None:
        service.start("ws://fake", "officer1", "pw")
        dialog.choose("query_position")
        dialog.send()
        await wait_until(lambda: dialog.answer_table.rowCount() > 0, what="answer")

    run(query())
    assert "Answered" in dialog.status_label.text()
    cells = dict(_cells(dialog))
    assert cells["Position"] == "31.230400, 121.473700"
    with qtbot.waitSignal(dialog.follow_requested) as follow:
        dialog.map_button.click()
    assert follow.args == [DEVICE]


def test_parameters_come_back_as_a_table_and_errors_in_words(
    qtbot: QtBot, run: Run, service: ConsoleService
) -> None:
    dialog = VehicleCommandDialog(service, DEVICE, "浙A10001", OFFICER)
    qtbot.addWidget(dialog)

    async def query() -> None:
        service.start("ws://fake", "officer1", "pw")
        dialog.choose("query_parameters")
        dialog.send()
        await wait_until(lambda: dialog.answer_table.rowCount() == 2, what="parameters")
        dialog.choose("call_back")
        dialog.phone_edit.setText("12")
        dialog.send()  # too short: not sent
        assert "3 to 20 digits" in dialog.status_label.text()
        dialog.phone_edit.setText("02161234567")
        dialog.send()
        await wait_until(lambda: "refused" in dialog.status_label.text(), what="error")

    run(query())
    assert _cells(dialog) == [("Default report interval (s)", "30"), ("Plate", "浙A10001")]
    assert "is not connected" in dialog.status_label.text()


def test_a_door_lock_asks_a_clear_confirmation_and_yes_sends_it(
    qtbot: QtBot, run: Run, service: ConsoleService
) -> None:
    dialog = VehicleCommandDialog(service, DEVICE, "浙A10001", SUPERVISOR)
    qtbot.addWidget(dialog)

    async def lock() -> None:
        service.start("ws://fake", "supervisor1", "pw")
        dialog.choose("control")
        dialog.send()
        await wait_until(lambda: dialog.confirm_box is not None, what="confirmation")

    run(lock())
    box = dialog.confirm_box
    assert box is not None
    text = box.text()
    assert "浙A10001" in text
    assert "Lock the doors" in text
    assert "王班长" in text
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)  # Yes is a choice

    async def confirm() -> None:
        box.button(QMessageBox.StandardButton.Yes).click()
        await wait_until(lambda: dialog.answer_table.rowCount() > 0, what="answer")

    run(confirm())
    assert dialog.last is not None
    assert dialog.last.outcome is CommandOutcome.ANSWERED
    assert dict(_cells(dialog))["Doors"] == "locked"


def test_the_list_opens_the_dialog_greyed_until_a_role_may_order(
    qtbot: QtBot, run: Run, service: ConsoleService
) -> None:
    panel = VehicleListPanel(service, VehicleRoster())
    qtbot.addWidget(panel)
    assert not panel.command_button.isEnabled()  # nobody logged in yet

    async def load() -> None:
        service.start("ws://fake", "officer1", "pw")
        service.on_welcome(
            Welcome(
                protocol=1,
                server_version="t",
                session_token="tok",
                user=OFFICER,
                head_seq=0,
                limits=Limits(max_message_bytes=65536, rate_per_second=20, rate_burst=60),
            )
        )
        panel.load_devices()
        await wait_until(lambda: panel.model.rowCount() == 2, what="devices")

    run(load())
    assert panel.command_button.isEnabled()
    assert panel.select_device(DEVICE)
    dialog = panel.open_command_dialog()
    assert dialog is not None
    assert dialog.user == OFFICER
    dialog.reject()
    panel.shutdown()


def test_the_event_log_says_which_terminal_what_and_how_it_went(qapp: Any) -> None:
    from desktop.event_log import event_line
    from realtime.protocol import Event

    view = VehicleCommandView(
        device=DEVICE,
        order=VehicleControl(door=DoorControl.LOCK),
        outcome=CommandOutcome.ANSWERED,
        requested_by="supervisor1",
        at=AT,
        result="success",
    )
    line = event_line(
        Event(seq=1, at=AT, kind="vehicle.command", actor="supervisor1", vehicle_command=view)
    )
    assert line.endswith(
        "supervisor1 · Vehicle command · 013800000001 · Lock the doors · Answered: success"
    )
    # With the plate from the registry, the vehicle is named as people call it.
    plated = msgspec.structs.replace(view, plate="沪A12345")
    line = event_line(
        Event(seq=2, at=AT, kind="vehicle.command", actor="supervisor1", vehicle_command=plated)
    )
    assert "Vehicle command · 沪A12345 (013800000001) · Lock the doors" in line


@pytest.mark.usefixtures("chinese")
def test_every_result_a_terminal_order_can_have_is_said_in_chinese() -> None:
    # The results of docs/protocol.md "Commands to vehicles": none shows as its raw code.
    results = ["success", "failure", "bad_message", "unsupported", "bad_answer", "connection_lost"]
    for result in results:
        label = command_labels.result_label(result)
        assert label != result
        assert any("\u4e00" <= char <= "\u9fff" for char in label), label


@pytest.mark.usefixtures("chinese")
def test_a_text_to_a_driver_reads_in_chinese_in_the_event_log() -> None:
    urgent = command_labels.describe(TextToDriver(text="前方封路，请绕行", emergency=True))
    assert urgent == "紧急文字信息：前方封路，请绕行"
    assert command_labels.describe(TextToDriver(text="收到请回复")) == "文字信息：收到请回复"
