"""The command table: every command of the protocol has one row, every row's permission
is in the permission table, and one error mapping holds for every handler — a refusal
keeps its code, a bug becomes ``internal`` for that request only, logged once with its
traceback, and the session goes on."""

from __future__ import annotations

import json
import logging
import typing
from typing import Any

import pytest
from websockets.asyncio.client import connect

from backend.authz.policy import PERMISSIONS, Permission
from backend.server import commands
from backend.server.app import DutyDeskServer
from realtime.client import basic_auth_header
from realtime.protocol import Command, DeviceMessage, Role
from tests.backend.conftest import device_url
from tests.backend.server.test_wire_robustness import _ping_works, _recv, raw_console


def test_every_console_command_has_exactly_one_row() -> None:
    in_protocol = set(typing.get_args(Command))
    assert set(commands.CONSOLE_COMMANDS) == in_protocol


def test_every_device_message_has_exactly_one_row() -> None:
    assert set(commands.DEVICE_MESSAGES) == set(typing.get_args(DeviceMessage))


def test_every_row_names_a_permission_of_the_table_and_its_response_types() -> None:
    for route in commands.routes():
        assert route.permission in PERMISSIONS, route.request.__name__
        assert route.responses, route.request.__name__
        # A permission no role holds would make the command dead.
        assert PERMISSIONS[route.permission].roles, route.permission


def test_every_permission_of_the_table_is_granted_to_someone_and_never_to_devices_by_accident() -> (
    None
):
    for permission, rule in PERMISSIONS.items():
        assert rule.roles, permission
        if Role.DEVICE in rule.roles:
            assert permission is Permission.FEED_DEVICES


def test_a_row_per_request_type_is_enforced() -> None:
    route = commands.CONSOLE_COMMANDS[typing.get_args(Command)[0]]
    with pytest.raises(ValueError, match="two routes"):
        commands._table(route, route)


@pytest.mark.logs_errors
async def test_a_handler_bug_answers_internal_for_that_request_and_the_session_goes_on(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the registry")

    monkeypatch.setattr(server.registry, "list", broken)
    caplog.set_level(logging.ERROR, logger="backend.server.commands")
    async with raw_console(server) as ws:
        await ws.send(json.dumps({"type": "devices.list", "req": "d1"}))
        answer = await _recv(ws)
        assert answer["type"] == "error"
        assert answer["req"] == "d1"
        assert answer["code"] == "internal"
        assert "a bug in the registry" not in answer["message"], "no internals to the client"
        await _ping_works(ws)
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1, "logged once"
    assert failures[0].exc_info is not None, "with its traceback"
    assert "ListDevices" in failures[0].getMessage()


async def test_a_permission_refusal_comes_from_the_table_before_the_handler_runs(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await server.users.add_user("fire-desk", "pw-fire-desk", Role.AGENCY, agency="fire")
    called: list[object] = []

    async def spy(*args: Any, **kwargs: Any) -> Any:
        called.append(args)
        return []

    monkeypatch.setattr(server.registry, "list", spy)
    async with raw_console(server, "fire-desk", "pw-fire-desk") as ws:
        await ws.send(json.dumps({"type": "devices.list", "req": "d2"}))
        answer = await _recv(ws)
        assert answer["code"] == "forbidden"
        assert "role agency may not" in answer["message"]
        await _ping_works(ws)
    assert called == []


@pytest.mark.logs_errors
async def test_a_device_handler_bug_answers_internal_and_the_feed_goes_on(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the alarm service")

    monkeypatch.setattr(server.alarms, "device_alarm", broken)
    caplog.set_level(logging.ERROR, logger="backend.server.commands")
    alarm = {
        "type": "device.alarm",
        "key": "gas",
        "alarm_type": "gas_leak",
        "level": "red",
        "title": "methane",
    }
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        await ws.send(json.dumps({**alarm, "ref": "a1"}))
        answer = json.loads(await ws.recv())
        assert (answer["type"], answer["ref"], answer["code"]) == ("error", "a1", "internal")
        monkeypatch.undo()
        await ws.send(json.dumps({**alarm, "ref": "a2"}))
        answer = json.loads(await ws.recv())
        assert (answer["type"], answer["ref"]) == ("ack", "a2"), answer
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
