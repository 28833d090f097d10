"""Issue 13.1: a vehicle rule's state changes only with the durable write.

An alarm that cannot be committed fails the run (the terminal gets result 1 and resends);
the resent fixes are judged again and the alarm is raised. A timeout's alarm that cannot
be committed is decided again on the next check.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from backend.server.app import DutyDeskServer
from backend.storage.models import Alarm
from backend.vehicles.rules import OfflineRule, RulesConfig, VehicleRulesEngine
from devices.observations import Position
from tests.backend.conftest import ingest_for
from tests.backend.storage_faults import fail_inserts

OVERSPEED = RulesConfig.from_dict(
    {
        "rules": [
            {
                "type": "overspeed",
                "id": "speed",
                "level": "orange",
                "limit_kmh": 80,
                "min_duration_s": 5,
                "clear_margin_kmh": 5,
                "clear_duration_s": 10,
            }
        ]
    }
)


async def _alarm_types(server: DutyDeskServer) -> list[str]:
    async with server.sessions() as session:
        return sorted((await session.scalars(select(Alarm.alarm_type))).all())


@pytest.mark.logs_errors
async def test_overspeed_with_one_failed_alarm_commit_is_raised_on_the_resend(
    server: DutyDeskServer,
) -> None:
    service = ingest_for(server, vehicle_rules=VehicleRulesEngine(OVERSPEED))
    await server.registry.add("jt808", "13912345678", "液氨槽车", plate="苏A·D8821")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    run = [
        Position(
            device="13912345678",
            at=start + dt.timedelta(seconds=10 * n),
            lat=32.0,
            lon=118.8 + n / 1000,
            speed_kmh=95 + n,
        )
        for n in range(2)
    ]
    try:
        with (
            fail_inserts(server.engine, "alarms") as injected,
            pytest.raises(OperationalError),
        ):
            await service.submit_many(run)
        assert injected.injected == 1
        assert await _alarm_types(server) == []
        await service.submit_many(run)  # the terminal resends the run it got result 1 for
        assert await _alarm_types(server) == ["vehicle_overspeed"]
        await service.submit(
            Position(
                device="13912345678",
                at=start + dt.timedelta(seconds=20),
                lat=32.0,
                lon=118.81,
                speed_kmh=99,
            )
        )
        assert await _alarm_types(server) == ["vehicle_overspeed"], "one alarm per episode"
    finally:
        await service.stop()


@pytest.mark.logs_errors
async def test_an_offline_alarm_that_failed_to_commit_is_decided_again(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    rules = RulesConfig(rules=(OfflineRule(rule_id="offline", timeout_s=0.2),))
    service = ingest_for(server, touch_interval=0.05, vehicle_rules=VehicleRulesEngine(rules))
    with fail_inserts(server.engine, "alarms") as injected:
        service.start()
        try:
            await service.submit(
                Position(device="13900000001", at=dt.datetime.now(dt.UTC), lat=32.0, lon=118.8)
            )
            async with asyncio.timeout(10):
                while await _alarm_types(server) != ["vehicle_offline"]:  # noqa: ASYNC110 - polls the database
                    await asyncio.sleep(0.05)
        finally:
            await service.stop()
    assert injected.injected == 1
    failures = [r for r in caplog.records if r.levelname == "ERROR"]
    # Each part that saw the failure says so once: the loop, and the writer's outage log.
    per_part = collections.Counter(r.name for r in failures)
    assert per_part["backend.ingest.service"] == 1, "the loop's failure is logged once"
    assert set(per_part.values()) == {1}, per_part
    [loop_failure] = [r for r in failures if r.name == "backend.ingest.service"]
    assert "vehicle rule timeouts" in loop_failure.getMessage()
