"""The latest position of every vehicle, in plain Python (no Qt).

:class:`VehicleStore` keeps one :class:`VehicleRecord` per device: the newest
:class:`~realtime.protocol.PositionView` (an older or repeated fix is ignored, since
coalesced telemetry may arrive out of order across reconnects), its Web-Mercator
position, and when it arrived. :func:`classify` decides how the map draws it;
:func:`classify_columns` does the same for every vehicle at once.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import enum
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop.map.projection import to_mercator_arrays
from realtime.protocol import PositionView, Telemetry

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

DEFER_ABOVE = 2000
"""A telemetry message with more positions than this is applied in chunks, if a
scheduler is set (:meth:`VehicleStore.set_scheduler`), so no frame waits for all of it."""
CHUNK_POSITIONS = 1000
"""Positions applied per chunk of a deferred message."""
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


@dataclasses.dataclass(frozen=True, slots=True)
class VehicleColumns:
    """Every vehicle of a store as parallel numpy arrays (row ``i`` is ``devices[i]``).

    The arrays are the store's own: read them at once, do not keep or change them.
    """

    devices: Sequence[str]
    x: FloatArray
    """Web-Mercator metres."""
    y: FloatArray
    fix_at: FloatArray
    """The device's fix time, POSIX seconds."""
    speed_kmh: FloatArray
    heading_deg: FloatArray
    alarm: BoolArray
    """Whether the terminal reports an alarm bit."""


def classify_columns(
    columns: VehicleColumns, now: dt.datetime, offline_after: dt.timedelta = OFFLINE_AFTER
) -> IntArray:
    """Vectorised :func:`classify`: the index in ``list(VehicleState)`` of every row."""
    order = list(VehicleState)
    cutoff = (now - offline_after).timestamp()
    return np.where(
        columns.alarm,
        order.index(VehicleState.ALARM),
        np.where(
            columns.fix_at < cutoff,
            order.index(VehicleState.OFFLINE),
            np.where(
                columns.speed_kmh >= MOVING_KMH,
                order.index(VehicleState.MOVING),
                order.index(VehicleState.STOPPED),
            ),
        ),
    ).astype(np.intp)


class _RecordsView(Mapping[str, VehicleRecord]):
    """The store's records as a mapping; iterating the keys builds no record."""

    def __init__(self, store: VehicleStore) -> None:
        self._store = store

    def __getitem__(self, device: str) -> VehicleRecord:
        record = self._store.get(device)
        if record is None:
            raise KeyError(device)
        return record

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._store.columns().devices))

    def __len__(self) -> int:
        return len(self._store)


_COLUMNS = ("_lat", "_lon", "_x", "_y", "_fix_at", "_speed", "_heading", "_alarm")
"""The numpy columns of :class:`VehicleStore`, one value per row."""


