"""The ranked resources in the console: the reasons in words, the send-task dialog taking
the best team or unit (unless the officer chose already), the dispatch dialog ordering
and pre-ticking units, and the workspace's 资源推荐 tab against a scripted server."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.dialogs import DispatchDialog
from desktop.i18n import install_translators
from desktop.incidents.desk import IncidentDesk
from desktop.incidents.dialogs import SendTaskDialog
from desktop.incidents.panel import IncidentsPanel
from desktop.incidents.recommend import eta_text, why
from desktop.service import ConsoleService
from realtime.client import CommandError, ConnectionState
from realtime.incident_states import AssigneeKind
from realtime.protocol import (
    Command,
    ErrorCode,
    GetCatalogue,
    GetIncident,
    GetIncidentTimeline,
    IncidentResult,
    IncidentsResult,
    ListIncidents,
    ListTasks,
    RankedResource,
    Recommend,
    Recommendation,
    ResultData,
    Role,
    TasksResult,
    TimelineResult,
    TravelBasis,
    UnitView,
)
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until
from tests.desktop.factories import make_alarm
from tests.desktop.incidents.factories import catalogue_result, make_incident, user

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]
AT = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)


def ranked(code: str, kind: str = "unit", rank: int = 1, **fields: Any) -> RankedResource:
    values: dict[str, Any] = {
        "rank": rank,
        "kind": kind,
        "code": code,
        "name": f"名称{code}",
        "distance_km": 1.2,
        "eta_min": 2.3,
        "travel": TravelBasis.STRAIGHT_LINE,
        "score": float(rank),
    }
    values.update(fields)
    return RankedResource(**values)


def recommendation(*items: RankedResource) -> Recommendation:
    return Recommendation(
        incident_id=1,
        lat=30.0,
        lon=120.0,
        type_code="hazchem_leak",
        plan_code="plan-leak",
        needs=["hazmat", "rescue"],
        cover_minutes=15.0,
        items=list(items),
        ranked_at=AT,
    )


def test_the_reasons_name_matches_shortfalls_state_and_cover() -> None:
    team = ranked(
        "t1",
        "team",
        matched=["hazmat"],
        missing=["rescue"],
        available=False,
        warnings=["no_cover:320116001"],
        from_vehicle="13800138001",
    )
    text = why(team)
    for part in (
        "matches: hazmat",
        "lacks: rescue",
        "deployed",
        "no cover warning: 320116001",
        "13800138001",
    ):
        assert part in text
    assert "position unknown" in why(ranked("u", eta_min=None, distance_km=None))


def test_the_reasons_are_in_chinese_when_the_translation_is_installed(qapp: QApplication) -> None:
    installed = install_translators(qapp, "zh_CN")
    try:
        assert installed
        team = ranked(
            "t1",
            "team",
            matched=["hazmat"],
            missing=["rescue"],
            available=False,
            warnings=["no_cover:320116001"],
        )
        assert why(team) == "匹配：hazmat; 缺：rescue; 出动中; 无覆盖警告：320116001"
        assert eta_text(team) == "2 分钟"
    finally:
        for translator in installed:
            QCoreApplication.removeTranslator(translator)
        install_translators(qapp, "en")


def test_send_task_takes_the_best_available_unit(qtbot: QtBot) -> None:
    dialog = SendTaskDialog({"fire": "消防救援"})
    qtbot.addWidget(dialog)
    dialog.set_recommendation(
        recommendation(
            ranked("BUSY", rank=1, available=False, score=1e7),
            ranked("FIRE-01", rank=2, score=3.0),
            ranked("t-hz", "team", rank=1, agency="fire", score=4.0),
            ranked("SHELTER", "shelter", rank=1),
        )
    )
    table = dialog.recommend_table
    # Teams and units only, available first; the deployed one last.
    assert [table.cell_text(row, 1) for row in range(table.rowCount())] == [
        "名称FIRE-01",
        "名称t-hz",
        "名称BUSY",
    ]
    assert table.cell_text(0, 2) == "2 min"
    assert table.cell_text(0, 3) == "1.2 km"
    assert (dialog.kind, dialog.ref) == (AssigneeKind.UNIT, "FIRE-01")
    # Choosing the team sends the task to its agency.
    dialog.select_recommended(1)
    assert (dialog.kind, dialog.ref) == (AssigneeKind.AGENCY, "fire")
    assert dialog.ok_button.isEnabled()


def test_send_task_keeps_an_assignee_the_officer_chose_before_the_ranking(qtbot: QtBot) -> None:
    dialog = SendTaskDialog({"fire": "消防救援", "police": "公安"})
    qtbot.addWidget(dialog)
    dialog.ref_combo.setCurrentIndex(1)
    dialog.ref_combo.activated.emit(1)  # what a user's pick emits
    dialog.set_recommendation(recommendation(ranked("FIRE-01")))
    assert (dialog.kind, dialog.ref) == (AssigneeKind.AGENCY, "police")
    dialog.set_recommendation_error("no such incident in your area")
    assert "no such incident" in dialog.recommend_label.text()


def test_dispatch_orders_units_by_the_ranking_and_ticks_the_best(qtbot: QtBot) -> None:
    units = [
        UnitView(id=1, code="A", name="甲", agency="fire"),
        UnitView(id=2, code="B", name="乙", agency="fire"),
        UnitView(id=3, code="C", name="丙", agency="police"),
        UnitView(id=4, code="D", name="丁", agency="medical"),
    ]
    dialog = DispatchDialog(make_alarm(1), units)
    qtbot.addWidget(dialog)
    dialog.set_recommendation(
        recommendation(
            ranked("C", rank=1),
            ranked("A", rank=2, eta_min=5.0),
            ranked("D", rank=3, eta_min=9.0),
            ranked("B", rank=4, available=False, score=1e7),
        )
    )
    texts = [dialog.unit_list.item(row).text() for row in range(dialog.unit_list.count())]
    assert [text[0] for text in texts] == ["丙", "甲", "丁", "乙"]
    assert "5 min" in texts[1]
    assert "deployed" in texts[3]
    assert dialog.selected_unit_ids == [3, 1]
    # The ranking may arrive before the units: they are ticked when listed.
    early = DispatchDialog(make_alarm(2), [])
    qtbot.addWidget(early)
    early.set_recommendation(recommendation(ranked("D", rank=1), ranked("A", rank=2)))
    early.set_units(units)
    assert early.selected_unit_ids == [4, 1]
    # A second ranking keeps the officer's ticks.
    dialog.unit_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    dialog.set_recommendation(recommendation(ranked("D", rank=1)))
    assert dialog.selected_unit_ids == [1]


class RankingClient:
    """Answers what the workspace loads, and ``recommend`` with a fixed ranking (or
    refuses it when :attr:`refuse` is set)."""

    def __init__(self, service: ConsoleService) -> None:
        self.commands: list[Command] = []
        self.closed = asyncio.Event()
        self.refuse = False

    @property
    def queued_commands(self) -> int:
        return 0

    async def run(self) -> None:
        await self.closed.wait()

    async def close(self) -> None:
        self.closed.set()

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        self.commands.append(command)
        incident = make_incident(1)
        if isinstance(command, GetCatalogue):
            return catalogue_result()
        if isinstance(command, ListIncidents):
            return IncidentsResult(incidents=[incident])
        if isinstance(command, ListTasks):
            return TasksResult(which=command.which, tasks=[])
        if isinstance(command, GetIncident):
            return IncidentResult(incident=incident, tasks=[])
        if isinstance(command, GetIncidentTimeline):
            return TimelineResult(incident_id=1, events=[])
        if isinstance(command, Recommend):
            if self.refuse:
                raise CommandError(ErrorCode.FORBIDDEN, "no such incident in your area")
            return recommendation(
                ranked("t1", "team", matched=["hazmat"], missing=["rescue"]),
                ranked("FIRE-01", rank=1),
            )
        raise CommandError(ErrorCode.BAD_MESSAGE, f"unexpected {type(command).__name__}")


@pytest.fixture
def ranking(qt_loop: qasync.QEventLoop) -> Iterator[tuple[ConsoleService, list[RankingClient]]]:
    clients: list[RankingClient] = []

    def factory(_url: str, listener: ConsoleService, *_args: object) -> RankingClient:
        client = RankingClient(listener)
        clients.append(client)
        return client

    service = ConsoleService(client_factory=factory)
    yield service, clients
    qt_loop.run_until_complete(service.stop())


def test_the_workspace_ranks_and_offers_the_ranking_to_the_task_dialog(
    ranking: tuple[ConsoleService, list[RankingClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = ranking
    desk = IncidentDesk(service)
    panel = IncidentsPanel(desk)
    qtbot.addWidget(panel)

    async def scenario() -> None:
        service.start("ws://scripted", "officer", "pw")
        desk.board.set_user(user(Role.OFFICER))
        service.on_state(ConnectionState.LIVE, "")
        await asyncio.sleep(0.05)
        panel.open_incident(1)
        await wait_until(lambda: panel.workspace.incident is not None, what="incident")
        workspace = panel.workspace
        tab = workspace.recommend_panel
        await call(tab.rank_button.click)
        await wait_until(lambda: tab.table.rowCount() == 2, what="ranking shown")
        asked = [c for c in clients[0].commands if isinstance(c, Recommend)]
        assert asked[0].incident_id == 1
        assert "hazmat" in tab.status_label.text()
        assert "lacks: rescue" in tab.table.cell_text(0, 4)

        await call(workspace.send_button.click)
        dialog = workspace.active_dialog
        assert isinstance(dialog, SendTaskDialog)
        await wait_until(lambda: dialog.recommend_table.rowCount() == 2, what="offered")
        # The team has no agency to send a task to: the unit is taken.
        assert (dialog.kind, dialog.ref) == (AssigneeKind.UNIT, "FIRE-01")
        dialog.reject()

        clients[0].refuse = True
        await call(tab.rank_button.click)
        await wait_until(lambda: "no such incident" in tab.status_label.text(), what="refusal")

    run(scenario())
