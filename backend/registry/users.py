"""Users, roles, login (password, second factor) and tokens; every account change that
must end the user's open sessions ends them in its own transaction."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import security
from backend.authz.principal import Principal
from backend.errors import ValidationError
from backend.jurisdictions import codes
from backend.registry import second_factor
from backend.registry.agencies import active_agency
from backend.registry.sessions import end_user_sessions, utc_now
from backend.storage.models import RegistryItem, Token, User
from realtime.protocol import ItemKind, Role, SessionEndReason

logger = logging.getLogger(__name__)

SESSION_TOKEN_LIFETIME = dt.timedelta(hours=12)
"""A console session outlives a shift; after that the officer logs in again."""

SessionsEnded = Callable[[int, SessionEndReason], None]
"""Told (user id, why) after a change through this service ended a user's sessions."""


def _area(jurisdiction: str) -> str:
    """A user's area as a canonical code (330100 → 3301): a prefix that matches nothing
    would leave the user silently blind."""
    try:
        return codes.normalize(jurisdiction.strip())
    except ValidationError as exc:
        raise Error(f"jurisdiction {jurisdiction!r}: {exc.message}") from exc


class Error(Exception):
    """A user operation failed."""


class AuthError(Error):
    """Login refused. ``str()`` is safe to show to the person logging in."""


class SecondFactorError(AuthError):
    """The password was right but the second factor code is missing, wrong or used."""


class LoginBusyError(Error):
    """Too many password checks at once: the login was not tried; try again shortly."""


@dataclass(frozen=True, slots=True)
class Login:
    """Who logged in, and with what: what a session needs beyond the principal."""

    principal: Principal
    auth_epoch: int
    """The user's ``auth_epoch`` when the credentials were checked."""
    second_factor: bool
    """Whether the user must give a TOTP code (also to unlock a locked console)."""
    session_token: str = ""
    """The session token presented (Bearer), handed back in the welcome; "" otherwise."""
    token_id: int | None = None
    """The stored row of :attr:`session_token`."""
    expires_at: dt.datetime | None = None
    """When :attr:`session_token` expires."""
    address: str = ""
    """Where the login came from (``host:port``, or ``client via proxy:port``), set by
    the handshake."""


def _principal(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        agency=user.agency,
        jurisdiction=user.jurisdiction,
        enterprise=user.enterprise,
    )


def _check_enterprise_role(role: Role, enterprise: str | None) -> None:
    if role is Role.ENTERPRISE and not enterprise:
        raise Error("an enterprise user must belong to an enterprise (--enterprise CODE)")
    if role is not Role.ENTERPRISE and enterprise:
        raise Error("--enterprise is for users of role enterprise only")


def _check_bindings(user: User) -> None:
    """After a change: an agency desk keeps an agency; only an enterprise user keeps an
    enterprise (a user made one is added anew, with ``--enterprise``)."""
    if user.role == Role.AGENCY.value and not user.agency:
        raise Error("an agency desk must belong to an agency (--agency)")
    if user.role == Role.ENTERPRISE.value and not user.enterprise:
        raise Error("an enterprise user is added with its enterprise (user add --enterprise)")
    if user.role != Role.ENTERPRISE.value:
        user.enterprise = None


async def enterprise_jurisdiction(session: AsyncSession, code: str) -> str:
    """The jurisdiction of the active registry enterprise ``code`` (an enterprise user's
    area); :class:`Error` when there is none."""
    row = await session.scalar(
        select(RegistryItem).where(
            RegistryItem.kind == ItemKind.ENTERPRISE.value,
            RegistryItem.code == code,
            RegistryItem.retired.is_(False),
        )
    )
    if row is None:
        raise Error(f"no enterprise {code!r} in the registry (see 'dutydesk registry list')")
    return row.jurisdiction


