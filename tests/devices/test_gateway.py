"""The JT/T 808 gateway over real TCP on 127.0.0.1 (port 0), with a recording sink."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from devices.jt808 import (
    Authentication,
    BatchKind,
    Frame,
    FrameDecoder,
    GeneralResult,
    Heartbeat,
    Location,
    LocationBatch,
    Logout,
    PlatformGeneralReply,
    ProtocolVersion,
    Register,
    RegisterResult,
    TextMessage,
    encode_frame,
    encode_raw_frame,
)
from devices.jt808.framing import Header
from devices.jt808.gateway import (
    Jt808Gateway,
    ReplyTimeoutError,
    StaticTerminalRegistry,
    TerminalOfflineError,
)
from devices.jt808.gateway.connection import MAX_QUEUED_ITEMS
from devices.jt808.session import MAX_RUN
from devices.jt808.simulator import TerminalClient
from devices.observations import DeviceAlarmRaised, Observation
from tests.devices.support import RecordingSink, SinkDownError

PHONE = "13912345678"
PLATE = "粤B12345"
OTHER = "13800000001"
WHEN = dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)
SOS = 1 << 0
OVERSPEED = 1 << 1

GatewayFactory = Callable[..., Awaitable[tuple[Jt808Gateway, RecordingSink]]]
ClientFactory = Callable[..., Awaitable[TerminalClient]]


def register_msg(plate: str = PLATE) -> Register:
    return Register(
        province=44,
        city=768,
        maker="ABCDE",
        model="DD-808",
        terminal_id="T123456",
        plate_color=1,
        plate=plate,
    )


def location(alarm: int = 0, *, seconds: int = 0, lat: float = 31.23) -> Location:
    return Location.from_degrees(
        lat=lat,
        lon=121.47,
        time=WHEN + dt.timedelta(seconds=seconds),
        speed_kmh=42.0,
        alarm_flags=alarm,
    )


@pytest.fixture
async def make_gateway() -> AsyncIterator[GatewayFactory]:
    gateways: list[Jt808Gateway] = []

    async def make(
        *, sink: RecordingSink | None = None, auto_register: bool = False, **options: Any
    ) -> tuple[Jt808Gateway, RecordingSink]:
        sink = sink or RecordingSink()
        registry = StaticTerminalRegistry({PHONE: PLATE, OTHER: ""}, auto_register=auto_register)
        options.setdefault("offline_after", 30.0)
        gateway = Jt808Gateway(sink, registry, host="127.0.0.1", port=0, **options)
        await gateway.start()
        gateways.append(gateway)
        return gateway, sink

    yield make
    for gateway in gateways:
        await gateway.close()


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    clients: list[TerminalClient] = []

    async def make(gateway: Jt808Gateway, phone: str = PHONE, **options: Any) -> TerminalClient:
        client = TerminalClient(phone, **options)
        await client.connect("127.0.0.1", gateway.port)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def logged_in(
    make_client: ClientFactory, gateway: Jt808Gateway, phone: str = PHONE, **options: Any
) -> TerminalClient:
    client = await make_client(gateway, phone, **options)
    await client.login(register_msg(PLATE if phone == PHONE else "沪A00001"))
    return client


# --------------------------------------------------------------------------- login


@pytest.mark.parametrize("version", [ProtocolVersion.V2013, ProtocolVersion.V2019])
async def test_register_authenticate_and_report(
    make_gateway: GatewayFactory, make_client: ClientFactory, version: ProtocolVersion
) -> None:
    gateway, sink = await make_gateway()
    client = await make_client(gateway, version=version)
    reply = await client.register(register_msg())
    assert reply.result == RegisterResult.SUCCESS
    assert reply.auth_code
    await client.authenticate(reply.auth_code)
    assert [(s.device, s.online) for s in sink.statuses] == [(PHONE, True)]
    assert gateway.online_terminals == {PHONE}
    assert await client.general(Heartbeat()) == GeneralResult.SUCCESS
    assert await client.general(location()) == GeneralResult.SUCCESS
    [position] = sink.positions
    assert position.device == PHONE
    assert (position.lat, position.lon, position.speed_kmh) == (31.23, 121.47, 42.0)
    assert position.at == WHEN
    assert not position.backfill
    assert sink.alarms == []


async def test_unknown_terminal_is_refused(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await make_client(gateway, "13000000009")
    reply = await client.register(register_msg())
    assert reply.result == RegisterResult.NO_SUCH_TERMINAL
    assert reply.auth_code == ""
    assert await client.general(Location.from_degrees(lat=1, lon=2, time=WHEN)) == (
        GeneralResult.FAILURE
    )
    assert sink.items == []


async def test_known_terminal_with_the_wrong_plate_is_refused(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, _ = await make_gateway()
    client = await make_client(gateway)
    reply = await client.register(register_msg("粤B99999"))
    assert reply.result == RegisterResult.NO_SUCH_VEHICLE


async def test_auto_registration_accepts_unknown_terminals(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway(auto_register=True)
    client = await make_client(gateway, "13000000009")
    await client.login(register_msg("沪C00009"))
    assert await client.general(location()) == GeneralResult.SUCCESS
    assert [p.device for p in sink.positions] == ["13000000009"]


async def test_wrong_auth_code_is_refused(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await make_client(gateway)
    await client.register(register_msg())
    assert await client.general(Authentication("not-the-code")) == GeneralResult.FAILURE
    assert sink.statuses == []


async def test_unauthenticated_location_is_refused_and_nothing_accepted(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await make_client(gateway)
    reply = await client.register(register_msg())
    assert reply.result == RegisterResult.SUCCESS
    # Registered but not authenticated: still refused.
    assert await client.general(location(SOS)) == GeneralResult.FAILURE
    assert await client.general(Heartbeat()) == GeneralResult.FAILURE
    assert sink.items == []


async def test_frames_for_another_phone_on_an_authenticated_connection_are_refused(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await logged_in(make_client, gateway)
    intruder = TerminalClient(OTHER)
    _, data = intruder.encode(location(SOS), serial=5)
    reply = await client.send_raw(data, reply_serial=5)
    assert isinstance(reply, PlatformGeneralReply)
    assert reply.result == GeneralResult.FAILURE
    assert sink.positions == []


# --------------------------------------------------------------------------- alarms


async def test_sos_alarm_is_committed_before_the_reply_is_received(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    sink = RecordingSink(delay=0.05)
    gateway, _ = await make_gateway(sink=sink)

    def on_frame(frame: Frame) -> None:
        sink.log.append(("reply", frame.message))

    client = await logged_in(make_client, gateway, on_frame=on_frame)
    sink.log.clear()
    assert await client.general(location(SOS)) == GeneralResult.SUCCESS
    kinds = [(what, type(item).__name__) for what, item in sink.log]
    assert kinds == [
        ("submitted", "Position"),
        ("submitted", "DeviceAlarmRaised"),
        ("reply", "PlatformGeneralReply"),
    ]
    [alarm] = sink.alarms
    assert alarm == DeviceAlarmRaised(
        device=PHONE,
        key="emergency",
        at=WHEN,
        lat=31.23,
        lon=121.47,
        description="JT/T 808 alarm bit 0",
    )
    assert sink.positions[0].alarms == {"emergency"}


async def test_a_bit_held_across_reports_raises_once(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await logged_in(make_client, gateway)
    for second in range(3):
        assert await client.general(location(OVERSPEED, seconds=second)) == GeneralResult.SUCCESS
    assert [a.key for a in sink.alarms] == ["overspeed"]
    # SOS rises while overspeed is held: only SOS is new.
    await client.general(location(OVERSPEED | SOS, seconds=3))
    assert [a.key for a in sink.alarms] == ["overspeed", "emergency"]
    # Cleared, then raised again: a new condition.
    await client.general(location(0, seconds=4))
    await client.general(location(OVERSPEED, seconds=5))
    assert [a.key for a in sink.alarms] == ["overspeed", "emergency", "overspeed"]
    assert len(sink.positions) == 6


async def test_alarm_bits_that_do_not_raise_are_kept_on_the_position_only(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway(alarm_bits_that_raise={0})
    client = await logged_in(make_client, gateway)
    await client.general(location(OVERSPEED))
    assert sink.alarms == []
    assert sink.positions[0].alarms == {"overspeed"}


async def test_2019_alarm_names_follow_the_2019_table(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await logged_in(make_client, gateway, version=ProtocolVersion.V2019)
    await client.general(location(1 << 29))
    assert [a.key for a in sink.alarms] == ["collision_rollover"]


async def test_backfill_batch_is_flagged_and_leaves_live_alarm_state_alone(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await logged_in(make_client, gateway)
    batch = LocationBatch(
        kind=BatchKind.BACKFILL,
        locations=(
            location(0, seconds=-30),
            location(SOS, seconds=-20),
            location(SOS, seconds=-10),
        ),
    )
    assert await client.general(batch) == GeneralResult.SUCCESS
    assert len(sink.positions) == 3
    assert all(p.backfill for p in sink.positions)
    [alarm] = sink.alarms
    assert alarm.key == "emergency"
    assert alarm.at == WHEN - dt.timedelta(seconds=20)
    assert "backfill" in alarm.description
    # The live state never saw SOS, so a live SOS is a new alarm.
    await client.general(location(SOS))
    assert [a.key for a in sink.alarms] == ["emergency", "emergency"]


async def test_normal_batch_is_live(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await logged_in(make_client, gateway)
    batch = LocationBatch(
        kind=BatchKind.NORMAL, locations=(location(OVERSPEED), location(OVERSPEED, seconds=1))
    )
    assert await client.general(batch) == GeneralResult.SUCCESS
    assert [p.backfill for p in sink.positions] == [False, False]
    assert [a.key for a in sink.alarms] == ["overspeed"]
    await client.general(location(OVERSPEED, seconds=2))
    assert [a.key for a in sink.alarms] == ["overspeed"]


@pytest.mark.logs_errors
async def test_failing_sink_means_no_ack_and_the_alarm_is_raised_again(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await logged_in(make_client, gateway)
    sink.fail = True
    assert await client.general(location(SOS)) == GeneralResult.FAILURE
    sink.fail = False
    assert await client.general(location(SOS)) == GeneralResult.SUCCESS
    assert [a.key for a in sink.alarms] == ["emergency"]


# --------------------------------------------------------------------------- malformed


def heartbeat_content(serial: int, phone: str = PHONE, msg_id: int = 0x0002) -> bytes:
    """Unescaped header + checksum of a 2013 frame with an empty body."""
    frame = encode_raw_frame(Header(msg_id=msg_id, phone=phone, serial=serial), b"")
    return frame[1:-1]


async def test_malformed_frames_get_error_replies_and_the_connection_lives_on(
    make_gateway: GatewayFactory, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    gateway, _ = await make_gateway()
    client = await logged_in(make_client, gateway)
    caplog.set_level(logging.WARNING, logger="devices.jt808.gateway")

    # Bad checksum, three times: answered with "message error", logged once.
    for serial in (0x31, 0x32, 0x33):
        content = heartbeat_content(serial)
        bad = content[:-1] + bytes([content[-1] ^ 0x01])
        reply = await client.send_raw(b"\x7e" + bad + b"\x7e", reply_serial=serial)
        assert isinstance(reply, PlatformGeneralReply)
        assert (reply.reply_msg_id, reply.result) == (0x0002, GeneralResult.MESSAGE_ERROR)
    checksum_logs = [r for r in caplog.records if "ChecksumError" in r.getMessage()]
    assert len(checksum_logs) == 1

    # Bad escape (0x7D 0x05) inside the frame.
    content = heartbeat_content(0x34)
    reply = await client.send_raw(
        b"\x7e" + content[:-1] + b"\x7d\x05" + content[-1:] + b"\x7e", reply_serial=0x34
    )
    assert isinstance(reply, PlatformGeneralReply)
    assert reply.result == GeneralResult.MESSAGE_ERROR

    # Unknown message id: "unsupported".
    content = heartbeat_content(0x35, msg_id=0x0F0F)
    reply = await client.send_raw(b"\x7e" + content + b"\x7e", reply_serial=0x35)
    assert isinstance(reply, PlatformGeneralReply)
    assert (reply.reply_msg_id, reply.result) == (0x0F0F, GeneralResult.UNSUPPORTED)

    # Garbage without flags and an over-long run: no reply possible, nothing breaks.
    await client.send_raw(b"\x01\x02\x03" * 10)
    await client.send_raw(b"\x7e" + b"\x55" * 5000 + b"\x7e")

    assert await client.general(Heartbeat()) == GeneralResult.SUCCESS
    assert await client.general(location()) == GeneralResult.SUCCESS


async def test_bad_body_gets_message_error(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await logged_in(make_client, gateway)
    body = location().encode()[:-3]  # truncated BCD time
    frame = encode_raw_frame(Header(msg_id=0x0200, phone=PHONE, serial=0x40), body)
    reply = await client.send_raw(frame, reply_serial=0x40)
    assert isinstance(reply, PlatformGeneralReply)
    assert reply.result == GeneralResult.MESSAGE_ERROR
    assert sink.positions == []


# --------------------------------------------------------------------------- liveness


async def test_silent_terminal_goes_offline_once_and_is_disconnected(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway(offline_after=0.3)
    client = await logged_in(make_client, gateway)
    async with asyncio.timeout(3):
        await client.closed.wait()
    await sink.wait_for(lambda s: len(s.statuses) == 2)
    await asyncio.sleep(0.5)
    assert [(s.online, s.reason) for s in sink.statuses] == [
        (True, "authenticated"),
        (False, "silent for more than 0.3 s"),
    ]
    assert gateway.online_terminals == frozenset()


async def test_silence_is_measured_on_the_clock_the_gateway_is_given(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    """An exercise's gateway measures silence on the exercise clock: held, no terminal
    goes offline however long the wall wait; run on, it does."""
    seconds = [0.0]
    gateway, sink = await make_gateway(offline_after=0.2, silence_clock=lambda: seconds[0])
    client = await logged_in(make_client, gateway)
    await asyncio.sleep(0.5)
    assert [s.online for s in sink.statuses] == [True]
    seconds[0] = 1.0
    async with asyncio.timeout(3):
        await client.closed.wait()
    await sink.wait_for(lambda s: len(s.statuses) == 2)
    assert [s.online for s in sink.statuses] == [True, False]


async def test_heartbeats_keep_a_terminal_online(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway(offline_after=0.4)
    client = await logged_in(make_client, gateway)
    for _ in range(6):
        await asyncio.sleep(0.15)
        assert await client.general(Heartbeat()) == GeneralResult.SUCCESS
    assert [s.online for s in sink.statuses] == [True]


async def test_dropped_connection_goes_offline_after_the_silence_window(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway(offline_after=0.3)
    client = await logged_in(make_client, gateway)
    await client.close()
    await sink.wait_for(lambda s: len(s.statuses) == 2)
    assert [s.online for s in sink.statuses] == [True, False]
    # Reconnecting and authenticating marks it online again, once.
    again = await make_client(gateway)
    code = gateway.terminals._registry.auth_code(PHONE)  # type: ignore[attr-defined]
    await again.authenticate(code)
    assert [s.online for s in sink.statuses] == [True, False, True]


async def test_reconnect_within_the_window_stays_online_and_replaces_the_old_connection(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    first = await logged_in(make_client, gateway)
    second = await logged_in(make_client, gateway)
    async with asyncio.timeout(3):
        await first.closed.wait()
    assert await second.general(location()) == GeneralResult.SUCCESS
    assert [s.online for s in sink.statuses] == [True]


async def test_logout_reports_offline(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, sink = await make_gateway()
    client = await logged_in(make_client, gateway)
    assert await client.general(Logout()) == GeneralResult.SUCCESS
    assert [(s.online, s.reason) for s in sink.statuses] == [
        (True, "authenticated"),
        (False, "logout"),
    ]
    assert await client.general(location()) == GeneralResult.FAILURE


# --------------------------------------------------------------------------- downlink


@pytest.mark.parametrize("version", [ProtocolVersion.V2013, ProtocolVersion.V2019])
async def test_send_text_round_trip(
    make_gateway: GatewayFactory, make_client: ClientFactory, version: ProtocolVersion
) -> None:
    gateway, _ = await make_gateway()
    client = await logged_in(make_client, gateway, version=version)
    result = await gateway.send_text("0" + PHONE, "前方事故，请减速慢行", flags=0b1100)
    assert result == GeneralResult.SUCCESS
    assert client.texts == [TextMessage(flags=0b1100, text="前方事故，请减速慢行")]


async def test_send_text_reports_the_terminal_result(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, _ = await make_gateway()
    await logged_in(make_client, gateway, text_result=GeneralResult.UNSUPPORTED)
    assert await gateway.send_text(PHONE, "x") == GeneralResult.UNSUPPORTED


async def test_send_text_to_an_offline_terminal_raises(make_gateway: GatewayFactory) -> None:
    gateway, _ = await make_gateway()
    with pytest.raises(TerminalOfflineError, match="13912345678 is offline"):
        await gateway.send_text(PHONE, "hello")


async def test_send_text_times_out_when_the_terminal_does_not_answer(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, _ = await make_gateway()
    client = await logged_in(make_client, gateway, answer_texts=False)
    with pytest.raises(ReplyTimeoutError):
        await gateway.send_text(PHONE, "hello", timeout=0.2)
    assert [t.text for t in client.texts] == ["hello"]


async def test_send_text_fails_when_the_terminal_disconnects_while_waiting(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, _ = await make_gateway()
    text_arrived = asyncio.Event()

    def on_frame(frame: Frame) -> None:
        if isinstance(frame.message, TextMessage):
            text_arrived.set()

    client = await logged_in(make_client, gateway, answer_texts=False, on_frame=on_frame)
    pending = asyncio.create_task(gateway.send_text(PHONE, "hello", timeout=5))
    async with asyncio.timeout(5):
        await text_arrived.wait()
    await client.close()
    with pytest.raises(TerminalOfflineError):
        await pending


# --------------------------------------------------------------------------- limits


async def test_rate_limit_drops_excess_frames_warns_once_and_closes_when_sustained(
    make_gateway: GatewayFactory, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    gateway, _ = await make_gateway(max_frames_per_second=5, overload_close_after=0.5)
    client = await logged_in(make_client, gateway)
    await asyncio.sleep(1.0)  # refill the bucket after the login frames
    caplog.set_level(logging.WARNING, logger="devices.jt808.gateway")
    received: list[Frame] = []
    client._on_frame = received.append
    burst = b"".join(client.encode(Heartbeat())[1] for _ in range(30))
    await client.send_raw(burst)
    await asyncio.sleep(0.3)
    assert 4 <= len(received) <= 7
    assert len([r for r in caplog.records if "frames/s" in r.getMessage()]) == 1
    # Keep flooding: the connection is closed.
    async with asyncio.timeout(5):
        while not client.closed.is_set():
            try:
                await client.send_raw(burst)
            except ConnectionError:
                break
            await asyncio.sleep(0.05)
        await client.closed.wait()
    assert any("rate limit" in r.getMessage() for r in caplog.records)


async def test_frame_size_limit_keeps_the_connection(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, _ = await make_gateway(max_frame_size=64)
    client = await logged_in(make_client, gateway)
    await client.send_raw(b"\x7e" + b"\x11" * 500 + b"\x7e")
    assert await client.general(Heartbeat()) == GeneralResult.SUCCESS


async def test_close_with_live_connections_cleans_up() -> None:
    sink = RecordingSink()
    gateway = Jt808Gateway(sink, StaticTerminalRegistry({PHONE: PLATE}), port=0)
    async with gateway:
        client = TerminalClient(PHONE)
        await client.connect("127.0.0.1", gateway.port)
        await client.login(register_msg())
    async with asyncio.timeout(3):
        await client.closed.wait()
    await client.close()
    assert [s.online for s in sink.statuses] == [True]


def test_bad_options_are_refused() -> None:
    registry = StaticTerminalRegistry()
    with pytest.raises(ValueError, match="alarm bits"):
        Jt808Gateway(RecordingSink(), registry, alarm_bits_that_raise={32})
    with pytest.raises(ValueError, match="offline_after"):
        Jt808Gateway(RecordingSink(), registry, offline_after=0)


# --------------------------------------------------------------------------- many terminals


async def test_many_terminals_reporting_at_once_are_each_stored_and_answered(
    make_gateway: GatewayFactory,
) -> None:
    """Reports read in the same turn of the loop share one submission; each terminal still
    gets exactly its own positions stored and its own replies, in order."""
    gateway, sink = await make_gateway(auto_register=True, max_frames_per_second=1000)
    phones = [f"1370000{n:04d}" for n in range(24)]
    clients = []
    for phone in phones:
        client = TerminalClient(phone)
        await client.connect("127.0.0.1", gateway.port)
        await client.login(register_msg(f"沪A{phone[-5:]}"))
        clients.append(client)
    try:

        async def report(index: int, client: TerminalClient) -> list[GeneralResult]:
            results = []
            for seq in range(8):
                fix = location(seconds=seq, lat=30.0 + index / 100 + seq / 10_000)
                results.append(await client.general(fix))
            return results

        answers = await asyncio.gather(*(report(i, c) for i, c in enumerate(clients)))
    finally:
        for client in clients:
            await client.close()

    assert answers == [[GeneralResult.SUCCESS] * 8] * len(phones)
    for index, phone in enumerate(phones):
        mine = [p for p in sink.positions if p.device == phone]
        assert [round(p.lat, 4) for p in mine] == [
            round(30.0 + index / 100 + seq / 10_000, 4) for seq in range(8)
        ]
    # Terminals that reported at the same time were submitted together.
    assert max(sink.batches) > 1


@pytest.mark.logs_errors
async def test_a_failing_alarm_run_does_not_fail_other_terminals_positions(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    class AlarmsDown(RecordingSink):
        async def submit(self, observation: Observation) -> None:
            if isinstance(observation, DeviceAlarmRaised):
                raise SinkDownError("alarm store is down")
            await super().submit(observation)

    gateway, sink = await make_gateway(sink=AlarmsDown())
    sos = await logged_in(make_client, gateway)
    quiet = await logged_in(make_client, gateway, OTHER)
    results = await asyncio.gather(sos.general(location(SOS)), quiet.general(location()))
    # The SOS is not acknowledged (the terminal resends it); the other report is.
    assert list(results) == [GeneralResult.FAILURE, GeneralResult.SUCCESS]
    assert [p.device for p in sink.positions if p.device == OTHER] == [OTHER]


# --------------------------------------------------------------------------- bursts


async def _burst_replies(
    gateway: Jt808Gateway, frames: list[bytes], *, then: Callable[[], None]
) -> list[PlatformGeneralReply]:
    """Authenticate over a raw stream, call ``then``, write ``frames`` in one write, and
    read one reply per frame."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    decoder = FrameDecoder()
    replies: list[PlatformGeneralReply] = []

    async def read_until(count: int) -> None:
        async with asyncio.timeout(5):
            while len(replies) < count:
                chunk = await reader.read(4096)
                assert chunk, "gateway closed the connection"
                for item in decoder.feed(chunk):
                    assert not isinstance(item, Exception)
                    assert isinstance(item.message, PlatformGeneralReply)
                    replies.append(item.message)

    try:
        writer.write(encode_frame(Authentication(auth_code="burst-code"), phone=PHONE, serial=0))
        await read_until(1)
        assert replies.pop().result == GeneralResult.SUCCESS
        then()
        writer.write(b"".join(frames))
        await read_until(len(frames))
    finally:
        writer.close()
    return replies


