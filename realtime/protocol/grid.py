"""Reporting from the grid, shift handover (交接班) and the duty roster (值班表).

- ``incident.report``: a village, town or district officer reports an event; the server
  opens the incident where the place lies and sends a task to the grid level the
  catalogue item names. ``reports.mine`` lists the user's own reports with how each
  stands (the incident's state, the task's level and state, the feedback when closed).
- ``handover.draft`` / ``handover.sign`` / ``handover.accept``: the report of a desk's
  shift (open alarms, open incidents, overdue, escalated and supervised tasks, notes),
  kept as generated, signed by the outgoing and accepted by the incoming officer;
  ``handovers.list`` and ``handover.get`` to read them later.
- ``roster.today``: who is on duty at each desk of the user's area now and next.

:mod:`realtime.protocol.console` and :mod:`realtime.protocol.server` add the commands and
results to their unions; who may send which is the server's permission table
(docs/protocol.md).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import msgspec

from realtime.incident_states import (
    EscalationLevel,
    HandlingLevel,
    IncidentLevel,
    IncidentState,
    TaskState,
)
from realtime.protocol.common import Latitude, Longitude, LongText, ShortText, Tagged
from realtime.protocol.incidents import IncidentView, TaskView

MAX_HANDOVER_ITEMS = 500
"""Items kept per section of a handover report (the count is always the full one)."""

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
PageSize = Annotated[int, msgspec.Meta(ge=1, le=200)]

# ---------------------------------------------------------------------------- grid reports


class ReportIncident(Tagged, tag="incident.report"):
    """Report an event from the grid (网格上报).

    The place is a map click (``lat``/``lon``, placed by the server) or an address only
    (``place``); it must lie inside the reporter's area. The incident opens in the
    jurisdiction of the place; a task goes to the grid level the catalogue item names.
    """

    req: str
    type_code: Annotated[str, msgspec.Meta(min_length=1, max_length=48)]
    place: ShortText = ""
    lat: Latitude | None = None
    lon: Longitude | None = None
    description: LongText = ""
    title: ShortText = ""
    """Default: the item's name and the place."""


class ListMyReports(Tagged, tag="reports.mine"):
    """Ask for the user's own reports, newest first; ``before_id`` pages back."""

    req: str
    limit: PageSize = 50
    before_id: int | None = None


class ReportView(msgspec.Struct, kw_only=True):
    """One report as its reporter follows it."""

    id: int
    incident_id: int
    reported_at: dt.datetime
    type_code: str
    type_name: str = ""
    title: str
    place: str = ""
    jurisdiction: str
    """Where the incident lies (the place's jurisdiction)."""
    handling_level: HandlingLevel
    direct: bool = False
    """The item reports straight to the district (直报): the district saw it at once."""
    incident_state: IncidentState
    incident_level: IncidentLevel
    task_state: TaskState | None = None
    """The state of the newest grid task of the incident (none for an agency item)."""
    task_level: EscalationLevel | None = None
    """The level that has it now (village, town, district)."""
    task_assignee: str = ""
    feedback: str = ""
    """The feedback (反馈) written when the incident was closed."""
    closed_at: dt.datetime | None = None


class ReportResult(msgspec.Struct, tag="report", kw_only=True):
    """The report just made: the incident it opened and the task sent (if any)."""

    report: ReportView
    incident: IncidentView
    task: TaskView | None = None


class ReportsResult(msgspec.Struct, tag="reports", kw_only=True):
    reports: list[ReportView]
    more: bool = False
    """Older reports exist (ask again with ``before_id``)."""


# ---------------------------------------------------------------------------- handover


class HandoverState(enum.StrEnum):
    """Where a handover is: drafted → signed by the outgoing → accepted by the incoming."""

    DRAFT = "draft"
    SIGNED = "signed"
    ACCEPTED = "accepted"


