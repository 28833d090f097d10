"""Users, roles, login and tokens."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import security
from backend.authz.principal import Principal
from backend.registry.agencies import active_agency
from backend.storage.models import Token, User
from realtime.protocol import Role

logger = logging.getLogger(__name__)

SESSION_TOKEN_LIFETIME = dt.timedelta(hours=12)
"""A console session outlives a shift; after that the officer logs in again."""


class Error(Exception):
    """A user operation failed."""


class AuthError(Error):
    """Login refused. ``str()`` is safe to show to the person logging in."""


class LoginBusyError(Error):
    """Too many password checks at once: the login was not tried; try again shortly."""


def _principal(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        agency=user.agency,
        jurisdiction=user.jurisdiction,
    )


class UserService:
    """Creates users and checks credentials.

    Password hashing runs in ``password_work``, a small bounded pool (by default one of
    its own), so a flood of logins cannot take every core or queue without limit.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        password_work: security.PasswordWork | None = None,
    ) -> None:
        self._sessions = sessions
        self._password_work = password_work or security.PasswordWork()

    def close(self) -> None:
        """Release the password workers."""
        self._password_work.close()

    async def add_user(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        display_name: str = "",
        agency: str | None = None,
        jurisdiction: str = "",
    ) -> Principal:
        """Create a user; refuse a duplicate name, a short password, an agency desk without an
        agency, and an agency that is not in the agency table (or disabled)."""
        if not username.strip() or len(username) > 64:
            raise Error("a username needs 1 to 64 characters")
        if len(password) < 8:
            raise Error("a password needs at least 8 characters")
        if role is Role.AGENCY and not agency:
            raise Error("an agency desk must belong to an agency (--agency)")
        password_hash = await self._hash(password)
        async with self._sessions.begin() as session:
            if agency is not None and await active_agency(session, agency) is None:
                raise Error(f"no active agency {agency!r} (see 'dutydesk agency list')")
            existing = await session.scalar(select(User).where(User.username == username))
            if existing is not None:
                raise Error(f"user {username!r} already exists")
            user = User(
                username=username,
                display_name=display_name or username,
                role=role.value,
                agency=agency,
                jurisdiction=jurisdiction,
                password_hash=password_hash,
                active=True,
                created_at=dt.datetime.now(dt.UTC),
            )
            session.add(user)
            await session.flush()
            return _principal(user)

    async def set_password(self, username: str, password: str) -> None:
        """Replace a user's password and revoke their session tokens."""
        if len(password) < 8:
            raise Error("a password needs at least 8 characters")
        password_hash = await self._hash(password)
        async with self._sessions.begin() as session:
            user = await session.scalar(select(User).where(User.username == username))
            if user is None:
                raise Error(f"no user {username!r}")
            user.password_hash = password_hash
            for token in await session.scalars(select(Token).where(Token.user_id == user.id)):
                if token.kind == "session":
                    token.revoked = True

    async def list_users(self) -> list[Principal]:
        """Return every active user, by name."""
        async with self._sessions() as session:
            users = await session.scalars(
                select(User).where(User.active.is_(True)).order_by(User.username)
            )
            return [_principal(user) for user in users]

    async def authenticate(self, authorization: str | None) -> Principal:
        """Check an ``Authorization`` header (Basic or Bearer) and return who it is."""
        if not authorization:
            raise AuthError("missing Authorization header (use Basic or Bearer)")
        scheme, _, credentials = authorization.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise AuthError("malformed Basic credentials") from exc
            username, sep, password = decoded.partition(":")
            if not sep:
                raise AuthError("malformed Basic credentials")
            return await self._check_password(username, password)
        if scheme == "bearer":
            return await self._check_token(credentials.strip())
        raise AuthError(f"unsupported authorization scheme {scheme!r}")

    async def _check_password(self, username: str, password: str) -> Principal:
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            # Spend the same time as a real check so names cannot be probed by timing.
            await self._verify(_DUMMY_HASH, password)
            raise AuthError("unknown user or wrong password")
        if not await self._verify(user.password_hash, password):
            raise AuthError("unknown user or wrong password")
        return _principal(user)

    async def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return await self._password_work.verify(password_hash, password)
        except security.BusyError as exc:
            raise LoginBusyError(str(exc)) from exc

    async def _hash(self, password: str) -> str:
        try:
            return await self._password_work.hash(password)
        except security.BusyError as exc:
            raise LoginBusyError(str(exc)) from exc

    async def _check_token(self, token: str) -> Principal:
        if not token:
            raise AuthError("empty bearer token")
        now = dt.datetime.now(dt.UTC)
        async with self._sessions() as session:
            row = await session.scalar(
                select(Token).where(Token.token_hash == security.token_hash(token))
            )
            if row is None or row.revoked:
                raise AuthError("invalid or revoked token")
            if row.expires_at is not None and row.expires_at <= now:
                raise AuthError("session expired; log in again")
            user = await session.get(User, row.user_id)
        if user is None or not user.active:
            raise AuthError("invalid or revoked token")
        return _principal(user)

    async def issue_token(self, principal: Principal, *, kind: str = "session") -> str:
        """Create a bearer token: a session token (expires) or a long-lived API token."""
        token, digest = security.new_token()
        now = dt.datetime.now(dt.UTC)
        expires = now + SESSION_TOKEN_LIFETIME if kind == "session" else None
        async with self._sessions.begin() as session:
            session.add(
                Token(
                    user_id=principal.user_id,
                    token_hash=digest,
                    kind=kind,
                    created_at=now,
                    expires_at=expires,
                    revoked=False,
                )
            )
        return token

    async def issue_api_token(self, username: str) -> str:
        """Create a long-lived API token for ``username`` (device feeds, integrations)."""
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.username == username))
        if user is None:
            raise Error(f"no user {username!r}")
        return await self.issue_token(_principal(user), kind="api")


_DUMMY_HASH = security.hash_password("timing-equaliser-not-a-password")
