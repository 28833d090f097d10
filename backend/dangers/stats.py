"""The figures of ``danger.stats``, sans-I/O: counts, overdue, rectification and on-time
rates per enterprise, industry or jurisdiction, and the rank (docs/hidden-dangers.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from realtime.protocol import DangerGrade, DangerGroup, DangerState, DangerStatsRow

NO_INDUSTRY = "(未填行业)"
"""The name of the industry group of enterprises whose registry entry names none."""


@dataclass(frozen=True, slots=True)
class Fact:
    """What the statistics read of one hidden danger."""

    enterprise: str
    enterprise_name: str
    industry: str
    jurisdiction: str
    grade: DangerGrade
    state: DangerState
    deadline: dt.datetime | None
    rectified_at: dt.datetime | None
    overdue: bool
    """The checker marked it overdue once."""

    def late(self, now: dt.datetime) -> bool:
        """Overdue: marked so, or past its deadline now while not rectified, or rectified
        after it."""
        if self.overdue:
            return True
        if self.deadline is None:
            return False
        return (self.rectified_at or now) > self.deadline

    @property
    def rectified(self) -> bool:
        return self.state in {DangerState.RECTIFIED, DangerState.VERIFIED}

    def on_time(self) -> bool:
        """Rectified, and by its deadline (or it had none)."""
        if not self.rectified:
            return False
        return self.deadline is None or (
            self.rectified_at is not None and self.rectified_at <= self.deadline
        )


def key_of(group: DangerGroup, fact: Fact) -> str:
    """The group a danger counts in."""
    if group is DangerGroup.ENTERPRISE:
        return fact.enterprise
    if group is DangerGroup.INDUSTRY:
        return fact.industry
    return fact.jurisdiction


def figures(
    group: DangerGroup,
    facts: Iterable[Fact],
    now: dt.datetime,
    area_name: Callable[[str], str] = lambda code: code,
) -> list[DangerStatsRow]:
    """One row per group, best first (see :func:`rank`)."""
    grouped: dict[str, list[Fact]] = {}
    names: dict[str, str] = {}
    for fact in facts:
        key = key_of(group, fact)
        grouped.setdefault(key, []).append(fact)
        if group is DangerGroup.ENTERPRISE:
            names[key] = fact.enterprise_name or key
        elif group is DangerGroup.INDUSTRY:
            names[key] = key or NO_INDUSTRY
        else:
            names[key] = area_name(key) or key
    rows = [_row(key, names[key], members, now) for key, members in grouped.items()]
    return rank(rows)


def _row(key: str, name: str, facts: list[Fact], now: dt.datetime) -> DangerStatsRow:
    total = len(facts)
    rectified = sum(f.rectified for f in facts)
    on_time = sum(f.on_time() for f in facts)
    return DangerStatsRow(
        key=key,
        name=name,
        total=total,
        major=sum(f.grade is DangerGrade.MAJOR for f in facts),
        open=sum(f.state is not DangerState.VERIFIED for f in facts),
        overdue=sum(f.late(now) for f in facts),
        rectified=rectified,
        rectification_rate=round(rectified / total, 4) if total else 1.0,
        on_time_rate=round(on_time / rectified, 4) if rectified else 1.0,
        rank=0,
    )


def rank(rows: list[DangerStatsRow]) -> list[DangerStatsRow]:
    """Rows ordered best first — highest rectification rate, then fewest overdue — with
    their rank (equal figures share a rank, the next rank skips: 1, 1, 3)."""
    ordered = sorted(rows, key=lambda r: (-r.rectification_rate, r.overdue, r.key))
    ranked: list[DangerStatsRow] = []
    for index, row in enumerate(ordered):
        previous = ranked[-1] if ranked else None
        same = previous is not None and (previous.rectification_rate, previous.overdue) == (
            row.rectification_rate,
            row.overdue,
        )
        row.rank = previous.rank if same and previous is not None else index + 1
        ranked.append(row)
    return ranked
