"""Fan-out of committed events and coalesced telemetry to connected consoles.

Each console has a bounded queue. Publishing never waits: a console that cannot keep up
with the event log is cut off (it reconnects and resumes from its last ``seq``) instead
of stalling the rest. Telemetry is coalesced (latest per device or sensor) and flushed on
a short tick; a console too busy for a telemetry batch simply gets the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TypeVar

from backend.authz import policy as authz
from backend.authz.principal import Principal
from devices.observations import Position
from realtime.protocol import Event, PositionView, ReadingView, Telemetry

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 5000
TELEMETRY_TOPICS = frozenset({"positions", "readings"})

Outgoing = Event | Telemetry
_Key = TypeVar("_Key")
_T = TypeVar("_T", PositionView, ReadingView)


class Subscriber:
    """One console's view of the stream."""

    def __init__(self, principal: Principal, limit: int | None = None) -> None:
        self.principal = principal
        self.receives_telemetry = authz.allows(principal, authz.Permission.RECEIVE_TELEMETRY)
        """Device changes, positions and readings reach only roles that hold the permission."""
        self.queue: asyncio.Queue[Outgoing] = asyncio.Queue(maxsize=limit or QUEUE_LIMIT)
        self.overflowed = asyncio.Event()
        self.topics: frozenset[str] = frozenset()

    def offer(self, event: Event) -> None:
        """Queue ``event`` if the console may see it; mark overflow instead of blocking."""
        if self.overflowed.is_set():
            return
        if not authz.can_see_event(self.principal, event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning(
                "console of %s fell %s events behind; disconnecting it so it resumes",
                self.principal.username,
                self.queue.qsize(),
            )
            self.overflowed.set()

    def offer_telemetry(self, telemetry: Telemetry) -> None:
        """Queue a telemetry batch unless the console is busy (then it gets the next one)."""
        if self.overflowed.is_set() or not self.receives_telemetry:
            return
        batch = Telemetry(
            positions=telemetry.positions if "positions" in self.topics else [],
            readings=telemetry.readings if "readings" in self.topics else [],
        )
        if not batch.positions and not batch.readings:
            return
        # Leave room for events: telemetry never pushes a console into overflow.
        if self.queue.qsize() < self.queue.maxsize // 2:
            self.queue.put_nowait(batch)


class Hub:
    """The set of subscribed consoles."""

    def __init__(self, telemetry_interval: float = 0.1) -> None:
        self._subscribers: set[Subscriber] = set()
        self._positions: dict[str, tuple[Position, str]] = {}
        self._readings: dict[tuple[str, str], ReadingView] = {}
        self._latest_readings: dict[tuple[str, str], ReadingView] = {}
        self._latest_positions: dict[str, PositionView] = {}
        self._telemetry_interval = telemetry_interval
        self._ticker: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._subscribers)

    def start(self) -> None:
        """Start flushing coalesced telemetry."""
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="hub-telemetry")

    async def stop(self) -> None:
        """Stop flushing telemetry."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    def add(self, subscriber: Subscriber) -> None:
        """Start delivering events to ``subscriber``."""
        self._subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        """Stop delivering events to ``subscriber``."""
        self._subscribers.discard(subscriber)

    def publish(self, events: Sequence[Event]) -> None:
        """Offer committed events, in ``seq`` order, to every console."""
        for subscriber in list(self._subscribers):
            for event in events:
                subscriber.offer(event)

    def offer_position(self, position: Position, jurisdiction: str = "") -> None:
        """Keep the newest fix per device (and the jurisdiction it lies in) for the next
        telemetry tick."""
        # The wire view is built at the tick, once per device, not once per fix.
        current = self._positions.get(position.device)
        if current is None or position.at >= current[0].at:
            self._positions[position.device] = (position, jurisdiction)

    def offer_reading(self, reading: ReadingView) -> None:
        """Keep the newest value per sensor for the next telemetry tick (and for consoles
        that subscribe later: :meth:`latest_readings`)."""
        key = (reading.device, reading.sensor)
        _keep_newest(self._readings, key, reading)
        _keep_newest(self._latest_readings, key, reading)

    def remember_readings(self, readings: Sequence[ReadingView]) -> None:
        """Take ``readings`` (e.g. the newest stored at start) as the latest known values."""
        for reading in readings:
            _keep_newest(self._latest_readings, (reading.device, reading.sensor), reading)

    def latest_readings(self) -> list[ReadingView]:
        """The newest value of every sensor heard from (since start, or stored before)."""
        return list(self._latest_readings.values())

    def remember_positions(self, positions: Sequence[PositionView]) -> None:
        """Take ``positions`` (e.g. the newest stored at start) as the latest known fixes."""
        for view in positions:
            _keep_newest(self._latest_positions, view.device, view)

    def latest_positions(self) -> list[PositionView]:
        """The newest fix of every device heard from (since start, or stored before)."""
        return list(self._latest_positions.values())

    def flush_telemetry(self) -> None:
        """Send what was coalesced since the last flush."""
        if not self._positions and not self._readings:
            return
        batch = Telemetry(
            positions=[
                PositionView(
                    device=position.device,
                    at=position.at,
                    lat=position.lat,
                    lon=position.lon,
                    speed_kmh=position.speed_kmh,
                    heading_deg=position.heading_deg,
                    alarms=sorted(position.alarms),
                    jurisdiction=jurisdiction,
                )
                for position, jurisdiction in self._positions.values()
            ],
            readings=list(self._readings.values()),
        )
        self._positions = {}
        self._readings = {}
        self.remember_positions(batch.positions)  # once per device per tick, not per fix
        for subscriber in list(self._subscribers):
            if subscriber.topics:
                subscriber.offer_telemetry(batch)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._telemetry_interval)
            self.flush_telemetry()


def _keep_newest(held: dict[_Key, _T], key: _Key, item: _T) -> None:
    """Hold ``item`` under ``key`` unless what is held there is newer (by ``at``)."""
    current = held.get(key)
    if current is None or item.at >= current.at:
        held[key] = item
