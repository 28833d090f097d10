"""Track replay queries: the right vehicle, the right range, in order, thinned on request."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert

from backend.server.app import DutyDeskServer
from backend.storage.models import PositionRecord
from realtime.client import CommandError
from realtime.protocol import (
    TRACK_COORDINATE_SCALE,
    ErrorCode,
    GetTrack,
    PositionView,
    Role,
    TrackColumns,
    TrackForm,
    TrackResult,
)
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


async def test_track_columns_round_trip_matches_the_rows_form(server: DutyDeskServer) -> None:
    await _store_day(server, "13900000001", 3600, 5)
    await _store_day(server, "13900000002", 3600, 7)
    console = await open_console(server)
    try:
        start, end = T0 + dt.timedelta(minutes=5), T0 + dt.timedelta(minutes=15)
        columns = await console.client.request(
            GetTrack(req="", device="13900000001", start=start, end=end, form=TrackForm.COLUMNS)
        )
        rows = await console.client.request(
            GetTrack(req="", device="13900000001", start=start, end=end)
        )
        assert isinstance(columns, TrackColumns)
        assert isinstance(rows, TrackResult)
        assert columns.device == "13900000001"
        assert columns.t0 == start
        assert not columns.truncated
        assert columns.total == len(columns.t_ms) == 120
        assert columns.t_ms[:2] == [0, 5000]
        # 600 ≤ s < 700 is overspeed: fixes 60–79 of the range (from s = 300).
        assert [entry.index for entry in columns.alarms] == list(range(60, 80))
        assert columns.alarms[0].alarms == ["overspeed"]
        scale = TRACK_COORDINATE_SCALE
        alarms = {entry.index: entry.alarms for entry in columns.alarms}
        columns_as_rows = zip(
            columns.t_ms,
            columns.lat_e7,
            columns.lon_e7,
            columns.speed_kmh,
            columns.heading_deg,
            strict=True,
        )
        rebuilt = [
            PositionView(
                device=columns.device,
                at=columns.t0 + dt.timedelta(milliseconds=t),
                lat=lat / scale,
                lon=lon / scale,
                speed_kmh=speed,
                heading_deg=heading,
                alarms=alarms.get(index, []),
            )
            for index, (t, lat, lon, speed, heading) in enumerate(columns_as_rows)
        ]
        assert rebuilt == rows.positions
        # The stored floats come back exactly (they have no more than 7 decimals).
        assert rows.positions[1].lat == 32.0 + 305 / 1e5
    finally:
        await console.close()


async def test_track_columns_of_an_empty_range(server: DutyDeskServer) -> None:
    await _store_day(server, "13900000001", 600, 5)
    console = await open_console(server)
    try:
        start = T0 + dt.timedelta(days=2, microseconds=1500)
        columns = await console.client.request(
            GetTrack(
                req="",
                device="13900000001",
                start=start,
                end=start + dt.timedelta(hours=1),
                form=TrackForm.COLUMNS,
            )
        )
        assert isinstance(columns, TrackColumns)
        assert columns.t0 == T0 + dt.timedelta(days=2, milliseconds=1), "cut to the millisecond"
        assert columns.t_ms == columns.lat_e7 == columns.lon_e7 == []
        assert columns.speed_kmh == columns.heading_deg == []
        assert columns.alarms == []
        assert columns.total == 0
        assert not columns.truncated
        unknown = await console.client.request(
            GetTrack(req="", device="no-such-vehicle", start=T0, end=T0 + dt.timedelta(hours=1))
        )
        assert isinstance(unknown, TrackResult)
        assert unknown.positions == []
    finally:
        await console.close()


async def test_track_range_limits_and_thinning(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _store_day(server, "13900000001", 3600, 5)  # 720 fixes
    console = await open_console(server)
    try:
        thinned = await console.client.request(
            GetTrack(
                req="",
                device="13900000001",
                start=T0,
                end=T0 + dt.timedelta(days=31),
                max_points=100,
                form=TrackForm.COLUMNS,
            )
        )
        assert isinstance(thinned, TrackColumns)
        assert thinned.truncated
        assert thinned.total == 720
        assert thinned.t_ms[:3] == [0, 40_000, 80_000], "every 8th fix, from the first"
        assert len(thinned.t_ms) == 90

        # A rows answer is kept small enough for one message whatever max_points says.
        monkeypatch.setattr("backend.server.handlers.MAX_TRACK_ROWS", 50)
        rows = await console.client.request(
            GetTrack(req="", device="13900000001", start=T0, end=T0 + dt.timedelta(hours=1))
        )
        assert isinstance(rows, TrackResult)
        assert rows.truncated
        assert 25 <= len(rows.positions) <= 50

        too_long = GetTrack(
            req="",
            device="13900000001",
            start=T0,
            end=T0 + dt.timedelta(days=31, seconds=1),
            form=TrackForm.COLUMNS,
        )
        with pytest.raises(CommandError) as refused:
            await console.client.request(too_long)
        assert refused.value.code is ErrorCode.VALIDATION
        assert "31 days" in refused.value.message

        empty = GetTrack(req="", device="13900000001", start=T0, end=T0, form=TrackForm.COLUMNS)
        with pytest.raises(CommandError) as refused:
            await console.client.request(empty)
        assert refused.value.code is ErrorCode.VALIDATION

        too_few = GetTrack(
            req="",
            device="13900000001",
            start=T0,
            end=T0 + dt.timedelta(hours=1),
            max_points=1,
        )
        with pytest.raises(CommandError) as refused:
            await console.client.request(too_few)
        assert refused.value.code is ErrorCode.BAD_MESSAGE
    finally:
        await console.close()


async def test_track_refused_outside_the_command_centre(server: DutyDeskServer) -> None:
    await _store_day(server, "13900000001", 600, 5)
    await server.users.add_user(
        "fire1", "pw-fire1", Role.AGENCY, agency="fire", jurisdiction="3201"
    )
    console = await open_console(server, "fire1", "pw-fire1")
    try:
        for form in TrackForm:
            with pytest.raises(CommandError) as refused:
                await console.client.request(
                    GetTrack(
                        req="",
                        device="13900000001",
                        start=T0,
                        end=T0 + dt.timedelta(hours=1),
                        form=form,
                    )
                )
            assert refused.value.code is ErrorCode.FORBIDDEN
    finally:
        await console.close()
