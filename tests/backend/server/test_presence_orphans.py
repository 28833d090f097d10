"""Rule timers that keep firing exactly once across instances (``backend.server.presence``):
the offline sweep adopts the vehicles of a dead instance — orphans, terminals it had
reported offline itself, and the ones the sweep reports — and records the hand-over in
``devices.held_by``, so a vehicle's offline-rule alarm is raised once, by one instance,
however many die in turn.

An instance "dies" as in test_presence_sweep.py: its instance lease is released without
it reporting anything, then it closes. Instances run one after the other on SQLite and
PostgreSQL; the case with a live instance beside the sweeper runs on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, update

from backend.security import FieldCipher
from backend.server import presence
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.server.presence import SWEEP_LEASE
from backend.server.testing import fresh_postgres_database
from backend.storage.models import Device
from backend.vehicles.rules import OfflineRule, RulesConfig
from devices.observations import DeviceStatusChanged, Position
from realtime.event_kinds import EventKind
from tests.backend.server.test_presence_sweep import _events, _until

PHONE = "13912345678"
OFFLINE_AFTER = 0.4
"""The gateways' offline limit (s): the sweep starts this long after a start, then runs
every tenth of a second."""
OFFLINE_TITLE = "终端离线"
"""The offline rule's alarm title (``OfflineRule.title``)."""


def _config(db_url: str, tmp_path: Path, cipher: FieldCipher, timeout_s: float) -> ServerConfig:
    return ServerConfig(
        db_url=db_url,
        data_dir=tmp_path,
        port=0,
        cipher=cipher,
        jt808_offline_after=OFFLINE_AFTER,
        vehicle_rules=RulesConfig(rules=(OfflineRule(rule_id="offline", timeout_s=timeout_s),)),
    )


_dead: weakref.WeakSet[DutyDeskServer] = weakref.WeakSet()


@asynccontextmanager
async def _instance(config: ServerConfig) -> AsyncIterator[DutyDeskServer]:
    """A running instance; leaving the block kills it (its instance lease goes without
    it reporting any terminal), unless it was killed already."""
    server = DutyDeskServer(config)
    await server.start()
    try:
        yield server
    finally:
        await _kill(server)


async def _kill(server: DutyDeskServer) -> None:
    if server in _dead:
        return
    _dead.add(server)
    assert server.presence is not None
    await server.presence.stop()  # as if killed: its lease goes, nothing is reported
    await server.close()


async def _connect(server: DutyDeskServer, *, add: bool = True) -> None:
    """The terminal logs in to ``server`` and sends one fix (its rules are judged there)."""
    if add:
        await server.registry.add("jt808", PHONE, "槽车", plate="苏A12345")
    now = dt.datetime.now(dt.UTC)
    await server.jt808_ingest.submit(
        DeviceStatusChanged(device=PHONE, online=True, at=now, reason="authenticated")
    )
    await server.jt808_ingest.submit(_fix(now))


def _fix(at: dt.datetime) -> Position:
    return Position(
        device=PHONE, at=at, lat=30.25, lon=120.15, speed_kmh=0.0, heading_deg=0, altitude_m=0
    )


async def _disconnect(server: DutyDeskServer) -> None:
    """``server`` reports the terminal offline itself (a normal disconnect)."""
    await server.jt808_ingest.submit(
        DeviceStatusChanged(device=PHONE, online=False, at=dt.datetime.now(dt.UTC), reason="logout")
    )


async def _holder(server: DutyDeskServer) -> tuple[str | None, bool]:
    async with server.sessions() as session:
        row = (
            await session.execute(
                select(Device.held_by, Device.online).where(
                    Device.kind == "jt808", Device.identity == PHONE
                )
            )
        ).one()
    return row[0], row[1]


