"""The HTTP side of the one port: ``GET /health``, and the WebSocket handshake, where
every console and device feed is authenticated (``Authorization`` header) before a
single message is read, with failed logins throttled per user (or host)."""

from __future__ import annotations

import base64
import binascii
import http
import logging
import time
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.errors import ForbiddenError
from backend.registry.users import AuthError, UserService
from realtime.protocol import CONSOLE_PATH, DEVICE_PATH

logger = logging.getLogger(__name__)

LOGIN_FAILURES_BEFORE_LOCK = 5
LOGIN_LOCK_SECONDS = 300.0


@dataclass(slots=True)
class LoginThrottle:
    """Failed logins per key (user name or host) in the last :data:`LOGIN_LOCK_SECONDS`."""

    failures: dict[str, list[float]] = field(default_factory=dict)

    def locked(self, key: str) -> bool:
        """Return whether ``key`` failed too often lately to be allowed another try."""
        recent = [
            t for t in self.failures.get(key, []) if time.monotonic() - t < LOGIN_LOCK_SECONDS
        ]
        self.failures[key] = recent
        return len(recent) >= LOGIN_FAILURES_BEFORE_LOCK

    def failed(self, key: str) -> None:
        """Count a failed login."""
        self.failures.setdefault(key, []).append(time.monotonic())

    def succeeded(self, key: str) -> None:
        """Forget the failures of a key that logged in."""
        self.failures.pop(key, None)


class Gatekeeper:
    """Authenticates each WebSocket handshake and hands its principal to the session."""

    def __init__(self, users: UserService) -> None:
        self._users = users
        self._throttle = LoginThrottle()
        self._principals: dict[ServerConnection, Principal] = {}

    async def admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Answer the handshake: ``None`` to go on, or the refusal to send."""
        path = request.path.split("?", 1)[0]
        if path not in (CONSOLE_PATH, DEVICE_PATH):
            return connection.respond(http.HTTPStatus.NOT_FOUND, f"no endpoint {path}\n")
        remote = remote_address(connection)
        authorization = request.headers.get("Authorization")
        key = _login_key(authorization, remote)
        if self._throttle.locked(key):
            logger.warning("login refused for %s from %s: too many failures", key, remote)
            return connection.respond(
                http.HTTPStatus.TOO_MANY_REQUESTS, "too many failed logins; wait five minutes\n"
            )
        try:
            principal = await self._users.authenticate(authorization)
        except AuthError as exc:
            self._throttle.failed(key)
            logger.warning("login refused for %s from %s: %s", key, remote, exc)
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, f"{exc}\n")
        self._throttle.succeeded(key)
        if path == CONSOLE_PATH:
            try:
                authz.check_console(principal)
            except ForbiddenError as exc:
                logger.warning("console refused for %s: %s", principal.username, exc)
                return connection.respond(http.HTTPStatus.FORBIDDEN, f"{exc}\n")
        self._principals[connection] = principal
        return None

    def principal_of(self, connection: ServerConnection) -> Principal | None:
        """Take the principal the handshake authenticated for this connection."""
        return self._principals.pop(connection, None)


def remote_address(connection: ServerConnection) -> str:
    """``host:port`` of the peer, for logs."""
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


def _login_key(authorization: str | None, remote: str) -> str:
    """Name the login attempt for logs and throttling: the username for Basic, else the host."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return remote.rsplit(":", 1)[0]
        return decoded.partition(":")[0] or remote.rsplit(":", 1)[0]
    return remote.rsplit(":", 1)[0]
