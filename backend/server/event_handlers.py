"""What ``events.recent`` does: the event log at login (:mod:`realtime.protocol.events`).

The window starts at the user's roster shift that covers now, else
:data:`~realtime.protocol.RECENT_WINDOW_HOURS` back; a ``since`` in the request only
narrows it. Each event passes the same per-event decision as the live stream and the
resume (:func:`backend.authz.policy.can_see_event`), so the log at login never shows more
than the live stream would have.
"""

from __future__ import annotations

import datetime as dt
import functools

import msgspec

from backend.authz import policy as authz
from backend.eventlog.recent import newest_since
from backend.runtime.clock import utc_now
from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    RECENT_WINDOW_HOURS,
    RecentEvents,
    RecentEventsResult,
    RecentWindow,
)


async def recent_events(ctx: ConsoleContext, command: RecentEvents) -> RecentEventsResult:
    """The newest events of the user's shift that the user may see, oldest first."""
    now = utc_now()
    shift = await ctx.server.roster.shift_of(ctx.principal.username, now)
    if shift is not None and shift[0] <= now:
        since, window = shift[0], RecentWindow.SHIFT
    else:
        since, window = now - dt.timedelta(hours=RECENT_WINDOW_HOURS), RecentWindow.HOURS
    if command.since is not None and command.since > since:
        since, window = command.since, RecentWindow.SINCE
    keep = functools.partial(authz.can_see_event, ctx.principal)
    async with ctx.server.sessions() as session:
        events, more = await newest_since(session, since, command.limit, keep)
    events = [authz.event_as_seen(ctx.principal, event) for event in events]
    mark = ctx.server.hub.mark
    if mark is not None:  # an exercise's log: every event says so
        events = [msgspec.structs.replace(event, exercise=mark) for event in events]
    return RecentEventsResult(since=since, window=window, events=events, more=more)
