"""The hub's queues of pre-encoded frames: events encoded once and shared, nothing encoded
for nobody, telemetry that never pushes a console into overflow, a console that falls
behind on events cut off (and, over a real socket, one that stops reading while
telemetry floods in kept until events overflow it)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import msgspec
import pytest
from websockets.asyncio.client import connect

from backend.authz.principal import Principal
from backend.server import hub as hub_module
from backend.server.app import DutyDeskServer
from backend.server.hub import Frame, Hub, Subscriber
from devices.observations import Position
from realtime import PROTOCOL_VERSION
from realtime.client import basic_auth_header
from realtime.protocol import (
    AlarmView,
    CircleShape,
    DeviceView,
    DispatchView,
    Event,
    GeofenceView,
    ReadingView,
    Role,
    Telemetry,
)
from realtime.states import AlarmLevel, AlarmState
from tests.backend.conftest import console_url

AGENCY = next(role for role in Role if role.value.startswith("agency"))
T0 = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)


def _principal(
    name: str, role: Role = Role.OFFICER, jurisdiction: str = "", agency: str | None = None
) -> Principal:
    return Principal(
        user_id=hash(name) % 10_000,
        username=name,
        display_name=name,
        role=role,
        agency=agency,
        jurisdiction=jurisdiction,
    )


def _alarm(jurisdiction: str, agency: str | None = None) -> AlarmView:
    dispatches = (
        [DispatchView(unit_id=1, unit_name="站", agency=agency, note="", by="a", at=T0)]
        if agency
        else []
    )
    return AlarmView(
        id=1,
        version=1,
        state=AlarmState.NEW,
        level=AlarmLevel.RED,
        alarm_type="fire",
        title="火警",
        jurisdiction=jurisdiction,
        source="manual",
        first_seen=T0,
        last_seen=T0,
        updated_at=T0,
        dispatches=dispatches,
    )


def _frames(subscriber: Subscriber) -> list[Frame]:
    frames = []
    while not subscriber.queue.empty():
        frames.append(subscriber.queue.get_nowait())
    return frames


def _decoded(subscriber: Subscriber) -> list[dict[str, object]]:
    return [json.loads(frame.data) for frame in _frames(subscriber)]


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[msgspec.Struct]:
    """Every message the hub encodes."""
    seen: list[msgspec.Struct] = []

    def counting(message: msgspec.Struct) -> bytes:
        seen.append(message)
        return msgspec.json.encode(message)

    monkeypatch.setattr(hub_module, "encode", counting)
    return seen


async def test_an_event_is_encoded_once_and_the_same_bytes_go_to_every_console_that_may_see_it(
    encoded: list[msgspec.Struct],
) -> None:
    hub = Hub()
    whole, hz, sh = (
        Subscriber(_principal("whole")),
        Subscriber(_principal("hz", jurisdiction="3301")),
        Subscriber(_principal("sh", jurisdiction="31")),
    )
    desk = Subscriber(_principal("fire", AGENCY, "3301", agency="fire"))
    for subscriber in (whole, hz, sh, desk):
        hub.add(subscriber)
    event = Event(seq=7, at=T0, kind="alarm.raised", actor="a", alarm=_alarm("330106", "fire"))
    hub.publish([event])
    assert len(encoded) == 1
    frames = [s.queue.get_nowait() for s in (whole, hz, desk)]
    assert frames[0] is frames[1] is frames[2]  # shared, not copied
    assert frames[0] == Frame(7, msgspec.json.encode(event))
    assert sh.queue.empty()


async def test_nothing_is_encoded_for_an_event_nobody_may_see(
    encoded: list[msgspec.Struct],
) -> None:
    hub = Hub()
    hub.add(Subscriber(_principal("hz", jurisdiction="3301")))
    hub.add(Subscriber(_principal("fire", AGENCY, "3301", agency="fire")))
    hub.publish([Event(seq=1, at=T0, kind="alarm.raised", actor="a", alarm=_alarm("31"))])
    assert encoded == []


async def test_device_changes_and_geofences_go_only_to_roles_that_may_see_them() -> None:
    hub = Hub()
    whole = Subscriber(_principal("whole"))
    officer = Subscriber(_principal("hz", jurisdiction="3301"))
    desk = Subscriber(_principal("fire", AGENCY, "3301", agency="fire"))
    hub.add(whole)
    hub.add(officer)
    hub.add(desk)
    hub.offer_reading(
        ReadingView(device="plc-9", sensor="ch4", at=T0, value=0.1, jurisdiction="330106")
    )
    device = DeviceView(id=1, kind="modbus", identity="plc-9", name="PLC")
    shape = CircleShape(lat=30.2, lon=120.1, radius_m=500)
    geofence = GeofenceView(
        id=1,
        version=1,
        name="库区",
        kind="no_go_zone",
        shape=shape,
        level=AlarmLevel.RED,
        created_at=T0,
        updated_at=T0,
    )
    hub.publish(
        [
            Event(seq=1, at=T0, kind="device.online", actor="a", device=device),
            Event(seq=2, at=T0, kind="geofence.saved", actor="a", geofence=geofence),
        ]
    )
    assert [f["kind"] for f in _decoded(whole)] == ["device.online", "geofence.saved"]
    # Geofences carry no area: they are kept by whole-area users only.
    assert [f["kind"] for f in _decoded(officer)] == ["device.online"]
    assert _decoded(desk) == []


async def test_a_console_that_falls_behind_on_events_is_marked_and_then_skipped(
    encoded: list[msgspec.Struct], caplog: pytest.LogCaptureFixture
) -> None:
    hub = Hub()
    slow = Subscriber(_principal("slow"), limit=2)
    hub.add(slow)
    hub.publish([Event(seq=n, at=T0, kind="note", actor="a") for n in (1, 2, 3)])
    assert slow.overflowed.is_set()
    assert slow.queue.qsize() == 2
    assert any("fell 2 events behind" in r.getMessage() for r in caplog.records)
    # Overflowed: nothing more is queued, and nothing encoded for it.
    encoded.clear()
    hub.publish([Event(seq=4, at=T0, kind="note", actor="a")])
    assert encoded == []
    slow.topics = {"positions"}
    hub.offer_position(Position(device="t", at=T0, lat=30.0, lon=120.0))
    hub.flush_telemetry()
    slow.offer_telemetry(Telemetry(positions=[]))
    assert slow.queue.qsize() == 2


async def test_telemetry_never_pushes_a_console_into_overflow() -> None:
    hub = Hub()
    busy = Subscriber(_principal("busy"), limit=6)
    busy.topics = {"positions", "readings"}
    hub.add(busy)
    for minute in range(10):
        at = T0 + dt.timedelta(minutes=minute)
        hub.offer_position(Position(device="t", at=at, lat=30.0, lon=120.0), "3301")
        hub.flush_telemetry()
    assert busy.queue.qsize() == 3  # half the queue: the rest is kept for events
    assert not busy.overflowed.is_set()
    hub.publish([Event(seq=n, at=T0, kind="note", actor="a") for n in (1, 2, 3)])
    assert busy.queue.qsize() == 6
    assert not busy.overflowed.is_set()


async def test_groups_follow_subscriptions_and_a_lone_subscriber_works_without_a_hub() -> None:
    hub = Hub()
    officer = Subscriber(_principal("hz", jurisdiction="3301"))
    hub.add(officer)
    assert hub.scope_groups() == {}
    officer.topics = {"positions"}
    officer.topics = {"positions", "readings"}
    assert list(hub.scope_groups().values()) == [1]
    officer.topics = set()
    assert hub.scope_groups() == {}
    hub.remove(officer)
    # Not in any hub (e.g. built by a test): the topics still decide what it gets.
    lone = Subscriber(_principal("lone", jurisdiction="3301"))
    lone.topics = {"readings"}
    views = [
        ReadingView(device="d", sensor=s, at=T0, value=1.0, jurisdiction=j)
        for s, j in (("in", "330106"), ("out", "31"), ("unplaced", ""))
    ]
    lone.offer_telemetry(Telemetry(readings=views))
    (frame,) = [msgspec.json.decode(f.data, type=Telemetry) for f in _frames(lone)]
    assert [r.sensor for r in frame.readings] == ["in"]
    lone.offer_telemetry(Telemetry(readings=views[1:]))  # nothing inside: nothing sent
    assert lone.queue.empty()


async def test_a_device_s_place_is_its_newest_fix_or_reading() -> None:
    hub = Hub()
    hz = Subscriber(_principal("hz", jurisdiction="3301"))
    hub.add(hz)
    hub.remember_positions([])
    hub.offer_position(Position(device="t", at=T0, lat=30.0, lon=120.0), "330106")
    hub.offer_position(Position(device="t", at=T0 - dt.timedelta(hours=1), lat=0, lon=0), "31")
    hub.remember_readings(
        [ReadingView(device="t", sensor="s", at=T0 - dt.timedelta(hours=2), value=1.0)]
    )
    hub.offer_reading(ReadingView(device="t", sensor="s", at=T0 - dt.timedelta(hours=3), value=1.0))
    device = DeviceView(id=1, kind="jt808", identity="t", name="车")
    hub.publish([Event(seq=1, at=T0, kind="device.online", actor="a", device=device)])
    assert len(_decoded(hz)) == 1  # older fixes and readings elsewhere did not move it
    assert hub.device_place("t") == "330106"
    assert hub.device_place("never-heard") == ""


@pytest.mark.slow
async def test_a_console_that_stops_reading_under_telemetry_is_kept_until_events_overflow_it(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telemetry alone never cuts a stuck console off; the event log still does."""
    monkeypatch.setattr(hub_module, "QUEUE_LIMIT", 10)
    async with connect(
        console_url(server),
        additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
        max_queue=1,
    ) as stuck:
        await stuck.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
        await stuck.send(json.dumps({"type": "subscribe", "req": "s", "topics": ["positions"]}))
        await asyncio.sleep(0.3)
        (subscriber,) = list(server.hub._subscribers)
        # Big batches (2,000 fixes, ≈ 300 KB each) fill the socket's buffers, then the queue.
        for tick in range(40):
            at = T0 + dt.timedelta(seconds=tick)
            for n in range(2000):
                server.hub.offer_position(
                    Position(device=f"t{n}", at=at, lat=30.0, lon=120.0), "3301"
                )
            server.hub.flush_telemetry()
            await asyncio.sleep(0)
        await asyncio.sleep(0.2)
        assert subscriber.queue.qsize() == 5
        assert not subscriber.overflowed.is_set()
        assert len(server.hub) == 1
        server.hub.publish([Event(seq=10_000 + n, at=T0, kind="note", actor="a") for n in range(6)])
        assert subscriber.overflowed.is_set()
        async with asyncio.timeout(20):
            while len(server.hub):  # noqa: ASYNC110 - polling the server from a test
                await asyncio.sleep(0.1)
        stuck.transport.abort()  # it would never read the close frame: don't wait for it