class HandoverItem(msgspec.Struct, kw_only=True):
    """One open alarm, incident or task in a handover report, as it was then."""

    kind: str
    """``alarm``, ``incident`` or ``task``."""
    id: int
    title: str
    state: str
    level: str = ""
    jurisdiction: str = ""
    detail: str = ""
    """What the officer reads first (the assignee, the escalation, the supervision asked)."""
    due_at: dt.datetime | None = None
    """The deadline that passed (overdue) or the supervision's due time."""
    incident_id: int | None = None


class HandoverSection(msgspec.Struct, kw_only=True):
    """A section of the report: the full count and (at most 500 of) the items."""

    count: int = 0
    items: list[HandoverItem] = msgspec.field(default_factory=list)


class HandoverReport(msgspec.Struct, kw_only=True):
    """What the outgoing shift hands over, as generated (a snapshot)."""

    generated_at: dt.datetime
    open_alarms: HandoverSection = msgspec.field(default_factory=HandoverSection)
    open_incidents: HandoverSection = msgspec.field(default_factory=HandoverSection)
    overdue_tasks: HandoverSection = msgspec.field(default_factory=HandoverSection)
    escalated_tasks: HandoverSection = msgspec.field(default_factory=HandoverSection)
    supervised_tasks: HandoverSection = msgspec.field(default_factory=HandoverSection)


class HandoverView(msgspec.Struct, kw_only=True):
    """A handover without its items (events carry this; ``handover.get`` adds the report)."""

    id: int
    jurisdiction: str
    agency: str = ""
    shift_start: dt.datetime
    shift_end: dt.datetime
    author: str
    incoming: str = ""
    """The incoming officer named (by default the roster's next shift at the desk)."""
    state: HandoverState
    notes: str = ""
    created_at: dt.datetime
    signed_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    accepted_by: str = ""
    remark: str = ""
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    """The count of each report section, by its name (``open_alarms`` …)."""


class DraftHandover(Tagged, tag="handover.draft"):
    """Generate the handover of the user's desk for the shift now ending."""

    req: str
    notes: LongText = ""
    incoming: Username | None = None
    """Default: who the roster has at this desk next."""


class SignHandover(Tagged, tag="handover.sign"):
    """The outgoing officer (the author) signs the draft, with the final notes."""

    req: str
    handover_id: int
    notes: LongText | None = None
    """Replace the draft's notes; absent keeps them."""
    incoming: Username | None = None


class AcceptHandover(Tagged, tag="handover.accept"):
    """The incoming officer (another user of the desk) accepts a signed handover."""

    req: str
    handover_id: int
    remark: LongText = ""


class ListHandovers(Tagged, tag="handovers.list"):
    """Past handovers of a desk, newest first: the user's own desk by default, or one
    inside the user's area (``jurisdiction``, ``agency``)."""

    req: str
    jurisdiction: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    agency: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    limit: PageSize = 20
    before_id: int | None = None


class GetHandover(Tagged, tag="handover.get"):
    """One handover with its report."""

    req: str
    handover_id: int


class HandoverResult(msgspec.Struct, tag="handover", kw_only=True):
    handover: HandoverView
    report: HandoverReport


class HandoversResult(msgspec.Struct, tag="handovers", kw_only=True):
    handovers: list[HandoverView]
    more: bool = False


# ---------------------------------------------------------------------------- roster


class RosterPosition(enum.StrEnum):
    """A duty position at a desk."""

    LEADER = "leader"
    """带班领导: the shift's leader."""
    OFFICER = "officer"
    """值班员: a duty officer."""
    AGENCY_DESK = "agency_desk"
    """An agency's desk (its duty person)."""


class RosterEntryView(msgspec.Struct, kw_only=True):
    """One person's shift at one desk."""

    duty_date: dt.date
    jurisdiction: str
    agency: str = ""
    position: RosterPosition
    username: str
    display_name: str = ""
    shift_start: dt.datetime
    shift_end: dt.datetime
    on_duty: bool = False
    """The shift covers the time of the answer."""


class RosterToday(Tagged, tag="roster.today"):
    """Who is on duty now, and next within a day, at each desk of the user's area."""

    req: str


class RosterResult(msgspec.Struct, tag="roster", kw_only=True):
    at: dt.datetime
    entries: list[RosterEntryView]
