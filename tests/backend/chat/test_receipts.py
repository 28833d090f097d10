"""Read receipts and unread counts over a real server: marks only move forward, other
desks see "read by …", a chatty console is coalesced to one receipt event per 2 s (the
latest wins), and unread counts are per incident the user sees."""

from __future__ import annotations

import pytest

from backend.eventlog.log import EventKind
from realtime.client import CommandError
from realtime.protocol import (
    ErrorCode,
    ListUnread,
    MarkRead,
    Ping,
    ReadResult,
    ReceiptView,
    UnreadCount,
    UnreadResult,
)
from tests.backend.chat.conftest import World
from tests.backend.chat.test_messages import post
from tests.backend.conftest import Console, Recorder


def receipts(recorder: Recorder) -> list[ReceiptView]:
    return [e.receipt for e in recorder.events if isinstance(e.receipt, ReceiptView)]


async def mark(console: Console, incident_id: int, seq: int) -> int:
    result = await console.client.request(MarkRead(req="", incident_id=incident_id, up_to_seq=seq))
    assert isinstance(result, ReadResult)
    return result.up_to_seq


async def unread(console: Console) -> list[UnreadCount]:
    result = await console.client.request(ListUnread(req=""))
    assert isinstance(result, UnreadResult)
    return result.incidents


async def test_read_receipts_reach_the_other_desks_and_unread_counts_follow(
    world: World,
) -> None:
    incident = await world.incident(agencies=("fire",))
    hidden = await world.incident("公安的事件", agencies=("police",))
    centre = await world.console("centre")
    fire = await world.console("fire_desk")
    police = await world.console("police_desk")
    try:
        first = await post(centre, incident.id, "一")
        second = await post(centre, incident.id, "二")
        await post(centre, hidden.id, "只给公安")
        await post(fire, incident.id, "消防自己说的不算未读")
        assert await unread(fire) == [
            UnreadCount(incident_id=incident.id, unread=2, last_seq=second.seq)
        ]
        assert await mark(fire, incident.id, first.seq) == first.seq
        await centre.recorder.wait_for(lambda: bool(receipts(centre.recorder)))
        receipt = receipts(centre.recorder)[0]
        assert (receipt.reader, receipt.agency, receipt.up_to_seq) == (
            "fire_desk",
            "fire",
            first.seq,
        )
        event = next(e for e in centre.recorder.events if e.receipt is receipt)
        assert event.kind == EventKind.INCIDENT_MESSAGE_READ
        assert await unread(fire) == [
            UnreadCount(incident_id=incident.id, unread=1, last_seq=second.seq)
        ]
        # Only forward: an older mark keeps the newer one.
        assert await mark(fire, incident.id, 1) == first.seq
        await police.client.request(Ping(req=""))
        assert receipts(police.recorder) == []
        assert [c.incident_id for c in await unread(police)] == [hidden.id]
        timeline = await world.incidents.timeline(world.users["centre"], incident.id)
        assert [e.receipt.up_to_seq for e in timeline if isinstance(e.receipt, ReceiptView)] == [
            first.seq
        ]
    finally:
        for console in (centre, fire, police):
            await console.close()


async def test_a_chatty_console_is_coalesced_to_one_receipt_per_two_seconds(
    world: World,
) -> None:
    incident = await world.incident(agencies=("fire",))
    centre = await world.console("centre")
    fire = await world.console("fire_desk")
    chat = world.server.chat
    now = [5000.0]
    chat._clock = lambda: now[0]  # the test moves time
    try:
        seqs = [(await post(centre, incident.id, f"第{n}条")).seq for n in range(5)]
        for seq in seqs:
            await mark(fire, incident.id, seq)
        await fire.client.request(Ping(req=""))
        await centre.client.request(Ping(req=""))
        # The first mark went out at once; the others are held back, the latest kept.
        assert [r.up_to_seq for r in receipts(centre.recorder)] == [seqs[0]]
        await chat.flush()
        await centre.client.request(Ping(req=""))
        assert [r.up_to_seq for r in receipts(centre.recorder)] == [seqs[0]]
        now[0] += 2.0
        await chat.flush()
        await centre.recorder.wait_for(lambda: len(receipts(centre.recorder)) == 2)
        assert [r.up_to_seq for r in receipts(centre.recorder)] == [seqs[0], seqs[-1]]
    finally:
        await centre.close()
        await fire.close()


async def test_bad_marks_are_refused(world: World) -> None:
    incident = await world.incident(agencies=("fire",))
    police = await world.console("police_desk")
    fire = await world.console("fire_desk")
    try:
        for console, incident_id, seq, code, words in (
            (police, incident.id, 1, ErrorCode.FORBIDDEN, "no such incident"),
            (fire, 999_999, 1, ErrorCode.FORBIDDEN, "no such incident"),
            (fire, incident.id, 10**9, ErrorCode.VALIDATION, "beyond the log"),
        ):
            with pytest.raises(CommandError) as refused:
                await mark(console, incident_id, seq)
            assert refused.value.code is code
            assert words in refused.value.message
        with pytest.raises(CommandError) as negative:
            await mark(fire, incident.id, -1)
        assert negative.value.code is ErrorCode.BAD_MESSAGE
    finally:
        await police.close()
        await fire.close()
