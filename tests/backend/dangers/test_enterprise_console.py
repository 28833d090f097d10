"""The enterprise role over real WebSockets: its welcome names its enterprise, its
snapshot is empty whatever happens in its district, other enterprises' events never
reach it, and its hidden dangers' photos follow the rules (pictures only, sniffed; who may
act adds them; who may see the danger reads them). And ``user add`` binds it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from backend.registry.users import Error as UserError
from backend.server.app import DutyDeskServer
from realtime import PROTOCOL_VERSION
from realtime.client import basic_auth_header
from realtime.protocol import CreateAlarm, Role
from realtime.states import AlarmLevel
from tests.backend.conftest import console_url
from tests.backend.dangers.conftest import OFFICER_HZ, add_enterprises

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + bytes(300)
PDF = b"%PDF-1.4\n" + bytes(100)
DANGER: dict[str, str] = {
    "enterprise": "ENT-HZ-A",
    "category": "fire",
    "grade": "general",
    "place": "仓库",
    "description": "消防通道堆放杂物",
}
REPORT: dict[str, Any] = {"type": "danger.report", "danger": DANGER}


class Raw:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.n = 0

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            message = json.loads(await self.ws.recv())
        self.frames.append(message)
        return message  # type: ignore[no-any-return]

    async def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.n += 1
        req = f"r{self.n}"
        await self.ws.send(json.dumps({**payload, "req": req}))
        while True:
            message = await self.recv()
            if message.get("req") == req and message["type"] in ("result", "error"):
                return message

    async def quiet(self, seconds: float = 0.3) -> None:
        with contextlib.suppress(TimeoutError):
            while True:
                await self.recv(seconds)

    def events(self) -> list[dict[str, Any]]:
        return [m for m in self.frames if m["type"] == "event"]


@contextlib.asynccontextmanager
async def raw_console(server: DutyDeskServer, user: str) -> AsyncIterator[Raw]:
    headers = {"Authorization": basic_auth_header(user, f"pw-{user}-long")}
    async with connect(console_url(server), additional_headers=headers, max_size=None) as ws:
        raw = Raw(ws)
        await ws.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
        while (await raw.recv())["type"] != "synced":
            pass
        yield raw


@pytest.fixture
async def world(server: DutyDeskServer) -> DutyDeskServer:
    await add_enterprises(server.sessions)
    for name, code in (("ent-a", "ENT-HZ-A"), ("ent-b", "ENT-HZ-B")):
        await server.users.add_user(name, f"pw-{name}-long", Role.ENTERPRISE, enterprise=code)
    await server.users.add_user("off-hz", "pw-off-hz-long", Role.OFFICER, jurisdiction="3301")
    # An alarm in the enterprises' own district: never theirs to see.
    await server.alarms.create_manual(
        OFFICER_HZ,
        CreateAlarm(
            req="a1",
            alarm_type="fire",
            level=AlarmLevel.RED,
            title="TOK-ALARM 西湖区仓库起火",
            jurisdiction="330106",
        ),
    )
    return server


async def test_the_enterprise_user_is_bound_to_an_existing_enterprise(
    world: DutyDeskServer,
) -> None:
    users = world.users
    with pytest.raises(UserError, match="must belong to an enterprise"):
        await users.add_user("x1", "pw-x1-long", Role.ENTERPRISE)
    with pytest.raises(UserError, match="no enterprise 'NOPE' in the registry"):
        await users.add_user("x2", "pw-x2-long", Role.ENTERPRISE, enterprise="NOPE")
    with pytest.raises(UserError, match="--enterprise is for users of role enterprise only"):
        await users.add_user("x3", "pw-x3-long", Role.OFFICER, enterprise="ENT-HZ-A")
    principal = await users.add_user(
        "x4", "pw-x4-long", Role.ENTERPRISE, enterprise="ENT-SH-A", jurisdiction=""
    )
    assert (principal.enterprise, principal.jurisdiction) == ("ENT-SH-A", "310104")


async def test_an_enterprise_console_sees_its_workplace_only(world: DutyDeskServer) -> None:
    async with raw_console(world, "ent-a") as ent_a, raw_console(world, "ent-b") as ent_b:
        welcome = next(m for m in ent_a.frames if m["type"] == "welcome")
        assert welcome["user"]["enterprise"] == "ENT-HZ-A"
        assert welcome["user"]["jurisdiction"] == "330106"
        snapshot = next(m for m in ent_a.frames if m["type"] == "snapshot")
        assert snapshot["alarms"] == []
        for refused in ("units.list", "incidents.list", "devices.list", "registry.list"):
            answer = await ent_a.request({"type": refused})
            assert answer["code"] == "forbidden", refused
            assert answer["message"].startswith("role enterprise may not"), answer
        reported = await ent_a.request(REPORT)
        assert reported["type"] == "result", reported
        other = await ent_a.request({**REPORT, "danger": {**DANGER, "enterprise": "ENT-HZ-B"}})
        assert (other["code"], other["message"]) == ("forbidden", "no such enterprise in your area")
        danger_id = reported["data"]["danger"]["id"]
        get = await ent_b.request({"type": "danger.get", "danger_id": danger_id})
        assert (get["code"], get["message"]) == ("forbidden", "no such hidden danger in your area")
        await ent_a.quiet()
        await ent_b.quiet()
    assert [e["kind"] for e in ent_a.events()] == ["danger.reported"]
    assert ent_b.events() == [], "another enterprise's events never reach it"
    assert not any("TOK-ALARM" in json.dumps(m, ensure_ascii=False) for m in ent_a.frames)


async def _upload(raw: Raw, danger_id: int, data: bytes, content_type: str) -> dict[str, Any]:
    raw.n += 1
    return await raw.request(
        {
            "type": "attachment.upload",
            "upload_id": f"u{raw.n}",
            "danger_id": danger_id,
            "filename": "现场.jpg",
            "content_type": content_type,
            "offset": 0,
            "data": base64.b64encode(data).decode(),
            "final": True,
        }
    )


async def test_photos_of_a_hidden_danger(world: DutyDeskServer) -> None:
    async with (
        raw_console(world, "ent-a") as ent_a,
        raw_console(world, "ent-b") as ent_b,
        raw_console(world, "off-hz") as officer,
    ):
        danger_id = (await ent_a.request(REPORT))["data"]["danger"]["id"]
        stored = await _upload(ent_a, danger_id, JPEG, "image/jpeg")
        assert stored["type"] == "result", stored
        photo = stored["data"]["attachment"]
        assert photo["danger_id"] == danger_id
        # A PDF is no photo; bytes that belie their type are refused; the other
        # enterprise is refused like a missing danger.
        pdf = await _upload(ent_a, danger_id, PDF, "application/pdf")
        assert pdf["code"] == "validation"
        lying = await _upload(ent_a, danger_id, PDF, "image/jpeg")
        assert lying["code"] == "validation"
        foreign = await _upload(ent_b, danger_id, JPEG, "image/jpeg")
        assert (foreign["code"], foreign["message"]) == (
            "forbidden",
            "no such hidden danger in your area",
        )
        for reader, allowed in ((ent_a, True), (officer, True), (ent_b, False)):
            got = await reader.request({"type": "attachment.get", "attachment_id": photo["id"]})
            if allowed:
                assert base64.b64decode(got["data"]["data"]) == JPEG
            else:
                assert (got["code"], got["message"]) == (
                    "forbidden",
                    "no such attachment in your area",
                )
        view = await officer.request({"type": "danger.get", "danger_id": danger_id})
        assert view["data"]["danger"]["photos"] == [photo["id"]]
