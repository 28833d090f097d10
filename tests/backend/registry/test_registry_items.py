"""Registry items over a real connection, on SQLite and PostgreSQL: create, change,
stale versions, retire and restore, each change one event with before and after; contact
numbers masked everywhere but the audited, limited reveal; the scope of a city, a district
and an agency desk; hostile input refused clearly while the session goes on; a file
import all or nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect

from backend.alarms.reveals import RevealLimit
from backend.eventlog import log as eventlog
from backend.registry.items import ImportConflictError, ImportOutcome
from backend.server.app import DutyDeskServer
from backend.storage.models import EventRecord, RegistryItem
from realtime import PROTOCOL_VERSION
from realtime.client import CommandError, basic_auth_header
from realtime.protocol import (
    Contact,
    EnterpriseDetails,
    ErrorCode,
    Event,
    ExpertDetails,
    GetRegistryHistory,
    GetRegistryItem,
    HazardSourceDetails,
    ItemKind,
    ListRegistry,
    PlanDetails,
    RegistryContactResult,
    RegistryHistoryResult,
    RegistryItemInput,
    RegistryItemResult,
    RegistryItemView,
    RegistryResult,
    RetireRegistryItem,
    RevealRegistryContact,
    Role,
    SaveRegistryItem,
    TeamDetails,
)
from tests.backend.conftest import Console, console_url, open_console

PHONE = "13812345678"
MASKED = "138****5678"
CREDIT_CODE = "91350100M000100Y43"
CITY, WEST, EAST = "3301", "330106", "330102"
"""Hangzhou, its Xihu district and its Shangcheng district."""


def _enterprise(code: str = "ENT-1") -> RegistryItemInput:
    details = EnterpriseDetails(
        credit_code=CREDIT_CODE,
        industry="危险化学品生产",
        contacts=[Contact(name="王安全", role="安全负责人", phone=PHONE)],
    )
    return RegistryItemInput(
        code=code,
        name="西湖化工有限公司",
        jurisdiction=WEST,
        address="杭州市西湖区某路1号",
        lat=30.26,
        lon=120.13,
        details=details,
    )


def _team(code: str, jurisdiction: str, agency: str = "fire") -> RegistryItemInput:
    return RegistryItemInput(
        code=code,
        name=f"{code} 危化品救援队",
        jurisdiction=jurisdiction,
        agency=agency,
        details=TeamDetails(team_type="危化品救援", members=20, capabilities=["hazmat"]),
    )


async def _request(console: Console, command: Any) -> Any:
    return await console.client.request(command)


async def _save(
    console: Console, item: RegistryItemInput, version: int | None = None
) -> RegistryItemResult:
    result = await _request(
        console, SaveRegistryItem(req="", item=item, expected_version=version, note="核实")
    )
    assert isinstance(result, RegistryItemResult)
    return result


async def _refused(console: Console, command: Any) -> CommandError:
    with pytest.raises(CommandError) as refused:
        await _request(console, command)
    return refused.value


def _registry_events(console: Console) -> list[Event]:
    return [e for e in console.recorder.events if e.kind.startswith("registry.")]


def _heard(console: Console) -> set[str]:
    """The codes of the items the console heard changed."""
    return {
        e.registry_item.code
        for e in _registry_events(console)
        if isinstance(e.registry_item, RegistryItemView)
    }


# ---------------------------------------------------------------------------- life cycle


async def _check_history(console: Console) -> RegistryHistoryResult:
    history = await _request(
        console, GetRegistryHistory(req="", kind=ItemKind.ENTERPRISE, code="ENT-1")
    )
    assert isinstance(history, RegistryHistoryResult)
    changes = history.changes
    assert [c.action for c in changes] == ["created", "updated", "retired", "restored"]
    assert changes[0].before is None
    assert changes[0].changed == []
    assert changes[1].changed == ["name", "details.employees"]
    assert changes[1].before is not None
    assert changes[1].before["name"] == "西湖化工有限公司"
    assert changes[1].after["name"] == "西湖化工股份有限公司"
    assert changes[2].changed == ["retired"]
    assert changes[2].note == "注销"
    assert all(c.by == "officer1" for c in changes)
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)

    return history


async def test_an_item_is_created_changed_retired_and_restored_with_its_history(
    server: DutyDeskServer,
) -> None:
    console = await open_console(server)
    try:
        created = (await _save(console, _enterprise())).item
        assert (created.version, created.kind, created.updated_by) == (1, "enterprise", "officer1")
        assert isinstance(created.details, EnterpriseDetails)
        assert created.details.contacts[0].phone == MASKED

        # The console sends back what it was shown (masked): the stored number stays.
        changed_input = msgspec.structs.replace(
            _enterprise(),
            name="西湖化工股份有限公司",
            details=msgspec.structs.replace(created.details, employees=120),
        )
        changed = (await _save(console, changed_input, version=1)).item
        assert changed.version == 2
        stale = await _refused(
            console, SaveRegistryItem(req="", item=_enterprise(), expected_version=1)
        )
        assert stale.code is ErrorCode.STALE_VERSION
        assert "now version 2, you saw 1" in stale.message

        retired = await _request(
            console,
            RetireRegistryItem(
                req="", kind=ItemKind.ENTERPRISE, code="ENT-1", expected_version=2, note="注销"
            ),
        )
        assert retired.item.retired
        assert retired.item.version == 3
        listed = await _request(console, ListRegistry(req="", kind=ItemKind.ENTERPRISE))
        assert isinstance(listed, RegistryResult)
        assert listed.items == []
        with_retired = await _request(
            console, ListRegistry(req="", kind=ItemKind.ENTERPRISE, include_retired=True)
        )
        assert [item.code for item in with_retired.items] == ["ENT-1"]
        restored = await _request(
            console,
            RetireRegistryItem(
                req="", kind=ItemKind.ENTERPRISE, code="ENT-1", expected_version=3, retired=False
            ),
        )
        assert not restored.item.retired

        history = await _check_history(console)

        # The console heard each change live: one registry.changed event each.
        await console.recorder.wait_for(lambda: len(_registry_events(console)) >= 4)
        events = _registry_events(console)
        assert [e.kind for e in events] == ["registry.changed"] * 4
        assert [e.registry_item.version for e in events] == [1, 2, 3, 4]  # type: ignore[union-attr]
        # The full number was never sent: not in a view, an event or the history.
        revealed = await _request(
            console,
            RevealRegistryContact(
                req="", kind=ItemKind.ENTERPRISE, code="ENT-1", note="泄漏, 联系企业"
            ),
        )
        assert isinstance(revealed, RegistryContactResult)
        assert revealed.contacts[0].phone == PHONE
        text = json.dumps([msgspec.to_builtins(e) for e in events])
        text += json.dumps(msgspec.to_builtins(history))
        assert PHONE not in text
        assert MASKED in text
    finally:
        await console.close()
    await _assert_stored_masked(server)


async def _assert_stored_masked(server: DutyDeskServer) -> None:
    async with server.sessions() as session:
        payloads = list(await session.scalars(select(EventRecord.payload)))
        row = await session.scalar(select(RegistryItem))
    assert not any(PHONE in payload for payload in payloads), "never in the event log"
    assert row is not None
    assert PHONE not in json.dumps(row.details)
    assert PHONE not in row.contacts_enc


async def test_a_new_number_replaces_the_old_and_a_bare_mask_is_refused(
    server: DutyDeskServer,
) -> None:
    console = await open_console(server)
    try:
        await _save(console, _enterprise())
        other = _enterprise()
        assert isinstance(other.details, EnterpriseDetails)
        # A mask that stands for no stored number is never stored.
        unknown = msgspec.structs.replace(
            other,
            details=msgspec.structs.replace(
                other.details, contacts=[Contact(name="李", phone="139****0000")]
            ),
        )
        refused = await _refused(
            console, SaveRegistryItem(req="", item=unknown, expected_version=1)
        )
        assert refused.code is ErrorCode.VALIDATION
        assert refused.message.startswith("details.contacts[0].phone:")
        # A new number that masks like the old one is a change of the contacts all the same.
        new = msgspec.structs.replace(
            other,
            details=msgspec.structs.replace(
                other.details, contacts=[Contact(name="王安全", phone="13899995678")]
            ),
        )
        saved = (await _save(console, new, version=1)).item
        assert saved.version == 2
        history = await _request(
            console, GetRegistryHistory(req="", kind=ItemKind.ENTERPRISE, code="ENT-1")
        )
        assert history.changes[-1].changed == ["details.contacts"]
        revealed = await _request(
            console,
            RevealRegistryContact(req="", kind=ItemKind.ENTERPRISE, code="ENT-1", note="核实"),
        )
        assert [c.phone for c in revealed.contacts] == ["13899995678"]
    finally:
        await console.close()


@pytest.mark.logs_errors
async def test_reveals_are_audited_and_limited_per_hour(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.registry_items._reveal_limit = RevealLimit(2)
    console = await open_console(server)
    try:
        await _save(console, _enterprise())
        reveal = RevealRegistryContact(
            req="", kind=ItemKind.ENTERPRISE, code="ENT-1", note="核实联系人"
        )
        no_reason = await _refused(console, msgspec.structs.replace(reveal, note=" "))
        assert no_reason.code is ErrorCode.VALIDATION
        for _ in range(2):
            assert (await _request(console, reveal)).contacts[0].phone == PHONE
        limited = await _refused(console, reveal)
        assert limited.code is ErrorCode.RATE_LIMITED
        await _refused(console, reveal)
        # The session goes on.
        assert await _request(
            console, GetRegistryItem(req="", kind=ItemKind.ENTERPRISE, code="ENT-1")
        )
    finally:
        await console.close()
    async with server.sessions() as session:
        kinds = list(
            await session.scalars(
                select(EventRecord.kind).where(EventRecord.kind != "registry.changed")
            )
        )
    # Each reveal audited; the first refusal of the spell too, not every one.
    assert kinds == ["registry.contact_revealed"] * 2 + ["contact.reveal_refused"]
    assert "went over 2 reveals" in caplog.text


# ---------------------------------------------------------------------------- scope


async def _user(
    server: DutyDeskServer, name: str, role: Role, jurisdiction: str, agency: str | None = None
) -> Console:
    await server.users.add_user(
        name, f"pw-{name}-long", role, agency=agency, jurisdiction=jurisdiction
    )
    return await open_console(server, name, f"pw-{name}-long")


async def test_a_district_sees_its_items_and_the_city_s_and_changes_only_its_own(
    server: DutyDeskServer,
) -> None:
    root = await open_console(server)
    west = await _user(server, "west-officer", Role.OFFICER, WEST)
    city = await _user(server, "city-officer", Role.OFFICER, CITY)
    try:
        await _save(root, _team("T-CITY", CITY))
        await _save(root, _team("T-WEST", WEST))
        await _save(root, _team("T-EAST", EAST))
        await _save(
            root,
            RegistryItemInput(
                code="X-1", name="省危化专家", details=ExpertDetails(specialties=["危险化学品"])
            ),
        )
        seen = await _request(west, ListRegistry(req=""))
        assert [(i.kind, i.code) for i in seen.items] == [
            ("expert", "X-1"),
            ("team", "T-CITY"),
            ("team", "T-WEST"),
        ]
        everything = await _request(city, ListRegistry(req="", kind=ItemKind.TEAM))
        assert [i.code for i in everything.items] == ["T-CITY", "T-EAST", "T-WEST"]
        # Another district's item is refused exactly like a missing one.
        hidden = await _refused(west, GetRegistryItem(req="", kind=ItemKind.TEAM, code="T-EAST"))
        missing = await _refused(west, GetRegistryItem(req="", kind=ItemKind.TEAM, code="T-NONE"))
        assert (hidden.code, hidden.message) == (missing.code, missing.message)
        assert hidden.message == "no such registry item in your area"
        history = await _refused(
            west, GetRegistryHistory(req="", kind=ItemKind.TEAM, code="T-EAST")
        )
        assert history.message == hidden.message
        # A district does not rewrite the city's team; it changes its own.
        city_team = await _refused(
            west, SaveRegistryItem(req="", item=_team("T-CITY", CITY), expected_version=1)
        )
        assert city_team.code is ErrorCode.FORBIDDEN
        assert "outside your area" in city_team.message
        moved = await _refused(
            west, SaveRegistryItem(req="", item=_team("T-WEST", EAST), expected_version=1)
        )
        assert moved.message == "registry items of '330102' are outside your area"
        mine = msgspec.structs.replace(_team("T-WEST", WEST), name="西湖区危化品救援队")
        assert (await _save(west, mine, version=1)).item.version == 2
        assert (await _save(city, _team("T-EAST", EAST, agency="police"), 1)).item.agency
        # Filtering by an area the user may not see is refused like a missing one.
        outside = await _refused(west, ListRegistry(req="", jurisdiction=EAST))
        assert outside.message == "no such jurisdiction in your area"
        narrowed = await _request(city, ListRegistry(req="", jurisdiction=EAST))
        assert [i.code for i in narrowed.items] == ["T-EAST"]
    finally:
        for console in (root, west, city):
            await console.close()


async def test_an_agency_desk_changes_only_its_agency_s_items_and_hears_only_its_area(
    server: DutyDeskServer,
) -> None:
    root = await open_console(server)
    fire_city = await _user(server, "fire-city", Role.AGENCY, CITY, agency="fire")
    fire_east = await _user(server, "fire-east", Role.AGENCY, EAST, agency="fire")
    try:
        await _save(root, _team("T-FIRE", WEST))
        await _save(root, _team("T-POLICE", WEST, agency="police"))
        # Saved as it is, nothing changes (no version, no event); renamed, it changes.
        assert (await _save(fire_city, _team("T-FIRE", WEST), version=1)).item.version == 1
        renamed = msgspec.structs.replace(_team("T-FIRE", WEST), name="消防危化品队")
        assert (await _save(fire_city, renamed, version=1)).item.version == 2
        other = await _refused(
            fire_city,
            SaveRegistryItem(req="", item=_team("T-POLICE", WEST, "police"), expected_version=1),
        )
        assert other.code is ErrorCode.FORBIDDEN
        assert other.message == "a user of agency fire changes only its agency's items"
        foreign = await _refused(
            fire_city, SaveRegistryItem(req="", item=_team("T-NEW", WEST, "police"))
        )
        assert foreign.message == other.message
        assert (await _save(fire_city, _team("T-NEW", WEST))).item.agency == "fire"
        # An enterprise belongs to no agency: a desk reads it but does not change it.
        await _save(root, _enterprise())
        seen = await _request(
            fire_city, GetRegistryItem(req="", kind=ItemKind.ENTERPRISE, code="ENT-1")
        )
        assert seen.item.code == "ENT-1"
        # Live: the city's desk hears the Xihu changes; the Shangcheng desk none of them.
        await _save(root, _team("T-CITY", CITY))
        await fire_city.recorder.wait_for(lambda: "T-CITY" in _heard(fire_city))
        await fire_east.recorder.wait_for(lambda: len(_registry_events(fire_east)) >= 1)
        await asyncio.sleep(0.2)
        assert _heard(fire_east) == {"T-CITY"}, "only the item of the area above it"
        assert _heard(fire_city) == {"T-FIRE", "T-POLICE", "T-NEW", "ENT-1", "T-CITY"}
    finally:
        for console in (root, fire_city, fire_east):
            await console.close()
    # A console resuming from the start gets the same, no more.
    resumed = await open_console(server, "fire-east", "pw-fire-east-long", last_seq=0)
    try:
        await resumed.recorder.wait_for(lambda: "T-CITY" in _heard(resumed))
        await asyncio.sleep(0.2)
        assert _heard(resumed) == {"T-CITY"}
    finally:
        await resumed.close()


# ---------------------------------------------------------------------------- hostile input


@asynccontextmanager
async def _raw(server: DutyDeskServer) -> AsyncIterator[ClientConnection]:
    async with connect(
        console_url(server),
        additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
        max_size=None,
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
        while json.loads(await ws.recv())["type"] != "synced":
            pass
        yield ws


async def _answer(ws: ClientConnection, payload: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps({**payload, "req": "probe"}))
    while True:
        message = json.loads(await ws.recv())
        if message.get("req") == "probe":
            assert isinstance(message, dict)
            return message


def _save_payload(details: dict[str, Any], **common: Any) -> dict[str, Any]:
    item = {"code": "BAD-1", "name": "坏数据", "details": details, **common}
    return {"type": "registry.save", "item": item}


HOSTILE = [
    pytest.param(_save_payload({"type": "spaceship"}), "bad_message", "spaceship", id="kind"),
    pytest.param(
        _save_payload({"type": "team", "team_type": "x", "grade": 1}),
        "bad_message",
        "grade",
        id="details-of-another-kind",
    ),
    pytest.param(
        _save_payload({"type": "enterprise", "credit_code": "91350100M000100Y44"}),
        "validation",
        "details.credit_code: 91350100M000100Y44 fails its check character",
        id="credit-code",
    ),
    pytest.param(
        _save_payload({"type": "enterprise", "credit_code": "91350100M00010OY43"}),
        "validation",
        "details.credit_code: 'O' cannot appear",
        id="credit-code-letter",
    ),
    pytest.param(
        _save_payload({"type": "team", "team_type": "x", "capabilities": ["a"] * 201}),
        "bad_message",
        "length <= 200",
        id="201-entries",
    ),
    pytest.param(
        _save_payload({"type": "hazard_source", "grade": 1, "enterprise": "NO-SUCH"}),
        "validation",
        "details.enterprise: no enterprise 'NO-SUCH' in the registry",
        id="enterprise",
    ),
    pytest.param(
        _save_payload({"type": "hazard_source", "grade": 2, "sensors": ["ghost-1"]}),
        "validation",
        "details.sensors: no sensor ghost-1 is registered",
        id="sensor",
    ),
    pytest.param(
        _save_payload({"type": "hazard_source", "grade": 2, "cameras": ["CAM-X"]}),
        "validation",
        "details.cameras: no camera CAM-X is registered",
        id="camera",
    ),
    pytest.param(
        _save_payload({"type": "hazard_source", "grade": 5}),
        "bad_message",
        "grade",
        id="grade",
    ),
    pytest.param(
        _save_payload({"type": "expert"}, jurisdiction="999999"),
        "validation",
        "jurisdiction: no jurisdiction '999999'",
        id="jurisdiction",
    ),
    pytest.param(
        _save_payload({"type": "expert"}, lat=30.2),
        "validation",
        "lat/lon: give both",
        id="lat-without-lon",
    ),
    pytest.param(
        _save_payload({"type": "expert"}, agency="no-such"),
        "validation",
        "agency: no agency 'no-such' is registered",
        id="agency",
    ),
    pytest.param(
        _save_payload({"type": "expert", "contacts": [{"phone": "call me"}]}),
        "validation",
        "details.contacts[0].phone: 'c****me' is not a phone number",
        id="phone",
    ),
    pytest.param(
        _save_payload(
            {
                "type": "plan",
                "type_codes": ["hazchem_leak"],
                "steps": [{"id": "s1", "text": "a"}, {"id": "s1", "text": "b"}],
            }
        ),
        "validation",
        "details.steps[1].id: step 's1' appears twice",
        id="plan-steps",
    ),
    pytest.param(
        {**_save_payload({"type": "expert"}), "item": {"code": "a b", "name": "x"}},
        "bad_message",
        "code",
        id="code-pattern",
    ),
    pytest.param(
        {"type": "registry.list", "after_code": "no-kind-cursor"},
        "validation",
        "after_code:",
        id="cursor",
    ),
    pytest.param(
        {"type": "registry.retire", "kind": "team", "code": "NONE", "expected_version": 1},
        "forbidden",
        "no such registry item in your area",
        id="retire-missing",
    ),
]


@pytest.mark.parametrize(("payload", "code", "fragment"), HOSTILE)
async def test_hostile_input_is_refused_clearly_and_the_session_goes_on(
    server: DutyDeskServer, payload: dict[str, Any], code: str, fragment: str
) -> None:
    async with _raw(server) as ws:
        answer = await _answer(ws, payload)
        assert answer["type"] == "error", answer
        assert answer["code"] == code, answer
        assert fragment in answer["message"], answer["message"]
        assert (await _answer(ws, {"type": "ping"}))["type"] == "result"
        listed = await _answer(ws, {"type": "registry.list", "include_retired": True})
        assert listed["data"]["items"] == [], "nothing written"


# ---------------------------------------------------------------------------- import


def _hazard_source(code: str, enterprise: str) -> RegistryItemInput:
    return RegistryItemInput(
        code=code,
        name=f"{code} 液氯储罐区",
        jurisdiction=WEST,
        details=HazardSourceDetails(grade=1, enterprise=enterprise),
    )


async def _counts(server: DutyDeskServer) -> tuple[int, int]:
    async with server.sessions() as session:
        items = await session.scalar(select(func.count()).select_from(RegistryItem))
        head = await eventlog.head_seq(session)
    return int(items or 0), head


async def test_an_import_with_one_conflict_writes_nothing(server: DutyDeskServer) -> None:
    service = server.registry_items
    # The hazard source comes first in the file: enterprises are written before it anyway.
    good = [_hazard_source("HS-1", "ENT-1"), _enterprise("ENT-1"), _enterprise("ENT-2")]
    before = await _counts(server)
    with pytest.raises(ImportConflictError) as conflict:
        await service.import_items(
            [*good, _hazard_source("HS-2", "ENT-9")], by="admin", source="台账.xlsx"
        )
    assert conflict.value.code is ErrorCode.VALIDATION
    assert conflict.value.message == (
        "hazard_source 'HS-2': details.enterprise: no enterprise 'ENT-9' in the registry"
    )
    twice = [*good, _enterprise("ENT-2")]
    with pytest.raises(ImportConflictError, match=r"enterprise 'ENT-2' appears twice in f\.csv"):
        await service.import_items(twice, by="admin", source="f.csv")
    assert await _counts(server) == before, "nothing written, no event"

    dry = await service.import_items(good, by="admin", source="f.csv", dry_run=True)
    assert dry == ImportOutcome(created=3, updated=0, unchanged=0)
    assert await _counts(server) == before

    assert await service.import_items(good, by="admin", source="f.csv") == ImportOutcome(3, 0, 0)
    renamed = [msgspec.structs.replace(_enterprise("ENT-1"), name="改名"), good[0], good[2]]
    assert await service.import_items(renamed, by="admin", source="f.csv") == (
        ImportOutcome(created=0, updated=1, unchanged=2)
    )
    async with server.sessions() as session:
        kinds = list(await session.scalars(select(EventRecord.kind).order_by(EventRecord.seq)))
    assert kinds[-6:] == [
        *(["registry.changed"] * 3),
        "registry.imported",
        "registry.changed",
        "registry.imported",
    ]
    exported = await service.export_items(ItemKind.ENTERPRISE, with_contacts=True)
    assert [item.code for item in exported] == ["ENT-1", "ENT-2"]
    assert isinstance(exported[0].details, EnterpriseDetails)
    assert exported[0].details.contacts[0].phone == PHONE
    masked = await service.export_items(ItemKind.ENTERPRISE, with_contacts=False)
    assert masked[0].details.contacts[0].phone == MASKED  # type: ignore[union-attr]


async def test_pages_go_on_by_code_within_a_kind_and_over_every_kind(
    server: DutyDeskServer,
) -> None:
    items = [_team(f"T-{n:02}", WEST) for n in range(5)] + [
        RegistryItemInput(code="P-1", name="危化品泄漏预案", details=PlanDetails(type_codes=["x"]))
    ]
    await server.registry_items.import_items(items, by="admin", source="seed")
    console = await open_console(server)
    try:
        codes: list[str] = []
        cursor = None
        while True:
            page = await _request(
                console, ListRegistry(req="", kind=ItemKind.TEAM, limit=2, after_code=cursor)
            )
            codes += [item.code for item in page.items]
            cursor = page.next_after_code
            if cursor is None:
                break
        assert codes == [f"T-{n:02}" for n in range(5)]
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            page = await _request(console, ListRegistry(req="", limit=4, after_code=cursor))
            seen += [(item.kind, item.code) for item in page.items]
            cursor = page.next_after_code
            if cursor is None:
                break
        assert seen == [("plan", "P-1"), *(("team", code) for code in codes)]
        found = await _request(console, ListRegistry(req="", text="预案"))
        assert [item.code for item in found.items] == ["P-1"]
        found = await _request(console, ListRegistry(req="", text="t-0_"))
        assert found.items == [], "a LIKE wildcard is a plain character"
    finally:
        await console.close()
