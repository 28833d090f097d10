"""Leases: one holder at a time on PostgreSQL, taken over when the holder's connection
dies; always held on SQLite; a Periodic with a lease runs only while it holds it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.runtime.leases import Leases, lease_key
from backend.runtime.periodic import Periodic
from backend.storage import db


@pytest.fixture
async def engines(db_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one database: two instances' views of it."""
    first, second = db.create_engine(db_url), db.create_engine(db_url)
    yield first, second
    await first.dispose()
    await second.dispose()


def test_keys_are_stable_and_distinct() -> None:
    assert lease_key("incident deadlines") == lease_key("incident deadlines")
    assert lease_key("incident deadlines") != lease_key("sensor stale checks")
    assert -(2**63) <= lease_key("x") < 2**63


async def test_one_of_two_holders_wins_and_the_other_takes_over_on_release(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = Leases(engines[0]), Leases(engines[1])
    try:
        if not first.exclusive:
            # SQLite: one process owns the database, so every lease is always held.
            assert await first.lease("deadlines").hold()
            assert await second.lease("deadlines").hold()
            assert await first.lease("deadlines").hold()
            return
        assert await first.lease("deadlines").hold()
        assert not await second.lease("deadlines").hold()
        assert await first.lease("deadlines").hold()  # still held, confirmed
        # Another name is independent of the first.
        assert await second.lease("stale checks").hold()
        assert not await first.lease("stale checks").hold()
        assert first.held() == ["deadlines"]
        await first.lease("deadlines").release()
        assert await second.lease("deadlines").hold()
        assert not await first.lease("deadlines").hold()
    finally:
        await first.close()
        await second.close()


@pytest.mark.logs_errors
async def test_the_holders_dead_connection_frees_the_lease(
    engines: tuple[AsyncEngine, AsyncEngine], caplog: pytest.LogCaptureFixture
) -> None:
    first, second = Leases(engines[0], check_every=0.0), Leases(engines[1])
    if not first.exclusive:
        pytest.skip("SQLite has no second holder")
    try:
        lease = first.lease("deadlines")
        assert await lease.hold()
        assert lease.terms == 1
        assert not await second.lease("deadlines").hold()
        # The database ends the holder's backend (as when its process is killed -9).
        async with engines[1].connect() as admin:
            killed = await admin.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
                    # Only this test's database: other servers on the same PostgreSQL
                    # (other tests running at the same time) hold leases too.
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                )
            )
        assert killed == 1
        # The other instance takes it at its next try …
        for _ in range(50):
            if await second.lease("deadlines").hold():
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the lease was not taken over")
        # … and the old holder notices it lost it (its connection is gone) and does not
        # get it back while the new holder lives.
        with caplog.at_level(logging.ERROR, "backend.runtime.leases"):
            assert not await lease.hold()
        assert "lost" in caplog.text
        assert not await lease.hold()
        assert first.held() == []
        await second.close()
        assert await lease.hold()
        assert lease.terms == 2
    finally:
        await first.close()
        await second.close()


async def test_a_periodic_runs_only_while_it_holds_its_lease(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = Leases(engines[0]), Leases(engines[1])
    runs = {"first": 0, "second": 0}
    taken: list[str] = []

    def body(name: str) -> Periodic:
        async def run() -> None:
            runs[name] += 1

        leases = first if name == "first" else second
        return Periodic(
            f"work on {name}",
            run,
            interval=0.02,
            immediately=True,
            lease=leases.lease("work"),
            on_lease_taken=lambda: taken.append(name),
        )

    loops = [body("first"), body("second")]
    loops[0].start()
    await asyncio.sleep(0.2)
    loops[1].start()
    await asyncio.sleep(0.2)
    try:
        if not first.exclusive:
            assert runs["first"] > 0
            assert runs["second"] > 0
            return
        assert runs["first"] > 0
        assert runs["second"] == 0
        assert taken == ["first"]
        # The holder stops (its instance ends): the other takes over within an interval.
        await loops[0].stop()
        await first.close()
        await asyncio.sleep(0.2)
        assert runs["second"] > 0
        assert taken == ["first", "second"]
    finally:
        for loop in loops:
            await loop.stop()
        await first.close()
        await second.close()


@pytest.mark.logs_errors
async def test_a_hung_holder_loses_its_leases(
    engines: tuple[AsyncEngine, AsyncEngine], caplog: pytest.LogCaptureFixture
) -> None:
    """A holder that stops talking (a frozen process still answers TCP keepalive) has its
    session ended by the database after the idle timeout; another instance takes over."""
    first = Leases(engines[0], idle_timeout=1.0)
    second = Leases(engines[1], idle_timeout=1.0)
    if not first.exclusive:
        pytest.skip("SQLite has no second holder")
    try:
        lease = first.lease("deadlines")
        assert await lease.hold()
        # While it is alive its pings keep the session (and the lease) well past the timeout.
        await asyncio.sleep(1.5)
        assert not await second.lease("deadlines").hold()
        assert await lease.hold()
        await first._pinger.stop()  # the holder freezes: nothing more from it
        for _ in range(60):
            await asyncio.sleep(0.1)
            if await second.lease("deadlines").hold():
                break
        else:
            pytest.fail("the hung holder kept the lease")
        with caplog.at_level(logging.ERROR, "backend.runtime.leases"):
            assert not await lease.hold()
    finally:
        await first.close()
        await second.close()
