"""Two real instances on one PostgreSQL: what must not depend on which one holds a
terminal's connection (docs/deployment.md).

- Offline timers outlive their instance: a terminal whose instance is killed (kill -9)
  and that stays silent is reported offline exactly once, by the survivor, and consoles
  there see it; a terminal that reconnects to the survivor within the offline limit is
  never reported offline.
- Live positions cross instances: a truck reporting to instance A moves on a console of
  instance B, and only on consoles whose area holds it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.server.cluster_testing import Cluster, running_cluster
from backend.storage import db
from devices.jt808.messages import Heartbeat, Location, PlatformGeneralReply
from realtime.client import DutyDeskClient
from realtime.event_kinds import EventKind
from realtime.protocol import Role, Subscribe
from tests.backend.conftest import Recorder
from tests.backend.server.test_workers import Terminal

pytestmark = pytest.mark.postgres

OFFLINE_AFTER = 2.0
"""The instances' offline limit (seconds): short, so the test is."""
USERS = (
    ("watch", "pw-watch-pass-1", Role.OFFICER, ""),
    ("beijing", "pw-beijing-pass-1", Role.OFFICER, "110101"),
)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    admin = os.environ.get("DUTYDESK_TEST_PG")
    if admin is None:
        pytest.skip("PostgreSQL not configured (run ./test.sh)")
    serve_args = (
        "--jt808",
        "127.0.0.1:0",
        "--jt808-auto-register",
        "--jt808-offline-after",
        f"{OFFLINE_AFTER:g}",
    )
    async with running_cluster(admin, 2, tmp_path, serve_args=serve_args) as started:
        await started.add_users(USERS)
        yield started


class _Console:
    def __init__(self, url: str, username: str, password: str) -> None:
        self.recorder = Recorder()
        self.client = DutyDeskClient(
            url,
            self.recorder,
            username=username,
            password=password,
            on_telemetry=self.recorder.on_telemetry,
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Console:
        self._task = asyncio.create_task(self.client.run())
        await self.client.wait_live(20)
        await self.client.request(Subscribe(req="", topics=["positions"]))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.close()
        if self._task is not None:
            await self._task

    def offline(self, device: str) -> int:
        return sum(
            1
            for event in self.recorder.events
            if event.kind == EventKind.DEVICE_OFFLINE
            and event.device
            and event.device.identity == device
        )

    def fixes(self, device: str) -> list[tuple[float, float]]:
        return [
            (fix.lat, fix.lon)
            for telemetry in self.recorder.telemetry
            for fix in telemetry.positions
            if fix.device == device
        ]


async def _report(terminal: Terminal, lat: float, lon: float) -> None:
    location = Location.from_degrees(
        lat=lat, lon=lon, time=dt.datetime.now(dt.UTC).replace(microsecond=0), speed_kmh=40.0
    )
    answer = await terminal._send(location)
    assert isinstance(answer, PlatformGeneralReply)
    assert answer.result == 0


async def _heartbeats(terminal: Terminal, seconds: float) -> None:
    """Only heartbeats (0x0002) for ``seconds``: heard, but no position."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        answer = await terminal._send(Heartbeat())
        assert isinstance(answer, PlatformGeneralReply)
        await asyncio.sleep(OFFLINE_AFTER / 5)


async def _offline_events_in_log(cluster: Cluster, device: str) -> int:
    engine = db.create_engine(cluster.db_url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT payload FROM events WHERE kind = :kind"),
                    {"kind": EventKind.DEVICE_OFFLINE.value},
                )
            ).all()
    finally:
        await engine.dispose()
    return sum(1 for (payload,) in rows if f'"identity":"{device}"' in payload)


async def test_a_killed_instances_silent_terminal_is_reported_offline_once_by_the_survivor(
    cluster: Cluster,
) -> None:
    doomed, survivor = cluster.instances
    assert doomed.jt808_port is not None
    assert survivor.jt808_port is not None
    silent = Terminal("13800000001", doomed.jt808_port)
    moving = Terminal("13800000002", doomed.jt808_port)
    async with _Console(survivor.console_url, "watch", "pw-watch-pass-1") as console:
        for terminal in (silent, moving):
            await terminal.connect()
            await _report(terminal, 30.25, 120.15)
        # Heard by heartbeats only, for longer than the limit: never offline while heard.
        await asyncio.gather(*(_heartbeats(t, 1.5 * OFFLINE_AFTER) for t in (silent, moving)))
        assert console.offline(silent.phone) == console.offline(moving.phone) == 0

        await cluster.kill(doomed)
        await silent.close()
        # The other one is back within the limit, on the survivor, and stays heard.
        await moving.close()
        moving.port = survivor.jt808_port
        await moving.connect()
        keep_talking = asyncio.create_task(_heartbeats(moving, 30.0))

        await console.recorder.wait_for(lambda: console.offline(silent.phone) > 0, timeout=20)
        # Past the limit again (other sweeps): still once, and never the one that came back.
        await asyncio.sleep(1.5 * OFFLINE_AFTER)
        assert not keep_talking.done()
        keep_talking.cancel()
        assert console.offline(silent.phone) == 1
        assert console.offline(moving.phone) == 0
        (event,) = [e for e in console.recorder.events if e.kind == EventKind.DEVICE_OFFLINE]
        assert "its server instance is gone" in event.note
    await moving.close()
    assert await _offline_events_in_log(cluster, silent.phone) == 1
    assert await _offline_events_in_log(cluster, moving.phone) == 0


async def test_a_truck_on_one_instance_moves_on_the_other_instances_consoles(
    cluster: Cluster,
) -> None:
    first, second = cluster.instances
    assert first.jt808_port is not None
    truck = Terminal("13800000003", first.jt808_port)
    async with (
        _Console(second.console_url, "watch", "pw-watch-pass-1") as watch,
        _Console(second.console_url, "beijing", "pw-beijing-pass-1") as beijing,
    ):
        await truck.connect()
        route = [(30.25, 120.15), (30.26, 120.16), (30.27, 120.17)]
        for lat, lon in route:
            await _report(truck, lat, lon)
            # Each fix reaches the other instance's console live, not only as stored.
            await watch.recorder.wait_for(lambda p=(lat, lon): p in watch.fixes(truck.phone), 10)
        assert watch.fixes(truck.phone)[-1] == route[-1]
        # Scoped there as on one instance: a console of another area never sees it.
        await asyncio.sleep(0.5)
        assert beijing.fixes(truck.phone) == []
    await truck.close()
