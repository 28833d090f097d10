"""Wake-ups between processes sharing one PostgreSQL database: LISTEN/NOTIFY.

Two channels:

- :data:`EVENTS_CHANNEL`: a trigger (migration r0023) notifies it with the new head
  ``seq`` whenever a transaction moves the event log's head, whoever wrote it (a server
  instance, the CLI, a script); PostgreSQL delivers it when that transaction commits.
- :data:`CHANGES_CHANNEL`: a small JSON object naming what changed outside the event log
  (e.g. ``{"what": "sensors", "ids": ["ch4-0001"]}``), sent by the writer of the change
  in its own transaction (:func:`notify_change`).

A notification only says "look now": the state itself is read from the database, so a
lost one (a listener reconnecting) costs a delay until the next safety poll, never data.
SQLite has no notifications: :func:`notify_change` does nothing there and
:class:`Listener` is not started.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from backend.runtime.episodes import EpisodeLog
from realtime.aio import cancel_and_wait

logger = logging.getLogger(__name__)

EVENTS_CHANNEL = "dutydesk_events"
"""Notified with the new head ``seq`` (text) by the trigger on ``event_counter``."""
CHANGES_CHANNEL = "dutydesk_changes"
"""Notified with a JSON object ``{"what": …, …}`` naming a change outside the log."""

SENSORS_CHANGED = "sensors"
"""``what`` of a sensor change (``ids``: the sensors whose row changed)."""

RECONNECT_FIRST = 0.5
"""Seconds before the first reconnection attempt; doubled after each failure."""
RECONNECT_MAX = 30.0
"""The longest wait between two reconnection attempts."""

_LOST = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What a lost or refused connection raises."""

Handler = Callable[[str], None]
"""Called on the event loop with a notification's payload (must not block)."""


async def notify_change(session: AsyncSession, what: str, **details: Any) -> None:
    """Tell every instance, when the caller's transaction commits, that ``what`` changed.

    Does nothing on SQLite (one process; the safety poll of the server notices).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    payload = json.dumps({"what": what, **details}, ensure_ascii=False, sort_keys=True)
    if len(payload.encode("utf-8")) > 7000:  # PostgreSQL refuses payloads of 8000 bytes
        payload = json.dumps({"what": what})  # the receiver then reloads everything
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": CHANGES_CHANNEL, "payload": payload},
    )


def parse_change(payload: str) -> Mapping[str, Any] | None:
    """The change a :data:`CHANGES_CHANNEL` payload names, or None (logged) if unreadable."""
    try:
        change = json.loads(payload)
    except ValueError:
        change = None
    if not isinstance(change, dict) or not isinstance(change.get("what"), str):
        logger.warning("ignoring an unreadable change notification: %.200r", payload)
        return None
    return change


def string_ids(change: Mapping[str, Any]) -> Collection[str] | None:
    """The ``ids`` of a change if it names them as strings (None: everything may have)."""
    ids = change.get("ids")
    if isinstance(ids, list) and all(isinstance(i, str) for i in ids):
        return frozenset(ids)
    return None


def asyncpg_dsn(url: str) -> str:
    """The libpq-style address asyncpg takes for a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """One dedicated connection LISTENing on some channels, reconnecting with backoff.

    ``handlers`` maps a channel to what is called with each payload. ``on_connected`` is
    called after every (re)connection: notifications sent while it was away are lost, so
    the owner looks at the database once then. An outage is logged once (ERROR when it
    starts, WARNING when it ends) on ``outage`` (a server passes its database outage, so
    one database failure is one episode, whoever meets it).
    """

    def __init__(
        self,
        dsn: str,
        handlers: Mapping[str, Handler],
        *,
        on_connected: Callable[[], None] = lambda: None,
        reconnect_first: float = RECONNECT_FIRST,
        reconnect_max: float = RECONNECT_MAX,
        outage: EpisodeLog | None = None,
    ) -> None:
        self._dsn = dsn
        self._handlers = dict(handlers)
        self._on_connected = on_connected
        self._reconnect_first = reconnect_first
        self._reconnect_max = reconnect_max
        self._outage = outage or EpisodeLog(logger, "database notifications (LISTEN)")
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        """Set while the listening connection is up (tests wait on it)."""

    def start(self) -> None:
        """Connect and keep listening until :meth:`stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="dutydesk-listener")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def _run(self) -> None:
        delay = self._reconnect_first
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self._dsn)
            except _LOST as exc:
                self._outage.failed(str(exc) or type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max)
                continue
            try:
                connection.add_termination_listener(functools.partial(_set, lost))
                for channel in self._handlers:
                    await connection.add_listener(channel, self._deliver)
                self._outage.succeeded()
                delay = self._reconnect_first
                self.connected.set()
                self._on_connected()
                await self._watch(connection, lost)
            except _LOST as exc:
                self._outage.failed(str(exc) or type(exc).__name__)
            finally:
                self.connected.clear()
                with contextlib.suppress(*_LOST):  # closing a broken connection
                    await connection.close(timeout=2)
            await asyncio.sleep(delay)

    async def _watch(self, connection: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Return when the connection is lost; probe it now and then, since a silent
        network failure would otherwise go unnoticed while nothing is written."""
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), 10.0)
                break
            await asyncio.wait_for(connection.fetchval("SELECT 1"), 10.0)
        self._outage.failed("the listening connection was closed")

    def _deliver(self, _connection: object, _pid: int, channel: str, payload: object) -> None:
        handler = self._handlers.get(channel)
        if handler is not None:
            handler(str(payload))


def _set(event: asyncio.Event, _connection: object) -> None:
    event.set()
