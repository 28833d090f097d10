"""One host must not lock everyone out of the JT/T 808 gateway: the login deadline, the
connection caps and the per-connection byte and garbage budgets, over real sockets on
127.0.0.1 (other hosts are other loopback addresses, e.g. 127.0.0.2)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import statistics
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from devices.jt808 import GeneralResult, Heartbeat
from devices.jt808.gateway import Jt808Gateway, StaticTerminalRegistry
from devices.jt808.simulator import TerminalClient
from tests.devices.support import RecordingSink
from tests.devices.test_gateway import PHONE, location, register_msg

HOST = "127.0.0.1"
OTHER_HOST = "127.0.0.2"
LIMITS_LOGGER = "devices.jt808.gateway.limits"


@pytest.fixture
async def gateways() -> AsyncIterator[list[Jt808Gateway]]:
    made: list[Jt808Gateway] = []
    yield made
    for gateway in made:
        await gateway.close()


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


@pytest.fixture
async def clients() -> AsyncIterator[list[TerminalClient]]:
    opened: list[TerminalClient] = []
    yield opened
    for client in opened:
        await client.close()


async def start(made: list[Jt808Gateway], **options: Any) -> Jt808Gateway:
    gateway = Jt808Gateway(
        RecordingSink(), StaticTerminalRegistry({PHONE: ""}), host=HOST, port=0, **options
    )
    await gateway.start()
    made.append(gateway)
    return gateway


async def open_socket(
    gateway: Jt808Gateway, opened: list[socket.socket], source: str = HOST
) -> socket.socket:
    """A raw TCP connection to the gateway from ``source`` (an idle or hostile peer)."""
    sock = socket.socket()
    sock.bind((source, 0))
    sock.setblocking(False)
    opened.append(sock)
    await asyncio.get_running_loop().sock_connect(sock, (HOST, gateway.port))
    return sock


async def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """Whether the gateway closes ``sock`` within ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            data = await asyncio.get_running_loop().sock_recv(sock, 1024)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return data == b""


async def terminal(
    gateway: Jt808Gateway, opened: list[TerminalClient], source: str = HOST
) -> TerminalClient:
    client = TerminalClient(PHONE)
    await client.connect(HOST, gateway.port, local_host=source)
    opened.append(client)
    return client


def warnings_of(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LIMITS_LOGGER
        and record.levelno == logging.WARNING
        and text in record.getMessage()
    ]


# ---------------------------------------------------------------------- login deadline


