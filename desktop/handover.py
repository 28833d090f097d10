"""The shift handover dialog (交接班) and the duty roster panel (值班表).

The dialog generates the desk's handover report, shows its sections (open alarms, open
incidents, overdue, escalated and supervised tasks), takes the outgoing officer's notes
and signature, lets the incoming officer accept with a remark, and lists past handovers
to view. The roster panel shows who is on duty now and next at each desk. Both are thin
Qt views over :class:`desktop.handover_state.HandoverDesk`; every rule (who signs, who
accepts, what is in scope) is the server's — the buttons only follow it as a courtesy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.handover_state import SECTIONS, DeskDuty, HandoverDesk
from desktop.incidents.labels import (
    incident_level_label,
    incident_state_label,
    rung_label,
    task_state_label,
)
from desktop.places import jurisdiction_name
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.incident_states import EscalationLevel, IncidentLevel, IncidentState, TaskState
from realtime.protocol import (
    AcceptHandover,
    DraftHandover,
    GetHandover,
    HandoverItem,
    HandoversResult,
    HandoverState,
    ListHandovers,
    ResultData,
    RosterToday,
    SignHandover,
)
from realtime.states import AlarmLevel, AlarmState

logger = logging.getLogger(__name__)

_E = TypeVar("_E")
ITEM_TITLE_COLUMN = 1
ITEM_DETAIL_COLUMN = 5
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def _section_title(section: str) -> str:
    titles = {
        "open_alarms": QCoreApplication.translate("Handover", "Open alarms"),
        "open_incidents": QCoreApplication.translate("Handover", "Open incidents"),
        "overdue_tasks": QCoreApplication.translate("Handover", "Overdue tasks"),
        "escalated_tasks": QCoreApplication.translate("Handover", "Escalated tasks"),
        "supervised_tasks": QCoreApplication.translate("Handover", "Supervised tasks"),
    }
    return titles[section]


def _state_label(state: HandoverState) -> str:
    labels = {
        HandoverState.DRAFT: QCoreApplication.translate("Handover", "draft"),
        HandoverState.SIGNED: QCoreApplication.translate("Handover", "signed"),
        HandoverState.ACCEPTED: QCoreApplication.translate("Handover", "accepted"),
    }
    return labels[state]


def _named(value: str, kind: Callable[[str], _E], label: Callable[[_E], str]) -> str:
    """The officer's name for a code the report carries; an unknown code as it is."""
    try:
        return label(kind(value))
    except ValueError:
        return value


def item_cells(item: HandoverItem) -> list[str]:
    """One report item as the officer reads it: states, levels, rungs and alarm types by
    their names, not the server's codes (the report keeps the codes as they were)."""
    state, level, detail = item.state, item.level, item.detail
    if item.kind == "alarm":
        state = _named(state, AlarmState, texts.state_label)
        level = _named(level, AlarmLevel, texts.level_label)
        detail = texts.alarm_type_label(detail) if detail else ""
    elif item.kind == "incident":
        state = _named(state, IncidentState, incident_state_label)
        level = _named(level, IncidentLevel, incident_level_label)
    elif item.kind == "task":
        state = _named(state, TaskState, task_state_label)
        level = _named(level, EscalationLevel, rung_label)
    return [
        f"#{item.id}",
        item.title,
        state,
        level,
        jurisdiction_name(item.jurisdiction),
        detail,
        texts.format_time(item.due_at) if item.due_at is not None else "",
    ]


def desk_label(duty: DeskDuty) -> str:
    """A roster desk by name: its area (全辖区 for the whole area) and its agency."""
    area = jurisdiction_name(duty.jurisdiction) or QCoreApplication.translate(
        "Handover", "Whole area"
    )
    return f"{area} / {texts.agency_label(duty.agency)}" if duty.agency else area


