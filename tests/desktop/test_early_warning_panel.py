"""The console's early warnings: the 预警 panel (level colour, labels, live by events,
acknowledge and close at the version read, gated by role) and the trends panel's dashed
projection with its predicted crossing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
import qasync
from pytestqt.qtbot import QtBot

from desktop.early_warning.labels import LEVEL_COLOURS
from desktop.early_warning.panel import LEVEL, STATE, SUBJECT, TITLE, WarningPanel
from desktop.service import ConsoleService
from desktop.state import AlarmStore
from desktop.trends.panel import TrendsPanel
from desktop.trends.store import epoch
from realtime.client import CommandError
from realtime.protocol import (
    ActOnWarning,
    Command,
    EarlyWarningView,
    ErrorCode,
    Event,
    GetProjection,
    GetSeries,
    ListWarnings,
    ProjectionResult,
    ResultData,
    Role,
    SensorView,
    SeriesResult,
    WarningResult,
    WarningsResult,
)
from realtime.protocol.early_warning import (
    FitMethod,
    TrendProjection,
    WarningLevel,
    WarningSource,
    WarningState,
)
from tests.desktop.conftest import wait_until
from tests.desktop.test_trends_panel import CH4, AnsweringClient

pytestmark = pytest.mark.gui

Run = Callable[..., Any]
NOW = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC)

TREND = EarlyWarningView(
    id=1,
    version=1,
    source=WarningSource.TREND,
    level=WarningLevel.YELLOW,
    state=WarningState.ACTIVE,
    title="工作面 甲烷 趋势预警：约 8 分 00 秒后达到橙色报警值",
    jurisdiction="320116",
    hazard_source="HS-DSKY-1203",
    sensors=["ch4-0001"],
    raised_at=NOW - dt.timedelta(minutes=3),
    updated_at=NOW,
    predicted_at=NOW + dt.timedelta(minutes=8),
)
WEATHER = EarlyWarningView(
    id=2,
    version=1,
    source=WarningSource.WEATHER,
    level=WarningLevel.RED,
    state=WarningState.ACTIVE,
    title="暴雨红色预警：A 区储罐区",
    hazard_source="HS-JBHG-A",
    raised_at=NOW - dt.timedelta(minutes=1),
    updated_at=NOW,
)
PROJECTION = TrendProjection(
    sensor="ch4-0001",
    unit="%",
    method=FitMethod.THEIL_SEN,
    window_s=300,
    points=60,
    at=NOW,
    slope_per_min=0.06,
    fitted_from_at=NOW - dt.timedelta(seconds=295),
    fitted_from_value=0.5,
    fitted_to_at=NOW + dt.timedelta(seconds=300),
    fitted_to_value=0.8,
    horizon_s=600,
    level="yellow",
    level_value=0.8,
    crossing_at=NOW + dt.timedelta(seconds=300),
)


def answer(command: Command) -> ResultData:
    if isinstance(command, ListWarnings):
        return WarningsResult(warnings=[TREND, WEATHER])
    if isinstance(command, ActOnWarning):
        if command.version != TREND.version:
            raise CommandError(ErrorCode.STALE_VERSION, "reload")
        return WarningResult(warning=_acknowledged())
    if isinstance(command, GetProjection):
        return ProjectionResult(sensor=command.sensor, projection=PROJECTION)
    if isinstance(command, GetSeries):
        return SeriesResult(
            sensor=command.sensor, unit="%", source="raw", downsampled=False, points=[]
        )
    raise CommandError(ErrorCode.BAD_MESSAGE, "unexpected")


def _acknowledged() -> EarlyWarningView:

    return msgspec.structs.replace(
        TREND, version=2, state=WarningState.ACKNOWLEDGED, acknowledged_by="officer1"
    )


@pytest.fixture
def service(qt_loop: qasync.QEventLoop) -> Iterator[tuple[ConsoleService, list[AnsweringClient]]]:
    clients: list[AnsweringClient] = []

    def factory(_url: str, listener: ConsoleService, *_args: Any) -> AnsweringClient:
        client = AnsweringClient(listener, answer)
        clients.append(client)
        return client

    console = ConsoleService(client_factory=factory, telemetry_topics=())
    yield console, clients
    qt_loop.run_until_complete(console.stop())


def test_the_warning_panel_lists_acts_and_follows_events(
    qtbot: QtBot, run: Run, service: tuple[ConsoleService, list[AnsweringClient]]
) -> None:
    console, clients = service
    panel = WarningPanel(console, clock=lambda: NOW)
    qtbot.addWidget(panel)
    counts: list[int] = []
    panel.count_changed.connect(counts.append)
    panel.set_role(Role.OFFICER)
    panel.set_sensor_names({"ch4-0001": "工作面 甲烷"})

    async def load() -> None:
        console.start("ws://fake", "officer1", "pw")
        panel.load()
        await wait_until(lambda: panel.table.rowCount() == 2, what="warnings listed")

    run(load())
    # Most severe first, coloured by level, labels not codes.
    first = panel.table.item(0, LEVEL)
    assert first is not None
    assert first.background().color() == LEVEL_COLOURS[WarningLevel.RED]
    title = panel.table.item(1, TITLE)
    subject = panel.table.item(1, SUBJECT)
    assert title is not None
    assert subject is not None
    assert "趋势预警" in title.text()
    assert subject.text() == "HS-DSKY-1203：工作面 甲烷"
    assert counts[-1] == 2
    assert panel.acknowledge_button.isVisible() or not panel.isVisible()

    panel.select(TREND.id)
    assert panel.acknowledge_button.isEnabled()

    async def acknowledge() -> None:
        panel.acknowledge_selected()
        await wait_until(
            lambda: (w := panel.book.get(TREND.id)) is not None and w.version == 2,
            what="acknowledged",
        )

    run(acknowledge())
    sent = [c for c in clients[0].commands if isinstance(c, ActOnWarning)]
    assert [(c.warning_id, c.version, c.action.value) for c in sent] == [(1, 1, "acknowledge")]
    state = panel.table.item(1, STATE)
    assert state is not None
    assert state.text() in {"Acknowledged", "已确认"}
    assert not panel.acknowledge_button.isEnabled()

    # A live event ends the weather warning: it leaves the open list, the count drops.
    ended = Event(
        seq=9,
        at=NOW,
        kind="warning.ended",
        actor="early-warning",
        early_warning=msgspec_replace(WEATHER, version=2, state=WarningState.CLEARED),
    )
    console.on_event(ended)
    assert panel.table.rowCount() == 1
    assert counts[-1] == 1
    # An older version arriving late changes nothing.
    console.on_event(Event(seq=3, at=NOW, kind="warning.raised", actor="x", early_warning=WEATHER))
    assert panel.table.rowCount() == 1

    panel.set_role(Role.VIEWER)
    assert panel.acknowledge_button.isHidden()
    assert panel.close_button.isHidden()
    panel.shutdown()


def msgspec_replace(view: EarlyWarningView, **changes: Any) -> EarlyWarningView:

    return msgspec.structs.replace(view, **changes)


def test_the_trends_panel_draws_the_projection_and_the_crossing(
    qtbot: QtBot, run: Run, service: tuple[ConsoleService, list[AnsweringClient]]
) -> None:
    console, clients = service
    panel = TrendsPanel(console, AlarmStore(), clock=lambda: NOW)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.set_sensors([CH4, SensorView(sensor_id="co-0002", kind="co", unit="ppm")])

    async def scenario() -> None:
        console.start("ws://fake", "officer1", "pw")
        panel.add_sensor("ch4-0001")
        await wait_until(
            lambda: len(panel.projections.items.get("ch4-0001", [])) == 3, what="projection"
        )

    run(scenario())
    line, mark, when = panel.projections.items["ch4-0001"]
    x, y = line.getData()
    assert list(x) == [epoch(PROJECTION.fitted_from_at), epoch(PROJECTION.fitted_to_at)]
    assert list(y) == [0.5, 0.8]
    assert line.opts["pen"].style().name == "DashLine"
    crossing = epoch(NOW + dt.timedelta(seconds=300))
    assert when.value() == crossing
    spots = mark.data
    assert (spots["x"][0], spots["y"][0]) == (crossing, 0.8)
    # A rebuild of the plots (another unit added) draws it again on the new plot.
    panel.add_sensor("co-0002")
    assert len(panel.projections.items["ch4-0001"]) == 3
    assert panel.projections.items["ch4-0001"][0] is not line
    assert any(isinstance(c, GetProjection) for c in clients[0].commands)
    panel.shutdown()
