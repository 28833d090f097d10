"""The event log view: one line per event, newest first, in the officer's language."""

from __future__ import annotations

import bisect
import operator
from collections.abc import Iterable

from PySide6.QtWidgets import QListWidget, QWidget

from desktop import texts
from desktop.dangers.labels import danger_event_text
from desktop.early_warning.labels import warning_event_text
from desktop.incidents.event_text import incident_event_text
from desktop.publishing.labels import notice_event_text
from desktop.registry.labels import registry_event_text
from desktop.vehicles.command_labels import vehicle_command_text
from realtime.protocol import ContactField, Event

EVENT_LOG_LIMIT = 500
"""Lines kept in the event log view."""


def event_line(event: Event) -> str:
    """One event as the log shows it: time · actor · kind · action · alarm · note.

    Incident, task and chat events name their incident or task and say what happened in
    the console's language (:mod:`desktop.incidents.event_text`) instead of the server's
    note; registry events name the item and the fields changed.
    """
    about = incident_event_text(event)
    if about is not None:
        parts = [
            texts.format_time(event.at),
            event.actor,
            texts.event_kind_label(event.kind),
            about,
        ]
        return " · ".join(part for part in parts if part)
    about = registry_event_text(event)
    if about is not None:
        parts = [texts.format_time(event.at), event.actor, texts.event_kind_label(event.kind)]
        return " · ".join(part for part in (*parts, about, event.note) if part)
    about = vehicle_command_text(event)
    if about is not None:
        parts = [texts.format_time(event.at), event.actor, texts.event_kind_label(event.kind)]
        return " · ".join(part for part in (*parts, about) if part)
    about = warning_event_text(event) or notice_event_text(event) or danger_event_text(event)
    if about is not None:
        parts = [texts.format_time(event.at), event.actor, texts.event_kind_label(event.kind)]
        return " · ".join(part for part in (*parts, about, event.note) if part)
    alarm = event.alarm
    subject = f"#{alarm.id} {alarm.title}" if alarm is not None else ""
    action = texts.action_label(event.action).rstrip("…") if event.action else ""
    # A reveal names the fields viewed (never their values) beside the reason in note.
    fields = "、".join(_field_label(name) for name in event.fields)
    parts = [
        texts.format_time(event.at),
        event.actor,
        texts.event_kind_label(event.kind),
        action,
        subject,
        fields,
        event.note,
    ]
    return " · ".join(part for part in parts if part)


def _field_label(name: str) -> str:
    try:
        return texts.contact_field_label(ContactField(name))
    except ValueError:
        return name  # a field newer than this console


class EventLogView(QListWidget):
    """The newest :data:`EVENT_LOG_LIMIT` events, newest on top, each ``seq`` once.

    Events are kept in ``seq`` order whatever order they arrive in: the events of the
    shift loaded at login (:mod:`desktop.event_backfill`) and live events that came while
    they loaded merge into one log without a line twice.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("event_log")
        self._seqs: list[int] = []
        """The ``seq`` of each row, top (newest) first."""

    @property
    def seqs(self) -> list[int]:
        """The ``seq`` of each line, top (newest) first."""
        return list(self._seqs)

    def add_event(self, event: Event) -> None:
        """Put ``event`` in its place by ``seq`` (on top when newest), once; drop the
        oldest line beyond the limit."""
        # Rows are newest first: search the negated seqs, which ascend.
        row = bisect.bisect_left(self._seqs, -event.seq, key=operator.neg)
        if row < len(self._seqs) and self._seqs[row] == event.seq:
            return
        if row >= EVENT_LOG_LIMIT:
            return  # older than every line kept
        self.insertItem(row, event_line(event))
        self._seqs.insert(row, event.seq)
        while self.count() > EVENT_LOG_LIMIT:
            self.takeItem(self.count() - 1)
            self._seqs.pop()

    def add_events(self, events: Iterable[Event]) -> int:
        """Merge several events (any order); return how many were not held already."""
        batch = list(events)
        held = set(self._seqs)
        for event in batch:
            self.add_event(event)
        return len({event.seq for event in batch} - held)

    def clear_events(self) -> None:
        """Forget every line (another user logs in)."""
        self.clear()
        self._seqs.clear()
