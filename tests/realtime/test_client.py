"""Client behaviour that needs no server: closing, the outbox bound."""

from __future__ import annotations

import asyncio
import socket

import pytest

from realtime.client import (
    ClientClosedError,
    ConnectionState,
    DutyDeskClient,
    OutboxFullError,
    server_urls,
)
from realtime.protocol import Event, Ping, Snapshot, Welcome


class _Listener:
    def __init__(self) -> None:
        self.states: list[ConnectionState] = []

    def on_state(self, state: ConnectionState, detail: str) -> None:
        self.states.append(state)

    def on_welcome(self, welcome: Welcome) -> None:
        raise AssertionError("no server here")

    def on_snapshot(self, snapshot: Snapshot) -> None:
        raise AssertionError("no server here")

    def on_event(self, event: Event) -> None:
        raise AssertionError("no server here")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_commands_wait_in_a_bounded_outbox_and_fail_on_close() -> None:
    listener = _Listener()
    client = DutyDeskClient(
        f"ws://127.0.0.1:{_closed_port()}/console",
        listener,
        username="u",
        password="p",
        outbox_limit=2,
        backoff_initial=5.0,
        backoff_max=30.0,
    )
    runner = asyncio.create_task(client.run())
    waiting = [asyncio.create_task(client.request(Ping(req=""), timeout=None)) for _ in range(2)]
    await asyncio.sleep(0.2)
    assert client.queued_commands == 2
    with pytest.raises(OutboxFullError):
        await client.request(Ping(req=""))
    assert ConnectionState.DISCONNECTED in listener.states

    started = asyncio.get_running_loop().time()
    await client.close()
    await asyncio.wait_for(runner, 2.0)
    assert asyncio.get_running_loop().time() - started < 2.0, "close() cuts the backoff short"
    for task in waiting:
        with pytest.raises(ClientClosedError):
            await task
    assert listener.states[-1] is ConnectionState.CLOSED


async def test_a_timed_out_command_is_withdrawn() -> None:
    client = DutyDeskClient(
        f"ws://127.0.0.1:{_closed_port()}/console", _Listener(), backoff_initial=5.0
    )
    runner = asyncio.create_task(client.run())
    with pytest.raises(TimeoutError):
        await client.request(Ping(req=""), timeout=0.1)
    assert client.queued_commands == 0
    await client.close()
    await runner


def test_server_addresses_are_read_from_a_list_or_a_comma_separated_text() -> None:
    assert server_urls("ws://a:8765/console") == ["ws://a:8765/console"]
    assert server_urls("ws://a:1/console, ws://b:2/console") == [
        "ws://a:1/console",
        "ws://b:2/console",
    ]
    assert server_urls(["ws://a:1/console,ws://b:2/console", "ws://a:1/console"]) == [
        "ws://a:1/console",
        "ws://b:2/console",
    ]
    with pytest.raises(ValueError, match="no server address"):
        DutyDeskClient(" , ", _Listener())


async def test_an_unreachable_server_is_skipped_for_the_next_without_the_backoff() -> None:
    listener = _Listener()
    dead = [f"ws://127.0.0.1:{_closed_port()}/console" for _ in range(2)]
    client = DutyDeskClient(
        dead, listener, username="u", password="p", backoff_initial=30.0, backoff_max=30.0
    )
    runner = asyncio.create_task(client.run())
    try:
        # Both addresses are tried within a second; then the client backs off.
        await asyncio.sleep(1.5)
        assert client.url == dead[0]
        assert listener.states.count(ConnectionState.CONNECTING) == 2
        await asyncio.sleep(0.5)
        assert listener.states.count(ConnectionState.CONNECTING) == 2
    finally:
        await client.close()
        await runner
