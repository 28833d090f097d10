"""The outbox with the real channel adapters against misbehaving gateways: a relay that
stalls must not hold up the other channel, and a receipt the SMSC sends right behind its
answer must still move the row on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from backend.publishing.channels import ChannelAdapter
from backend.publishing.outbox import Outbox
from backend.publishing.settings import SmppSettings, SmtpSettings
from backend.publishing.smpp.client import SmppAdapter
from backend.publishing.smpp.simulator import SmscSimulator
from backend.publishing.smtp_adapter import SmtpAdapter
from realtime.protocol import Channel, DeliveryState
from tests.backend.publishing.conftest import SUPERVISOR, Env, leak_notice


class StalledRelay:
    """Accepts SMTP connections and never says a word, until :meth:`release`."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self._released = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected.set()
        await self._released.wait()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def __aenter__(self) -> StalledRelay:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def release(self) -> None:
        self._released.set()

    async def __aexit__(self, *_: object) -> None:
        self.release()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def smsc() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator(password="pw", receipt_delay=0) as sim:
        yield sim


def sms_adapter(smsc: SmscSimulator) -> SmppAdapter:
    return SmppAdapter(
        SmppSettings("127.0.0.1", smsc.port, "dutydesk", password="pw", response_timeout=5)
    )


def outbox_for(env: Env, *adapters: ChannelAdapter) -> Outbox:
    return Outbox(
        env.sessions,
        env.writer,
        env.cipher,
        {adapter.channel: adapter for adapter in adapters},
        clock=env.clock,
        rate_per_second=0,
        interval=0.05,
        report_every=0,
    )


async def _eventually(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(500):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within 10 s")


async def _rows(env: Env, notice_id: int) -> list[tuple[DeliveryState, str]]:
    _, receipts = await env.service.get(SUPERVISOR, notice_id)
    return [(r.state, r.error) for r in receipts if r.channel in (Channel.SMS, Channel.EMAIL)]


@pytest.mark.logs_errors
async def test_a_stalled_mail_relay_does_not_hold_up_the_sms(env: Env, smsc: SmscSimulator) -> None:
    # The e-mail is queued first, so a one-at-a-time outbox meets the stall first.
    mail_notice = await env.publish(leak_notice(channels=[Channel.EMAIL]))
    sms_notice = await env.publish(leak_notice(channels=[Channel.SMS]))
    sms = sms_adapter(smsc)
    async with StalledRelay() as relay:
        mail = SmtpAdapter(SmtpSettings("127.0.0.1", relay.port, "dd@example.org", timeout=60))
        outbox = outbox_for(env, mail, sms)
        outbox.start()
        try:
            await asyncio.wait_for(relay.connected.wait(), 10)
            # Both texts go out while the relay still holds the e-mail.
            assert len(await smsc.wait_for(2, timeout=10)) == 2
            assert not relay._released.is_set()
            relay.release()  # the relay hangs up: the e-mail waits for its retry

            async def mail_retried() -> bool:
                return (await _rows(env, mail_notice))[0][1] != ""

            await _eventually(mail_retried)
            ((state, error),) = await _rows(env, mail_notice)
            assert state is DeliveryState.QUEUED
            assert "SMTP relay not reachable" in error
            assert {s for s, _ in await _rows(env, sms_notice)} <= {
                DeliveryState.SENT,
                DeliveryState.DELIVERED,
            }
        finally:
            await outbox.stop()
            await sms.close()
            await mail.close()


async def test_receipts_right_behind_the_smscs_answer_move_the_rows_on(
    env: Env, smsc: SmscSimulator
) -> None:
    # The SMSC sends each receipt right after its answer (receipt_delay 0), as gateways
    # do for a number they know is dead: it reaches the outbox before the row is "sent".
    smsc.undeliverable.add("13900000002")
    notice_id = await env.publish(leak_notice(channels=[Channel.SMS]))
    sms = sms_adapter(smsc)
    outbox = outbox_for(env, sms)
    outbox.start()

    async def settled() -> bool:
        return (
            DeliveryState.SENT not in {s for s, _ in await _rows(env, notice_id)}
            and len(smsc.parts) == 2
        )

    try:
        await _eventually(settled)
        assert sorted(await _rows(env, notice_id)) == sorted(
            [(DeliveryState.DELIVERED, ""), (DeliveryState.FAILED, "UNDELIV err:001")]
        )
    finally:
        await outbox.stop()
        await sms.close()
