"""Every stored fix carries the jurisdiction it lies in (issue 14: everything is placed).

Existing fixes keep "" (unplaced) here; placing them is the jurisdiction migration's
back-fill, which needs the jurisdiction tree.

Revision ID: r0008
Revises: r0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0008"
down_revision = "r0007"


def upgrade() -> None:
    """Add ``positions.jurisdiction`` ("" for existing rows)."""
    with op.batch_alter_table("positions") as batch:
        batch.add_column(
            sa.Column("jurisdiction", sa.String(32), nullable=False, server_default="")
        )
