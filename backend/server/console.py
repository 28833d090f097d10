"""A console's session on ``/console``: hello, catching up (replay after its last ``seq``
or a snapshot), then the live stream out and commands in, side by side, until either
ends.

Commands go through the command table (:mod:`backend.server.commands`); everything
sent out (replay, snapshot, live events, telemetry) is filtered by the console's scope
(:mod:`backend.authz.policy`, applied in :class:`~backend.server.hub.Subscriber`). A
console that stops reading is cut off instead of stalling the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import msgspec
from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from backend import __version__
from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.eventlog import log as eventlog
from backend.registry.sessions import CONSOLE
from backend.registry.users import Login
from backend.server.handlers import ConsoleContext
from backend.server.handshake import remote_address
from backend.server.hub import Subscriber
from backend.server.sessions import LiveSession
from realtime import PROTOCOL_VERSION
from realtime.aio import TaskSet
from realtime.protocol import (
    CLOSE_HELLO_EXPECTED,
    CLOSE_RATE_ABUSE,
    CLOSE_TOO_SLOW,
    CLOSE_UNSUPPORTED_PROTOCOL,
    HELLO_TIMEOUT_SECONDS,
    MAX_CONSOLE_MESSAGE_BYTES,
    MAX_REPLAY_EVENTS,
    Error,
    ErrorCode,
    Event,
    Hello,
    Limits,
    ProtocolError,
    Result,
    Synced,
    Welcome,
    decode_console,
    encode,
    request_id_of,
)
from realtime.ratelimit import TokenBucket

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

logger = logging.getLogger(__name__)

MAX_WAITING_ON_TERMINALS = 4
"""Commands of one console waiting for vehicle terminals at once; more are refused
(``rate_limited``) rather than queued."""
RATE_ABUSE_LIMIT = 200
"""Messages refused for rate in a row before the connection is closed."""
DIRECT_WRITE_LIMIT = 64 * 1024
"""Bytes a console's socket may hold unsent before live frames wait in its queue (and for
the socket) instead of being written at once."""


async def send(connection: ServerConnection, message: msgspec.Struct) -> None:
    """Encode and send one protocol message."""
    await connection.send(encode(message).decode("utf-8"))


async def run_console(
    server: DutyDeskServer, connection: ServerConnection, login: Login, kind: str = CONSOLE
) -> None:
    """Serve one console connection until it closes (or its session is ended); ``kind``
    is the session's (an exercise console is a session beside the live one)."""
    hello = await _expect_hello(connection)
    if hello is None:
        return
    live = await server.session_tracker.open_or_refuse(login, kind, connection, hello.client)
    if live is None:
        return
    try:
        await _serve_session(server, connection, live, hello)
    finally:
        await server.session_tracker.close(live)


async def _serve_session(
    server: DutyDeskServer, connection: ServerConnection, live: LiveSession, hello: Hello
) -> None:
    principal = live.principal
    subscriber = Subscriber(principal)
    server.hub.add(subscriber)
    logger.info(
        "console %s (%s) connected from %s",
        principal.username,
        hello.client,
        remote_address(connection),
    )
    try:
        last_sent = await _sync(server, connection, live, hello.resume_from)
        sender = asyncio.create_task(_send_live(connection, subscriber, last_sent))
        receiver = asyncio.create_task(_receive_commands(server, connection, subscriber, live))
        done, pending = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task
        for task in done:
            with contextlib.suppress(ConnectionClosed):
                task.result()
    except ConnectionClosed:
        pass
    finally:
        server.hub.remove(subscriber)
        logger.info("console %s disconnected", principal.username)


async def _expect_hello(connection: ServerConnection) -> Hello | None:
    """Read the hello; on anything else say why, close, and return ``None``."""
    try:
        raw = await asyncio.wait_for(connection.recv(), HELLO_TIMEOUT_SECONDS)
        hello = decode_console(raw)
    except TimeoutError:
        await connection.close(CLOSE_HELLO_EXPECTED, "send hello first")
        return None
    except ProtocolError as exc:
        await send(connection, Error(code=ErrorCode.HELLO_EXPECTED, message=exc.message))
        await connection.close(CLOSE_HELLO_EXPECTED, "send a valid hello first")
        return None
    except ConnectionClosed:
        return None
    if not isinstance(hello, Hello):
        await send(
            connection,
            Error(code=ErrorCode.HELLO_EXPECTED, message="the first message must be hello"),
        )
        await connection.close(CLOSE_HELLO_EXPECTED, "send hello first")
        return None
    if hello.protocol != PROTOCOL_VERSION:
        await connection.close(
            CLOSE_UNSUPPORTED_PROTOCOL,
            f"protocol {hello.protocol} unsupported; this server speaks {PROTOCOL_VERSION}",
        )
        return None
    return hello


