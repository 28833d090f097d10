"""What the vehicle rules remember per vehicle: plain, copyable dataclasses.

:class:`VehicleState` holds the last accepted fix, the last contact and each rule's state
by rule id; the engine exports copies of it and accepts them back on restart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypeVar


@dataclass(slots=True)
class ConditionState:
    """A debounced condition: pending until it held long enough, then active until its
    clearing condition held long enough. ``episode`` names the night for night driving."""

    active: bool = False
    pending_since: dt.datetime | None = None
    started_at: dt.datetime | None = None
    peak: float = 0.0
    episode: str = ""

    def copy(self) -> ConditionState:
        """An independent copy (by hand: ``copy.copy`` costs ten times as much, and the
        engine copies every rule state of a batch's vehicles before judging it)."""
        return ConditionState(
            self.active, self.pending_since, self.started_at, self.peak, self.episode
        )


@dataclass(slots=True)
class DwellState:
    """Which side of a geofence a vehicle is confirmed on (None before its first fix), and
    the side it may be moving to."""

    inside: bool | None = None
    candidate: bool | None = None
    pending_since: dt.datetime | None = None

    def copy(self) -> DwellState:
        """An independent copy."""
        return DwellState(self.inside, self.candidate, self.pending_since)


@dataclass(slots=True)
class ParkingState:
    """The current stop (where and since when) and whether it has been reported."""

    anchor_lat: float | None = None
    anchor_lon: float | None = None
    stopped_since: dt.datetime | None = None
    active: bool = False

    def copy(self) -> ParkingState:
        """An independent copy."""
        return ParkingState(self.anchor_lat, self.anchor_lon, self.stopped_since, self.active)


@dataclass(slots=True)
class TerminalAlarmState:
    """The watched alarm bits set in the last evaluated fix."""

    names: frozenset[str] = frozenset()

    def copy(self) -> TerminalAlarmState:
        """An independent copy."""
        return TerminalAlarmState(self.names)


RuleState = ConditionState | DwellState | ParkingState | TerminalAlarmState

_StateT = TypeVar("_StateT", ConditionState, DwellState, ParkingState, TerminalAlarmState)


@dataclass(slots=True)
class VehicleState:
    """Everything the engine remembers about one vehicle (plain data, copyable).

    ``last_fix_at``/``last_lat``/``last_lon``: the last accepted live fix.
    ``last_contact_at``: the latest contact of any kind (for the offline rule).
    ``clock_ahead``: the last fix was stamped too far ahead of its receive time.
    ``rules``: each rule's state by rule id.
    """

    vehicle: str
    last_fix_at: dt.datetime | None = None
    last_lat: float | None = None
    last_lon: float | None = None
    last_contact_at: dt.datetime | None = None
    clock_ahead: bool = False
    rules: dict[str, RuleState] = field(default_factory=dict)

    def copy(self) -> VehicleState:
        """An independent copy (cheap: every rule state holds immutable values only)."""
        return VehicleState(
            vehicle=self.vehicle,
            last_fix_at=self.last_fix_at,
            last_lat=self.last_lat,
            last_lon=self.last_lon,
            last_contact_at=self.last_contact_at,
            clock_ahead=self.clock_ahead,
            rules={rule_id: state.copy() for rule_id, state in self.rules.items()},
        )

    def rule_state(self, rule_id: str, kind: type[_StateT]) -> _StateT:
        """The state of ``rule_id``, created fresh if missing or of another kind."""
        state = self.rules.get(rule_id)
        if not isinstance(state, kind):
            state = kind()
            self.rules[rule_id] = state
        return state
