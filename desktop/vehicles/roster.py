"""The vehicles the console knows, in plain Python (no Qt).

:class:`VehicleRoster` joins the device registry (:class:`~realtime.protocol.DeviceView`
from ``ListDevices`` and device events) with the newest position of each device, which
it reads from the console's one :class:`~desktop.map.vehicles.VehicleStore` (the map's),
and derives what the vehicle list shows: state, last report and its age. Devices are
keyed by their identity (the JT/T 808 phone number), the ``device`` of positions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from desktop.map.vehicles import (
    MOVING_KMH,
    OFFLINE_AFTER,
    VehicleState,
    VehicleStore,
    utc_now,
)
from realtime.event_kinds import EventKind
from realtime.protocol import DeviceView, Event, PositionView, Presence, presence_of

logger = logging.getLogger(__name__)

__all__ = [
    "OFFLINE_AFTER",
    "VEHICLE_KINDS",
    "Presence",
    "StateFilter",
    "VehicleRoster",
    "VehicleRow",
    "VehicleState",
    "row_matches",
    "utc_now",
    "vehicle_state",
]

VEHICLE_KINDS: frozenset[str] = frozenset({"jt808", "nmea", "json"})
"""Device kinds that report positions (sensors' devices are not listed as vehicles)."""


class StateFilter(enum.StrEnum):
    """What the list's state filter can keep."""

    ALL = "all"
    ONLINE = "online"
    OFFLINE = "offline"
    UNKNOWN = "unknown"
    """Not heard from since the server started, and no fresh fix."""
    MOVING = "moving"
    STOPPED = "stopped"
    ALARM = "alarm"


@dataclasses.dataclass(frozen=True, slots=True)
class VehicleRow:
    """One line of the vehicle list at a moment."""

    device: str
    plate: str
    name: str
    owner: str
    state: VehicleState
    online: bool
    presence: Presence
    """``unknown`` while the server has not heard from it since it started (the list then
    says so, with ``last_report``, instead of a stale online or offline)."""
    last_report: dt.datetime | None
    """When it was last heard: its newest fix or the registry's last-seen, the later."""
    age: dt.timedelta | None
    speed_kmh: float | None
    alarms: tuple[str, ...]


def vehicle_state(
    online: bool, position: PositionView | None, now: dt.datetime
) -> tuple[VehicleState, bool]:
    """Return (state, online) for a vehicle from its registry flag and newest fix."""
    fresh = position is not None and now - position.at <= OFFLINE_AFTER
    is_online = online or fresh
    if position is not None and position.alarms:
        return VehicleState.ALARM, is_online
    if not is_online or position is None:
        return VehicleState.OFFLINE, is_online
    if position.speed_kmh >= MOVING_KMH and fresh:
        return VehicleState.MOVING, is_online
    return VehicleState.STOPPED, is_online


def row_matches(row: VehicleRow, text: str, state_filter: StateFilter) -> bool:
    """Return whether ``row`` passes the search text (plate, name, owner, device) and filter."""
    if state_filter is StateFilter.ONLINE and not row.online:
        return False
    if state_filter is StateFilter.OFFLINE and row.presence is not Presence.OFFLINE:
        return False
    if state_filter is StateFilter.UNKNOWN and row.presence is not Presence.UNKNOWN:
        return False
    if state_filter in (StateFilter.MOVING, StateFilter.STOPPED, StateFilter.ALARM) and (
        row.state.value != state_filter.value
    ):
        return False
    needle = text.strip().casefold()
    if not needle:
        return True
    haystack = " ".join((row.plate, row.name, row.owner, row.device)).casefold()
    return all(word in haystack for word in needle.split())


RosterListener = Callable[[], None]


class VehicleRoster:
    """Devices by identity and the newest position of each, with change listeners."""

    def __init__(
        self, store: VehicleStore | None = None, *, clock: Callable[[], dt.datetime] = utc_now
    ) -> None:
        self._clock = clock
        self._store = store if store is not None else VehicleStore(clock)
        self._devices: dict[str, DeviceView] = {}
        self._devices_version = 0
        """Grows whenever the registry part changes (the order of the rows may change)."""
        self._order: tuple[tuple[int, int], list[str]] | None = None
        self._listeners: list[RosterListener] = []
        self._store.add_listener(lambda _devices: self._notify())

    # ------------------------------------------------------------------ reading

    @property
    def devices(self) -> Mapping[str, DeviceView]:
        """A read-only view of the registered vehicles by identity."""
        return MappingProxyType(self._devices)

    @property
    def store(self) -> VehicleStore:
        """Where the newest positions are kept (shared with the map)."""
        return self._store

    def position(self, device: str) -> PositionView | None:
        """Return the newest fix of ``device``, or None."""
        return self._store.position(device)

    def now(self) -> dt.datetime:
        """The roster's clock (UTC)."""
        return self._clock()

    def label(self, device: str) -> str:
        """Return the plate (or name) of ``device``, or the identity when unknown."""
        view = self._devices.get(device)
        if view is None:
            return device
        return view.plate or view.name or device

    def rows(self, now: dt.datetime | None = None) -> list[VehicleRow]:
        """Return every vehicle's row at ``now``, sorted by plate (then identity)."""
        moment = now or self._clock()
        return [self._row(identity, moment) for identity in self.order()]

    def order(self) -> list[str]:
        """Every vehicle's identity in the order of :meth:`rows`: by plate (else name),
        then identity; unnamed ones last. Kept until a vehicle is added or the registry
        part changes, so 20,000 vehicles are not sorted again every second (the store
        only grows)."""
        key = (self._devices_version, len(self._store))
        if self._order is None or self._order[0] != key:
            identities = set(self._devices) | set(self._store.records)
            self._order = (key, sorted(identities, key=self._sort_key))
        return self._order[1]

    def _sort_key(self, identity: str) -> tuple[bool, str, str]:
        # Unnamed vehicles last (a "~" placeholder sorted before every Chinese plate).
        view = self._devices.get(identity)
        shown = (view.plate or view.name) if view is not None else ""
        return not shown, shown, identity

    def row(self, identity: str, now: dt.datetime | None = None) -> VehicleRow:
        """The row of one vehicle at ``now``."""
        return self._row(identity, now or self._clock())

    def choices(self) -> list[tuple[str, str]]:
        """Every vehicle as (plate or name or identity, identity), in the order of
        :meth:`rows`; cheap: no position is read (a picker rebuilt per telemetry message
        would otherwise read 20,000 of them)."""
        return [(self._sort_key(identity)[1] or identity, identity) for identity in self.order()]

    def filtered(
        self,
        text: str = "",
        state_filter: StateFilter = StateFilter.ALL,
        now: dt.datetime | None = None,
    ) -> list[VehicleRow]:
        """Return the rows that pass :func:`row_matches`."""
        return [row for row in self.rows(now) if row_matches(row, text, state_filter)]

    def _row(self, identity: str, now: dt.datetime) -> VehicleRow:
        view = self._devices.get(identity)
        position = self.position(identity)
        state, online = vehicle_state(view.online if view else False, position, now)
        if online:
            presence = Presence.ONLINE
        elif view is not None and presence_of(view) is Presence.UNKNOWN:
            presence = Presence.UNKNOWN
        else:
            presence = Presence.OFFLINE
        heard = [
            at
            for at in (position.at if position else None, view.last_seen if view else None)
            if at is not None
        ]
        last_report = max(heard) if heard else None
        age = max(now - last_report, dt.timedelta(0)) if last_report is not None else None
        return VehicleRow(
            device=identity,
            plate=view.plate if view else "",
            name=view.name if view else "",
            owner=view.owner if view else "",
            state=state,
            online=online,
            presence=presence,
            last_report=last_report,
            age=age,
            speed_kmh=position.speed_kmh if position is not None else None,
            alarms=tuple(position.alarms) if position is not None else (),
        )

    # ------------------------------------------------------------------ listeners

    def add_listener(self, listener: RosterListener) -> Callable[[], None]:
        """Call ``listener`` after every change; return a function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    # ------------------------------------------------------------------ writing

    def set_devices(self, devices: Iterable[DeviceView]) -> None:
        """Replace the registry part with ``devices`` (only kinds that report positions)."""
        self._devices = {view.identity: view for view in devices if view.kind in VEHICLE_KINDS}
        self._devices_version += 1
        self._notify()

    def apply_event(self, event: Event) -> None:
        """Take a device view carried by an event (added, online, offline, removed)."""
        view = event.device
        if view is None or view.kind not in VEHICLE_KINDS:
            return
        if event.kind == EventKind.DEVICE_REMOVED:
            self._devices.pop(view.identity, None)
        else:
            self._devices[view.identity] = view
        self._devices_version += 1
        self._notify()

    def update_positions(self, positions: Iterable[PositionView]) -> bool:
        """Keep the newest fix per device (in the store); return whether anything changed."""
        return bool(self._store.update(positions))
