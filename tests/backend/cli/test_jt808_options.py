"""The JT/T 808 gateway's login deadline and connection caps on both command lines, and
through ServerConfig to the gateway inside the server."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from backend.cli.app import build_parser
from backend.config import sqlite_url
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from devices.jt808.gateway.limits import LimitOptions, limit_options


def test_serve_takes_the_gateway_limits() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--jt808",
            "127.0.0.1:0",
            "--jt808-login-timeout",
            "5",
            "--jt808-max-connections",
            "900",
            "--jt808-max-per-address",
            "3",
        ]
    )
    assert limit_options(args, prefix="jt808-") == LimitOptions(5.0, 900, 3)
    defaults = build_parser().parse_args(["serve"])
    assert limit_options(defaults, prefix="jt808-") == LimitOptions()


def test_gateway_jt808_takes_the_limits() -> None:
    args = build_parser().parse_args(
        [
            "gateway",
            "jt808",
            "--backend",
            "ws://127.0.0.1:1/device",
            "--login-timeout",
            "2.5",
            "--max-per-address",
            "7",
        ]
    )
    assert limit_options(args) == LimitOptions(2.5, LimitOptions().max_connections, 7)


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_bad_limit_is_one_clear_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", "--jt808-max-per-address", value])
    assert exit_info.value.code == 2
    assert "--jt808-max-per-address" in capsys.readouterr().err


async def test_the_server_gives_its_gateway_the_limits(tmp_path: Path) -> None:
    server = DutyDeskServer(
        ServerConfig(
            db_url=sqlite_url(tmp_path),
            data_dir=tmp_path,
            port=0,
            cipher=FieldCipher.generate(),
            jt808_listen=("127.0.0.1", 0),
            jt808_limits=LimitOptions(login_timeout=0.3, max_connections_per_address=1),
        )
    )
    await server.start()
    loop = asyncio.get_running_loop()
    socks = [socket.socket() for _ in range(2)]
    try:
        for sock in socks:
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", server.jt808_port))
        async with asyncio.timeout(3):
            assert await loop.sock_recv(socks[1], 10) == b""  # refused: over the cap
            assert await loop.sock_recv(socks[0], 10) == b""  # closed: no login in time
        gateway = server.jt808_gateway
        assert gateway is not None
        assert gateway.counters.refused == {"per_address_cap": 1}
        assert gateway.counters.closed == {"login_timeout": 1}
    finally:
        for sock in socks:
            sock.close()
        await server.close()
