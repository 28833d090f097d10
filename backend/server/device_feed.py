"""A device feed's session on ``/device``: a gateway or a device sends observations and
alarms, each answered by an acknowledgement once stored (or an error saying why not).

Devices get a tighter message size and rate than consoles on the same port. Messages go
through the command table (:mod:`backend.server.commands`); a bad message is answered
and the feed carries on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from backend.authz.principal import Principal
from backend.registry.sessions import DEVICE
from backend.registry.users import Login
from backend.server.console import send
from backend.server.device_handlers import DeviceContext
from backend.server.handshake import remote_address
from realtime.protocol import (
    DEVICE_RATE_BURST,
    DEVICE_RATE_PER_SECOND,
    MAX_DEVICE_MESSAGE_BYTES,
    Ack,
    Error,
    ErrorCode,
    ProtocolError,
    decode_device,
    request_id_of,
)
from realtime.ratelimit import TokenBucket

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

logger = logging.getLogger(__name__)


async def run_device_feed(
    server: DutyDeskServer, connection: ServerConnection, login: Login
) -> None:
    """Serve one device feed until it closes (or its session is ended)."""
    # Before anything is awaited: a frame read meanwhile must meet the device limit.
    connection.protocol.max_message_size = MAX_DEVICE_MESSAGE_BYTES
    principal = login.principal
    request = connection.request
    client = request.headers.get("User-Agent", "") if request is not None else ""
    live = await server.session_tracker.open_or_refuse(login, DEVICE, connection, client)
    if live is None:
        return
    try:
        await serve_feed(server, connection, principal)
    finally:
        await server.session_tracker.close(live)


async def serve_feed(
    server: DutyDeskServer,
    connection: ServerConnection,
    principal: Principal,
    *,
    rate_per_second: float = DEVICE_RATE_PER_SECOND,
) -> None:
    """Answer the feed's messages until it closes (an exercise's replayer, which has no
    session row, comes here directly with a rate fit for its speed)."""
    connection.protocol.max_message_size = MAX_DEVICE_MESSAGE_BYTES
    bucket = TokenBucket(rate_per_second, max(DEVICE_RATE_BURST, int(rate_per_second * 2)))
    context = DeviceContext(server, principal)
    server.devices_connected += 1
    logger.info("device feed %s connected from %s", principal.username, remote_address(connection))
    try:
        async for raw in connection:
            if not bucket.allow():
                await send(
                    connection,
                    Error(
                        code=ErrorCode.RATE_LIMITED,
                        message="device message rate over the limit",
                        ref=request_id_of(raw),
                    ),
                )
                continue
            await send(connection, await _answer(server, context, raw))
    except ConnectionClosed:
        pass
    finally:
        server.devices_connected -= 1
        logger.info("device feed %s disconnected", principal.username)


async def _answer(server: DutyDeskServer, context: DeviceContext, raw: str | bytes) -> Ack | Error:
    try:
        message = decode_device(raw)
    except ProtocolError as exc:
        logger.info("bad device message from %s: %s", context.principal.username, exc.message)
        return Error(code=exc.code, message=exc.message, ref=request_id_of(raw))
    return await server.commands.device(context, message)
