"""When an alarm sounds, and again, in plain Python (no Qt).

An alarm sounds when it arrives and then again every :data:`REPEAT_SECONDS` of its level
until somebody acknowledges it (any state but ``new`` stops it), or the officer mutes that
one alarm. An open alarm raised to a sounding level sounds at once. A snapshot (login,
reconnect) sounds nothing at once but keeps reminding of the unacknowledged alarms it
holds; alarms already reminded of keep their rhythm and their mute.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable

from desktop.state import ChangeKind, StoreChange
from realtime.protocol import AlarmView
from realtime.states import LEVEL_RANK, AlarmLevel, AlarmState, is_open

REPEAT_SECONDS: dict[AlarmLevel, float] = {
    AlarmLevel.RED: 10.0,
    AlarmLevel.ORANGE: 30.0,
    AlarmLevel.YELLOW: 120.0,
}
"""How often an unacknowledged alarm of each level sounds again; blue alarms are silent."""


@dataclasses.dataclass(slots=True)
class _Reminder:
    level: AlarmLevel
    due: float
    """When it sounds next (the clock's seconds)."""


class ReminderSchedule:
    """Which unacknowledged alarms sound, when next, and which the officer muted."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._reminders: dict[int, _Reminder] = {}
        self._muted: set[int] = set()

    # ------------------------------------------------------------------ reading

    def sounding(self) -> list[int]:
        """The alarms that still sound (unacknowledged, of a sounding level, not muted)."""
        return sorted(alarm_id for alarm_id in self._reminders if alarm_id not in self._muted)

    def reminds_of(self, alarm_id: int) -> bool:
        """Whether ``alarm_id`` is unacknowledged at a sounding level (muted or not)."""
        return alarm_id in self._reminders

    def is_muted(self, alarm_id: int) -> bool:
        """Whether the officer muted ``alarm_id``."""
        return alarm_id in self._muted

    def next_due(self, alarm_id: int) -> float | None:
        """When ``alarm_id`` sounds next (clock seconds), None when it does not."""
        reminder = self._reminders.get(alarm_id)
        return None if reminder is None or alarm_id in self._muted else reminder.due

    # ------------------------------------------------------------------ muting

    def mute(self, alarm_id: int) -> bool:
        """Silence one alarm until it is acknowledged; return whether it was sounding."""
        if alarm_id not in self._reminders or alarm_id in self._muted:
            return False
        self._muted.add(alarm_id)
        return True

    def unmute(self, alarm_id: int) -> bool:
        """Let a muted alarm sound again (from its next reminder); return whether it was muted."""
        if alarm_id not in self._muted:
            return False
        self._muted.discard(alarm_id)
        reminder = self._reminders.get(alarm_id)
        if reminder is not None:
            reminder.due = self._clock() + REPEAT_SECONDS[reminder.level]
        return True

    # ------------------------------------------------------------------ following the store

    def apply(self, change: StoreChange, alarms: Iterable[AlarmView] = ()) -> AlarmLevel | None:
        """Follow one store change; return the level to sound now, or None.

        ``alarms`` is everything the store holds, read only for a reset.
        """
        if change.kind is ChangeKind.RESET:
            self._reset(alarms)
            return None
        alarm = change.alarm
        if alarm is None:
            return None
        previous = change.previous
        raised = (
            previous is not None
            and is_open(alarm.state)
            and LEVEL_RANK[alarm.level] < LEVEL_RANK[previous.level]
        )
        held = self._reminders.get(alarm.id)
        if alarm.state is not AlarmState.NEW or alarm.level not in REPEAT_SECONDS:
            self._forget(alarm.id)
        elif held is None or held.level is not alarm.level:
            self._reminders[alarm.id] = _Reminder(
                alarm.level, self._clock() + REPEAT_SECONDS[alarm.level]
            )
        if alarm.level not in REPEAT_SECONDS or alarm.id in self._muted:
            return None
        arrived = change.kind is ChangeKind.ADDED and is_open(alarm.state)
        return alarm.level if arrived or raised else None

    def due(self) -> list[tuple[int, AlarmLevel]]:
        """The alarms to sound again now, most severe first; each is rescheduled."""
        now = self._clock()
        found: list[tuple[int, AlarmLevel]] = []
        for alarm_id, reminder in self._reminders.items():
            if alarm_id in self._muted or reminder.due > now:
                continue
            found.append((alarm_id, reminder.level))
            reminder.due = now + REPEAT_SECONDS[reminder.level]
        return sorted(found, key=lambda item: (LEVEL_RANK[item[1]], item[0]))

    def _reset(self, alarms: Iterable[AlarmView]) -> None:
        now = self._clock()
        kept: dict[int, _Reminder] = {}
        for alarm in alarms:
            if alarm.state is not AlarmState.NEW or alarm.level not in REPEAT_SECONDS:
                continue
            held = self._reminders.get(alarm.id)
            if held is not None and held.level is alarm.level:
                kept[alarm.id] = held
            else:
                kept[alarm.id] = _Reminder(alarm.level, now + REPEAT_SECONDS[alarm.level])
        self._reminders = kept
        self._muted &= kept.keys()

    def _forget(self, alarm_id: int) -> None:
        self._reminders.pop(alarm_id, None)
        self._muted.discard(alarm_id)
