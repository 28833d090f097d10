"""The Unix-socket relay between the workers of one ``serve --workers``: fixes and
readings a worker accepted reach the other workers' hubs (coalesced, newest per vehicle
and per sensor), a tick of a large fleet goes in datagrams the socket takes, and a
datagram that is garbage, or items out of range, cost only themselves."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import msgspec
import pytest

from backend.server.hub import Hub
from backend.server.telemetry_relay import (
    MAX_DATAGRAM,
    RelayedFix,
    TelemetryRelay,
    socket_path,
)
from devices.observations import Position
from realtime.protocol import ReadingView

AT = dt.datetime(2026, 12, 5, 3, 0, tzinfo=dt.UTC)


def _reading(sensor: str, value: float, *, at: dt.datetime = AT, unit: str = "%LEL") -> ReadingView:
    return ReadingView(
        device="feed-1", sensor=sensor, at=at, value=value, unit=unit, jurisdiction="330106"
    )


def _position(device: str, lat: float = 30.25) -> Position:
    return Position(device=device, at=AT, lat=lat, lon=120.15, speed_kmh=40.0)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[TelemetryRelay, TelemetryRelay, Hub]]:
    """Workers 1 and 2 of 2; worker 2's hub is returned to look into."""
    one, two = TelemetryRelay(tmp_path, 1, 2, interval=0.01), TelemetryRelay(tmp_path, 2, 2)
    hub = Hub()
    one.start(Hub())
    two.start(hub)
    hub.start()  # its tick makes relayed fixes the latest known
    try:
        yield one, two, hub
    finally:
        await one.stop()
        await two.stop()
        await hub.stop()


async def _until(condition: Callable[[], object]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("not relayed within 5 s")


async def test_fixes_and_readings_reach_the_other_worker_newest_first(
    pair: tuple[TelemetryRelay, TelemetryRelay, Hub],
) -> None:
    one, _, hub = pair
    one.offer(_position("13900000001"), "330106")
    one.offer_reading(_reading("gas-1", 10.0))
    one.offer_reading(_reading("gas-1", 14.0, at=AT + dt.timedelta(seconds=1)))
    one.offer_reading(_reading("gas-2", 3.0))
    await _until(lambda: len(hub.latest_readings()) == 2 and hub.latest_positions())
    values = {r.sensor: (r.value, r.jurisdiction) for r in hub.latest_readings()}
    assert values == {"gas-1": (14.0, "330106"), "gas-2": (3.0, "330106")}
    [fix] = hub.latest_positions()
    assert (fix.device, fix.lat, fix.jurisdiction) == ("13900000001", 30.25, "330106")


def test_a_tick_of_many_readings_goes_in_datagrams_the_socket_takes(tmp_path: Path) -> None:
    relay = TelemetryRelay(tmp_path, 1, 2)
    readings = [_reading(f"sensor-{n:05d}-{'x' * 60}", float(n)) for n in range(3000)]
    datagrams = relay.datagrams([], readings)
    assert all(len(datagram) <= MAX_DATAGRAM for datagram in datagrams)
    decoder = msgspec.msgpack.Decoder(list[ReadingView])
    back = [r for datagram in datagrams for r in decoder.decode(datagram[1:])]
    assert sorted(back, key=lambda r: r.sensor) == readings
    # A reading too large for any datagram (a hostile unit) is left out, alone.
    assert len(relay.datagrams([], [_reading("big", 1.0, unit="u" * 70_000), readings[0]])) == 1
    assert relay.dropped == 1


async def test_a_bad_datagram_costs_only_itself(
    pair: tuple[TelemetryRelay, TelemetryRelay, Hub],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    one, two, hub = pair
    caplog.set_level(logging.WARNING, logger="backend.server.telemetry_relay")
    good = one.datagrams([], [_reading("gas-9", 9.0)])
    not_a_number = one.datagrams([], [_reading("gas-nan", math.nan), _reading("gas-8", 8.0)])
    off_the_map = one.datagrams(
        [RelayedFix("13900000009", AT.timestamp(), 95.0, 120.15, 0.0, 0.0, 0.0, "330106")]
    )
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as peer:
        for datagram in (b"", b"Q\x90", b"R\xc1", b"P not msgpack", *not_a_number, *off_the_map):
            peer.sendto(datagram, str(socket_path(tmp_path, 2)))
        peer.sendto(good[0], str(socket_path(tmp_path, 2)))
    await _until(lambda: "gas-9" in {r.sensor for r in hub.latest_readings()})
    assert {r.sensor for r in hub.latest_readings()} == {"gas-8", "gas-9"}
    assert hub.latest_positions() == [], "a fix off the map is not offered"
    assert two.refused == 6
    assert "telemetry relay:" in caplog.text
