"""The detail pane's 查看 (reveal): masked values by default, a reason asked for, the
revealed values shown for a limited time and then cleared, and a refusal explained in the
server's words."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.alarm_entry import ManualAlarmDialog, ManualAlarmInput
from desktop.detail_pane import REVEAL_SECONDS, AlarmDetailPane
from desktop.dialogs import RevealDialog
from realtime.client import CommandError
from realtime.protocol import (
    AlarmResult,
    ContactField,
    ContactResult,
    CreateAlarm,
    ErrorCode,
    RevealContact,
)
from realtime.states import AlarmLevel
from tests.desktop.conftest import FakeClient, call, ignore_offscreen_quirks, wait_until
from tests.desktop.factories import make_alarm, make_event
from tests.desktop.test_console_e2e import console, other_console
from tests.desktop.test_widgets import FakeService, started

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]

NAME, PHONE, ADDRESS, NOTE = "李秀英", "13912345678", "杭州市西湖区文三路90号", "独居老人，心脏病"


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


def test_reveal_asks_why_shows_the_values_for_a_minute_then_masks_them_again(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            async with other_console(server) as other:
                created = await other.request(
                    CreateAlarm(
                        req="",
                        alarm_type="medical",
                        level=AlarmLevel.RED,
                        title="老人晕倒",
                        place="文三路",
                        caller_name=NAME,
                        caller_phone=PHONE,
                        caller_address=ADDRESS,
                        sensitive_note=NOTE,
                    )
                )
            assert isinstance(created, AlarmResult)
            alarm_id = created.alarm.id
            await wait_until(lambda: window.queue_alarm_ids() == [alarm_id], what="row")
            assert window.select_alarm(alarm_id)
            pane = window.detail_pane
            masked = {
                "caller": "李** 139****5678",
                "caller_address": "杭州市西湖区文三路****",
                "sensitive_note": "〔敏感内容，需授权查看〕",
            }
            assert {key: pane.field_text(key) for key in masked} == masked
            assert pane.reveal_button.isEnabled()

            await call(pane.reveal_button.click)
            dialog = pane.active_dialog
            assert isinstance(dialog, RevealDialog)
            assert set(dialog.field_boxes) == set(ContactField)
            assert not dialog.ok_button.isEnabled(), "a reason is required"
            dialog.reason_edit.setText("   ")
            assert not dialog.ok_button.isEnabled()
            dialog.reason_edit.setText("回拨核实老人情况")
            assert dialog.ok_button.isEnabled()
            await call(dialog.ok_button.click)
            await wait_until(lambda: pane.revealing, what="revealed")
            assert pane.field_text("caller") == f"{NAME} {PHONE}"
            assert pane.field_text("caller_address") == ADDRESS
            assert pane.field_text("sensitive_note") == NOTE
            assert pane.reveal_status_label.isVisibleTo(pane)
            assert pane.reveal_timer.isActive()
            assert pane.reveal_timer.interval() == REVEAL_SECONDS * 1000
            # The view was recorded: the log shows who viewed what (not the values).
            await wait_until(
                lambda: any(
                    "Personal data viewed" in window.event_log.item(row).text()
                    and "回拨核实老人情况" in window.event_log.item(row).text()
                    for row in range(window.event_log.count())
                ),
                what="audit entry",
            )

            pane.reveal_timer.timeout.emit()  # the minute is up
            assert not pane.revealing
            assert {key: pane.field_text(key) for key in masked} == masked
            assert not pane.reveal_status_label.isVisibleTo(pane)

    run(scenario(), timeout=60)


def _pane_with_alarm(
    qtbot: QtBot, fake_service: FakeService, run: Run
) -> tuple[AlarmDetailPane, FakeClient]:
    service, client = started(fake_service, run)
    pane = AlarmDetailPane(service)
    qtbot.addWidget(pane)
    alarm = make_alarm(1, caller_name="李**", caller_phone="139****5678")
    service.on_event(make_event(1, alarm))
    service.on_event(make_event(2, make_alarm(2)))
    pane.show_alarm(1)
    return pane, client


def _answer_reveals(
    client: FakeClient, monkeypatch: pytest.MonkeyPatch, answer: ContactResult | CommandError
) -> list[RevealContact]:
    asked: list[RevealContact] = []
    plain_request = client.request

    async def request(command: Any, timeout: float | None = 30.0) -> Any:
        if isinstance(command, RevealContact):
            asked.append(command)
            await asyncio.sleep(0)
            if isinstance(answer, CommandError):
                raise answer
            return answer
        return await plain_request(command, timeout)

    monkeypatch.setattr(client, "request", request)
    return asked


def test_a_refused_reveal_shows_the_servers_reason_and_nothing_else(
    qtbot: QtBot, fake_service: FakeService, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    pane, client = _pane_with_alarm(qtbot, fake_service, run)
    refusal = CommandError(ErrorCode.RATE_LIMITED, "more than 30 reveals of personal data")
    asked = _answer_reveals(client, monkeypatch, refusal)
    pane.start_reveal()
    dialog = pane.active_dialog
    assert isinstance(dialog, RevealDialog)
    assert set(dialog.field_boxes) == {ContactField.CALLER_NAME, ContactField.CALLER_PHONE}
    dialog.reason_edit.setText("回拨")
    for box in dialog.field_boxes.values():
        box.setChecked(False)
    assert not dialog.ok_button.isEnabled(), "at least one field"
    dialog.field_boxes[ContactField.CALLER_PHONE].setChecked(True)
    run(call(dialog.ok_button.click))
    run(wait_until(lambda: pane.reveal_status_label.isVisibleTo(pane), what="refusal shown"))
    assert "more than 30 reveals of personal data" in pane.reveal_status_label.text()
    assert not pane.revealing
    assert pane.field_text("caller") == "李** 139****5678"
    assert [(c.alarm_id, c.reason, c.fields) for c in asked] == [
        (1, "回拨", [ContactField.CALLER_PHONE])
    ]


def test_revealed_values_are_forgotten_when_another_alarm_is_shown(
    qtbot: QtBot, fake_service: FakeService, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    pane, client = _pane_with_alarm(qtbot, fake_service, run)
    _answer_reveals(
        client,
        monkeypatch,
        ContactResult(
            alarm_id=1,
            caller_name="",
            caller_phone=PHONE,
            fields=[ContactField.CALLER_PHONE],
        ),
    )
    pane.start_reveal()
    dialog = pane.active_dialog
    assert isinstance(dialog, RevealDialog)
    dialog.reason_edit.setText("回拨")
    run(call(dialog.ok_button.click))
    run(wait_until(lambda: pane.revealing, what="revealed"))
    assert pane.field_text("caller") == f"李** {PHONE}", "only the phone was revealed"
    pane.show_alarm(2)
    assert not pane.revealing
    assert not pane.reveal_timer.isActive()
    assert not pane.reveal_button.isEnabled(), "nothing personal on alarm 2"
    pane.show_alarm(1)
    assert pane.field_text("caller") == "李** 139****5678"


def test_entry_form_takes_the_callers_address_and_a_sensitive_note(qtbot: QtBot) -> None:
    dialog = ManualAlarmDialog()
    qtbot.addWidget(dialog)
    dialog.place_edit.setText("文三路")
    dialog.caller_phone_edit.setText(PHONE)
    dialog.caller_address_edit.setText("路" * 201)
    dialog.sensitive_note_edit.setPlainText("注" * 4001)
    with qtbot.assertNotEmitted(dialog.submitted):
        dialog.submit()
    assert "address is too long" in dialog.problems_label.text()
    assert "sensitive note is too long" in dialog.problems_label.text()
    dialog.caller_address_edit.setText(ADDRESS)
    dialog.sensitive_note_edit.setPlainText(NOTE)
    with qtbot.waitSignal(dialog.submitted) as sent:
        dialog.submit()
    alarm = sent.args[0]
    assert (alarm.caller_address, alarm.sensitive_note) == (ADDRESS, NOTE)
    command = CreateAlarm(
        req="", alarm_type="fire", level=AlarmLevel.RED, title="t", caller_address=ADDRESS,
        sensitive_note=NOTE,
    )  # fmt: skip
    again = ManualAlarmInput.from_command(command)
    assert (again.caller_address, again.sensitive_note) == (ADDRESS, NOTE)