class VehicleStore:
    """The newest position per device, with labels (plates) and change listeners.

    Positions are kept as columns (numpy arrays, one row per device) so that a second's
    worth of telemetry for tens of thousands of vehicles is applied in place in a few
    milliseconds; :class:`VehicleRecord` objects are made only when asked for.
    """

    def __init__(self, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self._clock = clock
        self._rows: dict[str, int] = {}
        self._devices: list[str] = []
        # Per row: plain values only. Keeping the decoded wire objects would make every
        # second's 20,000 fixes long-lived garbage for the cycle collector to scan.
        self._fix_times: list[dt.datetime] = []
        self._received: list[dt.datetime] = []
        self._alarms: list[tuple[str, ...]] = []
        self._jurisdictions: list[str] = []
        self._lat = np.empty(0)
        self._lon = np.empty(0)
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._fix_at = np.empty(0)
        self._speed = np.empty(0)
        self._heading = np.empty(0)
        self._alarm = np.empty(0, dtype=bool)
        self._labels: dict[str, str] = {}
        self._listeners: list[VehicleListener] = []
        self._version = 0
        self._last_update: dt.datetime | None = None
        self._pending: collections.deque[Sequence[PositionView]] = collections.deque()
        self._schedule: Callable[[], None] | None = None
        self._pending_changed: set[str] = set()
        """Devices changed by the chunks applied so far (listeners hear at the end)."""

    # ------------------------------------------------------------------ reading

    def _record(self, row: int) -> VehicleRecord:
        return VehicleRecord(
            self._position(row), self._x.item(row), self._y.item(row), self._received[row]
        )

    def _position(self, row: int) -> PositionView:
        return PositionView(
            device=self._devices[row],
            at=self._fix_times[row],
            lat=self._lat.item(row),
            lon=self._lon.item(row),
            speed_kmh=self._speed.item(row),
            heading_deg=self._heading.item(row),
            alarms=list(self._alarms[row]),
            jurisdiction=self._jurisdictions[row],
        )

    @property
    def records(self) -> Mapping[str, VehicleRecord]:
        """A read-only view of the records by device (each made when looked up)."""
        return _RecordsView(self)

    def get(self, device: str) -> VehicleRecord | None:
        """Return the record of ``device``, or None."""
        row = self._rows.get(device)
        return None if row is None else self._record(row)

    def position(self, device: str) -> PositionView | None:
        """Return the newest fix of ``device`` (cheaper than :meth:`get`), or None."""
        row = self._rows.get(device)
        return None if row is None else self._position(row)

    def __len__(self) -> int:
        return len(self._devices)

    def __iter__(self) -> Iterator[VehicleRecord]:
        return iter([self._record(row) for row in range(len(self._devices))])

    def __contains__(self, device: object) -> bool:
        return device in self._rows

    def columns(self) -> VehicleColumns:
        """Every vehicle as parallel arrays (see :class:`VehicleColumns`)."""
        count = len(self._devices)
        return VehicleColumns(
            devices=self._devices,
            x=self._x[:count],
            y=self._y[:count],
            fix_at=self._fix_at[:count],
            speed_kmh=self._speed[:count],
            heading_deg=self._heading[:count],
            alarm=self._alarm[:count],
        )

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
        states = list(VehicleState)
        per_state = np.bincount(
            classify_columns(self.columns(), now or self._clock()), minlength=len(states)
        )
        return {state: int(per_state[index]) for index, state in enumerate(states)}

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

    def _grow(self, count: int) -> None:
        capacity = len(self._x)
        if count <= capacity:
            return
        capacity = max(count, 2 * capacity, 64)
        for name in _COLUMNS:
            old = getattr(self, name)
            grown = np.zeros(capacity, dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)

    def update(self, positions: Iterable[PositionView]) -> frozenset[str]:
        """Keep the newest of ``positions`` per device; return the devices that changed.

        A fix not newer than the one held (by the device's fix time) is ignored. Only the
        rows of the changed devices are written.
        """
        changed = self._write(positions)
        if changed:
            self._notify(changed)
        return changed

    def _write(self, positions: Iterable[PositionView]) -> frozenset[str]:
        """Write the newer of ``positions`` into the columns, telling no one."""
        received = self._clock()
        rows, devices, fix_times = self._rows, self._devices, self._fix_times
        accepted: list[PositionView] = []
        accepted_rows: list[int] = []
        for position in positions:
            row = rows.get(position.device)
            if row is None:
                row = rows[position.device] = len(devices)
                devices.append(position.device)
                fix_times.append(position.at)
                self._received.append(received)
                self._alarms.append(())
                self._jurisdictions.append("")
            elif position.at <= fix_times[row]:
                continue
            else:
                fix_times[row] = position.at
                self._received[row] = received
            accepted.append(position)
            accepted_rows.append(row)
        if not accepted:
            return frozenset()
        for row, position in zip(accepted_rows, accepted, strict=True):
            self._alarms[row] = tuple(position.alarms)
            self._jurisdictions[row] = position.jurisdiction
        self._grow(len(devices))
        index = np.asarray(accepted_rows, dtype=np.intp)
        lon = np.fromiter((p.lon for p in accepted), np.float64, len(accepted))
        lat = np.fromiter((p.lat for p in accepted), np.float64, len(accepted))
        x, y = to_mercator_arrays(lon, lat)
        # a device repeated in one batch: numpy keeps the last write, the newest fix
        self._lon[index] = lon
        self._lat[index] = lat
        self._x[index] = x
        self._y[index] = y
        self._fix_at[index] = [p.at.timestamp() for p in accepted]
        self._speed[index] = [p.speed_kmh for p in accepted]
        self._heading[index] = [p.heading_deg for p in accepted]
        self._alarm[index] = [bool(p.alarms) for p in accepted]
        self._last_update = received
        return frozenset(position.device for position in accepted)

    def apply_telemetry(self, telemetry: Telemetry) -> frozenset[str]:
        """Apply the positions of one telemetry message (readings are not vehicles).

        A large message is queued in chunks when a scheduler is set: then nothing has
        changed yet and the empty set is returned (listeners hear once, when the last
        chunk is in, as they would of a message applied whole).
        """
        positions = telemetry.positions
        if self._schedule is None or len(positions) <= DEFER_ABOVE:
            return self.update(positions)
        for start in range(0, len(positions), CHUNK_POSITIONS):
            self._pending.append(positions[start : start + CHUNK_POSITIONS])
        self._schedule()
        return frozenset()

    # ------------------------------------------------------------------ deferred work

    def set_scheduler(self, schedule: Callable[[], None] | None) -> None:
        """Defer large telemetry messages: ``schedule()`` asks for :meth:`apply_pending`.

        The caller (the map, on the GUI thread) then applies chunks between frames. With
        None, whatever is still queued is applied at once and messages apply whole again.
        """
        self._schedule = schedule
        if schedule is None:
            self.apply_pending(math.inf)

    @property
    def pending(self) -> int:
        """How many positions wait in the queue."""
        return sum(len(chunk) for chunk in self._pending)

    def apply_pending(self, budget_s: float) -> bool:
        """Apply queued chunks for about ``budget_s`` seconds (one at least); return
        whether more wait."""
        deadline = time.perf_counter() + budget_s
        while self._pending:
            self._pending_changed |= self._write(self._pending.popleft())
            if time.perf_counter() >= deadline:
                break
        if not self._pending and self._pending_changed:
            changed, self._pending_changed = frozenset(self._pending_changed), set()
            self._notify(changed)
        return bool(self._pending)

    def remove(self, device: str) -> bool:
        """Forget ``device``; return whether it was held."""
        row = self._rows.pop(device, None)
        if row is None:
            return False
        last = len(self._devices) - 1
        if row != last:  # the last row fills the hole: the columns stay dense
            moved = self._devices[last]
            self._rows[moved] = row
            for values in self._row_lists():
                values[row] = values[last]
            for name in _COLUMNS:
                column = getattr(self, name)
                column[row] = column[last]
        for values in self._row_lists():
            values.pop()
        self._notify(frozenset({device}))
        return True

    def clear(self) -> None:
        """Forget every vehicle."""
        devices = frozenset(self._devices)
        self._pending.clear()
        self._pending_changed.clear()
        self._rows.clear()
        for values in self._row_lists():
            values.clear()
        self._notify(devices)

    def _row_lists(self) -> tuple[list[Any], ...]:
        return (self._devices, self._fix_times, self._received, self._alarms, self._jurisdictions)
