"""Geofences, no-go zones, speed zones and route corridors edited from the console.

Revision ID: r0004
Revises: r0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0004"
down_revision = "r0003"


def upgrade() -> None:
    """Add the geofences table."""
    op.create_table(
        "geofences",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("shape", sa.JSON, nullable=False),
        sa.Column("limit_kmh", sa.Float, nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("dwell_s", sa.Float, nullable=False),
        sa.Column("vehicles", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
