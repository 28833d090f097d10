"""Keeping one server instance in step with the others on the same database.

Several ``dutydesk serve`` processes may share one PostgreSQL database (see
docs/deployment.md, "Several instances on one PostgreSQL"). Each writes its own events
(the head's row lock keeps ``seq`` gap-free and the hash chain one chain) and this link
brings it everything the others (and the CLI) did:

- the event log: :class:`~backend.eventlog.feed.OrderedFeed` hands every committed event
  to this instance's hub in ``seq`` order, woken by the events channel's notifications
  and by a safety poll;
- what events read from the log change on a server (geofences: the vehicle rules of
  every engine; jurisdictions imported: the placer) is re-applied here;
- changes outside the log (sensor rules and thresholds, ``dutydesk sensor …``) arrive on
  the changes channel and are reloaded; a periodic look at the sensors table is the
  safety net for a lost notification (and the only way on SQLite, where the CLI is the
  one other writer).

Users and sessions ended elsewhere are the session tracker's own poll
(:mod:`backend.server.sessions`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from backend.eventlog import notify
from backend.eventlog.feed import POLL_INTERVAL, OrderedFeed
from backend.jurisdictions import store as jurisdiction_store
from backend.storage import db
from backend.storage.models import SensorRecord
from realtime.aio import cancel_and_wait
from realtime.event_kinds import EventKind
from realtime.protocol import Event

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

logger = logging.getLogger(__name__)

CHANGE_CHECK_INTERVAL = 5.0
"""Seconds between two safety looks at what changed outside the log (sensors)."""

LISTEN_START_TIMEOUT = 5.0
"""Longest the start waits for the listening connection (it keeps trying afterwards)."""

_GEOFENCE_KINDS = frozenset({EventKind.GEOFENCE_SAVED, EventKind.GEOFENCE_DELETED})

_Fingerprint = tuple[int, object]


class ClusterLink:
    """The event feed, the LISTEN connection and the change watcher of one instance."""

    def __init__(
        self,
        server: DutyDeskServer,
        *,
        poll_interval: float = POLL_INTERVAL,
        change_interval: float = CHANGE_CHECK_INTERVAL,
    ) -> None:
        self._server = server
        self.feed = OrderedFeed(
            server.sessions,
            server.hub.publish,
            poll_interval=poll_interval,
            react=self._react,
            outage=server.database_outage,
        )
        """Hands committed events to the hub in ``seq`` order (the writer publishes to it)."""
        self._change_interval = change_interval
        self._listener: notify.Listener | None = None
        self._sensors_changed: set[str] | None = set()
        """Sensors named by notifications, not yet reloaded (None: reload them all)."""
        self._changes_wake = asyncio.Event()
        self._changes_task: asyncio.Task[None] | None = None
        self._sensor_fingerprint: _Fingerprint | None = None
        self._outage = server.database_outage

    async def start(self) -> None:
        """Start following the log and the changes (after the database is migrated)."""
        await self.feed.start()
        self._sensor_fingerprint = await self._sensors_fingerprint()
        if self._server.database_kind == "postgresql":
            self._listener = notify.Listener(
                notify.asyncpg_dsn(self._server.config.db_url),
                {
                    notify.EVENTS_CHANNEL: self.feed.notified,
                    notify.CHANGES_CHANNEL: self._changed,
                },
                on_connected=self._resync,
                outage=self._server.database_outage,
            )
            self._listener.start()
            # Started listening before the first console comes (a failure is retried).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LISTEN_START_TIMEOUT):
                    await self._listener.connected.wait()
        self._changes_task = asyncio.create_task(self._watch_changes(), name="change-watcher")

    async def stop(self) -> None:
        """Stop listening and watching."""
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        if self._changes_task is not None:
            await cancel_and_wait(self._changes_task)
            self._changes_task = None
        await self.feed.stop()

    @property
    def listener(self) -> notify.Listener | None:
        """The LISTEN connection (PostgreSQL only)."""
        return self._listener

    def health(self) -> dict[str, object]:
        """This instance's part of ``/health``: the last ``seq`` handed to its consoles
        (``fanout_seq``; it follows ``head_seq`` within milliseconds) and whether the
        listening connection is up (``listening``; None on SQLite)."""
        listening = self._listener.connected.is_set() if self._listener is not None else None
        return {"fanout_seq": self.feed.delivered, "listening": listening}

    def _resync(self) -> None:
        # Notifications sent while the connection was away are lost: look at everything.
        self.feed.wake()
        self._sensors_changed = None
        self._changes_wake.set()

    def _changed(self, payload: str) -> None:
        change = notify.parse_change(payload)
        if change is None or change["what"] != notify.SENSORS_CHANGED:
            return
        ids = notify.string_ids(change)
        if ids is None or self._sensors_changed is None:
            self._sensors_changed = None
        else:
            self._sensors_changed.update(ids)
        self._changes_wake.set()

    async def _react(self, events: Sequence[Event]) -> None:
        """Re-apply what events read from the log changed on the server."""
        kinds = {event.kind for event in events}
        presence = self._server.presence
        if EventKind.DEVICE_ONLINE in kinds and presence is not None:
            await presence.online_elsewhere(
                {
                    event.device.identity
                    for event in events
                    if event.kind == EventKind.DEVICE_ONLINE
                    and event.device is not None
                    and event.device.kind == "jt808"
                }
            )
        if kinds & _GEOFENCE_KINDS:
            await self._server.apply_geofences()
        if EventKind.JURISDICTIONS_IMPORTED in kinds:
            async with self._server.sessions() as session:
                imported = await jurisdiction_store.load_imported(session)
            self._server.jurisdictions.replace_imported(imported)
            logger.info("jurisdictions reloaded: %s imported towns/villages", len(imported))

    async def _watch_changes(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._change_interval):
                    await self._changes_wake.wait()
            except TimeoutError:
                pass
            self._changes_wake.clear()
            try:
                await self._reload_changed()
            except (SQLAlchemyError, OSError) as exc:
                self._outage.failed(db.failure_reason(exc), exc)
                await asyncio.sleep(self._change_interval)
            else:
                self._outage.succeeded()

    async def _reload_changed(self) -> None:
        named, self._sensors_changed = self._sensors_changed, set()
        try:
            fingerprint = await self._sensors_fingerprint()
            if fingerprint != self._sensor_fingerprint:
                named = None  # changed without (or before) a notification: look at all
            if named is None or named:
                await self._server.sensors.reload(named)
        except BaseException:
            self._sensors_changed = None  # try everything again next time
            raise
        self._sensor_fingerprint = fingerprint

    async def _sensors_fingerprint(self) -> _Fingerprint:
        async with self._server.sessions() as session:
            row = (
                await session.execute(
                    select(func.count(SensorRecord.id), func.max(SensorRecord.updated_at))
                )
            ).one()
        return int(row[0]), row[1]
