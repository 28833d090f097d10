"""Re-encrypting the protected columns: what ``dutydesk keys status`` counts and
``dutydesk keys rotate`` rewrites.

Every column whose name ends in ``_enc`` holds ciphertext of the data key ring
(:class:`backend.security.FieldCipher`): callers' names, numbers and addresses and the
sensitive notes of alarms, cameras' stream addresses, and whatever later tables keep
under the same convention (a TOTP secret, say). Nothing here lists them by hand, so a
new ``*_enc`` column is rotated without anyone remembering to add it.

A rotation works in batches, each its own transaction, and writes a value only if it is
still what was read (a server may change a row meanwhile): stopping it at any point
leaves every value readable (old keys stay in the ring), and running it again carries on
with what is left.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Select, Table, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.security import Error as SecurityError
from backend.security import FieldCipher
from backend.storage.models import Base

logger = logging.getLogger(__name__)

BATCH = 500
"""Rows read and rewritten per transaction."""
ENCRYPTED_SUFFIX = "_enc"


class Error(Exception):
    """A protected value cannot be read with the ring (its key is missing or wrong)."""


def encrypted_columns() -> Iterator[tuple[Table, Column[int], list[Column[str]]]]:
    """Every table with ``*_enc`` columns: the table, its primary key and those columns."""
    for table in Base.metadata.sorted_tables:
        columns = [column for column in table.columns if column.name.endswith(ENCRYPTED_SUFFIX)]
        if not columns:
            continue
        (key,) = table.primary_key.columns
        yield table, key, columns


@dataclass(slots=True)
class KeyUsage:
    """How many stored values each key id encrypts, overall and per column."""

    by_key: collections.Counter[str] = field(default_factory=collections.Counter)
    by_column: dict[str, collections.Counter[str]] = field(default_factory=dict)

    def not_on(self, key_id: str) -> int:
        """Values encrypted with any key but ``key_id``."""
        return sum(count for other, count in self.by_key.items() if other != key_id)


async def usage(sessions: async_sessionmaker[AsyncSession]) -> KeyUsage:
    """Count the stored values per key id (reading ids only, decrypting nothing)."""
    result = KeyUsage()
    async with sessions() as session:
        for table, key, columns in encrypted_columns():
            for column in columns:
                result.by_column[f"{table.name}.{column.name}"] = collections.Counter()
            last: int | None = None
            while True:
                rows = (await session.execute(_batch(table, key, columns, last))).all()
                if not rows:
                    break
                for row in rows:
                    for column, value in zip(columns, row[1:], strict=True):
                        if value:
                            key_id = FieldCipher.key_id_of(value)
                            result.by_key[key_id] += 1
                            result.by_column[f"{table.name}.{column.name}"][key_id] += 1
                last = rows[-1][0]
    return result


@dataclass(slots=True)
class RotationReport:
    """What one run of :func:`reencrypt` did."""

    values: int = 0
    """Values re-encrypted with the primary key."""
    changed_meanwhile: int = 0
    """Rows changed by someone else between read and write (left for the next run)."""


async def reencrypt(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    *,
    batch: int | None = None,
    on_batch: Callable[[str, int], None] | None = None,
) -> RotationReport:
    """Re-encrypt every value not on the ring's primary key with it.

    ``batch`` rows are rewritten per transaction (default :data:`BATCH`);
    ``on_batch(table, values)`` is called after each committed batch (progress).
    Raises :class:`Error` naming the row and column of a value the ring cannot read.
    """
    report = RotationReport()
    size = batch or BATCH
    for table, key, columns in encrypted_columns():
        last: int | None = None
        while True:
            values = 0
            async with sessions.begin() as session:
                rows = (await session.execute(_batch(table, key, columns, last, size))).all()
                if not rows:
                    break
                for row in rows:
                    written = await _rewrite(session, cipher, table, key, columns, tuple(row))
                    if written is None:
                        report.changed_meanwhile += 1
                    else:
                        values += written
                last = rows[-1][0]
            report.values += values
            if on_batch is not None:
                on_batch(table.name, values)
    logger.info(
        "re-encrypted %s protected values with data key %s", report.values, cipher.primary_id
    )
    return report


async def _rewrite(  # noqa: PLR0917  (one call site, named by position there)
    session: AsyncSession,
    cipher: FieldCipher,
    table: Table,
    key: Column[int],
    columns: list[Column[str]],
    row: tuple[Any, ...],
) -> int | None:
    """Re-encrypt one row's values not on the primary key: how many were, or None when
    the row changed since it was read (it is left for the next run)."""
    changes: dict[str, str] = {}
    read: list[tuple[Column[str], str]] = []
    for column, value in zip(columns, row[1:], strict=True):
        try:
            fresh = cipher.reencrypt(value or "")
        except SecurityError as exc:
            raise Error(f"{table.name} {row[0]}, {column.name}: {exc}") from exc
        if fresh is not None:
            changes[column.name] = fresh
            read.append((column, value))
    if not changes:
        return 0
    # Only if still as read: a server may have changed it since.
    still = and_(key == row[0], *(column == value for column, value in read))
    result = await session.execute(update(table).where(still).values(**changes))
    if getattr(result, "rowcount", 1) == 0:
        return None
    return len(changes)


def _batch(
    table: Table,
    key: Column[int],
    columns: list[Column[str]],
    after: int | None,
    size: int = BATCH,
) -> Select[*tuple[Any, ...]]:
    query = select(key, *columns).order_by(key).limit(size)
    return query if after is None else query.where(key > after)
