"""The warnings a console knows, as plain state (no Qt): the list's answer and the live
``warning.*`` events, newest version kept, ordered for the table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

from realtime.protocol import EarlyWarningView, Event, Role
from realtime.protocol.early_warning import WarningLevel, WarningState

WORKING_ROLES: Final = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
"""Who may acknowledge and close warnings (the server checks it again)."""
OPEN_STATES: Final = frozenset({WarningState.ACTIVE, WarningState.ACKNOWLEDGED})
_RANK: Final = {level: rank for rank, level in enumerate(WarningLevel)}


class WarningBook:
    """Warnings by id; a newer version replaces an older one, never the reverse."""

    def __init__(self) -> None:
        self.warnings: dict[int, EarlyWarningView] = {}
        self.show_ended = False
        """Keep ended warnings in :meth:`rows` (otherwise open ones only)."""

    def replace(self, warnings: Iterable[EarlyWarningView]) -> None:
        """Take the list's answer (what the server has now)."""
        self.warnings = {}
        for warning in warnings:
            self.apply(warning)

    def apply(self, warning: EarlyWarningView) -> bool:
        """Take one warning; return whether it changed what is known."""
        held = self.warnings.get(warning.id)
        if held is not None and held.version >= warning.version:
            return False
        self.warnings[warning.id] = warning
        return True

    def apply_event(self, event: Event) -> bool:
        """Take a ``warning.*`` event; return whether it changed anything."""
        if isinstance(event.early_warning, EarlyWarningView):
            return self.apply(event.early_warning)
        return False

    def rows(self) -> list[EarlyWarningView]:
        """The warnings to show: open first, most severe first, newest first."""
        shown = [w for w in self.warnings.values() if self.show_ended or w.state in OPEN_STATES]
        return sorted(
            shown,
            key=lambda w: (
                w.state not in OPEN_STATES,
                -_RANK[w.level],
                -w.raised_at.timestamp(),
                -w.id,
            ),
        )

    def open_count(self) -> int:
        """How many warnings are open (the status bar's count)."""
        return sum(1 for w in self.warnings.values() if w.state in OPEN_STATES)

    def get(self, warning_id: int) -> EarlyWarningView | None:
        """The warning ``warning_id`` as last known."""
        return self.warnings.get(warning_id)


def age_seconds(warning: EarlyWarningView, now: dt.datetime) -> float:
    """How long the warning has been (or was) raised."""
    end = warning.ended_at or now
    return max(0.0, (end - warning.raised_at).total_seconds())


def can_work(role: Role | None) -> bool:
    """Whether the role may acknowledge and close warnings."""
    return role in WORKING_ROLES
