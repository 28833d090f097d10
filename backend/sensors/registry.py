"""The sensor registry's rows as the rules see them: read, validate and write ``sensors``.

:func:`load_sensors` gives every enabled sensor as a :class:`SensorConfig` (a row whose
stored rules no longer validate is skipped and logged); :func:`save_sensor` inserts or
updates one row, its rules stored as :meth:`RuleSet.to_data` JSON. Every function runs in
the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.sensors.rules import Placement, RuleSet, SensorConfig, SensorKind
from backend.storage.models import SensorRecord

logger = logging.getLogger(__name__)


def sensor_config(record: SensorRecord) -> SensorConfig:
    """Return the rules engine's view of a sensor row (raises on invalid rules)."""
    return SensorConfig(
        sensor_id=record.sensor_id,
        kind=SensorKind(record.kind),
        unit=record.unit,
        rules=RuleSet.from_data(record.rules),
        poll_cycle_seconds=record.poll_cycle_seconds,
        placement=Placement(record.placement),
        name=record.name,
        place=record.place,
        lat=record.lat,
        lon=record.lon,
        hazard_source=record.hazard_source,
        enterprise=record.enterprise,
        jurisdiction=record.jurisdiction,
    )


async def load_sensors(session: AsyncSession) -> list[SensorConfig]:
    """Return every enabled sensor; one with invalid stored rules is skipped and logged."""
    configs: list[SensorConfig] = []
    for record in await session.scalars(
        select(SensorRecord).where(SensorRecord.enabled.is_(True)).order_by(SensorRecord.id)
    ):
        try:
            configs.append(sensor_config(record))
        except ValueError:
            logger.exception("sensor %s has invalid rules; it is not watched", record.sensor_id)
    return configs


async def save_sensor(
    session: AsyncSession,
    config: SensorConfig,
    *,
    now: dt.datetime,
    site_kind: str = "hazard_source",
    device: str = "",
    enabled: bool = True,
) -> SensorRecord:
    """Insert or update the sensor row of ``config.sensor_id`` (rules included)."""
    record = await session.scalar(
        select(SensorRecord).where(SensorRecord.sensor_id == config.sensor_id)
    )
    if record is None:
        record = SensorRecord(sensor_id=config.sensor_id, created_at=now)
        session.add(record)
    record.kind = config.kind.value
    record.unit = config.unit
    record.placement = config.placement.value
    record.name = config.name
    record.place = config.place
    record.lat = config.lat
    record.lon = config.lon
    record.poll_cycle_seconds = config.poll_cycle_seconds
    record.site_kind = site_kind
    record.hazard_source = config.hazard_source
    record.enterprise = config.enterprise
    record.jurisdiction = config.jurisdiction
    record.device = device
    record.rules = config.rules.to_data()
    record.enabled = enabled
    record.updated_at = now
    await session.flush()
    return record
