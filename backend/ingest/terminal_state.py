"""Per-terminal state that must follow a terminal from one process to another.

With several gateway workers (``dutydesk serve --workers N``) or several instances, a
terminal whose connection breaks may reconnect to another process. What the first
process remembered about it decides whether an alarm is raised: the alarm bits of its
last acknowledged live report (a bit still set is not a new rising edge) and its vehicle
rules' state (an overspeed already reported, the side of a geofence it is on). Without
them the new process would raise those alarms a second time.

:class:`TerminalStates` keeps that state in the table ``terminal_states`` (one row per
device) and in memory. It is written only when it changes (alarm bits change rarely, rule
state only with a rule decision), after the alarms the change stands for are durable and
before the terminal is acknowledged; it is read back whenever the terminal authenticates,
so the database, never an older copy in this process, is what a reconnect resumes from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.storage.models import TerminalStateRow
from backend.vehicles.rules.state import (
    ConditionState,
    DwellState,
    ParkingState,
    RuleState,
    TerminalAlarmState,
    VehicleState,
)

logger = logging.getLogger(__name__)


_IN_CHUNK = 500
"""Devices per IN (...) query: well under every database's parameter limit."""


class Error(Exception):
    """A stored terminal state cannot be read back."""


_RULE_KINDS: dict[str, type[RuleState]] = {
    "condition": ConditionState,
    "dwell": DwellState,
    "parking": ParkingState,
    "terminal_alarms": TerminalAlarmState,
}
_KIND_OF: dict[type[Any], str] = {cls: name for name, cls in _RULE_KINDS.items()}


def encode_rules(state: VehicleState) -> str:
    """The rules' part of ``state`` as JSON ("" when it holds none): what a reconnect
    needs not to decide an alarm twice (the last fix and contact times stay behind)."""
    if not state.rules:
        return ""
    rules = {
        rule_id: [_KIND_OF[type(rule)], msgspec.to_builtins(dataclasses.asdict(rule))]
        for rule_id, rule in sorted(state.rules.items())
    }
    return msgspec.json.encode(rules).decode()


def decode_rules(vehicle: str, text: str) -> VehicleState:
    """A :class:`VehicleState` holding the rules' state ``text`` (from
    :func:`encode_rules`); raise :class:`Error` when the text is not one."""
    state = VehicleState(vehicle=vehicle)
    if not text:
        return state
    try:
        rules = msgspec.json.decode(text, type=dict[str, tuple[str, dict[str, Any]]])
        for rule_id, (kind, fields) in rules.items():
            state.rules[rule_id] = msgspec.convert(fields, type=_RULE_KINDS[kind], strict=False)
    except (msgspec.ValidationError, msgspec.DecodeError, KeyError) as exc:
        raise Error(f"stored rule state of {vehicle} is unreadable: {exc}") from exc
    return state


@dataclasses.dataclass(frozen=True, slots=True)
class Remembered:
    """One terminal's state as stored."""

    alarms: frozenset[str] = frozenset()
    """Names of the alarm bits set in its last acknowledged live report."""
    rules: str = ""
    """Its vehicle rules' state (:func:`encode_rules`)."""


class TerminalStates:
    """Stored per-terminal state of one device kind (e.g. ``jt808``)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], kind: str) -> None:
        self._sessions = sessions
        self.kind = kind
        self._known: dict[str, Remembered] = {}
        """What the table holds for each device this process has restored or written."""

    def known(self, device: str) -> Remembered | None:
        """What this process last read or wrote for ``device`` (None: nothing yet)."""
        return self._known.get(device)

    async def restore(self, device: str) -> Remembered:
        """Read ``device``'s stored state (empty when none) and remember it."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(TerminalStateRow).where(
                    TerminalStateRow.kind == self.kind, TerminalStateRow.device == device
                )
            )
        remembered = (
            Remembered(frozenset(filter(None, row.alarms.split(","))), row.rules)
            if row is not None
            else Remembered()
        )
        self._known[device] = remembered
        return remembered

    async def restore_many(self, devices: Collection[str]) -> dict[str, Remembered]:
        """Read these devices' stored states (empty when none) in one query per 500, and
        remember them (the offline sweep takes over many vehicles at once)."""
        wanted = sorted(set(devices))
        found = dict.fromkeys(wanted, Remembered())
        async with self._sessions() as session:
            for start in range(0, len(wanted), _IN_CHUNK):
                rows = await session.scalars(
                    select(TerminalStateRow).where(
                        TerminalStateRow.kind == self.kind,
                        TerminalStateRow.device.in_(wanted[start : start + _IN_CHUNK]),
                    )
                )
                for row in rows:
                    found[row.device] = Remembered(
                        frozenset(filter(None, row.alarms.split(","))), row.rules
                    )
        self._known.update(found)
        return found

    async def save(self, changes: Mapping[str, Remembered]) -> None:
        """Store ``changes`` (device → new state) in one transaction, skipping any that
        equal what is known to be stored."""
        pending = {
            device: state for device, state in changes.items() if self._known.get(device) != state
        }
        if not pending:
            return
        now = dt.datetime.now(dt.UTC)
        rows = [
            {
                "kind": self.kind,
                "device": device,
                "alarms": ",".join(sorted(state.alarms)),
                "rules": state.rules,
                "updated_at": now,
            }
            for device, state in sorted(pending.items())
        ]
        async with self._sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            statement = insert(TerminalStateRow).values(rows)
            statement = statement.on_conflict_do_update(
                index_elements=["kind", "device"],
                set_={
                    "alarms": statement.excluded.alarms,
                    "rules": statement.excluded.rules,
                    "updated_at": statement.excluded.updated_at,
                },
            )
            await session.execute(statement)
        self._known.update(pending)

    def with_alarms(self, device: str, alarms: frozenset[str]) -> Remembered:
        """``device``'s known state with these alarm bits."""
        known = self._known.get(device) or Remembered()
        return dataclasses.replace(known, alarms=alarms)

    def with_rules(self, device: str, rules: str, base: Remembered | None = None) -> Remembered:
        """``device``'s known state (or ``base``) with this rules' state."""
        known = base or self._known.get(device) or Remembered()
        return dataclasses.replace(known, rules=rules)

    def forget(self, devices: Iterable[str]) -> None:
        """Drop what is remembered of ``devices`` (read again at their next restore)."""
        for device in devices:
            self._known.pop(device, None)
