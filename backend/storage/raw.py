"""Values and placeholders for statements sent to the driver as they are.

The hot write paths (telemetry rows, last-seen times) skip SQLAlchemy's per-row parameter
processing, which costs several times the write itself; they build the driver's own
values here, the same ones ``backend.storage.types.UTCDateTime`` would bind.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

TimeConverter = Callable[[dt.datetime], object]


class Error(Exception):
    """The database driver's parameter style or dialect is not supported here."""


def aware_utc(at: dt.datetime) -> dt.datetime:
    """``at`` itself, refused if naive (PostgreSQL stores the instant)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return at


@functools.lru_cache(maxsize=16_384)
def sqlite_time(at: dt.datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text for ``at``: naive UTC, always with microseconds.

    Cached: terminals report whole seconds, so a busy second's fixes share their times,
    and formatting one cost ~3 µs (on the event loop, for every stored row). Equal
    instants in other zones hash alike and have the same UTC text.
    """
    utc = at if at.tzinfo is dt.UTC else aware_utc(at).astimezone(dt.UTC)
    return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def time_converter(dialect: str) -> TimeConverter:
    """How a UTC column's value is passed to the driver of ``dialect``."""
    return sqlite_time if dialect == "sqlite" else aware_utc


def placeholders(paramstyle: str, count: int) -> list[str]:
    """``count`` parameter markers in the driver's style (numbered from 1)."""
    if paramstyle == "qmark":
        return ["?"] * count
    if paramstyle == "numeric_dollar":
        return [f"${number}" for number in range(1, count + 1)]
    if paramstyle == "format":
        return ["%s"] * count
    raise Error(f"parameter style {paramstyle!r} is not supported")
