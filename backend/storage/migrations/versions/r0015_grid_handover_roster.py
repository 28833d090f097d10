"""Reporting from the grid, shift handovers and the duty roster.

``incidents.direct_report`` marks an incident reported from the grid with an item that
reports straight to the district; ``grid_reports`` records each report (who, where it
landed; the reporter's hourly count); ``handovers`` holds each desk's handover with its
report as a JSON snapshot; ``duty_roster`` who is on duty at which desk when.

Revision ID: r0015
Revises: r0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0015"
down_revision = "r0014"


def upgrade() -> None:
    """Add the grid report, handover and roster tables and ``incidents.direct_report``."""
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("direct_report", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "grid_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False, unique=True
        ),
        sa.Column("reporter", sa.String(64), nullable=False),
        sa.Column("reporter_jurisdiction", sa.String(32), nullable=False),
        sa.Column("handling_level", sa.String(16), nullable=False),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=True),
        sa.Column("direct", sa.Boolean, nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_grid_reports_reporter_at", "grid_reports", ["reporter", "reported_at"])
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("shift_start", UTCDateTime(), nullable=False),
        sa.Column("shift_end", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("incoming", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("accepted_by", sa.String(64), nullable=False),
        sa.Column("remark", sa.Text, nullable=False),
    )
    op.create_index("ix_handovers_desk", "handovers", ["jurisdiction", "agency", "id"])
    op.create_table(
        "duty_roster",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("duty_date", sa.Date, nullable=False, index=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("position", sa.String(16), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("shift_start", UTCDateTime(), nullable=False, index=True),
        sa.Column("shift_end", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "duty_date",
            "jurisdiction",
            "agency",
            "position",
            "username",
            "shift_start",
            name="uq_duty_roster_shift",
        ),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("duty_roster")
    op.drop_index("ix_handovers_desk", table_name="handovers")
    op.drop_table("handovers")
    op.drop_index("ix_grid_reports_reporter_at", table_name="grid_reports")
    op.drop_table("grid_reports")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("direct_report")
