"""Messages between desks over a real server: each is one event of the log, reaches
exactly the desks that see the incident, resumes after a reconnect, and is in the
incident's timeline; bad posts are refused clearly and cost the others nothing."""

from __future__ import annotations

import msgspec
import pytest

from backend.eventlog.log import EventKind
from realtime.client import CommandError
from realtime.protocol import ErrorCode, MessageResult, MessageView, Ping, PostMessage
from tests.backend.chat.conftest import World
from tests.backend.conftest import Console, Recorder, open_console

HIDDEN = "no such incident in your area"


def messages_of(recorder: Recorder, incident_id: int) -> list[MessageView]:
    """The messages of one incident a console received, in order."""
    return [
        e.message
        for e in recorder.events
        if isinstance(e.message, MessageView) and e.message.incident_id == incident_id
    ]


async def post(console: Console, incident_id: int, text: str) -> MessageResult:
    result = await console.client.request(PostMessage(req="", incident_id=incident_id, text=text))
    assert isinstance(result, MessageResult)
    return result


async def test_a_message_reaches_exactly_the_desks_that_see_the_incident(world: World) -> None:
    incident = await world.incident(agencies=("fire",))
    consoles = {name: await world.console(name) for name in world.users}
    try:
        first = await post(consoles["centre"], incident.id, "消防到场后先堵漏 <b>不是标记</b>")
        assert first.message.author == "centre"
        assert first.message.author_name == "centre 席"
        assert first.message.text == "消防到场后先堵漏 <b>不是标记</b>"
        second = await post(consoles["fire_desk"], incident.id, "收到，5分钟到场")
        assert second.message.agency == "fire"
        assert second.seq > first.seq
        for name in ("centre", "fire_desk", "wall"):
            recorder = consoles[name].recorder
            await recorder.wait_for(lambda r=recorder: len(messages_of(r, incident.id)) == 2)
            events = [e for e in recorder.events if isinstance(e.message, MessageView)]
            assert [e.kind for e in events] == [EventKind.INCIDENT_MESSAGE] * 2
            assert [e.seq for e in events] == [first.seq, second.seq]
            assert [e.actor for e in events] == ["centre", "fire_desk"]
        for name in ("police_desk", "neighbour"):
            # The answer comes after anything queued for this console before it.
            await consoles[name].client.request(Ping(req=""))
            assert messages_of(consoles[name].recorder, incident.id) == []
        timeline = await world.incidents.timeline(world.users["fire_desk"], incident.id)
        assert [e.seq for e in timeline if isinstance(e.message, MessageView)] == [
            first.seq,
            second.seq,
        ]
    finally:
        for console in consoles.values():
            await console.close()


async def test_messages_missed_while_away_come_on_reconnect_in_order(world: World) -> None:
    incident = await world.incident()
    centre = await world.console("centre")
    fire = await world.console("fire_desk")
    try:
        await post(centre, incident.id, "第一条")
        await fire.recorder.wait_for(lambda: len(messages_of(fire.recorder, incident.id)) == 1)
        last_seq = fire.client.last_seq
        await fire.close()
        posted = [await post(centre, incident.id, f"离线期间第{n}条") for n in range(3)]
        fire = await open_console(
            world.server, "fire_desk", "pw-fire_desk-long-enough", last_seq=last_seq
        )
        await fire.recorder.wait_for(lambda: len(messages_of(fire.recorder, incident.id)) == 3)
        replayed = [e for e in fire.recorder.events if isinstance(e.message, MessageView)]
        assert [e.seq for e in replayed] == [p.seq for p in posted]
        assert [m.text for m in messages_of(fire.recorder, incident.id)] == [
            "离线期间第0条",
            "离线期间第1条",
            "离线期间第2条",
        ]
    finally:
        await centre.close()
        await fire.close()


async def test_bad_posts_are_refused_clearly_and_the_chat_goes_on(world: World) -> None:
    incident = await world.incident(agencies=("fire",))
    closed = await world.closed_incident()
    consoles = {name: await world.console(name) for name in ("centre", "police_desk", "wall")}
    try:
        cases = [
            ("police_desk", incident.id, "我也说一句", ErrorCode.FORBIDDEN, HIDDEN),
            ("police_desk", 999_999, "不存在", ErrorCode.FORBIDDEN, HIDDEN),
            ("centre", 999_999, "不存在", ErrorCode.FORBIDDEN, HIDDEN),
            ("wall", incident.id, "大屏不能发", ErrorCode.FORBIDDEN, "may not post"),
            ("centre", closed.id, "已结案", ErrorCode.VALIDATION, "closed"),
            ("centre", incident.id, "   ", ErrorCode.VALIDATION, "needs text or an attachment"),
        ]
        for who, incident_id, text, code, words in cases:
            with pytest.raises(CommandError) as refused:
                await post(consoles[who], incident_id, text)
            assert refused.value.code is code, (who, text)
            assert words in refused.value.message
        with pytest.raises(CommandError) as too_long:
            await post(consoles["centre"], incident.id, "长" * 4001)
        assert too_long.value.code is ErrorCode.BAD_MESSAGE
        # Nothing refused was written, and the next message goes through.
        after = await post(consoles["centre"], incident.id, "继续")
        timeline = await world.incidents.timeline(world.users["centre"], incident.id)
        assert [e.message.text for e in timeline if isinstance(e.message, MessageView)] == ["继续"]
        assert after.message.text == "继续"
    finally:
        for console in consoles.values():
            await console.close()


async def test_a_message_event_encodes_without_the_fields_it_does_not_use(world: World) -> None:
    incident = await world.incident()
    centre = await world.console("centre")
    try:
        result = await post(centre, incident.id, "纯文本")
        await centre.recorder.wait_for(lambda: bool(messages_of(centre.recorder, incident.id)))
        event = next(e for e in centre.recorder.events if e.seq == result.seq)
        raw = msgspec.json.decode(msgspec.json.encode(event))
        assert "incident" not in raw
        assert "task" not in raw
        assert "receipt" not in raw
        assert raw["message"]["jurisdiction"] == incident.jurisdiction
    finally:
        await centre.close()
