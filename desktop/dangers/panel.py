"""The 隐患 board: hidden dangers filtered by state, grade and enterprise (overdue rows
highlighted), the one selected with its history and photos and the actions the role may
take; inspections; statistics with the ranking and the Excel export.

An enterprise user's board (``enterprise`` set) shows its own dangers and inspections,
reports with photos, starts and completes; the server holds the scope either way.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.dangers.forms import InspectionForm, ReportForm, StepForm
from desktop.dangers.labels import (
    action_label,
    category_label,
    grade_label,
    group_label,
    rung_label,
    source_label,
    state_label,
)
from desktop.dangers.state import BoardFilter, DangerBoard, actions_for, late_now
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.protocol import (
    MAX_UPLOAD_CHUNK_BYTES,
    ActOnDanger,
    DangerAction,
    DangerExport,
    DangerGrade,
    DangerGroup,
    DangerResult,
    DangersResult,
    DangerState,
    DangerStatsResult,
    Event,
    ExportDangers,
    GetDanger,
    GetDangerStats,
    HiddenDangerView,
    InspectionResult,
    InspectionsResult,
    ListDangers,
    ListInspections,
    RecordInspection,
    ReportDanger,
    ResultData,
    Role,
    UploadAttachment,
    UserInfo,
)

logger = logging.getLogger(__name__)

LATE_BRUSH = QBrush(QColor("#ffd7d5"))
"""The background of an overdue danger's row."""
PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
PHOTO_TYPES[".webp"] = "image/webp"


def _when(at: dt.datetime | None) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M") if at is not None else ""


