"""The offline sweep of terminals whose instance is gone (``backend.server.presence``),
on one server, SQLite and PostgreSQL; and the cross-instance telemetry relay's input path
(``backend.server.cluster_relay``) against a hostile notification.

The two-instance cases (kill -9, reconnect to the survivor, a truck seen across) are in
test_cluster_presence.py.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import msgspec
import pytest
from sqlalchemy import text

from backend.eventlog.notify import asyncpg_dsn
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.cluster_relay import MAX_PAYLOAD, TELEMETRY_CHANNEL, ClusterRelay
from backend.server.config import ServerConfig
from backend.server.hub import Hub
from backend.server.telemetry_relay import RelayedFix
from backend.server.testing import fresh_postgres_database
from backend.vehicles.rules import OfflineRule, RulesConfig
from devices.observations import DeviceStatusChanged, Position
from realtime.event_kinds import EventKind
from realtime.protocol import ReadingView
from tests.backend.registry.test_presence import _running

PHONE = "13912345678"
OTHER = "13912345679"


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _events(server: DutyDeskServer, kind: str, text_in_payload: str) -> int:
    async with server.sessions() as session:
        rows = (
            await session.execute(
                text("SELECT payload FROM events WHERE kind = :kind"), {"kind": kind}
            )
        ).all()
    return sum(1 for (payload,) in rows if text_in_payload in payload)


async def _offline_events(server: DutyDeskServer, device: str) -> int:
    return await _events(server, EventKind.DEVICE_OFFLINE.value, f'"identity":"{device}"')


async def test_a_silent_terminal_is_reported_once_and_never_after_it_was_heard_again(
    db_url: str, tmp_path: Path
) -> None:
    config = ServerConfig(db_url=db_url, data_dir=tmp_path, port=0, cipher=FieldCipher.generate())
    async with _running(config) as server:
        registry = server.registry
        for phone in (PHONE, OTHER):
            await registry.add("jt808", phone, "槽车", plate=f"苏A{phone[-5:]}")
        now = dt.datetime.now(dt.UTC)
        long_ago = now - dt.timedelta(minutes=10)
        for phone, at in ((PHONE, long_ago), (OTHER, now)):
            await server.jt808_ingest.submit(
                DeviceStatusChanged(device=phone, online=True, at=at, reason="authenticated")
            )
        cutoff = now - dt.timedelta(minutes=1)
        # Silent since before the cutoff: reported, once.
        assert await registry.report_silent("jt808", PHONE, now, "gone", cutoff)
        assert not await registry.report_silent("jt808", PHONE, now, "gone", cutoff)
        # Heard after the cutoff (it logged in again): not reported.
        assert not await registry.report_silent("jt808", OTHER, now, "gone", cutoff)
        assert await _offline_events(server, PHONE) == 1
        assert await _offline_events(server, OTHER) == 0
        device = await registry.find("jt808", OTHER)
        assert device is not None
        assert device.online


async def test_a_terminal_taken_over_by_another_instance_is_not_reported_by_the_old_one(
    db_url: str, tmp_path: Path
) -> None:
    config = ServerConfig(db_url=db_url, data_dir=tmp_path, port=0, cipher=FieldCipher.generate())
    async with _running(config) as server:
        registry = server.registry
        await registry.add("jt808", PHONE, "槽车", plate="苏A12345")
        now = dt.datetime.now(dt.UTC)
        await server.jt808_ingest.submit(
            DeviceStatusChanged(device=PHONE, online=True, at=now, reason="authenticated")
        )
        # Another instance heard it later (its coalesced write): it holds it now.
        later = now + dt.timedelta(seconds=1)
        await registry.note_heard("jt808", {PHONE: later}, "other-instance")
        # An older write of this instance does not take it back (never backwards).
        await registry.note_heard("jt808", {PHONE: now}, registry.instance or "")
        await server.jt808_ingest.submit(
            DeviceStatusChanged(device=PHONE, online=False, at=later, reason="silent here")
        )
        assert await _offline_events(server, PHONE) == 0


async def test_a_crashed_servers_terminal_that_never_returns_is_reported_offline_after_the_limit(
    db_url: str, tmp_path: Path
) -> None:
    cipher = FieldCipher.generate()
    offline_after = 0.4
    config = ServerConfig(
        db_url=db_url,
        data_dir=tmp_path,
        port=0,
        cipher=cipher,
        jt808_offline_after=offline_after,
        # A vehicle rule's own offline alarm is raised by whoever swept the terminal.
        vehicle_rules=RulesConfig(rules=(OfflineRule(rule_id="offline", timeout_s=1.0),)),
    )
    async with _running(config) as first:
        await first.registry.add("jt808", PHONE, "槽车", plate="苏A12345")
        await first.jt808_ingest.submit(
            DeviceStatusChanged(
                device=PHONE, online=True, at=dt.datetime.now(dt.UTC), reason="authenticated"
            )
        )
        assert first.presence is not None
        await first.presence.stop()  # as if killed: it never reports the terminal itself
    # The next server (another instance name) finds it online, held by a dead instance.
    async with _running(config) as second:
        assert second.presence is not None
        await _until(lambda: second.presence is not None and second.presence.swept > 0)
        await asyncio.sleep(3 * offline_after)  # more sweeps: still once
        assert await _offline_events(second, PHONE) == 1
        await _until(lambda: bool(second.vehicle_engines["jt808"].state_of(PHONE)))
        deadline = time.monotonic() + 15  # the rules' timeout check runs every 5 s
        while await _events(second, "alarm.raised", "终端离线") == 0:
            assert time.monotonic() < deadline, "no offline alarm of the vehicle rule"
            await asyncio.sleep(0.2)
        assert await _events(second, "alarm.raised", "终端离线") == 1
        device = await second.registry.find("jt808", PHONE)
        assert device is not None
        assert not device.online


def _fix(n: int, **changes: object) -> RelayedFix:
    fix = RelayedFix(f"1390000{n:04d}", 1.8e9, 30.25, 120.15, 40.0, 90.0, 10.0, "330106")
    return msgspec.structs.replace(fix, **changes)


def test_a_tick_of_a_large_fleet_goes_in_payloads_postgresql_takes() -> None:
    relay = ClusterRelay("postgresql://unused", "instance-a")
    fixes = [_fix(n) for n in range(1000)]
    payloads = relay.payloads(fixes)
    assert all(len(payload.encode()) <= MAX_PAYLOAD for payload in payloads)
    assert len(payloads) <= math.ceil(1000 / 60)
    decoder = msgspec.msgpack.Decoder(list[RelayedFix])
    back = [fix for p in payloads for fix in decoder.decode(base64.b64decode(p.split("\n")[2]))]
    assert sorted(back, key=lambda f: f.device) == fixes
    # One fix too large for any notification (a hostile place name) is dropped, alone.
    assert relay.payloads([_fix(1, place="x" * 9000), _fix(2)]) != []
    assert relay.dropped == 1


@pytest.mark.postgres
async def test_a_hostile_notification_costs_only_itself(
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = os.environ.get("DUTYDESK_TEST_PG")
    if admin is None:
        pytest.skip("PostgreSQL not configured (run ./test.sh)")
    async with fresh_postgres_database(admin) as url:
        dsn = asyncpg_dsn(url)
        hub = Hub()
        receiver = ClusterRelay(dsn, "instance-b")
        sender = ClusterRelay(dsn, "instance-a")
        receiver.start(hub)
        sender.start(Hub())
        try:
            async with asyncio.timeout(10):
                await receiver.listening.wait()
                await sender.listening.wait()
            connection = await asyncpg.connect(dsn)
            try:
                for garbage in (
                    "no newline",
                    "x\nQ\nAAAA",
                    "x\nP\n%%%",
                    "x\nP\nAAAA",
                    "x\nR\n" + "A" * 20,
                ):
                    await connection.execute("SELECT pg_notify($1, $2)", TELEMETRY_CHANNEL, garbage)
            finally:
                await connection.close()
            good = Position(
                device=PHONE,
                at=dt.datetime.now(dt.UTC),
                lat=30.25,
                lon=120.15,
                speed_kmh=1.0,
                heading_deg=0.0,
                altitude_m=0.0,
            )
            bad = msgspec.structs.replace(good, device=OTHER, lat=math.nan)
            sender.offer(bad, "330106")
            sender.offer(good, "330106")
            reading = ReadingView(
                device="mine-7", sensor="CH4-01", at=good.at, value=0.4, unit="%CH4"
            )
            sender.offer_reading(msgspec.structs.replace(reading, sensor="CH4-02", value=math.inf))
            sender.offer_reading(reading)
            with caplog.at_level(logging.WARNING):
                await _until(lambda: hub.device_place(PHONE) == "330106")
                await _until(lambda: any(r.sensor == "CH4-01" for r in hub.latest_readings()))
            assert hub.device_place(OTHER) == ""
            assert [r.sensor for r in hub.latest_readings()] == ["CH4-01"]
            assert receiver.refused >= 6
            assert "no list of relayed fixes" in caplog.text
        finally:
            await sender.stop()
            await receiver.stop()
