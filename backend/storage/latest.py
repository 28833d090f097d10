"""The newest row per key of a time-series table, for many keys in one statement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import FromClause, ScalarSelect, select


def newest_row_id(
    table: FromClause, key: str, outer_table: FromClause, outer_key: str
) -> ScalarSelect[Any]:
    """The id of ``table``'s newest row (by ``at``) whose ``key`` equals ``outer_key`` of
    the enclosing query's ``outer_table``.

    Joined on ``table.c.id`` it gives the newest row for each outer row: one backward seek
    of the table's ``(key, at)`` index per outer row, all inside the database (no round
    trip per key).
    """
    candidates = table.alias("candidates")
    return (
        select(candidates.c.id)
        .where(candidates.c[key] == outer_table.c[outer_key])
        .order_by(candidates.c.at.desc())
        .limit(1)
        .correlate(outer_table)
        .scalar_subquery()
    )
