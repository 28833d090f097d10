"""Grants, end to end: an alarm and a camera shared with an agency, what its desk then
sees, how each share ends (revoked, expired, the alarm closed), and that every grant is an
audited event of the hash-chained log."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from backend.eventlog import log as eventlog
from backend.server.app import DutyDeskServer
from realtime.client import CommandError
from realtime.protocol import (
    AgenciesResult,
    AlarmResult,
    CamerasResult,
    CameraView,
    CreateAlarm,
    ErrorCode,
    GetAlarmHistory,
    GrantResult,
    GrantsResult,
    HistoryResult,
    ListAgencies,
    ListCameras,
    ListGrants,
    Role,
    ShareAlarm,
    ShareCamera,
    TransitionAlarm,
    UnshareAlarm,
    UnshareCamera,
)
from realtime.states import AlarmAction, AlarmLevel
from tests.backend.conftest import Console, open_console

CAMERA = CameraView(
    id=0,
    code="CAM-TANK",
    name="罐区东",
    lat=32.25,
    lon=118.78,
    agency="safety",
    jurisdiction="320111",
    stream_url="rtsp://viewer:secret@192.0.2.7/1",
)


async def _setup(server: DutyDeskServer) -> tuple[Console, Console, int]:
    await server.users.add_user("fire-desk", "pw-fire-desk", Role.AGENCY, agency="fire")
    await server.cameras.import_cameras([CAMERA])
    officer = await open_console(server)
    fire = await open_console(server, "fire-desk", "pw-fire-desk")
    created = await officer.client.request(
        CreateAlarm(
            req="", alarm_type="fire", level=AlarmLevel.RED, title="罐区起火", jurisdiction="320111"
        )
    )
    assert isinstance(created, AlarmResult)
    return officer, fire, created.alarm.id


async def _cameras(console: Console) -> list[str]:
    listed = await console.client.request(ListCameras(req=""))
    assert isinstance(listed, CamerasResult)
    return [camera.code for camera in listed.cameras]


async def test_an_alarm_and_a_camera_shared_with_an_agency_and_ended_by_closing(
    server: DutyDeskServer,
) -> None:
    officer, fire, alarm_id = await _setup(server)
    try:
        assert fire.recorder.snapshots[-1].alarms == []
        assert await _cameras(fire) == [], "another agency's camera"
        # A camera share needs the alarm shared with (or dispatched to) the agency first.
        with pytest.raises(CommandError) as too_early:
            await officer.client.request(
                ShareCamera(req="", camera="CAM-TANK", agency="fire", alarm_id=alarm_id)
            )
        assert too_early.value.code is ErrorCode.VALIDATION

        shared = await officer.client.request(
            ShareAlarm(req="", alarm_id=alarm_id, agency="fire", note="请求增援")
        )
        assert isinstance(shared, AlarmResult)
        assert shared.alarm.shared_with == ["fire"]
        await fire.recorder.wait_for(lambda: len(fire.recorder.events) == 1)
        event = fire.recorder.events[0]
        assert event.kind == "grant.alarm_shared"
        assert event.alarm is not None
        assert event.alarm.id == alarm_id
        assert event.grant is not None
        assert (event.grant.agency, event.grant.by) == ("fire", "officer1")
        with pytest.raises(CommandError) as twice:
            await officer.client.request(ShareAlarm(req="", alarm_id=alarm_id, agency="fire"))
        assert "already shared" in twice.value.message

        granted = await officer.client.request(
            ShareCamera(req="", camera="CAM-TANK", agency="fire", alarm_id=alarm_id, note="看火情")
        )
        assert isinstance(granted, GrantResult)
        assert granted.grant.camera == "CAM-TANK"
        await fire.recorder.wait_for(lambda: len(fire.recorder.events) == 2)
        assert fire.recorder.events[1].kind == "grant.camera_shared"
        assert await _cameras(fire) == ["CAM-TANK"]
        grants = await fire.client.request(ListGrants(req=""))
        assert isinstance(grants, GrantsResult)
        assert sorted(g.kind for g in grants.grants) == ["alarm", "camera"]
        history = await fire.client.request(GetAlarmHistory(req="", alarm_id=alarm_id))
        assert isinstance(history, HistoryResult)
        assert [e.kind for e in history.events] == [
            "alarm.raised",
            "grant.alarm_shared",
            "grant.camera_shared",
        ]

        # The alarm ends as a false alarm: the camera share ends with it.
        for action, version, note in (
            (AlarmAction.ACKNOWLEDGE, 2, ""),  # version 2: the share made one
            (AlarmAction.MARK_FALSE, 3, "演练误报"),
        ):
            await officer.client.request(
                TransitionAlarm(
                    req="", alarm_id=alarm_id, action=action, expected_version=version, note=note
                )
            )
        assert await _cameras(fire) == []
        grants = await fire.client.request(ListGrants(req=""))
        assert isinstance(grants, GrantsResult)
        assert [g.kind for g in grants.grants] == ["alarm"], "the alarm share stays"
        with pytest.raises(CommandError) as over:
            await officer.client.request(
                ShareCamera(req="", camera="CAM-TANK", agency="fire", alarm_id=alarm_id)
            )
        assert "the alarm is over" in over.value.message

        async with server.sessions() as session:
            report = await eventlog.verify(session)
        assert report.ok, report.problems
    finally:
        await officer.close()
        await fire.close()


async def test_unsharing_tells_the_agency_and_then_hides_the_alarm(
    server: DutyDeskServer,
) -> None:
    officer, fire, alarm_id = await _setup(server)
    try:
        await officer.client.request(ShareAlarm(req="", alarm_id=alarm_id, agency="fire"))
        await officer.client.request(
            ShareCamera(req="", camera="CAM-TANK", agency="fire", alarm_id=alarm_id)
        )
        revoked = await officer.client.request(
            UnshareCamera(req="", camera="CAM-TANK", agency="fire", alarm_id=alarm_id)
        )
        assert isinstance(revoked, GrantResult)
        assert revoked.grant.revoked
        assert await _cameras(fire) == []
        with pytest.raises(CommandError) as not_shared:
            await officer.client.request(
                UnshareCamera(req="", camera="CAM-TANK", agency="fire", alarm_id=alarm_id)
            )
        assert not_shared.value.message == "the camera is not shared with fire"

        unshared = await officer.client.request(
            UnshareAlarm(req="", alarm_id=alarm_id, agency="fire", note="已处置")
        )
        assert isinstance(unshared, AlarmResult)
        assert unshared.alarm.shared_with == []
        assert unshared.alarm.version == 3, "shared, then unshared: two new versions"
        await fire.recorder.wait_for(
            lambda: any(e.kind == "grant.alarm_unshared" for e in fire.recorder.events)
        )
        last = fire.recorder.events[-1]
        assert last.grant is not None
        assert last.grant.revoked
        # From now on the alarm is out of the desk's scope: as if it did not exist.
        await officer.client.request(
            TransitionAlarm(
                req="", alarm_id=alarm_id, action=AlarmAction.ACKNOWLEDGE, expected_version=3
            )
        )
        with pytest.raises(CommandError) as gone:
            await fire.client.request(GetAlarmHistory(req="", alarm_id=alarm_id))
        assert (gone.value.code, gone.value.message) == (
            ErrorCode.FORBIDDEN,
            "no such alarm in your area",
        )
        await officer.recorder.wait_for(
            lambda: any(e.kind == "alarm.transitioned" for e in officer.recorder.events)
        )
        assert all(e.kind != "alarm.transitioned" for e in fire.recorder.events)
    finally:
        await officer.close()
        await fire.close()


async def test_a_camera_share_expires(server: DutyDeskServer) -> None:
    officer, fire, alarm_id = await _setup(server)
    try:
        await officer.client.request(ShareAlarm(req="", alarm_id=alarm_id, agency="fire"))
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        with pytest.raises(CommandError) as expired:
            await officer.client.request(
                ShareCamera(
                    req="", camera="CAM-TANK", agency="fire", alarm_id=alarm_id, expires_at=past
                )
            )
        assert "future" in expired.value.message
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.6)
        await officer.client.request(
            ShareCamera(
                req="", camera="CAM-TANK", agency="fire", alarm_id=alarm_id, expires_at=soon
            )
        )
        assert await _cameras(fire) == ["CAM-TANK"]
        await asyncio.sleep(max(0.0, (soon - dt.datetime.now(dt.UTC)).total_seconds()) + 0.1)
        assert await _cameras(fire) == []
        # An expired share can be granted again.
        again = await officer.client.request(
            ShareCamera(req="", camera="CAM-TANK", agency="fire", alarm_id=alarm_id)
        )
        assert isinstance(again, GrantResult)
    finally:
        await officer.close()
        await fire.close()


async def test_agency_names_and_refusals_of_unknown_agencies(server: DutyDeskServer) -> None:
    officer, fire, alarm_id = await _setup(server)
    try:
        listed = await fire.client.request(ListAgencies(req=""))
        assert isinstance(listed, AgenciesResult)
        names = {agency.code: agency.name_zh for agency in listed.agencies}
        assert names["fire"] == "消防救援"
        assert names["police"] == "公安"
        with pytest.raises(CommandError) as unknown:
            await officer.client.request(ShareAlarm(req="", alarm_id=alarm_id, agency="nasa"))
        assert unknown.value.message == "no active agency 'nasa'"
        with pytest.raises(CommandError) as not_shared:
            await officer.client.request(UnshareAlarm(req="", alarm_id=alarm_id, agency="fire"))
        assert not_shared.value.message == "the alarm is not shared with fire"
        with pytest.raises(CommandError) as no_camera:
            await officer.client.request(
                ShareCamera(req="", camera="CAM-NONE", agency="fire", alarm_id=alarm_id)
            )
        assert no_camera.value.message == "no such camera in your area"
        with pytest.raises(CommandError) as desk_may_not:
            await fire.client.request(ShareAlarm(req="", alarm_id=alarm_id, agency="fire"))
        assert desk_may_not.value.message == "role agency may not share alarms with agencies"
    finally:
        await officer.close()
        await fire.close()


async def test_an_agency_desk_needs_an_agency_of_the_table(server: DutyDeskServer) -> None:
    from backend.registry.users import Error as UserError

    with pytest.raises(UserError, match="must belong to an agency"):
        await server.users.add_user("nobody-desk", "pw-nobody-desk", Role.AGENCY)
    with pytest.raises(UserError, match="no active agency 'nasa'"):
        await server.users.add_user("nasa-desk", "pw-nasa-desk", Role.AGENCY, agency="nasa")
    added = await server.agencies.add("nasa", "航天", name_en="Space")
    assert added.name_zh == "航天"
    principal = await server.users.add_user("nasa-desk", "pw-nasa-desk", Role.AGENCY, agency="nasa")
    assert principal.agency == "nasa"
    assert (await server.agencies.get("nasa")) is not None
    await server.agencies.disable("nasa")
    assert (await server.agencies.get("nasa")) is None
