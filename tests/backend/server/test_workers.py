"""``dutydesk serve --workers 2`` for real: two worker processes on one PostgreSQL share
the JT/T 808 port, the kernel spreads the terminals over them; one worker is killed
(kill -9), its terminals reconnect (to the other worker or to the one the supervisor
starts again) with their alarm bit still set, and no alarm is raised a second time — not
even counted as a repeat — while a bit that newly rises still raises its alarm. SIGTERM
stops everything with exit code 0; SQLite is refused in one line."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.server.testing import fresh_postgres_database
from backend.storage import db
from devices.jt808.codec import FrameDecoder, encode_frame
from devices.jt808.messages import (
    Authentication,
    Location,
    PlatformGeneralReply,
    Register,
    RegisterReply,
)

pytestmark = pytest.mark.postgres

OVERSPEED = 1 << 1
FATIGUE = 1 << 2
TERMINALS = 12


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def _worker_of(connection_port: int, workers: list[int]) -> int | None:
    """The worker process whose socket is the far end of our local ``connection_port``."""
    for pid in workers:
        inodes = set()
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == connection_port and fields[9] in inodes:
                return pid
    return None


class Terminal:
    """One JT/T 808 terminal over a real TCP connection."""

    def __init__(self, phone: str, port: int) -> None:
        self.phone = phone
        self.port = port
        self.code = ""
        self.serial = 1
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.decoder = FrameDecoder()

    @property
    def local_port(self) -> int:
        assert self.writer is not None
        return int(self.writer.get_extra_info("sockname")[1])

    async def _send(self, message: object) -> object:
        assert self.writer is not None
        assert self.reader is not None
        self.serial += 1
        self.writer.write(encode_frame(message, phone=self.phone, serial=self.serial))  # type: ignore[arg-type]
        await self.writer.drain()
        while True:
            chunk = await asyncio.wait_for(self.reader.read(4096), 10)
            if not chunk:
                raise ConnectionError("closed by the gateway")
            for item in self.decoder.feed(chunk):
                if not isinstance(item, Exception):
                    return item.message

    async def connect(self) -> None:
        """Connect, register (first time) and authenticate; retried while refused."""
        for _ in range(100):
            try:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.decoder = FrameDecoder()
                if not self.code:
                    reply = await self._send(
                        Register(
                            province=33,
                            city=100,
                            maker="TEST",
                            model="T1",
                            terminal_id=self.phone[-7:],
                            plate_color=1,
                            plate=f"浙A{self.phone[-5:]}",
                        )
                    )
                    assert isinstance(reply, RegisterReply)
                    self.code = reply.auth_code
                answer = await self._send(Authentication(auth_code=self.code))
                if isinstance(answer, PlatformGeneralReply) and answer.result == 0:
                    return
            except (ConnectionError, OSError, TimeoutError):
                pass
            await self.close()
            await asyncio.sleep(0.1)
        raise AssertionError(f"terminal {self.phone} could not log in again")

    async def report(self, alarm_flags: int) -> None:
        """Send one live location report and wait for its 0x8001 success."""
        location = Location.from_degrees(
            lat=30.25,
            lon=120.15,
            time=dt.datetime.now(dt.UTC).replace(microsecond=0),
            speed_kmh=50.0,
            alarm_flags=alarm_flags,
        )
        answer = await self._send(location)
        assert isinstance(answer, PlatformGeneralReply)
        assert answer.result == 0

    async def closed_by_peer(self) -> bool:
        assert self.reader is not None
        try:
            return await asyncio.wait_for(self.reader.read(1), 5) == b""
        except (ConnectionError, OSError):
            return True
        except TimeoutError:
            return False

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
            self.writer = None


async def _event_counts(url: str) -> dict[str, int]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT kind, count(*) FROM events GROUP BY kind"))
            return {str(kind): int(count) for kind, count in rows}
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _pool(url: str, data_dir: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    port, jt808 = _free_port(), _free_port()
    environment = {**os.environ, "DUTYDESK_DB": url, "DUTYDESK_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "backend", "serve", "--workers", "2"]
    command += ["--data-dir", str(data_dir), "--port", str(port)]
    command += ["--jt808", f"127.0.0.1:{jt808}", "--jt808-auto-register"]
    process = await asyncio.create_subprocess_exec(*command, env=environment)
    try:
        deadline = time.monotonic() + 60
        while not (await asyncio.to_thread(_healthy, port) and len(_children(process.pid)) == 2):
            assert process.returncode is None, "the supervisor ended at start"
            assert time.monotonic() < deadline, "the workers did not start"
            await asyncio.sleep(0.2)
        yield process, jt808
    finally:
        if process.returncode is None:
            # Killed without a word, the supervisor takes its workers with it (SIGTERM).
            workers = _children(process.pid)
            process.kill()
            await process.wait()
            for worker in workers:
                with contextlib.suppress(ProcessLookupError):
                    for _ in range(100):
                        os.kill(worker, 0)
                        await asyncio.sleep(0.1)


def _healthy(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    admin = os.environ.get("DUTYDESK_TEST_PG")
    if admin is None:
        pytest.skip("PostgreSQL not configured (run ./test.sh)")
    async with fresh_postgres_database(admin) as url:
        yield url


async def test_a_killed_workers_terminals_reconnect_without_raising_their_alarms_again(
    pg_url: str, tmp_path: Path
) -> None:
    async with _pool(pg_url, tmp_path) as (supervisor, jt808):
        workers = _children(supervisor.pid)
        terminals = [Terminal(str(13_900_000_000 + n), jt808) for n in range(TERMINALS)]
        for terminal in terminals:
            await terminal.connect()
            await terminal.report(OVERSPEED)
        placed = {t.phone: _worker_of(t.local_port, workers) for t in terminals}
        assert set(placed.values()) == set(workers), "the kernel put every terminal on one worker"
        assert (await _event_counts(pg_url)).get("alarm.raised") == TERMINALS

        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        moved = [t for t in terminals if placed[t.phone] == victim]
        for terminal in moved:
            assert await terminal.closed_by_peer()
            await terminal.close()
            # Reconnects, the bit still set: the same alarm condition, no new edge.
            await terminal.connect()
            await terminal.report(OVERSPEED)
        for terminal in terminals:
            await terminal.report(OVERSPEED)
        counts = await _event_counts(pg_url)
        assert counts.get("alarm.raised") == TERMINALS
        assert counts.get("alarm.repeated", 0) == 0

        # A bit that rises now is a new alarm, wherever the terminal landed.
        await moved[0].report(OVERSPEED | FATIGUE)
        assert (await _event_counts(pg_url)).get("alarm.raised") == TERMINALS + 1

        # The supervisor started the killed worker again.
        deadline = time.monotonic() + 20
        while victim in _children(supervisor.pid) or len(_children(supervisor.pid)) < 2:
            assert time.monotonic() < deadline, "the dead worker was not started again"
            await asyncio.sleep(0.2)
        for terminal in terminals:
            await terminal.close()
        supervisor.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(supervisor.wait(), 30) == 0


def test_workers_are_refused_on_sqlite_in_one_line(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "DUTYDESK_DB"}
    command = [sys.executable, "-m", "backend", "serve", "--workers", "2"]
    command += ["--data-dir", str(tmp_path), "--port", str(_free_port())]
    result = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "dutydesk serve: --workers needs PostgreSQL (--db postgresql://…): SQLite takes one "
        "writing process at a time"
    ]
