"""The shift handover and duty roster as the console holds them: plain Python, no Qt.

:class:`HandoverDesk` keeps the handover on screen (with its report), the desk's history
and today's roster, applies the server's answers, and says what the officer may do next
(sign: the author of a draft; accept: another officer of the desk, the named incoming one
if there is one). Listeners registered with :meth:`HandoverDesk.subscribe` are told of
every change; the Qt models of :mod:`desktop.handover` are thin adapters over it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from realtime.protocol import (
    HandoverItem,
    HandoverReport,
    HandoverResult,
    HandoversResult,
    HandoverState,
    HandoverView,
    ResultData,
    RosterEntryView,
    RosterPosition,
    RosterResult,
)

SECTIONS = (
    "open_alarms",
    "open_incidents",
    "overdue_tasks",
    "escalated_tasks",
    "supervised_tasks",
)
"""The report's sections, in the order the dialog shows them."""

Listener = Callable[[], None]


@dataclass(frozen=True, slots=True)
class DeskDuty:
    """One desk's duty as the roster panel shows it: one row per desk and shift."""

    desk: str
    leaders: tuple[str, ...]
    officers: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime
    on_duty: bool
    jurisdiction: str = ""
    """The desk's area code (empty: the whole area)."""
    agency: str = ""
    """The desk's agency code (empty: not an agency's desk)."""


def _desk_name(jurisdiction: str, agency: str) -> str:
    name = jurisdiction or "*"
    return f"{name}/{agency}" if agency else name


def _person(entry: RosterEntryView) -> str:
    return entry.display_name or entry.username


class HandoverDesk:
    """What the handover dialog and the roster panel show."""

    def __init__(self, username: str = "") -> None:
        self.username = username
        self.current: HandoverView | None = None
        self.report: HandoverReport | None = None
        self.history: list[HandoverView] = []
        self.more_history = False
        self.roster: list[RosterEntryView] = []
        self.roster_at: dt.datetime | None = None
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` after every change."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # ------------------------------------------------------------------ answers

    def apply(self, result: ResultData) -> None:
        """Take an answer of ``handover.*``, ``handovers.list`` or ``roster.today``."""
        if isinstance(result, HandoverResult):
            self.current = result.handover
            self.report = result.report
            self.history = [
                result.handover if view.id == result.handover.id else view for view in self.history
            ]
            if all(view.id != result.handover.id for view in self.history):
                self.history.insert(0, result.handover)
        elif isinstance(result, HandoversResult):
            self.history = list(result.handovers)
            self.more_history = result.more
        elif isinstance(result, RosterResult):
            self.roster = list(result.entries)
            self.roster_at = result.at
        else:
            return
        self._changed()

    # ------------------------------------------------------------------ what may be done

    @property
    def can_sign(self) -> bool:
        """The officer drafted the handover on screen and has not signed it yet."""
        current = self.current
        return (
            current is not None
            and current.state is HandoverState.DRAFT
            and current.author == self.username
        )

    @property
    def can_accept(self) -> bool:
        """A signed handover of someone else, handed to this officer (or to no one named)."""
        current = self.current
        return (
            current is not None
            and current.state is HandoverState.SIGNED
            and current.author != self.username
            and current.incoming in ("", self.username)
        )

    def awaiting_acceptance(self) -> HandoverView | None:
        """The newest handover in the history that this officer may accept (signed by
        someone else, to them or to no one named): the dialog opens it by itself."""
        for view in self.history:
            if (
                view.state is HandoverState.SIGNED
                and view.author != self.username
                and view.incoming in ("", self.username)
            ):
                return view
        return None

    # ------------------------------------------------------------------ views

    def items(self, section: str) -> list[HandoverItem]:
        """The items of a report section (none without a report)."""
        if self.report is None or section not in SECTIONS:
            return []
        return list(getattr(self.report, section).items)

    def count(self, section: str) -> int:
        """The full count of a section (the items may be fewer)."""
        if self.report is None or section not in SECTIONS:
            return 0
        return int(getattr(self.report, section).count)

    def duties(self) -> list[DeskDuty]:
        """Today's roster by desk and shift: the leaders and officers of each."""
        groups: dict[tuple[str, dt.datetime, dt.datetime], list[RosterEntryView]] = {}
        for entry in self.roster:
            key = (_desk_name(entry.jurisdiction, entry.agency), entry.shift_start, entry.shift_end)
            groups.setdefault(key, []).append(entry)
        duties = []
        for (desk, start, end), entries in groups.items():
            duties.append(
                DeskDuty(
                    desk=desk,
                    leaders=tuple(
                        _person(e) for e in entries if e.position is RosterPosition.LEADER
                    ),
                    officers=tuple(
                        _person(e) for e in entries if e.position is not RosterPosition.LEADER
                    ),
                    start=start,
                    end=end,
                    on_duty=any(e.on_duty for e in entries),
                    jurisdiction=entries[0].jurisdiction,
                    agency=entries[0].agency,
                )
            )
        return sorted(duties, key=lambda duty: (duty.desk, duty.start))
