"""The latest position of every vehicle, in plain Python (no Qt).

:class:`VehicleStore` keeps one :class:`VehicleRecord` per device: the newest
:class:`~realtime.protocol.PositionView` (an older or repeated fix is ignored, since
coalesced telemetry may arrive out of order across reconnects), its Web-Mercator
position, and when it arrived. :func:`classify` decides how the map draws it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType

from desktop.map.projection import to_mercator
from realtime.protocol import PositionView, Telemetry

logger = logging.getLogger(__name__)

OFFLINE_AFTER = dt.timedelta(minutes=5)
"""A vehicle whose newest fix is older than this is drawn as offline."""
MOVING_KMH = 3.0
"""Below this speed a vehicle counts as stopped (GPS jitter reads a few km/h)."""


class VehicleState(enum.StrEnum):
    """How the map draws a vehicle, in order of precedence."""

    ALARM = "alarm"
    """The terminal reports an alarm bit; shown even when the link has gone quiet."""
    OFFLINE = "offline"
    """No fix for :data:`OFFLINE_AFTER`."""
    MOVING = "moving"
    STOPPED = "stopped"


def utc_now() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class VehicleRecord:
    """What the console knows of one vehicle."""

    position: PositionView
    x: float
    """Web-Mercator metres."""
    y: float
    received_at: dt.datetime
    """When the console received this fix (UTC)."""

    @property
    def device(self) -> str:
        """The device identity (the key of the store)."""
        return self.position.device

    def age(self, now: dt.datetime) -> dt.timedelta:
        """How old the fix is: ``now`` minus the device's fix time (never negative)."""
        return max(now - self.position.at, dt.timedelta(0))


def classify(
    record: VehicleRecord, now: dt.datetime, offline_after: dt.timedelta = OFFLINE_AFTER
) -> VehicleState:
    """Return how ``record`` should be drawn at ``now``."""
    if record.position.alarms:
        return VehicleState.ALARM
    if record.age(now) > offline_after:
        return VehicleState.OFFLINE
    if record.position.speed_kmh >= MOVING_KMH:
        return VehicleState.MOVING
    return VehicleState.STOPPED


VehicleListener = Callable[[frozenset[str]], None]
"""Called with the devices whose record changed."""


class VehicleStore:
    """The newest position per device, with labels (plates) and change listeners."""

    def __init__(self, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self._clock = clock
        self._records: dict[str, VehicleRecord] = {}
        self._labels: dict[str, str] = {}
        self._listeners: list[VehicleListener] = []
        self._version = 0
        self._last_update: dt.datetime | None = None

    # ------------------------------------------------------------------ reading

    @property
    def records(self) -> Mapping[str, VehicleRecord]:
        """A read-only view of the records by device."""
        return MappingProxyType(self._records)

    def get(self, device: str) -> VehicleRecord | None:
        """Return the record of ``device``, or None."""
        return self._records.get(device)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[VehicleRecord]:
        return iter(list(self._records.values()))

    @property
    def version(self) -> int:
        """A counter that grows with every change (views redraw when it moved)."""
        return self._version

    def now(self) -> dt.datetime:
        """The store's clock (UTC)."""
        return self._clock()

    def label(self, device: str) -> str:
        """Return the plate (or name) shown for ``device``; the device id if none is known."""
        return self._labels.get(device) or device

    def data_age(self, now: dt.datetime | None = None) -> dt.timedelta | None:
        """How long since any fix arrived, or None before the first."""
        if self._last_update is None:
            return None
        return max((now or self._clock()) - self._last_update, dt.timedelta(0))

    def counts(self, now: dt.datetime | None = None) -> dict[VehicleState, int]:
        """How many vehicles are in each state at ``now``."""
        moment = now or self._clock()
        result = dict.fromkeys(VehicleState, 0)
        for record in self._records.values():
            result[classify(record, moment)] += 1
        return result

    # ------------------------------------------------------------------ listeners

    def add_listener(self, listener: VehicleListener) -> Callable[[], None]:
        """Call ``listener`` after every change; return a function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _notify(self, devices: frozenset[str]) -> None:
        self._version += 1
        for listener in list(self._listeners):
            listener(devices)

    # ------------------------------------------------------------------ writing

    def set_labels(self, labels: Mapping[str, str]) -> None:
        """Set the plates (or names) shown for devices, e.g. from the device registry."""
        self._labels.update(labels)
        self._notify(frozenset(labels))

    def update(self, positions: Iterable[PositionView]) -> frozenset[str]:
        """Keep the newest of ``positions`` per device; return the devices that changed.

        A fix not newer than the one held (by the device's fix time) is ignored.
        """
        received = self._clock()
        changed: set[str] = set()
        for position in positions:
            held = self._records.get(position.device)
            if held is not None and position.at <= held.position.at:
                continue
            x, y = to_mercator(position.lon, position.lat)
            self._records[position.device] = VehicleRecord(position, x, y, received)
            changed.add(position.device)
        if changed:
            self._last_update = received
            self._notify(frozenset(changed))
        return frozenset(changed)

    def apply_telemetry(self, telemetry: Telemetry) -> frozenset[str]:
        """Apply the positions of one telemetry message (readings are not vehicles)."""
        return self.update(telemetry.positions)

    def remove(self, device: str) -> bool:
        """Forget ``device``; return whether it was held."""
        if self._records.pop(device, None) is None:
            return False
        self._notify(frozenset({device}))
        return True

    def clear(self) -> None:
        """Forget every vehicle."""
        devices = frozenset(self._records)
        self._records.clear()
        self._notify(devices)
