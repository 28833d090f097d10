"""The event log at login: ``events.recent`` asks for the events since the start of the
user's shift (or a time it names), so a console that logs in mid-shift shows what happened
before it connected, not an empty log.

The answer (:class:`~realtime.protocol.RecentEventsResult`) holds the events the user may
see, filtered exactly as the live stream is, oldest first, so the console merges them with
the live events by ``seq`` (a live event that arrives while the request is answered is
simply already held).
"""

from __future__ import annotations

import enum
from typing import Annotated, Final

import msgspec

from realtime.protocol.common import AwareDateTime, Tagged

MAX_RECENT_EVENTS: Final = 500
"""The most events one ``events.recent`` answers with (the newest of the window)."""
DEFAULT_RECENT_EVENTS: Final = 200
"""What ``events.recent`` answers with when it names no ``limit``."""
RECENT_WINDOW_HOURS: Final = 12
"""How far back the window reaches when the user has no roster shift now."""

RecentLimit = Annotated[int, msgspec.Meta(ge=1, le=MAX_RECENT_EVENTS)]


class RecentWindow(enum.StrEnum):
    """Where the window of an ``events.recent`` answer starts."""

    SHIFT = "shift"
    """The start of the user's roster shift that covers now."""
    HOURS = "hours"
    """:data:`RECENT_WINDOW_HOURS` back (the user has no shift on the roster now)."""
    SINCE = "since"
    """The time the request named (never before the start of the default window)."""


class RecentEvents(Tagged, tag="events.recent"):
    """Ask for the newest events (at most ``limit``) since the start of the user's shift,
    oldest first, scoped as the live stream is.

    ``since`` narrows the window (a console that already holds the events up to a time);
    it never widens it past the shift's start or :data:`RECENT_WINDOW_HOURS`.
    """

    req: str
    since: AwareDateTime | None = None
    limit: RecentLimit = DEFAULT_RECENT_EVENTS
