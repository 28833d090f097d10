"""Assessment periods: a month (``2026-11``) or a quarter (``2026Q4``), from midnight
Asia/Shanghai on the first day to midnight on the first day of the next period."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from backend.errors import ValidationError

TIME_ZONE = "Asia/Shanghai"
"""The zone whose midnights bound a period (China Standard Time, UTC+8 all year)."""

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period, ``[starts, ends)`` in UTC."""

    label: str
    starts: dt.datetime
    ends: dt.datetime


def _midnight(year: int, month: int) -> dt.datetime:
    local = dt.datetime(year, month, 1, tzinfo=zoneinfo.ZoneInfo(TIME_ZONE))
    return local.astimezone(dt.UTC)


def _first_of_month_after(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def parse_period(text: str) -> Period:
    """The period ``text`` names: ``YYYY-MM`` or ``YYYYQn``; :class:`ValidationError`
    for anything else."""
    value = text.strip()
    if match := _MONTH.match(value):
        year, month, months = int(match[1]), int(match[2]), 1
        label = f"{year:04d}-{month:02d}"
    elif match := _QUARTER.match(value):
        year, quarter = int(match[1]), int(match[2])
        month, months = 3 * quarter - 2, 3
        label = f"{year:04d}Q{quarter}"
    else:
        raise ValidationError(
            f"period {value[:20]!r} must be a month (2026-11) or a quarter (2026Q4)"
        )
    if year < 1970:
        raise ValidationError(f"period {label}: no data before 1970")
    return Period(
        label, _midnight(year, month), _midnight(*_first_of_month_after(year, month, months))
    )
