"""Fixtures for backend tests: a real server on 127.0.0.1 port 0, on SQLite and on
PostgreSQL (a fresh database per test on the server that test.sh starts)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from backend.config import sqlite_url
from backend.ingest.service import IngestService
from backend.registry.files import load_units_csv
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.server.testing import fresh_postgres_database
from realtime.client import ConnectionState, DutyDeskClient
from realtime.protocol import Event, Role, Snapshot, Telemetry, Welcome
from tests.loops import LoopFactories, loops_for

USERS = (
    ("officer1", "pw-officer1", Role.OFFICER),
    ("officer2", "pw-officer2", Role.OFFICER),
    ("supervisor1", "pw-supervisor1", Role.SUPERVISOR),
    ("device1", "pw-device1", Role.DEVICE),
)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> LoopFactories:
    # The server's device paths run on both event loops (see tests/loops.py).
    return loops_for(item, ("test_jt808_end_to_end", "test_forwarding"))


def ingest_for(server: DutyDeskServer, **options: Any) -> IngestService:
    """A JT/T 808 ingest on ``server``'s services (not started)."""
    return IngestService(
        kind="jt808",
        alarms=server.alarms,
        registry=server.registry,
        telemetry=server.telemetry,
        hub=server.hub,
        **options,
    )


def _pg_admin_url() -> str | None:
    return os.environ.get("DUTYDESK_TEST_PG")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL: SQLite in tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    admin = _pg_admin_url()
    if admin is None:
        if os.environ.get("DUTYDESK_REQUIRE_PG") == "1":
            pytest.fail("DUTYDESK_TEST_PG is not set but PostgreSQL tests are required")
        pytest.skip("PostgreSQL not configured (run ./test.sh)")
    async with fresh_postgres_database(admin) as url:
        yield url


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[DutyDeskServer]:
    """A running server with the test users and the sample units."""
    config = ServerConfig(
        db_url=db_url,
        data_dir=tmp_path,
        port=0,
        cipher=FieldCipher.generate(),
        seed_units=load_units_csv(),
        # Scripted consoles in tests outpace a human; the limit itself has its own test.
        console_rate_per_second=1000.0,
        console_rate_burst=1000,
    )
    srv = DutyDeskServer(config)
    await srv.start()
    for username, password, role in USERS:
        await srv.users.add_user(username, password, role)
    yield srv
    await srv.close()


def console_url(server: DutyDeskServer) -> str:
    return f"ws://127.0.0.1:{server.port}/console"


def device_url(server: DutyDeskServer) -> str:
    return f"ws://127.0.0.1:{server.port}/device"


class Recorder:
    """A ClientListener that remembers everything, for assertions."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.snapshots: list[Snapshot] = []
        self.states: list[tuple[ConnectionState, str]] = []
        self.welcome: Welcome | None = None
        self.telemetry: list[Telemetry] = []
        self.changed = asyncio.Event()

    def on_telemetry(self, telemetry: Telemetry) -> None:
        self.telemetry.append(telemetry)
        self.changed.set()

    def on_state(self, state: ConnectionState, detail: str) -> None:
        self.states.append((state, detail))
        self.changed.set()

    def on_welcome(self, welcome: Welcome) -> None:
        self.welcome = welcome

    def on_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)
        self.changed.set()

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        self.changed.set()

    async def wait_for(self, predicate: object, timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` is true."""
        assert callable(predicate)
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


class Console:
    """A running client with its recorder and task."""

    def __init__(
        self, client: DutyDeskClient, recorder: Recorder, task: asyncio.Task[None]
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.task = task

    async def close(self) -> None:
        await self.client.close()
        await self.task


async def open_console(
    server: DutyDeskServer,
    username: str = "officer1",
    password: str = "pw-officer1",
    *,
    last_seq: int | None = None,
) -> Console:
    """Connect a real client and wait until it is live."""
    recorder = Recorder()
    client = DutyDeskClient(
        console_url(server),
        recorder,
        username=username,
        password=password,
        last_seq=last_seq,
        backoff_initial=0.05,
        backoff_max=0.2,
        on_telemetry=recorder.on_telemetry,
    )
    task = asyncio.create_task(client.run())
    await client.wait_live(10)
    return Console(client, recorder, task)
