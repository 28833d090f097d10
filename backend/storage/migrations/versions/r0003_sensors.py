"""Sensor registry with threshold rules, five-minute reading statistics, time indexes.

Revision ID: r0003
Revises: r0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0003"
down_revision = "r0002"


def upgrade() -> None:
    """Add sensors, reading rollups and the time-series progress row."""
    op.create_table(
        "sensors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sensor_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("placement", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("poll_cycle_seconds", sa.Float, nullable=False),
        sa.Column("site_kind", sa.String(16), nullable=False),
        sa.Column("hazard_source", sa.String(128), nullable=False),
        sa.Column("enterprise", sa.String(128), nullable=False),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "reading_rollups",
        sa.Column("sensor", sa.String(64), primary_key=True),
        sa.Column("bucket_start", UTCDateTime(), primary_key=True),
        sa.Column("min", sa.Float, nullable=False),
        sa.Column("max", sa.Float, nullable=False),
        sa.Column("mean", sa.Float, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    # Retention of rollups deletes by time across sensors.
    op.create_index("ix_reading_rollups_bucket_start", "reading_rollups", ["bucket_start"])
    op.create_table(
        "timeseries_progress",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rolled_up_until", UTCDateTime(), nullable=True),
        sa.Column("raw_kept_from", UTCDateTime(), nullable=True),
    )
    op.execute(sa.text("INSERT INTO timeseries_progress (id) VALUES (1)"))
    # Rolling up and retention select readings by time across all sensors.
    op.create_index("ix_readings_at", "readings", ["at"])
