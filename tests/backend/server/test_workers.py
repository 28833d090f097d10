"""``dutydesk serve --workers 2`` for real: two worker processes on one PostgreSQL share
the JT/T 808 and console ports, the kernel spreads terminals and consoles over them; one
worker is killed (kill -9), its terminals reconnect (to the other worker or to the one the
supervisor starts again) with their alarm bit still set, and no alarm is raised a second
time — not even counted as a repeat — while a bit that newly rises still raises its alarm.
Every console, whichever worker it is on (and after its own reconnect), gets every alarm
event in ``seq`` order, sees every vehicle on its map and every sensor's value (positions
and readings relayed between the workers). SIGTERM stops everything with exit code 0;
SQLite is refused in one line."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect

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
from realtime.client import DutyDeskClient, basic_auth_header
from realtime.protocol import Subscribe
from tests.backend.conftest import Recorder

pytestmark = pytest.mark.postgres

OVERSPEED = 1 << 1
FATIGUE = 1 << 2
TERMINALS = 12
MAX_CONSOLES = 12


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def _sockets(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def _tcp() -> list[tuple[int, int, str, str]]:
    """(local port, remote port, state, inode) of every IPv4 TCP socket."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        rows.append((local, remote, fields[3], fields[9]))
    return rows


def _worker_of(connection_port: int, workers: list[int]) -> int | None:
    """The worker process whose socket is the far end of our local ``connection_port``."""
    for pid in workers:
        inodes = _sockets(pid)
        if any(remote == connection_port and inode in inodes for _, remote, _, inode in _tcp()):
            return pid
    return None


def _all_listening(supervisor: int, ports: tuple[int, ...]) -> bool:
    """Both workers listen on every one of ``ports`` (the kernel spreads only over
    sockets already bound)."""
    workers = _children(supervisor)
    listening = [(local, inode) for local, _, state, inode in _tcp() if state == "0A"]
    return len(workers) == 2 and all(
        any(local == port and inode in _sockets(pid) for local, inode in listening)
        for pid in workers
        for port in ports
    )


def _consoles_on(port: int, workers: list[int]) -> dict[int, int]:
    """Established console connections on ``port`` per worker."""
    return {
        pid: sum(
            1
            for local, _, state, inode in _tcp()
            if local == port and state == "01" and inode in _sockets(pid)
        )
        for pid in workers
    }


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


def _console(port: int) -> tuple[DutyDeskClient, Recorder]:
    recorder = Recorder()
    client = DutyDeskClient(
        f"ws://127.0.0.1:{port}/console",
        recorder,
        username="officer1",
        password="pw-officer1",
        backoff_initial=0.05,
        backoff_max=0.3,
        on_telemetry=recorder.on_telemetry,
    )
    return client, recorder


async def _open_consoles(
    port: int, workers: list[int]
) -> tuple[list[tuple[DutyDeskClient, Recorder]], list[asyncio.Task[None]]]:
    """Consoles until both workers have some (the kernel picks: at least 2, at most 12)."""
    consoles: list[tuple[DutyDeskClient, Recorder]] = []
    tasks: list[asyncio.Task[None]] = []
    while len(consoles) < 2 or not all(_consoles_on(port, workers).values()):
        assert len(consoles) < MAX_CONSOLES, "every console landed on one worker"
        client, recorder = _console(port)
        tasks.append(asyncio.create_task(client.run()))
        consoles.append((client, recorder))
        await client.wait_live(20)
        await client.request(Subscribe(req="", topics=["positions", "readings"]))
    return consoles, tasks


def _vehicles(recorder: Recorder) -> set[str]:
    return {fix.device for telemetry in recorder.telemetry for fix in telemetry.positions}


def _sensors(recorder: Recorder) -> set[str]:
    return {reading.sensor for telemetry in recorder.telemetry for reading in telemetry.readings}


