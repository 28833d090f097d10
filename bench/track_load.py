"""Track replay load time: one vehicle's day at 1 Hz among many vehicles.

Stores 24 h of 1 Hz fixes for the vehicle under test and for ``--others`` more vehicles
(SQLite, the same tables and (device, at) index the server uses), then times the console's
``vehicle.track`` request end to end over a real WebSocket, and the raw ceiling: the same
rows read with the ``sqlite3`` module directly.

    .venv/bin/python bench/track_load.py [--others 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from backend.security import FieldCipher
from backend.server import DutyDeskServer, ServerConfig
from backend.storage.models import PositionRecord
from realtime.client import DutyDeskClient
from realtime.protocol import Event, GetTrack, Role, Snapshot, TrackResult, Welcome

DAY = 86_400
T0 = dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)


class _Quiet:
    def on_state(self, state: object, detail: str) -> None:
        pass

    def on_welcome(self, welcome: Welcome) -> None:
        pass

    def on_snapshot(self, snapshot: Snapshot) -> None:
        pass

    def on_event(self, event: Event) -> None:
        pass


async def main(others: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        server = DutyDeskServer(
            ServerConfig(
                db_url=f"sqlite+aiosqlite:///{db_path}",
                data_dir=Path(tmp),
                port=0,
                cipher=FieldCipher.generate(),
            )
        )
        await server.start()
        await server.users.add_user("bench", "bench-password", Role.OFFICER)
        started = time.perf_counter()
        for vehicle in range(others + 1):
            rows = [
                {
                    "device": f"1390000{vehicle:04d}",
                    "at": T0 + dt.timedelta(seconds=s),
                    "lat": 32.0 + s / 1e6,
                    "lon": 118.8,
                    "speed_kmh": 50.0,
                    "heading_deg": 90.0,
                    "altitude_m": 10.0,
                    "alarms": "",
                    "backfill": False,
                }
                for s in range(DAY)
            ]
            async with server.sessions.begin() as session:
                await session.execute(insert(PositionRecord), rows)
        print(f"stored {(others + 1) * DAY:,} fixes in {time.perf_counter() - started:.1f} s")

        client = DutyDeskClient(
            f"ws://127.0.0.1:{server.port}/console",
            _Quiet(),
            username="bench",
            password="bench-password",
        )
        runner = asyncio.create_task(client.run())
        await client.wait_live(10)
        timings = []
        for _ in range(3):
            begin = time.perf_counter()
            track = await client.request(
                GetTrack(req="", device="13900000000", start=T0, end=T0 + dt.timedelta(days=1)),
                timeout=120,
            )
            timings.append(time.perf_counter() - begin)
            assert isinstance(track, TrackResult)
            assert len(track.positions) == DAY
        await client.close()
        await runner
        await server.close()

        connection = sqlite3.connect(db_path)
        begin = time.perf_counter()
        raw = connection.execute(
            "SELECT at, lat, lon, speed_kmh, heading_deg, alarms FROM positions "
            "WHERE device = ? AND at >= ? AND at < ? ORDER BY at",
            ("13900000000", "2026-11-28 00:00:00", "2026-11-29 00:00:00"),
        ).fetchall()
        ceiling = time.perf_counter() - begin
        plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM positions WHERE device = ? AND at >= ? ORDER BY at",
            ("x", "y"),
        ).fetchall()
        connection.close()
        assert len(raw) == DAY
    best = min(timings)
    print(
        f"day track, 86,400 fixes, console request   best {best:.2f} s  (runs: "
        + ", ".join(f"{t:.2f}" for t in timings)
        + ")"
    )
    print(f"raw sqlite3 read of the same rows          {ceiling:.2f} s")
    print(f"ratio request/raw                          {best / ceiling:.1f}")
    print(f"query plan: {plan[-1][-1]}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--others", type=int, default=20, help="other vehicles' days stored")
    args = parser.parse_args()
    asyncio.run(main(args.others))


if __name__ == "__main__":
    run()
