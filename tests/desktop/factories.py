"""Builders of wire objects for the desktop tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from realtime.protocol import AlarmView, DispatchView, Event, Snapshot
from realtime.states import AlarmLevel, AlarmState

T0 = dt.datetime(2025, 3, 1, 8, 0, 0, tzinfo=dt.UTC)
"""A fixed moment the test alarms are raised at."""


def make_alarm(
    alarm_id: int = 1,
    *,
    version: int = 1,
    state: AlarmState = AlarmState.NEW,
    level: AlarmLevel = AlarmLevel.YELLOW,
    first_seen: dt.datetime = T0,
    **fields: Any,
) -> AlarmView:
    """Return an alarm with sensible defaults."""
    values: dict[str, Any] = {
        "alarm_type": "fire",
        "title": f"Alarm {alarm_id}",
        "source": "manual",
        "place": "文三路 100 号",
        "last_seen": first_seen,
        "updated_at": first_seen,
    }
    values.update(fields)
    return AlarmView(
        id=alarm_id,
        version=version,
        state=state,
        level=level,
        first_seen=first_seen,
        **values,
    )


def evolve(alarm: AlarmView, **changes: Any) -> AlarmView:
    """Return ``alarm`` with ``changes`` and the next version."""
    changes.setdefault("version", alarm.version + 1)
    return msgspec.structs.replace(alarm, **changes)


def make_event(seq: int, alarm: AlarmView | None, kind: str = "alarm.raised") -> Event:
    """Return an event carrying ``alarm``."""
    return Event(seq=seq, at=T0, kind=kind, actor="tester", alarm=alarm)


def make_snapshot(head_seq: int, *alarms: AlarmView) -> Snapshot:
    """Return a snapshot of ``alarms``."""
    return Snapshot(head_seq=head_seq, alarms=list(alarms))


def make_dispatch(unit_id: int, name: str, agency: str = "fire") -> DispatchView:
    """Return one dispatched unit."""
    return DispatchView(unit_id=unit_id, unit_name=name, agency=agency, note="", by="o", at=T0)
