"""Consoles that go away and come back: replay from their last seq, snapshots, outbox."""

from __future__ import annotations

import asyncio

import pytest

from backend.server.app import DutyDeskServer
from realtime.client import ConnectionState
from realtime.protocol import AlarmResult, CreateAlarm, TransitionAlarm
from realtime.states import AlarmAction, AlarmLevel
from tests.backend.conftest import open_console


async def _make_events(server: DutyDeskServer, count: int) -> None:
    """Produce exactly ``count`` events from another console (create + acknowledge pairs)."""
    assert count % 2 == 0
    actor = await open_console(server, "officer2", "pw-officer2")
    try:
        for n in range(count // 2):
            created = await actor.client.request(
                CreateAlarm(req="", alarm_type="fire", level=AlarmLevel.YELLOW, title=f"报警 {n}")
            )
            assert isinstance(created, AlarmResult)
            await actor.client.request(
                TransitionAlarm(
                    req="",
                    alarm_id=created.alarm.id,
                    action=AlarmAction.ACKNOWLEDGE,
                    expected_version=1,
                )
            )
    finally:
        await actor.close()


async def test_console_away_for_100_events_gets_all_in_order_once(server: DutyDeskServer) -> None:
    console = await open_console(server)
    await _make_events(server, 4)
    await console.recorder.wait_for(lambda: len(console.recorder.events) == 4)
    last_seq = console.client.last_seq
    assert last_seq == console.recorder.events[-1].seq
    await console.close()

    await _make_events(server, 100)

    back = await open_console(server, last_seq=last_seq)
    try:
        await back.recorder.wait_for(lambda: len(back.recorder.events) >= 100)
        await asyncio.sleep(0.2)  # anything extra (a duplicate) would arrive now
        seqs = [event.seq for event in back.recorder.events]
        assert seqs == list(range(last_seq + 1, last_seq + 101))
        assert back.recorder.snapshots == [], "a short absence is replayed, not snapshotted"
        assert back.client.last_seq == last_seq + 100
    finally:
        await back.close()


async def test_new_console_gets_a_snapshot_of_open_alarms(server: DutyDeskServer) -> None:
    await _make_events(server, 6)
    console = await open_console(server)
    try:
        assert len(console.recorder.snapshots) == 1
        snapshot = console.recorder.snapshots[0]
        assert len(snapshot.alarms) == 3
        assert snapshot.head_seq == 6
        assert console.client.last_seq == 6
        assert console.recorder.events == []
    finally:
        await console.close()


async def test_resume_from_a_seq_the_server_never_had_falls_back_to_snapshot(
    server: DutyDeskServer,
) -> None:
    await _make_events(server, 2)
    console = await open_console(server, last_seq=5000)
    try:
        assert len(console.recorder.snapshots) == 1
        assert console.client.last_seq == 2
    finally:
        await console.close()


async def test_commands_issued_while_disconnected_are_queued_and_sent_on_reconnect(
    server: DutyDeskServer,
) -> None:
    console = await open_console(server)
    try:
        port = server.port
        await server.close()
        await console.recorder.wait_for(
            lambda: console.client.state is not ConnectionState.LIVE, timeout=10
        )
        pending = asyncio.create_task(
            console.client.request(
                CreateAlarm(
                    req="", alarm_type="traffic", level=AlarmLevel.ORANGE, title="断线时录入"
                )
            )
        )
        await asyncio.sleep(0.3)
        assert not pending.done()
        assert console.client.queued_commands == 1

        # The same database comes back on the same port.
        server.config.port = port
        restarted = DutyDeskServer(server.config)
        await restarted.start()
        try:
            result = await asyncio.wait_for(pending, 15)
            assert isinstance(result, AlarmResult)
            assert result.alarm.title == "断线时录入"
            await console.recorder.wait_for(
                lambda: any(
                    e.alarm and e.alarm.id == result.alarm.id for e in console.recorder.events
                )
            )
            states = [state for state, _ in console.recorder.states]
            assert ConnectionState.DISCONNECTED in states
            assert states[-1] is ConnectionState.LIVE
        finally:
            await console.close()
            await restarted.close()
    finally:
        if console.client.state is not ConnectionState.CLOSED:
            await console.close()


async def test_a_console_that_stops_reading_is_cut_off_without_stalling_the_others(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import json

    from websockets.asyncio.client import connect

    from backend.server import hub
    from realtime import PROTOCOL_VERSION
    from realtime.client import basic_auth_header
    from tests.backend.conftest import console_url

    monkeypatch.setattr(hub, "QUEUE_LIMIT", 5)
    healthy = await open_console(server, "officer2", "pw-officer2")
    async with connect(
        console_url(server),
        additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
        max_queue=1,  # this console reads nothing from here on
    ) as stalled:
        await stalled.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
        await asyncio.sleep(0.2)
        # Big events fill the socket buffers first, then the server-side queue of 5.
        for n in range(600):
            await healthy.client.request(
                CreateAlarm(
                    req="",
                    alarm_type="fire",
                    level=AlarmLevel.BLUE,
                    title=f"报警 {n}",
                    description="详" * 4000,
                )
            )
        await healthy.recorder.wait_for(lambda: len(healthy.recorder.events) == 600)
        # The server let go of it (closing with 4013; a client this stuck never reads the
        # close frame, so the socket is aborted after the close timeout).
        async with asyncio.timeout(20):
            while len(server.hub) > 1:  # noqa: ASYNC110 - polling the server from a test
                await asyncio.sleep(0.1)
    assert any("fell" in r.getMessage() and "behind" in r.getMessage() for r in caplog.records)
    await healthy.close()
