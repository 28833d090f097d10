"""Live positions between the workers of one ``dutydesk serve --workers N``.

Events reach every worker through the event log (``backend.server.cluster``); live
positions are not events: each is stored by the worker its terminal is connected to and
fanned out by that worker's hub. So that a console on any worker sees every vehicle move,
each worker sends the fixes it accepted to the other workers' hubs, coalesced (the newest
per device) every ``interval``, as datagrams on Unix sockets in a folder of the data
directory. Like the hub's own telemetry this is lossy by design: a full socket or a worker
being restarted drops a tick, the next fix of each vehicle follows a moment later, and
nothing stored depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
from pathlib import Path

import msgspec

from backend.runtime.periodic import Periodic
from backend.server.hub import Hub
from devices.observations import Position

logger = logging.getLogger(__name__)

MAX_DATAGRAM = 60_000
"""Bytes per datagram (under the default Unix socket buffer of ≈ 208 KiB)."""
RELAY_DIR_VARIABLE = "DUTYDESK_RELAY_DIR"
"""Set by the supervisor for its workers: the folder of the relay sockets."""
DEFAULT_INTERVAL = 0.025
"""Seconds between two sends to the other workers."""
WORKER_VARIABLE = "DUTYDESK_WORKER"
WORKERS_VARIABLE = "DUTYDESK_WORKERS_COUNT"


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
        self._socket: socket.socket | None = None
        self._hub: Hub | None = None
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(list[RelayedFix])
        self._flusher = Periodic("telemetry relay", self._flush, interval=interval, log=logger)
        self.dropped = 0
        """Datagrams a peer could not take (full or restarting)."""

    def start(self, hub: Hub) -> None:
        """Listen for the peers' fixes and start sending ours."""
        self._hub = hub
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

    async def _flush(self) -> None:
        if not self._pending or self._socket is None:
            return
        fixes = list(self._pending.values())
        self._pending = {}
        step = max(1, MAX_DATAGRAM // 80)  # ≈ 80 bytes per fix packed
        for start in range(0, len(fixes), step):
            datagram = self._encoder.encode(fixes[start : start + step])
            for peer in self._peers:
                try:
                    self._socket.sendto(datagram, str(peer))
                except (BlockingIOError, FileNotFoundError, ConnectionRefusedError):
                    self.dropped += 1

    def _receive(self) -> None:
        if self._socket is None or self._hub is None:
            return
        while True:
            try:
                datagram = self._socket.recv(MAX_DATAGRAM * 2)
            except BlockingIOError:
                return
            try:
                fixes = self._decoder.decode(datagram)
            except msgspec.DecodeError:
                logger.warning("telemetry relay: a datagram that is no list of fixes, ignored")
                continue
            offer_relayed(self._hub, fixes)
