"""The sessions this server holds open, ended at once when they must be.

Each console and device-feed connection is a :class:`LiveSession` with a row in the
``sessions`` table. A watcher (:class:`~backend.runtime.periodic.Periodic`, every 2 s by
default) asks the database in one query which of them were ended elsewhere (the
command-line tool runs in another process: ``dutydesk user passwd``, ``logout``, …) and
closes their connections with :data:`~realtime.protocol.CLOSE_SESSION_ENDED` and the
reason; it also closes sessions past their expiry with
:data:`~realtime.protocol.CLOSE_SESSION_EXPIRED`. Changes made through this server end
its sessions at once, without waiting for the watcher (:meth:`SessionTracker.end_user`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from websockets.asyncio.server import ServerConnection
from websockets.frames import CloseCode

from backend.authz.principal import Principal
from backend.registry.sessions import CONSOLE, EXERCISE_CONSOLE, SessionStore, utc_now
from backend.registry.users import Login, UserService
from backend.runtime.episodes import EpisodeLog
from backend.runtime.leases import Lease
from backend.runtime.periodic import Periodic
from backend.server.handshake import remote_address
from backend.storage import db
from realtime.protocol import CLOSE_SESSION_ENDED, CLOSE_SESSION_EXPIRED, SessionEndReason

logger = logging.getLogger(__name__)

SESSION_CHECK_INTERVAL = 2.0
"""Seconds between two checks for sessions ended elsewhere or expired."""
SESSION_TOUCH_INTERVAL = 60.0
"""Seconds between two updates of the open sessions' ``last_seen_at``."""
STALE_SESSION_AFTER = dt.timedelta(minutes=10)
"""Open sessions not touched for this long belong to an instance that died: one instance
(the holder of the ``stale sessions`` lease) ends them, so nobody shows as logged in on a
server that is gone. Far longer than the touch interval, so that an instance cut off from
the database for a while does not lose its consoles' sessions."""
UNLOCK_TRIES = 5
"""Wrong passwords on a locked console before its session is ended."""


@dataclass(eq=False, slots=True)
class LiveSession:
    """One open connection of a user on this server."""

    id: int
    login: Login
    kind: str
    connection: ServerConnection
    session_token: str
    """The token the console may reconnect with ("" for device feeds)."""
    expires_at: dt.datetime | None
    unlock_failures: int = 0
    unlocking: bool = False
    """A lock-screen check is running (one at a time per session)."""
    ended: SessionEndReason | None = None

    @property
    def principal(self) -> Principal:
        """Who is behind the session."""
        return self.login.principal


