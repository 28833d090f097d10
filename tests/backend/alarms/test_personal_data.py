"""Sensitive personal data (issue 14, item 8): the caller's name, number and address and
a sensitive note are encrypted at rest, masked in every view for every role, revealed
only with a reason to the roles and scopes allowed, every reveal audited, and bulk
reveals refused and recorded.

Everything runs over real WebSockets against a real server, on SQLite and PostgreSQL,
and the checks read the raw frames, the raw tables and the logs for the plain text.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect

from backend.registry.files import load_units_csv
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from realtime import PROTOCOL_VERSION
from realtime.client import basic_auth_header
from realtime.protocol import Role
from tests.backend.conftest import USERS, console_url

NAME = "欧阳春华"
PHONE = "13912345678"
ADDRESS = "浙江省杭州市西湖区文三路90号3幢201室"
NOTE = "独居老人，患有心脏病，行动不便"
PLAIN = (NAME, PHONE, "90号3幢201室", NOTE)
"""What must never appear outside an answer to a reveal (the address's door, not its street)."""

MASKED = {
    "caller_name": "欧***",
    "caller_phone": "139****5678",
    "caller_address": "浙江省杭州市西湖区文三路****",
    "sensitive_note": "〔敏感内容，需授权查看〕",
}


@dataclass
class RawConsole:
    """A bare WebSocket console that keeps every frame it received, as text."""

    ws: ClientConnection
    frames: list[str] = field(default_factory=list)
    counter: int = 0
    unread: list[dict[str, Any]] = field(default_factory=list)
    """Messages that arrived while waiting for an answer (events, mostly)."""

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send a command and return its answer (``result`` or ``error``)."""
        self.counter += 1
        req = f"q{self.counter}"
        await self.ws.send(json.dumps({**message, "req": req}, ensure_ascii=False))
        while True:
            answer = await self.next()
            if answer.get("req") == req:
                return answer
            self.unread.append(answer)

    async def next(self) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.ws.recv(), 10)
        assert isinstance(frame, str)
        self.frames.append(frame)
        message = json.loads(frame)
        assert isinstance(message, dict)
        return message

    async def event(self, kind: str) -> dict[str, Any]:
        """The next event of ``kind`` (skipping others)."""
        for message in self.unread:
            if message["type"] == "event" and message["kind"] == kind:
                self.unread.remove(message)
                return message
        while True:
            message = await self.next()
            if message["type"] == "event" and message["kind"] == kind:
                return message


@asynccontextmanager
async def raw_console(
    server: DutyDeskServer, user: str, *, resume_from: int | None = None
) -> AsyncIterator[RawConsole]:
    async with connect(
        console_url(server),
        additional_headers={"Authorization": basic_auth_header(user, f"pw-{user}")},
        max_size=None,
    ) as ws:
        console = RawConsole(ws)
        hello: dict[str, Any] = {"type": "hello", "protocol": PROTOCOL_VERSION}
        if resume_from is not None:
            hello["resume_from"] = resume_from
        await ws.send(json.dumps(hello))
        while (await console.next())["type"] != "synced":
            pass
        yield console


def assert_no_plain(where: str, text_: str) -> None:
    for plain in PLAIN:
        assert plain not in text_, f"{plain!r} leaked into {where}"


@asynccontextmanager
async def personal_server(
    db_url: str, tmp_path: Path, *, reveals_per_hour: int = 30
) -> AsyncIterator[DutyDeskServer]:
    server = DutyDeskServer(
        ServerConfig(
            db_url=db_url,
            data_dir=tmp_path,
            port=0,
            cipher=FieldCipher.generate(),
            seed_units=load_units_csv(),
            console_rate_per_second=1000.0,
            console_rate_burst=1000,
            reveals_per_hour=reveals_per_hour,
        )
    )
    await server.start()
    try:
        for username, password, role in USERS:
            await server.users.add_user(username, password, role)
        await server.users.add_user("fire-desk", "pw-fire-desk", Role.AGENCY, agency="fire")
        await server.users.add_user("police-desk", "pw-police-desk", Role.AGENCY, agency="police")
        await server.users.add_user("nanjing", "pw-nanjing", Role.OFFICER, jurisdiction="3201")
        await server.users.add_user("hangzhou", "pw-hangzhou", Role.OFFICER, jurisdiction="3301")
        yield server
    finally:
        await server.close()


CREATE = {
    "type": "alarm.create",
    "alarm_type": "medical",
    "level": "red",
    "title": "老人晕倒",
    "place": "文三路",
    "jurisdiction": "330106",
    "caller_name": NAME,
    "caller_phone": PHONE,
    "caller_address": ADDRESS,
    "sensitive_note": NOTE,
}


async def _create_and_dispatch(officer: RawConsole) -> tuple[int, dict[str, Any]]:
    created = await officer.request(CREATE)
    assert created["type"] == "result", created
    alarm = created["data"]["alarm"]
    dispatched = await officer.request(
        {"type": "alarm.dispatch", "alarm_id": alarm["id"], "expected_version": 1, "unit_ids": [1]}
    )
    assert dispatched["type"] == "result", dispatched
    return alarm["id"], alarm


async def test_personal_data_is_encrypted_at_rest_and_only_masked_on_every_wire(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with personal_server(db_url, tmp_path) as server:
        consoles: list[RawConsole] = []
        async with (
            raw_console(server, "officer1") as officer,
            raw_console(server, "supervisor1") as supervisor,
            raw_console(server, "fire-desk") as fire,
            raw_console(server, "hangzhou") as hangzhou,
        ):
            consoles += [officer, supervisor, fire, hangzhou]
            alarm_id, alarm = await _create_and_dispatch(officer)
            for key, masked in MASKED.items():
                assert alarm[key] == masked, key
            # Every role that sees the alarm sees it masked, live…
            for console in (supervisor, fire, hangzhou):
                event = await console.event("alarm.dispatched")
                assert {key: event["alarm"][key] for key in MASKED} == MASKED
            # …in its history…
            history = await fire.request({"type": "alarm.history", "alarm_id": alarm_id})
            assert [e["kind"] for e in history["data"]["events"]] == [
                "alarm.raised",
                "alarm.dispatched",
            ]
            # …and a refusal says no more than the masked copy (bad phone, long name).
            for bad in ({"caller_phone": "call 13912345678 now"}, {"caller_name": NAME * 20}):
                refused = await officer.request({**CREATE, **bad})
                assert refused["type"] == "error"
                assert refused["code"] == "validation"
        # Snapshots and replays after reconnecting.
        for user in ("officer1", "fire-desk", "hangzhou"):
            async with raw_console(server, user) as fresh:
                consoles.append(fresh)
                snapshot = json.loads(next(f for f in fresh.frames if '"snapshot"' in f))
                assert [a["caller_name"] for a in snapshot["alarms"]] == [MASKED["caller_name"]]
            async with raw_console(server, user, resume_from=0) as resumed:
                consoles.append(resumed)
                assert sum('"alarm.raised"' in frame for frame in resumed.frames) == (
                    0 if user == "fire-desk" else 1
                )

        async with server.sessions() as session:
            rows = (await session.execute(text("SELECT * FROM alarms"))).all()
            payloads = (await session.scalars(text("SELECT payload FROM events"))).all()
            stored = (
                await session.execute(
                    text(
                        "SELECT caller_name_enc, caller_phone_enc, caller_address_enc, "
                        "sensitive_note_enc FROM alarms WHERE id = :i"
                    ),
                    {"i": alarm_id},
                )
            ).one()
    for number, console in enumerate(consoles):
        assert_no_plain(f"the frames of console {number}", "\n".join(console.frames))
    assert_no_plain("the alarms table", repr(rows))
    assert_no_plain("the events table", "\n".join(payloads))
    assert_no_plain("the log", caplog.text)
    assert all(value.startswith("k1:") for value in stored), "each value names its key"


async def test_reveal_is_audited_with_who_why_and_which_fields_never_the_values(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        personal_server(db_url, tmp_path) as server,
        raw_console(server, "officer1") as officer,
        raw_console(server, "supervisor1") as supervisor,
    ):
        alarm_id, _ = await _create_and_dispatch(officer)
        reveal = {"type": "alarm.reveal_contact", "alarm_id": alarm_id}
        for reason in ("", "   "):
            refused = await supervisor.request({**reveal, "reason": reason})
            assert (refused["type"], refused["code"]) == ("error", "validation")
        too_long = await supervisor.request({**reveal, "reason": "因" * 201})
        assert (too_long["type"], too_long["code"]) == ("error", "bad_message")

        shown = await supervisor.request(
            {
                **reveal,
                "reason": "核实老人病史以便派车",
                "fields": ["caller_address", "sensitive_note"],
            }
        )
        assert shown["type"] == "result", shown
        assert shown["data"] == {
            "type": "contact",
            "alarm_id": alarm_id,
            "caller_name": "",
            "caller_phone": "",
            "caller_address": ADDRESS,
            "sensitive_note": NOTE,
            "fields": ["caller_address", "sensitive_note"],
        }
        # Without fields, as older consoles ask: the caller's name and number.
        classic = await supervisor.request({**reveal, "reason": "回拨"})
        assert (classic["data"]["caller_name"], classic["data"]["caller_phone"]) == (NAME, PHONE)
        assert classic["data"]["caller_address"] == ""

        audit = await officer.event("contact.revealed")
        assert audit["actor"] == "supervisor1"
        assert audit["note"] == "核实老人病史以便派车"
        assert audit["fields"] == ["caller_address", "sensitive_note"]
        assert audit["alarm"]["sensitive_note"] == MASKED["sensitive_note"]
        assert (await officer.event("contact.revealed"))["fields"] == [
            "caller_name",
            "caller_phone",
        ]
        async with server.sessions() as session:
            records = (
                await session.execute(
                    text("SELECT actor, at, payload FROM events WHERE kind = 'contact.revealed'")
                )
            ).all()
    assert [actor for actor, _, _ in records] == ["supervisor1", "supervisor1"]
    assert all(at is not None for _, at, _ in records)
    assert_no_plain("the audit events", "\n".join(payload for _, _, payload in records))
    assert_no_plain("the officer's frames", "\n".join(officer.frames))


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("officer1", True),  # command centre, whole area
        ("hangzhou", True),  # command centre, the alarm's city
        ("nanjing", False),  # command centre, another city
        ("fire-desk", True),  # the agency the alarm was dispatched to (calls back)
        ("police-desk", False),  # an agency it was not sent to
    ],
)
async def test_who_may_reveal(db_url: str, tmp_path: Path, user: str, allowed: bool) -> None:
    async with (
        personal_server(db_url, tmp_path) as server,
        raw_console(server, "supervisor1") as supervisor,
    ):
        alarm_id, _ = await _create_and_dispatch(supervisor)
        async with raw_console(server, user) as asking:
            answer = await asking.request(
                {"type": "alarm.reveal_contact", "alarm_id": alarm_id, "reason": "回拨"}
            )
            if allowed:
                assert answer["data"]["caller_phone"] == PHONE
                assert (await supervisor.event("contact.revealed"))["actor"] == user
            else:
                assert (answer["type"], answer["code"]) == ("error", "forbidden")
                assert_no_plain("a refusal", json.dumps(answer, ensure_ascii=False))
                assert_no_plain(f"{user}'s frames", "\n".join(asking.frames))
        async with server.sessions() as session:
            audited = await session.scalar(
                text("SELECT count(*) FROM events WHERE kind = 'contact.revealed'")
            )
        assert audited == (1 if allowed else 0)


async def test_reveals_over_the_hourly_limit_are_refused_and_recorded_once(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        personal_server(db_url, tmp_path, reveals_per_hour=3) as server,
        raw_console(server, "officer1") as officer,
        raw_console(server, "supervisor1") as supervisor,
    ):
        alarm_id, _ = await _create_and_dispatch(officer)
        reveal = {"type": "alarm.reveal_contact", "alarm_id": alarm_id, "reason": "回拨"}
        answers = [await officer.request(reveal) for _ in range(5)]
        assert [a["type"] for a in answers] == ["result"] * 3 + ["error"] * 2
        assert {a["code"] for a in answers[3:]} == {"rate_limited"}
        assert "more than 3 reveals" in answers[3]["message"]
        # Another user has their own allowance.
        assert (await supervisor.request(reveal))["type"] == "result"
        refusal = await supervisor.event("contact.reveal_refused")
        assert refusal["actor"] == "officer1"
        assert refusal["fields"] == ["caller_name", "caller_phone"]
        async with server.sessions() as session:
            kinds = (await session.scalars(text("SELECT kind FROM events ORDER BY seq"))).all()
    assert kinds.count("contact.revealed") == 4
    assert kinds.count("contact.reveal_refused") == 1, "one record per spell, not per refusal"
    assert "officer1 went over 3 reveals" in caplog.text
