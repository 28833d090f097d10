"""What the console knows about alarms, in plain Python (no Qt).

:class:`AlarmStore` applies what the server sends (a :class:`~realtime.protocol.Snapshot`
replaces everything, an :class:`~realtime.protocol.Event` upserts its alarm), remembers the
last ``seq`` and when the data was last known to be current, and tells its listeners
about every change. Qt item models adapt it; nothing here knows about widgets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType

from realtime.protocol import AlarmView, Event, Snapshot
from realtime.states import LEVEL_RANK, AlarmLevel, AlarmState, is_open

logger = logging.getLogger(__name__)

SOUNDING_LEVELS: frozenset[AlarmLevel] = frozenset({AlarmLevel.RED, AlarmLevel.ORANGE})
"""Levels whose arrival is announced with a sound."""


def utc_now() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class ChangeKind(enum.Enum):
    """What happened to the store."""

    ADDED = "added"
    """An alarm the store did not hold arrived."""
    UPDATED = "updated"
    """A held alarm got a newer version."""
    RESET = "reset"
    """Everything was replaced by a snapshot."""


@dataclasses.dataclass(frozen=True, slots=True)
class StoreChange:
    """One change of an :class:`AlarmStore`, as told to its listeners.

    ``alarm`` is the alarm as it is now and ``previous`` as it was (``None`` when added);
    both are ``None`` for :attr:`ChangeKind.RESET`.
    """

    kind: ChangeKind
    alarm: AlarmView | None = None
    previous: AlarmView | None = None


StoreListener = Callable[[StoreChange], None]


def announces_alarm(change: StoreChange) -> bool:
    """Return whether ``change`` should be announced with a sound.

    A new open red or orange alarm is announced, and so is an open alarm raised to red or
    orange. Snapshots are not: they restore what the officer has already seen.
    """
    alarm = change.alarm
    if alarm is None or not is_open(alarm.state) or alarm.level not in SOUNDING_LEVELS:
        return False
    if change.kind is ChangeKind.ADDED:
        return True
    previous = change.previous
    return (
        change.kind is ChangeKind.UPDATED
        and previous is not None
        and LEVEL_RANK[alarm.level] < LEVEL_RANK[previous.level]
    )


def queue_sort_key(alarm: AlarmView) -> float:
    """Return a number that orders the alarm queue: smaller comes first.

    Open alarms come before finished ones; open alarms by level (red first), then by age
    (the one waiting longest first); finished alarms most recently updated first. The
    key is one float so that Qt can sort by it in C++ without calling back into Python.
    """
    if is_open(alarm.state):
        # Timestamps are about 1.7e9 s; a level step of 1e10 keeps the groups apart.
        return LEVEL_RANK[alarm.level] * 1e10 + alarm.first_seen.timestamp()
    return 1e11 + (1e10 - alarm.updated_at.timestamp())


class AlarmStore:
    """Every alarm the console holds, by id, kept current from snapshots and events."""

    def __init__(self, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self._clock = clock
        self._alarms: dict[int, AlarmView] = {}
        self._listeners: list[StoreListener] = []
        self._last_seq: int | None = None
        self._last_update: dt.datetime | None = None

    # ------------------------------------------------------------------ reading

    @property
    def alarms(self) -> Mapping[int, AlarmView]:
        """A read-only view of the alarms by id."""
        return MappingProxyType(self._alarms)

    def get(self, alarm_id: int) -> AlarmView | None:
        """Return the alarm with ``alarm_id``, or None when the store does not hold it."""
        return self._alarms.get(alarm_id)

    def __len__(self) -> int:
        return len(self._alarms)

    def __iter__(self) -> Iterator[AlarmView]:
        return iter(list(self._alarms.values()))

    @property
    def last_seq(self) -> int | None:
        """The ``seq`` of the last event or snapshot applied, or None before any."""
        return self._last_seq

    @property
    def last_update(self) -> dt.datetime | None:
        """When the data was last known to be current (UTC), or None before any data."""
        return self._last_update

    def data_age(self, now: dt.datetime | None = None) -> dt.timedelta | None:
        """Return how old the data is, or None before any data arrived."""
        if self._last_update is None:
            return None
        age = (now or self._clock()) - self._last_update
        return max(age, dt.timedelta(0))

    @property
    def unacknowledged_count(self) -> int:
        """How many alarms are still new (nobody has taken them yet)."""
        return sum(1 for alarm in self._alarms.values() if alarm.state is AlarmState.NEW)

    @property
    def open_count(self) -> int:
        """How many alarms still need attention."""
        return sum(1 for alarm in self._alarms.values() if is_open(alarm.state))

    # ------------------------------------------------------------------ listeners

    def add_listener(self, listener: StoreListener) -> Callable[[], None]:
        """Call ``listener`` with every change; return a function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _notify(self, change: StoreChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    # ------------------------------------------------------------------ writing

    def mark_fresh(self, now: dt.datetime | None = None) -> None:
        """Record that the data is current now (the connection is live and caught up)."""
        self._last_update = now or self._clock()

    def clear(self) -> None:
        """Forget everything (another user logs in on this console: nothing of what the
        last one saw may remain, and the next login starts from a snapshot)."""
        self._alarms = {}
        self._last_seq = None
        self._last_update = None
        self._notify(StoreChange(ChangeKind.RESET))

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Replace every alarm with those of ``snapshot``."""
        self._alarms = {alarm.id: alarm for alarm in snapshot.alarms}
        self._last_seq = snapshot.head_seq
        self.mark_fresh()
        logger.debug("snapshot at seq %s: %s alarms", snapshot.head_seq, len(self._alarms))
        self._notify(StoreChange(ChangeKind.RESET))

    def apply_event(self, event: Event) -> StoreChange | None:
        """Apply one event; return the change it made, or None.

        An event at or below :attr:`last_seq` was applied already and is ignored, so a
        replay after a reconnect can never duplicate anything.
        """
        if self._last_seq is not None and event.seq <= self._last_seq:
            logger.debug("ignoring event %s at or below seq %s", event.seq, self._last_seq)
            return None
        self._last_seq = event.seq
        self.mark_fresh()
        if event.alarm is None:
            return None
        return self.upsert(event.alarm)

    def apply_events(self, events: Iterable[Event]) -> None:
        """Apply several events in order."""
        for event in events:
            self.apply_event(event)

    def remove(self, alarm_id: int) -> bool:
        """Forget an alarm the user may no longer see (its share was revoked); listeners
        get a reset. Return whether it was held."""
        if self._alarms.pop(alarm_id, None) is None:
            return False
        self._notify(StoreChange(ChangeKind.RESET))
        return True

    def upsert(self, alarm: AlarmView) -> StoreChange | None:
        """Insert ``alarm`` or replace an older version of it; return the change, or None.

        A version older than or equal to the one held is ignored: a command's result and
        the event announcing the same change may arrive in either order.
        """
        previous = self._alarms.get(alarm.id)
        if previous is not None and alarm.version <= previous.version:
            return None
        self._alarms[alarm.id] = alarm
        kind = ChangeKind.ADDED if previous is None else ChangeKind.UPDATED
        change = StoreChange(kind, alarm, previous)
        self._notify(change)
        return change
