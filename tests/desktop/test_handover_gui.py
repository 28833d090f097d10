"""The handover dialog and the roster panel against a real server: the outgoing officer
generates, reviews and signs; the incoming one opens it from the history and accepts;
today's duty shows by desk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.handover import HandoverDialog
from desktop.handover_state import HandoverDesk
from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.protocol import HandoverState
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until
from tests.desktop.test_console_e2e import console, create_alarm, other_console

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


def test_sign_then_accept_through_the_dialogs(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with other_console(server) as supervisor:
            await create_alarm(supervisor, "仓库冒烟")
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            dialog = window.shift_actions.open_handover()
            qtbot.addWidget(dialog)
            assert not dialog.sign_button.isEnabled()
            await call(dialog.draft_button.click)
            desk = dialog.desk
            await wait_until(lambda: desk.current is not None, what="draft")
            assert desk.count("open_alarms") == 1
            assert dialog.tabs.tabText(0).endswith("(1)")
            table = dialog.section_views["open_alarms"]
            assert table.model().index(0, 1).data() == "仓库冒烟"
            assert dialog.sign_button.isEnabled()
            assert not dialog.accept_button.isEnabled()
            dialog.notes_edit.setPlainText("夜班平稳，注意仓库")
            await call(dialog.sign_button.click)
            await wait_until(
                lambda: desk.current is not None and desk.current.state is HandoverState.SIGNED,
                what="signed",
            )
            assert dialog.notes_edit.isReadOnly()
            assert not dialog.sign_button.isEnabled()
            number = desk.current.id if desk.current else 0

        incoming = ConsoleService()
        incoming.start(server.console_url, "supervisor1", "pw-supervisor1")
        try:
            await wait_until(lambda: incoming.state is ConnectionState.LIVE, what="live")
            their = HandoverDialog(incoming, HandoverDesk("supervisor1"))
            qtbot.addWidget(their)
            their.refresh()
            await wait_until(lambda: their.history_list.count() == 1, what="history")
            await call(lambda: their.open_handover(number))
            await wait_until(lambda: their.desk.can_accept, what="may accept")
            assert their.notes_edit.toPlainText() == "夜班平稳，注意仓库"
            their.remark_edit.setText("已知悉")
            await call(their.accept_button.click)
            await wait_until(
                lambda: (
                    their.desk.current is not None
                    and their.desk.current.state is HandoverState.ACCEPTED
                ),
                what="accepted",
            )
            assert "supervisor1" in their.summary_label.text()
            assert not their.accept_button.isEnabled()
        finally:
            await incoming.stop()

    run(scenario())


def test_the_roster_panel_shows_todays_duty(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=11)
    text = "date,jurisdiction,agency,position,username,start,end\n" + "".join(
        f"{now.date()},,,{position},{user},{start.isoformat()},{end.isoformat()}\n"
        for position, user in (("leader", "supervisor1"), ("officer", "officer1"))
    )
    assert server.call(server.server.roster.import_csv(text)) == 2

    async def scenario() -> None:
        async with console(server, qtbot, settings) as (window, _service, _sounder):
            panel = window.shift_actions.open_roster()
            qtbot.addWidget(panel)
            await wait_until(lambda: panel.table.model().rowCount() == 1, what="roster")
            model = panel.table.model()
            assert model.index(0, 1).data() == "supervisor1"
            assert model.index(0, 2).data() == "officer1"
            assert model.index(0, 4).data()

    run(scenario())