async def test_frames_are_written_at_once_only_while_nothing_waits_before_them() -> None:
    """The fast path keeps the order: once one frame had to queue (the socket was backed
    up), the next ones queue behind it until the pump has sent it."""
    hub = Hub()
    officer = Subscriber(_principal("hz"))
    hub.add(officer)
    written: list[bytes] = []
    room = [True]

    def write_now(data: bytes) -> bool:
        if room[0]:
            written.append(data)
        return room[0]

    officer.write_now = write_now
    officer.sent_seq = 1  # seq 1 went out in the snapshot
    events = [Event(seq=n, at=T0, kind=f"k{n}", actor="a") for n in range(1, 5)]
    hub.publish(events[:2])
    assert [json.loads(d)["seq"] for d in written] == [2]  # 1 is not sent again
    assert officer.sent_seq == 2
    room[0] = False
    hub.publish([events[2]])
    room[0] = True
    hub.publish([events[3]])
    assert [f.seq for f in _frames(officer)] == [3, 4]  # 4 waited behind 3
    assert len(written) == 1
    officer.topics = {"positions"}
    hub.offer_position(Position(device="t", at=T0, lat=30.0, lon=120.0))
    hub.flush_telemetry()
    assert json.loads(written[-1])["type"] == "telemetry"  # the queue was empty again


