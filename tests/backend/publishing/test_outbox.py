"""The outbox against a real database: queued SMS and e-mail go out through the channel
adapters, a temporary failure is retried later, a permanent one (or too many) fails the
row with its reason, receipts move rows on by reference, a restart resumes what was left
queued, one bad address costs nothing to the others, and the counts are reported as
coalesced ``notice.delivery`` events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from backend.publishing.channels import ChannelReceipt, DeliveryError
from realtime.protocol import Channel, DeliveryState
from tests.backend.publishing.conftest import (
    MILL_PHONE,
    SUPERVISOR,
    TANKS,
    TANKS_EMAIL,
    TANKS_PHONE,
    Env,
    FakeAdapter,
)


async def _states(env: Env, notice_id: int) -> dict[tuple[str, Channel], DeliveryState]:
    _, receipts = await env.service.get(SUPERVISOR, notice_id)
    return {
        (r.recipient_code, r.channel): r.state
        for r in receipts
        if r.channel in (Channel.SMS, Channel.EMAIL)
    }


async def test_queued_messages_are_sent_with_the_notice_text(env: Env) -> None:
    notice_id = await env.publish()
    sms, mail = FakeAdapter(Channel.SMS), FakeAdapter(Channel.EMAIL)
    outbox = env.outbox(sms, mail, report_every=0)
    assert await outbox.run_once() == 3
    assert sorted(m.address for m in sms.sent) == sorted([TANKS_PHONE, MILL_PHONE])
    (letter,) = mail.sent
    assert (letter.address, letter.subject) == (TANKS_EMAIL, "液氨槽车泄漏预警")
    assert "人员向上风向撤离" in letter.text
    assert set((await _states(env, notice_id)).values()) == {DeliveryState.SENT}
    assert await outbox.run_once() == 0  # sent once only
    delivery = env.published[-1]
    assert delivery.kind == "notice.delivery"
    assert delivery.notice.counts.sent >= 3  # type: ignore[union-attr]


async def test_a_temporary_failure_is_retried_later_and_a_permanent_one_fails(env: Env) -> None:
    notice_id = await env.publish()
    sms, mail = FakeAdapter(Channel.SMS), FakeAdapter(Channel.EMAIL)
    sms.failures = [DeliveryError("SMSC busy"), DeliveryError("unknown subscriber", permanent=True)]
    outbox = env.outbox(sms, mail, retry_after=30)
    await outbox.run_once()
    states = await _states(env, notice_id)
    # The first SMS failed for now, the second for good; the e-mail went.
    assert sorted(states.values()) == sorted(
        [DeliveryState.QUEUED, DeliveryState.FAILED, DeliveryState.SENT]
    )
    _, receipts = await env.service.get(SUPERVISOR, notice_id)
    failed = next(r for r in receipts if r.state is DeliveryState.FAILED)
    assert (failed.error, failed.attempts) == ("unknown subscriber", 1)
    assert await outbox.run_once() == 0  # not due before its wait
    env.clock.advance(31)
    assert await outbox.run_once() == 1
    assert DeliveryState.QUEUED not in (await _states(env, notice_id)).values()


async def test_too_many_temporary_failures_fail_the_row(env: Env) -> None:
    notice_id = await env.publish()
    mail = FakeAdapter(Channel.EMAIL)
    mail.failures = [DeliveryError("greylisted")] * 3
    outbox = env.outbox(mail, max_attempts=3, retry_after=1)
    for _ in range(3):
        await outbox.run_once()
        env.clock.advance(10)
    _, receipts = await env.service.get(SUPERVISOR, notice_id)
    (row,) = [r for r in receipts if r.channel is Channel.EMAIL]
    assert (row.state, row.attempts, row.error) == (DeliveryState.FAILED, 3, "greylisted")


async def test_receipts_move_sent_rows_on_by_reference(env: Env) -> None:
    notice_id = await env.publish()
    sms = FakeAdapter(Channel.SMS)
    outbox = env.outbox(sms, report_every=0)
    await outbox.run_once()
    first, second = sms.sent
    await outbox.apply_receipt(
        Channel.SMS,
        ChannelReceipt(f"ref-{first.delivery_id}", DeliveryState.DELIVERED, env.clock()),
    )
    await outbox.apply_receipt(
        Channel.SMS,
        ChannelReceipt(f"ref-{second.delivery_id}", DeliveryState.FAILED, env.clock(), "EXPIRED"),
    )
    # An unknown reference changes nothing.
    await outbox.apply_receipt(
        Channel.SMS, ChannelReceipt("ref-nobody", DeliveryState.DELIVERED, env.clock())
    )
    sms_states = sorted(
        s for (_, c), s in (await _states(env, notice_id)).items() if c is Channel.SMS
    )
    assert sms_states == sorted([DeliveryState.DELIVERED, DeliveryState.FAILED])


async def _eventually(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(250):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within 5 s")


async def test_receipts_arriving_from_the_adapter_are_applied(env: Env) -> None:
    notice_id = await env.publish()
    sms = FakeAdapter(Channel.SMS)
    outbox = env.outbox(sms, interval=0.05, report_every=0)
    outbox.start()

    async def sent() -> bool:
        return len(sms.sent) == 2

    async def delivered() -> bool:
        states = await _states(env, notice_id)
        return [s for (_, c), s in states.items() if c is Channel.SMS] == [
            DeliveryState.DELIVERED
        ] * 2

    try:
        await _eventually(sent)
        for message in sms.sent:
            sms.report(
                ChannelReceipt(f"ref-{message.delivery_id}", DeliveryState.DELIVERED, env.clock())
            )
        await _eventually(delivered)
    finally:
        await outbox.stop()
        await sms.close()


async def test_a_restart_resumes_the_queued_rows(env: Env) -> None:
    notice_id = await env.publish()
    # The first instance sends nothing (its SMS gateway is down) and stops.
    down = FakeAdapter(Channel.SMS)
    down.failures = [DeliveryError("connection refused")] * 2
    await env.outbox(down, retry_after=1).run_once()
    assert down.sent == []
    # After the restart: what is due goes out, once.
    env.clock.advance(5)
    again = FakeAdapter(Channel.SMS)
    assert await env.outbox(again).run_once() == 2
    assert sorted(m.address for m in again.sent) == sorted([TANKS_PHONE, MILL_PHONE])
    sms = [s for (_, c), s in (await _states(env, notice_id)).items() if c is Channel.SMS]
    assert sms == [DeliveryState.SENT, DeliveryState.SENT]


async def test_delivery_events_are_coalesced(env: Env) -> None:
    notice_id = await env.publish()
    before = len(env.published)
    outbox = env.outbox(FakeAdapter(Channel.SMS), FakeAdapter(Channel.EMAIL), report_every=60)
    env.service.on_delivery = outbox.touched
    await outbox.run_once()  # the first report goes out at once

    def reports() -> list[int]:
        return [e.notice.id for e in env.published[before:] if e.kind == "notice.delivery"]  # type: ignore[union-attr]

    assert reports() == [notice_id]
    await env.service.mark_read(TANKS, notice_id)
    await outbox.run_once()  # changed, but too soon for another report
    assert reports() == [notice_id]
    await outbox.stop()  # what is left is reported on the way out
    assert reports() == [notice_id, notice_id]
    assert env.published[-1].notice.counts.read == 1  # type: ignore[union-attr]
