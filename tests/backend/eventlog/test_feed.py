"""The ordered feed: events written by this process and by others (another instance, the
CLI) reach the fan-out once each, strictly in ``seq`` order; two writers in two engines
(as two processes) keep one gap-free chain; on PostgreSQL a notification wakes the feed
at once, and the listener comes back after its connection is cut."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from backend.eventlog import log as eventlog
from backend.eventlog import notify
from backend.eventlog.feed import OrderedFeed
from backend.storage import db
from realtime.event_kinds import EventKind
from realtime.protocol import Event


@pytest.fixture
async def engines(db_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one fresh, migrated database: "this process" and "another one"."""
    ours = db.create_engine(db_url)
    theirs = db.create_engine(db_url)
    await db.migrate(ours)
    yield ours, theirs
    await ours.dispose()
    await theirs.dispose()


class Sink:
    """What the feed hands on, batch by batch; :meth:`until` waits for a condition."""

    def __init__(self) -> None:
        self.batches: list[list[Event]] = []
        self._changed = asyncio.Event()

    def __call__(self, events: Sequence[Event]) -> None:
        self.batches.append(list(events))
        self._changed.set()

    @property
    def events(self) -> list[Event]:
        return [event for batch in self.batches for event in batch]

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


async def _note(session: AsyncSession, events: list[Event], note: str) -> None:
    events.append(await eventlog.append(session, kind=EventKind.ALARM_RAISED, actor="t", note=note))


def _writer(engine: AsyncEngine, publish: eventlog.Publisher) -> eventlog.EventWriter:
    return eventlog.EventWriter(db.session_factory(engine), publish)


async def _write(writer: eventlog.EventWriter, note: str) -> None:
    await writer.run(lambda session, events: _note(session, events, note))


async def test_own_commits_wait_for_events_written_elsewhere(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ours, theirs = engines
    published = Sink()
    feed = OrderedFeed(db.session_factory(ours), published, poll_interval=60.0)
    await feed.start()
    try:
        other = _writer(theirs, lambda _events: None)
        writer = _writer(ours, feed.committed)
        await _write(other, "theirs 1")
        await _write(writer, "ours 2")  # must not go out before 1
        assert published.events == []
        await published.until(lambda: feed.delivered >= 2)
        await _write(writer, "ours 3")  # follows the last one handed on: straight through
        assert [[e.seq for e in batch] for batch in published.batches] == [[1, 2], [3]]
        assert [e.note for e in published.events] == ["theirs 1", "ours 2", "ours 3"]
        # Many writers of both "processes" at once (SQLite: one after the other, it has
        # one writer): one chain, every event once, in order.
        writes = [w for n in range(20) for w in ((other, f"theirs {n}"), (writer, f"ours {n}"))]
        if ours.dialect.name == "postgresql":
            await asyncio.gather(*(_write(w, note) for w, note in writes))
        else:
            for w, note in writes:
                await _write(w, note)
        feed.wake()
        await published.until(lambda: feed.delivered >= 43)
        seqs = [e.seq for e in published.events]
        assert seqs == list(range(1, 44))
        async with db.session_factory(ours)() as session:
            report = await eventlog.verify(session)
        assert report.ok, report.problems
    finally:
        await feed.stop()


async def test_the_safety_poll_finds_what_no_notification_announced(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ours, theirs = engines
    published = Sink()
    feed = OrderedFeed(db.session_factory(ours), published, poll_interval=0.05)
    await feed.start()
    try:
        await _write(_writer(theirs, lambda _events: None), "written by the CLI")
        await published.until(lambda: bool(published.events))
        assert [e.note for e in published.events] == ["written by the CLI"]
    finally:
        await feed.stop()


@pytest.mark.postgres
@pytest.mark.logs_errors
async def test_a_notification_wakes_the_feed_and_the_listener_reconnects(
    engines: tuple[AsyncEngine, AsyncEngine],
    db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("notifications are PostgreSQL's")
    ours, theirs = engines
    published = Sink()
    feed = OrderedFeed(db.session_factory(ours), published, poll_interval=600.0)
    await feed.start()
    listener = notify.Listener(
        notify.asyncpg_dsn(db_url),
        {notify.EVENTS_CHANNEL: feed.notified},
        on_connected=feed.wake,
        reconnect_first=0.05,
    )
    listener.start()
    other = _writer(theirs, lambda _events: None)
    try:
        async with asyncio.timeout(10):
            await listener.connected.wait()
        await _write(other, "one")
        await published.until(lambda: bool(published.events))  # far sooner than the poll
        # Cut the listening connection (as a restart of PostgreSQL or a network cut
        # would); what is written meanwhile is read once it is back.
        admin = await asyncpg.connect(notify.asyncpg_dsn(db_url))
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND datname = current_database()"
            )
        finally:
            await admin.close()
        await _write(other, "two")
        await published.until(lambda: len(published.events) >= 2, 10)
        assert [e.note for e in published.events] == ["one", "two"]
        lost = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(lost) == 1
        assert "database notifications (LISTEN) unavailable" in lost[0].getMessage()
    finally:
        await listener.stop()
        await feed.stop()
