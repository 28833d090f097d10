"""Every alarm a JT/T 808 alarm bit raises has a Chinese title; a reserved bit raises none
(through the real gateway, the ingest and the alarm service)."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.registry.files import load_units_csv
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.storage.models import Alarm
from devices.jt808 import GeneralResult, ProtocolVersion
from devices.jt808.bits import alarm_table
from devices.jt808.simulator import TerminalClient
from tests.devices.test_gateway import location, register_msg

CJK = re.compile(r"[\u4e00-\u9fff]")
PLATE = "苏A·D8821"


def read_health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as reply:
        health: dict[str, Any] = json.load(reply)
    return health


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[DutyDeskServer]:
    srv = DutyDeskServer(
        ServerConfig(
            db_url=db_url,
            data_dir=tmp_path,
            port=0,
            cipher=FieldCipher.generate(),
            seed_units=load_units_csv(),
            jt808_listen=("127.0.0.1", 0),
        )
    )
    await srv.start()
    yield srv
    await srv.close()


@pytest.mark.parametrize("version", list(ProtocolVersion))
async def test_every_defined_alarm_bit_raises_a_chinese_title_and_reserved_ones_none(
    server: DutyDeskServer, version: ProtocolVersion
) -> None:
    phone = "13912345678"
    await server.registry.add("jt808", phone, "液氨槽车", plate=PLATE)
    async with TerminalClient(phone, version=version) as client:
        await client.connect("127.0.0.1", server.jt808_port)
        await client.login(register_msg(PLATE))
        # Every alarm is committed before the reply: one transaction each.
        reply = await client.general(location((1 << 32) - 1), timeout=60.0)
        assert reply is GeneralResult.SUCCESS
    async with server.sessions() as session:
        titles = list(await session.scalars(select(Alarm.title)))
    assert len(titles) == len(alarm_table(version))
    for title in titles:
        assert CJK.search(title.removesuffix(PLATE)), title
        assert "reserved" not in title
        assert title.endswith(PLATE)
    health = await asyncio.to_thread(read_health, server.port)
    reserved = health["jt808"]["reserved_alarm_bits"]
    assert sum(reserved.values()) == 32 - len(alarm_table(version))
