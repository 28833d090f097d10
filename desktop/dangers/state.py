"""The board's plain state: the hidden dangers the console holds, the filter, and which
actions the user's role may take on one (a courtesy: the server decides)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping

from realtime.protocol import DangerAction, DangerGrade, DangerState, HiddenDangerView, Role

_S = DangerState
_STAFF = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
ACTIONS: Mapping[DangerAction, tuple[frozenset[DangerState], frozenset[Role]]] = {
    DangerAction.ASSIGN: (frozenset({_S.REPORTED}), _STAFF | {Role.ENTERPRISE}),
    DangerAction.START: (frozenset({_S.ASSIGNED}), _STAFF | {Role.ENTERPRISE}),
    DangerAction.COMPLETE: (
        frozenset({_S.RECTIFYING, _S.OVERDUE, _S.SUPERVISED}),
        _STAFF | {Role.ENTERPRISE},
    ),
    DangerAction.VERIFY: (frozenset({_S.RECTIFIED}), _STAFF),
    DangerAction.REJECT: (frozenset({_S.RECTIFIED}), _STAFF),
    DangerAction.SUPERVISE: (frozenset({_S.OVERDUE}), frozenset({Role.SUPERVISOR, Role.ADMIN})),
}
"""Each action: the states it starts from and the roles that may take it (as
docs/hidden-dangers.md states them)."""


def actions_for(role: Role | None, danger: HiddenDangerView | None) -> list[DangerAction]:
    """The actions ``role`` may take on ``danger`` now."""
    if role is None or danger is None:
        return []
    return [
        action
        for action, (states, roles) in ACTIONS.items()
        if danger.state in states and role in roles
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class BoardFilter:
    """What the board shows."""

    state: DangerState | None = None
    grade: DangerGrade | None = None
    enterprise: str = ""
    """Part of the enterprise's code or name."""
    overdue_only: bool = False

    def matches(self, danger: HiddenDangerView) -> bool:
        """Whether ``danger`` passes."""
        if self.state is not None and danger.state is not self.state:
            return False
        if self.grade is not None and danger.grade is not self.grade:
            return False
        if self.overdue_only and not danger.overdue:
            return False
        text = self.enterprise.strip().lower()
        return not text or text in danger.enterprise.lower() or text in danger.enterprise_name


def late_now(danger: HiddenDangerView, now: dt.datetime) -> bool:
    """Overdue (marked so, or open past its deadline now): the row is highlighted."""
    if danger.overdue:
        return True
    return (
        danger.deadline is not None
        and danger.rectified_at is None
        and danger.state is not DangerState.VERIFIED
        and danger.deadline < now
    )


class DangerBoard:
    """The hidden dangers the console holds, by id."""

    def __init__(self) -> None:
        self.dangers: dict[int, HiddenDangerView] = {}

    def replace(self, dangers: Iterable[HiddenDangerView]) -> None:
        """Hold exactly ``dangers`` (a fresh list from the server)."""
        self.dangers = {d.id: d for d in dangers}

    def apply(self, danger: HiddenDangerView) -> bool:
        """Take a newer view (from an event or an answer); return whether it changed."""
        held = self.dangers.get(danger.id)
        if held is not None and held.version > danger.version:
            return False
        self.dangers[danger.id] = danger
        return True

    def shown(self, spec: BoardFilter) -> list[HiddenDangerView]:
        """The dangers the filter passes, overdue first, then newest first."""
        passing = [d for d in self.dangers.values() if spec.matches(d)]
        return sorted(passing, key=lambda d: (not d.overdue, -d.id))
