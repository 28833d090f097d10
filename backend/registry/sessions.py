"""Who is logged in where: one ``sessions`` row per console or device-feed connection.

A session ends when its connection closes, when it expires, or at once when the user's
account changes (password, role, agency, jurisdiction, disablement, second factor) or an
administrator logs the user out. Such a change runs :func:`end_user_sessions` in the same
transaction that makes it: the user's ``auth_epoch`` goes up, their open rows are ended
with the reason and their session tokens are revoked. A server, which may be another
process than the command-line tool that made the change, notices with one cheap query
(:meth:`SessionStore.ended_among`) over the sessions it holds open.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.storage.models import SessionRecord, Token, User
from realtime.protocol import SessionEndReason

logger = logging.getLogger(__name__)

CONSOLE = "console"
DEVICE = "device"
EXERCISE_CONSOLE = "exercise"
"""A console on an exercise's path: open beside the user's live console."""
STALE_AFTER = dt.timedelta(minutes=5)
"""An open session not seen for this long is shown as stale (its server stopped uncleanly)."""


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One open session, for ``dutydesk user sessions``."""

    id: int
    username: str
    kind: str
    remote: str
    client: str
    started_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime | None
    stale: bool
    """Not seen for :data:`STALE_AFTER`: its server probably stopped without closing it."""
    jurisdiction: str = ""
    """The user's area (what an administrator of a smaller area may list)."""


async def end_user_sessions(
    session: AsyncSession, user: User, reason: SessionEndReason, now: dt.datetime
) -> int:
    """End every open session of ``user`` (in the caller's transaction); return how many.

    Bumps the user's ``auth_epoch`` (so a login authenticated just before this change is
    ended too) and revokes their session tokens (API tokens stay: device feeds keep them).
    """
    user.auth_epoch += 1
    user.epoch_reason = reason.value
    await session.execute(
        update(Token)
        .where(Token.user_id == user.id, Token.kind == "session", Token.revoked.is_(False))
        .values(revoked=True)
    )
    ended = await session.execute(
        update(SessionRecord)
        .where(SessionRecord.user_id == user.id, SessionRecord.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason.value)
    )
    count: int = getattr(ended, "rowcount", 0) or 0
    logger.info("sessions of %s ended (%s): %s open", user.username, reason, count)
    return count


class SessionStore:
    """Starts, ends, checks and lists session rows."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    async def start(
        self,
        *,
        user_id: int,
        auth_epoch: int,
        kind: str,
        remote: str,
        client: str,
        token_id: int | None,
        expires_at: dt.datetime | None,
    ) -> int:
        """Record a new open session; return its id."""
        now = self._clock()
        async with self._sessions.begin() as session:
            row = SessionRecord(
                user_id=user_id,
                token_id=token_id,
                kind=kind,
                remote=remote[:128],
                client=client[:128],
                auth_epoch=auth_epoch,
                started_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                ended_at=None,
                end_reason="",
            )
            session.add(row)
            await session.flush()
            return row.id

    async def end(
        self, session_id: int, reason: SessionEndReason, *, revoke_token: bool = False
    ) -> None:
        """End one session (if still open); with ``revoke_token`` its token is revoked too."""
        async with self._sessions.begin() as session:
            row = await session.get(SessionRecord, session_id)
            if row is None:
                return
            if row.ended_at is None:
                row.ended_at = self._clock()
                row.end_reason = reason.value
            if revoke_token and row.token_id is not None:
                await session.execute(
                    update(Token).where(Token.id == row.token_id).values(revoked=True)
                )

    async def ended_among(self, session_ids: Collection[int]) -> dict[int, SessionEndReason]:
        """Of these sessions, those ended elsewhere (or whose user changed), with why.

        One query: a session is over when its row was ended, its user is disabled, or its
        user's ``auth_epoch`` moved on since it was authenticated.
        """
        if not session_ids:
            return {}
        async with self._sessions() as session:
            rows = await session.execute(
                select(
                    SessionRecord.id,
                    SessionRecord.end_reason,
                    User.active,
                    User.epoch_reason,
                )
                .join(User, User.id == SessionRecord.user_id)
                .where(
                    SessionRecord.id.in_(list(session_ids)),
                    or_(
                        SessionRecord.ended_at.is_not(None),
                        User.active.is_(False),
                        User.auth_epoch != SessionRecord.auth_epoch,
                    ),
                )
            )
            ended: dict[int, SessionEndReason] = {}
            for session_id, end_reason, active, epoch_reason in rows:
                ended[session_id] = _reason(end_reason or epoch_reason, active=active)
            return ended

    async def touch(self, session_ids: Collection[int]) -> None:
        """Record that these sessions are still connected (``last_seen_at``)."""
        if not session_ids:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(SessionRecord)
                .where(SessionRecord.id.in_(list(session_ids)), SessionRecord.ended_at.is_(None))
                .values(last_seen_at=self._clock())
            )

    async def list_open(self, username: str | None = None) -> Sequence[SessionInfo]:
        """Open sessions (of one user, or all), oldest first."""
        now = self._clock()
        async with self._sessions() as session:
            query = (
                select(SessionRecord, User.username, User.jurisdiction)
                .join(User, User.id == SessionRecord.user_id)
                .where(SessionRecord.ended_at.is_(None))
                .order_by(SessionRecord.started_at, SessionRecord.id)
            )
            if username is not None:
                query = query.where(User.username == username)
            rows = await session.execute(query)
            return [
                SessionInfo(
                    id=row.id,
                    username=name,
                    kind=row.kind,
                    remote=row.remote,
                    client=row.client,
                    started_at=row.started_at,
                    last_seen_at=row.last_seen_at,
                    expires_at=row.expires_at,
                    stale=now - row.last_seen_at > STALE_AFTER,
                    jurisdiction=area,
                )
                for row, name, area in rows
            ]

    async def end_stale(self, older_than: dt.timedelta) -> int:
        """End open sessions not seen for ``older_than`` (left behind by a crash)."""
        horizon = self._clock() - older_than
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(SessionRecord)
                .where(and_(SessionRecord.ended_at.is_(None), SessionRecord.last_seen_at < horizon))
                .values(ended_at=self._clock(), end_reason=SessionEndReason.CLOSED.value)
            )
            count: int = getattr(result, "rowcount", 0) or 0
            return count


def _reason(end_reason: str, *, active: bool) -> SessionEndReason:
    if end_reason:
        try:
            return SessionEndReason(end_reason)
        except ValueError:
            logger.debug("unknown session end reason %r", end_reason)
    return SessionEndReason.DISABLED if not active else SessionEndReason.ACCOUNT_CHANGED
