"""The decision-support pane (辅助决策) and its rings on the map: what the officer selects
is what is asked, each change asks again, the answer is shown (cards, rings, exposed
items nearest first, unknown names in red), refusals are explained, a late answer for an
older question is ignored, and the rings are drawn around the incident with their radius."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt, QTranslator
from PySide6.QtWidgets import QDockWidget, QMainWindow
from pytestqt.qtbot import QtBot

from desktop.detail_pane import AlarmDetailPane
from desktop.incidents.decision import DecisionPane, split_names
from desktop.incidents.window import WindowIncidents
from desktop.map.decision_rings import DecisionRingsLayer, circle_points, ring_label
from desktop.map.layers import LayerKey
from desktop.map.view import MapView
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.protocol import (
    ChemicalView,
    Command,
    DecisionSupport,
    ExposedView,
    IncidentView,
    ResultData,
    RingKind,
    RingView,
    Role,
    SupportRequest,
)
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until
from tests.desktop.incidents.factories import make_incident, user
from tests.desktop.incidents.test_widgets import ScriptedClient, log_in

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]

LAT, LON = 30.25, 120.15
EARTH_RADIUS_M = 6_371_008.8


class FakeAsker:
    """Records questions; the test answers them when it likes."""

    def __init__(self) -> None:
        self.asked: list[tuple[Command, Callable[[ResultData], None], Callable[[str, str], None]]]
        self.asked = []

    def query(
        self,
        command: Command,
        on_result: Callable[[ResultData], None],
        on_error: Callable[[str, str], None],
    ) -> None:
        self.asked.append((command, on_result, on_error))

    @property
    def last(self) -> SupportRequest:
        command = self.asked[-1][0]
        assert isinstance(command, SupportRequest)
        return command

    def answer(self, result: ResultData, index: int = -1) -> None:
        self.asked[index][1](result)


def selected(asker: FakeAsker) -> tuple[bool, bool | None, bool]:
    """What the last question said: (large spill, night, fire)."""
    return asker.last.large_spill, asker.last.night, asker.last.fire


def chlorine(isolation: float = 60.0, day: float = 300.0, night: float = 1100.0) -> ChemicalView:
    return ChemicalView(
        un_number="1017",
        name="氯",
        name_en="Chlorine",
        cas="7782-50-5",
        hazard_class="2.3",
        hazards="剧毒气体",
        first_aid="移至空气新鲜处",
        firefighting="切断气源",
        spill="雾状水稀释",
        isolation_m=isolation,
        protect_day_m=day,
        protect_night_m=night,
        source="ERG 2016 表1",
    )


def answer(incident_id: int = 7, *, outer: float = 300.0) -> DecisionSupport:
    return DecisionSupport(
        incident_id=incident_id,
        lat=LAT,
        lon=LON,
        hazard_source="HS-CL",
        chemicals=[chlorine()],
        unknown_chemicals=["神秘液体"],
        rings=[
            RingView(kind=RingKind.ISOLATION, radius_m=60.0, chemical="1017"),
            RingView(kind=RingKind.PROTECTIVE, radius_m=outer, chemical="1017"),
        ],
        exposed=[
            ExposedView(
                kind="enterprise",
                code="ENT-1",
                name="氯碱化工有限公司",
                category="危险化学品生产",
                distance_m=55.0,
                ring=RingKind.ISOLATION,
            ),
            ExposedView(
                kind="target",
                code="SCH-1",
                name="城东小学",
                category="school",
                distance_m=300.0,
                ring=RingKind.PROTECTIVE,
                population=1200,
            ),
            ExposedView(
                kind="camera",
                code="CAM-1",
                name="储罐区东门",
                distance_m=320.0,
                ring=RingKind.PROTECTIVE,
            ),
        ],
        population=1200,
        night=False,
    )


@pytest.fixture
def pane(qtbot: QtBot) -> tuple[DecisionPane, FakeAsker, list[IncidentView | None]]:
    asker = FakeAsker()
    shown: list[IncidentView | None] = [make_incident(7, lat=LAT, lon=LON)]
    widget = DecisionPane(asker, lambda: shown[0])
    qtbot.addWidget(widget)
    return widget, asker, shown


def test_the_selectors_are_the_question_and_each_change_asks_again(
    pane: tuple[DecisionPane, FakeAsker, list[IncidentView | None]],
) -> None:
    widget, asker, _shown = pane
    widget.ask()
    assert (asker.last.incident_id, asker.last.chemicals) == (7, [])
    assert selected(asker) == (False, None, False)
    widget.spill_combo.setCurrentIndex(1)
    assert selected(asker) == (True, None, False)
    widget.time_combo.setCurrentIndex(2)
    assert selected(asker) == (True, True, False)
    widget.time_combo.setCurrentIndex(1)
    assert selected(asker) == (True, False, False)
    widget.fire_check.setChecked(True)
    assert selected(asker) == (True, False, True)
    widget.chemicals_edit.setText("液氯， UN1005；苯")
    widget.chemicals_edit.returnPressed.emit()
    assert asker.last.chemicals == ["液氯", "UN1005", "苯"]
    assert len(asker.asked) == 6


def test_the_answer_is_shown(
    pane: tuple[DecisionPane, FakeAsker, list[IncidentView | None]],
) -> None:
    widget, asker, _shown = pane
    assert not widget.map_button.isEnabled()
    widget.ask()
    asker.answer(answer())
    assert widget.status_label.text() == "Daytime distances"
    assert widget.map_button.isEnabled()
    assert "Isolation zone 60 m" in widget.summary_label.text()
    assert "Protective zone 300 m" in widget.summary_label.text()
    assert "1200" in widget.summary_label.text()
    assert "神秘液体" in widget.unknown_label.text()
    cards = widget.cards.toPlainText()
    for text in ("UN1017 氯", "剧毒气体", "移至空气新鲜处", "切断气源", "雾状水稀释", "1.1 km"):
        assert text in cards
    assert widget.row_texts() == [
        ["Enterprise", "氯碱化工有限公司", "55 m", "Isolation zone", ""],
        ["School", "城东小学", "300 m", "Protective zone", "1200"],
        ["Camera", "储罐区东门", "320 m", "Protective zone", ""],
    ]
    with_map: list[DecisionSupport] = []
    widget.map_requested.connect(with_map.append)
    widget.map_button.click()
    assert with_map == [widget.answer]


def test_a_refusal_is_explained_and_a_late_answer_ignored(
    pane: tuple[DecisionPane, FakeAsker, list[IncidentView | None]],
) -> None:
    widget, asker, _shown = pane
    widget.ask()
    widget.fire_check.setChecked(True)  # asks again before the first answer came
    asker.answer(answer(outer=999.0), index=0)
    assert widget.answer is None
    asker.asked[1][2]("validation", "incident 7 has no place on the map: give a point")
    assert "no place on the map" in widget.status_label.text()
    assert widget.row_texts() == []
    assert not widget.map_button.isEnabled()


def test_another_incident_forgets_the_old_answer(
    pane: tuple[DecisionPane, FakeAsker, list[IncidentView | None]],
) -> None:
    widget, asker, shown = pane
    widget.ask()
    asker.answer(answer())
    shown[0] = make_incident(8, lat=LAT, lon=LON)
    widget.follow()  # not in view: forgotten, asked when opened
    assert widget.answer is None
    assert widget.row_texts() == []
    widget.show()
    assert asker.last.incident_id == 8
    shown[0] = None
    widget.ask()
    assert widget.status_label.text() == "No incident selected"


def test_split_names() -> None:
    assert split_names(" 液氯 ,, 液氨、1203 ;") == ["液氯", "液氨", "1203"]
    assert split_names("") == []


def test_circles_are_the_radius_all_round() -> None:
    points = circle_points(LAT, LON, 500.0)
    assert points[0] == pytest.approx(points[-1])
    for lon, lat in points:
        # Haversine from the centre.
        phi1, phi2 = math.radians(LAT), math.radians(lat)
        a = (
            math.sin((phi2 - phi1) / 2) ** 2
            + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon - LON) / 2) ** 2
        )
        assert 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a)) == pytest.approx(500.0, abs=0.01)


def test_the_rings_are_drawn_with_their_labels(qtbot: QtBot) -> None:
    view = MapView(basemap=False)
    qtbot.addWidget(view)
    layer = DecisionRingsLayer(view.view_box.childGroup)
    rings = answer().rings
    layer.show_rings(LAT, LON, rings)
    assert len(layer.circles) == 2
    assert layer.label_texts() == ["Isolation zone 60 m", "Protective zone 300 m"]
    # The outer circle is five times as wide as the inner one (300 m, 60 m), both centred.
    inner, outer = (circle.path().boundingRect() for circle in layer.circles)
    assert outer.width() == pytest.approx(inner.width() * 5, rel=0.05)
    assert outer.center().x() == pytest.approx(inner.center().x(), abs=1.0)
    layer.show_rings(LAT, LON, [RingView(kind=RingKind.CUSTOM, radius_m=2500.0)])
    assert layer.label_texts() == ["Set radius 2.5 km"]
    layer.clear()
    assert layer.circles == []
    assert layer.label_texts() == []


def test_in_chinese(chinese: list[QTranslator], qtbot: QtBot) -> None:
    assert chinese
    assert ring_label(RingView(kind=RingKind.ISOLATION, radius_m=500.0)) == "隔离区 500 m"
    assert ring_label(RingView(kind=RingKind.PROTECTIVE, radius_m=7900.0)) == "防护区 7.9 km"
    asker = FakeAsker()
    widget = DecisionPane(asker, lambda: make_incident(7, lat=LAT, lon=LON))
    qtbot.addWidget(widget)
    assert widget.map_button.text() == "在地图上显示"
    widget.ask()
    asker.answer(answer())
    assert widget.row_texts()[1][:2] == ["学校", "城东小学"]
    assert widget.row_texts()[0][0] == "企业"
    view = MapView(basemap=False)
    qtbot.addWidget(view)
    view.add_layer(DecisionRingsLayer(view.view_box.childGroup))
    assert view.layer_actions[LayerKey.DECISION_RINGS].text() == "辅助决策范围"


def test_the_rings_have_their_own_entry_in_the_layer_menu(qtbot: QtBot) -> None:
    view = MapView(basemap=False)
    qtbot.addWidget(view)
    layer = view.add_layer(DecisionRingsLayer(view.view_box.childGroup))
    layer.show_rings(LAT, LON, answer().rings)
    titles = [action.text() for action in view.layer_menu.actions()]
    # Listed top layer first: above the replayed track, under the hazard sources.
    assert titles.index("Hazard sources") < titles.index("Decision support zones")
    assert titles.index("Decision support zones") < titles.index("Replayed track")
    assert titles.count("Decision support zones") == 1
    # Unticking it hides the rings and nothing else; the geofences keep their own entry.
    view.layer_actions[LayerKey.DECISION_RINGS].setChecked(False)
    assert not layer.container.isVisible()
    assert view.layer_visible(LayerKey.GEOFENCES)
    assert view.geofences.container.isVisible()
    view.layer_actions[LayerKey.GEOFENCES].setChecked(False)
    view.layer_actions[LayerKey.DECISION_RINGS].setChecked(True)
    assert layer.container.isVisible()
    assert not view.geofences.container.isVisible()


class DecisionClient(ScriptedClient):
    """The scripted incident server, answering ``decision.support`` too."""

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        if isinstance(command, SupportRequest):
            self.commands.append(command)
            return answer(command.incident_id or 0)
        return await super().request(command, timeout)


@pytest.fixture
def scripted(qt_loop: qasync.QEventLoop) -> Iterator[tuple[ConsoleService, list[DecisionClient]]]:
    clients: list[DecisionClient] = []

    def factory(_url: str, listener: ConsoleService, *_args: object) -> DecisionClient:
        client = DecisionClient(listener)
        clients.append(client)
        return client

    service = ConsoleService(client_factory=factory)
    yield service, clients
    qt_loop.run_until_complete(service.stop())


def test_the_workspace_tab_asks_and_show_on_map_draws_and_centres(
    scripted: tuple[ConsoleService, list[DecisionClient]], qtbot: QtBot, run: Run
) -> None:
    service, clients = scripted
    window = QMainWindow()
    qtbot.addWidget(window)
    map_view = MapView(basemap=False)
    map_dock = QDockWidget("map", window)
    map_dock.setWidget(map_view)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, map_dock)
    incidents = WindowIncidents(
        window,
        service,
        AlarmSounder(use_audio=False),
        alarms=service.store,
        detail_pane=AlarmDetailPane(service),
        map_view=map_view,
        map_dock=map_dock,
        notify=lambda _text, _error: None,
    )
    window.show()

    async def scenario() -> None:
        await log_in(service, incidents.desk, user(Role.OFFICER))
        clients[0].incidents = [make_incident(1, lat=LAT, lon=LON)]
        incidents.desk.reload()
        await wait_until(lambda: 1 in incidents.desk.board.incidents, what="incident")
        incidents.open_incident(1)
        workspace = incidents.panel.workspace
        pane = workspace.decision_pane
        await call(lambda: workspace.tabs.setCurrentWidget(pane))
        await wait_until(lambda: pane.answer is not None, what="decision support")
        [asked] = [c for c in clients[0].commands if isinstance(c, SupportRequest)]
        assert asked.incident_id == 1
        assert pane.row_texts()[1][1] == "城东小学"
        assert incidents.decision_rings.circles == []
        # Hidden from the layer menu, the rings come back when asked for on the map.
        map_view.set_layer_visible(LayerKey.DECISION_RINGS, False)
        await call(pane.map_button.click)
        assert map_view.layer_visible(LayerKey.DECISION_RINGS)
        assert map_view.layer_actions[LayerKey.DECISION_RINGS].isChecked()
        assert incidents.decision_rings.label_texts() == [
            "Isolation zone 60 m",
            "Protective zone 300 m",
        ]
        lon, lat = map_view.view_center()
        assert lon == pytest.approx(LON, abs=1e-4)
        assert lat == pytest.approx(LAT, abs=1e-4)
        west, south, east, north = map_view.view_extent()
        outer = incidents.decision_rings.circles[1].path().boundingRect()
        assert west <= outer.left()
        assert outer.right() <= east
        assert south <= outer.top()
        assert outer.bottom() <= north
        # A new answer (a large spill, say) redraws the rings already shown.
        await call(lambda: pane.spill_combo.setCurrentIndex(1))
        await wait_until(
            lambda: len([c for c in clients[0].commands if isinstance(c, SupportRequest)]) == 2,
            what="second question",
        )
        await wait_until(lambda: len(incidents.decision_rings.circles) == 2, what="rings")

    run(scenario())
