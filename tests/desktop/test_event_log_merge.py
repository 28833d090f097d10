"""The event log merges the shift's events loaded at login with live ones by ``seq``
(each once, newest on top, the oldest dropped beyond the limit), and the status bar's
data age turns amber, then red, while a quiet link is kept current by the heartbeat."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QStatusBar
from pytestqt.qtbot import QtBot

from desktop import data_age, event_log
from desktop.data_age import DataHeartbeat, Staleness, staleness
from desktop.event_log import EventLogView
from desktop.service import ConsoleService
from desktop.status import StatusPanel
from realtime.client import ConnectionState
from realtime.protocol import Command, Ping, Pong, ResultData
from tests.desktop.conftest import FakeClient, wait_until
from tests.desktop.factories import make_alarm, make_event

pytestmark = pytest.mark.gui

Run = Callable[..., Any]


def test_events_merge_by_seq_once_whatever_the_order(qtbot: QtBot) -> None:
    log = EventLogView()
    qtbot.addWidget(log)
    # Live events came first (7, 9); the shift's events (3..8) arrive after them.
    log.add_event(make_event(7, make_alarm(7)))
    log.add_event(make_event(9, make_alarm(9)))
    new = log.add_events(make_event(seq, make_alarm(seq)) for seq in (3, 5, 7, 8))
    assert new == 3
    assert log.seqs == [9, 8, 7, 5, 3]
    assert log.count() == 5
    assert "#8 " in log.item(1).text()
    log.add_event(make_event(9, make_alarm(9)))  # a replayed one
    assert log.seqs == [9, 8, 7, 5, 3]
    log.clear_events()
    assert log.seqs == []
    assert log.count() == 0


def test_the_oldest_lines_go_beyond_the_limit(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_log, "EVENT_LOG_LIMIT", 3)
    log = EventLogView()
    qtbot.addWidget(log)
    log.add_events(make_event(seq, None) for seq in (10, 11, 12, 13))
    assert log.seqs == [13, 12, 11]
    log.add_event(make_event(2, None))  # older than every line kept: not shown
    assert log.seqs == [13, 12, 11]
    assert log.count() == 3


def test_staleness_thresholds() -> None:
    assert staleness(0) is Staleness.FRESH
    assert staleness(data_age.AMBER_SECONDS - 1) is Staleness.FRESH
    assert staleness(data_age.AMBER_SECONDS) is Staleness.AMBER
    assert staleness(data_age.RED_SECONDS) is Staleness.RED
    assert staleness(None) is Staleness.AMBER


class PongClient(FakeClient):
    """Answers pings as the server does."""

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        if isinstance(command, Ping):
            self.commands.append(command)
            return Pong(server_time=dt.datetime.now(dt.UTC))
        return await super().request(command, timeout)


def test_a_quiet_link_is_pinged_and_the_age_turns_amber_then_red(
    qtbot: QtBot, qt_loop: qasync.QEventLoop
) -> None:
    clients: list[PongClient] = []

    def factory(_url: str, listener: ConsoleService, *_args: object) -> PongClient:
        clients.append(PongClient(listener))
        return clients[-1]

    service = ConsoleService(client_factory=factory)
    bar = QStatusBar()
    qtbot.addWidget(bar)
    panel = StatusPanel(service, bar)
    heartbeat = DataHeartbeat(service, bar)

    async def scenario() -> None:
        service.start("ws://fake", "officer1", "pw")
        await wait_until(lambda: service.state is ConnectionState.LIVE, what="live")
        now = dt.datetime.now(dt.UTC)
        panel.refresh()
        assert panel.data_age_label.text() == "Data: live"
        assert panel.data_age_label.styleSheet() == ""

        service.store.mark_fresh(now - dt.timedelta(seconds=data_age.AMBER_SECONDS + 5))
        panel.refresh()
        assert panel.data_age_label.text().startswith("Data: 1 min ")
        assert "#ef6c00" in panel.data_age_label.styleSheet()
        service.store.mark_fresh(now - dt.timedelta(seconds=data_age.RED_SECONDS + 5))
        panel.refresh()
        assert "#c62828" in panel.data_age_label.styleSheet()

        # The heartbeat asks the server; its answer shows the data current again.
        heartbeat.check()
        await wait_until(lambda: heartbeat.pings == 1, what="pong")
        assert isinstance(clients[0].commands[-1], Ping)
        panel.refresh()
        assert panel.data_age_label.text() == "Data: live"
        # A fresh link is not pinged.
        heartbeat.check()
        await asyncio.sleep(0.05)
        assert heartbeat.pings == 1
        await service.stop()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), 10))
