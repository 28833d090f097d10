"""The score dialog: this run against the original and earlier runs, the alarms, and the
exports (the command line's writer)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from PySide6.QtWidgets import QTableWidget
from pytestqt.qtbot import QtBot

from desktop.exercises.score_view import ScoreDialog
from tests.desktop.conftest import ignore_offscreen_quirks
from tests.desktop.exercises.factories import make_score

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]


def text(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


def test_the_dialog_compares_the_runs_and_lists_the_alarms(qtbot: QtBot) -> None:
    dialog = ScoreDialog(make_score())
    qtbot.addWidget(dialog)
    figures = dialog.figures_table
    headings = [figures.horizontalHeaderItem(c) for c in range(3)]
    assert [item.text() if item else None for item in headings] == ["", "This run", "Original"]
    assert [text(figures, 0, c) for c in range(4)] == ["Score", "82.5", "70.0", "64.0"]
    assert dialog.alarms_table.rowCount() == 2
    assert text(dialog.alarms_table, 1, 0) == "<script>alert(1)</script>"  # plain text


def test_the_score_exports_to_excel_and_html(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = ScoreDialog(make_score())
    qtbot.addWidget(dialog)
    assert dialog.export(tmp_path / "x7.xlsx")
    book = openpyxl.load_workbook(tmp_path / "x7.xlsx")
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert 82.5 in [cell.value for cell in cells]
    hostile = next(cell for cell in cells if cell.value == '=HYPERLINK("http://x")')
    assert hostile.data_type == "s"  # text, never a formula to run
    assert dialog.export(tmp_path / "x7.html")
    page = (tmp_path / "x7.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "Saved to" in dialog.status_label.text()


def test_an_unwritable_export_says_why_and_the_dialog_stays(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = ScoreDialog(make_score())
    qtbot.addWidget(dialog)
    assert not dialog.export(tmp_path / "missing" / "x7.html")
    assert "Cannot write" in dialog.status_label.text()