class DangerBoardPanel(QWidget):
    """The board (see the module)."""

    message = Signal(str, bool)
    """(text, is an error) for the window's notification bar."""
    listed = Signal()
    """The dangers were read afresh."""

    def __init__(
        self, service: ConsoleService, parent: QWidget | None = None, *, enterprise: str = ""
    ) -> None:
        super().__init__(parent)
        self.setObjectName("danger_board")
        self._service = service
        self.enterprise = enterprise
        """The enterprise of an enterprise user's board ("" for the bureau's)."""
        self.role: Role | None = Role.ENTERPRISE if enterprise else None
        self.board = DangerBoard()
        self.selected: HiddenDangerView | None = None
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._dangers_tab(), self.tr("Hidden dangers"))
        self.tabs.addTab(self._inspections_tab(), self.tr("Inspections"))
        self.stats_tab = self._stats_tab()
        if not enterprise:
            self.tabs.addTab(self.stats_tab, self.tr("Statistics"))
        else:
            # Not a tab of an enterprise's board: left shown, it floated over the tabs.
            self.stats_tab.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs)
        service.event_received.connect(self.on_event)

    # ------------------------------------------------------------------ layout

    def _dangers_tab(self) -> QWidget:
        tab = QWidget(self)
        self.state_filter = QComboBox(tab)
        self.state_filter.addItem(self.tr("All states"), None)
        for state in DangerState:
            self.state_filter.addItem(state_label(state), state)
        self.grade_filter = QComboBox(tab)
        self.grade_filter.addItem(self.tr("All grades"), None)
        for grade in DangerGrade:
            self.grade_filter.addItem(grade_label(grade), grade)
        self.enterprise_filter = QLineEdit(tab)
        self.enterprise_filter.setPlaceholderText(self.tr("Enterprise"))
        self.enterprise_filter.setVisible(not self.enterprise)
        self.overdue_only = QCheckBox(self.tr("Overdue only"), tab)
        for signal in (
            self.state_filter.currentIndexChanged,
            self.grade_filter.currentIndexChanged,
            self.enterprise_filter.textChanged,
            self.overdue_only.toggled,
        ):
            signal.connect(self.show_rows)
        self.report_button = QPushButton(self.tr("Report…"), tab)
        self.report_button.clicked.connect(self.open_report)
        refresh = QPushButton(self.tr("Refresh"), tab)
        refresh.clicked.connect(self.reload)
        filters = QHBoxLayout()
        for widget in (
            self.state_filter,
            self.grade_filter,
            self.enterprise_filter,
            self.overdue_only,
        ):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.report_button)
        filters.addWidget(refresh)
        self.table = QTableWidget(0, 8, tab)
        self.table.setObjectName("danger_table")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("No."),
                self.tr("Enterprise"),
                self.tr("Category"),
                self.tr("Grade"),
                self.tr("State"),
                self.tr("Place"),
                self.tr("Deadline"),
                self.tr("Escalated to"),
            ]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.detail = QTextBrowser(tab)
        self.detail.setObjectName("danger_detail")
        self.action_row = QHBoxLayout()
        self.action_buttons: dict[DangerAction, QPushButton] = {}
        for action in DangerAction:
            button = QPushButton(action_label(action), tab)
            button.setObjectName(f"danger_{action.value}")
            button.clicked.connect(lambda _c=False, a=action: self.take(a))
            self.action_buttons[action] = button
            self.action_row.addWidget(button)
        self.photo_button = QPushButton(self.tr("Add photo…"), tab)
        self.photo_button.clicked.connect(self._add_photos)
        self.action_row.addWidget(self.photo_button)
        self.action_row.addStretch(1)
        self.status = plain_label(parent=tab)
        layout = QVBoxLayout(tab)
        layout.addLayout(filters)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.detail, 2)
        layout.addLayout(self.action_row)
        layout.addWidget(self.status)
        self._show_actions()
        return tab

    def _inspections_tab(self) -> QWidget:
        tab = QWidget(self)
        self.inspections = QTableWidget(0, 5, tab)
        self.inspections.setObjectName("inspection_table")
        self.inspections.setHorizontalHeaderLabels(
            [
                self.tr("Enterprise"),
                self.tr("Inspected at"),
                self.tr("Inspectors"),
                self.tr("Hidden dangers found"),
                self.tr("Summary"),
            ]
        )
        self.inspections.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.inspections.horizontalHeader().setStretchLastSection(True)
        self.inspect_button = QPushButton(self.tr("Record an inspection…"), tab)
        self.inspect_button.clicked.connect(self.open_inspection)
        self.inspect_button.setVisible(not self.enterprise)
        layout = QVBoxLayout(tab)
        layout.addWidget(self.inspections)
        layout.addWidget(self.inspect_button)
        return tab

    def _stats_tab(self) -> QWidget:
        tab = QWidget(self)
        self.group = QComboBox(tab)
        for group in DangerGroup:
            self.group.addItem(group_label(group), group)
        self.group.currentIndexChanged.connect(self.reload_stats)
        export = QPushButton(self.tr("Export to Excel…"), tab)
        export.clicked.connect(self.export)
        row = QHBoxLayout()
        row.addWidget(self.group)
        row.addStretch(1)
        row.addWidget(export)
        self.stats = QTableWidget(0, 9, tab)
        self.stats.setObjectName("danger_stats_table")
        self.stats.setHorizontalHeaderLabels(
            [
                self.tr("Rank"),
                self.tr("Name"),
                self.tr("Total"),
                self.tr("Major"),
                self.tr("Open"),
                self.tr("Overdue"),
                self.tr("Rectified"),
                self.tr("Rectification rate"),
                self.tr("On-time rate"),
            ]
        )
        self.stats.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(tab)
        layout.addLayout(row)
        layout.addWidget(self.stats)
        return tab

    # ------------------------------------------------------------------ data

    def on_welcome(self, user: UserInfo) -> None:
        """Know the role (which buttons show) and load."""
        self.role = user.role
        self.inspect_button.setEnabled(user.role in {Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
        self.report_button.setEnabled(
            user.role in {Role.OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.ENTERPRISE}
        )
        self.reload()

    def reload(self) -> None:
        """Fetch the dangers, the inspections and (the bureau's) statistics."""
        self._service.query(ListDangers(req="", limit=500), self._listed, self._failed)
        self._service.query(ListInspections(req=""), self._inspections_listed, self._failed)
        if not self.enterprise:
            self.reload_stats()

    def reload_stats(self) -> None:
        """Fetch the statistics of the chosen grouping."""
        group = self.group.currentData()
        self._service.query(GetDangerStats(req="", group=group), self._stats_listed, self._failed)

    def on_event(self, event: Event) -> None:
        """A danger changed somewhere in scope: show it."""
        if isinstance(event.danger, HiddenDangerView) and self.board.apply(event.danger):
            self.show_rows()
        if event.kind == "inspection.recorded":
            self._service.query(ListInspections(req=""), self._inspections_listed, self._failed)

    def _listed(self, result: ResultData) -> None:
        if isinstance(result, DangersResult):
            self.board.replace(result.dangers)
            self.show_rows()
            self.table.resizeColumnsToContents()
            self.listed.emit()
            self.status.setText(self.tr("{n} hidden dangers").format(n=result.total))

    def _failed(self, code: str, message: str) -> None:
        logger.info("hidden dangers: %s %s", code, message)
        self.status.setText(message)
        self.message.emit(message, True)

    def show_rows(self) -> None:
        """Fill the table from the board through the filter."""
        spec = BoardFilter(
            state=self.state_filter.currentData(),
            grade=self.grade_filter.currentData(),
            enterprise=self.enterprise_filter.text(),
            overdue_only=self.overdue_only.isChecked(),
        )
        rows = self.board.shown(spec)
        now = dt.datetime.now(dt.UTC)
        self.table.setRowCount(len(rows))
        for r, danger in enumerate(rows):
            cells = (
                str(danger.id),
                danger.enterprise_name or danger.enterprise,
                category_label(danger.category),
                grade_label(danger.grade),
                state_label(danger.state),
                danger.place,
                _when(danger.deadline),
                rung_label(danger.escalated_to),
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(256, danger.id)
                if late_now(danger, now):
                    item.setBackground(LATE_BRUSH)
                self.table.setItem(r, c, item)
        if self.selected is not None:
            self.selected = self.board.dangers.get(self.selected.id, self.selected)
            self._show_detail()

    def _on_selection(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        danger = self.board.dangers.get(int(items[0].data(256)))
        self.selected = danger
        self._show_detail()
        if danger is not None:
            self._service.query(GetDanger(req="", danger_id=danger.id), self._got, self._failed)

    def _got(self, result: ResultData) -> None:
        if isinstance(result, DangerResult):
            self.board.apply(result.danger)
            if self.selected is not None and self.selected.id == result.danger.id:
                self.selected = result.danger
                self._show_detail()

    def _show_detail(self) -> None:
        d = self.selected
        self._show_actions()
        if d is None:
            self.detail.clear()
            return
        # Every value is the reporter's text: escaped, so it shows literally, never as markup.
        head = f"{d.enterprise_name} · {grade_label(d.grade)} · {state_label(d.state)}"
        lines = [
            f"{category_label(d.category)} · {source_label(d.source)} · {d.place}",
            d.description,
            self.tr("Measures: {m}").format(m=d.measures) if d.measures else "",
            self.tr("Deadline: {d}").format(d=_when(d.deadline)) if d.deadline else "",
            self.tr("Responsible: {n} {p}").format(n=d.responsible_name, p=d.responsible_phone)
            if d.responsible_name
            else "",
            self.tr("Photos: {n}").format(n=len(d.photos)) if d.photos else "",
        ]
        history = [
            f"{_when(s.at)} {s.actor} {action_label(s.action)} → {state_label(s.state)}"
            + (f"：{s.note}" if s.note and s.action != "escalate" else "")
            for s in d.history
        ]
        self.detail.setHtml(
            f"<b>{html.escape(head)}</b><br>"
            + "<br>".join(html.escape(line) for line in lines if line)
            + "<hr>"
            + "<br>".join(html.escape(line) for line in history)
        )

    def _show_actions(self) -> None:
        allowed = set(actions_for(self.role, self.selected))
        for action, button in self.action_buttons.items():
            button.setVisible(action in allowed)
        self.photo_button.setVisible(
            self.selected is not None
            and self.selected.state is not DangerState.VERIFIED
            and self.role in {Role.OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.ENTERPRISE}
        )

    def _inspections_listed(self, result: ResultData) -> None:
        if not isinstance(result, InspectionsResult):
            return
        rows = result.inspections
        self.inspections.setRowCount(len(rows))
        for r, i in enumerate(rows):
            cells = (
                i.enterprise_name or i.enterprise,
                _when(i.inspected_at),
                "、".join(i.inspectors),
                str(len(i.dangers)),
                i.summary,
            )
            for c, text in enumerate(cells):
                self.inspections.setItem(r, c, QTableWidgetItem(text))

    def _stats_listed(self, result: ResultData) -> None:
        if not isinstance(result, DangerStatsResult):
            return
        self.stats.setRowCount(len(result.rows))
        for r, row in enumerate(result.rows):
            cells = (
                str(row.rank),
                row.name,
                str(row.total),
                str(row.major),
                str(row.open),
                str(row.overdue),
                str(row.rectified),
                f"{row.rectification_rate:.0%}",
                f"{row.on_time_rate:.0%}",
            )
            for c, text in enumerate(cells):
                self.stats.setItem(r, c, QTableWidgetItem(text))
        self.stats.resizeColumnsToContents()

    # ------------------------------------------------------------------ actions

    def open_report(self) -> None:
        """Report a hidden danger (with photos)."""
        form = ReportForm(self.enterprise, self)
        if form.exec() == QDialog.DialogCode.Accepted:
            self.report(form)

    def report(self, form: ReportForm) -> None:
        """Send a filled report form; its photos follow once the danger exists."""
        paths = list(form.photo_paths)

        def reported(result: ResultData) -> None:
            if isinstance(result, DangerResult):
                self.board.apply(result.danger)
                self.show_rows()
                self.message.emit(self.tr("Hidden danger reported"), False)
                for path in paths:
                    self.upload_photo(result.danger.id, Path(path))

        self._service.query(ReportDanger(req="", danger=form.value()), reported, self._failed)

    def take(self, action: DangerAction, fields: dict[str, object] | None = None) -> None:
        """Take ``action`` on the selected danger (asking what it needs first)."""
        danger = self.selected
        if danger is None:
            return
        if fields is None:
            fields = {}
            if action in {DangerAction.ASSIGN, DangerAction.REJECT, DangerAction.SUPERVISE}:
                form = StepForm(action, self)
                if form.exec() != QDialog.DialogCode.Accepted:
                    return
                fields = form.fields()
        command = ActOnDanger(
            req="",
            danger_id=danger.id,
            version=danger.version,
            action=action,
            **fields,  # type: ignore[arg-type]
        )
        self._service.query(command, self._got_and_shown, self._failed)

    def _got_and_shown(self, result: ResultData) -> None:
        self._got(result)
        self.show_rows()

    def _add_photos(self) -> None:
        if self.selected is None:
            return
        paths, _filter = QFileDialog.getOpenFileNames(
            self, self.tr("Photos"), "", self.tr("Pictures (*.jpg *.jpeg *.png *.webp)")
        )
        for path in paths:
            self.upload_photo(self.selected.id, Path(path))

    def upload_photo(self, danger_id: int, path: Path) -> None:
        """Upload one photo of a danger in chunks (the server checks what the bytes are)."""
        content_type = PHOTO_TYPES.get(path.suffix.lower())
        try:
            data = path.read_bytes()
        except OSError as exc:
            self._failed("io", str(exc))
            return
        if content_type is None:
            self._failed("validation", self.tr("Not a picture: {name}").format(name=path.name))
            return
        upload_id = uuid.uuid4().hex
        chunks = [
            data[i : i + MAX_UPLOAD_CHUNK_BYTES]
            for i in range(0, max(len(data), 1), MAX_UPLOAD_CHUNK_BYTES)
        ]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            command = UploadAttachment(
                req="",
                upload_id=upload_id,
                danger_id=danger_id,
                filename=path.name,
                content_type=content_type,
                offset=n * MAX_UPLOAD_CHUNK_BYTES,
                data=chunk,
                final=last,
            )
            done = self._photo_stored(danger_id) if last else (lambda _result: None)
            self._service.query(command, done, self._failed)

    def _photo_stored(self, danger_id: int) -> Callable[[ResultData], None]:
        def stored(_result: ResultData) -> None:
            self.message.emit(self.tr("Photo stored"), False)
            self._service.query(GetDanger(req="", danger_id=danger_id), self._got, self._failed)

        return stored

    def open_inspection(self) -> None:
        """Record an inspection and its findings."""
        form = InspectionForm(self)
        if form.exec() == QDialog.DialogCode.Accepted:
            self.record_inspection(form)

    def record_inspection(self, form: InspectionForm) -> None:
        """Send a filled inspection form."""

        def recorded(result: ResultData) -> None:
            if isinstance(result, InspectionResult):
                for danger in result.dangers:
                    self.board.apply(danger)
                self.show_rows()
                self.message.emit(self.tr("Inspection recorded"), False)

        self._service.query(
            RecordInspection(req="", inspection=form.value()), recorded, self._failed
        )

    def export(self) -> None:
        """Ask for the workbook and save it where the user says."""

        def exported(result: ResultData) -> None:
            if not isinstance(result, DangerExport):
                return
            name, _filter = QFileDialog.getSaveFileName(
                self, self.tr("Export to Excel"), result.filename, "Excel (*.xlsx)"
            )
            if name:
                self.save_export(Path(name), result.content)

        self._service.query(ExportDangers(req=""), exported, self._failed)

    def save_export(self, path: Path, content: bytes) -> None:
        """Write the workbook."""
        try:
            path.write_bytes(content)
        except OSError as exc:
            self._failed("io", str(exc))
            return
        self.message.emit(self.tr("Saved {name}").format(name=path.name), False)