async def test_a_connection_that_does_not_authenticate_in_time_is_closed_logged_once(
    gateways: list[Jt808Gateway],
    sockets: list[socket.socket],
    clients: list[TerminalClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="devices.jt808.gateway")
    gateway = await start(gateways, login_timeout=0.4)
    idle = [await open_socket(gateway, sockets) for _ in range(3)]
    client = await terminal(gateway, clients)
    await client.login(register_msg(""))  # in time: stays connected
    started = time.monotonic()
    for sock in idle:
        assert await closed_by_peer(sock, timeout=3.0)
    assert 0.3 <= time.monotonic() - started <= 3.0
    assert gateway.counters.closed["login_timeout"] == 3
    assert len(warnings_of(caplog, "not authenticating in time")) == 1
    await asyncio.sleep(0.5)
    assert not client.closed.is_set()
    assert await client.general(Heartbeat()) is GeneralResult.SUCCESS
    assert len(gateway.limits) == 1, "the closed connections no longer count"


async def test_a_registered_but_unauthenticated_connection_is_closed_too(
    gateways: list[Jt808Gateway], clients: list[TerminalClient]
) -> None:
    gateway = await start(gateways, login_timeout=0.4)
    client = await terminal(gateway, clients)
    await client.register(register_msg(""))
    async with asyncio.timeout(3.0):
        await client.closed.wait()


# ---------------------------------------------------------------------- connection caps


async def test_the_cap_per_address_refuses_one_host_and_not_the_others(
    gateways: list[Jt808Gateway],
    sockets: list[socket.socket],
    clients: list[TerminalClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="devices.jt808.gateway")
    cap = 4
    gateway = await start(gateways, max_connections_per_address=cap)
    held = [await open_socket(gateway, sockets) for _ in range(cap)]
    await asyncio.sleep(0.1)
    refused = [await open_socket(gateway, sockets) for _ in range(3)]
    for sock in refused:
        assert await closed_by_peer(sock, timeout=2.0)
    for sock in held:
        assert not await closed_by_peer(sock, timeout=0.05)
    assert gateway.counters.refused["per_address_cap"] == 3
    assert len(warnings_of(caplog, "connections refused from 127.0.0.1")) == 1

    # A real terminal on another address registers, authenticates and reports.
    client = await terminal(gateway, clients, source=OTHER_HOST)
    await client.login(register_msg("粤B12345"))
    assert await client.general(location()) is GeneralResult.SUCCESS
    assert gateway.online_terminals == {PHONE}

    # The host's connections close: it may connect again.
    for sock in held:
        sock.close()
    await asyncio.sleep(0.2)
    again = await open_socket(gateway, sockets)
    assert not await closed_by_peer(again, timeout=0.2)


async def test_the_total_cap_refuses_everyone_beyond_it(
    gateways: list[Jt808Gateway], sockets: list[socket.socket]
) -> None:
    gateway = await start(gateways, max_connections=2)
    await open_socket(gateway, sockets)
    await open_socket(gateway, sockets, source=OTHER_HOST)
    await asyncio.sleep(0.1)
    third = await open_socket(gateway, sockets, source="127.0.0.3")
    assert await closed_by_peer(third, timeout=2.0)
    assert gateway.counters.refused == {"total_cap": 1}


async def test_a_terminal_registers_while_one_host_holds_its_cap(
    gateways: list[Jt808Gateway],
    sockets: list[socket.socket],
    clients: list[TerminalClient],
) -> None:
    gateway = await start(gateways, max_connections_per_address=50, login_timeout=30.0)
    for _ in range(80):  # the host tries for more than its cap
        await open_socket(gateway, sockets)
    await asyncio.sleep(0.1)
    assert len(gateway.limits) == 50
    client = await terminal(gateway, clients, source=OTHER_HOST)
    async with asyncio.timeout(5.0):
        await client.login(register_msg(""))
    assert gateway.online_terminals == {PHONE}


# ---------------------------------------------------------------------- floods


class Flooder(threading.Thread):
    """Sends random bytes as fast as it can on its own socket until the gateway closes it."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection((HOST, port))
        self.sent = 0
        self.closed_after: float | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        chunk = os.urandom(64 * 1024)
        try:
            while not self._halt.is_set():
                self.sock.sendall(chunk)
                self.sent += len(chunk)
        except OSError:
            self.closed_after = time.monotonic() - started
        finally:
            self.sock.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


async def test_a_random_byte_flood_is_closed_fast_and_a_terminal_keeps_its_replies(
    gateways: list[Jt808Gateway],
    clients: list[TerminalClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="devices.jt808.gateway")
    gateway = await start(gateways)
    client = await terminal(gateway, clients, source=OTHER_HOST)
    await client.login(register_msg(""))

    flooders = [Flooder(gateway.port) for _ in range(5)]
    for flooder in flooders:
        flooder.start()
    delays: list[float] = []
    try:
        for n in range(20):
            sent = time.monotonic()
            result = await client.general(location(seconds=n), timeout=5.0)
            delays.append(time.monotonic() - sent)
            assert result is GeneralResult.SUCCESS
            await asyncio.sleep(0.1)
        for flooder in flooders:
            flooder.join(timeout=5.0)
    finally:
        for flooder in flooders:
            flooder.stop()
    # Every reply came (each within its 5 s timeout) and promptly as a rule: the runner's
    # scheduler may hold a single one, a starved terminal would wait on every one.
    assert statistics.median(delays) < 0.5, delays
    for flooder in flooders:
        assert flooder.closed_after is not None, "the flooding connection was closed"
        assert flooder.closed_after < 2.0
    closed = gateway.counters.closed
    assert closed["garbage"] + closed["byte_rate"] == len(flooders)
    floods = [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and "127.0.0.1" in record.getMessage()
    ]
    # Once per episode of the host and kind of trouble, however many sockets it used (the
    # random bytes may also hold frames that are truncated or too many): never per socket.
    kinds = [message.split(" from 127.0.0.1", 1)[0] for message in floods]
    assert len(kinds) == len(set(kinds)), floods
    assert sum("connections closed for" in message for message in floods) == 1, floods
    assert gateway.online_terminals == {PHONE}


async def test_a_slow_garbage_sender_is_closed_after_a_little_garbage(
    gateways: list[Jt808Gateway], sockets: list[socket.socket]
) -> None:
    gateway = await start(gateways)
    sock = await open_socket(gateway, sockets)
    loop = asyncio.get_running_loop()
    sent = 0
    while sent < 64 * 1024:
        try:
            await loop.sock_sendall(sock, os.urandom(1024))
        except ConnectionError:
            break
        sent += 1024
        await asyncio.sleep(0.005)
    assert await closed_by_peer(sock, timeout=2.0)
    assert sent <= 16 * 1024
    assert gateway.counters.closed == {"garbage": 1}


async def test_a_connection_over_its_byte_budget_is_closed(
    gateways: list[Jt808Gateway], sockets: list[socket.socket]
) -> None:
    gateway = await start(gateways, max_bytes_per_second=8 * 1024)
    sock = await open_socket(gateway, sockets)
    loop = asyncio.get_running_loop()
    # No flag at all: one framing error, then bytes discarded, and too many of them.
    try:
        for _ in range(64):
            await loop.sock_sendall(sock, b"\x00" * 4096)
    except ConnectionError:
        pass
    assert await closed_by_peer(sock, timeout=2.0)
    assert gateway.counters.closed == {"byte_rate": 1}


async def test_corrupt_frames_now_and_then_do_not_close_a_terminal(
    gateways: list[Jt808Gateway], clients: list[TerminalClient]
) -> None:
    gateway = await start(gateways)
    client = await terminal(gateway, clients)
    await client.login(register_msg(""))
    for n in range(10):
        _, frame = client.encode(location(seconds=n))
        middle = len(frame) // 2
        flipped = frame[middle] ^ 0x01 if frame[middle] not in (0x7C, 0x7D, 0x7E, 0x7F) else 0
        broken = frame[:middle] + bytes([flipped]) + frame[middle + 1 :]  # a bad checksum
        await client.send_raw(broken)
        assert await client.general(location(seconds=n)) is GeneralResult.SUCCESS
        assert await client.general(Heartbeat()) is GeneralResult.SUCCESS
        await asyncio.sleep(0.2)  # under the frame rate limit
    assert not client.closed.is_set()
    assert gateway.counters.closed == {}
