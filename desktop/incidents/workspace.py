"""The incident workspace (事件工作台): one incident, its tasks with live countdowns, its
timeline and its chat.

Every action button is enabled only when it is legal now
(:func:`realtime.incident_states.allowed_incident_actions`,
:func:`~realtime.incident_states.allowed_task_actions`) and offered to this role; the
server decides anyway. Actions that need words (close: the feedback; flare up, decline,
return, finish) ask for them first. Commands go through the
:class:`~desktop.incidents.desk.IncidentDesk`.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.incidents.checklist import ChecklistPane
from desktop.incidents.decision import DecisionPane
from desktop.incidents.desk import IncidentDesk
from desktop.incidents.dialogs import (
    ChangeIncidentDialog,
    DeadlinesDialog,
    SendTaskDialog,
    SuperviseDialog,
    TextDialog,
)
from desktop.incidents.labels import (
    countdown_text,
    format_moment,
    incident_action_label,
    incident_level_label,
    incident_state_label,
    rung_label,
    task_action_label,
    task_state_label,
)
from desktop.incidents.recommend import RecommendPanel
from desktop.incidents.state import (
    BoardChange,
    commands_incidents,
    countdown,
    may_supervise,
    may_work_tasks,
    open_supervisions,
)
from desktop.places import jurisdiction_name
from desktop.plain_text import plain_label, plain_tooltip
from realtime.incident_states import (
    INCIDENT_NOTE_REQUIRED,
    SENDER_ACTIONS,
    TASK_NOTE_REQUIRED,
    AssigneeKind,
    IncidentAction,
    TaskAction,
    allowed_incident_actions,
    allowed_task_actions,
    task_is_open,
)
from realtime.protocol import AgencyView, Event, IncidentView, TaskView

logger = logging.getLogger(__name__)

CHAT_MODULE = "desktop.incidents.chat"
"""The chat panel's module, added by the chat work; a placeholder shows until it exists."""
OVERDUE_COLOUR = QColor("#c62828")
TASK_COLUMNS = 6
BUTTON_COLUMNS = 5
COUNTDOWN_COLUMN = 3


def assignee_text(task: TaskView) -> str:
    """Who works a task, in words (the agency's Chinese name from ``agencies.list``)."""
    if task.assignee_kind is AssigneeKind.AGENCY:
        name = texts.agency_label(task.assignee_ref)
    else:
        name = task.assignee_name or task.assignee_ref
    if task.assignee_kind is AssigneeKind.UNIT and task.agency:
        return f"{name} · {texts.agency_label(task.agency)}"
    return name


def task_details(task: TaskView) -> str:
    """A task's story for its tooltip: what was asked, the last word, the escalations and
    the supervision flags."""
    lines = [
        QCoreApplication.translate("Incidents", "Instructions: {text}").format(
            text=task.instructions or "—"
        )
    ]
    if task.last_note:
        lines.append(
            QCoreApplication.translate("Incidents", "Last note: {text}").format(text=task.last_note)
        )
    lines += [
        f"{texts.format_time(step.at)} ↑ {rung_label(step.to_level)} {step.note}".rstrip()
        for step in task.escalations
    ]
    for flag in task.supervisions:
        answer = f" → {flag.answer}" if flag.answered_at is not None else ""
        lines.append(
            QCoreApplication.translate("Incidents", "Supervision: {note}").format(note=flag.note)
            + answer
        )
    return "\n".join(lines)


def timeline_text(event: Event) -> str:
    """One line of the timeline: when, who, what, and the note."""
    what = texts.event_kind_label(event.kind)
    if isinstance(event.task, TaskView):
        what += f" · #{event.task.id} {assignee_text(event.task)} → "
        what += task_state_label(event.task.state)
    note = f" — {event.note}" if event.note else ""
    return f"{texts.format_time(event.at)}  {event.actor}  {what}{note}"


