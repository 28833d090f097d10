"""The quantified assessment (量化考核) in the console: the Reports menu's dialog.

Pick a month or a quarter and rows by jurisdiction or by agency, ask the server
(``report.assessment``: it scopes the answer to the user's area and agency, and refuses
roles without the right), see the ranked table, and export it to the same Excel workbook
``dutydesk report assessment --xlsx`` writes (:mod:`realtime.assessment_book`). The menu
item is enabled for supervisors and administrators as a courtesy; the server decides.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.assessment_book import COLUMNS, Lang, table_cells, title_lines, write_workbook
from realtime.protocol import (
    AssessmentBy,
    AssessmentResult,
    GetAssessment,
    ResultData,
    Role,
    Welcome,
)

logger = logging.getLogger(__name__)

ASSESSMENT_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
"""Who the menu item is enabled for (the server's permission table decides)."""


def previous_month(today: dt.date) -> tuple[int, int]:
    """The month before ``today``'s: the one a monthly assessment is usually about."""
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def console_lang() -> Lang:
    """The workbook's and the table's headings follow the console's language."""
    return "zh" if QLocale().language() is QLocale.Language.Chinese else "en"


class AssessmentDialog(QDialog):
    """Month/quarter picker, grouping, area, the ranked table and the Excel export."""

    exported = Signal(str)
    """The path of a workbook just written."""

    def __init__(self, service: ConsoleService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assessment_dialog")
        self.setWindowTitle(self.tr("Assessment"))
        self.resize(1100, 520)
        self._service = service
        self.assessment: AssessmentResult | None = None
        self._export: asyncio.Task[None] | None = None
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_options())
        self.title_label = plain_label(parent=self)
        layout.addWidget(self.title_label)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("assessment_table")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setHorizontalHeaderLabels([column.heading(console_lang()) for column in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.table)
        self.message_label = plain_label(parent=self)
        self.message_label.setObjectName("assessment_message")
        layout.addWidget(self.message_label)
        layout.addLayout(self._build_buttons())

    def _build_options(self) -> QFormLayout:
        form = QFormLayout()
        period_row = QHBoxLayout()
        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName("assessment_kind")
        self.kind_combo.addItem(self.tr("Month"), "month")
        self.kind_combo.addItem(self.tr("Quarter"), "quarter")
        self.year_spin = QSpinBox(self)
        self.year_spin.setObjectName("assessment_year")
        self.year_spin.setRange(2000, 2100)
        self.number_spin = QSpinBox(self)
        self.number_spin.setObjectName("assessment_number")
        year, month = previous_month(dt.datetime.now(texts.DISPLAY_TIMEZONE).date())
        self.year_spin.setValue(year)
        self.number_spin.setRange(1, 12)
        self.number_spin.setValue(month)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        for widget in (self.kind_combo, self.year_spin, self.number_spin):
            period_row.addWidget(widget)
        period_row.addStretch(1)
        form.addRow(self.tr("Period"), period_row)
        self.by_combo = QComboBox(self)
        self.by_combo.setObjectName("assessment_by")
        self.by_combo.addItem(self.tr("By jurisdiction"), AssessmentBy.JURISDICTION.value)
        self.by_combo.addItem(self.tr("By agency"), AssessmentBy.AGENCY.value)
        form.addRow(self.tr("Rows"), self.by_combo)
        self.under_edit = QLineEdit(self)
        self.under_edit.setObjectName("assessment_under")
        self.under_edit.setMaxLength(32)
        self.under_edit.setPlaceholderText(self.tr("your own area"))
        form.addRow(self.tr("Jurisdiction code"), self.under_edit)
        return form

    def _build_buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        self.query_button = QPushButton(self.tr("Show"), self)
        self.query_button.setObjectName("assessment_query")
        self.query_button.clicked.connect(self.refresh)
        self.export_button = QPushButton(self.tr("Export to Excel…"), self)
        self.export_button.setObjectName("assessment_export")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._choose_file)
        close = QPushButton(self.tr("Close"), self)
        close.clicked.connect(self.reject)
        buttons.addWidget(self.query_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        return buttons

    def _on_kind_changed(self) -> None:
        quarters = self.kind_combo.currentData() == "quarter"
        self.number_spin.setRange(1, 4 if quarters else 12)

    def period(self) -> str:
        """The period picked, as the protocol writes it (``2026-11``, ``2026Q4``)."""
        year, number = self.year_spin.value(), self.number_spin.value()
        if self.kind_combo.currentData() == "quarter":
            return f"{year:04d}Q{number}"
        return f"{year:04d}-{number:02d}"

    def command(self) -> GetAssessment:
        """The request the picked options make."""
        return GetAssessment(
            req="",
            period=self.period(),
            by=AssessmentBy(self.by_combo.currentData()),
            under=self.under_edit.text().strip(),
        )

    def refresh(self) -> None:
        """Ask the server for the assessment the options describe."""
        self.message_label.setText(self.tr("Loading…"))
        self.query_button.setEnabled(False)
        self._service.query(self.command(), self._on_result, self._on_error, timeout=60.0)

    def show_result(self, result: AssessmentResult) -> None:
        """Fill the table (names shown literally: they come from outside)."""
        self.assessment = result
        lang = console_lang()
        title, span = title_lines(result, lang)
        self.title_label.setText(f"{title}\n{span}")
        cells = table_cells(result, lang)
        self.table.setColumnCount(len(cells[0]))
        self.table.setHorizontalHeaderLabels(cells[0])
        self.table.setRowCount(len(result.rows))
        for row_index, line in enumerate(cells[1:]):
            for column_index, text in enumerate(line):
                item = QTableWidgetItem(text)
                if column_index >= len(COLUMNS) or COLUMNS[column_index].number_format:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row_index, column_index, item)
        self.table.resizeColumnsToContents()
        self.export_button.setEnabled(bool(result.rows))
        self.message_label.setText(self.tr("{count} rows").format(count=len(result.rows)))

    def _on_result(self, result: ResultData) -> None:
        self.query_button.setEnabled(True)
        if isinstance(result, AssessmentResult):
            self.show_result(result)

    def _on_error(self, code: str, message: str) -> None:
        self.query_button.setEnabled(True)
        logger.info("assessment refused: %s %s", code, message)
        self.message_label.setText(f"{texts.error_summary(code)} ({message})")

    def _choose_file(self) -> None:
        if self.assessment is None:
            return
        suggested = f"{self.tr('Assessment')} {self.assessment.period}.xlsx"
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export to Excel"), suggested, self.tr("Excel workbook (*.xlsx)")
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> asyncio.Task[None]:
        """Write the shown assessment to ``path`` off the GUI thread; report when done."""
        if self.assessment is None:
            raise ValueError("nothing to export: show an assessment first")
        self.message_label.setText(self.tr("Writing {path}…").format(path=path.name))
        self._export = asyncio.get_running_loop().create_task(
            self._write(path, self.assessment, console_lang())
        )
        return self._export

    async def _write(self, path: Path, result: AssessmentResult, lang: Lang) -> None:
        try:
            await asyncio.to_thread(write_workbook, path, [result], lang)
        except OSError as exc:
            logger.warning("cannot write the assessment to %s: %s", path, exc)
            self.message_label.setText(
                self.tr("Cannot write {path}: {reason}").format(
                    path=path.name, reason=exc.strerror or str(exc)
                )
            )
            return
        self.message_label.setText(self.tr("Written: {path}").format(path=path))
        self.exported.emit(str(path))


class AssessmentAction(QObject):
    """The Reports menu with "Assessment…" (量化考核…), enabled for supervisors and admins."""

    def __init__(self, window: QMainWindow, service: ConsoleService) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self.dialog: AssessmentDialog | None = None
        self.action = QAction(QCoreApplication.translate("MainWindow", "Assessment…"), window)
        self.action.setObjectName("assessment_action")
        self.action.triggered.connect(self.open)
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&Reports"))
        menu.addAction(self.action)
        self._on_welcome(None)
        service.welcomed.connect(self._on_welcome)

    def _on_welcome(self, _welcome: Welcome | None) -> None:
        user = self._service.user
        self.action.setEnabled(user is not None and user.role in ASSESSMENT_ROLES)

    def open(self) -> AssessmentDialog:
        """Show the dialog (it asks when the officer presses Show)."""
        if self.dialog is None:
            self.dialog = AssessmentDialog(self._service, self._window)
        self.dialog.show()
        return self.dialog
