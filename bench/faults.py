"""Fault harness: kill -9, PostgreSQL restarts, failing commits and a flood, under load.

A real ``dutydesk serve`` process (SQLite, or PostgreSQL with ``--pg``) is loaded by
JT/T 808 trucks and a JSON sensor feed with alarms mixed in (SOS and overspeed bits, methane
over its alarm line) while a console stays subscribed. Phases: (d) a flood of random bytes
from one address while a legitimate terminal times its acks; (a) kill -9 at random moments
for ``--cycles`` cycles, restarting on the same database and ports; (c) commits failed on
purpose (``DUTYDESK_FAULT_COMMIT_FAIL_RATE``); (b) PostgreSQL restarted under load. After
each phase, from the trucks', the feed's and the console's own records: every acknowledged
report and reading is stored, every acknowledged alarm became an alarm the console received
in ``seq`` order, nothing is stored twice that was sent once, and the event log's hash chain
verifies (``dutydesk audit verify``).

    .venv/bin/python bench/faults.py [--cycles 100] [--pg "$DUTYDESK_TEST_PG" --pg-restart]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fault_checks import Findings, check
from fault_load import (
    Backend,
    ConsoleRecord,
    FaultTruck,
    Feed,
    Probe,
    drive,
    dutydesk,
    flood,
    make_trucks,
    sensors_csv,
)
from track_load import bench_database

from backend.storage.faults import ENVIRONMENT_VARIABLE
from realtime import eventloop
from realtime.client import DutyDeskClient

CONSOLE_USER = "fault-console"
CONSOLE_PASSWORD = "fault-console-password"
FEED_USER = "fault-feed"


@dataclass
class Options:
    """What to run (the command line, or a test's choice)."""

    cycles: int = 100
    terminals: int = 170
    rate: float = 10.0
    feeds: int = 3
    feed_rate: float = 180.0
    sensors: int = 60
    settle: tuple[float, float] = (0.5, 2.0)
    """Load time before each kill: uniform between these (seconds)."""
    flood_seconds: float = 5.0
    flood_connections: int = 20
    commit_fail_rate: float = 0.05
    commit_fail_seconds: float = 10.0
    pg_admin: str | None = None
    pg_restart: bool = False
    pg_cluster: str = "15/main"
    seed: int = 13


@dataclass
class Run:
    """What happened, phase by phase."""

    phases: list[dict[str, Any]] = field(default_factory=list)
    listen_s: list[float] = field(default_factory=list)
    flood: dict[str, Any] = field(default_factory=dict)
    pg_restart: dict[str, Any] = field(default_factory=dict)
    load_seconds: float = 0.0
    messages_sent: int = 0


class Load:
    """The trucks, the feeds and the console against one backend, startable and stoppable
    between phases (their records carry over)."""

    def __init__(self, options: Options, backend: Backend, token: str, sensors: list[str]) -> None:
        self.backend = backend
        self.trucks = make_trucks(options.terminals, options.rate)
        url = f"ws://127.0.0.1:{backend.port}/device"
        share = max(1, len(sensors) // options.feeds)
        self.feeds = [
            Feed(url, token, sensors[i * share : (i + 1) * share], options.feed_rate)
            for i in range(options.feeds)
        ]
        self.console = ConsoleRecord()
        self.client = DutyDeskClient(
            f"ws://127.0.0.1:{backend.port}/console",
            self.console,
            username=CONSOLE_USER,
            password=CONSOLE_PASSWORD,
            client_name="fault-harness",
            backoff_initial=0.1,
            backoff_max=0.5,
        )
        self.console_task: asyncio.Task[None] | None = None

    def sent(self) -> int:
        """Reports and readings sent so far (resends included)."""
        frames = sum(frame.sends for truck in self.trucks for frame in truck.frames.values())
        return frames + sum(r.sends for feed in self.feeds for r in feed.readings)

    @contextlib.asynccontextmanager
    async def running(self, run: Run) -> AsyncIterator[None]:
        """Load for the duration of the block; the records stay for the checks."""
        if self.console_task is None:
            self.console_task = asyncio.create_task(self.client.run())
            await self.client.wait_live(30)
        stop = asyncio.Event()
        sent_before, started = self.sent(), time.perf_counter()
        tasks = [asyncio.create_task(drive(self.trucks, self.backend.jt808_port, stop))]
        tasks += [asyncio.create_task(feed.run(stop)) for feed in self.feeds]
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            run.load_seconds += time.perf_counter() - started
            run.messages_sent += self.sent() - sent_before

    async def close(self) -> None:
        """Stop the console."""
        await self.client.close()
        if self.console_task is not None:
            await self.console_task


async def _setup(backend: Backend, scratch: Path, sensors: int) -> tuple[str, list[str]]:
    """The console's and the feed's accounts and the sensors, through the CLI."""
    password = scratch / "console.password"
    password.write_text(CONSOLE_PASSWORD)
    storage = backend.storage_args()
    await asyncio.to_thread(
        dutydesk, "user", "add", CONSOLE_USER, "--role", "officer",
        "--password-file", str(password), *storage,
    )  # fmt: skip
    await asyncio.to_thread(
        dutydesk, "user", "add", FEED_USER, "--role", "device", "--no-password", *storage
    )
    token = (await asyncio.to_thread(dutydesk, "user", "token", FEED_USER, *storage)).split()[-1]
    ids = sensors_csv(scratch / "sensors.csv", sensors)
    await asyncio.to_thread(dutydesk, "sensor", "import", str(scratch / "sensors.csv"), *storage)
    return token, ids


async def _after(name: str, run: Run, load: Load, backend: Backend) -> Findings:
    findings = await check(backend, load.trucks, load.feeds, load.console)
    findings.phase = name
    run.phases.append(findings.as_dict())
    print(findings.line(), flush=True)
    return findings


async def _flood_phase(options: Options, run: Run, load: Load, backend: Backend) -> None:
    probe = Probe("13999990000")
    await probe.connect(backend.jt808_port)
    try:
        async with load.running(run):
            quiet = await probe.measure(options.flood_seconds)
            flooding = asyncio.create_task(
                flood(backend.jt808_port, options.flood_connections, options.flood_seconds)
            )
            loud = await probe.measure(options.flood_seconds)
            flood_bytes = await flooding
    finally:
        await probe.close()
    run.flood = {
        "quiet_p99_ms": _p99(quiet) * 1000,
        "flood_p99_ms": _p99(loud) * 1000,
        "quiet_samples": len(quiet),
        "flood_samples": len(loud),
        "flood_unanswered": sum(1 for value in loud if value >= probe.timeout),
        "flood_mb": flood_bytes / 1e6,
        "connections": options.flood_connections,
        "seconds": options.flood_seconds,
    }


async def _kill_phase(options: Options, run: Run, load: Load, backend: Backend) -> None:
    rng = random.Random(options.seed)
    async with load.running(run):
        for cycle in range(options.cycles):
            await asyncio.sleep(rng.uniform(*options.settle))
            killed = time.perf_counter()
            backend.kill()
            await backend.start()
            run.listen_s.append(time.perf_counter() - killed)
            if (cycle + 1) % 10 == 0:
                print(f"  {cycle + 1} of {options.cycles} kill cycles", flush=True)


async def _commit_fault_phase(options: Options, run: Run, load: Load, backend: Backend) -> None:
    backend.stop()
    await backend.start({ENVIRONMENT_VARIABLE: str(options.commit_fail_rate)})
    async with load.running(run):
        await asyncio.sleep(options.commit_fail_seconds)
    backend.stop()
    await backend.start()


async def _pg_restart_phase(options: Options, run: Run, load: Load) -> None:
    async with load.running(run):
        await asyncio.sleep(2.0)
        started = time.perf_counter()
        version, cluster = options.pg_cluster.split("/")
        await asyncio.to_thread(
            subprocess.run,
            ["pg_ctlcluster", version, cluster, "restart", "-m", "fast"],
            check=True,
            timeout=120,
        )
        restarted = time.perf_counter() - started
        # Acks flowing again: the count moves, twice (the first may have been in flight).
        await _acks_move(load, _acked(load), 60.0)
        await _acks_move(load, _acked(load), 60.0)
        resumed = time.perf_counter() - started
        await asyncio.sleep(3.0)
    run.pg_restart = {"restart_s": restarted, "acks_resumed_s": resumed}


async def _acks_move(load: Load, since: int, limit: float) -> None:
    for _ in range(int(limit / 0.05)):
        if _acked(load) != since:
            return
        await asyncio.sleep(0.05)


def _acked(load: Load) -> int:
    trucks: list[FaultTruck] = load.trucks
    return sum(truck.stats.reports_acked for truck in trucks)


def _p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


async def main(options: Options) -> dict[str, Any]:
    """Run every phase that the options ask for; return the figures."""
    run = Run()
    with tempfile.TemporaryDirectory(prefix="dutydesk-faults-") as folder:
        scratch = Path(folder)
        async with bench_database(options.pg_admin, scratch) as db_url:
            backend = Backend(db_url, scratch)
            token, sensors = await _setup(backend, scratch, options.sensors)
            run.listen_s.clear()
            await backend.start()
            load = Load(options, backend, token, sensors)
            try:
                await _phases(options, run, load, backend)
            finally:
                await load.close()
                backend.stop()
    return _figures(options, run)


async def _phases(options: Options, run: Run, load: Load, backend: Backend) -> None:
    if options.flood_seconds > 0:
        print("phase: flood", flush=True)
        await _flood_phase(options, run, load, backend)
        await _after("flood", run, load, backend)
    if options.cycles > 0:
        print(f"phase: kill -9 × {options.cycles}", flush=True)
        await _kill_phase(options, run, load, backend)
        await _after("kill -9", run, load, backend)
    if options.commit_fail_rate > 0:
        print(f"phase: {options.commit_fail_rate:.0%} of commits fail", flush=True)
        await _commit_fault_phase(options, run, load, backend)
        await _after("commit faults", run, load, backend)
    if options.pg_restart:
        if options.pg_admin is None:
            print("phase: PostgreSQL restart skipped (the database is SQLite; use --pg)")
        else:
            print("phase: PostgreSQL restart under load", flush=True)
            await _pg_restart_phase(options, run, load)
            await _after("PostgreSQL restart", run, load, backend)


def _figures(options: Options, run: Run) -> dict[str, Any]:
    last = run.phases[-1] if run.phases else {}
    listen = sorted(run.listen_s)
    return {
        "database": "PostgreSQL" if options.pg_admin else "SQLite",
        "cycles": len(listen),
        "messages_per_s": run.messages_sent / run.load_seconds if run.load_seconds else 0.0,
        "phases": run.phases,
        "final": last,
        "listen_s": {
            "min": listen[0] if listen else None,
            "median": statistics.median(listen) if listen else None,
            "max": listen[-1] if listen else None,
        },
        "flood": run.flood,
        "pg_restart": run.pg_restart,
    }


def report(figures: dict[str, Any]) -> None:
    """Print the figures readably, with the ratio lines."""
    final = figures["final"]
    print(f"database               {figures['database']}")
    print(f"load                   {figures['messages_per_s']:,.0f} messages/s sent (goal ≥ 2,000)")
    print(f"kill -9 cycles         {figures['cycles']}")
    if final:
        print(
            f"acked                  {final['frames_acked']:,} reports, "
            f"{final['readings_acked']:,} readings, {final['alarms_acked']:,} alarm episodes"
        )
        print(
            f"lost                   {final['lost']} (goal 0): reports {final['lost_reports']}, "
            f"readings {final['lost_readings']}, alarms {final['lost_alarms']}"
        )
        print(
            f"duplicated             {final['duplicated']} (goal 0); stored twice after a "
            f"resend of an unacknowledged message: {final['stored_again']}"
        )
        chain = "verifies" if final["chain_ok"] else "DAMAGED"
        print(f"event log chain        {chain} ({final['chain']})")
    listen = figures["listen_s"]
    if listen["min"] is not None:
        print(
            f"listening again        min {listen['min']:.2f} s  median {listen['median']:.2f} s  "
            f"max {listen['max']:.2f} s after kill -9 (goal ≤ 3 s on SQLite)"
        )
    flood_figures = figures["flood"]
    if flood_figures:
        ratio = flood_figures["flood_p99_ms"] / flood_figures["quiet_p99_ms"]
        print(
            f"probe ack p99          {flood_figures['quiet_p99_ms']:.1f} ms without flood, "
            f"{flood_figures['flood_p99_ms']:.1f} ms during the flood (goal < 200 ms); "
            f"ratio {ratio:.1f}"
        )
        print(
            f"flood                  {flood_figures['connections']} connections, "
            f"{flood_figures['flood_mb']:,.0f} MB in {flood_figures['seconds']:.0f} s; "
            f"{flood_figures['flood_unanswered']} of {flood_figures['flood_samples']} probe "
            "reports unanswered"
        )
    if figures["pg_restart"]:
        pg = figures["pg_restart"]
        print(
            f"PostgreSQL restart     {pg['restart_s']:.1f} s; acks flowing again "
            f"{pg['acks_resumed_s']:.1f} s after it began"
        )


def _options(argv: list[str] | None = None) -> tuple[Options, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    defaults = Options()
    parser.add_argument("--cycles", type=int, default=defaults.cycles, help="kill -9 cycles")
    parser.add_argument("--terminals", type=int, default=defaults.terminals, help="JT/T 808 trucks")
    parser.add_argument(
        "--rate", type=float, default=defaults.rate, help="reports per second per truck"
    )
    parser.add_argument("--feeds", type=int, default=defaults.feeds, help="/device connections")
    parser.add_argument(
        "--feed-rate", type=float, default=defaults.feed_rate, help="readings/s per feed"
    )
    parser.add_argument("--sensors", type=int, default=defaults.sensors, help="methane sensors")
    parser.add_argument(
        "--flood-seconds",
        type=float,
        default=defaults.flood_seconds,
        help="probe without, then with the flood, this long each (0: no flood phase)",
    )
    parser.add_argument(
        "--flood-connections", type=int, default=defaults.flood_connections, help="flood sockets"
    )
    parser.add_argument(
        "--commit-fail-rate",
        type=float,
        default=defaults.commit_fail_rate,
        help=f"share of commits failed on purpose ({ENVIRONMENT_VARIABLE}; 0: no such phase)",
    )
    parser.add_argument("--commit-fail-seconds", type=float, default=defaults.commit_fail_seconds)
    parser.add_argument(
        "--pg", metavar="URL", help="PostgreSQL admin URL: run on a fresh database there"
    )
    parser.add_argument(
        "--pg-restart",
        action="store_true",
        help="restart PostgreSQL under load (pg_ctlcluster; skipped on SQLite)",
    )
    parser.add_argument(
        "--pg-cluster", default=defaults.pg_cluster, help="VERSION/NAME for pg_ctlcluster"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="kill moments' seed")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    options = Options(
        cycles=args.cycles,
        terminals=args.terminals,
        rate=args.rate,
        feeds=args.feeds,
        feed_rate=args.feed_rate,
        sensors=args.sensors,
        flood_seconds=args.flood_seconds,
        flood_connections=args.flood_connections,
        commit_fail_rate=args.commit_fail_rate,
        commit_fail_seconds=args.commit_fail_seconds,
        pg_admin=args.pg,
        pg_restart=args.pg_restart,
        pg_cluster=args.pg_cluster,
        seed=args.seed,
    )
    return options, args.json


def run() -> int:
    """The command line; exits 1 when anything acknowledged was lost or duplicated."""
    options, json_path = _options()
    figures = eventloop.run(main(options))
    report(figures)
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2, default=str))
    final = figures["final"]
    failed = final and (final["lost"] or final["duplicated"] or not final["chain_ok"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run())
