"""Leases: exactly one server instance at a time runs a periodic owner's work.

Several instances may share one PostgreSQL database. Work that is about the whole
database, not about this instance's connections (task deadlines and escalation, sensor
stale checks, time-series maintenance), must run on one of them only, and move to
another within seconds when that one dies. A :class:`Lease` is a PostgreSQL session
advisory lock (``pg_try_advisory_lock``) held on one dedicated connection of the instance
(:class:`Leases`): the database releases it the moment that connection ends, so a
``kill -9`` of the holder frees its leases at once (a machine that vanishes without closing
its sockets frees them once TCP keepalive gives up: the connection asks for probes after
:data:`KEEPALIVE_IDLE` seconds), and so does a holder that hangs (a frozen process or
virtual machine still answers TCP keepalive): the connection is pinged every
:data:`PING_EVERY` seconds, and the database ends it after :data:`IDLE_TIMEOUT` seconds
without a word (``idle_session_timeout``, PostgreSQL 14 and later). The other instances
try to take each lease on every run of their periodic loop, so one of them takes it over
within one interval.

On SQLite (one process owns the database) every lease is always held.

A lease is exclusion, not a fence: for the moment a holder's connection has died but it
has not noticed yet (at most :data:`CHECK_EVERY` seconds), two instances may both run the
work. Each owner's writes are idempotent for that reason (e.g. an escalation is one row
per task and deadline).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend.runtime.episodes import EpisodeLog
from backend.runtime.periodic import Periodic

logger = logging.getLogger(__name__)

CHECK_EVERY = 1.0
"""Seconds between checks that the lease connection still lives (while a lease is held)."""

KEEPALIVE_IDLE = 5
"""Seconds of silence before the database probes the lease connection (then every
``KEEPALIVE_INTERVAL`` s, ``KEEPALIVE_COUNT`` times): a holder whose machine vanished loses
its leases after about 5 + 2 × 3 = 11 s."""
KEEPALIVE_INTERVAL = 2
KEEPALIVE_COUNT = 3

PING_EVERY = 2.0
"""Seconds between pings of the lease connection (at most a third of the idle timeout)."""
IDLE_TIMEOUT = 10.0
"""Seconds without a ping after which the database ends a hung holder's connection."""


class Error(Exception):
    """Base of this module's errors."""