async def _feeds_on_both_workers(
    port: int, workers: list[int], stack: contextlib.AsyncExitStack
) -> dict[str, int]:
    """Device feeds until both workers have one (the kernel picks); each sends a reading
    of its own sensor. Returns each sensor's worker."""
    sensors: dict[str, int] = {}
    while set(sensors.values()) != set(workers):
        assert len(sensors) < MAX_CONSOLES, "every device feed landed on one worker"
        feed = await stack.enter_async_context(
            connect(
                f"ws://127.0.0.1:{port}/device",
                additional_headers={"Authorization": basic_auth_header("feed1", "pw-feed1")},
            )
        )
        sensor = f"gas-{len(sensors) + 1}"
        local_port = feed.local_address[1]
        worker = _worker_of(local_port, workers)
        assert worker is not None
        reading = {"type": "device.reading", "ref": sensor, "sensor": sensor}
        await feed.send(json.dumps(reading | {"value": 12.5, "unit": "%LEL"}))
        answer = json.loads(await asyncio.wait_for(feed.recv(), 10))
        assert answer["type"] == "ack", answer
        sensors[sensor] = worker
    return sensors


async def _every_console_sees_every_sensor(
    port: int, workers: list[int], recorders: list[Recorder]
) -> None:
    async with contextlib.AsyncExitStack() as feeds:
        sensors = await _feeds_on_both_workers(port, workers, feeds)
        for recorder in recorders:
            await recorder.wait_for(lambda r=recorder: set(sensors) <= _sensors(r), timeout=10)


def _seen(recorder: Recorder) -> set[int]:
    return {event.seq for event in recorder.events if event.kind == "alarm.raised"}


async def _every_event_in_order(recorder: Recorder, raised: set[int]) -> None:
    await recorder.wait_for(lambda: raised <= _seen(recorder), timeout=20)
    seqs = [event.seq for event in recorder.events]
    assert seqs == sorted(set(seqs)), "a console got events out of order or twice"


async def _seqs_of(url: str, kind: str) -> set[int]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.scalars(
                text("SELECT seq FROM events WHERE kind = :kind"), {"kind": kind}
            )
            return {int(seq) for seq in rows}
    finally:
        await engine.dispose()


async def _event_counts(url: str) -> dict[str, int]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT kind, count(*) FROM events GROUP BY kind"))
            return {str(kind): int(count) for kind, count in rows}
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _pool(
    url: str, data_dir: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int, int]]:
    port, jt808 = _free_port(), _free_port()
    environment = {**os.environ, "DUTYDESK_DB": url, "DUTYDESK_LOG_LEVEL": "WARNING"}
    for user, role in (("officer1", "officer"), ("feed1", "device")):
        password = data_dir / f"password-{user}"
        password.write_text(f"pw-{user}\n")
        adding = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "backend", "user", "add", user, "--role", role],
            *["--password-file", str(password), "--data-dir", str(data_dir)],
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
        )
        assert await adding.wait() == 0
    command = [sys.executable, "-m", "backend", "serve", "--workers", "2"]
    command += ["--data-dir", str(data_dir), "--port", str(port)]
    command += ["--jt808", f"127.0.0.1:{jt808}", "--jt808-auto-register"]
    process = await asyncio.create_subprocess_exec(*command, env=environment)
    try:
        deadline = time.monotonic() + 60
        while not _all_listening(process.pid, (port, jt808)):
            assert process.returncode is None, "the supervisor ended at start"
            assert time.monotonic() < deadline, "the workers did not start"
            await asyncio.sleep(0.2)
        yield process, port, jt808
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
    async with _pool(pg_url, tmp_path) as (supervisor, port, jt808):
        workers = _children(supervisor.pid)
        consoles, tasks = await _open_consoles(port, workers)
        terminals = [Terminal(str(13_900_000_000 + n), jt808) for n in range(TERMINALS)]
        for terminal in terminals:
            await terminal.connect()
            await terminal.report(OVERSPEED)
        placed = {t.phone: _worker_of(t.local_port, workers) for t in terminals}
        assert set(placed.values()) == set(workers), "the kernel put every terminal on one worker"
        # Every console's map shows every vehicle, whichever worker its terminal is on.
        for _, recorder in consoles:
            await recorder.wait_for(lambda r=recorder: set(placed) <= _vehicles(r), timeout=10)
        # And every sensor's value, whichever worker its device feed is on.
        await _every_console_sees_every_sensor(port, workers, [r for _, r in consoles])
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
        raised = await _seqs_of(pg_url, "alarm.raised")
        assert len(raised) == TERMINALS + 1
        for _, recorder in consoles:
            await _every_event_in_order(recorder, raised)
        for client, _ in consoles:
            await client.close()
        for task in tasks:
            await task
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
