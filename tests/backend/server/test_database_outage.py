"""When the database goes away the server says so clearly and once: ``/health`` answers
503 JSON naming the part that is down, logins get a clear 503 (not a traceback), the
outage is logged once with a recovery line, and everything works again afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backend.server.app import DutyDeskServer
from realtime.client import basic_auth_header
from tests.backend.conftest import console_url
from tests.backend.server.test_wire_robustness import _ping_works, raw_console


def _move_away(path: Path) -> None:
    path.rename(path.with_name(path.name + ".away"))
    path.mkdir()  # a directory where the file was: cannot be opened


def _bring_back(path: Path) -> None:
    path.rmdir()
    path.with_name(path.name + ".away").rename(path)


@contextlib.asynccontextmanager
async def database_unavailable(server: DutyDeskServer) -> AsyncIterator[None]:
    """Take the server's database away under it; give it back afterwards."""
    url = make_url(server.config.db_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        path = Path(url.database)
        await server.engine.dispose()
        _move_away(path)
        try:
            yield
        finally:
            await server.engine.dispose()
            _bring_back(path)
        return
    name = url.database
    admin_url = os.environ["DUTYDESK_TEST_PG"]
    admin = await asyncpg.connect(
        make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        try:
            yield
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()


def _get_health(port: int) -> tuple[int, str, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers["Content-Type"], json.loads(refused.read())


async def _login_refusal(server: DutyDeskServer) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            console_url(server),
            additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
        ):
            pass
    return refused.value.response.status_code, refused.value.response.body.decode()


@pytest.mark.logs_errors
async def test_health_and_logins_say_the_database_is_down_and_log_it_once(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backend")
    status, kind, health = await asyncio.to_thread(_get_health, server.port)
    assert (status, health["status"], health["database_status"]) == (200, "ok", "up")

    async with database_unavailable(server):
        for _ in range(3):
            status, kind, health = await asyncio.to_thread(_get_health, server.port)
            assert status == 503
            assert kind == "application/json"
            assert health["status"] == "degraded"
            assert health["down"] == ["database"]
            assert health["database_status"] == "down"
            assert health["database"] == server.database_kind
            assert health["database_error"]
            code, body = await _login_refusal(server)
            assert code == 503
            assert "database is unavailable" in body
            assert "Traceback" not in body

    status, kind, health = await asyncio.to_thread(_get_health, server.port)
    assert (status, health["status"], health["database_status"]) == (200, "ok", "up")
    async with raw_console(server) as ws:
        await _ping_works(ws)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "database unavailable" in errors[0].getMessage()
    assert errors[0].exc_info is None, "one line, no traceback"
    recovered = [r for r in caplog.records if "available again" in r.getMessage()]
    assert len(recovered) == 1
