"""Monthly partitions of the telemetry tables (``positions``, ``readings``) on PostgreSQL.

A province's fleet writes tens of millions of positions a day; deleting old rows row by
row costs as much as writing them, and leaves the table and its indexes bloated. On
PostgreSQL both tables are partitioned by month of ``at`` (migration r0024), so retention
drops whole months: ``DROP TABLE positions_y2026m01`` is instant and gives the space back.

Partitions are named ``<table>_yYYYYmMM`` and cover ``[first of the month, first of the
next)`` in UTC. A ``<table>_default`` partition catches rows outside every month (a
terminal whose clock is years off), so such a row never fails the whole group commit;
:func:`ensure_partitions` moves them into a month's partition when it creates it.

SQLite has no partitions: there :func:`apply_retention` deletes the rows of the months
past retention, so the same command keeps the same promise on both databases.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

logger = logging.getLogger(__name__)

PARTITIONED_TABLES = ("positions", "readings")
"""The telemetry tables partitioned by month on PostgreSQL."""

DEFAULT_MONTHS_AHEAD = 2
"""Months after the current one whose partitions are created in advance."""

_NAME = re.compile(r"^(?P<table>[a-z_]+)_y(?P<year>\d{4})m(?P<month>\d{2})$")


class Error(Exception):
    """A partition cannot be created or dropped as asked."""


def is_partition(name: str) -> bool:
    """Whether ``name`` is a month's (or the catch-all) partition of a partitioned table:
    made by the migration and `dutydesk db partitions`, not by the models, so schema
    comparisons leave them out."""
    for table in PARTITIONED_TABLES:
        if name == f"{table}_default" or month_of(name, table) is not None:
            return True
    return False


def month_start(at: dt.datetime | dt.date) -> dt.date:
    """The first day of ``at``'s month (UTC for a datetime)."""
    if isinstance(at, dt.datetime):
        at = at.astimezone(dt.UTC).date() if at.tzinfo is not None else at.date()
    return at.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``month`` (negative: before)."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: dt.date) -> str:
    """``positions_y2026m12`` for December 2026."""
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def month_of(name: str, table: str) -> dt.date | None:
    """The month a partition of ``table`` named ``name`` covers (None: not a month's)."""
    match = _NAME.match(name)
    if match is None or match["table"] != table:
        return None
    return dt.date(int(match["year"]), int(match["month"]), 1)


def _bound(month: dt.date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def _check_table(table: str) -> None:
    if table not in PARTITIONED_TABLES:
        raise Error(f"{table} is not a partitioned telemetry table")


async def is_partitioned(connection: AsyncConnection, table: str) -> bool:
    """Whether ``table`` is a partitioned table (always False on SQLite)."""
    if connection.dialect.name != "postgresql":
        return False
    kind = await connection.scalar(
        text("SELECT relkind::text FROM pg_class WHERE relname = :table AND relkind IN ('p', 'r')"),
        {"table": table},
    )
    return bool(kind == "p")


async def months(connection: AsyncConnection, table: str) -> list[dt.date]:
    """The months ``table`` has a partition for, oldest first."""
    _check_table(table)
    names = await connection.scalars(
        text(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
            "WHERE parent.relname = :table"
        ),
        {"table": table},
    )
    return sorted(month for name in names if (month := month_of(name, table)) is not None)


async def create_month(connection: AsyncConnection, table: str, month: dt.date) -> bool:
    """Create ``table``'s partition for ``month`` unless it exists (True: created),
    moving that month's rows out of the default partition first."""
    _check_table(table)
    month = month_start(month)
    if month in await months(connection, table):
        return False
    name = partition_name(table, month)
    low, high = _bound(month), _bound(add_months(month, 1))
    default = f"{table}_default"
    # A partition cannot be attached while the default one holds rows of its range.
    await connection.execute(
        text(
            f"CREATE TEMPORARY TABLE _moving ON COMMIT DROP AS SELECT * FROM {default} "  # noqa: S608 - table names from a fixed list, dates formatted here
            f"WHERE at >= '{low}' AND at < '{high}'"
        )
    )
    await connection.execute(text(f"DELETE FROM {default} WHERE at >= '{low}' AND at < '{high}'"))  # noqa: S608 - table names from a fixed list, dates formatted here
    await connection.execute(
        text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ('{low}') TO ('{high}')")
    )
    await connection.execute(text(f"INSERT INTO {table} SELECT * FROM _moving"))  # noqa: S608 - table names from a fixed list, dates formatted here
    await connection.execute(text("DROP TABLE _moving"))
    logger.info("created partition %s", name)
    return True


@dataclass(slots=True)
class PartitionReport:
    """What :func:`maintain` did."""

    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    rows_deleted: int = 0
    """Rows deleted instead (SQLite, where nothing is partitioned)."""


def retention_start(now: dt.datetime, keep_months: int) -> dt.date:
    """The first day of the oldest month kept: the current month and the ``keep_months``
    before it are kept (``keep_months`` ≥ 0)."""
    if keep_months < 0:
        raise Error(f"--keep-months must be 0 or more, not {keep_months}")
    return add_months(month_start(now), -keep_months)


async def ensure_partitions(
    connection: AsyncConnection,
    now: dt.datetime,
    *,
    ahead: int = DEFAULT_MONTHS_AHEAD,
    tables: Iterable[str] = PARTITIONED_TABLES,
) -> list[str]:
    """Create the partitions of the current month and ``ahead`` months after it for
    every partitioned table (a no-op on SQLite); returns the names created."""
    created: list[str] = []
    for table in tables:
        if not await is_partitioned(connection, table):
            continue
        for offset in range(ahead + 1):
            month = add_months(month_start(now), offset)
            if await create_month(connection, table, month):
                created.append(partition_name(table, month))
    return created


async def maintain(
    connection: AsyncConnection,
    now: dt.datetime,
    keep_months: int | None,
    *,
    ahead: int = DEFAULT_MONTHS_AHEAD,
) -> PartitionReport:
    """Create the coming months' partitions and, with ``keep_months``, drop the months
    before :func:`retention_start` (on SQLite: delete their rows)."""
    report = PartitionReport(created=await ensure_partitions(connection, now, ahead=ahead))
    if keep_months is None:
        return report
    first_kept = retention_start(now, keep_months)
    for table in PARTITIONED_TABLES:
        if await is_partitioned(connection, table):
            for month in await months(connection, table):
                if add_months(month, 1) <= first_kept:
                    name = partition_name(table, month)
                    await connection.execute(text(f"DROP TABLE {name}"))
                    logger.info("dropped partition %s (older than %s)", name, first_kept)
                    report.dropped.append(name)
            # Stray rows of the dropped months in the default partition go too.
            await connection.execute(
                text(f"DELETE FROM {table}_default WHERE at < '{_bound(first_kept)}'")  # noqa: S608 - table names from a fixed list, dates formatted here
            )
        else:
            cutoff = dt.datetime.combine(first_kept, dt.time(), dt.UTC)
            result = await connection.execute(
                text(f"DELETE FROM {table} WHERE at < :cutoff"),  # noqa: S608 - table names from a fixed list, dates formatted here
                {"cutoff": _db_time(connection, cutoff)},
            )
            report.rows_deleted += max(result.rowcount, 0)
    return report


def _db_time(connection: AsyncConnection, at: dt.datetime) -> object:
    # SQLite stores UTCDateTime as naive UTC text (backend.storage.types).
    if connection.dialect.name == "sqlite":
        return at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return at
