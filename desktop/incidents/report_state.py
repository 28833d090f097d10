"""Reporting from the grid as plain data (no Qt): the report being written (事件上报) and
the reporter's own reports (我的上报).

:class:`ReportDraft` checks what the officer filled in before anything is sent and builds
the ``incident.report`` command; the photos go up afterwards (``attachment.upload`` in
chunks, then one ``incident.post`` carrying them). :class:`MyReports` holds the list from
``reports.mine`` and says when an event concerns one of its incidents, so the list is read
again.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from pathlib import Path

from desktop.incidents.chat_state import content_type_for
from realtime.protocol import (
    MAX_MESSAGE_ATTACHMENTS,
    Event,
    IncidentView,
    ReportIncident,
    ReportView,
    Role,
    TaskView,
    UserInfo,
)

MAX_PLACE_CHARS = 200
MAX_DESCRIPTION_CHARS = 4000


class Problem(enum.Enum):
    """What keeps a draft from being sent (the form says it in the officer's words)."""

    NO_TYPE = "no_type"
    NO_PLACE = "no_place"
    PLACE_TOO_LONG = "place_too_long"
    DESCRIPTION_TOO_LONG = "description_too_long"
    TOO_MANY_PHOTOS = "too_many_photos"
    NOT_A_PHOTO = "not_a_photo"


@dataclasses.dataclass
class ReportDraft:
    """What the officer has filled in so far."""

    type_code: str = ""
    place: str = ""
    position: tuple[float, float] | None = None
    """(lat, lon) of a click on the map; None: the address only."""
    description: str = ""
    photos: list[Path] = dataclasses.field(default_factory=list)

    def problems(self) -> list[Problem]:
        """Everything that keeps the draft from being sent, in the form's order."""
        found: list[Problem] = []
        if not self.type_code:
            found.append(Problem.NO_TYPE)
        if self.position is None and not self.place.strip():
            found.append(Problem.NO_PLACE)
        if len(self.place.strip()) > MAX_PLACE_CHARS:
            found.append(Problem.PLACE_TOO_LONG)
        if len(self.description.strip()) > MAX_DESCRIPTION_CHARS:
            found.append(Problem.DESCRIPTION_TOO_LONG)
        if len(self.photos) > MAX_MESSAGE_ATTACHMENTS:
            found.append(Problem.TOO_MANY_PHOTOS)
        if any(content_type_for(photo.name) is None for photo in self.photos):
            found.append(Problem.NOT_A_PHOTO)
        return found

    def add_photos(self, paths: Iterable[Path]) -> None:
        """Add photos not chosen yet (the same file twice is kept once)."""
        for path in paths:
            if path not in self.photos:
                self.photos.append(path)

    def command(self) -> ReportIncident:
        """The ``incident.report`` command (check :meth:`problems` first)."""
        lat, lon = self.position if self.position is not None else (None, None)
        return ReportIncident(
            req="",
            type_code=self.type_code,
            place=self.place.strip(),
            lat=lat,
            lon=lon,
            description=self.description.strip(),
        )


@dataclasses.dataclass(frozen=True, slots=True)
class PhotoOutcome:
    """How one photo of a report fared."""

    path: Path
    attachment_id: int | None = None
    reason: str = ""
    """Why it was not attached (empty when it was)."""

    @property
    def sent(self) -> bool:
        """The photo is stored with the incident."""
        return self.attachment_id is not None


class MyReports:
    """The reporter's own reports, newest first, as ``reports.mine`` last said."""

    def __init__(self) -> None:
        self.reports: list[ReportView] = []
        self.more = False

    def replace(self, reports: Iterable[ReportView], *, more: bool = False) -> None:
        """Take a fresh list."""
        self.reports = sorted(reports, key=lambda report: report.id, reverse=True)
        self.more = more

    def add(self, report: ReportView) -> None:
        """Put a report just made at the top (or replace the one held)."""
        self.reports = [r for r in self.reports if r.id != report.id]
        self.replace([report, *self.reports], more=self.more)

    def incident_ids(self) -> set[int]:
        """The incidents of the reports held."""
        return {report.incident_id for report in self.reports}

    def concerns(self, event: Event) -> bool:
        """Whether ``event`` is about the incident of one of the reports held (its state,
        level, tasks, escalations or closing)."""
        ids = self.incident_ids()
        incident = event.incident
        if isinstance(incident, IncidentView) and incident.id in ids:
            return True
        task = event.task
        return isinstance(task, TaskView) and task.incident_id in ids


REPORTER_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
"""Who may report (the server decides; the console only greys the entries out)."""

GRID_CODE_LENGTH = 9
"""A town's code has 9 digits and a village's 12 (GB/T 2260 with the town and village
extensions): users of such an area are grid officers."""


def may_report(user: UserInfo | None) -> bool:
    """Whether ``user`` may report events and follow them (courtesy; the server decides)."""
    return user is not None and user.role in REPORTER_ROLES and user.agency is None


def is_grid_user(user: UserInfo | None) -> bool:
    """Whether ``user`` is a town or village officer (事件上报 is their main entry)."""
    return may_report(user) and user is not None and len(user.jurisdiction) >= GRID_CODE_LENGTH
