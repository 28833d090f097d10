"""Real JT/T 808 terminals through the gateway inside the server, to the consoles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.registry.files import load_units_csv
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.storage.models import PositionRecord
from devices.jt808.messages import GeneralResult
from devices.jt808.simulator import SimulatedTruck, SimulatorError, TruckPlan
from realtime.client import CommandError
from realtime.protocol import ErrorCode, SendText, Subscribe, TextSent
from realtime.states import AlarmLevel
from tests.backend.conftest import USERS, open_console

PHONE = "13912345678"


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[DutyDeskServer]:
    """A server with a JT/T 808 gateway on a free port."""
    srv = DutyDeskServer(
        ServerConfig(
            db_url=db_url,
            data_dir=tmp_path,
            port=0,
            cipher=FieldCipher.generate(),
            seed_units=load_units_csv(),
            jt808_listen=("127.0.0.1", 0),
            jt808_offline_after=2.0,
            console_rate_per_second=1000.0,
            console_rate_burst=1000,
        )
    )
    await srv.start()
    for username, password, role in USERS:
        await srv.users.add_user(username, password, role)
    yield srv
    await srv.close()


async def test_unregistered_terminal_is_refused(server: DutyDeskServer) -> None:
    truck = SimulatedTruck(PHONE, "苏A·D8821", reply_timeout=3.0)
    with pytest.raises(SimulatorError, match="NO_SUCH_TERMINAL"):
        await truck.connect("127.0.0.1", server.jt808_port)
    await truck.close()


async def test_truck_sos_positions_and_text_reach_the_console(server: DutyDeskServer) -> None:
    await server.registry.add("jt808", PHONE, "液氨槽车", plate="苏A·D8821")
    console = await open_console(server)
    truck = SimulatedTruck(PHONE, "苏A·D8821", TruckPlan(interval_s=0.2), reply_timeout=3.0)
    try:
        await console.client.request(Subscribe(req="", topics=["positions"]))
        await truck.connect("127.0.0.1", server.jt808_port)
        assert await truck.report() is GeneralResult.SUCCESS
        truck.press_sos()
        assert await truck.report() is GeneralResult.SUCCESS
        # The 0x8001 came back only after the alarm was committed: it is in the log now.
        await console.recorder.wait_for(
            lambda: any(e.kind == "alarm.raised" for e in console.recorder.events)
        )
        raised = next(e for e in console.recorder.events if e.kind == "alarm.raised")
        assert raised.alarm is not None
        assert raised.alarm.alarm_type == "vehicle_emergency"
        assert raised.alarm.level is AlarmLevel.RED
        assert "苏A·D8821" in raised.alarm.title
        kinds = [e.kind for e in console.recorder.events]
        assert kinds.index("device.online") < kinds.index("alarm.raised")

        await console.recorder.wait_for(lambda: bool(console.recorder.telemetry))
        assert console.recorder.telemetry[-1].positions[0].device == PHONE
        async with server.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(PositionRecord)) == 2

        sent = await console.client.request(
            SendText(req="", device=PHONE, text="请立即停车检查", emergency=True)
        )
        assert isinstance(sent, TextSent)
        assert sent.acknowledged
        assert truck.client is not None
        assert [text.text for text in truck.client.texts] == ["请立即停车检查"]
        assert truck.client.texts[0].flags & 0x01, "sent with the emergency flag"

        with pytest.raises(CommandError) as offline:
            await console.client.request(SendText(req="", device="13000000000", text="hello"))
        assert offline.value.code is ErrorCode.DEVICE_OFFLINE

        # A character GBK cannot encode is a clear refusal, and the session goes on: the
        # console neither loses its connection nor resends the text on every reconnect.
        with pytest.raises(CommandError) as unsendable:
            await console.client.request(SendText(req="", device=PHONE, text="请停车 🚒"))
        assert unsendable.value.code is ErrorCode.VALIDATION
        assert "GBK" in unsendable.value.message or "🚒" in unsendable.value.message
        again = await console.client.request(SendText(req="", device=PHONE, text="收到请回复"))
        assert isinstance(again, TextSent)
        assert [text.text for text in truck.client.texts] == ["请立即停车检查", "收到请回复"]

        await truck.close()
        await console.recorder.wait_for(
            lambda: any(e.kind == "device.offline" for e in console.recorder.events), timeout=10
        )
    finally:
        await truck.close()
        await console.close()


async def test_agency_and_device_accounts_cannot_send_texts(server: DutyDeskServer) -> None:
    from realtime.protocol import Role

    await server.users.add_user("police-desk", "pw-police-desk", Role.AGENCY, agency="police")
    console = await open_console(server, "police-desk", "pw-police-desk")
    try:
        with pytest.raises(CommandError) as refused:
            await console.client.request(SendText(req="", device=PHONE, text="x"))
        assert refused.value.code is ErrorCode.FORBIDDEN
    finally:
        await console.close()
    await asyncio.sleep(0)
