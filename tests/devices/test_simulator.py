"""Simulated trucks: route interpolation, driving behaviour, and runs against a gateway."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from devices.jt808 import GeneralResult, ProtocolVersion
from devices.jt808.gateway import Jt808Gateway, StaticTerminalRegistry
from devices.jt808.routes import Route, Window
from devices.jt808.simulator import (
    EMERGENCY_BIT,
    OVERSPEED_BIT,
    SimulatedTruck,
    TruckPlan,
    run_fleet,
)
from tests.devices.support import RecordingSink

START = dt.datetime(2024, 5, 1, 0, 0, tzinfo=dt.UTC)
LINE = ((31.0, 121.0), (31.0, 121.1))  # due east, about 9.5 km


def test_route_interpolates_by_distance_and_wraps() -> None:
    route = Route(LINE, loop=True)
    assert 9_400 < route.length_m < 9_600
    lat, lon, heading = route.at(route.length_m / 2)
    assert lat == pytest.approx(31.0)
    assert lon == pytest.approx(121.05)
    assert heading == pytest.approx(90.0, abs=0.1)
    assert route.at(route.length_m * 1.25)[1] == pytest.approx(121.025)
    assert Route(LINE, loop=False).at(route.length_m * 3)[1] == pytest.approx(121.1)
    with pytest.raises(ValueError, match="two waypoints"):
        Route([(0.0, 0.0)])


def test_truck_speeds_stops_and_presses_sos() -> None:
    plan = TruckPlan(
        route=LINE,
        speed_kmh=36.0,
        speed_limit_kmh=80.0,
        speeding=(Window(2, 4),),
        speeding_kmh=108.0,
        stops=(Window(4, 6),),
        sos_at_s=(5.0,),
    )
    truck = SimulatedTruck("13800000001", "沪D00001", plan, start_time=START)
    first = truck.location()
    assert first.speed_kmh == 36.0
    assert first.alarm_flags == 0
    assert first.time == START
    truck.advance(2)  # 2 s at 10 m/s
    speeding = truck.location()
    assert speeding.speed_kmh == 108.0
    assert speeding.alarm_flags == OVERSPEED_BIT
    truck.advance(2)  # 2 s at 30 m/s
    stopped = truck.location()
    assert stopped.speed_kmh == 0.0
    truck.advance(1)
    assert truck.location().lon == stopped.lon
    assert truck.location().alarm_flags == EMERGENCY_BIT
    assert truck.location().time == START + dt.timedelta(seconds=5)
    assert truck.location().lon == pytest.approx(121.0 + 0.1 * 80 / Route(LINE).length_m)


@pytest.mark.parametrize("version", [ProtocolVersion.V2013, ProtocolVersion.V2019])
async def test_truck_reports_reach_the_gateway(version: ProtocolVersion) -> None:
    sink = RecordingSink()
    registry = StaticTerminalRegistry(auto_register=True)
    plan = TruckPlan(route=LINE, interval_s=1.0, time_scale=100.0, sos_at_s=(2.0,))
    truck = SimulatedTruck("13800000001", "沪D00001", plan, version=version, start_time=START)
    async with Jt808Gateway(sink, registry, port=0) as gateway:
        stats = await truck.run("127.0.0.1", gateway.port, reports=5)
    assert stats.reports_sent == stats.reports_acked == 5
    assert stats.sos_sent == 1
    assert [p.at for p in sink.positions] == [START + dt.timedelta(seconds=s) for s in range(5)]
    assert [a.key for a in sink.alarms] == ["emergency"]
    assert sink.alarms[0].at == START + dt.timedelta(seconds=2)


async def test_truck_answers_texts_and_reconnects() -> None:
    sink = RecordingSink()
    registry = StaticTerminalRegistry(auto_register=True)
    plan = TruckPlan(route=LINE, interval_s=1.0, time_scale=20.0)
    truck = SimulatedTruck("13800000002", "沪D00002", plan, reconnect_delay=0.05)
    async with Jt808Gateway(sink, registry, port=0) as gateway:
        run = asyncio.create_task(truck.run("127.0.0.1", gateway.port, reports=12))
        await sink.wait_for(lambda s: len(s.positions) >= 2)
        assert await gateway.send_text("13800000002", "请停车") == GeneralResult.SUCCESS
        assert truck.client is not None
        # The platform drops the connection: the truck comes back and carries on.
        gateway.terminals.states["13800000002"].connection.close("test")  # type: ignore[union-attr]
        stats = await run
    assert stats.reports_acked >= 11
    assert stats.connections == 2
    assert stats.texts == ["请停车"]


async def test_run_fleet() -> None:
    sink = RecordingSink()
    registry = StaticTerminalRegistry(auto_register=True)
    plan = TruckPlan(interval_s=1.0, time_scale=100.0)
    async with Jt808Gateway(sink, registry, port=0) as gateway:
        stats = await run_fleet(
            "127.0.0.1", gateway.port, 3, plan=plan, reports=5, sos_trucks=1, speeding_trucks=1
        )
    assert [s.reports_acked for s in stats] == [5, 5, 5]
    assert {p.device for p in sink.positions} == {"13800000000", "13800000001", "13800000002"}
    assert sorted((a.device, a.key) for a in sink.alarms) == [
        ("13800000000", "emergency"),
        ("13800000001", "overspeed"),
    ]
    # Trucks start spread along the route.
    starts = {p.device: (p.lat, p.lon) for p in reversed(sink.positions)}
    assert len(set(starts.values())) == 3
