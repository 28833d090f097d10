"""The console's assessment dialog against a real server with the seeded month
(tests/backend/assessment/conftest.py): a supervisor picks November, sees the ranked
districts and exports the same workbook the command line writes; an officer's menu item
is disabled and the server refuses them anyway."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.app import ConsoleSession
from desktop.assessment import AssessmentDialog, console_lang, previous_month
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.assessment_book import COLUMNS
from realtime.protocol import Role
from tests.backend.assessment.conftest import seed_month
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]
USERS = [
    ("lead", "pw-lead-12345", Role.SUPERVISOR),
    ("officer1", "pw-officer1", Role.OFFICER),
]


async def _seed(server: ServerThread) -> None:
    async with server.server.sessions() as session:
        await seed_month(session)


def _cell(dialog: AssessmentDialog, row: int, key: str) -> str:
    column = [column.key for column in COLUMNS].index(key)
    item = dialog.table.item(row, column)
    assert item is not None
    return item.text()


def _check_november(dialog: AssessmentDialog) -> None:
    assert _cell(dialog, 0, "name") == "西湖区"
    assert _cell(dialog, 0, "score") == "59.28"
    assert _cell(dialog, 0, "accept_p90") == "10.0"
    assert _cell(dialog, 1, "name") == "拱墅区"
    header = dialog.table.horizontalHeaderItem(0)
    assert header is not None
    assert header.text() == COLUMNS[0].heading(console_lang())
    assert "杭州市" in dialog.title_label.text()
    # The score's parts follow the figures, one column per term.
    parts_header = dialog.table.horizontalHeaderItem(len(COLUMNS))
    assert parts_header is not None
    assert parts_header.text().endswith("办结率")
    first_part = dialog.table.item(0, len(COLUMNS))
    assert first_part is not None
    assert first_part.text() == "12.50"


def _check_book(path: Path) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    assert sheet.cell(row=5, column=3).value == "西湖区"
    assert sheet.cell(row=5, column=4).value == 59.28
    assert len(sheet._charts) == 1
    assert len(book.sheetnames) == 2  # the districts and the formula


async def _logged_in(
    server: ServerThread, qtbot: QtBot, settings: QSettings, username: str, password: str
) -> ConsoleSession:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    session = ConsoleSession(ConsoleService(), AlarmSounder(use_audio=False), settings, done)
    session.login_unattended(server.console_url, username, password)
    assert session.main_window is not None
    qtbot.addWidget(session.main_window)
    return session


def test_previous_month() -> None:
    assert previous_month(dt.date(2026, 12, 5)) == (2026, 11)
    assert previous_month(dt.date(2027, 1, 3)) == (2026, 12)


def test_a_supervisor_ranks_the_districts_and_exports_them(
    qtbot: QtBot, settings: QSettings, run: Run, tmp_path: Path
) -> None:
    with ServerThread(users=USERS) as server:
        server.call(_seed(server))
        server.add_user("hz-lead", "pw-hz-lead-123", Role.SUPERVISOR, jurisdiction="3301")

        async def scenario() -> None:
            session = await _logged_in(server, qtbot, settings, "hz-lead", "pw-hz-lead-123")
            try:
                window = session.main_window
                assert window is not None
                action = window.assessment
                await wait_until(action.action.isEnabled, what="supervisor welcomed")
                dialog = action.open()
                qtbot.addWidget(dialog)
                dialog.year_spin.setValue(2026)
                dialog.number_spin.setValue(11)
                assert dialog.period() == "2026-11"
                await call(dialog.query_button.click)
                await wait_until(lambda: dialog.table.rowCount() > 0, what="the ranking")
                _check_november(dialog)
                assert dialog.export_button.isEnabled()

                path = tmp_path / "考核.xlsx"
                await dialog.export_to(path)
                assert "考核.xlsx" in dialog.message_label.text()
                _check_book(path)
                # A folder that does not exist: said in the dialog, nothing else breaks.
                await dialog.export_to(tmp_path / "missing" / "坏.xlsx")
                assert "坏.xlsx" in dialog.message_label.text()
                assert not (tmp_path / "missing").exists()

                # A quarter by agency.
                dialog.kind_combo.setCurrentIndex(1)
                assert dialog.number_spin.maximum() == 4
                dialog.number_spin.setValue(4)
                dialog.by_combo.setCurrentIndex(1)
                await call(dialog.query_button.click)
                await wait_until(
                    lambda: dialog.assessment is not None and dialog.assessment.period == "2026Q4",
                    what="the quarter",
                )
                names = {_cell(dialog, row, "key") for row in range(dialog.table.rowCount())}
                assert {"fire", "police"} <= names
            finally:
                await session.close()

        run(scenario(), timeout=60)


def test_an_officer_is_refused(qtbot: QtBot, settings: QSettings, run: Run) -> None:
    with ServerThread(users=USERS) as server:

        async def scenario() -> None:
            session = await _logged_in(server, qtbot, settings, "officer1", "pw-officer1")
            try:
                window = session.main_window
                assert window is not None
                await wait_until(lambda: session.service.user is not None, what="welcome")
                action = window.assessment
                assert not action.action.isEnabled()
                # Asked anyway (the menu is a courtesy): the server refuses, the dialog says so.
                dialog = action.open()
                qtbot.addWidget(dialog)
                await call(dialog.query_button.click)
                await wait_until(
                    lambda: "quantified assessment" in dialog.message_label.text(),
                    what="refusal",
                )
                assert dialog.table.rowCount() == 0
                assert not dialog.export_button.isEnabled()
            finally:
                await session.close()

        run(scenario(), timeout=60)