async def _sync(
    server: DutyDeskServer,
    connection: ServerConnection,
    live: LiveSession,
    resume_from: int | None,
) -> int:
    """Send the replay or a snapshot, then ``synced``; return the last seq sent."""
    principal: Principal = live.principal
    async with server.sessions() as session:
        head = await eventlog.head_seq(session)
        replay: list[Event] | None = None
        if (
            resume_from is not None
            and 0 <= resume_from <= head
            and head - resume_from <= MAX_REPLAY_EVENTS
        ):
            replay = await eventlog.events_after(session, resume_from, MAX_REPLAY_EVENTS)
    welcome = Welcome(
        protocol=PROTOCOL_VERSION,
        server_version=__version__,
        session_token=live.session_token,
        user=principal.info(),
        head_seq=head,
        limits=Limits(
            max_message_bytes=MAX_CONSOLE_MESSAGE_BYTES,
            rate_per_second=server.config.console_rate_per_second,
            rate_burst=server.config.console_rate_burst,
        ),
        exercise=server.hub.mark,
    )
    await send(connection, welcome)
    if replay is None:
        snapshot = await server.alarms.snapshot(principal)
        if server.hub.mark is not None:
            snapshot.exercise = server.hub.mark
        await send(connection, snapshot)
        last_sent = snapshot.head_seq
    else:
        last_sent = resume_from or 0
        for event in replay:
            # Every kind of event, filtered as the live stream is (alarm, device, geofence
            # and share events alike): nothing outside the scope, not even its seq's gap.
            if authz.can_see_event(principal, event):
                event = authz.event_as_seen(principal, event)  # noqa: PLW2901
                if server.hub.mark is not None:
                    event = msgspec.structs.replace(event, exercise=server.hub.mark)  # noqa: PLW2901
                await send(connection, event)
            last_sent = event.seq
    await send(connection, Synced(head_seq=max(last_sent, head)))
    return last_sent


async def _send_live(connection: ServerConnection, subscriber: Subscriber, last_sent: int) -> None:
    """Send the console its frames until it closes; cut it off (it resumes from its last
    ``seq``) once it falls too far behind.

    While its socket keeps up, the hub writes each frame at once (``write_now``); what
    arrives while the socket is backed up waits in the console's bounded queue and goes
    out through the pump, which waits for the socket to drain.
    """
    subscriber.sent_seq = max(subscriber.sent_seq, last_sent)
    pump = asyncio.create_task(_pump(connection, subscriber))
    overflow = asyncio.create_task(subscriber.overflowed.wait())
    subscriber.write_now = _writer(connection)
    try:
        # A console that stops reading blocks the pump once its socket is full; watching
        # the overflow beside it means it is still cut off in time.
        done, _ = await asyncio.wait({pump, overflow}, return_when=asyncio.FIRST_COMPLETED)
        if pump in done:
            pump.result()  # raises: the pump ends only when the connection does
        subscriber.write_now = None
        pump.cancel()
        await connection.close(CLOSE_TOO_SLOW, "console too slow; resume from your last seq")
    finally:
        subscriber.write_now = None
        pump.cancel()
        overflow.cancel()
        await asyncio.gather(pump, overflow, return_exceptions=True)


async def _pump(connection: ServerConnection, subscriber: Subscriber) -> None:
    """Send queued frames in order, skipping events already sent."""
    queue = subscriber.queue
    while True:
        frame = await queue.get()
        if frame.seq:
            if frame.seq <= subscriber.sent_seq:
                continue  # already sent in the replay or snapshot
            subscriber.sent_seq = frame.seq
        # Written before the first suspension (then it waits for the socket to drain), so
        # a frame the hub writes at once never overtakes this one.
        await connection.send(frame.data, text=True)


