"""Scale-out benchmark: ``dutydesk serve`` with 1 and with 2 workers on one PostgreSQL,
the same offered JT/T 808 load (bench/ingest.py's raw-stream generator, in its own
process), everything on this machine.

Printed per run: locations stored per second, sent → console and sent → 0x8001 (p50/p99),
CPU per location of the server processes and of PostgreSQL, and the 2-worker/1-worker
throughput ratio. Beside them, the floor on this machine: the generator alone (its CPU per
frame against a bare answering socket) and PostgreSQL's inserts alone (the group commit
as fast as it goes, nothing else running). The generator, the consoles, the servers and
PostgreSQL all share the same cores: when their CPU per location added up says the goal
(20,000 locations/s, p99 ≤ 100 ms) cannot fit on them, the output says so.

    .venv/bin/python bench/scaleout.py --pg "$DUTYDESK_TEST_PG" \\
        [--terminals 1000] [--rate 10] [--seconds 8] [--workers 1,2] \\
        [--offered 20000,30000,40000]

With ``--offered`` each configuration runs at each offered load, and the ratio is taken
between the configurations' best throughputs (where they saturate), not at one load that
both may carry. The coalescing floor of sent → console is printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import ingest as raw
from sqlalchemy import text
from track_load import bench_database

from backend.ingest.telemetry import TelemetryWriter
from backend.server.config import ServerConfig
from backend.server.telemetry_relay import DEFAULT_INTERVAL as WORKER_RELAY_INTERVAL
from backend.storage import db
from devices.observations import Position

GOAL_PER_S = 20_000
GOAL_P99_MS = 100.0
CONSOLES = 4
"""Consoles opened on the shared console port: each lands on some worker, and a console
sees the telemetry of the terminals of its own worker."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pids: Sequence[int], seen: dict[int, float] | None = None) -> float:
    """CPU seconds used so far by ``pids``; with ``seen`` (pid → last reading), processes
    that ended since still count with their last reading (a sum over the live ones only
    would drop when a database backend exits)."""
    ticks = os.sysconf("SC_CLK_TCK")
    readings = {} if seen is None else seen
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            readings[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return sum(readings.values())


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


def _children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


# ---------------------------------------------------------------------- the server


@contextlib.asynccontextmanager
async def _server(
    url: str, data_dir: Path, workers: int, rate: float, console_tick_ms: float | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int, int]]:
    port, jt808 = _free_port(), _free_port()
    environment = {**os.environ, "DUTYDESK_DB": url, "DUTYDESK_LOG_LEVEL": "WARNING"}
    base = [sys.executable, "-m", "backend"]
    password = data_dir / "password"
    password.write_text("bench-password\n")
    add_user = await asyncio.create_subprocess_exec(
        *base,
        "user",
        "add",
        "bench",
        "--role",
        "officer",
        "--password-file",
        str(password),
        "--data-dir",
        str(data_dir),
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
    )
    if await add_user.wait() != 0:
        raise RuntimeError("could not add the bench user")
    command = [*base, "serve", "--data-dir", str(data_dir), "--port", str(port)]
    command += ["--jt808", f"127.0.0.1:{jt808}", "--jt808-auto-register"]
    command += ["--jt808-max-per-address", "100000", "--jt808-max-connections", "100000"]
    if workers > 1:
        command += ["--workers", str(workers)]
    if console_tick_ms is not None:
        command += ["--console-tick", str(console_tick_ms)]
    process = await asyncio.create_subprocess_exec(*command, env=environment)
    try:
        deadline = time.monotonic() + 90
        while not await asyncio.to_thread(_healthy, port) or (
            workers > 1 and len(_children(process.pid)) < workers
        ):
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.2)
        yield process, port, jt808
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


def _healthy(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
    except OSError:
        return False
    return True


async def _count(url: str) -> int:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(text("SELECT count(*) FROM positions")) or 0)
    finally:
        await engine.dispose()


@dataclasses.dataclass(slots=True)
class _Sample:
    at: float
    rows: int
    server_cpu: float
    postgres_cpu: float


