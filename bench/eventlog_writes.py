"""Event-log write benchmark on PostgreSQL: what several-instance safety costs one instance.

Since issue 19 every writing transaction on PostgreSQL locks the log's head (the counter
row, ``FOR UPDATE``) as its first statement, so writers of several instances queue there
and can never deadlock on other rows, and a trigger (migration r0023) notifies
``dutydesk_events`` with the new head at each commit. Before, the head was locked when the
first event was appended and nothing was notified. This bench writes transactions of one
event each through :class:`backend.eventlog.log.EventWriter` on a fresh database:

- **before**: the writer as it was (no lock before the work) on a database without the
  trigger;
- **now**: the writer as it is, with the trigger;
- **two writers**: two engines (as two instances) writing at once, each as ``now``:
  their total throughput (they take turns at the head) and that the chain stays whole.

Rounds of *before* and *now* alternate (``--rounds``) so machine noise hits both alike.
Printed per variant: transactions/s and commit latency p50/p99 with ``--callers``
concurrent callers (they queue on the writer's lock, as the server's services do), and the
now/before throughput ratio.

    .venv/bin/python bench/eventlog_writes.py [--transactions 1000] [--callers 4] [--rounds 3]

Needs ``$DUTYDESK_TEST_PG`` (an admin URL, as the tests use).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from backend.eventlog import log as eventlog
from backend.server.testing import fresh_postgres_database
from backend.storage import db
from realtime.event_kinds import EventKind
from realtime.protocol import Event

T = TypeVar("T")


class _WriterBefore(eventlog.EventWriter):
    """The writer before issue 19: the head is locked only when the first event is
    appended."""

    async def run(self, work: Callable[[AsyncSession, list[Event]], Awaitable[T]]) -> T:
        async with self._lock:
            events: list[Event] = []
            async with self._sessions.begin() as session:
                result = await work(session, events)
            self._publish(events)
            return result


async def _one(session: AsyncSession, events: list[Event]) -> None:
    events.append(
        await eventlog.append(session, kind=EventKind.ALARM_RAISED, actor="bench", note="x" * 80)
    )


async def _measure(
    writer: eventlog.EventWriter, transactions: int, callers: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    per_caller = transactions // callers

    async def caller() -> None:
        for _ in range(per_caller):
            started = time.perf_counter()
            await writer.run(_one)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return len(latencies) / (time.perf_counter() - started), latencies


async def _fresh(
    stack: contextlib.AsyncExitStack, admin: str, *, trigger: bool
) -> tuple[AsyncEngine, str]:
    url = await stack.enter_async_context(fresh_postgres_database(admin, prefix="dutydesk_bench"))
    engine = db.create_engine(url)
    stack.push_async_callback(engine.dispose)
    await db.migrate(engine)
    if not trigger:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER event_counter_notify ON event_counter"))
    return engine, url


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main(transactions: int, callers: int, rounds: int) -> int:
    admin = os.environ.get("DUTYDESK_TEST_PG")
    if not admin:
        print("set DUTYDESK_TEST_PG to a PostgreSQL admin URL", file=sys.stderr)
        return 2
    figures: dict[str, list[tuple[float, list[float]]]] = {"before": [], "now": []}
    for _ in range(rounds):
        for variant in ("before", "now"):
            async with contextlib.AsyncExitStack() as stack:
                engine, _url = await _fresh(stack, admin, trigger=variant == "now")
                kind = _WriterBefore if variant == "before" else eventlog.EventWriter
                writer = kind(db.session_factory(engine), lambda _events: None)
                await _measure(writer, 100, callers)  # warm-up: connections, statements
                figures[variant].append(await _measure(writer, transactions, callers))
    for variant, runs in figures.items():
        rates = [rate for rate, _ in runs]
        latencies = [x for _, run in runs for x in run]
        print(
            f"{variant:>6}: {statistics.median(rates):7.0f} transactions/s (median of {rounds}), "
            f"commit p50 {_percentile(latencies, 0.5) * 1000:.2f} ms, "
            f"p99 {_percentile(latencies, 0.99) * 1000:.2f} ms"
        )
    ratio = statistics.median(r for r, _ in figures["now"]) / statistics.median(
        r for r, _ in figures["before"]
    )
    print(f" ratio: now/before throughput {ratio:.2f}")
    async with contextlib.AsyncExitStack() as stack:
        return await _two_writers(stack, admin, transactions, callers)


async def _two_writers(
    stack: contextlib.AsyncExitStack, admin: str, transactions: int, callers: int
) -> int:
    """Two instances writing at once: one chain, every seq once."""
    engine_a, url = await _fresh(stack, admin, trigger=True)
    engine_b = db.create_engine(url)
    stack.push_async_callback(engine_b.dispose)
    writers = [
        eventlog.EventWriter(db.session_factory(engine), lambda _events: None)
        for engine in (engine_a, engine_b)
    ]
    started = time.perf_counter()
    results = await asyncio.gather(*(_measure(w, transactions, callers) for w in writers))
    elapsed = time.perf_counter() - started
    async with db.session_factory(engine_a)() as session:
        report = await eventlog.verify(session)
    total = sum(len(latencies) for _, latencies in results)
    all_latencies = [x for _, latencies in results for x in latencies]
    print(
        f"two writers: {total / elapsed:7.0f} transactions/s together, commit p50 "
        f"{_percentile(all_latencies, 0.5) * 1000:.2f} ms, p99 "
        f"{_percentile(all_latencies, 0.99) * 1000:.2f} ms; chain of {report.events} events "
        + ("intact" if report.ok else f"BROKEN: {report.problems[:3]}")
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=1000, help="per round and variant")
    parser.add_argument("--callers", type=int, default=4, help="concurrent callers per writer")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per variant")
    options = parser.parse_args()
    sys.exit(asyncio.run(main(options.transactions, options.callers, options.rounds)))
