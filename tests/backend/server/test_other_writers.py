"""What other processes write reaches a running server and its consoles without a
restart (on SQLite: the CLI; on PostgreSQL also other instances): events written
elsewhere are fanned out in ``seq`` order, geofences saved elsewhere are put in force,
sensor rules changed elsewhere are applied."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.eventlog import log as eventlog
from backend.eventlog import notify
from backend.registry.files import load_sensors_csv
from backend.sensors import registry as sensor_registry
from backend.sensors.rules import Direction, RuleSet, Threshold
from backend.server.app import DutyDeskServer
from backend.storage import db
from backend.vehicles.geofences import GeofenceService
from realtime.event_kinds import EventKind
from realtime.protocol import Event, PolygonShape, SaveGeofence
from realtime.states import AlarmLevel
from tests.backend.conftest import open_console

SQUARE = [[32.0, 118.8], [32.0, 118.82], [32.02, 118.82], [32.02, 118.8]]


@pytest.fixture
async def elsewhere(server: DutyDeskServer) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of another process on the server's database (the CLI, another instance)."""
    engine = db.create_engine(server.config.db_url)
    yield db.session_factory(engine)
    await engine.dispose()


async def test_events_and_geofences_written_elsewhere_reach_the_server_at_once(
    server: DutyDeskServer, elsewhere: async_sessionmaker[AsyncSession]
) -> None:
    console = await open_console(server)
    try:
        writer = eventlog.EventWriter(elsewhere, lambda _events: None)  # as the CLI's

        async def note(session: AsyncSession, events: list[Event]) -> None:
            events.append(
                await eventlog.append(
                    session, kind=EventKind.REGISTRY_IMPORTED, actor="cli", note="导入 3 条"
                )
            )

        await writer.run(note)
        fence = await GeofenceService(elsewhere, writer).save(
            "cli",
            SaveGeofence(
                req="",
                name="禁行区",
                kind="no_go_zone",
                shape=PolygonShape(outer=SQUARE),
                level=AlarmLevel.RED,
            ),
        )
        await console.recorder.wait_for(
            lambda: (
                [e.kind for e in console.recorder.events]
                == [EventKind.REGISTRY_IMPORTED, EventKind.GEOFENCE_SAVED]
            ),
            5,
        )
        # In force on every vehicle engine by the time consoles see the event.
        for engine in server.vehicle_engines.values():
            assert f"gf-{fence.id}" in [rule.rule_id for rule in engine.config.rules]
    finally:
        await console.close()


@pytest.mark.postgres
async def test_sensor_rules_changed_elsewhere_apply_at_once(
    server: DutyDeskServer, elsewhere: async_sessionmaker[AsyncSession]
) -> None:
    if server.database_kind != "postgresql":
        pytest.skip("on SQLite the change is found by the 5 s look at the sensors table")
    ch4 = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    await server.sensors.add_sensors([ch4])
    low = RuleSet(thresholds=(Threshold(AlarmLevel.YELLOW, Direction.HIGH, 0.3, 0.25),))
    async with elsewhere.begin() as session:
        await sensor_registry.save_sensor(
            session, dataclasses.replace(ch4, rules=low), now=dt.datetime.now(dt.UTC)
        )
        await notify.notify_change(session, notify.SENSORS_CHANGED, ids=["ch4-0001"])
    for _ in range(250):  # 5 s at most; a notification takes milliseconds
        config = server.sensors.rules.config("ch4-0001")
        if config is not None and config.rules == low:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the new rules never applied")