class SessionTracker:
    """Opens, watches and ends this server's sessions."""

    def __init__(
        self,
        store: SessionStore,
        users: UserService,
        *,
        check_interval: float = SESSION_CHECK_INTERVAL,
        touch_interval: float = SESSION_TOUCH_INTERVAL,
        clock: Callable[[], dt.datetime] = utc_now,
        outage: EpisodeLog | None = None,
        stale_lease: Lease | None = None,
    ) -> None:
        self.store = store
        self._outage = outage or EpisodeLog(logger, "session storage")
        self._users = users
        self._clock = clock
        self._live: dict[int, LiveSession] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._touch_every = max(1, round(touch_interval / check_interval))
        self._checks = 0
        self._watcher = Periodic("session check", self.check, interval=check_interval, log=logger)
        self._stale_after = max(STALE_SESSION_AFTER, dt.timedelta(seconds=touch_interval * 5))
        self._sweeper = Periodic(
            "stale session sweep",
            self._sweep,
            interval=touch_interval,
            log=logger,
            lease=stale_lease,
        )

    def __len__(self) -> int:
        return len(self._live)

    def start(self) -> None:
        """Start watching."""
        self._watcher.start()
        self._sweeper.start()

    async def stop(self) -> None:
        """Stop watching and wait for connections being closed."""
        await self._watcher.stop()
        await self._sweeper.stop()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def open(
        self, login: Login, kind: str, connection: ServerConnection, client: str
    ) -> LiveSession:
        """Record a new session; a console gets its session token (the one it logged in
        with, keeping that token's expiry, or a new one)."""
        token, token_id, expires = login.session_token, login.token_id, login.expires_at
        console = kind in (CONSOLE, EXERCISE_CONSOLE)
        if console and not token:
            token, token_id, expires = await self._users.issue_token_row(login.principal)
        elif not console:
            # Device feeds hold API tokens, which do not expire.
            token, token_id, expires = "", None, None
        session_id = await self.store.start(
            user_id=login.principal.user_id,
            auth_epoch=login.auth_epoch,
            kind=kind,
            remote=login.address or remote_address(connection),
            client=client,
            token_id=token_id,
            expires_at=expires,
        )
        live = LiveSession(session_id, login, kind, connection, token, expires)
        self._live[session_id] = live
        return live

    async def open_or_refuse(
        self, login: Login, kind: str, connection: ServerConnection, client: str
    ) -> LiveSession | None:
        """:meth:`open`, or close the connection (1011, try again) if the database fails."""
        try:
            return await self.open(login, kind, connection, client)
        except (SQLAlchemyError, OSError) as exc:
            self._outage.failed(
                f"session of {login.principal.username} not started: {db.failure_reason(exc)}",
                exc,
            )
            await connection.close(
                CloseCode.INTERNAL_ERROR, "the database is unavailable; try again shortly"
            )
            return None

    async def close(self, live: LiveSession) -> None:
        """The connection closed: end the row (if it is not ended already)."""
        self._live.pop(live.id, None)
        reason = live.ended or SessionEndReason.CLOSED
        try:
            # An unlock failure revokes the token even if recording it failed before.
            await self.store.end(
                live.id, reason, revoke_token=reason is SessionEndReason.UNLOCK_FAILED
            )
        except (SQLAlchemyError, OSError) as exc:
            # The row stays open until it is seen stale; nothing the user needs is lost.
            self._outage.failed(f"session {live.id} not recorded as ended: {exc!r}", exc)

    async def check(self) -> None:
        """End sessions past their expiry, and those ended elsewhere (one query)."""
        now = self._clock()
        for live in list(self._live.values()):
            if live.ended is None and live.expires_at is not None and live.expires_at <= now:
                await self.end(live, SessionEndReason.EXPIRED)
        open_ids = [live.id for live in self._live.values() if live.ended is None]
        for session_id, reason in (await self.store.ended_among(open_ids)).items():
            live_session = self._live.get(session_id)
            if live_session is not None and live_session.ended is None:
                await self.end(live_session, reason)
        self._checks += 1
        if self._checks % self._touch_every == 0:
            await self.store.touch([s.id for s in self._live.values() if s.ended is None])

    async def _sweep(self) -> None:
        await self.sweep_stale()

    async def sweep_stale(self) -> int:
        """End the open sessions of instances that died (not touched for
        :data:`STALE_SESSION_AFTER`); return how many."""
        ended = await self.store.end_stale(self._stale_after)
        if ended:
            logger.info("ended %s sessions left open by a server that is gone", ended)
        return ended

    def end_user(self, user_id: int, reason: SessionEndReason) -> None:
        """End this server's sessions of a user at once (the rows were ended already)."""
        for live in list(self._live.values()):
            if live.principal.user_id == user_id and live.ended is None:
                self._close_soon(live, reason)

    async def end(
        self, live: LiveSession, reason: SessionEndReason, *, revoke_token: bool = False
    ) -> None:
        """End one session: record why, then close its connection with the code."""
        if live.ended is not None:
            return
        live.ended = reason
        try:
            # Recorded (and the token revoked) before the client can see the close.
            await self.store.end(live.id, reason, revoke_token=revoke_token)
        finally:
            # Closed even if recording failed (the row is then ended by close()).
            self._close_soon(live, reason)

    def _close_soon(self, live: LiveSession, reason: SessionEndReason) -> None:
        live.ended = reason
        logger.info(
            "ending the %s session of %s from %s: %s",
            live.kind,
            live.principal.username,
            live.login.address or remote_address(live.connection),
            reason,
        )
        code = CLOSE_SESSION_EXPIRED if reason is SessionEndReason.EXPIRED else CLOSE_SESSION_ENDED
        # The close handshake may take a while; the watcher (or the caller) goes on.
        task = asyncio.get_running_loop().create_task(
            live.connection.close(code, reason.value), name=f"end-session-{live.id}"
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
