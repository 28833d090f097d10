"""Async client for the DutyDesk console protocol.

One :class:`DutyDeskClient` owns one logical session with the server: it connects,
authenticates at the handshake, resumes from the last ``seq`` it holds, reconnects with
backoff when the link drops, correlates commands with their results, and holds commands
issued while disconnected in a bounded outbox until the link is back.

It has no Qt in it: the desktop wraps it in one service object that turns the listener
callbacks into Qt signals.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import enum
import itertools
import logging
import math
import random
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI

from realtime import PROTOCOL_VERSION
from realtime.protocol import (
    CLOSE_EXERCISE_ENDED,
    CLOSE_SESSION_ENDED,
    CLOSE_SESSION_EXPIRED,
    CLOSE_UNSUPPORTED_PROTOCOL,
    MAX_CONSOLE_MESSAGE_BYTES,
    MAX_SERVER_MESSAGE_BYTES,
    SECOND_FACTOR_CHALLENGE_HEADER,
    SECOND_FACTOR_HEADER,
    Command,
    Error,
    ErrorCode,
    Event,
    Hello,
    ProtocolError,
    Result,
    ResultData,
    Snapshot,
    Synced,
    Telemetry,
    Welcome,
    decode_server,
    encode,
)

logger = logging.getLogger(__name__)


class ClientError(Exception):
    """Base of this module's errors."""


class CommandError(ClientError):
    """The server refused a command; ``code`` says why in machine terms."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CommandTooLargeError(CommandError):
    """The command is larger than the server accepts: sending it would end the session
    (the server closes a connection that sends an oversized message), so it is refused
    here, before it is queued, as a ``validation`` error the caller shows like any other."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            ErrorCode.VALIDATION,
            f"the command is {size} bytes, over the server's limit of {limit}: "
            "make it smaller (or import it from a file)",
        )
        self.size = size
        self.limit = limit


class OutboxFullError(ClientError):
    """Too many commands are waiting for the link to come back."""


class ClientClosedError(ClientError):
    """The client was closed before the command got an answer."""


class ConnectionState(enum.StrEnum):
    """What the link to the server is doing."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    SYNCING = "syncing"
    """Connected and authenticated; catching up on missed events."""
    LIVE = "live"
    AUTH_FAILED = "auth_failed"
    """The server refused the credentials (or its certificate is not trusted); the client
    stops retrying."""
    SESSION_ENDED = "session_ended"
    """The server ended the session (password changed, logged out, expired…); ``detail``
    is the :class:`~realtime.protocol.SessionEndReason` value. The client stops and
    forgets its credentials: the user must log in again."""
    CLOSED = "closed"


class ClientListener(Protocol):
    """Receives what the client learns. Called on the event loop; must not block."""

    def on_state(self, state: ConnectionState, detail: str) -> None:
        """The connection state changed; ``detail`` is a human-readable reason."""

    def on_welcome(self, welcome: Welcome) -> None:
        """The server accepted the login."""

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Replace all state with this snapshot."""

    def on_event(self, event: Event) -> None:
        """Apply one new event (never a duplicate, always in ``seq`` order)."""


class _Next(enum.Enum):
    """What the reconnect loop does after a failed or ended connection."""

    AT_ONCE = "at once"
    LATER = "after the backoff"
    STOP = "stop"


@dataclass(slots=True)
class _Pending:
    command: Command
    future: asyncio.Future[ResultData]
    sent: bool = False


CERTIFICATE_NOT_TRUSTED = "the server's certificate is not trusted"
"""Start of the ``AUTH_FAILED`` detail when TLS verification fails."""


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A client TLS context that verifies the server against ``ca_file`` (PEM), or the
    system's trusted CAs when ``None``."""
    return ssl.create_default_context(cafile=ca_file)


