"""Track replay load time: one vehicle's day at 1 Hz among many vehicles.

Stores 24 h of 1 Hz fixes for the vehicle under test and for ``--others`` more vehicles,
interleaved second by second as a live server stores them (SQLite by default, or a fresh
PostgreSQL database with ``--pg``; the same tables and ``(device, at)`` index the server
uses). Then it times, best of ``--runs``:

- the console's ``vehicle.track`` request end to end over a real WebSocket, in the
  compact ``columns`` form the desktop asks for and in the original ``rows`` form (one
  PositionView per fix), each followed by the console's own work: decoding into the
  numpy :class:`~desktop.vehicles.track.TrackData` the replay panel uses, and its
  analysis (distance, stops, overspeed);
- each stage on its own: the server's query (count + Core select), the msgspec encoding
  of the answer, the client's decoding, the console's conversion and analysis; what is
  left of the request is the WebSocket transfer and the server's framing;
- the raw ceiling: the same rows read with the bare driver (``sqlite3`` or ``asyncpg``).

It prints the figures, the ratio of each to the raw read, and the query plan.

    .venv/bin/python bench/track_load.py [--others 20] [--runs 3] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import math
import sqlite3
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.server.testing import fresh_postgres_database
from backend.storage.models import PositionRecord
from backend.vehicles import track_query
from desktop.vehicles.track import TrackData, analyse_track
from realtime.client import DutyDeskClient
from realtime.protocol import (
    MAX_SERVER_MESSAGE_BYTES,
    Event,
    GetTrack,
    Result,
    Role,
    Snapshot,
    TrackColumns,
    TrackForm,
    TrackResult,
    Welcome,
    decode_server,
    encode,
)

DAY = 86_400
T0 = dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)
DEVICE = "13900000000"
CHUNK_SECONDS = 600
"""Seconds of all vehicles' fixes inserted per transaction."""

T = TypeVar("T")


class QuietListener:
    """A console listener that ignores everything (benches add what they measure)."""

    def on_state(self, state: object, detail: str) -> None:
        pass

    def on_welcome(self, welcome: Welcome) -> None:
        pass

    def on_snapshot(self, snapshot: Snapshot) -> None:
        pass

    def on_event(self, event: Event) -> None:
        pass


def _fix(vehicle: int, second: int) -> dict[str, Any]:
    # Drives at 20–80 km/h, stands still for the first half hour of every second hour
    # (stops), and a few overspeed alarms: the analysis has something to find.
    standing = (second // 1800) % 4 == 0
    speed = 0.0 if standing else 50.0 + 30.0 * math.sin(second / 300.0)
    return {
        "device": f"1390000{vehicle:04d}",
        "at": T0 + dt.timedelta(seconds=second),
        "lat": round(32.0 + second / 1e6, 6),
        "lon": round(118.8 + vehicle / 100, 6),
        "speed_kmh": round(speed, 1),
        "heading_deg": 90.0,
        "altitude_m": 10.0,
        "alarms": "overspeed" if speed > 79.0 else "",
        "backfill": False,
    }


async def _store(server: DutyDeskServer, vehicles: int) -> None:
    for chunk in range(0, DAY, CHUNK_SECONDS):
        rows = [
            _fix(vehicle, second)
            for second in range(chunk, chunk + CHUNK_SECONDS)
            for vehicle in range(vehicles)
        ]
        async with server.sessions.begin() as session:
            await session.execute(insert(PositionRecord), rows)


async def _best(runs: int, action: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    timings = []
    result: T | None = None
    for _ in range(runs):
        begin = time.perf_counter()
        result = await action()
        timings.append(time.perf_counter() - begin)
    assert result is not None
    return min(timings), result


def _best_sync(runs: int, action: Callable[[], T]) -> tuple[float, T]:
    timings = []
    result: T | None = None
    for _ in range(runs):
        begin = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - begin)
    assert result is not None
    return min(timings), result


@contextlib.asynccontextmanager
async def bench_database(pg_admin: str | None, tmp: Path) -> AsyncIterator[str]:
    """A fresh SQLite file in ``tmp``, or a fresh PostgreSQL database (dropped after)."""
    if pg_admin is None:
        yield f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        return
    async with fresh_postgres_database(pg_admin, prefix="dutydesk_bench") as url:
        yield url


async def _raw_read(db_url: str, runs: int) -> tuple[float, str]:
    """The ceiling: the same rows with the bare driver, and the query plan."""
    end = T0 + dt.timedelta(days=1)
    columns = "at, lat, lon, speed_kmh, heading_deg, alarms"
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database))
        query = (
            f"SELECT {columns} FROM positions WHERE device = ? AND at >= ? AND at < ? ORDER BY at"
        )
        params = (DEVICE, "2026-11-28 00:00:00.000000", "2026-11-29 00:00:00.000000")

        async def read_sqlite() -> int:
            return len(connection.execute(query, params).fetchall())

        seconds, count = await _best(runs, read_sqlite)
        plan = connection.execute("EXPLAIN QUERY PLAN " + query, params).fetchall()[-1][-1]
        connection.close()
    else:
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        pg = await asyncpg.connect(dsn)
        query = (
            f"SELECT {columns} FROM positions "
            "WHERE device = $1 AND at >= $2 AND at < $3 ORDER BY at"
        )
        await pg.execute("ANALYZE positions")

        async def read_pg() -> int:
            return len(await pg.fetch(query, DEVICE, T0, end))

        seconds, count = await _best(runs, read_pg)
        explained = await pg.fetch("EXPLAIN " + query, DEVICE, T0, end)
        plan = " / ".join(row[0].strip() for row in explained)
        await pg.close()
    assert count == DAY, count
    return seconds, plan