async def _watch_rows(
    url: str, server_pids: list[int], stop: asyncio.Event, trace: list[_Sample]
) -> None:
    """Sample the stored row count and the CPU used so far by the servers and by
    PostgreSQL (10 per second) until ``stop``; then until the count rests for 2 s."""
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            quiet_since = time.time()
            postgres_seen: dict[int, float] = {}
            while True:
                rows = int(await connection.scalar(text("SELECT count(*) FROM positions")) or 0)
                # This database's backends and the server's own processes (WAL writer,
                # checkpointer …), not the backends of other work on the same PostgreSQL.
                ours = list(
                    await connection.scalars(
                        text(
                            "SELECT pid FROM pg_stat_activity "
                            "WHERE datname = current_database() OR datname IS NULL"
                        )
                    )
                )
                await connection.commit()
                now = time.time()
                if not trace or rows != trace[-1].rows:
                    # Every such process now (the servers open connections lazily).
                    cpu = _cpu_seconds(server_pids), _cpu_seconds(ours, postgres_seen)
                    trace.append(_Sample(now, rows, *cpu))
                    quiet_since = now
                elif stop.is_set() and now - quiet_since > 2.0:
                    return
                await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def run_once(
    pg_admin: str,
    workers: int,
    terminals: int,
    rate: float,
    seconds: float,
    *,
    console_tick_ms: float | None = None,
) -> dict[str, Any]:
    """One run of ``workers`` workers under the offered load."""
    with tempfile.TemporaryDirectory(prefix="dutydesk-scaleout-") as scratch_name:
        scratch = Path(scratch_name)
        async with bench_database(pg_admin, scratch) as url:
            async with _server(url, scratch, workers, rate, console_tick_ms) as (
                process,
                port,
                jt808,
            ):
                consoles = raw._ConsoleSpec(
                    f"ws://127.0.0.1:{port}/console", scratch / "consoles.json", count=CONSOLES
                )
                async with raw._console_running(consoles):
                    load_spec = raw._LoadSpec(
                        jt808, terminals, rate, seconds, True, scratch / "load.json"
                    )
                    server_pids = [process.pid, *_children(process.pid)]
                    trace: list[_Sample] = []
                    stop = asyncio.Event()
                    watcher = asyncio.create_task(_watch_rows(url, server_pids, stop, trace))
                    await raw._run_load(load_spec)
                    stop.set()
                    await watcher
                    stored = await _count(url)
                await asyncio.sleep(0)
            received: list[list[Any]] = json.loads(consoles.results.read_text())
        timings = raw._timings(load_spec.results)
    sent, acked = timings["sent"], timings["acked"]
    first_sent = min(t for times in sent.values() for t in times)
    last_stored_at = trace[-1].at if trace else first_sent
    span = last_stored_at - first_sent
    # CPU from the first stored location to the last (terminals' logins left out).
    first = next((sample for sample in trace if sample.rows > 0), None)
    last = trace[-1] if trace else None
    measured = max(last.rows - first.rows, 1) if first and last else 1
    server_cpu = last.server_cpu - first.server_cpu if first and last else 0.0
    pg_cpu = last.postgres_cpu - first.postgres_cpu if first and last else 0.0
    seen: dict[tuple[str, int], float] = {}
    for device, seq, at in received:  # the first console to see a fix counts
        key = (device, seq)
        if key not in seen or at < seen[key]:
            seen[key] = at
    latencies = sorted(
        (at - sent[device][seq]) * 1000
        for (device, seq), at in seen.items()
        if device in sent and 0 <= seq < len(sent[device])
    )
    acks = sorted(
        (ack - sent_at) * 1000
        for phone, times in sent.items()
        for sent_at, ack in zip(times, acked[phone], strict=False)
    )
    return {
        "workers": workers,
        "offered_per_s": terminals * rate,
        "sent": sum(len(t) for t in sent.values()),
        "stored": stored,
        "stored_per_s": stored / span if span > 0 else 0.0,
        "p50_ms": _pct(latencies, 0.5),
        "p99_ms": _pct(latencies, 0.99),
        "console_fixes": len(latencies),
        "ack_p50_ms": _pct(acks, 0.5),
        "ack_p99_ms": _pct(acks, 0.99),
        "server_us": server_cpu / measured * 1e6,
        "postgres_us": pg_cpu / measured * 1e6,
        "load": timings["load"],
    }