async def test_a_backlog_beyond_the_queue_limit_pauses_reading_and_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """More frames than a connection queues while its sink is slow: reading pauses (TCP
    pushes back on the terminal), then resumes; every frame is stored and answered in
    order."""
    sink = RecordingSink(delay=0.001)
    registry = StaticTerminalRegistry({PHONE: PLATE}, auth_codes={PHONE: "burst-code"})
    gateway = Jt808Gateway(sink, registry, max_frames_per_second=10_000)
    await gateway.start()
    count = 3 * MAX_QUEUED_ITEMS
    caplog.set_level(logging.DEBUG, logger="devices.jt808.gateway")
    try:
        frames = [
            encode_frame(location(seconds=n), phone=PHONE, serial=n % 65536)
            for n in range(1, count + 1)
        ]
        replies = await _burst_replies(gateway, frames, then=lambda: None)
    finally:
        await gateway.close()
    assert [reply.reply_serial for reply in replies] == list(range(1, count + 1))
    assert {reply.result for reply in replies} == {GeneralResult.SUCCESS}
    assert [p.at for p in sink.positions] == [
        WHEN + dt.timedelta(seconds=n) for n in range(1, count + 1)
    ]
    messages = [record.getMessage() for record in caplog.records]
    assert any("reading paused" in message for message in messages)
    assert any("reading resumed" in message for message in messages)
    assert max(sink.batches) <= MAX_RUN


