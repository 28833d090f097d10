"""Device observations entering the backend: storage, alarms, status, live telemetry."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from backend.ingest.service import IngestService
from backend.server.app import DutyDeskServer
from backend.storage.models import PositionRecord, ReadingRecord
from devices.jt808.messages import Register, RegisterResult
from devices.observations import DeviceAlarmRaised, DeviceStatusChanged, Position, Reading
from realtime.client import CommandError
from realtime.protocol import DevicesResult, ErrorCode, ListDevices, Subscribe, Subscribed
from realtime.states import AlarmLevel, AlarmState
from tests.backend.conftest import ingest_for, open_console

T0 = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
REGISTER = Register(
    province=32,
    city=100,
    maker="DDSIM",
    model="T1",
    terminal_id="T0001",
    plate_color=2,
    plate="苏A·D8821",
)


@pytest.fixture
async def ingest(server: DutyDeskServer) -> AsyncIterator[IngestService]:
    service = ingest_for(server, touch_interval=0.05)
    service.start()
    yield service
    await service.stop()


async def test_terminal_registration_follows_the_registry(server: DutyDeskServer) -> None:
    assert await server.registry.register("013912345678", REGISTER) == (
        RegisterResult.NO_SUCH_TERMINAL,
        "",
    )
    await server.registry.add("jt808", "013912345678", "液氨槽车", plate="苏A·D8821")
    result, code = await server.registry.register("13912345678", REGISTER)
    assert result is RegisterResult.SUCCESS
    assert len(code) == 16
    assert await server.registry.authenticate("013912345678", code)
    assert not await server.registry.authenticate("013912345678", "wrong")
    assert not await server.registry.authenticate("13900000000", code)

    server.registry.auto_register = True
    # Another terminal with the same plate is refused: that vehicle is registered.
    assert await server.registry.register("13700000000", REGISTER) == (
        RegisterResult.VEHICLE_ALREADY_REGISTERED,
        "",
    )
    result, _ = await server.registry.register(
        "13700000000", dataclasses.replace(REGISTER, plate="苏A·D8822")
    )
    assert result is RegisterResult.SUCCESS
    assert {d.identity for d in await server.registry.list()} == {"13912345678", "13700000000"}


async def test_positions_are_stored_and_coalesced_to_subscribed_consoles(
    server: DutyDeskServer, ingest: IngestService
) -> None:
    console = await open_console(server)
    try:
        subscribed = await console.client.request(Subscribe(req="", topics=["positions"]))
        assert isinstance(subscribed, Subscribed)
        # A terminal's burst arrives together (as from a gateway serving many trucks).
        await asyncio.gather(
            *(
                ingest.submit(
                    Position(
                        device="13912345678",
                        at=T0 + dt.timedelta(seconds=n),
                        lat=32.0 + n / 1000,
                        lon=118.8,
                        alarms=frozenset({"overspeed"}) if n == 4 else frozenset(),
                    )
                )
                for n in (3, 0, 4, 1, 2)
            )
        )
        # An old blind-area fix arriving late is stored but never shown as "now".
        await ingest.submit(
            Position(
                device="13912345678",
                at=T0 - dt.timedelta(hours=1),
                lat=31.0,
                lon=118.0,
                backfill=True,
            )
        )
        async with server.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(PositionRecord)) == 6
        await console.recorder.wait_for(lambda: bool(console.recorder.telemetry))
        positions = [p for batch in console.recorder.telemetry for p in batch.positions]
        assert len(positions) == 1, "five fixes within one tick are coalesced to the newest"
        assert positions[0].lat == pytest.approx(32.004)
        assert positions[0].alarms == ["overspeed"]
    finally:
        await console.close()


async def test_device_alarm_bits_become_alarms_once_per_open_condition(
    server: DutyDeskServer, ingest: IngestService
) -> None:
    await server.registry.add("jt808", "13912345678", "液氨槽车", plate="苏A·D8821")
    console = await open_console(server)
    try:
        raised = DeviceAlarmRaised(
            device="13912345678", key="emergency", at=T0, lat=32.1, lon=118.7
        )
        await ingest.submit(raised)
        await ingest.submit(raised)
        await console.recorder.wait_for(lambda: len(console.recorder.events) >= 2)
        first, repeat = console.recorder.events[:2]
        assert first.kind == "alarm.raised"
        assert repeat.kind == "alarm.repeated"
        assert first.alarm is not None
        assert repeat.alarm is not None
        assert first.alarm.id == repeat.alarm.id
        assert repeat.alarm.count == 2
        assert first.alarm.level is AlarmLevel.RED
        assert first.alarm.title == "紧急报警 苏A·D8821"
        assert first.alarm.state is AlarmState.NEW
        assert first.alarm.source_ref == "jt808:13912345678"

        await ingest.submit(DeviceAlarmRaised(device="13912345678", key="fatigue_driving", at=T0))
        await console.recorder.wait_for(lambda: len(console.recorder.events) >= 3)
        fatigue = console.recorder.events[2].alarm
        assert fatigue is not None
        assert fatigue.level is AlarmLevel.YELLOW
        assert fatigue.id != first.alarm.id
    finally:
        await console.close()


async def test_status_changes_are_logged_once_and_last_seen_is_kept(
    server: DutyDeskServer, ingest: IngestService
) -> None:
    await server.registry.add("jt808", "13912345678", "液氨槽车")
    console = await open_console(server)
    try:
        await ingest.submit(DeviceStatusChanged(device="13912345678", online=True, at=T0))
        await ingest.submit(DeviceStatusChanged(device="13912345678", online=True, at=T0))
        await ingest.submit(
            Position(device="13912345678", at=T0 + dt.timedelta(minutes=3), lat=32.0, lon=118.8)
        )
        await ingest.submit(
            DeviceStatusChanged(
                device="13912345678",
                online=False,
                at=T0 + dt.timedelta(minutes=9),
                reason="silent 300 s",
            )
        )
        await console.recorder.wait_for(lambda: len(console.recorder.events) >= 2)
        kinds = [e.kind for e in console.recorder.events]
        assert kinds == ["device.online", "device.offline"]
        offline = console.recorder.events[1]
        assert offline.note == "silent 300 s"
        assert offline.device is not None
        assert not offline.device.online

        devices = await console.client.request(ListDevices(req=""))
        assert isinstance(devices, DevicesResult)
        assert devices.devices[0].last_seen == T0 + dt.timedelta(minutes=9)
    finally:
        await console.close()


async def test_last_seen_is_written_in_bulk_and_never_moves_back(
    server: DutyDeskServer,
) -> None:
    registry = server.registry
    registry.auto_register = True
    phones = [f"1391234{n:04d}" for n in range(1_100)]  # three statements of at most 500
    await asyncio.gather(
        *(
            registry.register(phone, dataclasses.replace(REGISTER, plate=f"苏A·{phone[-5:]}"))
            for phone in phones
        )
    )
    await registry.add("json", phones[2], "same identity, another kind")
    later = T0 + dt.timedelta(minutes=5)
    await registry.touch("jt808", {phone: later for phone in phones} | {"13800000000": later})
    # An older time (a late backfill, another instance behind) must not win; a time in
    # another zone is the same instant.
    beijing = dt.timezone(dt.timedelta(hours=8))
    await registry.touch(
        "jt808",
        {
            phones[0]: T0,
            phones[1]: later + dt.timedelta(seconds=1),
            phones[-1]: (later + dt.timedelta(seconds=2)).astimezone(beijing),
        },
    )

    devices = await registry.list()
    seen = {device.identity: device.last_seen for device in devices if device.kind == "jt808"}
    assert "13800000000" not in seen  # unknown devices are not created by a touch
    assert seen[phones[0]] == later
    assert seen[phones[1]] == later + dt.timedelta(seconds=1)
    assert seen[phones[-1]] == later + dt.timedelta(seconds=2)
    assert all(seen[phone] == later for phone in phones[2:-1])
    other_kind = next(device for device in devices if device.kind == "json")
    assert other_kind.last_seen is None


async def test_readings_are_stored(server: DutyDeskServer, ingest: IngestService) -> None:
    for n in range(3):
        await ingest.submit(
            Reading(
                device="plc-1",
                sensor="ch4-1203",
                at=T0 + dt.timedelta(seconds=n),
                value=0.4 + n / 10,
                unit="%",
            )
        )
    async with server.sessions() as session:
        values = list(await session.scalars(select(ReadingRecord.value).order_by(ReadingRecord.at)))
    assert values == pytest.approx([0.4, 0.5, 0.6])


async def test_subscribe_refuses_unknown_topics(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        with pytest.raises(CommandError) as refused:
            await console.client.request(Subscribe(req="", topics=["positions", "gossip"]))
        assert refused.value.code is ErrorCode.VALIDATION
        assert "gossip" in refused.value.message
    finally:
        await console.close()


async def test_vehicle_rules_raise_one_alarm_per_overspeed_episode(server: DutyDeskServer) -> None:
    from backend.vehicles.rules import RulesConfig, VehicleRulesEngine

    rules = RulesConfig.from_dict(
        {
            "rules": [
                {
                    "type": "overspeed",
                    "id": "speed",
                    "level": "orange",
                    "limit_kmh": 80,
                    "min_duration_s": 20,
                    "clear_margin_kmh": 5,
                    "clear_duration_s": 10,
                }
            ]
        }
    )
    service = ingest_for(server, vehicle_rules=VehicleRulesEngine(rules))
    await server.registry.add("jt808", "13912345678", "液氨槽车", plate="苏A·D8821")
    console = await open_console(server)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    try:
        speeds = [70, 95, 96, 97, 98, 99, 70, 70, 70, 96, 97]
        for n, speed in enumerate(speeds):
            await service.submit(
                Position(
                    device="13912345678",
                    at=start + dt.timedelta(seconds=10 * n),
                    lat=32.0,
                    lon=118.8 + n / 1000,
                    speed_kmh=speed,
                )
            )
        # A duplicate, late fix at high speed must not start anything new.
        await service.submit(
            Position(
                device="13912345678",
                at=start + dt.timedelta(seconds=15),
                lat=32.0,
                lon=118.8,
                speed_kmh=130,
            )
        )
        await console.recorder.wait_for(lambda: len(console.recorder.events) >= 1)
        raised = [e for e in console.recorder.events if e.kind == "alarm.raised"]
        repeats = [e for e in console.recorder.events if e.kind == "alarm.repeated"]
        assert len(raised) == 1
        assert raised[0].alarm is not None
        assert raised[0].alarm.alarm_type == "vehicle_overspeed"
        assert "苏A·D8821" in raised[0].alarm.title
        # The second episode (after the clear) reports into the still-open alarm.
        assert len(repeats) == 0 or all(
            e.alarm and e.alarm.id == raised[0].alarm.id for e in repeats
        )
    finally:
        await console.close()
        await service.stop()


async def test_vehicles_falling_silent_go_offline_judged_in_slices(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.ingest import service as ingest_module
    from backend.vehicles.rules import OfflineRule, RulesConfig, VehicleRulesEngine

    monkeypatch.setattr(ingest_module, "TIMEOUT_SLICE", 2)  # five vehicles: three slices
    rules = RulesConfig(rules=(OfflineRule(rule_id="offline", timeout_s=0.3),))
    service = ingest_for(server, touch_interval=0.05, vehicle_rules=VehicleRulesEngine(rules))
    service.start()
    console = await open_console(server)
    fleet = [f"1391234000{n}" for n in range(5)]
    try:
        now = dt.datetime.now(dt.UTC)
        await service.submit_many(
            [Position(device=vehicle, at=now, lat=32.0, lon=118.8) for vehicle in fleet]
        )
        await console.recorder.wait_for(
            lambda: sum(e.kind == "alarm.raised" for e in console.recorder.events) >= len(fleet)
        )
        raised = [e for e in console.recorder.events if e.kind == "alarm.raised"]
        assert sorted(e.alarm.alarm_type for e in raised if e.alarm) == ["vehicle_offline"] * len(
            fleet
        )
        await asyncio.sleep(0.3)  # more timeout checks: each vehicle is offline once
        raised = [e for e in console.recorder.events if e.kind == "alarm.raised"]
        assert len(raised) == len(fleet)
    finally:
        await console.close()
        await service.stop()
