"""``dutydesk serve --workers N``: N server processes sharing the ports, one supervisor.

Each worker is a whole ``dutydesk serve`` (the same options plus ``--reuse-port``): it
listens with SO_REUSEPORT on the JT/T 808 port and on the console port, and the kernel
spreads new connections over the workers. Every worker stores to the one PostgreSQL
database; what a terminal's next connection needs (alarm bits, rule state) is kept there
(``backend.ingest.terminal_state``), so a terminal may reconnect to any worker.

The supervisor (this process) migrates the database once, starts the workers, starts a
worker again when one dies (after a pause that grows while it keeps dying), stops them
all on SIGTERM or Ctrl-C, and gives up (stopping the others, exit code 1) when a worker
dies five times within a minute, or exits with a usage error (it would again).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from backend.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, err
from backend.security import FieldCipher
from backend.storage import db

logger = logging.getLogger(__name__)

STOP_TIMEOUT = 20.0
"""Seconds the workers have to stop after SIGTERM before they are killed."""
CRASH_WINDOW = 60.0
"""A worker dying ``CRASH_LIMIT`` times within this many seconds stops everything."""
CRASH_LIMIT = 5
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)
"""Pause before starting a dead worker again, by how often it died in the window."""
WORKER_ENVIRONMENT_VARIABLE = "DUTYDESK_WORKER"
"""Set in each worker's environment to its number (1..N), for its log lines."""


def worker_argv(argv: Sequence[str]) -> list[str]:
    """The command line of one worker: ``argv`` (``serve`` and its options) without
    ``--workers``, with ``--reuse-port``."""
    result: list[str] = []
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word == "--workers":
            skip = True
            continue
        if word.startswith("--workers="):
            continue
        result.append(word)
    if "--reuse-port" not in result:
        result.append("--reuse-port")
    return [sys.executable, "-m", "backend", *result]


def _end_with_parent() -> None:
    """In the worker, before it runs: Linux sends it SIGTERM when the supervisor dies
    (even by kill -9), so no orphaned worker keeps the ports."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


@dataclass(slots=True)
class _Worker:
    number: int
    process: asyncio.subprocess.Process | None = None
    deaths: list[float] = field(default_factory=list)


class Supervisor:
    """Starts, watches and stops the worker processes."""

    def __init__(self, count: int, argv: Sequence[str]) -> None:
        self._argv = worker_argv(argv)
        self._workers = [_Worker(number) for number in range(1, count + 1)]
        self._stopping = asyncio.Event()
        self._failed: str | None = None

    def stop(self) -> None:
        """Ask every worker to stop (SIGTERM): the supervisor's run then returns."""
        self._stopping.set()

    @property
    def pids(self) -> list[int]:
        """The process ids of the running workers."""
        return [w.process.pid for w in self._workers if w.process is not None]

    async def _start(self, worker: _Worker) -> None:
        environment = {**os.environ, WORKER_ENVIRONMENT_VARIABLE: str(worker.number)}
        worker.process = await asyncio.create_subprocess_exec(
            *self._argv, env=environment, preexec_fn=_end_with_parent
        )
        logger.info("worker %s started (pid %s)", worker.number, worker.process.pid)

    async def run(self) -> int:
        """Run until :meth:`stop` or a worker that cannot be kept running; the exit code."""
        for worker in self._workers:
            await self._start(worker)
        watchers = {
            asyncio.create_task(self._watch(worker), name=f"worker-{worker.number}")
            for worker in self._workers
        }
        try:
            await self._stopping.wait()
        finally:
            await self._stop_all()
            for watcher in watchers:
                watcher.cancel()
            for watcher in watchers:
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
        if self._failed is not None:
            err(f"dutydesk serve: {self._failed}")
            return EXIT_FAILURE
        return EXIT_OK

    async def _watch(self, worker: _Worker) -> None:
        while worker.process is not None:
            code = await worker.process.wait()
            if self._stopping.is_set():
                return
            now = time.monotonic()
            worker.deaths = [at for at in worker.deaths if now - at < CRASH_WINDOW] + [now]
            if code == EXIT_USAGE:
                self._fail(f"worker {worker.number} refused its options (exit code {code})")
                return
            if len(worker.deaths) >= CRASH_LIMIT:
                self._fail(
                    f"worker {worker.number} died {len(worker.deaths)} times within "
                    f"{CRASH_WINDOW:g} s (last exit code {code}); stopping all workers"
                )
                return
            delay = RESTART_DELAYS[min(len(worker.deaths), len(RESTART_DELAYS)) - 1]
            logger.warning(
                "worker %s (pid %s) ended with exit code %s; starting it again in %g s",
                worker.number,
                worker.process.pid,
                code,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            await self._start(worker)

    def _fail(self, reason: str) -> None:
        self._failed = reason
        self._stopping.set()

    async def _stop_all(self) -> None:
        running = [
            w.process
            for w in self._workers
            if w.process is not None and w.process.returncode is None
        ]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                logger.warning(
                    "worker pid %s did not stop in %g s: killed", process.pid, STOP_TIMEOUT
                )
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        logger.info("all workers stopped")


def refusal(db_url: str, port: int, jt808: tuple[str, int] | None, workers: int) -> str | None:
    """Why ``--workers`` cannot be used as given (None: it can)."""
    if workers < 1:
        return f"--workers must be 1 or more, not {workers}"
    if workers == 1:
        return None
    if db.database_url(db_url).get_backend_name() != "postgresql":
        return (
            "--workers needs PostgreSQL (--db postgresql://…): SQLite takes one writing "
            "process at a time"
        )
    if port == 0 or (jt808 is not None and jt808[1] == 0):
        return "--workers needs fixed ports (not 0): the workers share them"
    return None


async def supervise(db_url: str, data_dir: Path, workers: int, argv: Sequence[str]) -> int:
    """Migrate once, then run ``workers`` worker processes until SIGTERM or Ctrl-C."""
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested.set)
    # Once here, not N times at once: the workers then find the schema up to date. The
    # data key is made here too, so that no two workers race to create it.
    cipher = FieldCipher.from_data_dir(data_dir)
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, encrypter=lambda: cipher.encrypt)
    except (SQLAlchemyError, OSError, db.Error) as exc:
        reason = db.failure_reason(exc)
        err(f"dutydesk serve: cannot use the database {db.safe_url(db_url)}: {reason}")
        return EXIT_FAILURE
    finally:
        await engine.dispose()
    supervisor = Supervisor(workers, argv)
    running = asyncio.create_task(supervisor.run())
    stopper = asyncio.create_task(stop_requested.wait())
    await asyncio.wait({running, stopper}, return_when=asyncio.FIRST_COMPLETED)
    supervisor.stop()
    stopper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stopper
    return await running
