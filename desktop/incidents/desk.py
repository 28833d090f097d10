"""The bridge between the incident board and the server: loads and commands.

:class:`IncidentDesk` fills the :class:`~desktop.incidents.state.IncidentBoard` from
``incidents.list`` and ``tasks.list`` each time the link becomes live (a reconnect may
have missed anything), applies every event to it, and sends the incident and task
commands through the :class:`~desktop.service.ConsoleService`. Outcomes come back as
:attr:`IncidentDesk.message` in the officer's words; a ``stale_version`` refusal reloads
the incident so the officer decides again on what is there now.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from PySide6.QtCore import QCoreApplication, QObject, Signal

from desktop.incidents.catalogue_state import CatalogueState
from desktop.incidents.labels import refusal_text
from desktop.incidents.state import IncidentBoard
from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.incident_states import (
    AssigneeKind,
    Deadline,
    IncidentAction,
    IncidentLevel,
    TaskAction,
)
from realtime.protocol import (
    ActOnTask,
    AnswerSupervision,
    AttachAlarm,
    CatalogueResult,
    ChangeIncident,
    Command,
    ErrorCode,
    Event,
    GetCatalogue,
    GetIncident,
    GetIncidentTimeline,
    IncidentResult,
    IncidentsResult,
    ListIncidents,
    ListTasks,
    OpenIncident,
    ResultData,
    Role,
    SendTask,
    SetTaskDeadlines,
    SuperviseTask,
    TaskList,
    TaskResult,
    TasksResult,
    TimelineResult,
    TransitionIncident,
    Welcome,
)

logger = logging.getLogger(__name__)

BADGE_LISTS = (TaskList.INBOX, TaskList.ESCALATED, TaskList.SUPERVISED)
"""The task lists read after every (re)sync: the inbox and the badge's two."""


