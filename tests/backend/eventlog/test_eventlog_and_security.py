"""The event log is gap-free, append-only and verifiable; personal data is protected."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend.eventlog import log as eventlog
from backend.security import FieldCipher, mask_phone
from backend.server.app import DutyDeskServer
from realtime.client import CommandError
from realtime.protocol import (
    AlarmResult,
    ContactResult,
    CreateAlarm,
    DispatchAlarm,
    ErrorCode,
    RevealContact,
    Role,
    TransitionAlarm,
)
from realtime.states import AlarmAction, AlarmLevel
from tests.backend.conftest import open_console


async def _create_one(server: DutyDeskServer) -> int:
    console = await open_console(server)
    try:
        result = await console.client.request(
            CreateAlarm(
                req="",
                alarm_type="hazmat_leak",
                level=AlarmLevel.RED,
                title="液氨泄漏",
                caller_name="李女士",
                caller_phone="13900001111",
            )
        )
        assert isinstance(result, AlarmResult)
        return result.alarm.id
    finally:
        await console.close()


async def test_log_verifies_and_refuses_edits(server: DutyDeskServer) -> None:
    await _create_one(server)
    await _create_one(server)
    async with server.sessions() as session:
        report = await eventlog.verify(session)
    assert report.ok, report.problems
    assert report.events == 2

    for statement in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events"):
        async with server.sessions() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
            await session.rollback()


async def test_verify_detects_an_edit_made_behind_the_triggers(server: DutyDeskServer) -> None:
    await _create_one(server)
    await _create_one(server)
    async with server.sessions.begin() as session:
        if server.database_kind == "sqlite":
            await session.execute(text("DROP TRIGGER events_no_update"))
        else:
            await session.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        await session.execute(
            text("UPDATE events SET payload = replace(payload, '液氨', '无害') WHERE seq = 1")
        )
    async with server.sessions() as session:
        report = await eventlog.verify(session)
    assert not report.ok
    assert any("seq 1" in problem and "hash" in problem for problem in report.problems)


async def test_caller_phone_is_encrypted_masked_and_every_reveal_is_audited(
    server: DutyDeskServer,
) -> None:
    alarm_id = await _create_one(server)
    async with server.sessions() as session:
        stored = (
            await session.execute(
                text("SELECT caller_phone_enc, caller_phone_masked FROM alarms WHERE id = :i"),
                {"i": alarm_id},
            )
        ).one()
        raw_log = " ".join(await session.scalars(text("SELECT payload FROM events")))
    assert "13900001111" not in stored[0], "encrypted at rest"
    assert stored[1] == "139****1111"
    assert "13900001111" not in raw_log, "the event log never holds the full number"

    console = await open_console(server, "supervisor1", "pw-supervisor1")
    try:
        with pytest.raises(CommandError) as no_reason:
            await console.client.request(RevealContact(req="", alarm_id=alarm_id, reason=" "))
        assert no_reason.value.code is ErrorCode.VALIDATION
        revealed = await console.client.request(
            RevealContact(req="", alarm_id=alarm_id, reason="回拨核实现场")
        )
        assert isinstance(revealed, ContactResult)
        assert revealed.caller_phone == "13900001111"
        await console.recorder.wait_for(
            lambda: any(e.kind == "contact.revealed" for e in console.recorder.events)
        )
        audit = next(e for e in console.recorder.events if e.kind == "contact.revealed")
        assert audit.actor == "supervisor1"
        assert audit.note == "回拨核实现场"
    finally:
        await console.close()


async def test_agency_dispatcher_sees_only_what_was_sent_to_it(server: DutyDeskServer) -> None:
    await server.users.add_user("fire-desk", "pw-fire-desk", Role.AGENCY, agency="fire")
    hidden_id = await _create_one(server)
    sent_id = await _create_one(server)
    officer = await open_console(server)
    agency = await open_console(server, "fire-desk", "pw-fire-desk")
    try:
        assert agency.recorder.snapshots[0].alarms == []
        dispatched = await officer.client.request(
            DispatchAlarm(req="", alarm_id=sent_id, expected_version=1, unit_ids=[1])
        )
        assert isinstance(dispatched, AlarmResult)
        await agency.recorder.wait_for(lambda: len(agency.recorder.events) == 1)
        assert agency.recorder.events[0].alarm is not None
        assert agency.recorder.events[0].alarm.id == sent_id

        with pytest.raises(CommandError) as forbidden:
            await agency.client.request(
                TransitionAlarm(
                    req="", alarm_id=hidden_id, action=AlarmAction.ACKNOWLEDGE, expected_version=1
                )
            )
        assert forbidden.value.code is ErrorCode.FORBIDDEN
        with pytest.raises(CommandError) as not_its_role:
            await agency.client.request(
                TransitionAlarm(
                    req="", alarm_id=sent_id, action=AlarmAction.CLOSE, expected_version=2
                )
            )
        assert not_its_role.value.code in (ErrorCode.FORBIDDEN, ErrorCode.ILLEGAL_TRANSITION)
        started = await agency.client.request(
            TransitionAlarm(
                req="", alarm_id=sent_id, action=AlarmAction.START_HANDLING, expected_version=2
            )
        )
        assert isinstance(started, AlarmResult)
        # A desk calls back the caller of an alarm sent to it, and only of such an alarm.
        callback = await agency.client.request(
            RevealContact(req="", alarm_id=sent_id, reason="回拨核实")
        )
        assert isinstance(callback, ContactResult)
        assert callback.caller_phone == "13900001111"
        with pytest.raises(CommandError) as no_contact:
            await agency.client.request(RevealContact(req="", alarm_id=hidden_id, reason="x"))
        assert no_contact.value.code is ErrorCode.FORBIDDEN
        with pytest.raises(CommandError) as cannot_create:
            await agency.client.request(
                CreateAlarm(req="", alarm_type="fire", level=AlarmLevel.BLUE, title="x")
            )
        assert cannot_create.value.code is ErrorCode.FORBIDDEN
    finally:
        await officer.close()
        await agency.close()


async def test_jurisdiction_limits_what_an_officer_sees(server: DutyDeskServer) -> None:
    await server.users.add_user(
        "east-officer", "pw-east-officer", Role.OFFICER, jurisdiction="3201"
    )
    city = await open_console(server)
    east = await open_console(server, "east-officer", "pw-east-officer")
    try:
        for jurisdiction in ("320102", "330106"):
            await city.client.request(
                CreateAlarm(
                    req="",
                    alarm_type="fire",
                    level=AlarmLevel.YELLOW,
                    title=f"{jurisdiction} 报警",
                    jurisdiction=jurisdiction,
                )
            )
        await city.recorder.wait_for(lambda: len(city.recorder.events) == 2)
        await east.recorder.wait_for(lambda: len(east.recorder.events) == 1)
        assert east.recorder.events[0].alarm is not None
        assert east.recorder.events[0].alarm.jurisdiction == "320102"
        with pytest.raises(CommandError) as outside:
            await east.client.request(
                CreateAlarm(
                    req="", alarm_type="fire", level=AlarmLevel.RED, title="x", jurisdiction="33"
                )
            )
        assert outside.value.code is ErrorCode.FORBIDDEN
    finally:
        await city.close()
        await east.close()


def test_phone_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("025-12345678") == "025*****5678"
    assert mask_phone("110") == "***"
    assert mask_phone("") == ""


def test_field_cipher_round_trip_and_wrong_key() -> None:
    cipher = FieldCipher.generate()
    secret = cipher.encrypt("13812345678")
    assert secret != "13812345678"
    assert cipher.decrypt(secret) == "13812345678"
    from backend.security import Error

    with pytest.raises(Error, match="wrong or rotated key"):
        FieldCipher.generate().decrypt(secret)