class _DeskTableModel(QAbstractTableModel):
    """A read-only table of the desk's rows: one header and one text cell per column,
    reset whenever the desk changes."""

    def __init__(self, desk: HandoverDesk, headers: list[str], parent: QObject | None) -> None:
        super().__init__(parent)
        self._desk = desk
        self._headers = headers
        desk.subscribe(self._reset)

    def _reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def _row_count(self) -> int:
        raise NotImplementedError

    def _cells(self, row: int) -> list[str]:
        raise NotImplementedError

    def rowCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else self._row_count()

    def columnCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._headers)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> str | None:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        return self._cells(index.row())[index.column()]


class HandoverItemsModel(_DeskTableModel):
    """The items of one report section."""

    def __init__(self, desk: HandoverDesk, section: str, parent: QObject | None = None) -> None:
        self._section = section
        headers = [
            QCoreApplication.translate("Handover", "No."),
            QCoreApplication.translate("Handover", "Title"),
            QCoreApplication.translate("Handover", "State"),
            QCoreApplication.translate("Handover", "Level"),
            QCoreApplication.translate("Handover", "Area"),
            QCoreApplication.translate("Handover", "Detail"),
            QCoreApplication.translate("Handover", "Due"),
        ]
        super().__init__(desk, headers, parent)

    def _row_count(self) -> int:
        return len(self._desk.items(self._section))

    def _cells(self, row: int) -> list[str]:
        return item_cells(self._desk.items(self._section)[row])


class RosterModel(_DeskTableModel):
    """Today's duty: desk, 带班领导, 值班员, shift times."""

    def __init__(self, desk: HandoverDesk, parent: QObject | None = None) -> None:
        headers = [
            QCoreApplication.translate("Handover", "Desk"),
            QCoreApplication.translate("Handover", "Leader on duty"),
            QCoreApplication.translate("Handover", "Officers on duty"),
            QCoreApplication.translate("Handover", "Shift"),
            QCoreApplication.translate("Handover", "Now"),
        ]
        super().__init__(desk, headers, parent)

    def _row_count(self) -> int:
        return len(self._desk.duties())

    def _cells(self, row: int) -> list[str]:
        duty = self._desk.duties()[row]
        return [
            desk_label(duty),
            "、".join(duty.leaders),
            "、".join(duty.officers),
            f"{texts.format_time(duty.start)} – {texts.format_time(duty.end)}",
            QCoreApplication.translate("Handover", "on duty") if duty.on_duty else "",
        ]


def _fit_item_columns(view: QTableView) -> None:
    """Codes, states and times as wide as they are; the title and the detail (free text
    of any length) share the rest, so that a title is not cut to a few characters."""
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    for column in (ITEM_TITLE_COLUMN, ITEM_DETAIL_COLUMN):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)


