"""The SMS adapter against our SMSC simulator over TCP (the simulator stands for the
carrier's gateway): binds, long Chinese texts reassembled, receipts, refusals, throttling,
a lost connection mid-window and the resend that follows, keepalive."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from backend.publishing.channels import ChannelReceipt, DeliveryError, Outgoing
from backend.publishing.settings import SmppSettings
from backend.publishing.smpp.client import SmppAdapter
from backend.publishing.smpp.pdu import (
    RESPONSE_BIT,
    Bind,
    BindResp,
    CommandId,
    Empty,
    FramingError,
    MessageResp,
    Pdu,
    PduReader,
    decode_pdu,
    encode_pdu,
)
from backend.publishing.smpp.simulator import SmscSimulator
from realtime.protocol import DeliveryState

LONG_CHINESE = (
    "【朝阳区应急管理局】" + "东坝乡某化工厂液氯储罐泄漏，下风向一公里内居民请立即关闭门窗。" * 5
)


@pytest.fixture
async def smsc() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator(system_id="dutydesk", password="secret", receipt_delay=0.02) as sim:
        yield sim


def settings_for(smsc: SmscSimulator, **changes: object) -> SmppSettings:
    base = SmppSettings(
        host="127.0.0.1",
        port=smsc.port,
        system_id="dutydesk",
        password="secret",
        source_addr="10655",
        response_timeout=2.0,
        send_timeout=2.0,
        reconnect_min=0.05,
        reconnect_max=0.2,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def adapter(smsc: SmscSimulator) -> AsyncIterator[SmppAdapter]:
    client = SmppAdapter(settings_for(smsc))
    yield client
    await client.close()


def sms(delivery_id: int, text: str, address: str = "13800138000") -> Outgoing:
    return Outgoing(delivery_id=delivery_id, address=address, subject="", text=text)


async def next_receipts(adapter: SmppAdapter, count: int) -> list[ChannelReceipt]:
    got: list[ChannelReceipt] = []
    async with asyncio.timeout(5):
        async for receipt in adapter.receipts():
            got.append(receipt)
            if len(got) == count:
                break
    return got


async def test_a_long_chinese_text_arrives_whole_and_its_receipt_comes_back(
    smsc: SmscSimulator, adapter: SmppAdapter
) -> None:
    reference = await adapter.send(sms(1, LONG_CHINESE, "+8613800138000"))
    (text,) = await smsc.wait_for(1)
    assert text.text == LONG_CHINESE
    assert text.destination == "8613800138000"
    assert len(text.message_ids) == 3  # 165 characters: 67 + 67 + 31
    assert text.message_ids[0] == reference
    assert {p.part.reference for p in smsc.parts} == {1}
    (receipt,) = await next_receipts(adapter, 1)
    assert (receipt.reference, receipt.state) == (reference, DeliveryState.DELIVERED)
    assert smsc.binds == [("dutydesk", True)]


async def test_an_undeliverable_number_is_reported_failed(
    smsc: SmscSimulator, adapter: SmppAdapter
) -> None:
    smsc.undeliverable.add("13900000000")
    reference = await adapter.send(sms(2, "Test", "13900000000"))
    (receipt,) = await next_receipts(adapter, 1)
    assert (receipt.reference, receipt.state) == (reference, DeliveryState.FAILED)
    assert receipt.error == "UNDELIV err:001"


async def test_a_refused_number_is_permanent_and_does_not_hold_up_the_others(
    smsc: SmscSimulator, adapter: SmppAdapter
) -> None:
    smsc.fail_numbers.add("10000")
    results = await asyncio.gather(
        *(adapter.send(sms(n, f"通知{n}", "10000" if n == 5 else f"1380000{n:04d}"))
          for n in range(10)),
        return_exceptions=True,
    )  # fmt: skip
    bad = results.pop(5)
    assert isinstance(bad, DeliveryError)
    assert bad.permanent
    assert "ESME_RINVDSTADR" in str(bad)
    assert all(isinstance(result, str) for result in results)
    assert sorted(t.text for t in await smsc.wait_for(9)) == sorted(
        f"通知{n}" for n in range(10) if n != 5
    )


async def test_throttling_is_temporary_and_the_retry_succeeds(
    smsc: SmscSimulator, adapter: SmppAdapter
) -> None:
    smsc.throttle(1)
    with pytest.raises(DeliveryError, match="ESME_RTHROTTLED") as caught:
        await adapter.send(sms(3, "Evacuate now"))
    assert not caught.value.permanent
    reference = await adapter.send(sms(3, "Evacuate now"))
    (text,) = await smsc.wait_for(1)
    assert (text.text, text.message_ids, text.duplicates) == ("Evacuate now", [reference], 0)


async def test_a_send_that_returned_is_never_sent_again(
    smsc: SmscSimulator, adapter: SmppAdapter
) -> None:
    first = await adapter.send(sms(4, LONG_CHINESE))
    assert await adapter.send(sms(4, LONG_CHINESE)) == first
    assert len(smsc.parts) == 3


@pytest.mark.logs_errors
async def test_a_connection_lost_mid_text_resends_only_the_parts_not_accepted(
    smsc: SmscSimulator, adapter: SmppAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    smsc.drop_connection_after(1)  # part 1 accepted, part 2 lost with the connection
    with pytest.raises(DeliveryError, match="connection to the SMSC lost") as caught:
        await adapter.send(sms(6, LONG_CHINESE))
    assert not caught.value.permanent
    reference = await adapter.send(sms(6, LONG_CHINESE))  # after the reconnect
    (text,) = await smsc.wait_for(1)
    assert text.text == LONG_CHINESE
    assert text.duplicates == 0
    assert text.message_ids[0] == reference
    assert [bound for _, bound in smsc.binds] == [True, True]
    (receipt,) = await next_receipts(adapter, 1)  # all three parts' receipts, folded
    assert receipt.state == DeliveryState.DELIVERED
    assert "SMSC 127.0.0.1" in caplog.text


@pytest.mark.logs_errors
async def test_a_wrong_password_fails_sends_temporarily_and_is_logged_once(
    smsc: SmscSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = SmppAdapter(settings_for(smsc, password="wrong", send_timeout=0.5))
    try:
        with pytest.raises(DeliveryError, match="ESME_RINVPASWD") as caught:
            await client.send(sms(7, "x"))
        assert not caught.value.permanent
    finally:
        await client.close()
    assert len(smsc.binds) >= 2  # it kept trying with back-off
    assert not any(bound for _, bound in smsc.binds)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "bind refused: ESME_RINVPASWD" in errors[0].getMessage()
    assert smsc.parts == []


@pytest.mark.logs_errors
async def test_no_smsc_listening_fails_temporarily() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = SmppAdapter(
        SmppSettings("127.0.0.1", port, "dutydesk", send_timeout=0.3, reconnect_min=0.05)
    )
    try:
        with pytest.raises(DeliveryError, match="not reachable: cannot connect") as caught:
            await client.send(sms(8, "x"))
        assert not caught.value.permanent
    finally:
        await client.close()


async def test_an_idle_link_is_kept_alive_with_enquire_link(smsc: SmscSimulator) -> None:
    client = SmppAdapter(settings_for(smsc, enquire_link_interval=0.05))
    try:
        client.start()
        await smsc.wait_until(lambda: smsc.enquire_links >= 2)
        assert client.bound
    finally:
        await client.close()


async def test_many_sends_share_the_window(smsc: SmscSimulator) -> None:
    smsc.answer_delay = 0.02
    client = SmppAdapter(settings_for(smsc, window=3))
    try:
        references = await asyncio.gather(*(client.send(sms(n, f"msg {n}")) for n in range(30)))
        assert len(set(references)) == 30
        assert len(await smsc.wait_for(30)) == 30
        assert smsc.max_unanswered == 3  # used, never exceeded
    finally:
        await client.close()


async def test_close_unbinds_and_ends_the_receipts(smsc: SmscSimulator) -> None:
    client = SmppAdapter(settings_for(smsc))
    client.start()
    await client.wait_bound(3)
    receipts = client.receipts()
    waiting = asyncio.ensure_future(anext(receipts, None))
    await client.close()
    assert await asyncio.wait_for(waiting, 2) is None
    with pytest.raises(DeliveryError, match="closed"):
        await client.send(sms(9, "x"))


@pytest.mark.logs_errors
async def test_garbage_from_the_smsc_costs_only_a_reconnect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A broken SMSC that answers the bind with an absurd command_length: the client
    drops the connection, reconnects and binds to the (now sane) gateway."""
    sim = SmscSimulator(password="secret")
    connections = 0

    async def broken_then_sane(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            await reader.read(100)
            writer.write(b"\xff\xff\xff\xff" + b"\0" * 12)
            await writer.drain()
            await reader.read(100)
            writer.close()
            return
        await sim._serve(reader, writer)

    server = await asyncio.start_server(broken_then_sane, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = SmppAdapter(dataclasses.replace(settings_for(sim), port=port))
    try:
        assert await client.send(sms(10, "after the garbage"))
        assert connections == 2
        assert "out of bounds" in caplog.text
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
        await sim.close()


async def test_an_address_smpp_cannot_carry_is_permanent_and_costs_the_others_nothing(
    smsc: SmscSimulator, adapter: SmppAdapter
) -> None:
    results = await asyncio.gather(
        adapter.send(sms(1, "a", "一二三")),
        adapter.send(sms(2, "b", "1" * 30)),
        adapter.send(sms(3, "c")),
        return_exceptions=True,
    )
    for bad in results[:2]:
        assert isinstance(bad, DeliveryError)
        assert bad.permanent
        assert "destination_addr must be ASCII, at most 20" in str(bad)
    assert isinstance(results[2], str)
    assert [t.text for t in await smsc.wait_for(1)] == ["c"]


async def test_receipts_read_right_after_the_answers_are_not_lost(smsc: SmscSimulator) -> None:
    smsc.receipt_delay = 0  # each part's receipt follows its answer on the wire
    client = SmppAdapter(settings_for(smsc))
    try:
        reference = await client.send(sms(11, LONG_CHINESE))
        (receipt,) = await next_receipts(client, 1)
        assert (receipt.reference, receipt.state) == (reference, DeliveryState.DELIVERED)
        with pytest.raises(TimeoutError):  # one receipt for the text, none per part
            await asyncio.wait_for(anext(client.receipts()), 0.3)
    finally:
        await client.close()


async def test_the_same_delivery_sent_twice_at_once_goes_out_once(
    smsc: SmscSimulator, adapter: SmppAdapter
) -> None:
    first, second = await asyncio.gather(
        adapter.send(sms(12, LONG_CHINESE)), adapter.send(sms(12, LONG_CHINESE))
    )
    assert first == second
    assert len(smsc.parts) == 3


async def scripted_smsc(
    answer: Callable[[Pdu], bytes],
) -> tuple[asyncio.Server, int, list[Pdu]]:
    """An SMSC that answers each PDU received with ``answer(pdu)``'s octets (binds are
    accepted); what it received is in the list."""
    received: list[Pdu] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        frames = PduReader()
        with contextlib.suppress(ConnectionError, FramingError):
            while data := await reader.read(65536):
                for frame in frames.feed(data):
                    pdu = decode_pdu(frame)
                    received.append(pdu)
                    if isinstance(pdu.body, Bind):
                        command = CommandId(pdu.command | RESPONSE_BIT)
                        writer.write(encode_pdu(Pdu(pdu.sequence, BindResp(command, "SMSC"))))
                    else:
                        writer.write(answer(pdu))
                    await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], received


@pytest.mark.logs_errors
async def test_an_answer_followed_by_garbage_in_the_same_segment_still_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The submit_sm_resp arrives whole, then an absurd command_length: the message was
    accepted (a resend would reach the phone twice); only the link is lost."""

    def accept_then_garbage(pdu: Pdu) -> bytes:
        if pdu.command != CommandId.SUBMIT_SM:
            return b""
        resp = Pdu(pdu.sequence, MessageResp(CommandId.SUBMIT_SM_RESP, "0000abcd"))
        return encode_pdu(resp) + b"\x7f\xff\xff\xff" + b"\0" * 12

    server, port, received = await scripted_smsc(accept_then_garbage)
    client = SmppAdapter(SmppSettings("127.0.0.1", port, "dutydesk", reconnect_min=0.05))
    try:
        assert await client.send(sms(1, "after the answer")) == "0000abcd"
        assert await client.send(sms(1, "after the answer")) == "0000abcd"
        assert [p.command for p in received].count(CommandId.SUBMIT_SM) == 1
        assert "out of bounds" in caplog.text
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_an_answer_after_the_timeout_still_counts(smsc: SmscSimulator) -> None:
    """A slow SMSC answers after the send gave up: the retry must not send the text again
    (the SMSC accepted it; the phone would get it twice)."""
    smsc.answer_delay = 1.0
    client = SmppAdapter(settings_for(smsc, response_timeout=0.1))
    try:
        with pytest.raises(DeliveryError, match="did not answer") as caught:
            await client.send(sms(13, "slow gateway"))
        assert not caught.value.permanent
        (receipt,) = await next_receipts(client, 1)  # read after the late answer
        smsc.answer_delay = 0
        assert await client.send(sms(13, "slow gateway")) == receipt.reference
        (text,) = await smsc.wait_for(1)
        assert (text.message_ids, len(smsc.parts)) == ([receipt.reference], 1)
    finally:
        await client.close()


async def test_an_smsc_that_nacks_enquire_link_keeps_its_link() -> None:
    """Any answer proves the link alive: dropping it every interval lost the submits in
    flight and logged an outage each time."""

    def nack(pdu: Pdu) -> bytes:
        return encode_pdu(Pdu(pdu.sequence, Empty(CommandId.GENERIC_NACK), 3))

    server, port, received = await scripted_smsc(nack)
    client = SmppAdapter(
        SmppSettings("127.0.0.1", port, "dutydesk", enquire_link_interval=0.02, reconnect_min=0.05)
    )
    try:
        client.start()
        for _ in range(500):
            if [p.command for p in received].count(CommandId.ENQUIRE_LINK) >= 5:
                break
            await asyncio.sleep(0.02)
        commands = [p.command for p in received]
        assert commands.count(CommandId.ENQUIRE_LINK) >= 5
        assert commands.count(CommandId.BIND_TRANSCEIVER) == 1
        assert client.bound
    finally:
        async with asyncio.timeout(10):  # a cancellation swallowed must not hang it
            await client.close()
        server.close()
        await server.wait_closed()