def _writer(connection: ServerConnection) -> Callable[[bytes], bool]:
    """How the hub writes a frame to this console at once: as ``websockets.broadcast``
    does (no task, no await), but only while the socket keeps up."""
    transport = connection.transport

    def write_now(data: bytes) -> bool:
        if connection.state is not State.OPEN:
            return False
        if transport.get_write_buffer_size() > DIRECT_WRITE_LIMIT:
            return False  # backed up: the frame queues and the pump waits for the socket
        broadcast((connection,), data, text=True)
        return True

    return write_now


async def _receive_commands(
    server: DutyDeskServer,
    connection: ServerConnection,
    subscriber: Subscriber,
    live: LiveSession,
) -> None:
    beside = _CommandsBeside(connection)
    try:
        await _read_commands(server, connection, ConsoleContext(server, subscriber, live), beside)
    finally:
        await beside.close()


async def _read_commands(
    server: DutyDeskServer,
    connection: ServerConnection,
    context: ConsoleContext,
    beside: _CommandsBeside,
) -> None:
    principal = context.principal
    bucket = TokenBucket(server.config.console_rate_per_second, server.config.console_rate_burst)
    refused_in_a_row = 0
    async for raw in connection:
        if not bucket.allow():
            refused_in_a_row += 1
            if refused_in_a_row >= RATE_ABUSE_LIMIT:
                logger.warning("closing console of %s: message flood", principal.username)
                await connection.close(CLOSE_RATE_ABUSE, "message rate far over the limit")
                return
            await send(
                connection,
                Error(
                    code=ErrorCode.RATE_LIMITED,
                    message=f"over {bucket.rate:g} messages/s; message dropped",
                    req=request_id_of(raw),
                ),
            )
            continue
        refused_in_a_row = 0
        try:
            message = decode_console(raw)
        except ProtocolError as exc:
            logger.info("bad message from %s: %s", principal.username, exc.message)
            await send(
                connection, Error(code=exc.code, message=exc.message, req=request_id_of(raw))
            )
            continue
        if isinstance(message, Hello):
            await send(
                connection,
                Error(code=ErrorCode.BAD_MESSAGE, message="hello was already received"),
            )
            continue
        if (journal := server.recording.journal) is not None:
            journal.record_command(principal.username, principal.role.value, raw)
        if not server.commands.waits_on_terminal(message):
            await send(connection, await server.commands.console(context, message))
        elif beside.full():
            await send(
                connection,
                Error(
                    code=ErrorCode.RATE_LIMITED,
                    message=f"{MAX_WAITING_ON_TERMINALS} orders already wait for their "
                    "terminals; send this one when one of them is answered",
                    req=message.req,
                ),
            )
        else:
            beside.start(server.commands.console(context, message))


class _CommandsBeside:
    """The commands of one console that wait for a vehicle terminal (up to its reply
    timeout, seconds): each runs in a task of its own and answers when it is done — the
    client matches answers by ``req`` — so the console's other commands are not held
    behind a silent truck. What an order does once sent is carried to its end and logged
    by the vehicle service even when the console goes away (see ``carry_out``)."""

    def __init__(self, connection: ServerConnection) -> None:
        self._connection = connection
        self._running = TaskSet()

    def full(self) -> bool:
        """Whether the console has as many such commands running as it may."""
        return len(self._running) >= MAX_WAITING_ON_TERMINALS

    def start(self, answer: Coroutine[Any, Any, Result | Error]) -> None:
        """Run the command beside the others; send its answer when it comes."""
        task = self._running.start(self._answer(answer), "console command (terminal)")
        task.add_done_callback(_log_failure)

    async def _answer(self, answer: Coroutine[Any, Any, Result | Error]) -> None:
        outcome = await answer
        with contextlib.suppress(ConnectionClosed):  # the console went away meanwhile
            await send(self._connection, outcome)

    async def close(self) -> None:
        """The console is gone: stop waiting for the answers nobody will read."""
        await self._running.close()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (failure := task.exception()) is not None:
        logger.error("a console command waiting for a terminal failed", exc_info=failure)
