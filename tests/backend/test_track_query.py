"""Track replay queries: the right vehicle, the right range, in order, thinned on request."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert

from backend.server import DutyDeskServer
from backend.storage.models import PositionRecord
from realtime.client import CommandError
from realtime.protocol import ErrorCode, GetTrack, TrackResult
from tests.backend.conftest import open_console

T0 = dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)


async def _store_day(server: DutyDeskServer, device: str, seconds: int, step: int) -> None:
    rows = [
        {
            "device": device,
            "at": T0 + dt.timedelta(seconds=s),
            "lat": 32.0 + s / 1e5,
            "lon": 118.8,
            "speed_kmh": 85.0 if 600 <= s < 700 else 40.0,
            "heading_deg": 90.0,
            "altitude_m": 10.0,
            "alarms": "overspeed" if 600 <= s < 700 else "",
            "backfill": False,
        }
        for s in range(0, seconds, step)
    ]
    async with server.sessions.begin() as session:
        await session.execute(insert(PositionRecord), rows)


async def test_track_returns_one_vehicles_range_in_order(server: DutyDeskServer) -> None:
    await _store_day(server, "13900000001", 3600, 5)
    await _store_day(server, "13900000002", 3600, 7)
    console = await open_console(server)
    try:
        track = await console.client.request(
            GetTrack(
                req="",
                device="13900000001",
                start=T0 + dt.timedelta(minutes=10),
                end=T0 + dt.timedelta(minutes=20),
            )
        )
        assert isinstance(track, TrackResult)
        assert not track.truncated
        assert len(track.positions) == 120
        assert {p.device for p in track.positions} == {"13900000001"}
        times = [p.at for p in track.positions]
        assert times == sorted(times)
        assert times[0] == T0 + dt.timedelta(minutes=10)
        assert times[-1] < T0 + dt.timedelta(minutes=20)
        assert track.positions[0].alarms == ["overspeed"]

        thinned = await console.client.request(
            GetTrack(
                req="",
                device="13900000001",
                start=T0,
                end=T0 + dt.timedelta(hours=1),
                max_points=100,
            )
        )
        assert isinstance(thinned, TrackResult)
        assert thinned.truncated
        assert 50 <= len(thinned.positions) <= 100

        with pytest.raises(CommandError) as backwards:
            await console.client.request(
                GetTrack(req="", device="13900000001", start=T0, end=T0 - dt.timedelta(hours=1))
            )
        assert backwards.value.code is ErrorCode.VALIDATION
    finally:
        await console.close()