def basic_auth_header(username: str, password: str) -> str:
    """Return an ``Authorization`` header value for a username and password."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class DutyDeskClient:
    """A self-healing console session. Start :meth:`run` as a task; stop with :meth:`close`."""

    def __init__(
        self,
        url: str,
        listener: ClientListener,
        *,
        username: str = "",
        password: str = "",
        token: str = "",
        totp: str = "",
        ca_file: str | None = None,
        client_name: str = "dutydesk",
        last_seq: int | None = None,
        outbox_limit: int = 200,
        backoff_initial: float = 0.5,
        backoff_max: float = 15.0,
        on_telemetry: Callable[[Telemetry], None] | None = None,
    ) -> None:
        self.url = url
        self._listener = listener
        self._username = username
        self._password = password
        self._token = token
        self._totp = totp
        self._ca_file = ca_file
        self.second_factor_required = False
        """The server refused the login for a missing or wrong second factor code."""
        self.refusal: Refusal | None = None
        """The last handshake the server turned away with a status other than 401/403 (too
        many failed logins, busy); cleared once a connection is live."""
        self._client_name = client_name
        self._last_seq = last_seq
        self._outbox_limit = outbox_limit
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._pending: collections.OrderedDict[str, _Pending] = collections.OrderedDict()
        self._req_counter = itertools.count(1)
        self._req_prefix = uuid.uuid4().hex[:12]
        self._state = ConnectionState.DISCONNECTED
        self._connection: ClientConnection | None = None
        self._closing = False
        self._live = asyncio.Event()
        self._closed = asyncio.Event()
        self.welcome: Welcome | None = None
        self._on_telemetry = on_telemetry

    # ------------------------------------------------------------------ public API

    @property
    def state(self) -> ConnectionState:
        """The current connection state."""
        return self._state

    @property
    def last_seq(self) -> int | None:
        """The highest event ``seq`` received, or None before the first sync."""
        return self._last_seq

    @property
    def queued_commands(self) -> int:
        """How many commands wait to be sent or answered."""
        return len(self._pending)

    def new_request_id(self) -> str:
        """Return a request id unique to this client (and, by its prefix, globally)."""
        return f"{self._req_prefix}-{next(self._req_counter)}"

    async def wait_live(self, timeout: float | None = None) -> None:
        """Wait until the client is connected and caught up."""
        await asyncio.wait_for(self._live.wait(), timeout)

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        """Send a command and return its result, or raise :class:`CommandError`.

        While disconnected the command waits in the outbox (bounded) and is sent, in
        order, as soon as the link is live again. ``command.req`` is replaced by a fresh
        request id.
        """
        if self._closing:
            raise ClientClosedError("client is closed")
        if len(self._pending) >= self._outbox_limit:
            raise OutboxFullError(
                f"{len(self._pending)} commands already wait for the server; try again later"
            )
        req = self.new_request_id()
        command = msgspec.structs.replace(command, req=req)
        self._check_size(command)
        future: asyncio.Future[ResultData] = asyncio.get_running_loop().create_future()
        pending = _Pending(command, future)
        self._pending[req] = pending
        if self._state is ConnectionState.LIVE and self._connection is not None:
            try:
                await self._send_pending(self._connection, pending)
            except ConnectionClosed:
                # The link dropped under us: the command waits in the outbox for the reconnect.
                pending.sent = False
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        finally:
            if not future.done():
                # Nobody waits any more: a late answer is dropped quietly, and the command
                # is not re-sent after a reconnect.
                future.cancel()
            if not pending.sent:
                self._pending.pop(req, None)
            # A sent command stays until its answer arrives, so that answer is consumed
            # here and never misattributed; _resolve() removes it.

    def _check_size(self, command: Command) -> None:
        limit = (
            self.welcome.limits.max_message_bytes
            if self.welcome is not None
            else MAX_CONSOLE_MESSAGE_BYTES
        )
        size = len(encode(command))
        if size > limit:
            raise CommandTooLargeError(size, limit)

    async def run(self) -> None:
        """Connect and keep the session alive until :meth:`close` or an auth failure."""
        backoff = self._backoff_initial
        try:
            tls = self._tls()
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            self._give_up(f"cannot use the CA file {self._ca_file}: {reason}")
            return
        while not self._stopping():
            self._set_state(ConnectionState.CONNECTING, self.url)
            try:
                async with connect(
                    self.url,
                    additional_headers=self._headers(),
                    ssl=tls,
                    max_size=MAX_SERVER_MESSAGE_BYTES,
                    compression=None,
                    open_timeout=10,
                    ping_interval=10,
                    ping_timeout=10,
                    user_agent_header=f"dutydesk-client/{PROTOCOL_VERSION}",
                ) as connection:
                    self._connection = connection
                    backoff = self._backoff_initial
                    await self._session(connection)
            except InvalidStatus as exc:
                next_step = self._after_refusal(exc)
                if next_step is _Next.STOP:
                    return
                if next_step is _Next.AT_ONCE:
                    continue
            except InvalidURI as exc:
                self._set_state(ConnectionState.AUTH_FAILED, f"bad server address: {exc}")
                return
            except ConnectionClosed as exc:
                if self._after_close(exc) is _Next.STOP:
                    return
            except ssl.SSLCertVerificationError as exc:
                # Retrying cannot help: the address or the CA file must change.
                self._give_up(f"{CERTIFICATE_NOT_TRUSTED}: {exc.verify_message or exc.reason}")
                return
            except (OSError, TimeoutError, websockets.exceptions.InvalidHandshake) as exc:
                self._set_state(ConnectionState.DISCONNECTED, f"cannot reach server: {exc}")
            except ProtocolError as exc:
                logger.warning("server sent a message this client cannot read: %s", exc)
                self._set_state(ConnectionState.DISCONNECTED, "protocol error")
            finally:
                self._connection = None
                self._live.clear()
                for pending in self._pending.values():
                    pending.sent = False
            if self._stopping():
                break
            delay = backoff * (0.5 + random.random())  # noqa: S311 - jitter, not security
            backoff = min(backoff * 2, self._backoff_max)
            # close() ends the wait at once instead of after the backoff.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), delay)
        self._set_state(ConnectionState.CLOSED, "")

    def _after_refusal(self, exc: InvalidStatus) -> _Next:
        """What to do after the server refused the handshake with an HTTP status."""
        status = exc.response.status_code
        reason = exc.response.body.decode("utf-8", "replace").strip() if exc.response.body else ""
        if status == 401 and self._token and self._password:
            logger.info("session token refused; logging in again with the password")
            self._token = ""
            return _Next.AT_ONCE
        if status in (401, 403):
            self.second_factor_required = (
                exc.response.headers.get(SECOND_FACTOR_CHALLENGE_HEADER) == "totp"
            )
            self._set_state(ConnectionState.AUTH_FAILED, reason or f"HTTP {status}")
            self._fail_all(CommandError(ErrorCode.UNAUTHORIZED, reason or "login refused"))
            return _Next.STOP
        self.refusal = Refusal(status, _retry_after(exc.response.headers.get("Retry-After")))
        self._set_state(ConnectionState.DISCONNECTED, f"server answered HTTP {status}")
        return _Next.LATER

    def _after_close(self, exc: ConnectionClosed) -> _Next:
        """What to do after the connection closed (by the server, or lost)."""
        received = exc.rcvd
        if received is not None and received.code == CLOSE_UNSUPPORTED_PROTOCOL:
            self._set_state(ConnectionState.AUTH_FAILED, received.reason)
            return _Next.STOP
        if received is not None and received.code == CLOSE_EXERCISE_ENDED:
            self._set_state(ConnectionState.CLOSED, received.reason)
            return _Next.STOP
        if received is not None and received.code in (CLOSE_SESSION_ENDED, CLOSE_SESSION_EXPIRED):
            self._session_ended(received.reason)
            return _Next.STOP
        detail = received.reason if received is not None and received.reason else "link lost"
        self._set_state(ConnectionState.DISCONNECTED, detail)
        return _Next.LATER

    def _give_up(self, detail: str) -> None:
        """A failure retrying cannot mend: say why and fail every waiting command."""
        self._set_state(ConnectionState.AUTH_FAILED, detail)
        self._fail_all(CommandError(ErrorCode.UNAUTHORIZED, detail))

    async def close(self) -> None:
        """Stop reconnecting, close the link, and fail every waiting command."""
        self._closing = True
        self._closed.set()
        self._fail_all(ClientClosedError("client closed"))
        if self._connection is not None:
            await self._connection.close()

    # ------------------------------------------------------------------ internals

    def _stopping(self) -> bool:
        # A method, not the attribute, because close() flips it while run() awaits.
        return self._closing

    def _authorization(self) -> str:
        if self._token:
            return f"Bearer {self._token}"
        return basic_auth_header(self._username, self._password)

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": self._authorization()}
        if self._totp and not self._token:
            headers[SECOND_FACTOR_HEADER] = self._totp
        return headers

    def _tls(self) -> ssl.SSLContext | None:
        if not self.url.lower().startswith("wss://"):
            return None
        return tls_context(self._ca_file)

    def _session_ended(self, reason: str) -> None:
        """The server ended the session: forget the credentials and stop."""
        self._token = ""
        self._password = ""
        self._totp = ""
        self._set_state(ConnectionState.SESSION_ENDED, reason)
        self._fail_all(CommandError(ErrorCode.UNAUTHORIZED, f"session ended: {reason}"))

    def _set_state(self, state: ConnectionState, detail: str) -> None:
        if state is self._state and state is not ConnectionState.DISCONNECTED:
            return
        if state is not self._state:
            logger.info("connection %s → %s %s", self._state, state, detail)
        self._state = state
        self._listener.on_state(state, detail)

    def _fail_all(self, error: Exception) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._pending.clear()

    async def _send_pending(self, connection: ClientConnection, pending: _Pending) -> None:
        pending.sent = True
        await connection.send(encode(pending.command).decode("utf-8"))

    async def _session(self, connection: ClientConnection) -> None:
        hello = Hello(
            protocol=PROTOCOL_VERSION, client=self._client_name, resume_from=self._last_seq
        )
        await connection.send(encode(hello).decode("utf-8"))
        async for raw in connection:
            message = decode_server(raw)
            match message:
                case Welcome():
                    self.welcome = message
                    self._token = message.session_token
                    self._set_state(ConnectionState.SYNCING, "")
                    self._listener.on_welcome(message)
                case Snapshot():
                    self._last_seq = message.head_seq
                    self._listener.on_snapshot(message)
                case Event():
                    if self._last_seq is not None and message.seq <= self._last_seq:
                        logger.debug("dropping duplicate event %s", message.seq)
                        continue
                    self._last_seq = message.seq
                    self._listener.on_event(message)
                case Synced():
                    if self._last_seq is None or message.head_seq > self._last_seq:
                        self._last_seq = message.head_seq
                    self.refusal = None
                    self._set_state(ConnectionState.LIVE, "")
                    self._live.set()
                    for req, pending in list(self._pending.items()):
                        if pending.future.done():
                            self._pending.pop(req, None)  # its caller gave up waiting
                        elif not pending.sent:
                            await self._send_pending(connection, pending)
                case Telemetry():
                    if self._on_telemetry is not None:
                        self._on_telemetry(message)
                case Result():
                    self._resolve(message.req, message.data, None)
                case Error():
                    if message.req is None:
                        logger.warning("server error: %s %s", message.code, message.message)
                    else:
                        self._resolve(
                            message.req, None, CommandError(message.code, message.message)
                        )
                case _:
                    logger.debug("ignoring %s", type(message).__name__)

    def _resolve(self, req: str, data: ResultData | None, error: Exception | None) -> None:
        pending = self._pending.pop(req, None)
        if pending is None or pending.future.done():
            return
        if error is not None:
            pending.future.set_exception(error)
        elif data is not None:
            pending.future.set_result(data)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A handshake the server turned away before checking the login (it retries later)."""

    status: int
    """The HTTP status: 429 (too many failed logins from here), 503 (busy or its
    database down) or another."""
    retry_after: float | None
    """Seconds the server asked to wait (``Retry-After``), when it said."""


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header in seconds (an HTTP date is not used here)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
