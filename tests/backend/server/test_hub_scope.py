"""Live telemetry and device changes reach a console only inside its user's area, over real
WebSockets: a Hangzhou officer never gets a Shanghai truck's fix, a whole-area officer
gets both, an unplaced fix reaches whole-area users only, and a desk without the
telemetry permission gets none of it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable

import msgspec
import pytest

from backend.server import hub as hub_module
from backend.server.app import DutyDeskServer
from devices.observations import Position
from realtime.protocol import (
    AlarmView,
    DispatchView,
    Event,
    ReadingView,
    Role,
    Subscribe,
    Subscribed,
)
from realtime.states import AlarmLevel, AlarmState
from tests.backend.conftest import Console, open_console

AGENCY = next(role for role in Role if role.value.startswith("agency"))
"""The linked agencies' desk role (whatever its name on this branch)."""

SCOPED_USERS = (
    # username, role, agency, jurisdiction
    ("hz", Role.OFFICER, None, "3301"),  # Hangzhou
    ("xh", Role.OFFICER, None, "330106"),  # Xihu district of Hangzhou
    ("sh", Role.SUPERVISOR, None, "31"),  # Shanghai
    ("whole", Role.OFFICER, None, ""),  # the whole area
    ("fire", AGENCY, "fire", "3301"),  # an agency desk: no telemetry today
)
T0 = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
MARKER = "test.marker"
"""The kind of the marker events: an alarm in Xihu dispatched to the fire desk and one in
Pudong, so every console gets at least one; once it arrives the console has been sent
everything published before it. (An event about no object goes to whole-area users
only.)"""


@pytest.fixture
async def consoles(server: DutyDeskServer) -> AsyncIterator[dict[str, Console]]:
    opened: dict[str, Console] = {}
    for username, role, agency, jurisdiction in SCOPED_USERS:
        await server.users.add_user(
            username, f"pw-{username}-pass", role, agency=agency, jurisdiction=jurisdiction
        )
        opened[username] = await open_console(server, username, f"pw-{username}-pass")
    try:
        yield opened
    finally:
        for console in opened.values():
            await console.close()


def _positions(console: Console) -> list[str]:
    return sorted(v.device for batch in console.recorder.telemetry for v in batch.positions)


def _readings(console: Console) -> list[str]:
    return sorted(v.sensor for batch in console.recorder.telemetry for v in batch.readings)


def _fix(device: str, minute: int = 0) -> Position:
    return Position(device=device, at=T0 + dt.timedelta(minutes=minute), lat=30.2, lon=120.1)


def _reading(sensor: str, jurisdiction: str) -> ReadingView:
    return ReadingView(
        device="plc-1", sensor=sensor, at=T0, value=0.4, unit="%", jurisdiction=jurisdiction
    )


def _marker_alarm(jurisdiction: str) -> AlarmView:
    return AlarmView(
        id=900_000,
        version=1,
        state=AlarmState.NEW,
        level=AlarmLevel.BLUE,
        alarm_type="marker",
        title="marker",
        jurisdiction=jurisdiction,
        source="manual",
        first_seen=T0,
        last_seen=T0,
        updated_at=T0,
        dispatches=[DispatchView(unit_id=1, unit_name="站", agency="fire", note="", by="t", at=T0)],
    )


async def _subscribe(console: Console, *topics: str) -> None:
    answer = await console.client.request(Subscribe(req="", topics=list(topics)))
    assert isinstance(answer, Subscribed)


async def _mark(server: DutyDeskServer, consoles: dict[str, Console]) -> None:
    """Publish a marker after everything else and wait until every console has it."""
    seq = max(c.client.last_seq or 0 for c in consoles.values()) + 1000
    server.hub.publish(
        [
            Event(seq=seq, at=T0, kind=MARKER, actor="test", alarm=_marker_alarm("330106")),
            Event(seq=seq + 1, at=T0, kind=MARKER, actor="test", alarm=_marker_alarm("310115")),
        ]
    )
    for console in consoles.values():
        await console.recorder.wait_for(
            lambda c=console: any(e.kind == MARKER for e in c.recorder.events), timeout=10
        )


async def _each_got_a_batch(
    consoles: dict[str, Console], names: Callable[[Console], list[str]]
) -> None:
    for console in consoles.values():
        await console.recorder.wait_for(lambda c=console: names(c), timeout=10)


