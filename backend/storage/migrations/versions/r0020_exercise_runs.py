"""Exercise runs: ``exercise_runs`` (one row per run, kept after it ended, with the path of
its own database and its score figures once made).

Revision ID: r0020
Revises: r0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0020"
down_revision = "r0019"


def upgrade() -> None:
    op.create_table(
        "exercise_runs",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("recording", sa.String(120), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("trainer", sa.String(64), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("jurisdiction", sa.String(32), nullable=False, server_default=""),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("position_s", sa.Float(), nullable=False, server_default="0"),
        sa.Column("duration_s", sa.Float(), nullable=False, server_default="0"),
        sa.Column("alarms", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("injected", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("figures", sa.JSON(), nullable=True),
        sa.Column("database", sa.String(1000), nullable=False),
    )
    op.create_index("ix_exercise_runs_recording", "exercise_runs", ["recording", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_exercise_runs_recording", table_name="exercise_runs")
    op.drop_table("exercise_runs")