def fit_columns(table: QTableWidget, stretch: int) -> None:
    """Size a table's columns to their contents, the ``stretch`` column taking the rest."""
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def _add_to_grid(grid: QGridLayout, button: QPushButton) -> None:
    """Add a button in the next cell of a grid :data:`BUTTON_COLUMNS` wide (so the
    workspace fits beside the map)."""
    position = grid.count()
    grid.addWidget(button, position // BUTTON_COLUMNS, position % BUTTON_COLUMNS)


class IncidentWorkspace(QWidget):
    """Shows one incident and offers the actions legal now."""

    map_focus_requested = Signal(list)
    """Show these alarm ids on the map (the incident's alarms)."""

    def __init__(self, desk: IncidentDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("incident_workspace")
        self._desk = desk
        self._board = desk.board
        self._incident_id: int | None = None
        self.active_dialog: QDialog | None = None
        """The dialog an action opened and that is still showing (tests reach it here)."""
        self.agencies: dict[str, str] = {}
        """Agency code → Chinese name, for sending tasks."""

        layout = QVBoxLayout(self)
        # Plain text in bold: an incident's title is a peer's text, never markup.
        self.header_label = plain_label(parent=self)
        self.header_label.setObjectName("incident_header_label")
        header_font = self.header_label.font()
        header_font.setBold(True)
        self.header_label.setFont(header_font)
        self.header_label.setWordWrap(True)
        layout.addWidget(self.header_label)
        fields = QFormLayout()
        layout.addLayout(fields)
        self._fields: dict[str, QLabel] = {}
        for key, caption in (
            ("type", self.tr("Type:")),
            ("level", self.tr("Level:")),
            ("state", self.tr("State:")),
            ("commander", self.tr("Commander:")),
            ("jurisdiction", self.tr("Jurisdiction:")),
            ("reporter", self.tr("Reporter:")),
            ("place", self.tr("Place:")),
            ("opened", self.tr("Opened:")),
            ("alarms", self.tr("Alarms:")),
            ("feedback", self.tr("Feedback:")),
        ):
            label = plain_label(parent=self)
            label.setObjectName(f"incident_{key}_label")
            label.setWordWrap(True)
            fields.addRow(caption, label)
            self._fields[key] = label

        self._build_incident_buttons(layout)
        self._build_tabs(layout)
        self._board.changed.connect(self._on_board_change)
        self.refresh()

    def _build_incident_buttons(self, layout: QVBoxLayout) -> None:
        incident_buttons = QGridLayout()
        layout.addLayout(incident_buttons)
        self.incident_buttons: dict[IncidentAction, QPushButton] = {}
        for action in IncidentAction:
            button = QPushButton(incident_action_label(action), self)
            button.setObjectName(f"incident_{action.value}_button")
            button.clicked.connect(lambda _c=False, chosen=action: self.start_incident(chosen))
            _add_to_grid(incident_buttons, button)
            self.incident_buttons[action] = button
        self.change_button = self._button(incident_buttons, "change", self.tr("Level / commander…"))
        self.change_button.clicked.connect(self.start_change)
        self.send_button = self._button(incident_buttons, "send_task", self.tr("Send task…"))
        self.send_button.clicked.connect(self.start_send_task)
        self.map_button = self._button(incident_buttons, "map", self.tr("Show on map"))
        self.map_button.clicked.connect(self.focus_map)

    def _build_tabs(self, layout: QVBoxLayout) -> None:
        self.tabs = QTabWidget(self)
        layout.addWidget(self.tabs, 1)
        tasks_page = QWidget(self.tabs)
        self._build_task_page(tasks_page)
        self.tabs.addTab(tasks_page, self.tr("Tasks"))

        self.timeline_list = QListWidget(self.tabs)
        self.timeline_list.setObjectName("incident_timeline_list")
        self.tabs.addTab(self.timeline_list, self.tr("Timeline"))
        self.chat_panel: QWidget | None = None
        self.tabs.addTab(plain_label(self.tr("Chat is not available yet."), self.tabs), "")
        self.tabs.setTabText(2, self.tr("Chat"))
        self.recommend_panel = RecommendPanel(self._desk.service, lambda: self._incident_id)
        self.tabs.addTab(self.recommend_panel, self.tr("Resources"))
        # Decision support (辅助决策) asks for the incident shown when its tab is opened.
        self.decision_pane = DecisionPane(self._desk.service, lambda: self.incident, self.tabs)
        self.tabs.addTab(self.decision_pane, self.tr("Decision support"))

    def _build_task_page(self, tasks_page: QWidget) -> None:
        tasks_layout = QVBoxLayout(tasks_page)
        self.task_table = QTableWidget(0, TASK_COLUMNS, tasks_page)
        self.task_table.setObjectName("incident_task_table")
        self.task_table.setHorizontalHeaderLabels(
            [
                self.tr("No."),
                self.tr("Assignee"),
                self.tr("State"),
                self.tr("Deadline"),
                self.tr("Escalated to"),
                self.tr("Supervision"),
            ]
        )
        fit_columns(self.task_table, stretch=1)
        self.task_table.verticalHeader().hide()
        self.task_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.task_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.task_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.task_table.itemSelectionChanged.connect(self._update_task_buttons)
        tasks_layout.addWidget(self.task_table, 1)
        task_buttons = QGridLayout()
        tasks_layout.addLayout(task_buttons)
        self.task_buttons: dict[TaskAction, QPushButton] = {}
        for task_action in TaskAction:
            button = QPushButton(task_action_label(task_action), tasks_page)
            button.setObjectName(f"task_{task_action.value}_button")
            button.clicked.connect(lambda _c=False, chosen=task_action: self.start_task(chosen))
            _add_to_grid(task_buttons, button)
            self.task_buttons[task_action] = button
        self.deadlines_button = self._button(task_buttons, "deadlines", self.tr("Extend…"))
        self.deadlines_button.clicked.connect(self.start_deadlines)
        self.supervise_button = self._button(task_buttons, "supervise", self.tr("Supervise…"))
        self.supervise_button.clicked.connect(self.start_supervise)
        self.answer_button = self._button(task_buttons, "answer", self.tr("Answer supervision…"))
        self.answer_button.clicked.connect(self.start_answer)

    def set_agencies(self, agencies: list[AgencyView]) -> None:
        """Take the agencies' Chinese names (``agencies.list``) for sending tasks."""
        self.agencies = {agency.code: agency.name_zh for agency in agencies}

    def _button(self, layout: QGridLayout, name: str, text: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(f"incident_{name}_button")
        _add_to_grid(layout, button)
        return button

    # ------------------------------------------------------------------ showing

    @property
    def incident_id(self) -> int | None:
        """The incident shown."""
        return self._incident_id

    @property
    def incident(self) -> IncidentView | None:
        """The incident shown, as held now."""
        if self._incident_id is None:
            return None
        return self._board.incidents.get(self._incident_id)

    def show_incident(self, incident_id: int) -> None:
        """Show an incident; its tasks and timeline are read from the server."""
        if incident_id != self._incident_id:
            self._incident_id = incident_id
            self._install_chat(incident_id)
            self._install_checklist(incident_id)
        self._desk.load_incident(incident_id)
        self.refresh()
        self.decision_pane.follow()

    def _install_checklist(self, incident_id: int) -> None:
        """Put the plan checklist of this incident in its tab (the last one)."""
        old = self.tabs.findChild(ChecklistPane)
        if old is not None:
            old.discard()
            self.tabs.removeTab(self.tabs.indexOf(old))
            old.deleteLater()
        self.checklist_pane = ChecklistPane(self._desk.service, incident_id, self.tabs)
        self.tabs.addTab(self.checklist_pane, self.tr("Plan"))

    def _install_chat(self, incident_id: int) -> None:
        """Put the chat panel of this incident in its tab, if the chat module exists."""
        if importlib.util.find_spec(CHAT_MODULE) is None:
            return
        module = importlib.import_module(CHAT_MODULE)
        panel = module.ChatPanel(self._desk.service, incident_id)
        if not isinstance(panel, QWidget):
            return
        old = self.tabs.widget(2)
        self.tabs.removeTab(2)
        if old is not None:
            old.deleteLater()
        self.tabs.insertTab(2, panel, self.tr("Chat"))
        self.chat_panel = panel

    def field_text(self, key: str) -> str:
        """The text of one field (tests read it)."""
        return self._fields[key].text()

    def task_ids(self) -> list[int]:
        """The task ids in table order."""
        ids: list[int] = []
        for row in range(self.task_table.rowCount()):
            item = self.task_table.item(row, 0)
            if item is not None:
                ids.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return ids

    def task_cell(self, task_id: int, column: int) -> str:
        """The text of one cell of a task's row."""
        row = self.task_ids().index(task_id)
        item = self.task_table.item(row, column)
        return item.text() if item is not None else ""

    def select_task(self, task_id: int) -> bool:
        """Select a task's row."""
        if task_id not in self.task_ids():
            return False
        self.task_table.selectRow(self.task_ids().index(task_id))
        return True

    @property
    def selected_task(self) -> TaskView | None:
        """The task of the selected row, as held now."""
        rows = self.task_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.task_table.item(rows[0].row(), 0)
        if item is None:
            return None
        return self._board.tasks.get(int(item.data(Qt.ItemDataRole.UserRole)))

    def _on_board_change(self, change: BoardChange) -> None:
        if change.incident_id is None or change.incident_id == self._incident_id:
            self.refresh()

    def refresh(self) -> None:
        """Redraw the incident, its tasks and timeline from the board."""
        incident = self.incident
        if incident is None:
            self.header_label.setText(self.tr("No incident selected"))
            for label in self._fields.values():
                label.clear()
        else:
            self._show_fields(incident)
        self._fill_tasks()
        self._fill_timeline()
        self._update_incident_buttons()
        self._update_task_buttons()

    def _show_fields(self, incident: IncidentView) -> None:
        self.header_label.setText(f"#{incident.id} {incident.title}")
        values = {
            "type": incident.type_name or incident.type_code,
            "level": incident_level_label(incident.level),
            "state": incident_state_label(incident.state),
            "commander": incident.commander,
            "jurisdiction": jurisdiction_name(incident.jurisdiction) or self.tr("whole area"),
            "reporter": incident.reported_by,
            "place": incident.place,
            "opened": f"{format_moment(incident.opened_at)} {incident.opened_by}",
            "alarms": ", ".join(f"#{alarm_id}" for alarm_id in incident.alarm_ids),
            "feedback": incident.feedback,
        }
        for key, value in values.items():
            self._fields[key].setText(value)

    def _fill_tasks(self) -> None:
        selected = self.selected_task
        tasks = self._board.tasks_of(self._incident_id) if self._incident_id is not None else []
        self.task_table.setRowCount(len(tasks))
        for row, task in enumerate(tasks):
            supervision = self.tr("open") if open_supervisions(task) else ""
            rung = rung_label(task.escalation_level) if task.escalations else ""
            cells = (
                f"#{task.id}",
                assignee_text(task),
                task_state_label(task.state),
                "",
                rung,
                supervision,
            )
            tooltip = plain_tooltip(task_details(task))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, task.id)
                item.setToolTip(tooltip)
                self.task_table.setItem(row, column, item)
        self.refresh_countdowns()
        if selected is not None:
            self.select_task(selected.id)

    def refresh_countdowns(self) -> None:
        """Redraw the countdown column (every second); overdue in red."""
        now = self._board.now()
        for row in range(self.task_table.rowCount()):
            item = self.task_table.item(row, COUNTDOWN_COLUMN)
            key = self.task_table.item(row, 0)
            task = self._board.tasks.get(int(key.data(Qt.ItemDataRole.UserRole))) if key else None
            if item is None or task is None:
                continue
            left = countdown(task, now)
            item.setText(countdown_text(left))
            item.setForeground(QBrush(OVERDUE_COLOUR) if left.overdue else QBrush())

    def _fill_timeline(self) -> None:
        events = self._board.timeline(self._incident_id) if self._incident_id is not None else None
        self.timeline_list.clear()
        for event in events or []:
            self.timeline_list.addItem(timeline_text(event))

    def _update_incident_buttons(self) -> None:
        incident = self.incident
        commands = commands_incidents(self._board.user) and incident is not None
        allowed = allowed_incident_actions(incident.state) if incident is not None else []
        for action, button in self.incident_buttons.items():
            button.setEnabled(commands and action in allowed)
        live = commands and incident is not None and bool(allowed)
        self.change_button.setEnabled(live)
        self.send_button.setEnabled(live)
        self.map_button.setEnabled(incident is not None and bool(incident.alarm_ids))

    def _update_task_buttons(self) -> None:
        task = self.selected_task
        user = self._board.user
        allowed = allowed_task_actions(task.state) if task is not None else []
        for action, button in self.task_buttons.items():
            permitted = (
                commands_incidents(user) if action in SENDER_ACTIONS else may_work_tasks(user)
            )
            button.setEnabled(permitted and action in allowed)
        task_open = task is not None and task_is_open(task.state)
        self.deadlines_button.setEnabled(task_open and commands_incidents(user))
        self.supervise_button.setEnabled(task_open and may_supervise(user))
        self.answer_button.setEnabled(
            task is not None and bool(open_supervisions(task)) and may_work_tasks(user)
        )

    # ------------------------------------------------------------------ acting

    def _open_dialog(self, dialog: QDialog) -> None:
        if self.active_dialog is not None:
            self.active_dialog.reject()
        self.active_dialog = dialog
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        dialog.open()

    def _forget_dialog(self, dialog: QDialog) -> None:
        if self.active_dialog is dialog:
            self.active_dialog = None
        dialog.deleteLater()

    def focus_map(self) -> None:
        """Ask the window to show the incident's alarms on the map."""
        incident = self.incident
        if incident is not None and incident.alarm_ids:
            self.map_focus_requested.emit(list(incident.alarm_ids))

    def start_incident(self, action: IncidentAction) -> None:
        """Carry out an incident action, asking for the feedback or note it needs."""
        incident = self.incident
        if incident is None or action not in allowed_incident_actions(incident.state):
            return
        if action not in INCIDENT_NOTE_REQUIRED:
            self._desk.transition(incident.id, action)
            return
        prompt = (
            self.tr("Feedback to the reporter (required):")
            if action is IncidentAction.CLOSE
            else self.tr("What happened (required):")
        )
        incident_id = incident.id
        self._ask_text(
            incident_action_label(action),
            prompt,
            lambda text: self._desk.transition(incident_id, action, text),
        )

    def start_change(self) -> None:
        """Change the level or the commander."""
        incident = self.incident
        if incident is None:
            return
        dialog = ChangeIncidentDialog(incident, self, catalogue=self._desk.catalogue)
        dialog.accepted.connect(
            lambda: self._desk.change(
                incident.id,
                level=dialog.level,
                commander=dialog.commander,
                type_code=dialog.type_code,
                note=dialog.note,
            )
        )
        self._open_dialog(dialog)

    def start_send_task(self) -> None:
        """Send a task to an agency, a unit or a grid level."""
        incident = self.incident
        if incident is None:
            return
        dialog = SendTaskDialog(self.agencies, self)
        self.recommend_panel.offer(dialog)
        dialog.accepted.connect(
            lambda: self._desk.send_task(
                incident.id, dialog.kind, dialog.ref, dialog.instructions, dialog.deadline_minutes
            )
        )
        self._open_dialog(dialog)

    def start_task(self, action: TaskAction) -> None:
        """Take a step of the selected task, asking for the note it needs."""
        task = self.selected_task
        if task is None or action not in allowed_task_actions(task.state):
            return
        if action not in TASK_NOTE_REQUIRED:
            self._desk.act(task.id, action)
            return
        prompt = (
            self.tr("What was done (required):")
            if action is TaskAction.FINISH
            else self.tr("The reason (required):")
        )
        task_id = task.id
        self._ask_text(
            task_action_label(action), prompt, lambda text: self._desk.act(task_id, action, text)
        )

    def _ask_text(self, label: str, prompt: str, then: Callable[[str], object]) -> None:
        """Ask for the required note of a step titled ``label``; ``then`` gets it on OK."""
        dialog = TextDialog(label.rstrip("…"), prompt, required=True, parent=self)
        dialog.accepted.connect(lambda: then(dialog.text))
        self._open_dialog(dialog)

    def start_deadlines(self) -> None:
        """Move the selected task's deadlines (延期)."""
        task = self.selected_task
        if task is None:
            return
        dialog = DeadlinesDialog(task, self._board.now(), self)
        dialog.accepted.connect(
            lambda: self._desk.set_deadlines(task.id, dialog.deadlines, dialog.note)
        )
        self._open_dialog(dialog)

    def start_supervise(self) -> None:
        """Flag the selected task for supervision (督办)."""
        task = self.selected_task
        if task is None:
            return
        dialog = SuperviseDialog(task, self)
        dialog.accepted.connect(
            lambda: self._desk.supervise(task.id, dialog.note, dialog.due_at(self._board.now()))
        )
        self._open_dialog(dialog)

    def start_answer(self) -> None:
        """Answer the oldest open supervision flag of the selected task."""
        task = self.selected_task
        if task is None:
            return
        flag = next((f for f in task.supervisions if f.answered_at is None), None)
        if flag is None:
            return
        dialog = TextDialog(self.tr("Answer supervision"), flag.note, required=True, parent=self)
        dialog.accepted.connect(
            lambda: self._desk.answer_supervision(task.id, flag.id, dialog.text)
        )
        self._open_dialog(dialog)
