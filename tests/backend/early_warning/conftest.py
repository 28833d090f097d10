"""A running server with a hazard source of two sensors in one town, one of another town,
users of both towns, and quick warning settings (dwell 10 s)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import msgspec
import pytest
from websockets.asyncio.client import connect

from backend.sensors.rules import Direction, RuleSet, SensorConfig, SensorKind, Threshold
from backend.server.app import DutyDeskServer
from backend.storage.models import RegistryItem
from realtime.client import basic_auth_header
from realtime.protocol import HazardSourceDetails, Role
from realtime.states import AlarmLevel
from tests.backend.conftest import device_url

PASSWORD = "pw-long-enough-1"
TOWN, OTHER_TOWN = "330106001", "330106002"
NOW = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC)
HS_LAT, HS_LON = 30.25, 120.15
FAR_LAT, FAR_LON = 30.60, 120.60


def ch4(sensor_id: str, jurisdiction: str = TOWN) -> SensorConfig:
    """A methane sensor: yellow at 1.0 %, red at 1.5 %."""
    rules = RuleSet(
        thresholds=(
            Threshold(level=AlarmLevel.YELLOW, direction=Direction.HIGH, value=1.0, restore=0.8),
            Threshold(level=AlarmLevel.RED, direction=Direction.HIGH, value=1.5, restore=1.2),
        )
    )
    return SensorConfig(
        sensor_id=sensor_id,
        kind=SensorKind.CH4,
        unit="%",
        rules=rules,
        name=f"甲烷{sensor_id}",
        jurisdiction=jurisdiction,
        poll_cycle_seconds=600,
    )


def hazard(
    code: str, name: str, lat: float, lon: float, jurisdiction: str, sensors: list[str]
) -> RegistryItem:
    return RegistryItem(
        kind="hazard_source",
        code=code,
        name=name,
        jurisdiction=jurisdiction,
        lat=lat,
        lon=lon,
        details=msgspec.to_builtins(HazardSourceDetails(grade=2, sensors=sensors)),
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
async def warned(server: DutyDeskServer) -> DutyDeskServer:
    """``server`` with hazard sources HS-1 (sensors A, B; town 1) and HS-2 (sensor C; town
    2, far away), users ``town1``/``town2`` and quick settings."""
    async with server.sessions.begin() as session:
        session.add_all(
            [
                hazard("HS-1", "一号储罐区", HS_LAT, HS_LON, TOWN, ["A", "B"]),
                hazard("HS-2", "二号储罐区", FAR_LAT, FAR_LON, OTHER_TOWN, ["C"]),
            ]
        )
    await server.sensors.add_sensors([ch4("A"), ch4("B"), ch4("C", OTHER_TOWN)])
    await server.early_warnings.housekeeping()
    quick = dataclasses.replace(server.early_warnings.settings, dwell_s=10.0)
    server.early_warnings.settings = quick
    server.early_warnings.detector.settings = quick
    await server.users.add_user("town1", PASSWORD, Role.OFFICER, jurisdiction=TOWN)
    await server.users.add_user("town2", PASSWORD, Role.OFFICER, jurisdiction=OTHER_TOWN)
    return server


async def feed(server: DutyDeskServer, readings: list[tuple[str, dt.datetime, float]]) -> None:
    """Send readings through the device feed, each acknowledged."""
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        for n, (sensor, at, value) in enumerate(readings):
            message: dict[str, Any] = {
                "type": "device.reading",
                "ref": f"r{n}",
                "sensor": sensor,
                "value": value,
                "unit": "%",
                "at": at.isoformat(),
            }
            await ws.send(json.dumps(message))
            answer = json.loads(await ws.recv())
            assert answer["type"] == "ack", answer


def rising(
    sensor: str, *, start: dt.datetime, count: int, first: float, step: float
) -> list[tuple[str, dt.datetime, float]]:
    """Readings every 5 s rising by ``step``."""
    return [(sensor, start + dt.timedelta(seconds=5 * i), first + step * i) for i in range(count)]