async def _until_held_by(server: DutyDeskServer, name: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (await _holder(server))[0] != name:
        assert time.monotonic() < deadline, f"not handed over to {name}"
        await asyncio.sleep(0.05)


async def _alarms(server: DutyDeskServer) -> tuple[int, int]:
    """The offline-rule alarm's ``alarm.raised`` and ``alarm.repeated`` events so far."""
    raised = await _events(server, EventKind.ALARM_RAISED.value, OFFLINE_TITLE)
    repeated = await _events(server, EventKind.ALARM_REPEATED.value, OFFLINE_TITLE)
    return raised, repeated


async def _judge_until_raised(server: DutyDeskServer, timeout: float = 15.0) -> None:
    """Judge the rules' timeouts (as the 5 s loop does, sooner) until the alarm is up."""
    deadline = time.monotonic() + timeout
    while (await _alarms(server))[0] == 0:
        assert time.monotonic() < deadline, "no offline alarm of the vehicle rule"
        await server.jt808_ingest._check_rule_timeouts()
        await asyncio.sleep(0.1)


async def _judge_a_while(server: DutyDeskServer, seconds: float) -> None:
    """Several sweeps and timeout checks: whatever they would raise, they raise now."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await server.jt808_ingest._check_rule_timeouts()
        await asyncio.sleep(0.1)


def _name(server: DutyDeskServer) -> str:
    assert server.presence is not None
    return server.presence.name


async def test_a_vehicle_its_dead_instance_reported_offline_gets_its_offline_alarm_once(
    db_url: str, tmp_path: Path
) -> None:
    config = _config(db_url, tmp_path, FieldCipher.generate(), timeout_s=2.0)
    async with _instance(config) as first:
        await _connect(first)
        await _disconnect(first)
        assert await _holder(first) == (_name(first), False), "offline, judged there"
    # It dies before the rule's timeout: nobody but the next sweeper can raise it.
    async with _instance(config) as second:
        await _until_held_by(second, _name(second))
        await _until(lambda: second.vehicle_engines["jt808"].state_of(PHONE) is not None)
        await _judge_until_raised(second)
        await _judge_a_while(second, 3 * OFFLINE_AFTER)
        assert await _alarms(second) == (1, 0)
        assert await _holder(second) == (_name(second), False)
        assert second.presence is not None
        assert second.presence.orphans_adopted == 1


async def test_a_chain_of_dead_instances_raises_the_offline_alarm_once(
    db_url: str, tmp_path: Path
) -> None:
    cipher = FieldCipher.generate()
    config = _config(db_url, tmp_path, cipher, timeout_s=5.0)
    async with _instance(config) as first:
        await _connect(first)  # and it dies holding the terminal's connection
    async with _instance(config) as second:
        # Swept (reported offline) and handed over to the sweeper; its rule not due yet
        # (its own 5 s check has not run): it dies before raising anything.
        await _until_held_by(second, _name(second))
        await _until(lambda: bool(second.vehicle_engines["jt808"].state_of(PHONE)))
        assert second.presence is not None
        assert second.presence.swept == 1
        assert await _alarms(second) == (0, 0)
    async with _instance(config) as third:
        # Held by the dead sweeper: an orphan, adopted and judged here.
        await _until_held_by(third, _name(third))
        await _judge_until_raised(third)
        await _judge_a_while(third, 3 * OFFLINE_AFTER)
        assert await _alarms(third) == (1, 0)
    async with _instance(config) as fourth:
        # And again, after it was raised: the stored rule state says so.
        await _until_held_by(fourth, _name(fourth))
        await _judge_a_while(fourth, 1.0)
        assert await _alarms(fourth) == (1, 0)


async def test_an_offline_alarm_raised_before_the_holder_died_is_not_raised_again(
    db_url: str, tmp_path: Path
) -> None:
    config = _config(db_url, tmp_path, FieldCipher.generate(), timeout_s=0.5)
    async with _instance(config) as first:
        await _connect(first)
        await _disconnect(first)
        await _judge_until_raised(first)
        assert await _alarms(first) == (1, 0)
    async with _instance(config) as second:
        await _until_held_by(second, _name(second))
        await _judge_a_while(second, 1.0)
        assert await _alarms(second) == (1, 0)


async def _heard_on(server: DutyDeskServer) -> None:
    """The terminal keeps talking to ``server``: its last hearings are written, as its
    gateway would (these servers listen for no terminal)."""
    while True:
        heard = {PHONE: dt.datetime.now(dt.UTC)}
        await server.registry.note_heard("jt808", heard, _name(server))
        await asyncio.sleep(OFFLINE_AFTER / 4)


Instances = Callable[[str, ServerConfig], Awaitable[DutyDeskServer]]


@pytest.fixture
async def pg_instances(tmp_path: Path) -> AsyncIterator[tuple[str, Instances]]:
    """A fresh PostgreSQL database, and a way to start instances on it side by side
    (each in its own data folder; killed at the end unless killed before)."""
    admin = os.environ.get("DUTYDESK_TEST_PG")
    if admin is None:
        pytest.skip("PostgreSQL not configured (run ./test.sh)")
    async with fresh_postgres_database(admin) as url, AsyncExitStack() as instances:

        async def instance(name: str, config: ServerConfig) -> DutyDeskServer:
            folder = tmp_path / name
            folder.mkdir()
            return await instances.enter_async_context(
                _instance(dataclasses.replace(config, db_url=url, data_dir=folder))
            )

        yield url, instance


@pytest.mark.postgres
async def test_a_terminal_back_on_a_live_instance_before_the_sweep_is_not_adopted(
    tmp_path: Path, pg_instances: tuple[str, Instances]
) -> None:
    url, start = pg_instances
    # A long timeout: the live instance's own rule check must not raise it here.
    config = _config(url, tmp_path, FieldCipher.generate(), timeout_s=600.0)

    sweeper = await start("sweeper", config)
    await _until(lambda: SWEEP_LEASE in sweeper.leases.held())
    live = await start("live", config)
    doomed = await start("doomed", config)
    await _connect(doomed)
    orphan = {PHONE: _name(doomed)}
    # Online, it is never taken as an orphan (a sweep reports it offline first).
    assert await sweeper.registry.take_over("jt808", orphan, _name(sweeper)) == set()
    await _disconnect(doomed)
    # It reconnects to a live instance, then the one that reported it offline dies.
    await _connect(live, add=False)
    talking = asyncio.create_task(_heard_on(live))
    await _kill(doomed)
    await asyncio.sleep(OFFLINE_AFTER + 1.0)  # past the sweeper's start, many sweeps
    assert not talking.done()
    talking.cancel()
    assert await _holder(sweeper) == (_name(live), True)
    assert sweeper.presence is not None
    assert sweeper.presence.orphans_adopted == 0
    assert sweeper.vehicle_engines["jt808"].state_of(PHONE) is None
    # A sweep that still saw it as the dead instance's orphan takes nothing: the
    # hand-over is decided in the writing transaction.
    assert await sweeper.registry.take_over("jt808", orphan, _name(sweeper)) == set()
    assert await _holder(sweeper) == (_name(live), True)
    # Nor once it went offline again on the live instance, which judges its rules on.
    await _disconnect(live)
    assert await sweeper.registry.take_over("jt808", orphan, _name(sweeper)) == set()
    await asyncio.sleep(5 * OFFLINE_AFTER / 4)  # sweeps: its holder lives
    assert await _holder(sweeper) == (_name(live), False)
    assert sweeper.presence.orphans_adopted == 0


async def test_a_sweep_adopts_a_bounded_number_of_orphans_the_rest_in_the_next(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence, "ORPHANS_PER_SWEEP", 2)
    config = dataclasses.replace(
        _config(db_url, tmp_path, FieldCipher.generate(), timeout_s=600.0),
        jt808_offline_after=600.0,  # no sweep of its own during the test
    )
    phones = [f"1391234560{n}" for n in range(3)]
    async with _instance(config) as server:
        assert server.presence is not None
        for phone in phones:
            await server.registry.add("jt808", phone, "槽车")
        async with server.sessions.begin() as session:
            await session.execute(
                update(Device)
                .where(Device.identity.in_(phones))
                .values(held_by="gone:1:0", heard_at=dt.datetime.now(dt.UTC))
            )
        await server.presence._adopt_orphans()
        assert server.presence.orphans_adopted == 2
        await server.presence._adopt_orphans()
        await server.presence._adopt_orphans()
        assert server.presence.orphans_adopted == 3
        engine = server.vehicle_engines["jt808"]
        assert all(engine.state_of(phone) is not None for phone in phones)
        async with server.sessions() as session:
            holders = set(
                await session.scalars(select(Device.held_by).where(Device.identity.in_(phones)))
            )
        assert holders == {_name(server)}


@pytest.mark.postgres
async def test_an_instance_a_terminal_left_for_another_raises_no_offline_alarm_for_it(
    tmp_path: Path, pg_instances: tuple[str, Instances]
) -> None:
    url, start = pg_instances
    config = dataclasses.replace(
        _config(url, tmp_path, FieldCipher.generate(), timeout_s=0.5),
        jt808_offline_after=600.0,  # no sweep: these servers hold no real connection
    )

    left, joined = await start("left", config), await start("joined", config)
    await _connect(left)
    await _disconnect(left)  # the connection broke; left judges its offline rule ...
    assert left.vehicle_engines["jt808"].state_of(PHONE) is not None
    await _connect(joined, add=False)  # ... until it is back, on the other instance
    talking = asyncio.create_task(_reporting_to(joined))
    try:
        # left reads joined's device.online from the log and leaves the vehicle to it.
        await _until(lambda: left.vehicle_engines["jt808"].state_of(PHONE) is None)
        await _judge_a_while(left, 1.5)  # three times the rule's timeout
        await _judge_a_while(joined, 0.3)
    finally:
        talking.cancel()
    assert await _alarms(left) == (0, 0), "no offline alarm for a vehicle on another"
    assert await _holder(left) == (_name(joined), True)


async def _reporting_to(server: DutyDeskServer) -> None:
    """The terminal keeps reporting to ``server`` (its offline rule holds there)."""
    while True:
        await server.jt808_ingest.submit(_fix(dt.datetime.now(dt.UTC)))
        await asyncio.sleep(0.1)
