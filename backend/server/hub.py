"""Fan-out of committed events and coalesced telemetry to connected consoles, each
filtered by the receiving console's scope.

Each console has a bounded queue of frames. Publishing never waits: a console that cannot
keep up with the event log is cut off (it reconnects and resumes from its last ``seq``)
instead of stalling the rest. Telemetry is coalesced (latest per device or sensor) and
flushed on a short tick; a console too busy for a telemetry batch simply gets the next one.

What a console receives is decided here, on the server:

- an event goes to the consoles :func:`_may_receive` allows (the task's or the
  incident's scope, the alarm's scope, the telemetry permission for device changes, the
  device's place), one policy call per console; it is encoded once, and every console
  that may see it is queued the same bytes;
- a telemetry batch goes only to consoles whose role holds the telemetry permission, with
  the fixes and readings that lie inside the user's area (an unplaced one, ``""``, only
  to whole-area users) and only of the topics it subscribed to. Consoles are grouped by
  that scope (area, topics), so each tick filters and encodes one batch per group, not
  per console.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import msgspec

from backend.authz import policy as authz
from backend.authz.principal import Principal
from devices.observations import Position
from realtime.protocol import (
    Event,
    ExerciseLabel,
    PositionView,
    ReadingView,
    Telemetry,
    encode,
)

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 5000
TELEMETRY_TOPICS = frozenset({"positions", "readings"})

_Key = TypeVar("_Key")
_T = TypeVar("_T", PositionView, ReadingView)


class Frame(NamedTuple):
    """One message ready to send: encoded once, shared by every console that gets it."""

    seq: int
    """The event's ``seq``; 0 for telemetry, which is not in the event log."""
    data: bytes
    """The message as UTF-8 JSON, sent as a text frame."""


class TelemetryScope(NamedTuple):
    """What decides a console's telemetry: consoles with the same scope get the same
    batch (the role's permission is a precondition: without it, no scope)."""

    jurisdiction: str
    """The user's area (a region-code prefix; "" is the whole area)."""
    topics: frozenset[str]


def _may_receive(principal: Principal, event: Event, device_place: str) -> bool:
    """Return whether the console of ``principal`` may receive ``event``.

    The one per-event decision of the fan-out, the same as on resume
    (:func:`backend.authz.policy.can_see_event`). ``device_place`` is where the hub last
    placed the event's device (its newest fix or reading; "" if never): it stands in for
    a device event written before the device was placed, never widens a placed one.
    """
    if event.device is not None and not event.device.jurisdiction and device_place:
        return authz.receives(principal, authz.Topic.DEVICE_EVENTS) and authz.sees_jurisdiction(
            principal, device_place
        )
    return authz.can_see_event(principal, event)


class Subscriber:
    """One console's view of the stream: its principal, topics and queue of frames."""

    def __init__(self, principal: Principal, limit: int | None = None) -> None:
        self.principal = principal
        self.receives_telemetry = authz.allows(principal, authz.Permission.RECEIVE_TELEMETRY)
        """Device changes, positions and readings reach only roles that hold the permission."""
        self.queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=limit or QUEUE_LIMIT)
        self.overflowed = asyncio.Event()
        self.sent_seq = 0
        """The last event ``seq`` sent (the replay or snapshot included): older ones are
        not sent again."""
        self.write_now: Callable[[bytes], bool] | None = None
        """Set while the live stream runs (by the console's sender): writes a frame to the
        socket at once and returns True, or returns False when the socket is backed up.
        Frames are written at once only while none wait in the queue, so order holds."""
        self._topics: frozenset[str] = frozenset()
        self._scope_changed: Callable[[Subscriber, TelemetryScope | None], None] | None = None

    @property
    def topics(self) -> frozenset[str]:
        """The telemetry topics the console subscribed to."""
        return self._topics

    @topics.setter
    def topics(self, topics: Iterable[str]) -> None:
        before = self.scope
        self._topics = frozenset(topics)
        if self._scope_changed is not None:
            self._scope_changed(self, before)

    @property
    def scope(self) -> TelemetryScope | None:
        """The telemetry group this console is in; None while it receives no telemetry."""
        if not self.receives_telemetry or not self._topics:
            return None
        return TelemetryScope(self.principal.jurisdiction, self._topics)

    def offer(self, frame: Frame) -> None:
        """Queue an event's frame; mark overflow instead of blocking.

        The caller has decided that the console may see it (:meth:`Hub.publish`).
        """
        if self.overflowed.is_set() or frame.seq <= self.sent_seq:
            return
        if self._written(frame):
            self.sent_seq = frame.seq
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            logger.warning(
                "console of %s fell %s events behind; disconnecting it so it resumes",
                self.principal.username,
                self.queue.qsize(),
            )
            self.overflowed.set()

    def offer_telemetry_frame(self, frame: Frame) -> None:
        """Queue an encoded telemetry batch unless the console is busy (then it gets the
        next one)."""
        if self.overflowed.is_set() or self._written(frame):
            return
        # Leave room for events: telemetry never pushes a console into overflow.
        if self.queue.qsize() < self.queue.maxsize // 2:
            self.queue.put_nowait(frame)

    def _written(self, frame: Frame) -> bool:
        """Write ``frame`` at once if nothing waits before it and the socket has room."""
        # The fast path of the fan-out: no queue, no task switch, as a raw broadcast does.
        return self.write_now is not None and self.queue.empty() and self.write_now(frame.data)

    def offer_telemetry(self, telemetry: Telemetry) -> None:
        """Queue the part of ``telemetry`` this console may see and subscribed to (for one
        console alone, e.g. the newest values sent when it subscribes)."""
        scope = self.scope
        if scope is None or self.overflowed.is_set():
            return
        batch = Telemetry(
            exercise=telemetry.exercise,
            positions=_inside(self.principal, _by_place(telemetry.positions))
            if "positions" in scope.topics
            else [],
            readings=_inside(self.principal, _by_place(telemetry.readings))
            if "readings" in scope.topics
            else [],
        )
        if batch.positions or batch.readings:
            self.offer_telemetry_frame(Frame(0, encode(batch)))