async def test_each_console_gets_only_the_fixes_inside_its_area(
    server: DutyDeskServer, consoles: dict[str, Console]
) -> None:
    for console in consoles.values():
        await _subscribe(console, "positions")
    server.hub.offer_position(_fix("hz-xihu"), "330106")
    server.hub.offer_position(_fix("hz-binjiang"), "330108")
    server.hub.offer_position(_fix("sh-pudong"), "3101")
    server.hub.offer_position(_fix("nowhere"), "")
    server.hub.flush_telemetry()
    receivers = {name: c for name, c in consoles.items() if name != "fire"}
    await _each_got_a_batch(receivers, _positions)
    await _mark(server, consoles)
    assert _positions(consoles["whole"]) == ["hz-binjiang", "hz-xihu", "nowhere", "sh-pudong"]
    assert _positions(consoles["hz"]) == ["hz-binjiang", "hz-xihu"]
    assert _positions(consoles["xh"]) == ["hz-xihu"]
    assert _positions(consoles["sh"]) == ["sh-pudong"]
    assert _positions(consoles["fire"]) == []
    # Each view carries the place it was filtered by.
    (view,) = [v for b in consoles["sh"].recorder.telemetry for v in b.positions]
    assert view.jurisdiction == "3101"


async def test_the_latest_fixes_sent_on_subscribing_are_scoped_too(
    server: DutyDeskServer, consoles: dict[str, Console]
) -> None:
    """Trucks already on the map when a console subscribes: its area's only."""
    server.hub.offer_position(_fix("hz-xihu"), "330106")
    server.hub.offer_position(_fix("sh-pudong"), "3101")
    server.hub.offer_position(_fix("nowhere"), "")
    server.hub.flush_telemetry()  # nobody subscribed yet
    for console in consoles.values():
        await _subscribe(console, "positions")
    receivers = {name: c for name, c in consoles.items() if name != "fire"}
    await _each_got_a_batch(receivers, _positions)
    await _mark(server, consoles)
    assert _positions(consoles["whole"]) == ["hz-xihu", "nowhere", "sh-pudong"]
    assert _positions(consoles["hz"]) == ["hz-xihu"]
    assert _positions(consoles["sh"]) == ["sh-pudong"]
    assert _positions(consoles["fire"]) == []


async def test_readings_follow_the_sensor_s_place_and_only_to_readings_subscribers(
    server: DutyDeskServer, consoles: dict[str, Console]
) -> None:
    await _subscribe(consoles["hz"], "positions", "readings")
    await _subscribe(consoles["sh"], "readings")
    await _subscribe(consoles["whole"], "readings")
    await _subscribe(consoles["xh"], "positions")  # positions only: never a reading
    await _subscribe(consoles["fire"], "readings")
    server.hub.offer_reading(_reading("ch4-hz", "330106"))
    server.hub.offer_reading(_reading("co-sh", "3101"))
    server.hub.offer_reading(_reading("o2-unplaced", ""))
    server.hub.offer_position(_fix("hz-xihu"), "330106")
    server.hub.flush_telemetry()
    await _each_got_a_batch({name: consoles[name] for name in ("hz", "sh", "whole")}, _readings)
    await consoles["xh"].recorder.wait_for(lambda: _positions(consoles["xh"]))
    await _mark(server, consoles)
    assert _readings(consoles["whole"]) == ["ch4-hz", "co-sh", "o2-unplaced"]
    assert _readings(consoles["hz"]) == ["ch4-hz"]
    assert _readings(consoles["sh"]) == ["co-sh"]
    assert _positions(consoles["sh"]) == []  # readings only
    assert _readings(consoles["xh"]) == []
    assert _positions(consoles["xh"]) == ["hz-xihu"]
    assert consoles["fire"].recorder.telemetry == []


async def test_device_changes_reach_only_consoles_whose_area_holds_the_device(
    server: DutyDeskServer, consoles: dict[str, Console]
) -> None:
    """A device is where its newest fix is; one never placed is for whole-area users."""
    server.hub.offer_position(_fix("13900000001"), "330106")
    server.hub.offer_position(_fix("13900000002"), "3101")
    for identity in ("13900000001", "13900000002", "13900000003"):
        await server.registry.add("jt808", identity, f"危化品运输车 {identity[-2:]}")
    await consoles["whole"].recorder.wait_for(
        lambda: len([e for e in consoles["whole"].recorder.events if e.device]) == 3
    )
    await _mark(server, consoles)

    def devices(name: str) -> list[str]:
        return [e.device.identity for e in consoles[name].recorder.events if e.device]

    assert devices("whole") == ["13900000001", "13900000002", "13900000003"]
    assert devices("hz") == ["13900000001"]
    assert devices("xh") == ["13900000001"]
    assert devices("sh") == ["13900000002"]
    assert devices("fire") == []


