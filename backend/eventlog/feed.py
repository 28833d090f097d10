"""The committed events of the log, handed to the fan-out strictly in ``seq`` order,
whoever wrote them: this process, another instance on the same PostgreSQL, or the CLI.

This process's own commits go straight through when they follow the last event handed
on (the only case with one instance: no query, no delay). Anything else — a notification
that the head moved (:mod:`backend.eventlog.notify`), an own commit that would skip
events another process wrote meanwhile, the safety poll finding the head further on —
wakes the catch-up task, which reads the events after the last one handed on from the
database, in ``seq`` order, and hands them on. An own commit of ``seq`` 12 therefore
waits until 11, written elsewhere, has been read: no console ever sees 12 before 11.
Commits are visible in ``seq`` order (the head's row lock, :func:`log.lock_head`), so
reading "after the last handed on" never skips one still being committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.eventlog import log
from backend.runtime.episodes import EpisodeLog
from backend.storage import db
from realtime.aio import cancel_and_wait
from realtime.protocol import Event, ProtocolError

logger = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
"""Seconds between two looks at the head when no notification came (the safety net)."""
READ_BATCH = 1000
"""Events read per query while catching up."""

Publisher = Callable[[Sequence[Event]], None]
Reaction = Callable[[Sequence[Event]], Awaitable[None]]
"""Called with events read from the database (written by any process) after they were
handed on: re-applies what they changed (geofences, jurisdictions)."""


class OrderedFeed:
    """Hands committed events to ``publish`` in ``seq`` order, each exactly once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publish: Publisher,
        *,
        poll_interval: float = POLL_INTERVAL,
        react: Reaction | None = None,
        outage: EpisodeLog | None = None,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._poll_interval = poll_interval
        self._react = react
        self._outage = outage or EpisodeLog(logger, "event log reading")
        self.delivered = 0
        """The last ``seq`` handed on (every one before it was too)."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started = False

    async def start(self) -> None:
        """Begin after the current head (events before it are the consoles' replay) and
        start the catch-up task."""
        async with self._sessions() as session:
            self.delivered = await log.head_seq(session)
        self._started = True
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-feed")

    async def stop(self) -> None:
        """Stop the catch-up task (own commits are still handed on at once)."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    def committed(self, events: Sequence[Event]) -> None:
        """Take this process's committed events (the :class:`log.EventWriter`'s publisher)."""
        if not events:
            return
        if not self._started:
            # Before start (migration, seeding): nobody is connected yet.
            self._publish(events)
            return
        first = events[0].seq
        if first == self.delivered + 1:
            self._publish(events)
            self.delivered = events[-1].seq
        elif first > self.delivered + 1:
            self.wake()  # someone else's events come first: read them all in order
        elif events[-1].seq > self.delivered:
            # Part of them was read from the database already.
            fresh = [event for event in events if event.seq > self.delivered]
            self._publish(fresh)
            self.delivered = fresh[-1].seq

    def wake(self, head: int | None = None) -> None:
        """Look at the log now (``head``: the head a notification announced, if known)."""
        if head is None or head > self.delivered:
            self._wake.set()

    def notified(self, payload: str) -> None:
        """A notification on the events channel (its payload: the new head ``seq``)."""
        try:
            head: int | None = int(payload)
        except ValueError:
            head = None
        self.wake(head)

    async def catch_up(self) -> int:
        """Read and hand on every event after :attr:`delivered`; return how many."""
        count = 0
        while True:
            async with self._sessions() as session:
                events = await log.events_after(session, self.delivered, READ_BATCH)
            fresh = [event for event in events if event.seq > self.delivered]
            if not fresh:
                return count
            if fresh[0].seq != self.delivered + 1:
                raise log.Error(f"event log gap after seq {self.delivered} (found {fresh[0].seq})")
            if self._react is not None:
                # First: a console that sees a geofence's event knows it is in force here.
                await self._react(fresh)
                # An own commit among them may have gone through meanwhile.
                fresh = [event for event in fresh if event.seq > self.delivered]
                if not fresh:
                    continue
            self._publish(fresh)
            self.delivered = fresh[-1].seq
            count += len(fresh)

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._poll_interval):
                    await self._wake.wait()
            except TimeoutError:
                pass  # the safety poll
            self._wake.clear()
            try:
                await self.catch_up()
            except (SQLAlchemyError, OSError, log.Error, ProtocolError, ValueError) as exc:
                # Never ends the feed: it tries again (logged once until it works).
                self._outage.failed(f"reading new events failed: {db.failure_reason(exc)}", exc)
                await asyncio.sleep(self._poll_interval)
                self._wake.set()
            else:
                self._outage.succeeded()
