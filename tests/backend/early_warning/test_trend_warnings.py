"""Trend and co-rise warnings over a real server (SQLite and PostgreSQL): raised from
readings as they are stored, once, seen only inside their area, acknowledged and closed
at the version read; never an alarm; the projection for the trends panel."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.authz.principal import Principal
from backend.early_warning.detector import Raise
from backend.server.app import DutyDeskServer
from realtime.client import CommandError
from realtime.protocol import (
    ActOnWarning,
    ErrorCode,
    GetProjection,
    ListWarnings,
    Ping,
    Pong,
    ProjectionResult,
    Role,
    WarningAction,
    WarningResult,
    WarningsResult,
)
from realtime.protocol.early_warning import (
    EarlyWarningView,
    WarningLevel,
    WarningSource,
    WarningState,
)
from tests.backend.conftest import open_console
from tests.backend.early_warning.conftest import PASSWORD, TOWN, feed, rising

WHOLE_AREA = Principal(1, "officer1", "officer1", Role.OFFICER, None, "")


async def test_a_rising_sensor_raises_one_warning_seen_in_its_area_only(
    warned: DutyDeskServer,
) -> None:
    server = warned
    town1 = await open_console(server, "town1", PASSWORD)
    town2 = await open_console(server, "town2", PASSWORD)
    try:
        start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=300)
        await feed(server, rising("A", start=start, count=40, first=0.1, step=0.015))
        await town1.recorder.wait_for(
            lambda: any(e.kind == "warning.raised" for e in town1.recorder.events)
        )
        raised = [e for e in town1.recorder.events if e.kind == "warning.raised"]
        assert len(raised) == 1
        warning = raised[0].early_warning
        assert isinstance(warning, EarlyWarningView)
        assert warning.source is WarningSource.TREND
        assert warning.jurisdiction == TOWN
        assert warning.hazard_source == "HS-1"
        assert warning.projection is not None
        assert warning.predicted_at is not None
        assert not [e for e in town1.recorder.events if e.kind.startswith("alarm.")], (
            "a warning is never an alarm"
        )
        listed = await town1.client.request(ListWarnings(req=""))
        assert isinstance(listed, WarningsResult)
        assert [w.id for w in listed.warnings] == [warning.id]
        other = await town2.client.request(ListWarnings(req=""))
        assert isinstance(other, WarningsResult)
        assert other.warnings == []
        assert not [e for e in town2.recorder.events if e.kind.startswith("warning.")]
    finally:
        await town1.close()
        await town2.close()


async def test_acknowledge_and_close_at_the_version_read(warned: DutyDeskServer) -> None:
    server = warned
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=300)
    await feed(server, rising("A", start=start, count=40, first=0.1, step=0.015))
    officer = await open_console(server, "town1", PASSWORD)
    outsider = await open_console(server, "town2", PASSWORD)
    try:
        listed = await officer.client.request(ListWarnings(req=""))
        assert isinstance(listed, WarningsResult)
        (warning,) = listed.warnings
        with pytest.raises(CommandError) as hidden:
            await outsider.client.request(
                ActOnWarning(
                    req="",
                    warning_id=warning.id,
                    version=warning.version,
                    action=WarningAction.ACKNOWLEDGE,
                )
            )
        assert hidden.value.code is ErrorCode.FORBIDDEN
        with pytest.raises(CommandError) as missing:
            await outsider.client.request(
                ActOnWarning(req="", warning_id=99999, version=1, action=WarningAction.ACKNOWLEDGE)
            )
        assert missing.value.message == hidden.value.message, "out of area looks missing"
        acked = await officer.client.request(
            ActOnWarning(
                req="",
                warning_id=warning.id,
                version=warning.version,
                action=WarningAction.ACKNOWLEDGE,
            )
        )
        assert isinstance(acked, WarningResult)
        assert acked.warning.state is WarningState.ACKNOWLEDGED
        assert acked.warning.acknowledged_by == "town1"
        with pytest.raises(CommandError) as stale:
            await officer.client.request(
                ActOnWarning(
                    req="",
                    warning_id=warning.id,
                    version=warning.version,
                    action=WarningAction.CLOSE,
                    note="x",
                )
            )
        assert stale.value.code is ErrorCode.STALE_VERSION
        with pytest.raises(CommandError) as no_note:
            await officer.client.request(
                ActOnWarning(
                    req="",
                    warning_id=warning.id,
                    version=acked.warning.version,
                    action=WarningAction.CLOSE,
                )
            )
        assert no_note.value.code is ErrorCode.VALIDATION
        assert "note" in no_note.value.message
        closed = await officer.client.request(
            ActOnWarning(
                req="",
                warning_id=warning.id,
                version=acked.warning.version,
                action=WarningAction.CLOSE,
                note="现场已通风，误差",
            )
        )
        assert isinstance(closed, WarningResult)
        assert closed.warning.state is WarningState.CLOSED
        assert closed.warning.closed_by == "town1"
        await officer.recorder.wait_for(
            lambda: any(e.kind == "warning.ended" for e in officer.recorder.events)
        )
        assert isinstance(await officer.client.request(Ping(req="")), Pong)
        open_now = await officer.client.request(ListWarnings(req=""))
        assert isinstance(open_now, WarningsResult)
        assert open_now.warnings == []
        ended = await officer.client.request(ListWarnings(req="", include_ended=True))
        assert isinstance(ended, WarningsResult)
        assert [w.state for w in ended.warnings] == [WarningState.CLOSED]
    finally:
        await officer.close()
        await outsider.close()


async def test_two_sensors_of_a_hazard_source_rising_together(warned: DutyDeskServer) -> None:
    server = warned
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=300)
    # Both rise slowly (far from any level within the horizon), together.
    readings = sorted(
        rising("A", start=start, count=30, first=0.1, step=0.004)
        + rising("B", start=start, count=30, first=0.2, step=0.004),
        key=lambda r: r[1],
    )
    await feed(server, readings)
    warnings = await server.early_warnings.list(
        WHOLE_AREA,
        include_ended=False,
        since=None,
    )
    co = [w for w in warnings if w.source is WarningSource.CO_RISE]
    assert len(co) == 1
    assert co[0].hazard_source == "HS-1"
    assert co[0].sensors == ["A", "B"]
    assert "一号储罐区" in co[0].title
    assert not [w for w in warnings if w.source is WarningSource.TREND]


async def test_a_raise_from_two_instances_merges_into_one_open_warning(
    warned: DutyDeskServer,
) -> None:
    service = warned.early_warnings
    at = dt.datetime.now(dt.UTC)
    decision = Raise(
        key=(WarningSource.TREND, "A"),
        level=WarningLevel.YELLOW,
        at=at,
        title="甲烷A 趋势预警",
        detail="",
        sensors=("A",),
        hazard_source="HS-1",
    )
    first = await service.apply(decision)
    again = await service.apply(decision)
    assert first is not None
    assert again is not None
    assert again.id == first.id
    assert again.count == 2
    warnings = await service.list(WHOLE_AREA, include_ended=False, since=None)
    assert len(warnings) == 1


async def test_the_projection_for_the_trends_panel(warned: DutyDeskServer) -> None:
    server = warned
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=120)
    await feed(server, rising("A", start=start, count=20, first=0.1, step=0.01))
    officer = await open_console(server, "town1", PASSWORD)
    outsider = await open_console(server, "town2", PASSWORD)
    try:
        result = await officer.client.request(GetProjection(req="", sensor="A", horizon_s=600))
        assert isinstance(result, ProjectionResult)
        projection = result.projection
        assert projection is not None
        assert projection.points == 20
        assert projection.slope_per_min == pytest.approx(0.12)
        assert projection.level == "yellow"
        assert projection.crossing_at is not None
        empty = await officer.client.request(GetProjection(req="", sensor="B"))
        assert isinstance(empty, ProjectionResult)
        assert empty.projection is None
        assert "readings" in empty.reason
        with pytest.raises(CommandError) as hidden:
            await outsider.client.request(GetProjection(req="", sensor="A"))
        with pytest.raises(CommandError) as missing:
            await outsider.client.request(GetProjection(req="", sensor="nope"))
        assert hidden.value.message == missing.value.message
    finally:
        await officer.close()
        await outsider.close()


async def test_a_console_that_reconnects_catches_up_on_the_warnings_it_missed(
    warned: DutyDeskServer,
) -> None:
    first = await open_console(warned, "town1", PASSWORD)
    assert first.recorder.welcome is not None
    seen = first.recorder.welcome.head_seq
    await first.close()
    decision = Raise(
        key=(WarningSource.TREND, "B"),
        level=WarningLevel.ORANGE,
        at=dt.datetime.now(dt.UTC),
        title="甲烷B 趋势预警",
        detail="",
        sensors=("B",),
        hazard_source="HS-1",
    )
    raised = await warned.early_warnings.apply(decision)
    assert raised is not None
    again = await open_console(warned, "town1", PASSWORD, last_seq=seen)
    try:
        await again.recorder.wait_for(
            lambda: any(e.kind == "warning.raised" for e in again.recorder.events)
        )
        (event,) = [e for e in again.recorder.events if e.kind == "warning.raised"]
        assert isinstance(event.early_warning, EarlyWarningView)
        assert event.early_warning.id == raised.id
    finally:
        await again.close()
