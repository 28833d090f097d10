"""The device registry answering JT/T 808 terminals over the real gateway: registration
(plates, auth codes) and authentication in groups, where one bad request costs only itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest

from backend.registry.files import load_units_csv
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from devices.jt808.gateway import StaticTerminalRegistry
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


# ---------------------------------------------------------------------- registration rules

REGISTRIES = ["backend", "static"]


class _Registry(Protocol):
    auto_register: bool

    async def register(self, phone: str, message: Register) -> tuple[RegisterResult, str]: ...

    async def authenticate(self, phone: str, code: str) -> bool: ...


class _Static:
    """The standalone gateway's registry with the backend registry's ``auto_register``."""

    def __init__(self, known: dict[str, str], *, auto_register: bool) -> None:
        self.auto_register = auto_register
        self._known = known
        self._registry = StaticTerminalRegistry(known, auto_register=auto_register)

    async def register(self, phone: str, message: Register) -> tuple[RegisterResult, str]:
        return await self._registry.register(phone, message)

    async def authenticate(self, phone: str, code: str) -> bool:
        return await self._registry.authenticate(phone, code)


async def registry_of(
    kind: str, server: DutyDeskServer, known: dict[str, str], *, auto_register: bool = False
) -> _Registry:
    """The backend's or the standalone gateway's registry knowing ``known`` (phone -> plate)."""
    if kind == "static":
        return _Static(known, auto_register=auto_register)
    for phone, plate in known.items():
        await server.registry.add("jt808", phone, plate or phone, plate=plate)
    server.registry.auto_register = auto_register
    return server.registry


@pytest.mark.parametrize("kind", REGISTRIES)
async def test_a_registered_terminal_registering_with_another_plate_is_refused(
    kind: str, server: DutyDeskServer
) -> None:
    registry = await registry_of(kind, server, {phone_of(1): plate_of(1), phone_of(2): plate_of(2)})
    result, code = await registry.register(phone_of(1), register_msg(plate_of(1)))
    assert result is RegisterResult.SUCCESS
    # Another terminal's plate: that vehicle is registered already.
    assert await registry.register(phone_of(1), register_msg(plate_of(2))) == (
        RegisterResult.VEHICLE_ALREADY_REGISTERED,
        "",
    )
    # A plate nobody has: no such vehicle for this terminal.
    assert await registry.register(phone_of(1), register_msg("苏A·99999")) == (
        RegisterResult.NO_SUCH_VEHICLE,
        "",
    )
    assert await registry.register(phone_of(1), register_msg("")) == (
        RegisterResult.NO_SUCH_VEHICLE,
        "",
    )
    # The refusals changed nothing: the terminal's own plate and code still work.
    assert await registry.register(phone_of(1), register_msg(plate_of(1))) == (
        RegisterResult.SUCCESS,
        code,
    )
    assert await registry.authenticate(phone_of(1), code)


@pytest.mark.parametrize("kind", REGISTRIES)
async def test_registering_again_returns_the_code_already_issued(
    kind: str, server: DutyDeskServer
) -> None:
    registry = await registry_of(kind, server, {phone_of(1): plate_of(1)})
    first = await registry.register(phone_of(1), register_msg(plate_of(1)))
    # Again, and twice at once (a retry whose 0x8100 was lost, in the same group).
    again = await asyncio.gather(
        registry.register("0" + phone_of(1), register_msg(plate_of(1))),
        registry.register(phone_of(1), register_msg(plate_of(1))),
    )
    assert first[0] is RegisterResult.SUCCESS
    assert list(again) == [first, first]
    assert await registry.authenticate(phone_of(1), first[1])


@pytest.mark.parametrize("kind", REGISTRIES)
async def test_auto_registration_binds_the_plate_and_refuses_a_taken_one(
    kind: str, server: DutyDeskServer
) -> None:
    registry = await registry_of(kind, server, {phone_of(1): plate_of(1)}, auto_register=True)
    assert await registry.register(phone_of(9), register_msg(plate_of(1))) == (
        RegisterResult.VEHICLE_ALREADY_REGISTERED,
        "",
    )
    result, code = await registry.register(phone_of(9), register_msg(plate_of(9)))
    assert result is RegisterResult.SUCCESS
    assert await registry.register(phone_of(9), register_msg(plate_of(8))) == (
        RegisterResult.NO_SUCH_VEHICLE,
        "",
    )
    # Two new terminals with one plate in the same group: the first has it.
    both = await asyncio.gather(
        registry.register(phone_of(5), register_msg(plate_of(5))),
        registry.register(phone_of(6), register_msg(plate_of(5))),
    )
    assert [result for result, _ in both] == [
        RegisterResult.SUCCESS,
        RegisterResult.VEHICLE_ALREADY_REGISTERED,
    ]
    assert await registry.register(phone_of(9), register_msg(plate_of(9))) == (
        RegisterResult.SUCCESS,
        code,
    )


@pytest.mark.parametrize("kind", REGISTRIES)
async def test_a_terminal_known_without_a_plate_is_bound_by_its_first_registration(
    kind: str, server: DutyDeskServer
) -> None:
    registry = await registry_of(kind, server, {phone_of(1): "", phone_of(2): plate_of(2)})
    assert await registry.register(phone_of(1), register_msg(plate_of(2))) == (
        RegisterResult.VEHICLE_ALREADY_REGISTERED,
        "",
    )
    result, code = await registry.register(phone_of(1), register_msg(plate_of(1)))
    assert result is RegisterResult.SUCCESS
    assert await registry.register(phone_of(1), register_msg(plate_of(3))) == (
        RegisterResult.NO_SUCH_VEHICLE,
        "",
    )
    assert await registry.register(phone_of(1), register_msg(plate_of(1))) == (
        RegisterResult.SUCCESS,
        code,
    )
    if kind == "backend":
        device = await server.registry.find("jt808", phone_of(1))
        assert device is not None
        assert device.plate == plate_of(1)


async def test_a_terminal_refused_for_its_plate_gets_result_2_over_the_wire(
    server: DutyDeskServer, clients: list[TerminalClient]
) -> None:
    await server.registry.add("jt808", phone_of(1), "槽车", plate=plate_of(1))
    await server.registry.add("jt808", phone_of(2), "槽车二", plate=plate_of(2))
    client = await connect(server, phone_of(1), clients)
    assert (await client.register(register_msg("苏A·99999"))).result is (
        RegisterResult.NO_SUCH_VEHICLE
    )
    assert (await client.register(register_msg(plate_of(2)))).result is (
        RegisterResult.VEHICLE_ALREADY_REGISTERED
    )
    code = await client.login(register_msg(plate_of(1)))
    assert (await client.register(register_msg(plate_of(1)))).auth_code == code
