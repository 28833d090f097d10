"""Forwarding observations from a standalone gateway to a DutyDesk backend.

:class:`RemoteSink` is an :class:`~devices.observations.ObservationSink` that sends each
observation over the backend's device endpoint (``ws://HOST:PORT/device``) and returns
only when the backend acknowledged it — i.e. committed it — so a gateway that acknowledges
its device after ``submit`` keeps the "committed before acknowledged" promise across the
network. Messages are pipelined (many in flight, matched by ``ref``); when the link drops,
unacknowledged messages are sent again after the reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from devices.observations import Observation
from devices.wire import to_message
from realtime.client import tls_context
from realtime.protocol import (
    MAX_SERVER_MESSAGE_BYTES,
    Ack,
    DeviceKind,
    DeviceMessage,
    Error,
    ProtocolError,
    decode_server,
    encode,
)

logger = logging.getLogger(__name__)


class ForwardError(Exception):
    """The backend refused an observation (the message says why), or the sink is closed."""


@dataclass(slots=True)
class _InFlight:
    message: DeviceMessage
    done: asyncio.Future[None]
    sent: bool = False


class RemoteSink:
    """Sends observations to a backend and waits for each acknowledgement."""

    def __init__(
        self,
        url: str,
        authorization: str,
        *,
        kind: DeviceKind,
        max_in_flight: int = 2000,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 30.0,
        ca_file: str | None = None,
    ) -> None:
        self.url = url
        # A wss:// backend is verified against ``ca_file`` (else the system's CAs).
        self._tls = tls_context(ca_file) if url.lower().startswith("wss://") else None
        self.kind = kind
        self._authorization = authorization
        self._in_flight: dict[str, _InFlight] = {}
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._refs = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:8]
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.connected = asyncio.Event()

    def start(self) -> None:
        """Start the connection coordinator."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"forward to {self.url}")

    async def close(self) -> None:
        """Stop, failing whatever still waits for an acknowledgement."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for item in self._in_flight.values():
            if not item.done.done():
                item.done.set_exception(ForwardError("forwarding stopped"))
        self._in_flight.clear()

    async def submit(self, observation: Observation) -> None:
        """Forward one observation; return once the backend committed it."""
        if self._closed:
            raise ForwardError("forwarding stopped")
        async with self._slots:
            ref = f"{self._prefix}-{next(self._refs)}"
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._in_flight[ref] = _InFlight(to_message(observation, kind=self.kind, ref=ref), done)
            self._outbox.put_nowait(ref)
            try:
                await done
            finally:
                self._in_flight.pop(ref, None)

    async def submit_many(self, observations: Sequence[Observation]) -> None:
        """Forward several observations (pipelined, in order); return once all committed."""
        outcomes = await asyncio.gather(
            *(self.submit(observation) for observation in observations), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _run(self) -> None:
        delay = self._reconnect_delay
        failing = False
        while not self._closed:
            try:
                async with connect(
                    self.url,
                    additional_headers={"Authorization": self._authorization},
                    ssl=self._tls,
                    compression=None,
                    max_size=MAX_SERVER_MESSAGE_BYTES,
                    open_timeout=10,
                ) as ws:
                    if failing:
                        logger.info("backend %s reachable again", self.url)
                    failing = False
                    delay = self._reconnect_delay
                    # Whatever was sent but not acknowledged goes again, in order (what was
                    # never sent is still in the outbox). Telemetry is at-least-once;
                    # alarms and statuses are idempotent at the backend.
                    for ref, item in list(self._in_flight.items()):
                        if item.sent:
                            item.sent = False
                            self._outbox.put_nowait(ref)
                    self.connected.set()
                    await self._session(ws)
            except InvalidStatus as exc:
                reason = exc.response.body.decode("utf-8", "replace").strip()
                if not failing:
                    logger.error("backend %s refused the gateway: %s", self.url, reason)
                failing = True
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
                if not failing:
                    logger.warning("backend %s unreachable: %s; retrying", self.url, exc)
                failing = True
            self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_reconnect_delay)

    async def _session(self, ws: ClientConnection) -> None:
        sender = asyncio.create_task(self._send(ws))
        try:
            async for raw in ws:
                try:
                    answer = decode_server(raw)
                except ProtocolError as exc:
                    logger.warning("unreadable answer from the backend: %s", exc)
                    continue
                if isinstance(answer, Ack | Error) and answer.ref is not None:
                    item = self._in_flight.get(answer.ref)
                    if item is None or item.done.done():
                        continue
                    if isinstance(answer, Ack):
                        item.done.set_result(None)
                    else:
                        item.done.set_exception(
                            ForwardError(f"backend refused {answer.ref}: {answer.message}")
                        )
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await sender

    async def _send(self, ws: ClientConnection) -> None:
        while True:
            ref = await self._outbox.get()
            item = self._in_flight.get(ref)
            if item is None or item.done.done() or item.sent:
                continue
            item.sent = True
            await ws.send(encode(item.message).decode("utf-8"))
