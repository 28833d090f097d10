"""A standalone gateway forwarding to a real backend over the device endpoint."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from backend.server.app import DutyDeskServer
from backend.storage.models import PositionRecord
from devices.forward import ForwardError, RemoteSink
from devices.jt808.gateway import Jt808Gateway, StaticTerminalRegistry
from devices.jt808.messages import GeneralResult
from devices.jt808.simulator import SimulatedTruck
from devices.observations import Position
from realtime.client import basic_auth_header
from tests.backend.conftest import device_url, open_console

PHONE = "13912345678"
T0 = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)


def _sink(server: DutyDeskServer) -> RemoteSink:
    return RemoteSink(
        device_url(server),
        basic_auth_header("device1", "pw-device1"),
        kind="jt808",
        reconnect_delay=0.05,
        max_reconnect_delay=0.2,
    )


async def test_truck_through_a_standalone_gateway_reaches_the_console(
    server: DutyDeskServer,
) -> None:
    await server.registry.add("jt808", PHONE, "液氨槽车", plate="苏A·D8821")
    sink = _sink(server)
    sink.start()
    gateway = Jt808Gateway(sink, StaticTerminalRegistry({PHONE: "苏A·D8821"}), offline_after=30)
    await gateway.start()
    console = await open_console(server)
    truck = SimulatedTruck(PHONE, "苏A·D8821", reply_timeout=5.0)
    try:
        await truck.connect("127.0.0.1", gateway.port)
        truck.press_sos()
        assert await truck.report() is GeneralResult.SUCCESS
        # The terminal's 0x8001 left the gateway only after the backend acknowledged.
        async with server.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(PositionRecord)) == 1
        await console.recorder.wait_for(
            lambda: any(e.kind == "alarm.raised" for e in console.recorder.events)
        )
        alarm = next(e.alarm for e in console.recorder.events if e.kind == "alarm.raised")
        assert alarm is not None
        assert alarm.alarm_type == "vehicle_emergency"
        assert alarm.source_ref == f"jt808:{PHONE}"
        assert "device.online" in [e.kind for e in console.recorder.events]
    finally:
        await truck.close()
        await console.close()
        await gateway.close()
        await sink.close()


async def test_forwarding_survives_a_backend_restart(server: DutyDeskServer) -> None:
    sink = _sink(server)
    sink.start()
    try:
        await sink.submit(Position(device=PHONE, at=T0, lat=32.0, lon=118.8))
        port = server.port
        await server.close()
        waiting = asyncio.create_task(
            sink.submit(
                Position(device=PHONE, at=T0 + dt.timedelta(seconds=1), lat=32.1, lon=118.8)
            )
        )
        await asyncio.sleep(0.3)
        assert not waiting.done(), "nothing is acknowledged while the backend is away"
        server.config.port = port
        again = DutyDeskServer(server.config)
        await again.start()
        try:
            await asyncio.wait_for(waiting, 10)
            async with again.sessions() as session:
                count = await session.scalar(select(func.count()).select_from(PositionRecord))
            assert count == 2
        finally:
            await sink.close()
            await again.close()
    finally:
        await sink.close()


async def test_a_refused_observation_raises_and_the_sink_carries_on(server: DutyDeskServer) -> None:
    sink = _sink(server)
    sink.start()
    try:
        with pytest.raises(ForwardError, match="lat"):
            await sink.submit(Position(device=PHONE, at=T0, lat=123.0, lon=118.8))
        await sink.submit(Position(device=PHONE, at=T0, lat=32.0, lon=118.8))
    finally:
        await sink.close()
