"""Orders to terminals (0x8201, 0x8202, 0x8400, 0x8500, 0x8103, 0x8104, 0x8106) and their
answers (0x0201, 0x0104, 0x0500): bodies assembled by hand from the standard's field
tables, strict decoding, and the gateway with the simulated terminal over real TCP in both
editions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from devices.jt808 import (
    EncodeError,
    FieldError,
    GeneralResult,
    LengthError,
    ProtocolVersion,
    TruncatedError,
    UnsupportedError,
    decode_frame,
)
from devices.jt808.framing import Header, encode_raw_frame
from devices.jt808.gateway import (
    BadAnswerError,
    Jt808Gateway,
    ReplyTimeoutError,
    StaticTerminalRegistry,
)
from devices.jt808.messages import (
    CallBackOrder,
    Parameter,
    ParametersAnswer,
    PositionAnswer,
    PositionQuery,
    QueryAllParameters,
    QueryParameters,
    SetParameters,
    TemporaryTracking,
    TerminalGeneralReply,
    VehicleControlAnswer,
    VehicleControlOrder,
)
from devices.jt808.simulator import TerminalClient
from devices.jt808.terminal_orders import STATUS_DOORS_LOCKED, TerminalOrders
from tests.devices.support import RecordingSink
from tests.devices.test_gateway import (
    OTHER,
    PHONE,
    PLATE,
    ClientFactory,
    GatewayFactory,
    location,
    logged_in,
)

BOTH = [ProtocolVersion.V2013, ProtocolVersion.V2019]


@pytest.fixture
async def make_gateway() -> AsyncIterator[GatewayFactory]:
    gateways: list[Jt808Gateway] = []

    async def make(**options: Any) -> tuple[Jt808Gateway, RecordingSink]:
        sink = RecordingSink()
        registry = StaticTerminalRegistry({PHONE: PLATE, OTHER: ""})
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


V2013 = ProtocolVersion.V2013
V2019 = ProtocolVersion.V2019


# --------------------------------------------------------------------------- field tables


def test_temporary_tracking_is_a_word_interval_then_a_dword_validity() -> None:
    body = bytes.fromhex("001e00000e10")  # 30 s, for 3600 s
    assert TemporaryTracking(interval_s=30, validity_s=3600).encode(V2013) == body
    assert TemporaryTracking.decode(body, V2019) == TemporaryTracking(30, 3600)


def test_call_back_is_a_flag_byte_then_the_phone_as_a_string() -> None:
    assert CallBackOrder(phone="110").encode() == b"\x00110"
    assert CallBackOrder(phone="110", listen=True).encode(V2019) == b"\x01110"
    with pytest.raises(FieldError, match="flag must be 0 or 1"):
        CallBackOrder.decode(b"\x02110")
    with pytest.raises(EncodeError):
        CallBackOrder(phone="1" * 21).encode()


def test_vehicle_control_2013_is_one_flag_byte_bit_0_lock() -> None:
    assert VehicleControlOrder(lock=True).encode(V2013) == b"\x01"
    assert VehicleControlOrder(lock=False).encode(V2013) == b"\x00"
    assert VehicleControlOrder.decode(b"\x01", V2013).lock


def test_vehicle_control_2019_is_a_list_of_control_types_with_the_door() -> None:
    # WORD count 1, WORD type 0x0001 (door), BYTE 0 lock / 1 open.
    assert VehicleControlOrder(lock=True).encode(V2019) == bytes.fromhex("0001000100")
    assert VehicleControlOrder(lock=False).encode(V2019) == bytes.fromhex("0001000101")
    with pytest.raises(UnsupportedError, match="type 0x0002"):
        VehicleControlOrder.decode(bytes.fromhex("0001000200"), V2019)
    with pytest.raises(FieldError, match="0 or 1"):
        VehicleControlOrder.decode(bytes.fromhex("0001000107"), V2019)


def test_set_parameters_items_are_dword_id_byte_length_value_by_type() -> None:
    body = SetParameters(
        parameters=(Parameter(0x0029, 10), Parameter(0x0084, 1), Parameter(0x0083, "苏A1"))
    ).encode()
    assert body == bytes.fromhex("0300000029040000000a0000008401010000008304cbd54131")


def test_setting_an_unknown_parameter_or_a_wrong_type_is_refused() -> None:
    with pytest.raises(EncodeError, match="0x1234 is not one this platform sets"):
        SetParameters(parameters=(Parameter(0x1234, 1),)).encode()
    with pytest.raises(EncodeError, match="is an integer"):
        SetParameters(parameters=(Parameter(0x0055, "80"),)).encode()
    with pytest.raises(EncodeError, match="is a string"):
        SetParameters(parameters=(Parameter(0x0013, 80),)).encode()
    with pytest.raises(EncodeError, match=r"0\.\.255"):
        SetParameters(parameters=(Parameter(0x0084, 256),)).encode()


def test_query_parameters_is_a_count_then_dword_ids() -> None:
    assert QueryParameters(ids=(0x0001, 0x0055)).encode() == bytes.fromhex("020000000100000055")
    with pytest.raises(LengthError):
        QueryParameters.decode(bytes.fromhex("010000000100000055"))


def test_parameters_answer_is_strict_about_counts_and_lengths() -> None:
    good = bytes.fromhex("000501000000550400000050")
    assert ParametersAnswer.decode(good) == ParametersAnswer(5, (Parameter(0x0055, 80),))
    with pytest.raises(TruncatedError, match="parameter 2 id"):
        ParametersAnswer.decode(bytes.fromhex("000502000000550400000050"))
    with pytest.raises(LengthError, match="more bytes follow"):
        ParametersAnswer.decode(good + b"\x00")
    with pytest.raises(FieldError, match=r"0x0055 is a DWORD \(4 bytes\), got 2 bytes"):
        ParametersAnswer.decode(bytes.fromhex("00050100000055020050"))
    # An id this codec does not know is kept as raw bytes, not refused.
    [vendor] = ParametersAnswer.decode(bytes.fromhex("0005010000f0f001ff")).parameters
    assert (vendor.id, vendor.raw, vendor.value) == (0xF0F0, b"\xff", "ff")


def test_position_answers_are_a_reply_serial_then_a_location_body() -> None:
    report = location()
    body = b"\x01\x02" + report.encode()
    assert PositionAnswer.decode(body) == PositionAnswer(0x0102, report)
    assert VehicleControlAnswer.decode(body, V2019) == VehicleControlAnswer(0x0102, report)
    with pytest.raises(TruncatedError):
        PositionAnswer.decode(body[:-3])


def test_a_broken_answer_in_a_frame_is_an_error_that_carries_the_header() -> None:
    header = Header(msg_id=0x0104, phone="0" * 8 + PHONE, serial=3, version=V2019)
    frame = encode_raw_frame(header, bytes.fromhex("00010100000055020050"))
    with pytest.raises(FieldError) as caught:
        decode_frame(frame)
    assert caught.value.header is not None
    assert caught.value.header.msg_id == 0x0104


def test_the_simulated_terminal_answers_every_order() -> None:
    orders = TerminalOrders()
    here = location()

    def header(msg_id: int) -> Header:
        return Header(msg_id=msg_id, phone="013912345678", serial=9)

    answer = orders.answer(header(0x8500), VehicleControlOrder(lock=True), here)
    assert isinstance(answer, VehicleControlAnswer)
    assert answer.location.status_flags & STATUS_DOORS_LOCKED
    answer = orders.answer(header(0x8103), SetParameters((Parameter(0x0029, 5),)), here)
    assert answer == TerminalGeneralReply(9, 0x8103, GeneralResult.SUCCESS)
    answer = orders.answer(header(0x8106), QueryParameters(ids=(0x0029, 0x9999)), here)
    assert answer == ParametersAnswer(9, (Parameter(0x0029, 5),))


# --------------------------------------------------------------------------- over TCP


async def _terminal(
    make_client: ClientFactory, gateway: Jt808Gateway, version: ProtocolVersion
) -> TerminalClient:
    here = location()
    return await logged_in(
        make_client, gateway, version=version, orders=TerminalOrders(), location=lambda: here
    )


@pytest.mark.parametrize("version", BOTH)
async def test_position_query_is_answered_with_0x0201(
    make_gateway: GatewayFactory, make_client: ClientFactory, version: ProtocolVersion
) -> None:
    gateway, sink = await make_gateway()
    await _terminal(make_client, gateway, version)
    answer = await gateway.send_order(PHONE, PositionQuery())
    assert isinstance(answer, PositionAnswer)
    assert answer.location.lat == pytest.approx(31.23)
    assert gateway.protocol_of(PHONE) == version
    # The answer's fix goes on the map and into the track like a report's.
    [position] = sink.positions
    assert position.device == PHONE
    assert position.lat == pytest.approx(31.23)


@pytest.mark.parametrize("version", BOTH)
async def test_door_control_is_answered_with_0x0500_and_the_status_bit(
    make_gateway: GatewayFactory, make_client: ClientFactory, version: ProtocolVersion
) -> None:
    gateway, _ = await make_gateway()
    client = await _terminal(make_client, gateway, version)
    locked = await gateway.send_order(PHONE, VehicleControlOrder(lock=True))
    assert isinstance(locked, VehicleControlAnswer)
    assert locked.location.status_flags & STATUS_DOORS_LOCKED
    assert client.orders is not None
    assert client.orders.doors_locked
    unlocked = await gateway.send_order(PHONE, VehicleControlOrder(lock=False))
    assert isinstance(unlocked, VehicleControlAnswer)
    assert not unlocked.location.status_flags & STATUS_DOORS_LOCKED


@pytest.mark.parametrize("version", BOTH)
async def test_parameters_are_set_then_queried_by_id_and_all(
    make_gateway: GatewayFactory, make_client: ClientFactory, version: ProtocolVersion
) -> None:
    gateway, _ = await make_gateway()
    await _terminal(make_client, gateway, version)
    order = SetParameters((Parameter(0x0055, 60), Parameter(0x0083, "苏A·D8821")))
    answer = await gateway.send_order(PHONE, order)
    assert answer == TerminalGeneralReply(answer.reply_serial, 0x8103, GeneralResult.SUCCESS)
    some = await gateway.send_order(PHONE, QueryParameters(ids=(0x0055, 0x0083)))
    assert isinstance(some, ParametersAnswer)
    assert some.parameters == (Parameter(0x0055, 60), Parameter(0x0083, "苏A·D8821"))
    every = await gateway.send_order(PHONE, QueryAllParameters())
    assert isinstance(every, ParametersAnswer)
    assert Parameter(0x0055, 60) in every.parameters
    assert len(every.parameters) > 10


@pytest.mark.parametrize("version", BOTH)
async def test_call_back_and_listen_are_acknowledged(
    make_gateway: GatewayFactory, make_client: ClientFactory, version: ProtocolVersion
) -> None:
    gateway, _ = await make_gateway()
    client = await _terminal(make_client, gateway, version)
    for listen in (False, True):
        answer = await gateway.send_order(PHONE, CallBackOrder("13800138000", listen=listen))
        assert isinstance(answer, TerminalGeneralReply)
        assert answer.result == GeneralResult.SUCCESS
    assert client.orders is not None
    assert [call.listen for call in client.orders.calls] == [False, True]


@pytest.mark.parametrize("version", BOTH)
async def test_temporary_tracking_reports_at_the_interval_for_the_validity(
    make_gateway: GatewayFactory, make_client: ClientFactory, version: ProtocolVersion
) -> None:
    gateway, sink = await make_gateway()
    client = await _terminal(make_client, gateway, version)
    answer = await gateway.send_order(PHONE, TemporaryTracking(interval_s=1, validity_s=2))
    assert isinstance(answer, TerminalGeneralReply)
    assert answer.result == GeneralResult.SUCCESS
    async with asyncio.timeout(5):
        while client.tracking_reports < 2 or len(sink.positions) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.2)
    assert client.tracking_reports == 2  # the validity is over: no more
    assert client.orders is not None
    assert client.orders.tracking is None


async def test_an_order_the_terminal_does_not_answer_times_out(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, _ = await make_gateway()
    client = await logged_in(make_client, gateway)  # no orders: it keeps quiet
    with pytest.raises(ReplyTimeoutError, match="0x8201"):
        await gateway.send_order(PHONE, PositionQuery(), timeout=0.2)
    assert client.unsolicited


async def test_a_broken_answer_fails_its_order_and_other_terminals_carry_on(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    gateway, _ = await make_gateway()
    broken = await logged_in(make_client, gateway)
    other_phone = OTHER
    other = await logged_in(
        make_client, gateway, other_phone, orders=TerminalOrders(), location=location
    )
    sent = asyncio.create_task(gateway.send_order(PHONE, QueryAllParameters(), timeout=5))
    async with asyncio.timeout(5):
        while not broken.unsolicited:  # noqa: ASYNC110 - the order on its way
            await asyncio.sleep(0.02)
    order = broken.unsolicited[-1]
    # A known id with the wrong length: a decode error, answered 0x8001 "message error".
    body = order.header.serial.to_bytes(2, "big") + bytes.fromhex("0100000055020050")
    await broken.send_raw(_frame(0x0104, body, broken))
    with pytest.raises(BadAnswerError, match="0x0055 is a DWORD"):
        await sent
    answer = await gateway.send_order(other_phone, PositionQuery())
    assert isinstance(answer, PositionAnswer)
    assert not other.closed.is_set()
    assert not broken.closed.is_set()


def _frame(msg_id: int, body: bytes, client: TerminalClient) -> bytes:
    header = Header(msg_id=msg_id, phone=client.phone, serial=client.next_serial())
    return encode_raw_frame(header, body)


async def test_a_general_reply_for_another_message_id_does_not_answer_the_order(
    make_gateway: GatewayFactory, make_client: ClientFactory
) -> None:
    """A broken terminal echoes the order's serial in a 0x0001 that says it answers
    another message: that is no answer to the door control (it stays waiting for its own)."""
    gateway, _ = await make_gateway()
    terminal = await logged_in(make_client, gateway)  # no orders: answered by hand
    sent = asyncio.create_task(gateway.send_order(PHONE, VehicleControlOrder(lock=False)))
    async with asyncio.timeout(5):
        while not terminal.unsolicited:  # noqa: ASYNC110 - the order on its way
            await asyncio.sleep(0.02)
    serial = terminal.unsolicited[-1].header.serial
    await terminal.send(TerminalGeneralReply(serial, 0x8201, GeneralResult.SUCCESS))
    await terminal.send(TerminalGeneralReply(serial, 0x8500, GeneralResult.FAILURE))
    async with asyncio.timeout(5):
        answer = await sent
    assert answer == TerminalGeneralReply(serial, 0x8500, GeneralResult.FAILURE)
