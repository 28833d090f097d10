"""Sensor registry rows: stored with their rules, read back, bad rows skipped."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.sensors import registry as sensor_registry
from backend.sensors.rules import Placement, RuleSet, SensorConfig, SensorKind, default_rules
from backend.storage.db import create_engine, migrate, session_factory
from backend.storage.models import SensorRecord

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(db_url)
    await migrate(engine)
    yield session_factory(engine)
    await engine.dispose()


def methane(sensor_id: str) -> SensorConfig:
    return SensorConfig(
        sensor_id=sensor_id,
        kind=SensorKind.CH4,
        unit="%",
        rules=default_rules(SensorKind.CH4, Placement.HEADING_FACE),
        placement=Placement.HEADING_FACE,
        lat=37.1,
        lon=112.5,
    )


async def test_a_row_round_trips_and_an_update_keeps_one_row(sessions: Sessions) -> None:
    config = methane("ch4-1")
    async with sessions.begin() as session:
        first = await sensor_registry.save_sensor(session, config, now=T0, site_kind="coal_mine")
        again = await sensor_registry.save_sensor(session, config, now=T0 + dt.timedelta(hours=1))
        assert again.id == first.id
        assert again.rules == config.rules.to_data()
    async with sessions() as session:
        assert await sensor_registry.load_sensors(session) == [config]


@pytest.mark.logs_errors
async def test_disabled_rows_and_rows_with_invalid_rules_are_not_loaded(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    async with sessions.begin() as session:
        await sensor_registry.save_sensor(session, methane("ch4-ok"), now=T0)
        await sensor_registry.save_sensor(session, methane("ch4-off"), now=T0, enabled=False)
        await sensor_registry.save_sensor(session, methane("ch4-bad"), now=T0)
        await session.execute(
            update(SensorRecord)
            .where(SensorRecord.sensor_id == "ch4-bad")
            .values(rules={"thresholds": [], "colour": "red"})
        )
    async with sessions() as session:
        loaded = await sensor_registry.load_sensors(session)
    assert [config.sensor_id for config in loaded] == ["ch4-ok"]
    assert "ch4-bad has invalid rules" in caplog.text


def test_a_row_is_read_as_the_rules_see_it() -> None:
    record = SensorRecord(
        sensor_id="co-1",
        kind="co",
        unit="ppm",
        rules=RuleSet().to_data(),
        poll_cycle_seconds=10.0,
        placement="",
        name="",
        place="",
        lat=None,
        lon=None,
        hazard_source="",
        enterprise="",
        jurisdiction="",
    )
    assert sensor_registry.sensor_config(record) == SensorConfig(
        "co-1", SensorKind.CO, "ppm", RuleSet(), poll_cycle_seconds=10.0
    )
