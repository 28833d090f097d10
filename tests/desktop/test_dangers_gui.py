"""The hidden-danger console against a real server (a thread on 127.0.0.1, fresh
database): an enterprise user's window shows its workplace only — its own dangers, its
report with the enterprise fixed, the actions it may take; the bureau's board shows the
area's dangers with the overdue one highlighted, filters, the ranking and the export."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDockWidget, QFileDialog, QTableWidget, QTableWidgetItem
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.dangers.forms import ReportForm
from desktop.dangers.panel import LATE_BRUSH, DangerBoardPanel
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState
from realtime.protocol import DangerAction, Role
from tests.backend.dangers.conftest import OFFICER_HZ, add_enterprises, finding
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        running.call(add_enterprises(running.server.sessions))
        running.add_user("ent-a", "pw-ent-a-long", Role.ENTERPRISE, enterprise="ENT-HZ-A")
        running.add_user("off-hz", "pw-off-hz-long", Role.OFFICER, jurisdiction="3301")
        dangers = running.server.dangers.service
        # A deadline lies ahead when set: the checker runs as if it had passed.
        now = dt.datetime.now(dt.UTC)
        late = finding(deadline=now + dt.timedelta(hours=1), name="王工")
        running.call(dangers.report(OFFICER_HZ, late))
        running.call(dangers.report(OFFICER_HZ, finding("ENT-HZ-B", description="仓库灭火器过期")))
        running.call(dangers.check_deadlines(now + dt.timedelta(days=1)))
        yield running


@asynccontextmanager
async def console(
    server: ServerThread, qtbot: QtBot, settings: QSettings, username: str, password: str
) -> AsyncIterator[MainWindow]:
    service = ConsoleService()
    window = MainWindow(service, AlarmSounder(use_audio=False), settings, username=username)
    qtbot.addWidget(window)
    window.show()
    service.start(server.console_url, username, password)
    try:
        await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
        yield window
    finally:
        await service.stop()


def cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None, (row, column)
    return item


def rows(panel: DangerBoardPanel) -> list[list[str]]:
    table = panel.table
    return [
        [cell(table, r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_an_enterprise_sees_its_workplace_only(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with console(server, qtbot, settings, "ent-a", "pw-ent-a-long") as window:
            await wait_until(lambda: window.dangers.workplace is not None, what="workplace")
            workplace = window.dangers.workplace
            assert workplace is not None
            board = workplace.board
            await wait_until(lambda: len(rows(board)) == 1, what="its danger")
            assert not window.queue_view.isVisible()
            assert window.status_panel.connection_label.isVisible()
            assert not window.status_panel.unacknowledged_label.isVisible()
            assert not any(d.isVisible() for d in window.findChildren(QDockWidget))
            assert rows(board)[0][1] == "西湖化工有限公司"
            assert "仓库灭火器过期" not in str(rows(board))
            tabs = [board.tabs.tabText(i) for i in range(board.tabs.count())]
            bar = board.tabs.tabBar()
            for index in range(board.tabs.count()):
                # Nothing lies over the tabs (a stray widget once hid their labels).
                centre = bar.mapTo(window, bar.tabRect(index).center())
                assert window.childAt(centre) is bar
            assert tabs == ["Hidden dangers", "Inspections", "Received notices"], "no statistics"
            # A report is for its own enterprise, whatever else it could type.
            form = ReportForm(board.enterprise, board, photos=False)
            assert form.enterprise.isReadOnly()
            form.place.setText("锅炉房")
            form.description.setPlainText("压力表超期未检")
            await call(lambda: board.report(form))
            await wait_until(lambda: len(rows(board)) == 2, what="reported")
            # The overdue one: it may complete, never verify.
            board.table.selectRow(0)  # overdue first
            await wait_until(lambda: board.selected is not None, what="selected")
            assert board.selected is not None
            assert board.selected.overdue
            assert board.action_buttons[DangerAction.COMPLETE].isVisibleTo(board)
            assert not board.action_buttons[DangerAction.VERIFY].isVisibleTo(board)
            assert not board.action_buttons[DangerAction.SUPERVISE].isVisibleTo(board)

    run(scenario())


def test_the_bureau_board_highlights_filters_ranks_and_exports(
    server: ServerThread,
    qtbot: QtBot,
    settings: QSettings,
    run: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saved = tmp_path / "隐患.xlsx"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(saved), ""))
    )

    async def scenario() -> None:
        async with console(server, qtbot, settings, "off-hz", "pw-off-hz-long") as window:
            window.dangers.show()
            panel = window.dangers.panel
            await wait_until(lambda: len(rows(panel)) == 2, what="the area's dangers")
            # Overdue first, highlighted.
            assert cell(panel.table, 0, 0).background() == LATE_BRUSH
            assert cell(panel.table, 1, 0).background() != LATE_BRUSH
            panel.overdue_only.setChecked(True)
            assert len(rows(panel)) == 1
            panel.overdue_only.setChecked(False)
            panel.enterprise_filter.setText("之江")
            assert [r[1] for r in rows(panel)] == ["之江烟花爆竹仓库"]
            panel.enterprise_filter.setText("")
            await wait_until(lambda: panel.stats.rowCount() == 2, what="ranking")
            assert cell(panel.stats, 0, 0).text() == "1"
            await call(panel.export)
            await wait_until(saved.exists, what="saved workbook")
            book = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()))
            assert "隐患清单" in book.sheetnames

    run(scenario())