async def test_a_truck_that_drives_out_of_the_area_leaves_the_consoles_of_that_area(
    server: DutyDeskServer, consoles: dict[str, Console]
) -> None:
    for name in ("hz", "sh"):
        await _subscribe(consoles[name], "positions")
    server.hub.offer_position(_fix("truck"), "330106")
    server.hub.flush_telemetry()
    await consoles["hz"].recorder.wait_for(lambda: _positions(consoles["hz"]))
    server.hub.offer_position(_fix("truck", minute=1), "3101")  # now in Shanghai
    server.hub.flush_telemetry()
    await consoles["sh"].recorder.wait_for(lambda: _positions(consoles["sh"]))
    await _mark(server, consoles)
    hz_fixes = [v for b in consoles["hz"].recorder.telemetry for v in b.positions]
    assert [v.at for v in hz_fixes] == [T0]  # never the Shanghai fix
    (sh_fix,) = [v for b in consoles["sh"].recorder.telemetry for v in b.positions]
    assert sh_fix.at == T0 + dt.timedelta(minutes=1)


async def test_each_tick_encodes_one_batch_per_scope_group_not_per_console(
    server: DutyDeskServer,
    consoles: dict[str, Console],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Six subscribed consoles in three groups (whole area; Hangzhou with positions;
    Hangzhou with positions and readings): three encodes per tick."""
    extra = await _more_consoles(server, ("hz2", "3301"), ("whole2", ""))
    try:
        await _subscribe(consoles["hz"], "positions")
        await _subscribe(extra["hz2"], "positions")
        await _subscribe(consoles["xh"], "positions", "readings")  # its own group
        await _subscribe(consoles["whole"], "positions")
        await _subscribe(extra["whole2"], "positions")
        await _subscribe(consoles["fire"], "positions")  # no permission: no group
        assert sorted(server.hub.scope_groups().values()) == [1, 2, 2]
        encoded: list[object] = []

        def counting_encode(message: msgspec.Struct) -> bytes:
            encoded.append(message)
            return msgspec.json.encode(message)

        monkeypatch.setattr(hub_module, "encode", counting_encode)
        server.hub.offer_position(_fix("hz-xihu"), "330106")
        server.hub.offer_position(_fix("sh-pudong"), "3101")
        server.hub.flush_telemetry()
        assert len(encoded) == 3
        everyone = consoles | extra
        receivers = {n: c for n, c in everyone.items() if n not in {"fire", "sh"}}
        await _each_got_a_batch(receivers, _positions)
        assert _positions(extra["hz2"]) == ["hz-xihu"]
        assert _positions(extra["whole2"]) == ["hz-xihu", "sh-pudong"]
        # One encode per event too, however many consoles receive it.
        encoded.clear()
        await _mark(server, everyone)
        assert len(encoded) == 2  # the two marker events, each encoded once
    finally:
        for console in extra.values():
            await console.close()
    # Closed consoles leave their groups (once the server has seen them go).
    async with asyncio.timeout(10):
        while sorted(server.hub.scope_groups().values()) != [1, 1, 1]:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def _more_consoles(server: DutyDeskServer, *users: tuple[str, str]) -> dict[str, Console]:
    opened = {}
    for username, jurisdiction in users:
        password = f"pw-{username}-pass"
        await server.users.add_user(username, password, Role.OFFICER, jurisdiction=jurisdiction)
        opened[username] = await open_console(server, username, password)
    return opened


async def test_an_event_already_sent_in_the_snapshot_is_not_sent_again(
    server: DutyDeskServer, consoles: dict[str, Console]
) -> None:
    console = consoles["whole"]
    head = console.client.last_seq
    assert head is not None
    server.hub.publish([Event(seq=head, at=T0, kind="test.old", actor="test")])
    await _mark(server, {"whole": console})
    assert {e.kind for e in console.recorder.events} == {MARKER}
