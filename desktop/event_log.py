"""The event log view: one line per event, newest first, in the officer's language."""

from __future__ import annotations

from PySide6.QtWidgets import QListWidget, QWidget

from desktop import texts
from desktop.incidents.event_text import incident_event_text
from desktop.registry.labels import registry_event_text
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
    """The newest :data:`EVENT_LOG_LIMIT` events, newest on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("event_log")

    def add_event(self, event: Event) -> None:
        """Put ``event`` on top, dropping the oldest line beyond the limit."""
        self.insertItem(0, event_line(event))
        while self.count() > EVENT_LOG_LIMIT:
            self.takeItem(self.count() - 1)