async def test_the_console_writer_refuses_once_the_connection_is_closing() -> None:
    from websockets.asyncio.server import ServerConnection, serve

    from backend.server.console import _writer

    held: list[ServerConnection] = []

    async def handler(connection: ServerConnection) -> None:
        held.append(connection)
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as bare:
        port = bare.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as client:
            while not held:  # noqa: ASYNC110 - waiting for the server's side to exist
                await asyncio.sleep(0.01)
            write_now = _writer(held[0])
            assert write_now(b'{"type":"ping"}')
            assert await client.recv() == '{"type":"ping"}'  # a text frame
        await held[0].wait_closed()
        assert not write_now(b'{"type":"ping"}')


async def test_events_queued_during_the_sync_are_not_sent_twice() -> None:
    """Events committed while the replay was being sent wait in the queue; those the replay
    already held are skipped, the rest follow in order, then frames go out at once."""
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed

    from backend.server.console import _send_live

    subscriber = Subscriber(_principal("hz"))
    for seq in (1, 2, 3):
        subscriber.offer(Frame(seq, msgspec.json.encode({"type": "event", "seq": seq})))
    ended: list[BaseException] = []

    async def handler(connection: ServerConnection) -> None:
        try:
            await _send_live(connection, subscriber, 2)  # the replay went up to seq 2
        except ConnectionClosed as exc:
            ended.append(exc)

    async with serve(handler, "127.0.0.1", 0) as bare:
        port = bare.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as client:
            assert json.loads(await client.recv())["seq"] == 3
            async with asyncio.timeout(5):
                while subscriber.write_now is None:  # noqa: ASYNC110 - the sender's start
                    await asyncio.sleep(0.01)
            subscriber.offer(Frame(4, b'{"type":"event","seq":4}'))
            assert json.loads(await client.recv())["seq"] == 4
            assert subscriber.sent_seq == 4
        # Gone: the next frame cannot be written at once, and the pump's send fails (in
        # a console session the receiver notices first and cancels the sender).
        await asyncio.sleep(0.1)
        subscriber.offer(Frame(5, b'{"type":"event","seq":5}'))
        async with asyncio.timeout(5):
            while not ended:  # noqa: ASYNC110 - the server's side noticing the close
                await asyncio.sleep(0.01)
    assert subscriber.write_now is None
