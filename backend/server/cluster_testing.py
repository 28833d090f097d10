"""Test support: several real ``python -m backend serve`` processes on one PostgreSQL.

:func:`running_cluster` creates a fresh database (:func:`testing.fresh_postgres_database`),
starts N server processes on it (127.0.0.1, port 0; the bound ports are read from each
process's ``--port-file``), waits until each answers ``GET /health``, and stops them all
at the end (SIGTERM, then SIGKILL). One shared data folder stands for what instances of a
deployment share: the data key (``secret.key``, made by the first instance) and the
attachments. :meth:`Cluster.kill` ends one with SIGKILL, as a machine failure would;
:meth:`Cluster.start_instance` starts one more (or again). Each process's output goes to
``data_dir/instance-<n>.log`` (:meth:`Instance.log_text`), for a failing test to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backend.eventlog.notify import asyncpg_dsn
from backend.registry.users import UserService
from backend.security import FieldCipher, PasswordWork
from backend.server.testing import fresh_postgres_database
from backend.storage import db
from realtime.protocol import CONSOLE_PATH, DEVICE_PATH, HEALTH_PATH, Role

__all__ = ["Cluster", "Error", "Instance", "running_cluster"]

START_TIMEOUT = 60.0
"""Longest wait for an instance to listen and answer ``/health`` (slow CI machines)."""


class Error(Exception):
    """An instance did not start (its log's tail is in the message)."""


@dataclass
class Instance:
    """One server process of the cluster."""

    number: int
    process: asyncio.subprocess.Process
    log_path: Path
    port: int = 0
    jt808_port: int | None = None

    @property
    def console_url(self) -> str:
        """Where consoles connect."""
        return f"ws://127.0.0.1:{self.port}{CONSOLE_PATH}"

    @property
    def device_url(self) -> str:
        """Where device feeds connect."""
        return f"ws://127.0.0.1:{self.port}{DEVICE_PATH}"

    @property
    def running(self) -> bool:
        """Whether the process has not ended."""
        return self.process.returncode is None

    def log_text(self) -> str:
        """Everything the process logged so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""


@dataclass
class Cluster:
    """Server processes on one database; see the module docstring."""

    db_url: str
    data_dir: Path
    serve_args: Sequence[str] = ()
    """Extra ``serve`` options given to every instance (e.g. ``--jt808 127.0.0.1:0``)."""
    instances: list[Instance] = field(default_factory=list)
    _started: int = 0

    async def start_instance(self, extra_args: Sequence[str] = ()) -> Instance:
        """Start one more instance and return it once it answers ``/health``."""
        # Numbered before the first await: instances started at once get their own files.
        self._started += 1
        number = self._started
        port_file = self.data_dir / f"instance-{number}.ports"
        port_file.unlink(missing_ok=True)
        log_path = self.data_dir / f"instance-{number}.log"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        with log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "backend",
                "serve",
                "--db",
                self.db_url,
                "--data-dir",
                str(self.data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--port-file",
                str(port_file),
                *self.serve_args,
                *extra_args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
            )
        instance = Instance(number, process, log_path)
        self.instances.append(instance)
        try:
            await self._wait_ready(instance, port_file)
        except BaseException:
            await self.kill(instance)
            raise
        return instance

    async def _wait_ready(self, instance: Instance, port_file: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while (ports := _read_ports(port_file)) is None:
            if not instance.running:
                raise Error(f"instance {instance.number} ended:\n{instance.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise Error(f"instance {instance.number} did not start:\n{instance.log_text()}")
            await asyncio.sleep(0.05)
        instance.port = int(ports["port"] or 0)
        instance.jt808_port = ports.get("jt808_port")
        # Ready: answering, and hearing the others' commits.
        while (answer := await health(instance.port)) is None or not answer.get("listening"):
            if time.monotonic() > deadline:
                raise Error(f"instance {instance.number} not ready: /health says {answer}")
            await asyncio.sleep(0.05)

    async def start(self, count: int) -> list[Instance]:
        """Start ``count`` instances: the first alone (it migrates the database and makes
        the data key), the others at once."""
        first = await self.start_instance()
        rest = await asyncio.gather(*(self.start_instance() for _ in range(count - 1)))
        started = [first, *rest]
        if (
            len({instance.process.pid for instance in started}) != count
            or len({instance.port for instance in started}) != count
        ):
            raise Error(f"instances share a process or a port: {started}")
        return started

    async def kill(self, instance: Instance) -> None:
        """End ``instance`` with SIGKILL (no clean shutdown) and reap it."""
        if instance.running:
            with contextlib.suppress(ProcessLookupError):
                instance.process.send_signal(signal.SIGKILL)
        await instance.process.wait()

    async def stop(self, instance: Instance, timeout: float = 15.0) -> None:
        """Stop ``instance`` cleanly (SIGTERM), SIGKILL if it takes too long."""
        if instance.running:
            with contextlib.suppress(ProcessLookupError):
                instance.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(instance.process.wait(), timeout)
            except TimeoutError:
                await self.kill(instance)
        await instance.process.wait()

    async def close(self) -> None:
        """Stop every instance still running."""
        await asyncio.gather(*(self.stop(instance) for instance in self.instances))

    async def add_users(
        self, users: Sequence[tuple[str, str, Role, str]], *, agency: str | None = None
    ) -> None:
        """Create ``(username, password, role, jurisdiction)`` accounts in the database
        (with the cluster's data key), as ``dutydesk user add`` would."""
        engine = db.create_engine(self.db_url)
        try:
            service = UserService(
                db.session_factory(engine),
                PasswordWork(1, 16),
                cipher=FieldCipher.from_data_dir(self.data_dir, create=False),
            )
            for username, password, role, jurisdiction in users:
                await service.add_user(
                    username, password, role, agency=agency, jurisdiction=jurisdiction
                )
            service.close()
        finally:
            await engine.dispose()

    async def run_cli(self, *args: str, timeout: float = 60.0) -> tuple[int, str]:
        """Run ``python -m backend ARGS --db … --data-dir …``; return its exit code and
        output (stdout and stderr)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backend",
            *args,
            "--db",
            self.db_url,
            "--data-dir",
            str(self.data_dir),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
        return int(process.returncode or 0), output.decode("utf-8", errors="replace")

    @property
    def dsn(self) -> str:
        """The database's address for asyncpg (for a test's own queries)."""
        return asyncpg_dsn(self.db_url)


def _read_ports(path: Path) -> dict[str, int | None] | None:
    """The ports an instance wrote (None: not yet; it writes the file whole)."""
    try:
        ports: dict[str, int | None] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return ports


async def health(port: int) -> dict[str, object] | None:
    """The ``/health`` answer of the server on ``port`` (None: no answer or not 200)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    try:
        writer.write(
            f"GET {HEALTH_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        async with asyncio.timeout(5):
            data = await reader.read()
    except (OSError, TimeoutError):
        return None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        return None
    answer = json.loads(body)
    return answer if isinstance(answer, dict) else None


@contextlib.asynccontextmanager
async def running_cluster(
    admin_url: str, count: int, data_dir: Path, *, serve_args: Sequence[str] = ()
) -> AsyncIterator[Cluster]:
    """``count`` instances on a fresh PostgreSQL database of the server of ``admin_url``;
    everything stopped and the database dropped afterwards."""
    async with fresh_postgres_database(admin_url, prefix="dutydesk_cluster") as url:
        cluster = Cluster(url, data_dir, serve_args)
        try:
            await cluster.start(count)
            yield cluster
        finally:
            await cluster.close()
