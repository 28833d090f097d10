"""Where dispatchable units are based (for the map's teams layer).

Revision ID: r0005
Revises: r0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0005"
down_revision = "r0004"


def upgrade() -> None:
    """Add a WGS-84 base position to units (unknown for existing rows)."""
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("lat", sa.Float, nullable=True))
        batch.add_column(sa.Column("lon", sa.Float, nullable=True))