async def test_reports_sent_just_before_the_terminal_closes_its_side_are_answered() -> None:
    """A terminal that writes its last reports and shuts down its sending side still gets
    every reply (the sink is slow, so they are in flight at the EOF), then the close."""
    sink = RecordingSink(delay=0.05)
    registry = StaticTerminalRegistry({PHONE: PLATE}, auth_codes={PHONE: "burst-code"})
    gateway = Jt808Gateway(sink, registry, max_frames_per_second=1000)
    await gateway.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(encode_frame(Authentication(auth_code="burst-code"), phone=PHONE, serial=0))
        frames = [encode_frame(location(seconds=n), phone=PHONE, serial=n) for n in (1, 2, 3)]
        writer.write(b"".join([*frames, encode_frame(Heartbeat(), phone=PHONE, serial=4)]))
        writer.write_eof()
        async with asyncio.timeout(5):
            received = await reader.read()  # until the gateway closes
        writer.close()
    finally:
        await gateway.close()
    replies = [item.message for item in FrameDecoder().feed(received) if isinstance(item, Frame)]
    assert [
        (reply.reply_serial, reply.result)
        for reply in replies
        if isinstance(reply, PlatformGeneralReply)
    ] == [(n, GeneralResult.SUCCESS) for n in range(5)]
    assert len(sink.positions) == 3