def lease_key(name: str) -> int:
    """The advisory lock key of a lease name (a stable signed 64-bit number)."""
    digest = hashlib.blake2b(f"dutydesk lease:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_parts(key: int) -> tuple[int, int]:
    """How ``pg_locks`` shows a bigint advisory key: (classid, objid), the high and the
    low 32 bits as unsigned numbers."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


async def held_anywhere(connection: AsyncConnection, names: Collection[str]) -> set[str]:
    """Which of the leases ``names`` some instance holds now (PostgreSQL): read from
    ``pg_locks`` of this database, without taking any."""
    if not names:
        return set()
    parts = {_lock_parts(lease_key(name)): name for name in names}
    rows = await connection.execute(
        text(
            "SELECT classid::bigint, objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 1 AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    )
    return {parts[(int(c), int(o))] for c, o in rows if (int(c), int(o)) in parts}


class Leases:
    """This instance's leases, all held on one dedicated database connection.

    ``engine`` None or a SQLite engine: every lease is always held.
    """

    def __init__(
        self,
        engine: AsyncEngine | None,
        *,
        check_every: float = CHECK_EVERY,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self._engine = engine if engine is not None and engine.dialect.name != "sqlite" else None
        self._check_every = check_every
        self._idle_timeout = idle_timeout
        self._pinger = Periodic(
            "lease connection ping",
            self._ping,
            interval=min(PING_EVERY, idle_timeout / 3),
            log=logger,
        )
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._held: set[str] = set()
        self._checked_at = 0.0
        self._leases: dict[str, Lease] = {}
        self._outage = EpisodeLog(logger, "lease connection")
        self._closed = False

    @property
    def exclusive(self) -> bool:
        """Whether leases exclude other instances (PostgreSQL); False: always held."""
        return self._engine is not None

    def lease(self, name: str) -> Lease:
        """The lease called ``name`` (one object per name)."""
        if name not in self._leases:
            self._leases[name] = Lease(self, name)
        return self._leases[name]

    def held(self) -> list[str]:
        """The names of the leases this instance holds now, sorted."""
        if self._engine is None:
            return sorted(self._leases)
        return sorted(self._held)

    async def hold(self, name: str) -> bool:
        """Whether this instance holds ``name`` now: take it if it is free, confirm (at most
        every ``check_every`` seconds) that the connection holding it still lives."""
        if self._engine is None:
            return not self._closed
        async with self._lock:
            if self._closed:
                return False
            try:
                return await self._hold(name)
            except (SQLAlchemyError, OSError) as exc:
                await self._lost(exc)
                return False
            except asyncio.CancelledError:
                await self._abandon()
                raise

    async def _hold(self, name: str) -> bool:
        connection = await self._connect()
        now = time.monotonic()
        if name in self._held:
            if now - self._checked_at >= self._check_every:
                await connection.execute(text("SELECT 1"))
                self._checked_at = now
            return True
        taken = await connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": lease_key(name)}
        )
        self._outage.succeeded()
        if taken:
            self._held.add(name)
            self._checked_at = now
            logger.info("took the lease %r: this instance runs it now", name)
        return bool(taken)

    async def release(self, name: str) -> None:
        """Give ``name`` up (another instance may take it at its next try)."""
        if self._engine is None:
            return
        async with self._lock:
            if name not in self._held or self._connection is None:
                return
            self._held.discard(name)
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": lease_key(name)}
                )
            except (SQLAlchemyError, OSError):
                logger.debug("releasing %r failed; dropping the connection", name, exc_info=True)
                await self._drop()

    async def close(self) -> None:
        """Give every lease up (closing the connection releases them)."""
        await self._pinger.stop()
        async with self._lock:
            self._closed = True
            await self._drop()

    async def _connect(self) -> AsyncConnection:
        if self._connection is not None:
            return self._connection
        assert self._engine is not None  # noqa: S101 - hold() returns earlier on SQLite
        connection = await self._engine.connect()
        try:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for setting, value in (
                ("tcp_keepalives_idle", KEEPALIVE_IDLE),
                ("tcp_keepalives_interval", KEEPALIVE_INTERVAL),
                ("tcp_keepalives_count", KEEPALIVE_COUNT),
            ):
                await connection.execute(text(f"SET {setting} = {int(value)}"))
            # A hung holder must not keep its leases: the database ends its silent session.
            idle_ms = int(self._idle_timeout * 1000)
            try:
                await connection.execute(text(f"SET idle_session_timeout = {idle_ms}"))
            except DBAPIError:
                logger.warning(
                    "this PostgreSQL has no idle_session_timeout (before 14): a hung "
                    "instance keeps its leases until it is killed"
                )
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self._pinger.start()
        return connection

    async def _ping(self) -> None:
        """Keep the lease connection from idling out while this instance works."""
        async with self._lock:
            if self._connection is None:
                return
            try:
                await self._connection.execute(text("SELECT 1"))
                self._checked_at = time.monotonic()
            except (SQLAlchemyError, OSError) as exc:
                await self._lost(exc)
            except asyncio.CancelledError:
                await self._abandon()
                raise

    async def _lost(self, exc: BaseException) -> None:
        self._outage.failed(
            f"leases {sorted(self._held)} lost: the lease connection failed "
            f"({exc.__class__.__name__}); taking them again when it works",
            exc,
        )
        await self._drop()

    async def _abandon(self) -> None:
        """A query on the lease connection was cancelled half-way (a periodic job stopped
        at shutdown): the connection is in an unknown state, so it is dropped now — its
        next user would otherwise fail on it and report a lease outage that never was."""
        if self._connection is not None:
            await asyncio.shield(self._drop())

    async def _drop(self) -> None:
        """Forget the connection and every lease held on it."""
        connection, self._connection = self._connection, None
        if self._held:
            logger.info("gave up the leases %s", sorted(self._held))
        self._held.clear()
        if connection is None:
            return
        try:
            # Invalidated, not returned to the pool: it would keep holding the locks there.
            await connection.invalidate()
            await connection.close()
        except (SQLAlchemyError, OSError):
            logger.debug("closing the lease connection failed", exc_info=True)


class Lease:
    """One named lease of :class:`Leases` (see the module)."""

    def __init__(self, leases: Leases, name: str) -> None:
        self._leases = leases
        self.name = name
        self.terms = 0
        """How many times this instance took the lease (a new term means another
        instance may have run the work meanwhile: reload what it may have changed)."""
        self._was_held = False

    async def hold(self) -> bool:
        """Whether this instance holds the lease now (taking it when it is free)."""
        held = await self._leases.hold(self.name)
        if held and not self._was_held:
            self.terms += 1
        self._was_held = held
        return held

    async def release(self) -> None:
        """Give the lease up."""
        self._was_held = False
        await self._leases.release(self.name)
