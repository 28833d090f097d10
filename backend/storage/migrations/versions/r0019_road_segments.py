"""The road layer: ``road_segments`` (one row per imported road, its polyline as JSON text
and its bounding box for box queries).

Revision ID: r0019
Revises: r0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0019"
down_revision = "r0018"


def upgrade() -> None:
    op.create_table(
        "road_segments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("road_class", sa.String(16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("highway", sa.String(32), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("name_zh", sa.String(200), nullable=False, server_default=""),
        sa.Column("ref", sa.String(64), nullable=False, server_default=""),
        sa.Column("oneway", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("maxspeed", sa.Integer(), nullable=True),
        sa.Column("points", sa.Text(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
    )
    op.create_index(
        "ix_road_segments_box", "road_segments", ["min_lat", "max_lat", "min_lon", "max_lon"]
    )
    op.create_index("ix_road_segments_rank", "road_segments", ["rank"])


def downgrade() -> None:
    op.drop_index("ix_road_segments_rank", table_name="road_segments")
    op.drop_index("ix_road_segments_box", table_name="road_segments")
    op.drop_table("road_segments")
