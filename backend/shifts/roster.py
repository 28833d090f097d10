"""The duty roster (值班表): who is on duty at which desk, when.

A desk is a jurisdiction code plus, for an agency's desk, the agency. Each entry is one
person's shift at one desk on one duty date, in a position (``leader`` 带班领导,
``officer`` 值班员, ``agency_desk``), with its start and end in UTC.

A roster file (CSV, UTF-8, a header row) is checked whole before anything is written:
one bad row and nothing is imported, and the answer lists every bad row by its line.
An import replaces the entries of each desk and date the file names (a corrected file is
simply imported again).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz.policy import in_jurisdiction
from backend.authz.principal import Principal
from backend.errors import ValidationError
from backend.storage.models import RosterEntry, User
from backend.storage.types import as_utc
from realtime.protocol import RosterEntryView, RosterPosition

COLUMNS: Final = ("date", "jurisdiction", "agency", "position", "username", "start", "end")
"""The header a roster file must have (in this order)."""
MAX_SHIFT: Final = dt.timedelta(hours=48)
MAX_ROWS: Final = 20_000
AHEAD: Final = dt.timedelta(hours=24)
"""``roster.today`` shows the shifts on now and those starting within this long."""

_CODE_RE = re.compile(r"[0-9]{2,32}")
_AGENCY_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")

Clock = Callable[[], dt.datetime]


class RosterError(ValidationError):
    """A roster file or entry that cannot be taken; ``problems`` lists each bad row."""

    def __init__(self, problems: Sequence[str]) -> None:
        shown = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} bad row(s), nothing imported: {shown}{more}")
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class Shift:
    """One checked roster entry, not stored yet."""

    duty_date: dt.date
    jurisdiction: str
    agency: str
    position: RosterPosition
    username: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class Desk:
    """Who a user is, for checking that they may sit at a desk."""

    jurisdiction: str
    agency: str


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _time(value: str, what: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a time like 2026-12-05T00:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{what} {value!r} has no offset (write Z for UTC, or +08:00)")
    return as_utc(parsed)


def check_shift(fields: Mapping[str, str], users: Mapping[str, Desk]) -> Shift:
    """Check one entry (CSV row or command-line options); :class:`ValueError` says why."""
    try:
        duty_date = dt.date.fromisoformat(fields["date"].strip())
    except ValueError:
        raise ValueError(f"date {fields['date']!r} is not like 2026-12-05") from None
    jurisdiction = fields["jurisdiction"].strip()
    if jurisdiction and not _CODE_RE.fullmatch(jurisdiction):
        raise ValueError(f"jurisdiction {jurisdiction!r} is not a region code (digits)")
    agency = fields["agency"].strip()
    if agency and not _AGENCY_RE.fullmatch(agency):
        raise ValueError(f"agency {agency!r} is not an agency code like 'fire'")
    try:
        position = RosterPosition(fields["position"].strip())
    except ValueError:
        choices = ", ".join(position.value for position in RosterPosition)
        raise ValueError(f"position {fields['position']!r} is not one of {choices}") from None
    if position is RosterPosition.AGENCY_DESK and not agency:
        raise ValueError("an agency_desk shift needs the agency")
    username = fields["username"].strip()
    desk = users.get(username)
    if desk is None:
        raise ValueError(f"no user {username!r}")
    if not jurisdiction.startswith(desk.jurisdiction) or desk.agency not in ("", agency):
        raise ValueError(
            f"user {username!r} belongs to {desk.jurisdiction or 'the whole area'}"
            f"{'/' + desk.agency if desk.agency else ''}, not to this desk"
        )
    start = _time(fields["start"], "start")
    end = _time(fields["end"], "end")
    if not start < end <= start + MAX_SHIFT:
        raise ValueError(
            f"the shift {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC must "
            f"end after it starts, within {MAX_SHIFT.total_seconds() / 3600:.0f} h"
        )
    return Shift(duty_date, jurisdiction, agency, position, username, start, end)


def parse_csv(text: str, users: Mapping[str, Desk]) -> list[Shift]:
    """Every entry of a roster file, checked; :class:`RosterError` lists every bad row."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in next(reader, [])]
    if tuple(header) != COLUMNS:
        raise RosterError([f"line 1: the header must be {','.join(COLUMNS)}"])
    shifts: list[Shift] = []
    problems: list[str] = []
    seen: dict[tuple[object, ...], int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if line > MAX_ROWS + 1:
            problems.append(f"more than {MAX_ROWS} rows: split the file")
            break
        if len(row) != len(COLUMNS):
            problems.append(f"line {line}: {len(row)} columns, expected {len(COLUMNS)}")
            continue
        try:
            shift = check_shift(dict(zip(COLUMNS, row, strict=True)), users)
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        key = (
            shift.duty_date,
            shift.jurisdiction,
            shift.agency,
            shift.position,
            shift.username,
            shift.start,
        )
        if key in seen:
            problems.append(f"line {line}: the same shift as line {seen[key]}")
            continue
        seen[key] = line
        shifts.append(shift)
    if problems:
        raise RosterError(problems)
    return shifts


class Roster:
    """Reads and writes the duty roster."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, clock: Clock = _utc_now
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    async def users(self) -> dict[str, Desk]:
        """Every user's desk (to check roster entries against)."""
        async with self._sessions() as session:
            rows = await session.execute(select(User.username, User.jurisdiction, User.agency))
            return {name: Desk(area or "", agency or "") for name, area, agency in rows}

    async def import_csv(self, text: str) -> int:
        """Import a roster file, all or nothing; return how many entries it holds now."""
        shifts = parse_csv(text, await self.users())
        desks = {(shift.duty_date, shift.jurisdiction, shift.agency) for shift in shifts}
        async with self._sessions() as session, session.begin():
            for chunk in _chunks(sorted(desks), 300):
                await session.execute(
                    delete(RosterEntry).where(
                        tuple_(
                            RosterEntry.duty_date, RosterEntry.jurisdiction, RosterEntry.agency
                        ).in_(chunk)
                    )
                )
            session.add_all(_record(shift) for shift in shifts)
        return len(shifts)

    async def set(self, fields: Mapping[str, str]) -> Shift:
        """Add one entry (or keep it if it is there)."""
        try:
            shift = check_shift(fields, await self.users())
        except ValueError as exc:
            raise RosterError([str(exc)]) from None
        async with self._sessions() as session, session.begin():
            existing = await session.scalar(
                select(RosterEntry.id).where(
                    RosterEntry.duty_date == shift.duty_date,
                    RosterEntry.jurisdiction == shift.jurisdiction,
                    RosterEntry.agency == shift.agency,
                    RosterEntry.position == shift.position.value,
                    RosterEntry.username == shift.username,
                    RosterEntry.shift_start == shift.start,
                )
            )
            if existing is None:
                session.add(_record(shift))
        return shift

    async def on_date(self, duty_date: dt.date) -> list[RosterEntryView]:
        """Every entry of a duty date, by desk and start."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(RosterEntry)
                .where(RosterEntry.duty_date == duty_date)
                .order_by(RosterEntry.jurisdiction, RosterEntry.agency, RosterEntry.shift_start)
            )
            return await self._views(session, list(rows), self._now())

    async def today(self, principal: Principal) -> tuple[dt.datetime, list[RosterEntryView]]:
        """The shifts on now and starting within a day at the desks of the principal's
        area (an agency's user: that agency's desks)."""
        now = self._now()
        async with self._sessions() as session:
            query = select(RosterEntry).where(
                RosterEntry.shift_end > now, RosterEntry.shift_start < now + AHEAD
            )
            if principal.jurisdiction:
                query = query.where(RosterEntry.jurisdiction.startswith(principal.jurisdiction))
            if principal.agency is not None:
                query = query.where(RosterEntry.agency == principal.agency)
            rows = await session.scalars(
                query.order_by(
                    RosterEntry.jurisdiction, RosterEntry.agency, RosterEntry.shift_start
                )
            )
            entries = [row for row in rows if in_jurisdiction(principal, row.jurisdiction)]
            return now, await self._views(session, entries, now)

    async def next_on_duty(
        self, jurisdiction: str, agency: str, after: dt.datetime, *, besides: str
    ) -> str:
        """The officer of the desk's next shift (starting from an hour before ``after``),
        not ``besides``: the default incoming officer of a handover; ``""`` if none."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(RosterEntry)
                .where(
                    RosterEntry.jurisdiction == jurisdiction,
                    RosterEntry.agency == agency,
                    RosterEntry.shift_start >= after - dt.timedelta(hours=1),
                    RosterEntry.shift_start < after + AHEAD,
                    RosterEntry.username != besides,
                )
                .order_by(RosterEntry.shift_start, RosterEntry.id)
            )
            candidates = list(rows)
        for wanted in (RosterPosition.OFFICER, RosterPosition.AGENCY_DESK, RosterPosition.LEADER):
            for row in candidates:
                if row.position == wanted.value:
                    return row.username
        return ""

    async def shift_of(
        self, username: str, at: dt.datetime
    ) -> tuple[dt.datetime, dt.datetime] | None:
        """The user's shift that covers ``at`` (or ended in the hour before it)."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(RosterEntry)
                .where(
                    RosterEntry.username == username,
                    RosterEntry.shift_start <= at,
                    RosterEntry.shift_end > at - dt.timedelta(hours=1),
                )
                .order_by(RosterEntry.shift_start.desc())
                .limit(1)
            )
            return (row.shift_start, row.shift_end) if row is not None else None

    def _now(self) -> dt.datetime:
        return as_utc(self._clock())

    async def _views(
        self, session: AsyncSession, rows: Sequence[RosterEntry], now: dt.datetime
    ) -> list[RosterEntryView]:
        names = {row.username for row in rows}
        display: dict[str, str] = {}
        if names:
            found = await session.execute(
                select(User.username, User.display_name).where(User.username.in_(names))
            )
            display = {name: shown for name, shown in found}
        return [
            RosterEntryView(
                duty_date=row.duty_date,
                jurisdiction=row.jurisdiction,
                agency=row.agency,
                position=RosterPosition(row.position),
                username=row.username,
                display_name=display.get(row.username, ""),
                shift_start=row.shift_start,
                shift_end=row.shift_end,
                on_duty=row.shift_start <= now < row.shift_end,
            )
            for row in rows
        ]


def _record(shift: Shift) -> RosterEntry:
    return RosterEntry(
        duty_date=shift.duty_date,
        jurisdiction=shift.jurisdiction,
        agency=shift.agency,
        position=shift.position.value,
        username=shift.username,
        shift_start=shift.start,
        shift_end=shift.end,
    )


def _chunks(
    items: Sequence[tuple[dt.date, str, str]], size: int
) -> Iterable[Sequence[tuple[dt.date, str, str]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
