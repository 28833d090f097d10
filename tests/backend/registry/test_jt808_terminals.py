"""The device registry answering JT/T 808 terminals over the real gateway: registration
(plates, auth codes) and authentication in groups, where one bad request costs only itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backend.registry.files import load_units_csv
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer, ServerConfig
from devices.jt808.messages import Authentication, GeneralResult, Register, RegisterResult
from devices.jt808.simulator import TerminalClient

FLEET = 40
BAD = 17
"""The terminal of the fleet that sends a non-ASCII auth code."""


def phone_of(n: int) -> str:
    return f"1390000{n:04d}"


def plate_of(n: int) -> str:
    return f"苏A·{n:05d}"


def register_msg(plate: str) -> Register:
    return Register(
        province=32,
        city=100,
        maker="DDSIM",
        model="T1",
        terminal_id="T000001",
        plate_color=2,
        plate=plate,
    )


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
        )
    )
    await srv.start()
    yield srv
    await srv.close()


@pytest.fixture
async def clients() -> AsyncIterator[list[TerminalClient]]:
    opened: list[TerminalClient] = []
    yield opened
    for client in opened:
        await client.close()


async def connect(
    server: DutyDeskServer, phone: str, opened: list[TerminalClient]
) -> TerminalClient:
    client = TerminalClient(phone)
    await client.connect("127.0.0.1", server.jt808_port)
    opened.append(client)
    return client


async def test_one_non_ascii_auth_code_fails_only_its_own_login(
    server: DutyDeskServer, clients: list[TerminalClient]
) -> None:
    for n in range(FLEET):
        await server.registry.add("jt808", phone_of(n), f"槽车{n}", plate=plate_of(n))
    fleet = [await connect(server, phone_of(n), clients) for n in range(FLEET)]
    replies = await asyncio.gather(
        *(client.register(register_msg(plate_of(n))) for n, client in enumerate(fleet))
    )
    assert all(reply.result is RegisterResult.SUCCESS for reply in replies)
    codes = [reply.auth_code for reply in replies]

    # The whole fleet authenticates at once (the checks share grouped queries); one
    # terminal sends a code that is not ASCII.
    sent = [Authentication("鉴权码错误" if n == BAD else code) for n, code in enumerate(codes)]
    results = await asyncio.gather(
        *(client.general(message) for client, message in zip(fleet, sent, strict=True))
    )
    failed = [n for n, result in enumerate(results) if result is not GeneralResult.SUCCESS]
    assert failed == [BAD]
    assert results[BAD] is GeneralResult.FAILURE
    gateway = server.jt808_gateway
    assert gateway is not None
    assert gateway.online_terminals == {phone_of(n) for n in range(FLEET) if n != BAD}

    # The service goes on: the same terminal logs in with its own code.
    assert await fleet[BAD].general(Authentication(codes[BAD])) is GeneralResult.SUCCESS


async def test_non_ascii_codes_are_refused_not_raised(server: DutyDeskServer) -> None:
    await server.registry.add("jt808", phone_of(1), "槽车", plate=plate_of(1))
    result, code = await server.registry.register(phone_of(1), register_msg(plate_of(1)))
    assert result is RegisterResult.SUCCESS
    checks = await asyncio.gather(
        server.registry.authenticate(phone_of(1), "鉴权码"),
        server.registry.authenticate(phone_of(1), code),
        server.registry.authenticate(phone_of(1), code + "é"),
    )
    assert list(checks) == [False, True, False]
