"""Sensor time series on SQLite and PostgreSQL: rollups, retention, downsampled history."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.sensors import registry as sensor_registry
from backend.sensors import timeseries
from backend.sensors.rules import Placement, SensorConfig, SensorKind, default_rules
from backend.sensors.timeseries import Bucket, Point
from backend.storage.db import create_engine, migrate, session_factory
from backend.storage.models import ReadingRecord, ReadingRollup

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(db_url)
    await migrate(engine)
    yield session_factory(engine)
    await engine.dispose()


async def store(sessions: Sessions, rows: list[tuple[str, dt.datetime, float]]) -> None:
    async with sessions.begin() as session:
        await session.execute(
            insert(ReadingRecord),
            [
                {"device": "dev", "sensor": sensor, "at": at, "value": value, "unit": "%"}
                for sensor, at, value in rows
            ],
        )


async def stored_buckets(sessions: Sessions) -> dict[tuple[str, dt.datetime], Bucket]:
    async with sessions() as session:
        records = await session.scalars(select(ReadingRollup))
        return {
            (r.sensor, r.bucket_start): Bucket(r.bucket_start, r.min, r.max, r.mean, r.count)
            for r in records
        }


def reference_buckets(
    rows: list[tuple[str, dt.datetime, float]], before: dt.datetime
) -> dict[tuple[str, dt.datetime], Bucket]:
    """Five-minute statistics computed the obvious way, in Python."""
    groups: dict[tuple[str, dt.datetime], list[float]] = defaultdict(list)
    for sensor, at, value in rows:
        start = T0 + dt.timedelta(minutes=5 * ((at - T0) // dt.timedelta(minutes=5)))
        if start + dt.timedelta(minutes=5) <= before:
            groups[(sensor, start)].append(value)
    return {
        key: Bucket(key[1], min(values), max(values), sum(values) / len(values), len(values))
        for key, values in groups.items()
    }


def assert_same_buckets(
    got: dict[tuple[str, dt.datetime], Bucket], want: dict[tuple[str, dt.datetime], Bucket]
) -> None:
    assert got.keys() == want.keys()
    for key, bucket in want.items():
        other = got[key]
        assert (other.start, other.min, other.max, other.count) == (
            bucket.start,
            bucket.min,
            bucket.max,
            bucket.count,
        ), key
        assert other.mean == pytest.approx(bucket.mean, rel=1e-12), key


def random_rows(seed: int, minutes: int) -> list[tuple[str, dt.datetime, float]]:
    rng = random.Random(seed)
    rows: list[tuple[str, dt.datetime, float]] = []
    for sensor in ("ch4-a", "ch4-b", "co-c"):
        seconds = sorted(rng.sample(range(minutes * 60 * 10), 400))
        rows.extend(
            (sensor, T0 + dt.timedelta(milliseconds=100 * s), round(rng.uniform(0, 2), 4))
            for s in seconds
        )
    # Readings exactly on bucket boundaries belong to the bucket they start.
    rows.append(("ch4-a", T0 + dt.timedelta(minutes=5), 9.5))
    rows.append(("ch4-a", T0 + dt.timedelta(minutes=10) - dt.timedelta(microseconds=1), -1.0))
    return rows


async def test_rollup_matches_a_python_reference(sessions: Sessions) -> None:
    rows = random_rows(1, 47)
    await store(sessions, rows)
    until = T0 + dt.timedelta(minutes=40, seconds=17)
    async with sessions.begin() as session:
        result = await timeseries.rollup(session, until)
    assert result.rolled_up_until == T0 + dt.timedelta(minutes=40)
    want = reference_buckets(rows, T0 + dt.timedelta(minutes=40))
    assert result.buckets_written == len(want) == 3 * 8
    got = await stored_buckets(sessions)
    assert_same_buckets(got, want)
    assert got[("ch4-a", T0 + dt.timedelta(minutes=5))].max == 9.5
    assert got[("ch4-a", T0 + dt.timedelta(minutes=5))].min == -1.0


async def test_rollup_is_idempotent_and_catches_up(sessions: Sessions) -> None:
    rows = random_rows(2, 30)
    await store(sessions, rows)
    async with sessions.begin() as session:
        await timeseries.rollup(session, T0 + dt.timedelta(minutes=20))
    first = await stored_buckets(sessions)
    async with sessions.begin() as session:
        again = await timeseries.rollup(session, T0 + dt.timedelta(minutes=20, seconds=59))
        earlier = await timeseries.rollup(session, T0 + dt.timedelta(minutes=10))
    assert (again.buckets_written, earlier.buckets_written) == (0, 0)
    assert earlier.rolled_up_until == T0 + dt.timedelta(minutes=20)
    assert await stored_buckets(sessions) == first

    # A late reading in a rolled-up bucket is picked up only when recomputed.
    late = ("co-c", T0 + dt.timedelta(minutes=17), 50.0)
    await store(sessions, [late])
    async with sessions.begin() as session:
        await timeseries.rollup(session, T0 + dt.timedelta(minutes=25))
    assert (await stored_buckets(sessions))[("co-c", T0 + dt.timedelta(minutes=15))].max < 50
    async with sessions.begin() as session:
        await timeseries.rollup(
            session, T0 + dt.timedelta(minutes=30), recompute=dt.timedelta(minutes=10)
        )
    assert_same_buckets(
        await stored_buckets(sessions),
        reference_buckets([*rows, late], T0 + dt.timedelta(minutes=30)),
    )


async def test_rollup_of_an_empty_table_does_nothing(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        result = await timeseries.rollup(session, T0)
    assert result == timeseries.RollupResult(0, None)


async def test_retention_deletes_exactly_what_is_past_its_keeping_time(sessions: Sessions) -> None:
    now = T0 + dt.timedelta(days=400)
    raw_cut = now - dt.timedelta(days=7)
    ages = [dt.timedelta(days=d) for d in (399, 30, 8)] + [
        dt.timedelta(days=7, seconds=1),
        dt.timedelta(days=7),
        dt.timedelta(days=6, hours=23),
        dt.timedelta(hours=1),
    ]
    rows = [("ch4-a", now - age, float(i)) for i, age in enumerate(ages)]
    await store(sessions, rows)

    async with sessions.begin() as session:
        nothing = await timeseries.apply_retention(session, now)
    assert nothing.readings_deleted == 0, "raw readings are never deleted before rollup"

    async with sessions.begin() as session:
        await timeseries.rollup(session, now)
        result = await timeseries.apply_retention(session, now, raw_days=7, aggregate_days=366)
    assert result.readings_deleted == 4
    assert result.raw_kept_from == raw_cut
    assert result.buckets_deleted == 1  # the bucket 399 days old; 30 and 8 days stay
    async with sessions() as session:
        kept = sorted(await session.scalars(select(ReadingRecord.at)))
        bucket_starts = sorted(await session.scalars(select(ReadingRollup.bucket_start)))
    assert kept == sorted(at for _, at, _ in rows if at >= raw_cut)
    assert bucket_starts[0] == timeseries.bucket_floor(now - dt.timedelta(days=30))
    assert len(bucket_starts) == len(rows) - 1


async def test_retention_keeps_raw_readings_that_are_not_rolled_up(sessions: Sessions) -> None:
    now = T0 + dt.timedelta(days=30)
    rows = [("ch4-a", T0 + dt.timedelta(days=d), 1.0) for d in range(10)]
    await store(sessions, rows)
    async with sessions.begin() as session:
        await timeseries.rollup(session, T0 + dt.timedelta(days=3))
        result = await timeseries.apply_retention(session, now)
    assert result.readings_deleted == 3
    assert result.raw_kept_from == T0 + dt.timedelta(days=3)


async def test_recomputing_never_reaches_into_deleted_raw_readings(sessions: Sessions) -> None:
    rows = [("co-1", T0 + dt.timedelta(seconds=20 * s), float(s)) for s in range(180)]
    await store(sessions, rows)
    async with sessions.begin() as session:
        await timeseries.rollup(session, T0 + dt.timedelta(hours=1))
        # A tiny raw keeping time cuts into the middle of the 00:35 bucket.
        now = T0 + dt.timedelta(minutes=37, days=1)
        await timeseries.apply_retention(session, now, raw_days=1)
    before = await stored_buckets(sessions)
    async with sessions.begin() as session:
        await timeseries.rollup(
            session, T0 + dt.timedelta(hours=1), recompute=dt.timedelta(hours=1)
        )
    assert await stored_buckets(sessions) == before


async def test_retention_boundary_of_buckets(sessions: Sessions) -> None:
    now = T0 + dt.timedelta(days=400)
    cut = now - dt.timedelta(days=366)
    async with sessions.begin() as session:
        session.add_all(
            ReadingRollup(sensor="s", bucket_start=start, min=0, max=1, mean=0.5, count=2)
            for start in (cut - dt.timedelta(minutes=10), cut - dt.timedelta(minutes=5), cut)
        )
    async with sessions.begin() as session:
        result = await timeseries.apply_retention(session, now)
    # A bucket goes once it ends at or before the cut; the one ending after it stays.
    assert result.buckets_deleted == 2
    async with sessions() as session:
        assert list(await session.scalars(select(ReadingRollup.bucket_start))) == [cut]


def wave(seconds: int, seed: int = 3) -> list[Point]:
    rng = random.Random(seed)
    points = [
        Point(T0 + dt.timedelta(seconds=s), 0.4 + 0.1 * math.sin(s / 600) + rng.gauss(0, 0.01))
        for s in range(seconds)
    ]
    # Short spikes that a naive decimation would miss.
    points[12_345] = Point(points[12_345].at, 1.8)
    points[54_321] = Point(points[54_321].at, -0.2)
    return points


def test_downsampling_keeps_the_extremes_in_time_order() -> None:
    points = wave(86_400)
    end = T0 + dt.timedelta(days=1)
    for max_points in (2, 3, 100, 2000, 5001):
        thinned = timeseries.downsample(points, T0, end, max_points)
        assert len(thinned) <= max_points
        assert min(p.value for p in thinned) == -0.2
        assert max(p.value for p in thinned) == 1.8
        assert points[12_345] in thinned
        assert [p.at for p in thinned] == sorted(p.at for p in thinned)
        assert set(thinned) <= set(points)
    assert timeseries.downsample(points[:10], T0, end, 10) == points[:10]
    with pytest.raises(timeseries.Error):
        timeseries.downsample(points, T0, end, 1)


async def test_24_hours_at_1_hz_loads_raw_and_from_rollups(sessions: Sessions) -> None:
    points = wave(86_400)
    await store(sessions, [("ch4-1203", p.at, p.value) for p in points])
    await store(sessions, [("other", T0 + dt.timedelta(hours=5), 99.0)])
    end = T0 + dt.timedelta(days=1)
    async with sessions.begin() as session:
        await timeseries.rollup(session, end)
    async with sessions() as session:
        full = await timeseries.raw_readings(session, "ch4-1203", T0, end)
        auto = await timeseries.history(session, "ch4-1203", T0, end, 2000)
        from_rollups = await timeseries.history(session, "ch4-1203", T0, end, 2000, source="rollup")
        coarse = await timeseries.history(session, "ch4-1203", T0, end, 100, source="rollup")
        forced = await timeseries.history(
            session, "ch4-1203", T0, end, 2000, raw_point_limit=50_000
        )
    assert full == points
    assert auto.source == "raw"
    assert auto.downsampled
    assert forced.source == "rollup"
    assert from_rollups.source == "rollup"
    assert not from_rollups.downsampled  # 288 buckets × 2 points fit in 2000
    assert len(from_rollups.points) == 2 * 288
    for answer, max_points in ((auto, 2000), (from_rollups, 2000), (coarse, 100)):
        assert 0 < len(answer.points) <= max_points
        values = [p.value for p in answer.points]
        assert (min(values), max(values)) == (-0.2, 1.8)
        assert [p.at for p in answer.points] == sorted(p.at for p in answer.points)
    assert points[12_345] in auto.points
    spike_bucket = timeseries.bucket_floor(points[12_345].at)
    assert Point(spike_bucket, 1.8) in from_rollups.points


async def test_history_reads_rollups_where_raw_readings_are_gone(sessions: Sessions) -> None:
    rows = [("co-1", T0 + dt.timedelta(minutes=m), float(m % 7)) for m in range(0, 24 * 60)]
    await store(sessions, rows)
    now = T0 + dt.timedelta(days=8)
    async with sessions.begin() as session:
        await timeseries.rollup(session, T0 + dt.timedelta(days=1))
        await timeseries.apply_retention(session, now, raw_days=7.5)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReadingRecord)) == 720
        answer = await timeseries.history(session, "co-1", T0, T0 + dt.timedelta(days=1), 1000)
        recent = await timeseries.history(
            session, "co-1", T0 + dt.timedelta(hours=13), T0 + dt.timedelta(hours=14), 1000
        )
    assert answer.source == "rollup"
    expected = []
    for bucket in reference_buckets(rows, T0 + dt.timedelta(days=1)).values():
        expected += [Point(bucket.start, bucket.min), Point(bucket.start, bucket.max)]
    assert answer.points == sorted(expected)
    assert recent.source == "raw"
    assert len(recent.points) == 60


async def test_history_includes_the_tail_that_is_not_rolled_up(sessions: Sessions) -> None:
    rows = [("t-1", T0 + dt.timedelta(seconds=10 * s), float(s)) for s in range(360)]
    await store(sessions, rows)
    async with sessions.begin() as session:
        await timeseries.rollup(session, T0 + dt.timedelta(minutes=30))
    async with sessions() as session:
        answer = await timeseries.history(
            session, "t-1", T0, T0 + dt.timedelta(hours=1), 2000, source="rollup"
        )
    assert len(answer.points) == 2 * 12
    assert answer.points[-1] == Point(T0 + dt.timedelta(minutes=55), 359.0)


async def test_history_refuses_impossible_questions(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(timeseries.Error):
            await timeseries.history(session, "s", T0, T0 + dt.timedelta(hours=1), 1)
        with pytest.raises(timeseries.Error):
            await timeseries.history(session, "s", T0, T0, 100)
        empty = await timeseries.history(session, "s", T0, T0 + dt.timedelta(hours=1), 100)
    assert empty.points == []


async def test_sensors_are_stored_with_their_rules(sessions: Sessions) -> None:
    config = SensorConfig(
        sensor_id="ch4-1203",
        kind=SensorKind.CH4,
        unit="%",
        rules=default_rules(SensorKind.CH4, Placement.HEADING_FACE),
        poll_cycle_seconds=15,
        placement=Placement.HEADING_FACE,
        place="1203 掘进工作面",
        lat=37.1,
        lon=112.5,
        hazard_source="某某煤矿",
        enterprise="某某煤业有限公司",
    )
    async with sessions.begin() as session:
        await sensor_registry.save_sensor(session, config, now=T0, site_kind="coal_mine")
        await sensor_registry.save_sensor(session, config, now=T0)  # an update, not a second row
    await store(sessions, [("ch4-1203", T0, 0.2), ("ch4-1203", T0 + dt.timedelta(seconds=15), 0.3)])
    async with sessions() as session:
        assert await sensor_registry.load_sensors(session) == [config]
        latest = await timeseries.latest_reading_views(session)
    assert [(view.sensor, view.at, view.value) for view in latest] == [
        ("ch4-1203", T0 + dt.timedelta(seconds=15), 0.3)
    ]


async def test_maintenance_rolls_up_behind_the_clock(sessions: Sessions) -> None:
    rows = [("p-1", T0 + dt.timedelta(seconds=30 * s), float(s)) for s in range(40)]
    await store(sessions, rows)
    maintenance = timeseries.TimeSeriesMaintenance(sessions, grace=dt.timedelta(minutes=1))
    await maintenance.run_once(T0 + dt.timedelta(minutes=16))
    got = await stored_buckets(sessions)
    assert_same_buckets(got, reference_buckets(rows, T0 + dt.timedelta(minutes=15)))
