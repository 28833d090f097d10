"""Live positions and readings between server instances on separate hosts, through
PostgreSQL.

Events reach every instance through the event log (:mod:`backend.server.cluster`); live
telemetry is no event, and the Unix-socket relay (:mod:`backend.server.telemetry_relay`)
reaches only the workers of one host. So each instance also sends the fixes and readings
it accepted, coalesced (the newest per vehicle and per sensor) every :data:`INTERVAL`, as
notifications on the channel :data:`TELEMETRY_CHANNEL`, and offers the other instances'
to its hub, which hands each console those of its areas exactly as for its own devices.

Why NOTIFY and not a table: a payload holds up to 8000 bytes, 64 fixes packed (msgpack,
base64); all chunks of one tick go in one statement (one round trip, one commit), and
PostgreSQL hands them to every listening instance without a query of theirs and without
rows to write, vacuum or delete. Measured on the 2-core test VM (load average ≈ 10, other
work running): one statement of 40 payloads of 7.9 kB (≈ 2,500 fixes) took 2.9 ms
(median), the same data as one row of an unlogged table plus a NOTIFY of its id, read
back by one instance and deleted, 6.1 ms — and each further instance adds a read.

Lossy by design, like the hub's own telemetry: it never holds up ingest (``offer`` only
replaces the pending fix of the vehicle); a slow or failed send drops that tick (the
next one carries every vehicle's newest fix), and nothing stored depends on it. Nothing
is sent while no instance of another source listens (the listening connections are named
:data:`APPLICATION_NAME` and their source's hash, counted every :data:`PEERS_CHECK_EVERY`
seconds): the workers of one ``serve --workers`` have the Unix relay for each other.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import socket
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ParamSpec
from urllib.parse import urlencode

import asyncpg
import msgspec

from backend.eventlog import notify
from backend.runtime.episodes import EpisodeLog
from backend.runtime.periodic import Periodic
from backend.server.hub import Hub
from backend.server.telemetry_relay import (
    FIXES,
    READINGS,
    RelayedFix,
    RelayIntake,
    TelemetryRelay,
    packed,
    relayed,
)
from devices.observations import Position
from realtime.protocol import ReadingView

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

logger = logging.getLogger(__name__)

TELEMETRY_CHANNEL = "dutydesk_telemetry"
APPLICATION_NAME = "dutydesk_telemetry"
"""The listening connections' ``application_name`` starts with it, followed by a hash of
their source: how a sender counts the peers it has to send to."""
MAX_PAYLOAD = 7_900
"""Bytes per notification (PostgreSQL refuses payloads of 8000 bytes and more)."""
INTERVAL = 0.1
"""Seconds between two sends (the newest fix per vehicle in each)."""
SEND_TIMEOUT = 2.0
"""A send taking longer is given up (that tick is dropped)."""
PEERS_CHECK_EVERY = 2.0
_FIRST_CHUNK = 64
_LOST = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def _digest(source: str) -> str:
    return hashlib.blake2b(source.encode(), digest_size=6).hexdigest()


def with_application_name(dsn: str, name: str) -> str:
    """``dsn`` whose connections carry ``application_name`` ``name``."""
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}{urlencode({'application_name': name})}"


class ClusterRelay:
    """Sends this instance's live fixes to the other instances and offers theirs."""

    def __init__(
        self,
        dsn: str,
        source: str,
        *,
        interval: float = INTERVAL,
        outage: EpisodeLog | None = None,
    ) -> None:
        self._dsn = dsn
        self.source = source
        """Names what this instance sends; notifications of the same source are not
        offered (its own, or a sibling worker's that came by the Unix relay already)."""
        self._pending: dict[str, RelayedFix] = {}
        self._pending_readings: dict[tuple[str, str], ReadingView] = {}
        self._encoder = msgspec.msgpack.Encoder()
        self._intake = RelayIntake("a notification")
        self._application_name = f"{APPLICATION_NAME} {_digest(source)}"
        self._listener = notify.Listener(
            with_application_name(dsn, self._application_name),
            {TELEMETRY_CHANNEL: self._received},
            # A lost database is one outage, logged once by whoever meets it first.
            outage=outage or EpisodeLog(logger, "telemetry relay (LISTEN)"),
        )
        self._sender: asyncpg.Connection | None = None
        self._send_failing = False
        self._flusher = Periodic(
            "cluster telemetry relay", self._flush, interval=interval, log=logger
        )
        self._peers = 0
        self._peers_checked = -PEERS_CHECK_EVERY
        self.sent = 0
        """Fixes sent to the other instances."""
        self.dropped = 0
        """Fixes dropped: a send that failed or took too long."""

    @property
    def listening(self) -> asyncio.Event:
        """Set while the listening connection is up."""
        return self._listener.connected

    def start(self, hub: Hub) -> None:
        """Listen for the others' fixes and start sending ours."""
        self._intake.hub = hub
        self._listener.start()
        self._flusher.start()

    async def stop(self) -> None:
        """Stop sending and listening."""
        await self._flusher.stop()
        await self._listener.stop()
        await self._close_sender()

    def offer(self, position: Position, place: str) -> None:
        """A live fix this instance accepted: the newest per vehicle goes at the next tick."""
        self._pending[position.device] = relayed(position, place)

    def offer_reading(self, reading: ReadingView) -> None:
        """A live reading this instance accepted: the newest per sensor goes at the next
        tick."""
        self._pending_readings[(reading.device, reading.sensor)] = reading

    def payloads(
        self, fixes: Sequence[RelayedFix], readings: Sequence[ReadingView] = ()
    ) -> list[str]:
        """``fixes`` and ``readings`` as notification payloads of at most
        :data:`MAX_PAYLOAD` bytes."""
        return self._chunks(FIXES, fixes) + self._chunks(READINGS, readings)

    @property
    def refused(self) -> int:
        """Notifications received that held no relayed fixes or readings, or items out
        of range (ignored)."""
        return self._intake.refused

    def _chunks(self, kind: str, items: Sequence[msgspec.Struct]) -> list[str]:
        prefix = f"{self.source}\n{kind}\n"
        payloads, too_long = packed(
            items,
            lambda chunk: prefix + base64.b64encode(self._encoder.encode(chunk)).decode("ascii"),
            MAX_PAYLOAD,
            _FIRST_CHUNK,
        )
        self.dropped += too_long  # one item over 8 kB (a hostile name): not relayed
        return payloads

    async def _flush(self) -> None:
        if not self._pending and not self._pending_readings:
            return
        fixes = list(self._pending.values())
        readings = list(self._pending_readings.values())
        self._pending, self._pending_readings = {}, {}
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                connection = await self._connect()
                if not await self._has_peers(connection):
                    return
                await connection.execute(
                    "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
                    TELEMETRY_CHANNEL,
                    self.payloads(fixes, readings),
                )
        except _LOST as exc:
            self.dropped += len(fixes) + len(readings)
            if not self._send_failing:
                # Lossy by design: a busy database drops ticks, it is no failure of ours.
                logger.warning(
                    "telemetry relay: sending to the other instances failed (%s); ticks are "
                    "dropped until it works (logged once)",
                    str(exc) or type(exc).__name__,
                )
                self._send_failing = True
            await self._close_sender()
            return
        if self._send_failing:
            logger.info("telemetry relay: sending to the other instances again")
            self._send_failing = False
        self.sent += len(fixes) + len(readings)

    async def _connect(self) -> asyncpg.Connection:
        if self._sender is None:
            self._sender = await asyncpg.connect(self._dsn)
        return self._sender

    async def _close_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            try:
                await sender.close(timeout=2)
            except _LOST:
                sender.terminate()

    async def _has_peers(self, connection: asyncpg.Connection) -> bool:
        """Whether an instance of another source listens (checked every few seconds):
        the workers of one supervisor send nothing through the database to each other."""
        now = time.monotonic()
        if now - self._peers_checked >= PEERS_CHECK_EVERY:
            listening = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name LIKE $1 AND application_name <> $2",
                f"{APPLICATION_NAME} %",
                self._application_name,
            )
            self._peers = int(listening)
            self._peers_checked = now
        return self._peers > 0

    def _received(self, payload: str) -> None:
        sender, _, rest = payload.partition("\n")
        kind, _, body = rest.partition("\n")
        if sender == self.source:
            return
        try:
            data = base64.b64decode(body, validate=True)
        except binascii.Error:
            self._intake.refuse("a notification that is no list of relayed fixes or readings")
            return
        self._intake.take(kind, data)