class IncidentDesk(QObject):
    """Keeps the board current and carries out the officer's incident and task commands."""

    message = Signal(str, bool)
    """(text, is_error) of a command's outcome, for the notification bar."""
    opened = Signal(int)
    """An incident this officer opened (its id), to show in the workspace."""
    catalogue_changed = Signal()
    """The event catalogue arrived or changed (:attr:`catalogue`)."""

    def __init__(
        self,
        service: ConsoleService,
        board: IncidentBoard | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self.board = board if board is not None else IncidentBoard()
        self.catalogue = CatalogueState()
        """The server's event catalogue, read on every (re)connect (a digest check)."""
        self._live = False
        service.welcomed.connect(self.on_welcome)
        service.connection_changed.connect(self._on_connection_changed)
        service.event_received.connect(self._on_event)

    @property
    def service(self) -> ConsoleService:
        """The console service the commands go through."""
        return self._service

    # ------------------------------------------------------------------ session

    def on_welcome(self, welcome: Welcome) -> None:
        """Remember who logged in (another user's board is forgotten first)."""
        if self.board.user is not None and self.board.user.username != welcome.user.username:
            self.board.clear()
        self.board.set_user(welcome.user)

    def _on_connection_changed(self, state: ConnectionState, _detail: str) -> None:
        live = state is ConnectionState.LIVE
        became_live = live and not self._live
        self._live = live
        user = self.board.user
        if not became_live or (user is not None and user.role is Role.ENTERPRISE):
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            logger.debug("no running loop: the incidents are not read")
            return
        self.reload()

    def _on_event(self, event: Event) -> None:
        # The board tells its listeners (the badge sounds for an escalation to this desk).
        self.board.apply_event(event)

    def reload(self) -> None:
        """Read the incidents, the inbox and the badge's lists, and resume the timelines
        held (what a reconnect may have missed)."""
        self._service.query(
            GetCatalogue(req="", known_digest=self.catalogue.digest),
            self._on_result,
            self._on_catalogue_error,
        )
        self._service.query(ListIncidents(req=""), self._on_result, self._on_load_error)
        for which in BADGE_LISTS:
            self._service.query(
                ListTasks(req="", which=which), self._on_result, self._on_load_error
            )
        for incident_id in list(self.board.incidents):
            if self.board.timeline(incident_id) is not None:
                self.load_timeline(incident_id)

    def load_incident(self, incident_id: int) -> None:
        """Read one incident with its tasks, and its timeline (resumed after the last
        entry held)."""
        self._service.query(
            GetIncident(req="", incident_id=incident_id), self._on_result, self._on_load_error
        )
        self.load_timeline(incident_id)

    def load_timeline(self, incident_id: int) -> None:
        """Read the timeline entries after the last one held."""
        after = self.board.last_timeline_seq(incident_id)
        self._service.query(
            GetIncidentTimeline(req="", incident_id=incident_id, after_seq=after),
            self._on_result,
            self._on_load_error,
        )

    def _on_load_error(self, code: str, message: str) -> None:
        logger.info("incident data not loaded: %s %s", code, message)
        if code == ErrorCode.FORBIDDEN:
            return  # a role without incidents (a wall display): nothing to show, no alarm
        self.message.emit(
            QCoreApplication.translate("Incidents", "Incidents not loaded: ")
            + refusal_text(code, message),
            True,
        )

    def _on_catalogue_error(self, code: str, message: str) -> None:
        # The pickers say the catalogue has not arrived; the next reconnect asks again.
        logger.info("event catalogue not loaded: %s %s", code, message)

    def _on_result(self, result: ResultData) -> None:
        if isinstance(result, CatalogueResult):
            if self.catalogue.apply(result):
                self.catalogue_changed.emit()
        elif isinstance(result, IncidentsResult):
            self.board.replace_incidents(result.incidents)
        elif isinstance(result, TasksResult):
            self.board.replace_tasks(result.which, result.tasks)
        elif isinstance(result, IncidentResult):
            self.board.upsert_incident(result.incident, result.tasks)
        elif isinstance(result, TaskResult):
            self.board.upsert_task(result.task)
            if result.sent_on is not None:
                self.board.upsert_task(result.sent_on)
        elif isinstance(result, TimelineResult):
            self.board.set_timeline(result.incident_id, result.events)

    # ------------------------------------------------------------------ commands

    def _send(self, command: Command, done: str, incident_id: int | None) -> None:
        def succeeded(result: ResultData) -> None:
            self._on_result(result)
            if isinstance(result, IncidentResult) and isinstance(command, OpenIncident):
                self.opened.emit(result.incident.id)
            self.message.emit(done, False)

        def failed(code: str, message: str) -> None:
            logger.info("%s refused: %s %s", type(command).__name__, code, message)
            self.message.emit(refusal_text(code, message), True)
            if code == ErrorCode.STALE_VERSION and incident_id is not None:
                self.load_incident(incident_id)

        self._service.query(command, succeeded, failed)

    def open_incident(
        self,
        *,
        alarm_id: int | None,
        title: str = "",
        type_code: str | None = None,
        level: IncidentLevel | None = None,
        place: str = "",
        description: str = "",
    ) -> None:
        """Raise an incident (立案), from an alarm when ``alarm_id`` is given."""
        command = OpenIncident(
            req="",
            alarm_id=alarm_id,
            title=title,
            type_code=type_code or None,
            level=level,
            place=place,
            description=description,
        )
        self._send(command, QCoreApplication.translate("Incidents", "Incident opened."), None)

    def attach_alarm(self, incident_id: int, alarm_id: int) -> None:
        """Attach an alarm to an incident (并案)."""
        incident = self.board.incidents[incident_id]
        command = AttachAlarm(
            req="", incident_id=incident_id, alarm_id=alarm_id, expected_version=incident.version
        )
        self._send(
            command,
            QCoreApplication.translate("Incidents", "Alarm attached to the incident."),
            incident_id,
        )

    def transition(self, incident_id: int, action: IncidentAction, note: str = "") -> None:
        """Move an incident along its life (respond, control, flare up, close)."""
        incident = self.board.incidents[incident_id]
        command = TransitionIncident(
            req="",
            incident_id=incident_id,
            action=action,
            expected_version=incident.version,
            note=note,
        )
        self._send(
            command, QCoreApplication.translate("Incidents", "Incident updated."), incident_id
        )

    def change(
        self,
        incident_id: int,
        *,
        level: IncidentLevel | None = None,
        commander: str | None = None,
        type_code: str | None = None,
        note: str = "",
    ) -> None:
        """Change an incident's level, commander or type (定性)."""
        incident = self.board.incidents[incident_id]
        command = ChangeIncident(
            req="",
            incident_id=incident_id,
            expected_version=incident.version,
            level=level,
            commander=commander,
            type_code=type_code,
            note=note,
        )
        self._send(
            command, QCoreApplication.translate("Incidents", "Incident updated."), incident_id
        )

    def send_task(
        self,
        incident_id: int,
        kind: AssigneeKind,
        ref: str,
        instructions: str = "",
        deadline_minutes: dict[Deadline, int | None] | None = None,
    ) -> None:
        """Send a task (派单) to an agency, a unit or a grid level."""
        command = SendTask(
            req="",
            incident_id=incident_id,
            assignee_kind=kind,
            assignee_ref=ref,
            instructions=instructions,
            deadline_minutes=dict(deadline_minutes or {}),
        )
        self._send(command, QCoreApplication.translate("Incidents", "Task sent."), incident_id)

    def act(self, task_id: int, action: TaskAction, note: str = "") -> None:
        """Take one step of a task."""
        task = self.board.tasks[task_id]
        command = ActOnTask(
            req="", task_id=task_id, action=action, expected_version=task.version, note=note
        )
        self._send(
            command, QCoreApplication.translate("Incidents", "Task updated."), task.incident_id
        )

    def set_deadlines(
        self, task_id: int, deadlines: dict[Deadline, dt.datetime | None], note: str = ""
    ) -> None:
        """Move a task's deadlines (延期)."""
        task = self.board.tasks[task_id]
        command = SetTaskDeadlines(
            req="",
            task_id=task_id,
            expected_version=task.version,
            deadlines=dict(deadlines),
            note=note,
        )
        self._send(
            command, QCoreApplication.translate("Incidents", "Deadlines changed."), task.incident_id
        )

    def supervise(self, task_id: int, note: str, due_at: dt.datetime | None = None) -> None:
        """Flag a task for supervision (督办)."""
        task = self.board.tasks[task_id]
        command = SuperviseTask(req="", task_id=task_id, note=note, due_at=due_at)
        self._send(
            command,
            QCoreApplication.translate("Incidents", "Supervision flagged."),
            task.incident_id,
        )

    def answer_supervision(self, task_id: int, supervision_id: int, answer: str) -> None:
        """Answer a supervision flag on a task."""
        task = self.board.tasks[task_id]
        command = AnswerSupervision(req="", supervision_id=supervision_id, answer=answer)
        self._send(
            command,
            QCoreApplication.translate("Incidents", "Supervision answered."),
            task.incident_id,
        )
