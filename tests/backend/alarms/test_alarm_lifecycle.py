"""An alarm's whole life across two live consoles, against a real server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.server.app import DutyDeskServer
from backend.storage.models import Alarm, EventRecord
from realtime.client import CommandError
from realtime.protocol import (
    AlarmResult,
    CreateAlarm,
    DispatchAlarm,
    ErrorCode,
    GetAlarmHistory,
    HistoryResult,
    ListUnits,
    TransitionAlarm,
    UnitsResult,
)
from realtime.states import AlarmAction, AlarmLevel, AlarmState
from tests.backend.conftest import Console, open_console


def _create(title: str = "仓库起火", level: AlarmLevel = AlarmLevel.RED) -> CreateAlarm:
    return CreateAlarm(
        req="",
        alarm_type="fire",
        level=level,
        title=title,
        place="物流园 5 号仓库",
        lat=32.22,
        lon=118.81,
        caller_name="张先生",
        caller_phone="13812345678",
    )


async def _act(
    console: Console, alarm_id: int, action: AlarmAction, version: int, note: str = ""
) -> AlarmResult:
    result = await console.client.request(
        TransitionAlarm(
            req="", alarm_id=alarm_id, action=action, expected_version=version, note=note
        )
    )
    assert isinstance(result, AlarmResult)
    return result


async def test_what_one_officer_does_the_other_sees(server: DutyDeskServer) -> None:
    first = await open_console(server, "officer1", "pw-officer1")
    second = await open_console(server, "officer2", "pw-officer2")
    try:
        created = await first.client.request(_create())
        assert isinstance(created, AlarmResult)
        alarm = created.alarm
        assert alarm.state is AlarmState.NEW
        assert alarm.caller_phone == "138****5678", "phone numbers are masked on the wire"

        ack = await _act(first, alarm.id, AlarmAction.ACKNOWLEDGE, alarm.version)
        units = await first.client.request(ListUnits(req=""))
        assert isinstance(units, UnitsResult)
        fire = [u for u in units.units if u.agency == "fire"][:2]
        dispatched = await first.client.request(
            DispatchAlarm(
                req="",
                alarm_id=alarm.id,
                expected_version=ack.alarm.version,
                unit_ids=[u.id for u in fire],
                note="两车出动",
            )
        )
        assert isinstance(dispatched, AlarmResult)
        assert dispatched.alarm.state is AlarmState.DISPATCHED
        assert [d.unit_name for d in dispatched.alarm.dispatches] == [u.name for u in fire]
        handling = await _act(
            second, alarm.id, AlarmAction.START_HANDLING, dispatched.alarm.version
        )
        resolved = await _act(
            first, alarm.id, AlarmAction.RESOLVE, handling.alarm.version, "明火已扑灭"
        )
        closed = await _act(second, alarm.id, AlarmAction.CLOSE, resolved.alarm.version)
        assert closed.alarm.state is AlarmState.CLOSED
        assert closed.alarm.last_note == "明火已扑灭"

        expected_states = [
            AlarmState.NEW,
            AlarmState.ACKNOWLEDGED,
            AlarmState.DISPATCHED,
            AlarmState.HANDLING,
            AlarmState.RESOLVED,
            AlarmState.CLOSED,
        ]
        for console in (first, second):
            await console.recorder.wait_for(lambda c=console: len(c.recorder.events) >= 6)
            events = console.recorder.events
            assert [e.alarm.state for e in events if e.alarm] == expected_states
            seqs = [e.seq for e in events]
            assert seqs == list(range(seqs[0], seqs[0] + 6)), "seq is gap-free and ordered"
        actors = [e.actor for e in second.recorder.events]
        assert actors == ["officer1", "officer1", "officer1", "officer2", "officer1", "officer2"]

        history = await second.client.request(GetAlarmHistory(req="", alarm_id=alarm.id))
        assert isinstance(history, HistoryResult)
        assert [e.kind for e in history.events] == [
            "alarm.raised",
            "alarm.transitioned",
            "alarm.dispatched",
            "alarm.transitioned",
            "alarm.transitioned",
            "alarm.transitioned",
        ]
    finally:
        await first.close()
        await second.close()


async def test_illegal_transition_and_stale_version_are_refused(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        created = await console.client.request(_create())
        assert isinstance(created, AlarmResult)
        alarm = created.alarm

        with pytest.raises(CommandError) as illegal:
            await _act(console, alarm.id, AlarmAction.CLOSE, alarm.version)
        assert illegal.value.code is ErrorCode.ILLEGAL_TRANSITION
        assert "cannot close" in illegal.value.message
        assert "acknowledge" in illegal.value.message, "the error lists what is allowed"

        await _act(console, alarm.id, AlarmAction.ACKNOWLEDGE, alarm.version)
        with pytest.raises(CommandError) as stale:
            await _act(console, alarm.id, AlarmAction.MARK_FALSE, alarm.version, "误报")
        assert stale.value.code is ErrorCode.STALE_VERSION
        assert "version 2" in stale.value.message

        with pytest.raises(CommandError) as note_missing:
            await _act(console, alarm.id, AlarmAction.MARK_FALSE, 2)
        assert note_missing.value.code is ErrorCode.VALIDATION

        with pytest.raises(CommandError) as missing:
            await _act(console, 99999, AlarmAction.ACKNOWLEDGE, 1)
        # A missing alarm is refused like one outside the area: nothing tells them apart.
        assert missing.value.code is ErrorCode.FORBIDDEN
        assert missing.value.message == "no such alarm in your area"

        # Nothing of the refused commands reached the database or the log.
        async with server.sessions() as session:
            row = await session.scalar(select(Alarm).where(Alarm.id == alarm.id))
            assert row is not None
            assert (row.state, row.version) == ("acknowledged", 2)
            kinds = list(await session.scalars(select(EventRecord.kind).order_by(EventRecord.seq)))
            assert kinds == ["alarm.raised", "alarm.transitioned"]
    finally:
        await console.close()


async def test_closed_alarm_is_never_reclosed_or_reopened(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        created = await console.client.request(_create())
        assert isinstance(created, AlarmResult)
        false = await _act(console, created.alarm.id, AlarmAction.MARK_FALSE, 1, "恶作剧电话")
        assert false.alarm.state is AlarmState.FALSE_ALARM
        for action in AlarmAction:
            if action is AlarmAction.DISPATCH:
                continue
            with pytest.raises(CommandError) as refused:
                await _act(console, created.alarm.id, action, false.alarm.version, "x")
            assert refused.value.code in (ErrorCode.ILLEGAL_TRANSITION, ErrorCode.VALIDATION)
    finally:
        await console.close()


async def test_merge_moves_count_to_the_target(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        first = await console.client.request(_create("化工厂泄漏"))
        second = await console.client.request(_create("化工厂泄漏（重复来电）"))
        assert isinstance(first, AlarmResult)
        assert isinstance(second, AlarmResult)
        result = await console.client.request(
            TransitionAlarm(
                req="",
                alarm_id=second.alarm.id,
                action=AlarmAction.MERGE,
                expected_version=1,
                merge_into=first.alarm.id,
            )
        )
        assert isinstance(result, AlarmResult)
        assert result.alarm.state is AlarmState.MERGED
        assert result.alarm.merged_into == first.alarm.id
        await console.recorder.wait_for(
            lambda: any(e.kind == "alarm.merged_in" for e in console.recorder.events)
        )
        merged_in = next(e for e in console.recorder.events if e.kind == "alarm.merged_in")
        assert merged_in.alarm is not None
        assert merged_in.alarm.id == first.alarm.id
        assert merged_in.alarm.count == 2

        with pytest.raises(CommandError) as self_merge:
            await console.client.request(
                TransitionAlarm(
                    req="",
                    alarm_id=first.alarm.id,
                    action=AlarmAction.MERGE,
                    expected_version=1,
                    merge_into=first.alarm.id,
                )
            )
        assert self_merge.value.code is ErrorCode.VALIDATION
    finally:
        await console.close()


async def test_dispatch_refuses_unknown_and_repeated_units(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        created = await console.client.request(_create())
        assert isinstance(created, AlarmResult)
        with pytest.raises(CommandError) as unknown:
            await console.client.request(
                DispatchAlarm(
                    req="", alarm_id=created.alarm.id, expected_version=1, unit_ids=[4242]
                )
            )
        # Refused like a unit outside the area: the answer does not tell the two apart.
        assert unknown.value.code is ErrorCode.FORBIDDEN
        assert unknown.value.message == "no such unit in your area"
        ok = await console.client.request(
            DispatchAlarm(req="", alarm_id=created.alarm.id, expected_version=1, unit_ids=[1])
        )
        assert isinstance(ok, AlarmResult)
        with pytest.raises(CommandError) as again:
            await console.client.request(
                DispatchAlarm(req="", alarm_id=created.alarm.id, expected_version=2, unit_ids=[1])
            )
        assert again.value.code is ErrorCode.VALIDATION
        assert "already dispatched" in again.value.message
    finally:
        await console.close()


async def test_create_validates_fields(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        bad = [
            CreateAlarm(req="", alarm_type="Fire!", level=AlarmLevel.RED, title="x"),
            CreateAlarm(req="", alarm_type="fire", level=AlarmLevel.RED, title="   "),
            CreateAlarm(req="", alarm_type="fire", level=AlarmLevel.RED, title="x", lat=30.0),
            CreateAlarm(
                req="", alarm_type="fire", level=AlarmLevel.RED, title="x", caller_phone="call me"
            ),
        ]
        for command in bad:
            with pytest.raises(CommandError) as refused:
                await console.client.request(command)
            assert refused.value.code is ErrorCode.VALIDATION
    finally:
        await console.close()


async def test_units_come_with_where_they_are_based(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        units = await console.client.request(ListUnits(req=""))
        assert isinstance(units, UnitsResult)
        fire = next(u for u in units.units if u.code == "FIRE-01")
        assert (fire.lat, fire.lon) == (32.2466, 118.8012)
    finally:
        await console.close()