@pytest.mark.logs_errors
@pytest.mark.parametrize("fail", [False, True])
async def test_a_burst_is_submitted_together_and_answered_in_order(fail: bool) -> None:
    sink = RecordingSink()
    registry = StaticTerminalRegistry({PHONE: PLATE}, auth_codes={PHONE: "burst-code"})
    gateway = Jt808Gateway(sink, registry, max_frames_per_second=1000)
    await gateway.start()

    def start_failing() -> None:
        sink.fail = fail

    try:
        frames = [
            encode_frame(location(SOS if n == 15 else 0, seconds=n), phone=PHONE, serial=n)
            for n in range(1, 31)
        ]
        replies = await _burst_replies(gateway, frames, then=start_failing)
    finally:
        await gateway.close()
    # Every frame answered once, in the order sent, with the same verdict.
    assert [reply.reply_serial for reply in replies] == list(range(1, 31))
    expected = GeneralResult.FAILURE if fail else GeneralResult.SUCCESS
    assert {reply.result for reply in replies} == {expected}
    if fail:
        assert sink.positions == []
        return
    # What one read brought went to the sink in few calls, not one per frame.
    assert sum(sink.batches) == 31  # 30 positions and the one rising alarm
    assert len(sink.batches) < 30
    assert [p.at for p in sink.positions] == [WHEN + dt.timedelta(seconds=n) for n in range(1, 31)]
    assert [a.key for a in sink.alarms] == ["emergency"]


async def test_a_fleet_connecting_while_the_gateway_is_busy_is_queued_not_dropped(
    make_gateway: GatewayFactory,
) -> None:
    fleet = 300  # more than asyncio's default queue of 100 pending connections
    # All from 127.0.0.1: as from a fleet behind one NAT address.
    gateway, _ = await make_gateway(max_connections_per_address=fleet)
    port = gateway.port

    def connect_all() -> list[socket.socket]:
        socks: list[socket.socket] = []
        try:
            for _ in range(fleet):
                # A dropped SYN is retried only after 1 s: this would time out.
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        except OSError:
            for sock in socks:
                sock.close()
            raise
        return socks

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        connecting = pool.submit(connect_all)
        # The event loop accepts nothing meanwhile: the kernel has to queue them all.
        connecting_done = concurrent.futures.wait([connecting], timeout=5.0)
        socks = connecting.result()
    assert connecting_done.done
    try:
        for _ in range(200):
            if len(gateway._connections) == fleet:
                break
            await asyncio.sleep(0.02)
        assert len(gateway._connections) == fleet
    finally:
        for sock in socks:
            sock.close()
