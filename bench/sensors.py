"""Sensor benchmark: 2,000 sensors at 1 Hz through the rules engine and into SQLite.

Three figures, all in this process:

1. **Rules**: S sensors (methane at faces, CO, O2, temperatures with a rise-rate rule)
   each give one reading per simulated second for N seconds, with excursions that raise,
   escalate and clear alarms; the engine's ``tick`` runs once per simulated second.
   Printed: readings per second and microseconds per reading (``observe`` only).
2. **Storage**: the same readings for the first T simulated seconds go through
   :class:`backend.ingest.telemetry.TelemetryWriter` (group commit) into a fresh SQLite file,
   one simulated second (S concurrent submits) at a time. Printed: readings stored per
   second of wall time, and the rollup of all of it.
3. **History**: 24 h of one sensor at 1 Hz (86,400 readings) are stored and rolled up;
   printed: time to load them at full resolution, downsampled to 2,000 points from raw
   readings, and from five-minute rollups.

    .venv/bin/python bench/sensors.py [--sensors 2000] [--seconds 120] [--store-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, insert, select

from backend.config import sqlite_url
from backend.ingest.telemetry import TelemetryWriter
from backend.sensors import timeseries
from backend.sensors.rules import (
    Decision,
    Direction,
    Placement,
    RateLimit,
    RuleSet,
    SensorConfig,
    SensorKind,
    SensorRules,
    Threshold,
    default_rules,
)
from backend.storage.db import create_engine, migrate, session_factory
from backend.storage.models import ReadingRecord, ReadingRollup
from devices.observations import Reading
from realtime.states import AlarmLevel

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
PLACEMENTS = (
    Placement.MINING_FACE,
    Placement.FACE_RETURN_AIRWAY,
    Placement.HEADING_FACE,
    Placement.DRAINAGE_ROADWAY,
    Placement.HIGH_GAS_MINE_INTAKE,
)
TEMPERATURE_RULES = RuleSet(
    thresholds=(
        Threshold(AlarmLevel.YELLOW, Direction.HIGH, 35.0, 34.0, dwell_seconds=5),
        Threshold(AlarmLevel.ORANGE, Direction.HIGH, 45.0, 43.0, dwell_seconds=5),
        Threshold(AlarmLevel.RED, Direction.HIGH, 60.0, 55.0),
    ),
    rates=(RateLimit(Direction.HIGH, per_minute=5.0, level=AlarmLevel.ORANGE),),
)


def make_sensors(count: int) -> list[tuple[SensorConfig, float, float]]:
    """Return (config, normal value, excursion value) for ``count`` sensors."""
    sensors = []
    for index in range(count):
        family = index % 4
        if family == 0:
            placement = PLACEMENTS[index // 4 % len(PLACEMENTS)]
            rules = default_rules(SensorKind.CH4, placement)
            config = SensorConfig(
                f"ch4-{index:04d}", SensorKind.CH4, "%", rules, 1.0, placement=placement
            )
            sensors.append((config, 0.3, 2.8))
        elif family == 1:
            config = SensorConfig(
                f"co-{index:04d}", SensorKind.CO, "ppm", default_rules(SensorKind.CO), 1.0
            )
            sensors.append((config, 5.0, 40.0))
        elif family == 2:
            config = SensorConfig(
                f"o2-{index:04d}", SensorKind.O2, "%", default_rules(SensorKind.O2), 1.0
            )
            sensors.append((config, 20.9, 18.5))
        else:
            config = SensorConfig(
                f"t-{index:04d}", SensorKind.TEMPERATURE, "°C", TEMPERATURE_RULES, 1.0
            )
            sensors.append((config, 25.0, 65.0))
    return sensors


def simulate(
    sensors: list[tuple[SensorConfig, float, float]], seconds: int, seed: int = 7
) -> Iterator[list[Reading]]:
    """Yield one list of readings (one per sensor) per simulated second.

    Each sensor is noisy around its normal value; about 2 % of sensors are in an
    excursion (a ramp towards the excursion value and back) at any time.
    """
    rng = random.Random(seed)
    excursion_start = {config.sensor_id: rng.randrange(-600, seconds) for config, _, _ in sensors}
    for second in range(seconds):
        at = T0 + dt.timedelta(seconds=second)
        batch = []
        for config, normal, peak in sensors:
            phase = second - excursion_start[config.sensor_id]
            shape = math.sin(math.pi * phase / 60) if 0 <= phase < 60 else 0.0
            value = normal + (peak - normal) * shape + rng.gauss(0, abs(normal) * 0.01)
            batch.append(Reading("bench", config.sensor_id, at, round(value, 4), config.unit))
        yield batch


def bench_rules(sensors: list[tuple[SensorConfig, float, float]], seconds: int) -> None:
    engine = SensorRules((config for config, _, _ in sensors), now=T0)
    decisions: Counter[str] = Counter()
    observe_seconds = 0.0
    tick_seconds = 0.0
    readings = 0
    for batch in simulate(sensors, seconds):
        started = time.perf_counter()
        answers: list[list[Decision]] = [engine.observe(reading) for reading in batch]
        observe_seconds += time.perf_counter() - started
        started = time.perf_counter()
        offline = engine.tick(batch[0].at + dt.timedelta(milliseconds=500))
        tick_seconds += time.perf_counter() - started
        readings += len(batch)
        for answer in [*answers, offline]:
            decisions.update(type(decision).__name__ for decision in answer)
    print(f"rules: {len(sensors)} sensors × {seconds} s = {readings:,} readings")
    print(f"  observe: {readings / observe_seconds:,.0f} readings/s")
    print(f"  observe: {observe_seconds / readings * 1e6:.1f} µs per reading")
    print(f"  tick over all sensors: {tick_seconds / seconds * 1e3:.2f} ms per call")
    print(f"  decisions: {dict(sorted(decisions.items()))}")


async def bench_storage(
    sensors: list[tuple[SensorConfig, float, float]], seconds: int, folder: Path
) -> None:
    engine = create_engine(sqlite_url(folder / "store"))
    await migrate(engine)
    sessions = session_factory(engine)
    writer = TelemetryWriter(sessions)
    writer.start()
    stored = 0
    started = time.perf_counter()
    try:
        for batch in simulate(sensors, seconds):
            await asyncio.gather(*(writer.submit(reading) for reading in batch))
            stored += len(batch)
    finally:
        await writer.stop()
    elapsed = time.perf_counter() - started
    print(f"storage: {stored:,} readings through TelemetryWriter into SQLite (group commit)")
    print(f"  {stored / elapsed:,.0f} readings/s stored ({elapsed:.1f} s)")
    started = time.perf_counter()
    async with sessions.begin() as session:
        # Roll up through the end of the (partly filled) last bucket.
        until = timeseries.bucket_floor(T0 + dt.timedelta(seconds=seconds)) + timeseries.BUCKET
        result = await timeseries.rollup(session, until)
    print(
        f"  rollup of {stored:,} readings into {result.buckets_written:,} five-minute buckets: "
        f"{time.perf_counter() - started:.2f} s"
    )
    await engine.dispose()


async def bench_history(folder: Path) -> None:
    engine = create_engine(sqlite_url(folder / "history"))
    await migrate(engine)
    sessions = session_factory(engine)
    rng = random.Random(3)
    rows = [
        {
            "device": "bench",
            "sensor": "ch4-1203",
            "at": T0 + dt.timedelta(seconds=second),
            "value": 0.4 + 0.2 * math.sin(second / 3600) + rng.gauss(0, 0.01),
            "unit": "%",
        }
        for second in range(86_400)
    ]
    async with sessions.begin() as session:
        for offset in range(0, len(rows), 20_000):
            await session.execute(insert(ReadingRecord), rows[offset : offset + 20_000])
    end = T0 + dt.timedelta(days=1)
    started = time.perf_counter()
    async with sessions.begin() as session:
        await timeseries.rollup(session, end)
        buckets = await session.scalar(select(func.count()).select_from(ReadingRollup))
    print(
        f"history: 24 h of one sensor at 1 Hz ({len(rows):,} readings, "
        f"{buckets} buckets rolled up in {time.perf_counter() - started:.2f} s)"
    )
    async with sessions() as session:
        started = time.perf_counter()
        full = await timeseries.raw_readings(session, "ch4-1203", T0, end)
        full_time = time.perf_counter() - started
        started = time.perf_counter()
        raw = await timeseries.history(session, "ch4-1203", T0, end, 2000, source="raw")
        raw_time = time.perf_counter() - started
        started = time.perf_counter()
        rolled = await timeseries.history(session, "ch4-1203", T0, end, 2000, source="rollup")
        rolled_time = time.perf_counter() - started
    print(f"  full resolution: {len(full):,} points in {full_time * 1e3:.0f} ms")
    print(f"  downsampled from raw: {len(raw.points):,} points in {raw_time * 1e3:.0f} ms")
    print(
        f"  from five-minute rollups: {len(rolled.points):,} points in {rolled_time * 1e3:.0f} ms"
    )
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sensors", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=120, help="simulated seconds of rules")
    parser.add_argument(
        "--store-seconds", type=int, default=20, help="simulated seconds stored in SQLite"
    )
    args = parser.parse_args()
    sensors = make_sensors(args.sensors)
    bench_rules(sensors, args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        await bench_storage(sensors, args.store_seconds, Path(folder))
        await bench_history(Path(folder))


if __name__ == "__main__":
    asyncio.run(main())
