"""What "the same alarms" means when a recording is replayed at different speeds: each
alarm raised in the exercise's log as (exercise time of the input that raised it, in
seconds from the exercise clock's origin, device, type, level), in that order.

Device times are shifted onto the exercise clock exactly, so the time of the triggering
input does not depend on the speed or on how late a send went out; the wall time an alarm
was written at does, and is not part of the key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from realtime.event_kinds import EventKind
from realtime.protocol import Event

AlarmKey = tuple[float, str, str, str]
"""(seconds from the origin, rounded to the millisecond; device; alarm type; level)."""


def alarm_keys(events: Sequence[Event], origin: dt.datetime | None = None) -> list[AlarmKey]:
    """The alarms raised in an exercise's log, as comparable keys, in order.

    ``origin`` is the exercise clock's start (``ExerciseManager.origin``); by default the
    time of the log's first event, which an exercise writes while its clock stands at the
    origin (the registry being set up).
    """
    if not events:
        return []
    start = origin if origin is not None else events[0].at
    keys = [
        (
            round((event.alarm.first_seen - start).total_seconds(), 3),
            event.alarm.source_ref,
            event.alarm.alarm_type,
            str(event.alarm.level),
        )
        for event in events
        if event.kind == EventKind.ALARM_RAISED and event.alarm is not None
    ]
    return sorted(keys)
