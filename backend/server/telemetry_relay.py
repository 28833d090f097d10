"""Live positions and readings between the workers of one ``dutydesk serve --workers N``.

Events reach every worker through the event log (``backend.server.cluster``); live
positions and readings are not events: each is stored by the worker its terminal or
device feed is connected to and fanned out by that worker's hub. So that a console on any
worker sees every vehicle move and every sensor's value, each worker sends the fixes and
readings it accepted to the other workers' hubs, coalesced (the newest per vehicle and per
sensor) every ``interval``, as datagrams on Unix sockets in a folder of the data
directory; a datagram's first byte says which it holds. Like the hub's own telemetry this
is lossy by design: a full socket or a worker being restarted drops a tick, the next value
of each follows a moment later, and nothing stored depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import msgspec

from backend.runtime.periodic import Periodic
from backend.server.hub import Hub
from devices.observations import Position
from realtime.protocol import ReadingView

logger = logging.getLogger(__name__)

MAX_DATAGRAM = 60_000
"""Bytes per datagram (under the default Unix socket buffer of ≈ 208 KiB)."""
RELAY_DIR_VARIABLE = "DUTYDESK_RELAY_DIR"
"""Set by the supervisor for its workers: the folder of the relay sockets."""
DEFAULT_INTERVAL = 0.010
"""Seconds between two sends to the other workers (as the consoles' tick: a fix relayed
waits for this tick and then for the other worker's console tick)."""

WORKER_VARIABLE = "DUTYDESK_WORKER"
WORKERS_VARIABLE = "DUTYDESK_WORKERS_COUNT"


_Item = TypeVar("_Item", bound=msgspec.Struct)


class RelayedFix(msgspec.Struct, array_like=True, frozen=True):
    """One live fix as relayed (packed as an array: ≈ 80 bytes in msgpack)."""

    device: str
    at: float
    lat: float
    lon: float
    speed_kmh: float
    heading_deg: float
    altitude_m: float
    place: str


def relayed(position: Position, place: str) -> RelayedFix:
    """``position`` (lying in ``place``) as relayed."""
    return RelayedFix(
        position.device,
        position.at.timestamp(),
        position.lat,
        position.lon,
        position.speed_kmh,
        position.heading_deg,
        position.altitude_m,
        place,
    )


def offer_relayed(hub: Hub, fixes: list[RelayedFix]) -> int:
    """Offer relayed ``fixes`` to ``hub`` (its consoles get those of their areas);
    returns how many were unusable (a time or place out of range) and skipped."""
    bad = 0
    for fix in fixes:
        if not (-90 <= fix.lat <= 90 and -180 <= fix.lon <= 180):  # also NaN
            bad += 1
            continue
        try:
            at = dt.datetime.fromtimestamp(fix.at, dt.UTC)
        except (ValueError, OverflowError, OSError):
            bad += 1
            continue
        hub.offer_position(
            Position(
                device=fix.device,
                at=at,
                lat=fix.lat,
                lon=fix.lon,
                speed_kmh=fix.speed_kmh,
                heading_deg=fix.heading_deg,
                altitude_m=fix.altitude_m,
            ),
            fix.place,
        )
    return bad


def offer_readings(hub: Hub, readings: Sequence[ReadingView]) -> int:
    """Offer relayed ``readings`` to ``hub``; returns how many were no number and skipped."""
    bad = 0
    for reading in readings:
        if math.isfinite(reading.value):
            hub.offer_reading(reading)
        else:
            bad += 1
    return bad


_Packet = TypeVar("_Packet", bytes, str)


def packed(
    items: Sequence[_Item], encode: Callable[[Sequence[_Item]], _Packet], limit: int, first: int
) -> tuple[list[_Packet], int]:
    """``items`` encoded in chunks of at most ``limit`` long: ``first`` per chunk at
    first, halved while a chunk is too long (a long name makes its item larger). Returns
    the packets and how many single items were too long even alone (left out)."""
    todo = [items[i : i + first] for i in range(0, len(items), first)]
    packets: list[_Packet] = []
    too_long = 0
    while todo:
        chunk = todo.pop()
        packet = encode(chunk)
        if len(packet) <= limit:
            packets.append(packet)
        elif len(chunk) > 1:
            half = len(chunk) // 2
            todo += (chunk[:half], chunk[half:])
        else:
            too_long += 1
    return packets, too_long


FIXES, READINGS = "P", "R"
"""What a relayed batch holds: fixes, or readings."""


class RelayIntake:
    """Offers the batches relayed by peers to a hub: decoded, checked, and what is no
    batch or out of range counted, logged now and then, and ignored (one bad batch costs
    only itself)."""

    def __init__(self, what: str) -> None:
        self._what = what
        self.hub: Hub | None = None
        """Where relayed items go (None: not started, items are ignored)."""
        self.refused = 0
        """Batches that were no list of fixes or readings, or held items out of range."""
        self._fixes = msgspec.msgpack.Decoder(list[RelayedFix])
        self._readings = msgspec.msgpack.Decoder(list[ReadingView])

    def take(self, kind: str, data: bytes) -> None:
        """Offer the msgpack batch ``data`` of ``kind`` (:data:`FIXES` or
        :data:`READINGS`) to the hub."""
        hub = self.hub
        if hub is None:
            return
        try:
            if kind == READINGS:
                if offer_readings(hub, self._readings.decode(data)):
                    self.refuse("readings that are not numbers")
            elif kind == FIXES:
                if offer_relayed(hub, self._fixes.decode(data)):
                    self.refuse("fixes with a time or coordinates out of range")
            else:
                raise ValueError(kind)
        except (msgspec.DecodeError, ValueError):
            self.refuse(f"{self._what} that is no list of relayed fixes or readings")

    def refuse(self, what: str) -> None:
        """Count one bad batch (logged at the first and every thousandth)."""
        self.refused += 1
        if self.refused == 1 or self.refused % 1000 == 0:
            logger.warning("telemetry relay: %s, ignored (%s so far)", what, self.refused)


def socket_path(folder: Path, worker: int) -> Path:
    """Where worker number ``worker`` receives the others' fixes."""
    return folder / f"worker-{worker}.sock"


class TelemetryRelay:
    """Sends this worker's live fixes to its peers and offers theirs to ``hub``."""

    def __init__(
        self, folder: Path, worker: int, workers: int, *, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self._own = socket_path(folder, worker)
        self._peers = [socket_path(folder, n) for n in range(1, workers + 1) if n != worker]
        self._pending: dict[str, RelayedFix] = {}
        self._pending_readings: dict[tuple[str, str], ReadingView] = {}
        self._socket: socket.socket | None = None
        self._intake = RelayIntake("a datagram")
        self._encoder = msgspec.msgpack.Encoder()
        self._flusher = Periodic("telemetry relay", self._flush, interval=interval, log=logger)
        self.dropped = 0
        """Datagrams a peer could not take (full or restarting), and single items too
        large for a datagram."""

    def start(self, hub: Hub) -> None:
        """Listen for the peers' fixes and start sending ours."""
        self._intake.hub = hub
        self._own.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self._own.unlink()  # left by this worker's previous life
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind(str(self._own))
        self._socket = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._receive)
        self._flusher.start()

    async def stop(self) -> None:
        """Stop sending and receiving."""
        await self._flusher.stop()
        if self._socket is not None:
            asyncio.get_running_loop().remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None
            with contextlib.suppress(FileNotFoundError):
                self._own.unlink()

    def offer(self, position: Position, place: str) -> None:
        """A live fix this worker accepted: the newest per device goes at the next tick."""
        self._pending[position.device] = relayed(position, place)

    def offer_reading(self, reading: ReadingView) -> None:
        """A live reading this worker accepted: the newest per sensor goes at the next
        tick."""
        self._pending_readings[(reading.device, reading.sensor)] = reading

    def datagrams(
        self, fixes: Sequence[RelayedFix], readings: Sequence[ReadingView] = ()
    ) -> list[bytes]:
        """``fixes`` and ``readings`` as datagrams of at most :data:`MAX_DATAGRAM` bytes."""
        return self._chunks(FIXES, fixes) + self._chunks(READINGS, readings)

    @property
    def refused(self) -> int:
        """Datagrams received that held no relayed fixes or readings, or items out of
        range (ignored)."""
        return self._intake.refused

    def _chunks(self, kind: str, items: Sequence[msgspec.Struct]) -> list[bytes]:
        # A datagram's first byte says what the msgpack after it holds.
        head = kind.encode("ascii")
        datagrams, too_long = packed(
            items, lambda chunk: head + self._encoder.encode(chunk), MAX_DATAGRAM, 500
        )
        self.dropped += too_long
        return datagrams

    async def _flush(self) -> None:
        if (not self._pending and not self._pending_readings) or self._socket is None:
            return
        fixes = list(self._pending.values())
        readings = list(self._pending_readings.values())
        self._pending, self._pending_readings = {}, {}
        for datagram in self.datagrams(fixes, readings):
            for peer in self._peers:
                try:
                    self._socket.sendto(datagram, str(peer))
                except (BlockingIOError, FileNotFoundError, ConnectionRefusedError):
                    self.dropped += 1

    def _receive(self) -> None:
        if self._socket is None:
            return
        while True:
            try:
                datagram = self._socket.recv(MAX_DATAGRAM * 2)
            except BlockingIOError:
                return
            self.take(datagram)

    def take(self, datagram: bytes) -> None:
        """Offer what a peer's ``datagram`` holds to the hub (see :class:`RelayIntake`)."""
        self._intake.take(datagram[:1].decode("latin-1"), datagram[1:])