def _pct(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    if share == 0.5:
        return statistics.median(values)
    return values[max(int(len(values) * share) - 1, 0)]


# ---------------------------------------------------------------------- the floor


async def insert_floor(pg_admin: str, rows: int = 200_000, batch: int = 500) -> dict[str, float]:
    """PostgreSQL's inserts alone: the group commit with two submitters (as two workers),
    batches as the gateway hands them, as fast as it goes. Rows per second, and the CPU
    per row of this process and of PostgreSQL."""
    at = dt.datetime.now(dt.UTC)
    fixes = [
        Position(
            device=str(raw.PHONE_BASE + n % 2000),
            at=at + dt.timedelta(milliseconds=n),
            lat=30.25,
            lon=120.15,
            speed_kmh=42.0,
        )
        for n in range(rows)
    ]
    places = [""] * batch
    with tempfile.TemporaryDirectory(prefix="dutydesk-floor-") as scratch:
        async with bench_database(pg_admin, Path(scratch)) as url:
            engine = db.create_engine(url)
            await db.migrate(engine)
            writer = TelemetryWriter(db.session_factory(engine), max_delay=0.01)
            writer.start()
            pg_pids = _postgres_pids()
            pg_cpu = _cpu_seconds(pg_pids)
            own_cpu = time.process_time()
            started = time.perf_counter()

            async def submitter(offset: int) -> None:
                for start in range(offset * batch, rows, 2 * batch):
                    chunk = fixes[start : start + batch]
                    await writer.submit_many(chunk, places[: len(chunk)])

            await asyncio.gather(submitter(0), submitter(1))
            elapsed = time.perf_counter() - started
            own = time.process_time() - own_cpu
            pg = _cpu_seconds(pg_pids) - pg_cpu
            await writer.stop()
            await engine.dispose()
    return {"per_s": rows / elapsed, "writer_us": own / rows * 1e6, "postgres_us": pg / rows * 1e6}


async def generator_floor(terminals: int, rate: float, seconds: float) -> raw.LoadStats:
    """The generator alone, at the offered load, against a bare answering socket."""
    with tempfile.TemporaryDirectory(prefix="dutydesk-gen-") as scratch:
        _, load = await raw.io_ceiling(terminals, rate, seconds, Path(scratch))
    return load


# ---------------------------------------------------------------------- report


async def main(args: argparse.Namespace) -> None:
    cores = len(os.sched_getaffinity(0))
    print(
        f"machine                {cores} cores; PostgreSQL, generator, consoles and servers "
        "share them"
    )
    generator = await generator_floor(args.terminals, args.rate, args.seconds)
    floor = await insert_floor(args.pg)
    gen_us = generator["cpu_us_per_frame"]
    print(
        f"floor: generator alone {gen_us:.1f} µs CPU per frame (one core ≈ "
        f"{1e6 / gen_us:,.0f} frames/s); sent {generator['sent_per_s']:,.0f}/s of "
        f"{generator['offered_per_s']:,.0f}/s offered"
    )
    print(
        f"floor: inserts alone   {floor['per_s']:,.0f} positions/s (group commit, 2 "
        f"submitters; {floor['writer_us']:.1f} µs writer + {floor['postgres_us']:.1f} µs "
        "PostgreSQL CPU per row)"
    )
    _print_coalescing_floor(args.console_tick)
    levels = args.offered or [args.terminals * args.rate]
    results = []
    for workers in args.workers:
        for offered in levels:
            result = await run_once(
                args.pg,
                workers,
                args.terminals,
                offered / args.terminals,
                args.seconds,
                console_tick_ms=args.console_tick,
            )
            results.append(result)
            _print_run(result)
    # Each configuration's best: with several offered loads, where it saturates.
    best: dict[int, dict[str, Any]] = {}
    for result in results:
        if result["stored_per_s"] > best.get(result["workers"], {}).get("stored_per_s", -1):
            best[result["workers"]] = result
    for workers, result in best.items():
        saturated = result["stored_per_s"] < 0.95 * result["offered_per_s"]
        print(
            f"saturation             {workers} worker(s): {result['stored_per_s']:,.0f}/s at "
            f"{result['offered_per_s']:,.0f}/s offered"
            + ("" if saturated or len(levels) == 1 else " (never saturated: offer more)")
        )
    if len(best) >= 2:
        few, many = min(best), max(best)
        if best[few]["stored_per_s"]:
            ratio = best[many]["stored_per_s"] / best[few]["stored_per_s"]
            print(
                f"ratio                  {many} workers / {few} worker best throughput = "
                f"{ratio:.2f}"
            )
    _verdict(cores, gen_us, floor, results)


def _print_coalescing_floor(console_tick_ms: float | None) -> None:
    """What coalescing alone adds to sent → console: the group commit's window, then the
    hub's telemetry tick; a console on another worker waits for the relay's tick and its
    own worker's hub tick too. Worst case (a fix just missing each tick)."""
    config = ServerConfig(db_url="sqlite://", data_dir=Path())
    if console_tick_ms is not None:
        config = dataclasses.replace(config, telemetry_fanout_interval=console_tick_ms / 1000)
    own = (config.telemetry_commit_delay + config.telemetry_fanout_interval) * 1000
    relayed = own + (WORKER_RELAY_INTERVAL + config.telemetry_fanout_interval) * 1000
    print(
        f"floor: coalescing      sent → console waits up to {own:.0f} ms (commit window "
        f"{config.telemetry_commit_delay * 1000:.0f} ms + console tick "
        f"{config.telemetry_fanout_interval * 1000:.0f} ms) on the terminal's worker, up to "
        f"{relayed:.0f} ms on another worker (+ relay tick + its console tick)"
    )


def _print_run(result: dict[str, Any]) -> None:
    load = result["load"]
    print(f"--- {result['workers']} worker(s), offered {result['offered_per_s']:,.0f} locations/s")
    print(
        f"stored                 {result['stored_per_s']:,.0f} locations/s "
        f"({result['stored']:,} of {result['sent']:,} sent)"
    )
    print(
        f"sent → console         p50 {result['p50_ms']:.1f} ms   p99 {result['p99_ms']:.1f} ms "
        f"({result['console_fixes']:,} fixes seen by {CONSOLES} consoles)"
    )
    print(
        f"sent → 0x8001          p50 {result['ack_p50_ms']:.1f} ms   "
        f"p99 {result['ack_p99_ms']:.1f} ms"
    )
    print(
        f"CPU per location       servers {result['server_us']:.1f} µs + PostgreSQL "
        f"{result['postgres_us']:.1f} µs (+ generator {load['cpu_us_per_frame']:.1f} µs)"
    )
    raw._print_load("load generator", load)


def _verdict(
    cores: int, gen_us: float, floor: dict[str, float], results: list[dict[str, Any]]
) -> None:
    budget_us = cores * 1e6 / GOAL_PER_S
    best = max(results, key=lambda r: r["stored_per_s"])
    total_us = best["server_us"] + best["postgres_us"] + gen_us
    fits = 1e6 * cores / total_us
    print(
        f"goal                   {GOAL_PER_S:,}/s at p99 ≤ {GOAL_P99_MS:.0f} ms needs ≤ "
        f"{budget_us:.0f} µs of CPU per location on {cores} cores for everything"
    )
    print(
        f"this machine           servers + PostgreSQL + generator = {total_us:.0f} µs per "
        f"location ({best['workers']} workers): at most ≈ {fits:,.0f} locations/s fit here"
    )
    reached = best["stored_per_s"] >= 0.98 * GOAL_PER_S and best["p99_ms"] <= GOAL_P99_MS
    load_average = os.getloadavg()[0]
    print(
        f"machine load           load average {load_average:.1f} on {cores} cores at the end"
        + (
            " (other work was running: every process got less CPU than asked)"
            if load_average > cores
            else ""
        )
    )
    if reached:
        print("verdict                the goal is reached on this machine")
    elif fits >= GOAL_PER_S and load_average > cores:
        print(
            "verdict                by CPU per location the goal would fit here, but it was "
            "not reached: the machine was busy with other work (see the load average), so "
            "these runs measure the machine more than DutyDesk; run again on an idle machine"
        )
    elif fits < GOAL_PER_S:
        print(
            "verdict                the goal is beyond this machine: the generator and "
            "PostgreSQL alone take "
            f"{gen_us + floor['postgres_us']:.0f} µs per location of the {budget_us:.0f} µs "
            "budget; the servers need cores of their own (docs/deployment.md, Past one "
            "PostgreSQL)"
        )
    else:
        print("verdict                the goal fits the CPU here but was not reached")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--pg", default=os.environ.get("DUTYDESK_TEST_PG"), help="PostgreSQL admin URL"
    )
    parser.add_argument("--terminals", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="frames per second per terminal")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--offered",
        type=lambda text: [float(n) for n in text.split(",")],
        default=None,
        help="offered loads in locations/s, comma-separated (e.g. 20000,30000,40000): each "
        "configuration runs at each, to find where it saturates (default: terminals × rate)",
    )
    parser.add_argument(
        "--workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2],
        help="worker counts to run, comma-separated (default: 1,2)",
    )
    parser.add_argument(
        "--console-tick",
        type=float,
        default=None,
        metavar="MS",
        help="the servers' console tick (`serve --console-tick`; default: the server's)",
    )
    args = parser.parse_args()
    if not args.pg:
        raise SystemExit("bench/scaleout.py needs PostgreSQL: --pg URL or $DUTYDESK_TEST_PG")
    asyncio.run(main(args))


if __name__ == "__main__":
    run()
