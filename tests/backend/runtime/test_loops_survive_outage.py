"""Issue 13.2: a real server's background loops outlive a database outage.

While every statement fails, the last-seen writes, the vehicle rule timeouts, the sensor
stale clock and the time-series maintenance fail; each logs that once, keeps retrying,
logs its recovery once, and what it had to do is done once the database is back.
Shutting down during an outage completes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging

import pytest
from sqlalchemy import select

from backend.registry.files import load_sensors_csv
from backend.sensors.timeseries import TimeSeriesMaintenance
from backend.server.app import DutyDeskServer
from backend.storage.models import Alarm, Device
from backend.vehicles.rules import OfflineRule, RulesConfig, VehicleRulesEngine
from devices.observations import Position, Reading
from tests.backend.conftest import ingest_for
from tests.backend.storage_faults import database_down

PHONE = "13900000009"


async def _alarm_types(server: DutyDeskServer) -> list[str]:
    async with server.sessions() as session:
        return sorted((await session.scalars(select(Alarm.alarm_type))).all())


async def _last_seen(server: DutyDeskServer) -> dt.datetime | None:
    async with server.sessions() as session:
        return await session.scalar(select(Device.last_seen).where(Device.identity == PHONE))


@pytest.mark.logs_errors
async def test_background_loops_outlive_a_database_outage(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await server.registry.add("jt808", PHONE, "液氨槽车", plate="苏A·D8821")
    base = next(s for s in load_sensors_csv() if s.sensor_id == "co-0002")
    await server.sensors.add_sensors(
        [dataclasses.replace(base, sensor_id="co-fast", poll_cycle_seconds=0.2)]
    )
    rules = RulesConfig(rules=(OfflineRule(rule_id="offline", timeout_s=0.3),))
    ingest = ingest_for(server, touch_interval=0.05, vehicle_rules=VehicleRulesEngine(rules))
    maintenance = TimeSeriesMaintenance(server.sessions, interval=0.05)
    now = dt.datetime.now(dt.UTC)
    await server.ingests["json"].submit(
        Reading(device="feed", sensor="co-fast", at=now, value=3.0, unit="ppm")
    )
    try:
        with database_down(server.engine) as outage:
            ingest.start()
            maintenance.start()
            await ingest.submit(Position(device=PHONE, at=now, lat=32.0, lon=118.8))
            await asyncio.sleep(2.5)  # the sensor stale clock ticks every second
        assert outage.injected > 0
        assert await _alarm_types(server) == []
        async with asyncio.timeout(15):
            while await _alarm_types(server) != ["sensor_offline", "vehicle_offline"]:  # noqa: ASYNC110 - polls the database
                await asyncio.sleep(0.05)
            while await _last_seen(server) is None:  # noqa: ASYNC110 - polls the database
                await asyncio.sleep(0.05)
            while maintenance._periodic.failures:  # noqa: ASYNC110 - polls a counter
                await asyncio.sleep(0.05)
        assert await _last_seen(server) == now, "the last-seen time kept through the outage"
    finally:
        await maintenance.stop()
        await ingest.stop()
    loops = ["last-seen writes (jt808)", "vehicle rule timeouts (jt808)", "time-series maintenance"]
    if server.leases.exclusive:
        # On PostgreSQL the stale clock runs under a lease: the outage shows as the lease
        # connection's failure (once), and the tick waits until the lease is held again.
        lost = [r for r in caplog.records if r.getMessage().startswith("lease connection unavail")]
        back = [r for r in caplog.records if "lease connection available again" in r.getMessage()]
        assert (len(lost), len(back)) == (1, 1), "one failure line and one recovery line"
    else:
        loops.append("sensor-rules-tick")
    for name in loops:
        failed = [r for r in caplog.records if r.getMessage().startswith(f"{name} failed;")]
        recovered = [r for r in caplog.records if r.getMessage().startswith(f"{name} works again")]
        assert len(failed) == 1, f"{name}: one failure line, not {len(failed)}"
        assert failed[0].levelno == logging.ERROR
        assert len(recovered) == 1, f"{name}: one recovery line"
    assert await _alarm_types(server) == ["sensor_offline", "vehicle_offline"], "raised once"


@pytest.mark.logs_errors
async def test_shutting_down_during_an_outage_completes(server: DutyDeskServer) -> None:
    await server.registry.add("jt808", PHONE, "液氨槽车")
    await server.jt808_ingest.submit(
        Position(device=PHONE, at=dt.datetime.now(dt.UTC), lat=32.0, lon=118.8)
    )
    with database_down(server.engine):
        async with asyncio.timeout(30):
            await server.close()  # the last-seen write fails: logged, and closing goes on