_P = ParamSpec("_P")


def fan_out(offers: Sequence[Callable[_P, None]]) -> Callable[_P, None] | None:
    """One offer handing each item to every one of ``offers`` (None: there are none)."""
    if len(offers) <= 1:
        return offers[0] if offers else None

    def offer(*args: _P.args, **kwargs: _P.kwargs) -> None:
        for each in offers:
            each(*args, **kwargs)

    return offer


def start_relays(server: DutyDeskServer) -> None:
    """Start the relays of live positions and readings ``server`` takes part in: between
    the workers of its supervisor (``serve --workers``), and between instances on
    PostgreSQL."""
    offers: list[Callable[[Position, str], None]] = []
    reading_offers: list[Callable[[ReadingView], None]] = []
    source = server.presence.name if server.presence is not None else ""
    if server.config.worker_relay is not None:
        folder, worker, workers = server.config.worker_relay
        server.relay = TelemetryRelay(folder, worker, workers)
        server.relay.start(server.hub)
        offers.append(server.relay.offer)
        reading_offers.append(server.relay.offer_reading)
        # The workers of one supervisor have each other's fixes by the Unix relay already.
        source = f"{socket.gethostname()}:{folder}"
    if (
        server.config.cluster_relay
        and server.presence is not None  # not in an exercise
        and server.database_kind == "postgresql"
    ):
        server.cluster_relay = ClusterRelay(
            notify.asyncpg_dsn(server.config.db_url), source, outage=server.database_outage
        )
        server.cluster_relay.start(server.hub)
        offers.append(server.cluster_relay.offer)
        reading_offers.append(server.cluster_relay.offer_reading)
    for kind in ("jt808", "nmea"):
        server.ingests[kind].relay = fan_out(offers)
    for kind in ("json", "modbus"):
        server.ingests[kind].relay_reading = fan_out(reading_offers)
