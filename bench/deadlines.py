"""Task deadlines benchmark: what checking 10,000 open tasks costs the event loop.

Two parts.

**Tracker** (sans-I/O): T open tasks, each with accept/arrive/finish deadlines spread over
the next hours, in :class:`backend.incidents.deadlines.DeadlineTracker`. Once per
simulated second for S seconds, C tasks change (a step, a new deadline) and the tracker
is asked what is due. Printed: the CPU time of one check (p50, p99, max) and of a naive
scan of every deadline each second, for the ratio; the goal is a check well under 5 ms.

**Service** (SQLite in a temporary folder): the same T open tasks are written to the
database, an :class:`backend.incidents.service.IncidentService` loads them as after a
restart, and its runner checks every 50 ms for a few seconds of wall time while the
clock moves fast enough that some deadlines fall due and escalate (each one committed).
A probe coroutine sleeping 1 ms measures how late the loop wakes it: the stall. Printed:
the reload time (a one-off at start), escalations, and the probe's p99 and max lateness;
the goal is a max stall ≤ 5 ms during the checks.

    .venv/bin/python bench/deadlines.py [--tasks 10000] [--seconds 600] [--changes 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import insert

from backend.authz.principal import Principal
from backend.config import sqlite_url
from backend.eventlog import log as eventlog
from backend.incidents.catalogue import load_catalogue
from backend.incidents.deadlines import DeadlineTracker
from backend.incidents.service import ESCALATIONS_PER_CHECK, IncidentService
from backend.runtime.collector import short_collections
from backend.storage import db
from backend.storage.models import TaskRecord
from realtime.incident_states import Deadline, EscalationLevel, TaskState
from realtime.protocol import Event, Role

T0 = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
OFFICER = Principal(1, "bench", "bench", Role.OFFICER, None, "")


def _deadlines(rng: random.Random, sent: dt.datetime) -> dict[Deadline, dt.datetime]:
    accept = rng.uniform(1, 60)
    arrive = accept + rng.uniform(5, 120)
    finish = arrive + rng.uniform(60, 60 * 24)
    return {
        Deadline.ACCEPT: sent + dt.timedelta(minutes=accept),
        Deadline.ARRIVE: sent + dt.timedelta(minutes=arrive),
        Deadline.FINISH: sent + dt.timedelta(minutes=finish),
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_tracker(tasks: int, seconds: int, changes: int, seed: int = 1) -> dict[str, float]:
    """Per-check CPU time of the tracker and of a naive scan; returns the figures (ms)."""
    rng = random.Random(seed)
    tracker = DeadlineTracker()
    flat: dict[tuple[int, Deadline], dt.datetime] = {}
    for task_id in range(tasks):
        due = _deadlines(rng, T0)
        tracker.track(task_id, due)
        flat.update({(task_id, deadline): when for deadline, when in due.items()})
    checks: list[float] = []
    scans: list[float] = []
    overdue = 0
    for second in range(seconds):
        now = T0 + dt.timedelta(seconds=second)
        started = time.thread_time()
        for _ in range(changes):
            task_id = rng.randrange(tasks)
            tracker.track(task_id, _deadlines(rng, now))
        found = tracker.due(now, limit=ESCALATIONS_PER_CHECK)
        checks.append((time.thread_time() - started) * 1000)
        overdue += len(found)
        started = time.thread_time()
        _scanned = [key for key, when in flat.items() if when <= now]
        scans.append((time.thread_time() - started) * 1000)
    return {
        "check_p50_ms": statistics.median(checks),
        "check_p99_ms": _percentile(checks, 0.99),
        "check_max_ms": max(checks),
        "scan_p50_ms": statistics.median(scans),
        "overdue": float(overdue),
        "pending": float(len(tracker)),
    }


@contextlib.contextmanager
def _step_cpu_times(steps: list[float]) -> Iterator[None]:
    """Record the loop thread's CPU time of every callback the loop runs (ms): the longest
    is how long one step blocks the loop on a free CPU, whatever else the machine runs."""
    original = asyncio.Handle._run

    def timed(handle: asyncio.Handle) -> None:
        started = time.thread_time()
        original(handle)
        steps.append((time.thread_time() - started) * 1000)

    asyncio.Handle._run = timed  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        asyncio.Handle._run = original  # type: ignore[method-assign]


async def _probe(stop: asyncio.Event, lateness: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.001)
        lateness.append((time.perf_counter() - started - 0.001) * 1000)


async def bench_service(tasks: int, wall_seconds: float, seed: int = 1) -> dict[str, float]:
    """Loop stall while the service checks ``tasks`` open tasks; returns the figures."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        engine = db.create_engine(sqlite_url(Path(folder)))
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        escalated: list[Event] = []
        writer = eventlog.EventWriter(sessions, escalated.extend)
        catalogue = load_catalogue()
        clock_now = [T0]
        service = IncidentService(
            sessions, writer, catalogue, clock=lambda: clock_now[0], check_interval=0.05
        )
        incident = await service.open_incident(
            OFFICER, type_code="hazchem_leak", title="bench", jurisdiction=""
        )
        rows = []
        for _ in range(tasks):
            sent = T0 - dt.timedelta(minutes=rng.uniform(0, 60))
            due = _deadlines(rng, sent + dt.timedelta(hours=1))
            rows.append(
                {
                    "incident_id": incident.id,
                    "version": 1,
                    "state": TaskState.SENT.value,
                    "assignee_kind": "agency",
                    "assignee_ref": "fire",
                    "assignee_name": "fire",
                    "agency": "fire",
                    "jurisdiction": "",
                    "assignee_user": "",
                    "instructions": "",
                    "last_action": None,
                    "last_note": "",
                    "accept_by": due[Deadline.ACCEPT],
                    "arrive_by": due[Deadline.ARRIVE],
                    "finish_by": due[Deadline.FINISH],
                    "escalation_level": EscalationLevel.AGENCY_DESK.value,
                    "returned_from": None,
                    "created_at": sent,
                    "created_by": "bench",
                    "updated_at": sent,
                    "updated_by": "bench",
                }
            )
        async with sessions.begin() as session:
            await session.execute(insert(TaskRecord), rows)
        stop = asyncio.Event()
        lateness: list[float] = []
        steps: list[float] = []
        async with short_collections():  # as `dutydesk serve` does
            reload_steps: list[float] = []
            started = time.perf_counter()
            with _step_cpu_times(reload_steps):
                pending = await asyncio.create_task(service.reload_deadlines())
            reload_ms = (time.perf_counter() - started) * 1000
            probe = asyncio.create_task(_probe(stop, lateness))
            with _step_cpu_times(steps):
                service.start()
                # The clock runs 100x faster than the wall so that deadlines keep falling due.
                began = time.perf_counter()
                while time.perf_counter() - began < wall_seconds:
                    await asyncio.sleep(0.01)
                    clock_now[0] = T0 + dt.timedelta(seconds=(time.perf_counter() - began) * 100)
                await service.stop()
            stop.set()
            await probe
        await engine.dispose()
    return {
        "pending": float(pending),
        "reload_ms": reload_ms,
        "reload_step_max_ms": max(reload_steps),
        "escalations": float(len(escalated)),
        "stall_p99_ms": _percentile(lateness, 0.99),
        "stall_max_ms": max(lateness),
        "step_cpu_p99_ms": _percentile(steps, 0.99),
        "step_cpu_max_ms": max(steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=600, help="simulated seconds (tracker)")
    parser.add_argument("--changes", type=int, default=5, help="task changes per second")
    parser.add_argument("--wall", type=float, default=5.0, help="wall seconds (service)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tracker = bench_tracker(args.tasks, args.seconds, args.changes)
    print(f"tracker: {args.tasks} open tasks, {int(tracker['pending'])} deadlines pending")
    print(
        f"  check (CPU)  p50 {tracker['check_p50_ms']:.3f} ms  p99 {tracker['check_p99_ms']:.3f} ms"
        f"  max {tracker['check_max_ms']:.3f} ms  ({int(tracker['overdue'])} overdue handed out)"
    )
    print(
        f"  naive scan p50 {tracker['scan_p50_ms']:.3f} ms: the heap check is "
        f"{tracker['scan_p50_ms'] / max(tracker['check_p50_ms'], 1e-6):.0f}x cheaper"
    )
    service = asyncio.run(bench_service(args.tasks, args.wall))
    print(
        f"service: {int(service['pending'])} deadlines reloaded in {service['reload_ms']:.0f} ms"
        f" (longest loop step {service['reload_step_max_ms']:.1f} ms CPU)"
    )
    print(
        f"  {int(service['escalations'])} escalations committed; longest loop step"
        f" (CPU) p99 {service['step_cpu_p99_ms']:.2f} ms  max {service['step_cpu_max_ms']:.2f} ms"
        " (goal ≤ 5 ms)"
    )
    print(
        f"  probe lateness (wall clock, includes other processes) p99"
        f" {service['stall_p99_ms']:.2f} ms  max {service['stall_max_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