def _console_side(result: TrackColumns | TrackResult) -> TrackData:
    """What the replay panel does with an answer before drawing it."""
    if isinstance(result, TrackColumns):
        track = TrackData.from_columns(result)
    else:
        track = TrackData.from_positions(result.positions, device=result.device)
    analyse_track(track)
    return track


async def main(others: int, runs: int, pg_admin: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with bench_database(pg_admin, Path(tmp)) as db_url:
            await _run(db_url, Path(tmp), others, runs)


async def _run(db_url: str, tmp: Path, others: int, runs: int) -> None:
    server = DutyDeskServer(
        ServerConfig(db_url=db_url, data_dir=tmp, port=0, cipher=FieldCipher.generate())
    )
    await server.start()
    await server.users.add_user("bench", "bench-password", Role.OFFICER)
    started = time.perf_counter()
    await _store(server, others + 1)
    print(
        f"database: {server.database_kind}; stored {(others + 1) * DAY:,} fixes "
        f"({others + 1} vehicles, interleaved) in {time.perf_counter() - started:.1f} s"
    )
    end = T0 + dt.timedelta(days=1)

    async def query() -> track_query.StoredTrack:
        async with server.sessions() as session:
            return await track_query.load_track(session, DEVICE, T0, end, 100_000)

    query_s, stored = await _best(runs, query)
    assert len(stored.t_ms) == DAY
    answers = {
        TrackForm.COLUMNS: Result(req="bench-1", data=stored.columns()),
        TrackForm.ROWS: Result(req="bench-1", data=stored.rows()),
    }
    stage: dict[TrackForm, dict[str, float]] = {}
    sizes: dict[TrackForm, int] = {}
    for form, answer in answers.items():
        encode_s, encoded = _best_sync(runs, functools.partial(encode, answer))
        sizes[form] = len(encoded)
        decode_s, decoded = _best_sync(runs, functools.partial(decode_server, encoded))
        assert isinstance(decoded, Result)
        data = decoded.data
        assert isinstance(data, TrackColumns | TrackResult)
        console_s, _track = _best_sync(runs, functools.partial(_console_side, data))
        stage[form] = {"encode": encode_s, "decode": decode_s, "console": console_s}

    client = DutyDeskClient(
        f"ws://127.0.0.1:{server.port}/console",
        QuietListener(),
        username="bench",
        password="bench-password",
    )
    runner = asyncio.create_task(client.run())
    await client.wait_live(10)
    totals: dict[TrackForm, list[float]] = {}
    for form in (TrackForm.COLUMNS, TrackForm.ROWS):
        totals[form] = []
        for _ in range(runs):
            begin = time.perf_counter()
            result = await client.request(
                GetTrack(req="", device=DEVICE, start=T0, end=end, form=form), timeout=120
            )
            request_s = time.perf_counter() - begin
            assert isinstance(result, TrackColumns | TrackResult)
            track = _console_side(result)
            assert len(track) == DAY
            totals[form].append(request_s)
            stage[form]["request"] = min(stage[form].get("request", math.inf), request_s)
            stage[form]["total"] = min(
                stage[form].get("total", math.inf), time.perf_counter() - begin
            )
    await client.close()
    await runner
    await server.close()
    raw_s, plan = await _raw_read(db_url, runs)

    def line(label: str, seconds: float, note: str = "") -> None:
        print(f"  {label:<44} {seconds * 1e3:7.0f} ms  {seconds / raw_s:5.1f}× raw  {note}")

    print(f"day track of one vehicle, {DAY:,} fixes; best of {runs} runs")
    print(f"raw {server.database_kind} driver read of the same rows: {raw_s * 1e3:.0f} ms")
    print(f"query plan: {plan}")
    line("server query (count + Core select)", query_s)
    for form in (TrackForm.COLUMNS, TrackForm.ROWS):
        figures = stage[form]
        transfer = figures["request"] - query_s - figures["encode"] - figures["decode"]
        print(
            f"form {form.value!r}: answer {sizes[form] / 2**20:.1f} MiB "
            f"(clients accept up to {MAX_SERVER_MESSAGE_BYTES / 2**20:.0f} MiB)"
        )
        line("  server encode (msgspec)", figures["encode"])
        line("  client decode (msgspec)", figures["decode"])
        line("  WebSocket transfer and framing (the rest)", max(transfer, 0.0))
        line("  request end to end", figures["request"], f"runs {_runs(totals[form])}")
        line("  console: to TrackData + analysis", figures["console"])
        line("  TOTAL: request + console", figures["total"])


def _runs(values: list[float]) -> str:
    return ", ".join(f"{value * 1e3:.0f}" for value in values) + (
        f" (median {statistics.median(values) * 1e3:.0f})" if len(values) > 1 else ""
    )


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--others", type=int, default=20, help="other vehicles' days stored")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (best kept)")
    parser.add_argument(
        "--pg",
        metavar="URL",
        help="PostgreSQL admin URL (e.g. $DUTYDESK_TEST_PG): bench a fresh database there",
    )
    args = parser.parse_args()
    asyncio.run(main(args.others, args.runs, args.pg))


if __name__ == "__main__":
    run()
