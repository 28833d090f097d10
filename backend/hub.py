"""Fan-out of committed events to connected consoles.

Each console has a bounded queue. Publishing never waits: a console that cannot keep up
is cut off (it reconnects and resumes from its last ``seq``) instead of stalling the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from backend import authz
from backend.users import Principal
from realtime.protocol import Event

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 5000


class Subscriber:
    """One console's view of the stream."""

    def __init__(self, principal: Principal, limit: int = QUEUE_LIMIT) -> None:
        self.principal = principal
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=limit)
        self.overflowed = asyncio.Event()

    def offer(self, event: Event) -> None:
        """Queue ``event`` if the console may see it; mark overflow instead of blocking."""
        if self.overflowed.is_set():
            return
        if event.alarm is not None and not authz.can_see(self.principal, event.alarm):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning(
                "console of %s fell %s events behind; disconnecting it so it resumes",
                self.principal.username,
                self.queue.qsize(),
            )
            self.overflowed.set()


class Hub:
    """The set of subscribed consoles."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()

    def __len__(self) -> int:
        return len(self._subscribers)

    def add(self, subscriber: Subscriber) -> None:
        """Start delivering events to ``subscriber``."""
        self._subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        """Stop delivering events to ``subscriber``."""
        self._subscribers.discard(subscriber)

    def publish(self, events: Sequence[Event]) -> None:
        """Offer committed events, in ``seq`` order, to every console."""
        for subscriber in list(self._subscribers):
            for event in events:
                subscriber.offer(event)
