"""The registry (台账): ``registry_items``, one row per enterprise, major hazard source,
emergency team, equipment, shelter, expert, protection target and emergency plan.

Revision ID: r0017
Revises: r0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0017"
down_revision = "r0016"


def upgrade() -> None:
    op.create_table(
        "registry_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("jurisdiction", sa.String(32), nullable=False, server_default=""),
        sa.Column("agency", sa.String(64), nullable=False, server_default=""),
        sa.Column("address", sa.String(200), nullable=False, server_default=""),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("contacts_enc", sa.Text(), nullable=False, server_default=""),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False, server_default=""),
        sa.UniqueConstraint("kind", "code", name="uq_registry_items_kind_code"),
    )
    op.create_index(
        "ix_registry_items_kind_jurisdiction", "registry_items", ["kind", "jurisdiction"]
    )
    op.create_index("ix_registry_items_lat_lon", "registry_items", ["lat", "lon"])


def downgrade() -> None:
    op.drop_index("ix_registry_items_lat_lon", table_name="registry_items")
    op.drop_index("ix_registry_items_kind_jurisdiction", table_name="registry_items")
    op.drop_table("registry_items")
