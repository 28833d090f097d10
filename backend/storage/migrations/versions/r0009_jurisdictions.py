"""Jurisdictions: the imported towns and villages, and every existing row placed.

The ``jurisdictions`` table holds towns/streets and villages/communities imported by
``dutydesk jurisdiction import`` (the upper levels come from the shipped basemap). The
back-fill places what already exists with the basemap's tree (nothing is imported yet
when this runs):

- ``positions`` with no jurisdiction: where the fix lies;
- ``alarms`` with coordinates: placed where empty, or refined where the placed code lies
  inside the given one (an officer's choice is never moved to another area);
- ``sensors``, ``cameras`` and ``units`` with coordinates: where they stand
  (:func:`backend.jurisdictions.placing.settle`: placed wins).

Rows are read in batches of :data:`BATCH` by id and updated per code with one statement,
so memory stays flat however large ``positions`` is. The batches share the migration's
transaction: the schema version and the data move together, and an interrupted upgrade is
simply run again.

Revision ID: r0009
Revises: r0008
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from backend.jurisdictions.placing import refine, settle
from backend.jurisdictions.tree import JurisdictionTree
from backend.storage.types import UTCDateTime

revision = "r0009"
down_revision = "r0008"

logger = logging.getLogger(__name__)

BATCH = 5_000
"""Rows read, placed and updated at a time."""


def upgrade() -> None:
    """Create ``jurisdictions`` and place the existing rows."""
    op.create_table(
        "jurisdictions",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("parent", sa.String(32), nullable=False, index=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("boundary", sa.Text, nullable=False),
        sa.Column("min_lon", sa.Float, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("max_lon", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
    )
    backfill(op.get_bind())


def backfill(bind: sa.Connection, tree: JurisdictionTree | None = None) -> dict[str, int]:
    """Place the existing rows; return how many rows of each table changed."""
    tree = tree or JurisdictionTree()
    placed_wins: Callable[[str, str], str] = lambda given, placed: settle(given, placed).code  # noqa: E731
    changed = {
        "positions": _place_table(bind, tree, "positions", placed_wins, only_unplaced=True),
        "alarms": _place_table(bind, tree, "alarms", refine),
        "sensors": _place_table(bind, tree, "sensors", placed_wins),
        "cameras": _place_table(bind, tree, "cameras", placed_wins),
        "units": _place_table(bind, tree, "units", placed_wins),
    }
    if any(changed.values()):
        logger.info("placed existing rows: %s", changed)
    return changed


def _place_table(
    bind: sa.Connection,
    tree: JurisdictionTree,
    table: str,
    decide: Callable[[str, str], str],
    *,
    only_unplaced: bool = False,
) -> int:
    rows_table = sa.table(
        table,
        sa.column("id", sa.Integer),
        sa.column("lat", sa.Float),
        sa.column("lon", sa.Float),
        sa.column("jurisdiction", sa.String),
    )
    started = time.monotonic()
    changed = 0
    last_id = 0
    while True:
        query = (
            sa.select(
                rows_table.c.id, rows_table.c.lat, rows_table.c.lon, rows_table.c.jurisdiction
            )
            .where(
                rows_table.c.id > last_id,
                rows_table.c.lat.is_not(None),
                rows_table.c.lon.is_not(None),
            )
            .order_by(rows_table.c.id)
            .limit(BATCH)
        )
        if only_unplaced:
            query = query.where(rows_table.c.jurisdiction == "")
        rows = bind.execute(query).all()
        if not rows:
            break
        last_id = rows[-1][0]
        placed = tree.place_many([row[1] for row in rows], [row[2] for row in rows])
        updates: dict[str, list[int]] = {}
        for (row_id, _lat, _lon, current), code in zip(rows, placed, strict=True):
            new = decide(current or "", code)
            if new != (current or ""):
                updates.setdefault(new, []).append(row_id)
        for code, ids in updates.items():
            bind.execute(
                sa.update(rows_table).where(rows_table.c.id.in_(ids)).values(jurisdiction=code)
            )
            changed += len(ids)
    if changed:
        logger.info("%s: %s rows placed in %.1f s", table, changed, time.monotonic() - started)
    return changed


def downgrade() -> None:
    """Drop the imported towns and villages (placed codes stay: they are still right)."""
    op.drop_table("jurisdictions")
