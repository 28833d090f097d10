"""The HTTP side of the one port: ``GET /health``, and the WebSocket handshake, where
every console and device feed is authenticated (``Authorization`` header, plus the
``X-DutyDesk-TOTP`` code for users with a second factor) before a single message is
read, with failed logins throttled per source address and per user before any password
is checked. Behind a reverse proxy the source address is the client's as the proxy saw it
(``X-Forwarded-For``, believed from the proxies named in ``--trusted-proxy`` only):
otherwise every login would come from the proxy, and a few wrong passwords would lock
the whole control room out."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import http
import ipaddress
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from backend.authz import policy as authz
from backend.errors import ForbiddenError
from backend.registry.users import AuthError, Login, LoginBusyError, SecondFactorError, UserService
from backend.runtime.episodes import EpisodeLog
from backend.storage import db
from realtime.protocol import (
    CONSOLE_PATH,
    DEVICE_PATH,
    SECOND_FACTOR_CHALLENGE_HEADER,
    SECOND_FACTOR_HEADER,
)

logger = logging.getLogger(__name__)

LOGIN_FAILURES_BEFORE_LOCK = 5
LOGIN_LOCK_SECONDS = 300.0
BUSY_RETRY_AFTER_SECONDS = 2


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """How many failed logins are tolerated before the handshake refuses without checking."""

    failures_per_address: int = 20
    """Failed logins from one address (any user) within ``address_window`` before that
    address is refused (429) without a password check until its failures age out."""
    address_window: float = 60.0
    failures_per_user: int = LOGIN_FAILURES_BEFORE_LOCK
    """Failed logins for one user name within ``user_window`` before it is locked."""
    user_window: float = LOGIN_LOCK_SECONDS
    max_tracked: int = 10_000
    """Addresses and user names remembered each; the stalest are forgotten beyond it."""


FORWARDED_FOR_HEADER = "X-Forwarded-For"

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The reverse proxies whose ``X-Forwarded-For`` is believed (none by default: a
    header from anyone else is ignored, so a client cannot choose its address)."""

    def __init__(self, networks: Iterable[str] = ()) -> None:
        """``networks``: addresses or CIDR blocks (``127.0.0.1``, ``10.0.8.0/24``);
        :class:`ValueError` for anything else."""
        self.networks: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(network.strip(), strict=False) for network in networks
        )

    def _trusted(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client_of(self, connection: ServerConnection, request: Request) -> tuple[str, str]:
        """The client's address (what the per-address throttle counts) and how logs name
        the connection (``client via proxy:port`` when it came through a proxy)."""
        remote = remote_address(connection)
        host = _host(remote)
        if not self.networks or not self._trusted(host):
            return host, remote
        # Each proxy appends the address it saw: read from the right, past our proxies;
        # what a client wrote itself stands left of the first address they added.
        entries = [
            entry.strip()
            for header in request.headers.get_all(FORWARDED_FOR_HEADER)
            for entry in header.split(",")
        ]
        for entry in reversed(entries):
            try:
                ipaddress.ip_address(entry)
            except ValueError:
                break  # not what a proxy of ours writes: keep the last one believed
            if not self._trusted(entry):
                return entry, f"{entry} via {remote}"
            host = entry
        return host, remote


class _RecentFailures:
    """Failure times per key within a window, for at most ``max_keys`` keys (least
    recently failed forgotten first) and at most ``limit`` times per key."""

    def __init__(
        self, limit: int, window: float, max_keys: int, clock: Callable[[], float]
    ) -> None:
        self._limit = limit
        self._window = window
        self._max_keys = max_keys
        self._clock = clock
        # A dict keeps insertion order: re-inserting on each failure makes it an LRU.
        self._times: dict[str, deque[float]] = {}

    def __len__(self) -> int:
        return len(self._times)

    def blocked(self, key: str) -> bool:
        """Return whether ``key`` reached the limit within the window."""
        times = self._times.get(key)
        if times is None:
            return False
        horizon = self._clock() - self._window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._times[key]
            return False
        return len(times) >= self._limit

    def add(self, key: str) -> bool:
        """Count a failure of ``key``; return whether this one reached the limit."""
        times = self._times.pop(key, None)
        if times is None:
            times = deque(maxlen=self._limit)
        times.append(self._clock())
        self._times[key] = times
        while len(self._times) > self._max_keys:
            del self._times[next(iter(self._times))]
        return len(times) == self._limit

    def take_back(self, key: str) -> None:
        """Remove the newest failure of ``key`` (an attempt counted ahead that succeeded)."""
        times = self._times.get(key)
        if times:
            times.pop()
            if not times:
                del self._times[key]

    def forget(self, key: str) -> None:
        """Drop every failure of ``key``."""
        self._times.pop(key, None)


class LoginThrottle:
    """Recent failed logins per source address and per user name, in bounded memory."""

    def __init__(
        self, limits: LoginLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or LoginLimits()
        self._addresses = _RecentFailures(
            self.limits.failures_per_address,
            self.limits.address_window,
            self.limits.max_tracked,
            clock,
        )
        self._users = _RecentFailures(
            self.limits.failures_per_user, self.limits.user_window, self.limits.max_tracked, clock
        )

    def __len__(self) -> int:
        """Addresses and user names remembered now."""
        return len(self._addresses) + len(self._users)

    def address_blocked(self, address: str) -> bool:
        """Return whether ``address`` failed too often lately to be allowed a check."""
        return self._addresses.blocked(address)

    def user_blocked(self, username: str) -> bool:
        """Return whether ``username`` failed too often lately to be allowed a check."""
        return self._users.blocked(username)

    def attempt(self, address: str) -> bool:
        """Count an attempt from ``address`` as failed until it succeeds (so that parallel
        attempts cannot overrun the limit); return whether it reached the limit."""
        return self._addresses.add(address)

    def failed(self, address: str, username: str | None) -> None:
        """Count a failed login (tests and callers without :meth:`attempt`)."""
        self._addresses.add(address)
        self.user_failed(username)

    def user_failed(self, username: str | None) -> None:
        """Count a failed login for ``username`` (``None`` when no name was given)."""
        if username:
            self._users.add(username)

    def not_tried(self, address: str) -> None:
        """An attempt from ``address`` was not checked (busy, outage): take it back."""
        self._addresses.take_back(address)

    def succeeded(self, address: str, username: str | None) -> None:
        """An attempt from ``address`` logged in: take its failure back, forget the user's."""
        self._addresses.take_back(address)
        if username:
            self._users.forget(username)


class Gatekeeper:
    """Authenticates each WebSocket handshake and hands its principal to the session.

    Cheap refusals come first: an address or user name that failed too often lately is
    refused (429) before any database read or password check, so guessing costs the
    server nothing once the limit is reached.
    """

    def __init__(
        self,
        users: UserService,
        limits: LoginLimits | None = None,
        database_outage: EpisodeLog | None = None,
        proxies: TrustedProxies | None = None,
    ) -> None:
        self._users = users
        self._proxies = proxies or TrustedProxies()
        self.throttle = LoginThrottle(limits)
        self._outage = database_outage or EpisodeLog(logger, "login database")
        # Weak: a handshake refused after its login passed (no WebSocket upgrade, say)
        # never reaches the handler that takes the login, and must not stay held here.
        self._logins: weakref.WeakKeyDictionary[ServerConnection, Login] = (
            weakref.WeakKeyDictionary()
        )

    async def admit(
        self, connection: ServerConnection, request: Request, *, console: bool | None = None
    ) -> Response | None:
        """Answer the handshake: ``None`` to go on, or the refusal to send. ``console``
        says what another path (an exercise's) is; by default the path does."""
        path = request.path.split("?", 1)[0]
        if console is None and path not in (CONSOLE_PATH, DEVICE_PATH):
            return connection.respond(http.HTTPStatus.NOT_FOUND, f"no endpoint {path}\n")
        if console is None:
            console = path == CONSOLE_PATH
        host, remote = self._proxies.client_of(connection, request)
        authorization = request.headers.get("Authorization")
        totp = request.headers.get(SECOND_FACTOR_HEADER, "")
        outcome = self._throttled(connection, host, remote, authorization) or await self._login(
            connection, host, remote, authorization, totp
        )
        if isinstance(outcome, Response):
            return outcome
        outcome = dataclasses.replace(outcome, address=remote)
        if console:
            try:
                authz.check_console(outcome.principal)
            except ForbiddenError as exc:
                logger.warning("console refused for %s: %s", outcome.principal.username, exc)
                return connection.respond(http.HTTPStatus.FORBIDDEN, f"{exc}\n")
        self._logins[connection] = outcome
        return None

    def _throttled(
        self, connection: ServerConnection, host: str, remote: str, authorization: str | None
    ) -> Response | None:
        """The refusal for an address or user that failed too often lately, else ``None``."""
        if self.throttle.address_blocked(host):
            logger.debug("login refused from %s: address over the failure limit", remote)
            return connection.respond(
                http.HTTPStatus.TOO_MANY_REQUESTS,
                "too many failed logins from this address; wait a minute\n",
            )
        username = _basic_username(authorization)
        if username is not None and self.throttle.user_blocked(username):
            logger.warning("login refused for %s from %s: too many failures", username, remote)
            return connection.respond(
                http.HTTPStatus.TOO_MANY_REQUESTS, "too many failed logins; wait five minutes\n"
            )
        return None

    async def _login(
        self,
        connection: ServerConnection,
        host: str,
        remote: str,
        authorization: str | None,
        totp: str,
    ) -> Login | Response:
        """Check the credentials (counted against the address until they pass)."""
        username = _basic_username(authorization)
        self.throttle.attempt(host)
        try:
            login = await self._users.authenticate(authorization, totp)
        except AuthError as exc:
            self.throttle.user_failed(username)
            logger.warning("login refused for %s from %s: %s", username or host, remote, exc)
            if self.throttle.address_blocked(host):
                logger.warning(
                    "refusing logins from %s for a while: %s failed logins in %g s",
                    host,
                    self.throttle.limits.failures_per_address,
                    self.throttle.limits.address_window,
                )
            response = connection.respond(http.HTTPStatus.UNAUTHORIZED, f"{exc}\n")
            if isinstance(exc, SecondFactorError):
                # Tells a client to ask for the code (the password was right).
                response.headers[SECOND_FACTOR_CHALLENGE_HEADER] = "totp"
            return response
        except LoginBusyError as exc:
            self.throttle.not_tried(host)
            logger.debug("login from %s turned away: %s", remote, exc)
            return _unavailable(connection, f"{exc}\n")
        except (SQLAlchemyError, OSError) as exc:
            self.throttle.not_tried(host)
            self._outage.failed(f"login check failed: {db.failure_reason(exc)}", exc)
            return _unavailable(
                connection,
                "the database is unavailable; logins cannot be checked now, try again shortly\n",
            )
        except BaseException:
            self.throttle.not_tried(host)
            raise
        self.throttle.succeeded(host, username)
        return login

    def login_of(self, connection: ServerConnection) -> Login | None:
        """Take the login the handshake authenticated for this connection."""
        return self._logins.pop(connection, None)


def remote_address(connection: ServerConnection) -> str:
    """``host:port`` of the peer, for logs."""
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


def _host(remote: str) -> str:
    """The address part of ``host:port`` (what the per-address throttle counts)."""
    return remote.rsplit(":", 1)[0]


def _unavailable(connection: ServerConnection, body: str) -> Response:
    """A 503 refusal with ``Retry-After`` (the login was not tried)."""
    response = connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, body)
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


def _basic_username(authorization: str | None) -> str | None:
    """The user name of Basic credentials, for the per-user lock and logs; else ``None``."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None
