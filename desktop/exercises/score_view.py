"""A run's score on screen: this run against the original response and the earlier runs,
the alarm table, and the exports (Excel, HTML) of :mod:`realtime.exercise_report`."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.assessment import console_lang
from desktop.exercises.score_table import (
    ALARM_HEADINGS,
    Cell,
    Lang,
    alarm_row,
    column_titles,
    figure_table,
    heading_lines,
)
from desktop.plain_text import plain_label
from realtime.exercise_report import write_html, write_workbook
from realtime.protocol import ExerciseScore

logger = logging.getLogger(__name__)


def _fill(table: QTableWidget, headings: list[str], rows: list[list[Cell]]) -> None:
    table.clear()
    table.setColumnCount(len(headings))
    table.setHorizontalHeaderLabels(headings)
    table.setRowCount(len(rows))
    for row_index, row in enumerate(rows):
        for column, value in enumerate(row):
            table.setItem(row_index, column, QTableWidgetItem("" if value is None else str(value)))
    table.resizeColumnsToContents()


class ScoreDialog(QDialog):
    """Shows one run's score; exports it."""

    def __init__(self, score: ExerciseScore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exercise_score_dialog")
        self.score = score
        self.lang: Lang = console_lang()
        title, subtitle = heading_lines(score, self.lang)
        self.setWindowTitle(title)
        self.resize(760, 560)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(subtitle, parent=self))
        self.figures_table = QTableWidget(self)
        self.figures_table.setObjectName("score_figures")
        self.figures_table.verticalHeader().hide()
        _fill(
            self.figures_table,
            ["", *column_titles(score, self.lang)],
            figure_table(score, self.lang),
        )
        layout.addWidget(self.figures_table, 1)
        self.alarms_table = QTableWidget(self)
        self.alarms_table.setObjectName("score_alarms")
        self.alarms_table.verticalHeader().hide()
        _fill(
            self.alarms_table,
            list(ALARM_HEADINGS[self.lang]),
            [alarm_row(alarm, self.lang) for alarm in score.alarms],
        )
        self.alarms_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.alarms_table, 2)
        buttons = QHBoxLayout()
        self.xlsx_button = QPushButton(self.tr("Export to Excel…"), self)
        self.xlsx_button.clicked.connect(self._ask_xlsx)
        self.html_button = QPushButton(self.tr("Export to HTML…"), self)
        self.html_button.clicked.connect(self._ask_html)
        close_button = QPushButton(self.tr("Close"), self)
        close_button.clicked.connect(self.accept)
        buttons.addWidget(self.xlsx_button)
        buttons.addWidget(self.html_button)
        buttons.addStretch(1)
        buttons.addWidget(close_button)
        layout.addLayout(buttons)
        self.status_label = plain_label(parent=self)
        layout.addWidget(self.status_label)

    def export(self, path: Path) -> bool:
        """Write the score to ``path`` (.xlsx or .html by its suffix); say how it went."""
        try:
            if path.suffix.lower() == ".xlsx":
                write_workbook(path, self.score)
            else:
                write_html(path, self.score)
        except OSError as exc:
            logger.warning("cannot write the score to %s: %s", path, exc)
            self.status_label.setText(
                self.tr("Cannot write {path}: {reason}").format(path=path, reason=exc.strerror)
            )
            return False
        self.status_label.setText(self.tr("Saved to {path}.").format(path=path))
        return True

    def _ask_xlsx(self) -> None:
        self._ask(".xlsx", self.tr("Excel workbook (*.xlsx)"))

    def _ask_html(self) -> None:
        self._ask(".html", self.tr("Web page (*.html)"))

    def _ask(self, suffix: str, kinds: str) -> None:
        suggested = f"{self.score.run_id}{suffix}"
        chosen, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export the score"), suggested, kinds
        )
        if chosen:
            path = Path(chosen)
            self.export(path if path.suffix else path.with_suffix(suffix))
