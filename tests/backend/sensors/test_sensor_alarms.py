"""Sensor readings through the device feed: thresholds become alarms in the one life cycle."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from backend.registry.files import load_sensors_csv
from backend.server.app import DutyDeskServer
from realtime.client import basic_auth_header
from realtime.states import AlarmLevel, AlarmState
from tests.backend.conftest import device_url, open_console


async def _send(
    ws: ClientConnection, ref: str, sensor: str, value: float, unit: str, at: dt.datetime
) -> dict[str, Any]:
    await ws.send(
        json.dumps(
            {
                "type": "device.reading",
                "ref": ref,
                "sensor": sensor,
                "value": value,
                "unit": unit,
                "at": at.isoformat(),
            }
        )
    )
    answer = json.loads(await ws.recv())
    assert isinstance(answer, dict)
    return answer


async def test_methane_at_the_face_raises_escalates_and_restores(server: DutyDeskServer) -> None:
    ch4 = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    await server.sensors.add_sensors([ch4])
    console = await open_console(server)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    try:
        async with connect(
            device_url(server),
            additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
        ) as ws:
            for n, value in enumerate([0.4, 1.2, 1.6, 1.3, 0.8]):
                answer = await _send(
                    ws, f"r{n}", "ch4-0001", value, "%", start + dt.timedelta(seconds=5 * n)
                )
                assert answer["type"] == "ack", answer
            wrong = await _send(
                ws, "bad", "ch4-0001", 5000, "ppm", start + dt.timedelta(seconds=26)
            )
            assert wrong["type"] == "error"
            assert wrong["code"] == "validation"
            assert "ppm" in wrong["message"]
            duplicate = await _send(
                ws, "dup", "ch4-0001", 0.8, "%", start + dt.timedelta(seconds=20)
            )
            assert duplicate["type"] == "ack", (
                "a repeated reading is acknowledged, not stored twice"
            )

        await console.recorder.wait_for(
            lambda: any(e.kind == "alarm.restored" for e in console.recorder.events)
        )
        kinds = [e.kind for e in console.recorder.events]
        assert kinds == ["alarm.raised", "alarm.level_changed", "alarm.restored"]
        raised, escalated, restored = console.recorder.events
        assert raised.alarm is not None
        assert escalated.alarm is not None
        assert restored.alarm is not None
        assert raised.alarm.level is AlarmLevel.ORANGE, "1.0 % at a mining face: alarm (报警)"
        assert raised.alarm.alarm_type == "sensor_threshold_high"
        assert "东山煤矿" in raised.alarm.title
        assert escalated.alarm.level is AlarmLevel.RED, "1.5 %: power cut (断电)"
        assert escalated.alarm.id == raised.alarm.id
        assert restored.alarm.id == raised.alarm.id
        assert restored.alarm.state is AlarmState.NEW, (
            "restoring does not close: 消警 is the officer's"
        )
        assert "0.8" in restored.alarm.last_note
    finally:
        await console.close()


async def test_a_silent_sensor_raises_one_offline_alarm(server: DutyDeskServer) -> None:
    base = next(s for s in load_sensors_csv() if s.sensor_id == "co-0002")
    fast = dataclasses.replace(base, sensor_id="co-fast", poll_cycle_seconds=0.2)
    await server.sensors.add_sensors([fast])
    console = await open_console(server)
    try:
        async with connect(
            device_url(server),
            additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
        ) as ws:
            assert (await _send(ws, "c1", "co-fast", 3.0, "ppm", dt.datetime.now(dt.UTC)))[
                "type"
            ] == "ack"
        await console.recorder.wait_for(
            lambda: any(e.kind == "alarm.raised" for e in console.recorder.events), timeout=10
        )
        offline = [e for e in console.recorder.events if e.kind == "alarm.raised"]
        assert len(offline) == 1
        assert offline[0].alarm is not None
        assert offline[0].alarm.alarm_type == "sensor_offline"
        import asyncio

        await asyncio.sleep(1.5)
        assert [e.kind for e in console.recorder.events].count("alarm.raised") == 1, "raised once"
    finally:
        await console.close()


async def test_console_reads_sensors_and_a_peak_preserving_series(server: DutyDeskServer) -> None:
    from sqlalchemy import insert

    from backend.storage.models import ReadingRecord
    from realtime.protocol import GetSeries, ListSensors, SensorsResult, SeriesResult

    ch4 = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    await server.sensors.add_sensors([ch4])
    t0 = dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)
    rows = [
        {
            "device": "plc",
            "sensor": "ch4-0001",
            "at": t0 + dt.timedelta(seconds=s),
            "value": 2.7 if s == 5000 else 0.3 + (s % 60) / 1000,
            "unit": "%",
        }
        for s in range(0, 7200)
    ]
    async with server.sessions.begin() as session:
        await session.execute(insert(ReadingRecord), rows)
    console = await open_console(server)
    try:
        sensors = await console.client.request(ListSensors(req=""))
        assert isinstance(sensors, SensorsResult)
        view = next(s for s in sensors.sensors if s.sensor_id == "ch4-0001")
        assert [(t.level, t.value) for t in view.thresholds] == [
            (AlarmLevel.ORANGE, 1.0),
            (AlarmLevel.RED, 1.5),
        ]
        series = await console.client.request(
            GetSeries(
                req="", sensor="ch4-0001", start=t0, end=t0 + dt.timedelta(hours=2), max_points=200
            )
        )
        assert isinstance(series, SeriesResult)
        assert series.downsampled
        assert len(series.points) <= 200
        assert max(p.value for p in series.points) == 2.7, "the spike survives downsampling"
        assert series.unit == "%"
    finally:
        await console.close()


async def test_an_alarm_lost_to_a_crash_after_its_reading_was_stored_is_raised_at_start(
    server: DutyDeskServer,
) -> None:
    # kill -9 between the reading's commit and its alarm's: the reading is stored, the
    # alarm is not, and the device's resend would be taken for a duplicate.
    from backend.storage.models import ReadingRecord

    ch4 = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    await server.sensors.add_sensors([ch4])
    stored_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    async with server.sessions.begin() as session:
        session.add(
            ReadingRecord(device="device1", sensor="ch4-0001", at=stored_at, value=1.6, unit="%")
        )
    restarted = DutyDeskServer(dataclasses.replace(server.config))
    await restarted.start()
    try:
        console = await open_console(restarted)
        alarms = console.recorder.snapshots[-1].alarms
        [alarm] = [a for a in alarms if a.alarm_type == "sensor_threshold_high"]
        assert alarm.level is AlarmLevel.RED, "1.6 % at a mining face: power cut (断电)"
        assert alarm.state is AlarmState.NEW
        async with connect(
            device_url(restarted),
            additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
        ) as ws:
            resent = await _send(ws, "again", "ch4-0001", 1.6, "%", stored_at)
            assert resent["type"] == "ack", resent
            later = await _send(
                ws, "later", "ch4-0001", 1.7, "%", stored_at + dt.timedelta(seconds=1)
            )
            assert later["type"] == "ack", later
        await console.close()
        console = await open_console(restarted)
        alarms = [
            a
            for a in console.recorder.snapshots[-1].alarms
            if a.alarm_type == "sensor_threshold_high"
        ]
        assert [a.id for a in alarms] == [alarm.id], "one alarm, not raised again"
        await console.close()
    finally:
        await restarted.close()


async def test_a_crossing_after_a_restart_counts_when_the_open_alarm_had_restored(
    server: DutyDeskServer,
) -> None:
    ch4 = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    await server.sensors.add_sensors([ch4])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60)
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        assert (await _send(ws, "a", "ch4-0001", 1.6, "%", start))["type"] == "ack"
        assert (await _send(ws, "b", "ch4-0001", 0.3, "%", start + dt.timedelta(seconds=5)))[
            "type"
        ] == "ack"
    restarted = DutyDeskServer(dataclasses.replace(server.config))
    await restarted.start()
    try:
        console = await open_console(restarted)
        async with connect(
            device_url(restarted),
            additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
        ) as ws:
            crossing = await _send(ws, "c", "ch4-0001", 1.7, "%", start + dt.timedelta(seconds=10))
            assert crossing["type"] == "ack", crossing
        await console.recorder.wait_for(
            lambda: any(
                e.kind in ("alarm.raised", "alarm.repeated") for e in console.recorder.events
            )
        )
        news = [e for e in console.recorder.events if e.alarm is not None]
        assert news[-1].alarm is not None
        assert news[-1].alarm.level is AlarmLevel.RED
        await console.close()
    finally:
        await restarted.close()