class UserService:
    """Creates users and checks credentials.

    Password hashing runs in ``password_work``, a small bounded pool (by default one of
    its own), so a flood of logins cannot take every core or queue without limit.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        password_work: security.PasswordWork | None = None,
        *,
        cipher: security.FieldCipher | None = None,
        require_totp: Collection[Role] = (),
        session_lifetime: dt.timedelta = SESSION_TOKEN_LIFETIME,
        clock: Callable[[], dt.datetime] = utc_now,
        on_sessions_ended: SessionsEnded | None = None,
    ) -> None:
        self._sessions = sessions
        self._password_work = password_work or security.PasswordWork()
        self._cipher = cipher
        self.require_totp = frozenset(require_totp)
        """Roles that must log in with a second factor (users with one enrolled always do)."""
        self.session_lifetime = session_lifetime
        self._clock = clock
        self.on_sessions_ended = on_sessions_ended
        """Called after a change through this service ended sessions (the server closes
        its connections at once instead of at its next check)."""

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
        enterprise: str | None = None,
    ) -> Principal:
        """Create a user; refuse a duplicate name, a short password, an agency desk without an
        agency, and an agency that is not in the agency table (or disabled).

        An ``enterprise`` user names the registry code of its enterprise (an active
        registry item of kind enterprise, and only for that role); its jurisdiction is
        the enterprise's, whatever ``jurisdiction`` says."""
        if not username.strip() or len(username) > 64:
            raise Error("a username needs 1 to 64 characters")
        if len(password) < 8:
            raise Error("a password needs at least 8 characters")
        if role is Role.AGENCY and not agency:
            raise Error("an agency desk must belong to an agency (--agency)")
        _check_enterprise_role(role, enterprise)
        jurisdiction = _area(jurisdiction)
        password_hash = await self._hash(password)
        async with self._sessions.begin() as session:
            if agency is not None and await active_agency(session, agency) is None:
                raise Error(f"no active agency {agency!r} (see 'dutydesk agency list')")
            if enterprise:
                jurisdiction = await enterprise_jurisdiction(session, enterprise)
            existing = await session.scalar(select(User).where(User.username == username))
            if existing is not None:
                raise Error(f"user {username!r} already exists")
            user = User(
                username=username,
                display_name=display_name or username,
                role=role.value,
                agency=agency,
                jurisdiction=jurisdiction,
                enterprise=enterprise or None,
                password_hash=password_hash,
                active=True,
                created_at=dt.datetime.now(dt.UTC),
            )
            session.add(user)
            await session.flush()
            return _principal(user)

    async def set_password(self, username: str, password: str) -> int:
        """Replace a user's password and end their sessions; return how many were open."""
        if len(password) < 8:
            raise Error("a password needs at least 8 characters")
        password_hash = await self._hash(password)

        def change(user: User) -> SessionEndReason:
            user.password_hash = password_hash
            return SessionEndReason.PASSWORD_CHANGED

        return await self._change(username, change)

    async def update_user(
        self,
        username: str,
        *,
        role: Role | None = None,
        agency: str | None = None,
        jurisdiction: str | None = None,
        display_name: str | None = None,
    ) -> int:
        """Change who a user is; a new role, agency or jurisdiction ends their sessions
        (what they may see changed). ``agency=""`` removes the agency. Returns how many
        sessions were ended."""
        if jurisdiction is not None:
            jurisdiction = _area(jurisdiction)
        if agency:
            await self._check_agency(agency)

        def change(user: User) -> SessionEndReason | None:
            before = (user.role, user.agency, user.jurisdiction)
            if role is not None:
                user.role = role.value
            if agency is not None:
                user.agency = agency or None
            if jurisdiction is not None:
                user.jurisdiction = jurisdiction
            if display_name is not None:
                user.display_name = display_name or user.username
            _check_bindings(user)
            if (user.role, user.agency, user.jurisdiction) == before:
                return None
            return SessionEndReason.ACCOUNT_CHANGED

        return await self._change(username, change)

    async def _check_agency(self, agency: str) -> None:
        async with self._sessions() as session:
            if await active_agency(session, agency) is None:
                raise Error(f"no active agency {agency!r} (see 'dutydesk agency list')")

    async def set_active(self, username: str, active: bool) -> int:
        """Disable (ending every session at once) or re-enable a user."""

        def change(user: User) -> SessionEndReason | None:
            was = user.active
            user.active = active
            return SessionEndReason.DISABLED if was and not active else None

        return await self._change(username, change)

    async def logout(self, username: str) -> int:
        """End every open session of a user and revoke their session tokens."""
        return await self._change(username, lambda _user: SessionEndReason.LOGGED_OUT)

    async def enrol_totp(self, username: str) -> str:
        """Give a user a new TOTP secret (replacing any); return it. Ends their sessions."""
        cipher = self._need_cipher()
        secret = second_factor.new_secret()

        def change(user: User) -> SessionEndReason:
            user.totp_secret_enc = cipher.encrypt(secret)
            user.totp_last_step = None
            return SessionEndReason.SECOND_FACTOR_CHANGED

        await self._change(username, change)
        return secret

    async def remove_totp(self, username: str) -> None:
        """Remove a user's second factor (they then log in with the password alone, unless
        their role requires one). Ends their sessions."""

        def change(user: User) -> SessionEndReason | None:
            if not user.totp_secret_enc:
                raise Error(f"user {username!r} has no second factor")
            user.totp_secret_enc = ""
            user.totp_last_step = None
            return SessionEndReason.SECOND_FACTOR_CHANGED

        await self._change(username, change)

    async def _change(
        self, username: str, change: Callable[[User], SessionEndReason | None]
    ) -> int:
        """Apply ``change`` to the user and, if it names a reason, end their sessions in
        the same transaction; then tell :attr:`on_sessions_ended`."""
        async with self._sessions.begin() as session:
            user = await session.scalar(select(User).where(User.username == username))
            if user is None:
                raise Error(f"no user {username!r}")
            reason = change(user)
            ended = 0
            if reason is not None:
                ended = await end_user_sessions(session, user, reason, self._clock())
            user_id = user.id
        if reason is not None and self.on_sessions_ended is not None:
            self.on_sessions_ended(user_id, reason)
        return ended

    def _need_cipher(self) -> security.FieldCipher:
        if self._cipher is None:
            raise Error("no data encryption key: second factors cannot be stored or checked")
        return self._cipher

    async def list_users(self) -> list[Principal]:
        """Return every active user, by name."""
        async with self._sessions() as session:
            users = await session.scalars(
                select(User).where(User.active.is_(True)).order_by(User.username)
            )
            return [_principal(user) for user in users]

    async def authenticate(self, authorization: str | None, totp: str = "") -> Login:
        """Check an ``Authorization`` header (Basic or Bearer) and return who it is.

        A password login of a user who needs a second factor also needs ``totp`` (the
        code from their app); a session token stands for a login that gave it already.
        """
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
            # No name or password holds U+0000; PostgreSQL would refuse the query itself.
            if not sep or "\x00" in decoded:
                raise AuthError("malformed Basic credentials")
            return await self._check_password(username, password, totp)
        if scheme == "bearer":
            return await self._check_token(credentials.strip())
        raise AuthError(f"unsupported authorization scheme {scheme!r}")

    def needs_second_factor(self, user: User) -> bool:
        """Whether ``user`` must give a TOTP code: enrolled, or of a role that requires it."""
        return bool(user.totp_secret_enc) or Role(user.role) in self.require_totp

    async def _check_password(self, username: str, password: str, totp: str) -> Login:
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            # Spend the same time as a real check so names cannot be probed by timing.
            await self._verify(_DUMMY_HASH, password)
            raise AuthError("unknown user or wrong password")
        if not await self._verify(user.password_hash, password):
            raise AuthError("unknown user or wrong password")
        second = self.needs_second_factor(user)
        if second:
            await self._check_second_factor(user, totp)
        return Login(_principal(user), user.auth_epoch, second)

    async def _check_second_factor(self, user: User, code: str) -> None:
        """Accept ``code`` once for ``user`` (the step is stored, across processes)."""
        if not user.totp_secret_enc:
            raise AuthError(
                f"role {user.role} needs a second factor and {user.username} has none; "
                f"an administrator enrols one with 'dutydesk user totp {user.username}'"
            )
        try:
            secret = self._need_cipher().decrypt(user.totp_secret_enc)
        except security.Error as exc:
            raise AuthError(f"the second factor cannot be checked: {exc}") from exc
        try:
            step = second_factor.matching_step(secret, code, self._clock(), user.totp_last_step)
        except second_factor.Error as exc:
            raise SecondFactorError(str(exc)) from exc
        async with self._sessions.begin() as session:
            # Conditional, so that two logins racing with one code cannot both win.
            taken = await session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    or_(User.totp_last_step.is_(None), User.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
        if not getattr(taken, "rowcount", 0):
            raise SecondFactorError(
                "this second factor code was used already; wait for the next one"
            )

    async def verify_unlock(self, user_id: int, password: str, totp: str = "") -> None:
        """Check the password (and code) of a user unlocking their console; raise
        :class:`AuthError` if wrong."""
        async with self._sessions() as session:
            user = await session.get(User, user_id)
        if user is None or not user.active:
            raise AuthError("the account is disabled")
        if not await self._verify(user.password_hash, password):
            raise AuthError("wrong password")
        if self.needs_second_factor(user):
            await self._check_second_factor(user, totp)

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

    async def _check_token(self, token: str) -> Login:
        if not token:
            raise AuthError("empty bearer token")
        now = self._clock()
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
        if row.kind != "session":
            return Login(_principal(user), user.auth_epoch, self.needs_second_factor(user))
        return Login(
            _principal(user),
            user.auth_epoch,
            self.needs_second_factor(user),
            session_token=token,
            token_id=row.id,
            expires_at=row.expires_at,
        )

    async def issue_token(self, principal: Principal, *, kind: str = "session") -> str:
        """Create a bearer token: a session token (expires) or a long-lived API token."""
        token, _token_id, _expires = await self.issue_token_row(principal, kind=kind)
        return token

    async def issue_token_row(
        self, principal: Principal, *, kind: str = "session"
    ) -> tuple[str, int, dt.datetime | None]:
        """Create a bearer token; return it, its row id and when it expires."""
        token, digest = security.new_token()
        now = self._clock()
        expires = now + self.session_lifetime if kind == "session" else None
        async with self._sessions.begin() as session:
            row = Token(
                user_id=principal.user_id,
                token_hash=digest,
                kind=kind,
                created_at=now,
                expires_at=expires,
                revoked=False,
            )
            session.add(row)
            await session.flush()
            return token, row.id, expires

    async def issue_api_token(self, username: str) -> str:
        """Create a long-lived API token for ``username`` (device feeds, integrations)."""
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.username == username))
        if user is None:
            raise Error(f"no user {username!r}")
        return await self.issue_token(_principal(user), kind="api")


_DUMMY_HASH = security.hash_password("timing-equaliser-not-a-password")