class HandoverDialog(QDialog):
    """Generate, review, sign and accept the desk's handover; view past ones."""

    def __init__(
        self, service: ConsoleService, desk: HandoverDesk, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("handover_dialog")
        self.setWindowTitle(self.tr("Shift handover"))
        self.resize(900, 560)
        self._service = service
        self.desk = desk
        layout = QHBoxLayout(self)
        side = QVBoxLayout()
        side.addWidget(QLabel(self.tr("Past handovers"), self))
        self.history_list = QListWidget(self)
        self.history_list.setObjectName("handover_history")
        self.history_list.itemActivated.connect(self._open_history_item)
        self.history_list.itemClicked.connect(self._open_history_item)
        side.addWidget(self.history_list)
        layout.addLayout(side, 1)

        main = QVBoxLayout()
        self.summary_label = plain_label(parent=self)
        self.summary_label.setObjectName("handover_summary")
        main.addWidget(self.summary_label)
        self.tabs = QTabWidget(self)
        self.section_views: dict[str, QTableView] = {}
        for section in SECTIONS:
            view = QTableView(self)
            view.setObjectName(f"handover_{section}")
            view.setModel(HandoverItemsModel(desk, section, view))
            _fit_item_columns(view)
            self.tabs.addTab(view, _section_title(section))
            self.section_views[section] = view
        main.addWidget(self.tabs, 3)
        main.addWidget(QLabel(self.tr("Notes for the incoming shift"), self))
        self.notes_edit = QPlainTextEdit(self)
        self.notes_edit.setObjectName("handover_notes")
        main.addWidget(self.notes_edit, 1)
        self.remark_edit = QLineEdit(self)
        self.remark_edit.setObjectName("handover_remark")
        self.remark_edit.setPlaceholderText(self.tr("Remark on accepting (optional)"))
        main.addWidget(self.remark_edit)
        main.addLayout(self._build_buttons())
        self.message_label = plain_label(parent=self)
        self.message_label.setObjectName("handover_message")
        main.addWidget(self.message_label)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        main.addWidget(close)
        layout.addLayout(main, 3)
        desk.subscribe(self._show)
        self._show()

    def _build_buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        self.draft_button = QPushButton(self.tr("Generate report"), self)
        self.draft_button.setObjectName("handover_draft")
        self.draft_button.clicked.connect(self.draft)
        self.sign_button = QPushButton(self.tr("Sign and hand over"), self)
        self.sign_button.setObjectName("handover_sign")
        self.sign_button.clicked.connect(self.sign)
        self.accept_button = QPushButton(self.tr("Accept the shift"), self)
        self.accept_button.setObjectName("handover_accept")
        self.accept_button.clicked.connect(self.accept_handover)
        for button in (self.draft_button, self.sign_button, self.accept_button):
            buttons.addWidget(button)
        return buttons

    # ------------------------------------------------------------------ commands

    def refresh(self) -> None:
        """Load the desk's history."""
        self._ask(ListHandovers(req=""))

    def draft(self) -> None:
        """Generate the report of the shift now ending."""
        self._ask(DraftHandover(req="", notes=self.notes_edit.toPlainText()))

    def sign(self) -> None:
        """Sign the handover on screen with the notes as they are now."""
        if self.desk.current is not None:
            self._ask(
                SignHandover(
                    req="",
                    handover_id=self.desk.current.id,
                    notes=self.notes_edit.toPlainText(),
                )
            )

    def accept_handover(self) -> None:
        """Accept the signed handover on screen."""
        if self.desk.current is not None:
            self._ask(
                AcceptHandover(
                    req="", handover_id=self.desk.current.id, remark=self.remark_edit.text()
                )
            )

    def open_handover(self, handover_id: int) -> None:
        """Show a past handover with its report."""
        self._ask(GetHandover(req="", handover_id=handover_id))

    def _open_history_item(self, item: QListWidgetItem) -> None:
        self.open_handover(int(item.data(Qt.ItemDataRole.UserRole)))

    def _ask(
        self, command: DraftHandover | SignHandover | AcceptHandover | ListHandovers | GetHandover
    ) -> None:
        self.message_label.setText(self.tr("Working…"))
        self._service.query(command, self._on_result, self._on_error)

    def _on_result(self, result: ResultData) -> None:
        self.message_label.setText("")
        self.desk.apply(result)
        # The incoming officer opens the dialog to accept: the handover waiting for them
        # is shown at once, not after a click in the history.
        waiting = self.desk.awaiting_acceptance() if self.desk.current is None else None
        if isinstance(result, HandoversResult) and waiting is not None:
            self.open_handover(waiting.id)

    def _on_error(self, code: str, message: str) -> None:
        logger.info("handover command refused: %s %s", code, message)
        self.message_label.setText(f"{texts.error_summary(code)} {message}")

    # ------------------------------------------------------------------ showing

    def _show(self) -> None:
        desk = self.desk
        current = desk.current
        if current is None:
            self.summary_label.setText(self.tr("No handover on screen: generate the report."))
        else:
            parts = [
                self.tr("Handover #{id} ({state}) by {author}").format(
                    id=current.id, state=_state_label(current.state), author=current.author
                ),
                self.tr("shift {start} – {end}").format(
                    start=texts.format_time(current.shift_start),
                    end=texts.format_time(current.shift_end),
                ),
            ]
            if current.incoming:
                parts.append(self.tr("to {incoming}").format(incoming=current.incoming))
            if current.accepted_by:
                parts.append(
                    self.tr("accepted by {who} at {at}").format(
                        who=current.accepted_by,
                        at=texts.format_time(current.accepted_at)
                        if current.accepted_at is not None
                        else "",
                    )
                )
            self.summary_label.setText("，".join(parts))
            if current.state is not HandoverState.DRAFT:
                self.notes_edit.setPlainText(current.notes)
        self.notes_edit.setReadOnly(current is not None and not desk.can_sign)
        self.sign_button.setEnabled(desk.can_sign)
        self.accept_button.setEnabled(desk.can_accept)
        self.remark_edit.setEnabled(desk.can_accept)
        for index, section in enumerate(SECTIONS):
            self.tabs.setTabText(index, f"{_section_title(section)} ({desk.count(section)})")
        self.history_list.clear()
        for view in desk.history:
            item = QListWidgetItem(
                f"#{view.id} {texts.format_time(view.created_at)} {view.author} "
                f"{_state_label(view.state)}"
            )
            item.setData(Qt.ItemDataRole.UserRole, view.id)
            self.history_list.addItem(item)


class RosterPanel(QDialog):
    """Today's duty at the desks of the officer's area."""

    def __init__(
        self, service: ConsoleService, desk: HandoverDesk, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("roster_panel")
        self.setWindowTitle(self.tr("Duty roster"))
        self.resize(760, 320)
        self._service = service
        self.desk = desk
        layout = QVBoxLayout(self)
        self.table = QTableView(self)
        self.table.setObjectName("roster_table")
        self.table.setModel(RosterModel(desk, self.table))
        layout.addWidget(self.table)
        self.message_label = plain_label(parent=self)
        self.message_label.setObjectName("roster_message")
        layout.addWidget(self.message_label)
        buttons = QDialogButtonBox(self)
        refresh = buttons.addButton(self.tr("Refresh"), QDialogButtonBox.ButtonRole.ActionRole)
        refresh.clicked.connect(self.refresh)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def refresh(self) -> None:
        """Ask the server who is on duty."""
        self.message_label.setText(self.tr("Loading…"))
        self._service.query(RosterToday(req=""), self._on_result, self._on_error)

    def _on_result(self, result: ResultData) -> None:
        self.desk.apply(result)
        self.table.resizeColumnsToContents()
        if self.desk.roster:
            self.message_label.setText("")
        else:
            self.message_label.setText(self.tr("No one is on the roster today."))

    def _on_error(self, code: str, message: str) -> None:
        logger.info("roster refused: %s %s", code, message)
        self.message_label.setText(f"{texts.error_summary(code)} {message}")


class ShiftActions(QObject):
    """The "Shift" menu: "Shift handover…" and "Duty roster"."""

    def __init__(self, window: QMainWindow, service: ConsoleService) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self.desk = HandoverDesk()
        self.handover_dialog: HandoverDialog | None = None
        self.roster_panel: RosterPanel | None = None
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&Shift"))
        self.handover_action = QAction(
            QCoreApplication.translate("MainWindow", "Shift handover…"), window
        )
        self.handover_action.setObjectName("handover_action")
        self.handover_action.triggered.connect(self.open_handover)
        menu.addAction(self.handover_action)
        self.roster_action = QAction(
            QCoreApplication.translate("MainWindow", "Duty roster"), window
        )
        self.roster_action.setObjectName("roster_action")
        self.roster_action.triggered.connect(self.open_roster)
        menu.addAction(self.roster_action)

    def _user(self) -> None:
        user = self._service.user
        self.desk.username = user.username if user is not None else ""

    def open_handover(self) -> HandoverDialog:
        """Show the handover dialog (loading the desk's history afresh)."""
        self._user()
        if self.handover_dialog is None:
            self.handover_dialog = HandoverDialog(self._service, self.desk, self._window)
        self.handover_dialog.show()
        self.handover_dialog.refresh()
        return self.handover_dialog

    def open_roster(self) -> RosterPanel:
        """Show today's duty (loaded afresh)."""
        self._user()
        if self.roster_panel is None:
            self.roster_panel = RosterPanel(self._service, self.desk, self._window)
        self.roster_panel.show()
        self.roster_panel.refresh()
        return self.roster_panel