class Hub:
    """The set of subscribed consoles, grouped by telemetry scope."""

    def __init__(
        self, telemetry_interval: float = 0.1, *, mark: ExerciseLabel | None = None
    ) -> None:
        self._subscribers: set[Subscriber] = set()
        self._groups: dict[TelemetryScope, set[Subscriber]] = {}
        self._positions: dict[str, tuple[Position, str]] = {}
        self._readings: dict[tuple[str, str], ReadingView] = {}
        self._latest_readings: dict[tuple[str, str], ReadingView] = {}
        self._latest_positions: dict[str, PositionView] = {}
        self._device_places: dict[str, tuple[dt.datetime, str]] = {}
        """Where each device was last seen (time of its newest fix or reading, place)."""
        self._telemetry_interval = telemetry_interval
        self._ticker: asyncio.Task[None] | None = None
        self.mark = mark
        """Set in an exercise instance: every event and telemetry batch it fans out is
        marked with it (the exercise's state and speed as they are now)."""

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
        """Start delivering events (and, once it subscribes, telemetry) to ``subscriber``."""
        self._subscribers.add(subscriber)
        subscriber._scope_changed = self._regroup
        self._regroup(subscriber, None)

    def remove(self, subscriber: Subscriber) -> None:
        """Stop delivering anything to ``subscriber``."""
        self._subscribers.discard(subscriber)
        subscriber._scope_changed = None
        self._leave(subscriber, subscriber.scope)

    def scope_groups(self) -> dict[TelemetryScope, int]:
        """How many consoles are in each telemetry group (for tests and diagnostics)."""
        return {scope: len(members) for scope, members in self._groups.items()}

    def _regroup(self, subscriber: Subscriber, before: TelemetryScope | None) -> None:
        self._leave(subscriber, before)
        scope = subscriber.scope
        if scope is not None:
            self._groups.setdefault(scope, set()).add(subscriber)

    def _leave(self, subscriber: Subscriber, scope: TelemetryScope | None) -> None:
        if scope is None:
            return
        members = self._groups.get(scope)
        if members is not None:
            members.discard(subscriber)
            if not members:
                del self._groups[scope]

    def publish(self, events: Sequence[Event]) -> None:
        """Offer committed events, in ``seq`` order, to every console that may see them;
        each event is encoded once, whatever the number of consoles."""
        subscribers = list(self._subscribers)
        mark = self.mark
        for event in events:
            if mark is not None:
                event = msgspec.structs.replace(event, exercise=mark)  # noqa: PLW2901
            place = self.device_place(event.device.identity) if event.device else ""
            frame: Frame | None = None
            for subscriber in subscribers:
                if subscriber.overflowed.is_set():
                    continue
                if not _may_receive(subscriber.principal, event, place):
                    continue
                seen = authz.event_as_seen(subscriber.principal, event)
                if seen is not event:  # a notice's recipient: its own view, rare
                    subscriber.offer(Frame(event.seq, encode(seen)))
                    continue
                if frame is None:
                    frame = Frame(event.seq, encode(event))
                subscriber.offer(frame)

    def offer_position(self, position: Position, jurisdiction: str = "") -> None:
        """Keep the newest fix per device (and the jurisdiction it lies in) for the next
        telemetry tick."""
        # The wire view is built at the tick, once per device, not once per fix.
        current = self._positions.get(position.device)
        if current is None or position.at >= current[0].at:
            self._positions[position.device] = (position, jurisdiction)
            # Known at once: the device's own events (online, …) follow its place.
            self._place(position.device, position.at, jurisdiction)

    def offer_reading(self, reading: ReadingView) -> None:
        """Keep the newest value per sensor for the next telemetry tick (and for consoles
        that subscribe later: :meth:`latest_readings`)."""
        key = (reading.device, reading.sensor)
        _keep_newest(self._readings, key, reading)
        self.remember_readings((reading,))

    def remember_readings(self, readings: Sequence[ReadingView]) -> None:
        """Take ``readings`` (e.g. the newest stored at start) as the latest known values."""
        for reading in readings:
            if _keep_newest(self._latest_readings, (reading.device, reading.sensor), reading):
                self._place(reading.device, reading.at, reading.jurisdiction)

    def device_place(self, device: str) -> str:
        """The jurisdiction of the device's newest fix or reading ("" if none was placed)."""
        held = self._device_places.get(device)
        return held[1] if held is not None else ""

    def _place(self, device: str, at: dt.datetime, jurisdiction: str) -> None:
        held = self._device_places.get(device)
        if held is None or at >= held[0]:
            self._device_places[device] = (at, jurisdiction)

    def latest_readings(self) -> list[ReadingView]:
        """The newest value of every sensor heard from (since start, or stored before)."""
        return list(self._latest_readings.values())

    def remember_positions(self, positions: Sequence[PositionView]) -> None:
        """Take ``positions`` (e.g. the newest stored at start) as the latest known fixes."""
        for view in positions:
            if _keep_newest(self._latest_positions, view.device, view):
                self._place(view.device, view.at, view.jurisdiction)

    def latest_positions(self) -> list[PositionView]:
        """The newest fix of every device heard from (since start, or stored before)."""
        return list(self._latest_positions.values())

    def flush_telemetry(self) -> None:
        """Send what was coalesced since the last flush: one batch per telemetry group,
        filtered by its scope and encoded once."""
        if not self._positions and not self._readings:
            return
        positions = [
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
        ]
        readings = list(self._readings.values())
        self._positions = {}
        self._readings = {}
        self.remember_positions(positions)  # once per device per tick, not per fix
        if not self._groups:
            return
        positions_by_place = _by_place(positions)
        readings_by_place = _by_place(readings)
        # Groups of one area with different topics share the filtering.
        inside_positions: dict[str, list[PositionView]] = {}
        inside_readings: dict[str, list[ReadingView]] = {}
        for scope, members in list(self._groups.items()):
            # Every member has the group's area: any one of them stands for all.
            principal = next(iter(members)).principal
            batch = self.telemetry()
            if "positions" in scope.topics:
                batch.positions = _inside_cached(inside_positions, principal, positions_by_place)
            if "readings" in scope.topics:
                batch.readings = _inside_cached(inside_readings, principal, readings_by_place)
            if not batch.positions and not batch.readings:
                continue
            frame = Frame(0, encode(batch))
            for subscriber in members:
                subscriber.offer_telemetry_frame(frame)

    def telemetry(self, **values: Any) -> Telemetry:
        """A telemetry batch, marked when this hub is an exercise's."""
        if self.mark is not None:
            values["exercise"] = self.mark
        return Telemetry(**values)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._telemetry_interval)
            self.flush_telemetry()


def _by_place(views: Iterable[_T]) -> dict[str, list[_T]]:
    """``views`` grouped by the jurisdiction they lie in (so each area's filter is one
    prefix test per place, not per fix)."""
    grouped: dict[str, list[_T]] = {}
    for view in views:
        grouped.setdefault(view.jurisdiction, []).append(view)
    return grouped


def _inside(principal: Principal, by_place: Mapping[str, list[_T]]) -> list[_T]:
    """The views of the places inside the principal's area."""
    return [
        view
        for place, views in by_place.items()
        if authz.in_jurisdiction(principal, place)
        for view in views
    ]


def _inside_cached(
    cache: dict[str, list[_T]], principal: Principal, by_place: Mapping[str, list[_T]]
) -> list[_T]:
    inside = cache.get(principal.jurisdiction)
    if inside is None:
        inside = cache[principal.jurisdiction] = _inside(principal, by_place)
    return inside


def _keep_newest(held: dict[_Key, _T], key: _Key, item: _T) -> bool:
    """Hold ``item`` under ``key`` unless what is held there is newer (by ``at``); return
    whether it is now held."""
    current = held.get(key)
    if current is None or item.at >= current.at:
        held[key] = item
        return True
    return False
