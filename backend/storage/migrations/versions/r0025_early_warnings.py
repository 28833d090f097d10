"""Early warnings (预警, issue 20): ``early_warnings``, one open row per condition
(``open_key`` unique while open, NULL once ended).

Revision ID: r0025
Revises: r0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0025"
down_revision = "r0024"


def upgrade() -> None:
    op.create_table(
        "early_warnings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("open_key", sa.String(200), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("hazard_source", sa.String(64), nullable=False),
        sa.Column("sensors", sa.JSON(), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("predicted_at", UTCDateTime(), nullable=True),
        sa.Column("projection", sa.JSON(), nullable=True),
        sa.Column("weather", sa.JSON(), nullable=True),
        sa.Column("alert_key", sa.String(200), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=False),
        sa.Column("closed_by", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.UniqueConstraint("open_key", name="uq_early_warnings_open_key"),
    )
    op.create_index(
        "ix_early_warnings_state_jurisdiction", "early_warnings", ["state", "jurisdiction"]
    )
    op.create_index("ix_early_warnings_alert_key", "early_warnings", ["alert_key"])
    op.create_index("ix_early_warnings_updated_at", "early_warnings", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_early_warnings_updated_at", table_name="early_warnings")
    op.drop_index("ix_early_warnings_alert_key", table_name="early_warnings")
    op.drop_index("ix_early_warnings_state_jurisdiction", table_name="early_warnings")
    op.drop_table("early_warnings")
