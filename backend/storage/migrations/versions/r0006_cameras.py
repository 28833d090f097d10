"""Video cameras in the registry (map layer and video windows of the console).

Revision ID: r0006
Revises: r0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0006"
down_revision = "r0005"


def upgrade() -> None:
    """Add the cameras table (stream addresses encrypted, with a masked copy)."""
    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("hazard_source", sa.String(128), nullable=False),
        sa.Column("enterprise", sa.String(128), nullable=False),
        sa.Column("stream_url_enc", sa.Text, nullable=False),
        sa.Column("stream_url_masked", sa.String(1024), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
