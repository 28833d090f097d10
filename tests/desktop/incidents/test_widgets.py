"""The incident workspace, the task inbox, the incident list and the badge, against a
scripted client: buttons follow the state and the role, notes are asked for, refusals
are explained and reload, countdowns turn red, escalations sound."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.incidents.badge import TaskBadge
from desktop.incidents.desk import IncidentDesk
from desktop.incidents.dialogs import (
    AttachAlarmDialog,
    ChangeIncidentDialog,
    DeadlinesDialog,
    NewIncidentDialog,
    SendTaskDialog,
    SuperviseDialog,
    TextDialog,
)
from desktop.incidents.panel import AlarmIncidentActions, IncidentsPanel, incident_ring
from desktop.incidents.state import IncidentBoard
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import CommandError, ConnectionState
from realtime.event_kinds import EventKind
from realtime.incident_states import (
    AssigneeKind,
    Deadline,
    EscalationLevel,
    IncidentAction,
    IncidentLevel,
    IncidentState,
    TaskAction,
    TaskState,
)
from realtime.protocol import (
    ActOnTask,
    AnswerSupervision,
    AttachAlarm,
    ChangeIncident,
    Command,
    ErrorCode,
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
    TasksResult,
    TimelineResult,
    TransitionIncident,
    UserInfo,
)
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until
from tests.desktop.factories import T0, make_alarm
from tests.desktop.incidents.factories import (
    catalogue_result,
    escalation,
    incident_event,
    make_incident,
    make_task,
    supervision,
    task_event,
    user,
)

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

MINUTE = dt.timedelta(minutes=1)
Run = Callable[..., Any]


class ScriptedClient:
    """Answers the incident commands from what the test put in :attr:`incidents` and
    :attr:`tasks`; a command type in :attr:`refuse` is refused with that code."""

    def __init__(self, service: ConsoleService) -> None:
        self.service = service
        self.commands: list[Command] = []
        self.incidents = [make_incident(1)]
        self.tasks = [make_task(1), make_task(2, state=TaskState.ACCEPTED)]
        self.refuse: dict[type, ErrorCode] = {}
        self.closed = asyncio.Event()

    @property
    def queued_commands(self) -> int:
        return 0

    async def run(self) -> None:
        await self.closed.wait()

    async def close(self) -> None:
        self.closed.set()

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        self.commands.append(command)
        code = self.refuse.get(type(command))
        if code is not None:
            raise CommandError(code, "refused by the script")
        if isinstance(command, GetCatalogue):
            return catalogue_result()
        if isinstance(command, ListIncidents):
            return IncidentsResult(incidents=self.incidents)
        if isinstance(command, ListTasks):
            return TasksResult(which=command.which, tasks=self.tasks)
        if isinstance(command, GetIncident):
            return IncidentResult(incident=self.incidents[0], tasks=self.tasks)
        if isinstance(command, GetIncidentTimeline):
            return TimelineResult(
                incident_id=command.incident_id,
                events=[incident_event(3, self.incidents[0], EventKind.INCIDENT_OPENED)],
            )
        if isinstance(command, OpenIncident | TransitionIncident | SendTask):
            return IncidentResult(incident=self.incidents[0], tasks=self.tasks)
        raise CommandError(ErrorCode.BAD_MESSAGE, f"unexpected {type(command).__name__}")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def scripted(
    qt_loop: qasync.QEventLoop,
) -> Iterator[tuple[ConsoleService, list[ScriptedClient]]]:
    clients: list[ScriptedClient] = []

    def factory(_url: str, listener: ConsoleService, *_args: object) -> ScriptedClient:
        client = ScriptedClient(listener)
        clients.append(client)
        return client

    service = ConsoleService(client_factory=factory)
    yield service, clients
    qt_loop.run_until_complete(service.stop())


async def log_in(service: ConsoleService, desk: IncidentDesk, who: UserInfo) -> None:
    """Start the scripted session as ``who`` and let the post-sync loads land."""
    service.start("ws://scripted", who.username, "pw")
    desk.board.set_user(who)
    service.on_state(ConnectionState.LIVE, "")
    await asyncio.sleep(0.05)


def commands_of(client: ScriptedClient, kind: type) -> list[Any]:
    return [command for command in client.commands if isinstance(command, kind)]


def test_the_command_centre_sees_the_list_first_and_acts_on_an_open_incident(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    clock = Clock()
    desk = IncidentDesk(service, IncidentBoard(clock))
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)

    async def scenario() -> None:
        officer = user(Role.OFFICER)
        await log_in(service, desk, officer)
        panel.arrange_for(officer)
        assert panel.tab_titles()[0] == "Incidents"
        assert panel.incident_list.row_keys() == [1]
        panel.incident_list.open_row(0)
        await wait_until(lambda: panel.workspace.task_ids() == [1, 2], what="tasks shown")
        workspace = panel.workspace
        assert panel.currentWidget() is workspace
        assert workspace.field_text("level") == "Level III (relatively serious)"
        assert workspace.field_text("state") == "Open"
        await wait_until(lambda: workspace.timeline_list.count() == 1, what="timeline")
        buttons = workspace.incident_buttons
        assert buttons[IncidentAction.RESPOND].isEnabled()
        assert not buttons[IncidentAction.CONTROL].isEnabled()
        assert workspace.send_button.isEnabled()
        # The command centre may cancel and extend, not supervise (an officer).
        assert workspace.select_task(1)
        assert workspace.task_buttons[TaskAction.CANCEL].isEnabled()
        assert workspace.task_buttons[TaskAction.ACCEPT].isEnabled()
        assert not workspace.task_buttons[TaskAction.ARRIVE].isEnabled()
        assert workspace.deadlines_button.isEnabled()
        assert not workspace.supervise_button.isEnabled()
        assert not workspace.answer_button.isEnabled()
        # The chat pane (desktop.incidents.chat) sits in the third tab.
        assert workspace.chat_panel is not None
        assert workspace.tabs.tabText(2) == "Chat"

        # Closing asks for the feedback; OK stays off until it is written.
        await call(buttons[IncidentAction.CLOSE].click)
        dialog = workspace.active_dialog
        assert isinstance(dialog, TextDialog)
        assert not dialog.ok_button.isEnabled()
        dialog.text_edit.setPlainText("已处置完毕，无人员伤亡")
        assert dialog.ok_button.isEnabled()
        await call(dialog.accept)
        await wait_until(lambda: bool(commands_of(clients[0], TransitionIncident)), what="sent")
        sent = commands_of(clients[0], TransitionIncident)[0]
        assert (sent.action, sent.note, sent.expected_version) == (
            IncidentAction.CLOSE,
            "已处置完毕，无人员伤亡",
            1,
        )

    run(scenario())


def test_a_task_is_sent_with_its_assignee_instructions_and_deadline_overrides(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    desk = IncidentDesk(service)
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)
    panel.workspace.agencies = {"fire": "消防救援", "police": "公安"}

    async def scenario() -> None:
        await log_in(service, desk, user(Role.OFFICER))
        panel.open_incident(1)
        await wait_until(lambda: panel.workspace.incident is not None, what="incident")
        await call(panel.workspace.send_button.click)
        dialog = panel.workspace.active_dialog
        assert isinstance(dialog, SendTaskDialog)
        assert dialog.ref == "fire"
        dialog.ref_combo.setCurrentIndex(1)
        dialog.instructions_edit.setPlainText("封控现场")
        dialog.deadline_spins[Deadline.ACCEPT].setValue(3)
        await call(dialog.accept)
        await wait_until(lambda: bool(commands_of(clients[0], SendTask)), what="task sent")
        sent = commands_of(clients[0], SendTask)[0]
        assert (sent.assignee_kind, sent.assignee_ref, sent.instructions) == (
            AssigneeKind.AGENCY,
            "police",
            "封控现场",
        )
        assert sent.deadline_minutes == {Deadline.ACCEPT: 3}

        # To a grid level: the jurisdiction code typed in.
        await call(panel.workspace.send_button.click)
        to_town = panel.workspace.active_dialog
        assert isinstance(to_town, SendTaskDialog)
        to_town.kind_combo.setCurrentIndex(2)
        assert to_town.kind is AssigneeKind.GRID_LEVEL
        assert not to_town.ok_button.isEnabled()
        to_town.ref_combo.setEditText("330102001")
        await call(to_town.accept)
        await wait_until(lambda: len(commands_of(clients[0], SendTask)) == 2, what="second")
        grid = commands_of(clients[0], SendTask)[1]
        assert (grid.assignee_kind, grid.assignee_ref) == (AssigneeKind.GRID_LEVEL, "330102001")

    run(scenario())


def test_an_agency_desk_sees_its_inbox_first_works_its_task_and_commands_nothing(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    clock = Clock()
    desk = IncidentDesk(service, IncidentBoard(clock))
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)
    panel.show()

    async def scenario() -> None:
        fire = user(Role.AGENCY, agency="fire")
        await log_in(service, desk, fire)
        clients[0].tasks = [
            make_task(1, accept_by=T0 + 10 * MINUTE),
            make_task(2, accept_by=T0 + 2 * MINUTE),
        ]
        desk.reload()
        await wait_until(lambda: panel.inbox.row_keys() == [2, 1], what="inbox by urgency")
        panel.arrange_for(fire)
        assert panel.tab_titles()[:2] == ["Tasks", "Incidents"]
        assert panel.inbox.cell(0, 4) == "Accept by: 2 min 0 s left"
        clock.now = T0 + 3 * MINUTE
        panel.tick()
        assert panel.inbox.cell(0, 4) == "Accept by: overdue 1 min 0 s"
        cell = panel.inbox.table.item(0, 4)
        assert cell is not None
        assert cell.foreground().color().name() == "#c62828"

        panel.inbox.open_row(0)
        workspace = panel.workspace
        await wait_until(lambda: workspace.select_task(2), what="task in workspace")
        assert workspace.task_buttons[TaskAction.ACCEPT].isEnabled()
        assert not workspace.task_buttons[TaskAction.CANCEL].isEnabled()
        assert not workspace.deadlines_button.isEnabled()
        assert not any(button.isEnabled() for button in workspace.incident_buttons.values())
        assert not workspace.send_button.isEnabled()

        # A decline needs its reason.
        await call(workspace.task_buttons[TaskAction.DECLINE].click)
        dialog = workspace.active_dialog
        assert isinstance(dialog, TextDialog)
        assert not dialog.ok_button.isEnabled()
        dialog.reject()
        assert not commands_of(clients[0], ActOnTask)

    run(scenario())


def test_a_stale_refusal_is_explained_and_the_incident_reloaded(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    desk = IncidentDesk(service)
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)
    messages: list[tuple[str, bool]] = []
    desk.message.connect(lambda text, error: messages.append((text, error)))

    async def scenario() -> None:
        await log_in(service, desk, user(Role.OFFICER))
        panel.open_incident(1)
        await wait_until(lambda: panel.workspace.incident is not None, what="incident")
        clients[0].refuse[TransitionIncident] = ErrorCode.STALE_VERSION
        clients[0].incidents = [make_incident(1, version=2, state=IncidentState.RESPONDING)]
        gets = len(commands_of(clients[0], GetIncident))
        await call(panel.workspace.incident_buttons[IncidentAction.RESPOND].click)
        await wait_until(lambda: len(commands_of(clients[0], GetIncident)) > gets, what="reload")
        await wait_until(lambda: panel.workspace.field_text("state") == "Responding", what="new")
        assert messages[-1] == (
            "Someone changed it meanwhile; it was reloaded. Decide again. (refused by the script)",
            True,
        )
        # Now responding: "respond" is no longer offered, "under control" is.
        buttons = panel.workspace.incident_buttons
        assert not buttons[IncidentAction.RESPOND].isEnabled()
        assert buttons[IncidentAction.CONTROL].isEnabled()

    run(scenario())


def test_a_viewer_gets_no_error_when_incidents_are_not_for_it(
    scripted: tuple[ConsoleService, list[ScriptedClient]], run: Run
) -> None:
    service, clients = scripted
    desk = IncidentDesk(service)
    messages: list[tuple[str, bool]] = []
    desk.message.connect(lambda text, error: messages.append((text, error)))

    async def scenario() -> None:
        service.start("ws://scripted", "wall", "pw")
        clients[0].refuse[ListIncidents] = ErrorCode.FORBIDDEN
        clients[0].refuse[ListTasks] = ErrorCode.INTERNAL
        service.on_state(ConnectionState.LIVE, "")
        await wait_until(lambda: len(messages) == 3, what="the internal errors reported")
        assert all(error for _text, error in messages)

    run(scenario())


def test_an_escalation_to_my_desk_sounds_flashes_and_opens_the_list(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, _clients = scripted
    desk = IncidentDesk(service)
    panel = IncidentsPanel(desk)
    sounder = AlarmSounder(use_audio=False)
    badge = TaskBadge(desk.board, sounder)
    qtbot.addWidget(panel)
    qtbot.addWidget(badge)
    opened: list[bool] = []
    badge.open_requested.connect(lambda: opened.append(True))

    async def scenario() -> None:
        await log_in(service, desk, user(Role.SUPERVISOR, agency="fire"))
        assert badge.text() == "Overdue/escalated: 0  Supervised: 0"
        up = make_task(
            7,
            escalation_level=EscalationLevel.AGENCY_SUPERVISOR,
            escalations=[escalation()],
        )
        service.on_event(task_event(40, up, EventKind.TASK_ESCALATED))
        assert sounder.play_count == 1
        assert badge.flashing
        assert badge.text() == "Overdue/escalated: 1  Supervised: 0"
        # The same task changing again is not a new escalation.
        service.on_event(task_event(41, up))
        assert sounder.play_count == 1
        await call(badge.click)
        assert opened == [True]

    run(scenario())


def test_raise_and_attach_are_offered_for_an_open_alarm_outside_any_incident(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    desk = IncidentDesk(service)
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)
    actions = AlarmIncidentActions(desk, panel)

    async def scenario() -> None:
        await log_in(service, desk, user(Role.OFFICER))
        await wait_until(lambda: bool(desk.board.incidents), what="incidents")
        actions.set_alarm(make_alarm(9))
        assert actions.raise_button.isEnabled()
        assert actions.attach_button.isEnabled()
        await call(actions.attach_button.click)
        attach = actions.active_dialog
        assert isinstance(attach, AttachAlarmDialog)
        assert attach.incident_id == 1
        await call(attach.accept)
        await wait_until(lambda: bool(commands_of(clients[0], AttachAlarm)), what="attached")
        attached = commands_of(clients[0], AttachAlarm)[0]
        assert (attached.incident_id, attached.alarm_id, attached.expected_version) == (1, 9, 1)

        await call(actions.raise_button.click)
        dialog = actions.active_dialog
        assert dialog is not None
        await call(dialog.accept)
        await wait_until(lambda: bool(commands_of(clients[0], OpenIncident)), what="opened")
        assert commands_of(clients[0], OpenIncident)[0].alarm_id == 9
        await wait_until(lambda: panel.currentWidget() is panel.workspace, what="shown")
        # An alarm already in an incident is not raised again.
        assert not actions.open_button.isEnabled()
        desk.board.upsert_incident(make_incident(1, alarm_ids=[9]))
        assert not actions.raise_button.isEnabled()
        # ...and its incident is one click away.
        assert actions.open_button.isEnabled()
        assert actions.open_button.text() == "Incident #1"
        wanted: list[int] = []
        actions.open_requested.connect(wanted.append)
        await call(actions.open_button.click)
        assert wanted == [1]

    run(scenario())


def test_an_incident_is_opened_without_an_alarm_with_a_type_from_the_catalogue(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    desk = IncidentDesk(service)
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)

    async def scenario() -> None:
        await log_in(service, desk, user(Role.OFFICER))
        await wait_until(lambda: desk.catalogue.loaded, what="catalogue")
        panel.arrange_for(user(Role.OFFICER))
        assert panel.new_button.isEnabled()
        dialog = panel.start_new()
        assert isinstance(dialog, NewIncidentDialog)
        assert not dialog.ok_button.isEnabled()  # a title and a type are required
        dialog.title_edit.setText("电话报告：道路塌陷")
        assert not dialog.ok_button.isEnabled()
        dialog.type_picker.search_edit.setText("landslide")
        assert dialog.type_picker.select("landslide")
        assert dialog.ok_button.isEnabled()
        dialog.place_edit.setText("留下镇")
        await call(dialog.accept)
        await wait_until(lambda: bool(commands_of(clients[0], OpenIncident)), what="opened")
        opened = commands_of(clients[0], OpenIncident)[0]
        assert (opened.alarm_id, opened.title, opened.type_code, opened.place) == (
            None,
            "电话报告：道路塌陷",
            "landslide",
            "留下镇",
        )
        # Agency desks and viewers do not open incidents.
        panel.arrange_for(user(Role.AGENCY, agency="fire"))
        assert not panel.new_button.isEnabled()

    run(scenario())


def test_the_incident_ring_frames_the_placed_alarms_only() -> None:
    points, extent = incident_ring(
        [
            make_alarm(1, lat=30.27, lon=120.15),
            make_alarm(2),
            None,
            make_alarm(3, lat=30.29, lon=120.17),
        ]
    )
    assert [point.id for point in points] == ["1", "3"]
    assert extent is not None
    west, south, east, north = extent
    assert (round(west, 2), round(east, 2)) == (120.13, 120.19)
    assert (round(south, 2), round(north, 2)) == (30.25, 30.31)
    assert incident_ring([make_alarm(2)]) == ([], None)


def test_a_peers_markup_is_shown_literally_in_every_incident_view(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    desk = IncidentDesk(service)
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)
    hostile = '<b>火</b><img src="http://x/y.png">'

    async def scenario() -> None:
        await log_in(service, desk, user(Role.OFFICER))
        clients[0].incidents = [make_incident(1, title=hostile, commander=hostile)]
        clients[0].tasks = [make_task(1, assignee_kind=AssigneeKind.UNIT, assignee_name=hostile)]
        desk.reload()
        panel.open_incident(1)
        workspace = panel.workspace
        await wait_until(lambda: workspace.task_ids() == [1], what="hostile incident shown")
        assert workspace.header_label.text() == f"#1 {hostile}"
        assert workspace.header_label.textFormat() == Qt.TextFormat.PlainText
        assert workspace.field_text("commander") == hostile
        assert workspace.task_cell(1, 1).startswith(hostile)
        assert panel.incident_list.cell(0, 1) == hostile

    run(scenario())


def test_a_reload_after_a_reconnect_resumes_the_timeline_after_the_last_entry(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    desk = IncidentDesk(service)
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)

    async def scenario() -> None:
        await log_in(service, desk, user(Role.OFFICER))
        panel.open_incident(1)
        await wait_until(lambda: desk.board.timeline(1) is not None, what="timeline")
        service.on_state(ConnectionState.DISCONNECTED, "link lost")
        service.on_state(ConnectionState.LIVE, "")
        # The workspace asks only for what came after its last entry (seq 3); the chat
        # pane, which holds no message yet, asks from the start.
        await wait_until(
            lambda: any(c.after_seq == 3 for c in commands_of(clients[0], GetIncidentTimeline)),
            what="resumed",
        )
        assert {c.after_seq for c in commands_of(clients[0], GetIncidentTimeline)} == {0, 3}
        assert len(commands_of(clients[0], ListIncidents)) == 2
        timeline = desk.board.timeline(1)
        assert timeline is not None
        assert [event.seq for event in timeline] == [3]  # the same entry again is kept once

    run(scenario())


def _pick_type(change: ChangeIncidentDialog, search: str, code: str) -> None:
    """定性: the type is picked from the catalogue by a search in Chinese."""
    assert change.type_picker.type_code == "hazchem_leak"  # the incident's type first
    change.type_picker.search_edit.setText(search)
    assert change.type_picker.visible_codes() == [code]
    assert change.type_picker.select(code)


def test_level_deadlines_and_supervision_are_sent_as_the_officer_filled_them(
    scripted: tuple[ConsoleService, list[ScriptedClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    desk = IncidentDesk(service)
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)
    workspace = panel.workspace

    async def scenario() -> None:
        await log_in(service, desk, user(Role.SUPERVISOR))
        clients[0].tasks = [
            make_task(
                1,
                state=TaskState.ACCEPTED,
                arrive_by=T0 + 30 * MINUTE,
                supervisions=[supervision(4)],
            ),
        ]
        panel.open_incident(1)
        await wait_until(lambda: workspace.select_task(1), what="task")

        await call(workspace.change_button.click)
        change = workspace.active_dialog
        assert isinstance(change, ChangeIncidentDialog)
        assert not change.ok_button.isEnabled()  # nothing changed yet
        change.level_combo.setCurrentIndex(change.level_combo.findData(IncidentLevel.I))
        _pick_type(change, "火灾爆炸 危险化学品", "hazchem_fire_explosion")
        change.note_edit.setText("伤亡扩大")
        await call(change.accept)

        assert workspace.select_task(1)
        await call(workspace.deadlines_button.click)
        extend = workspace.active_dialog
        assert isinstance(extend, DeadlinesDialog)
        assert list(extend.edits) == [Deadline.ARRIVE, Deadline.FINISH]
        edit = extend.edits[Deadline.ARRIVE]
        edit.setDateTime(edit.dateTime().addSecs(15 * 60))
        extend.note_edit.setText("道路封闭")
        await call(extend.accept)

        await call(workspace.supervise_button.click)
        flag = workspace.active_dialog
        assert isinstance(flag, SuperviseDialog)
        flag.note_edit.setPlainText("请报告到场时间")
        flag.due_spin.setValue(10)
        await call(flag.accept)

        await call(workspace.answer_button.click)
        answer = workspace.active_dialog
        assert isinstance(answer, TextDialog)
        answer.text_edit.setPlainText("10 分钟内到场")
        await call(answer.accept)

        await wait_until(lambda: bool(commands_of(clients[0], AnswerSupervision)), what="all")
        changed = commands_of(clients[0], ChangeIncident)[0]
        assert (changed.level, changed.commander, changed.type_code, changed.note) == (
            IncidentLevel.I,
            None,
            "hazchem_fire_explosion",
            "伤亡扩大",
        )
        moved = commands_of(clients[0], SetTaskDeadlines)[0]
        assert moved.deadlines == {Deadline.ARRIVE: T0 + 45 * MINUTE}
        assert moved.note == "道路封闭"
        flagged = commands_of(clients[0], SuperviseTask)[0]
        assert flagged.note == "请报告到场时间"
        assert flagged.due_at is not None
        answered = commands_of(clients[0], AnswerSupervision)[0]
        assert (answered.supervision_id, answered.answer) == (4, "10 分钟内到场")

    run(scenario())
