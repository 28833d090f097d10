"""Emergency plans in incidents: ``checklist_ticks`` (who ticked which plan step of which
incident, the latest tick winning) and plan documents (an attachment belongs to an
incident's chat or, ``incident_id`` NULL, to a plan named by ``plan_code``).

Revision ID: r0018
Revises: r0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0018"
down_revision = "r0017"


def upgrade() -> None:
    op.create_table(
        "checklist_ticks",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("plan_code", sa.String(64), primary_key=True),
        sa.Column("step_id", sa.String(32), primary_key=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
    )
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("incident_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("plan_code", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_attachments_plan_code", "attachments", ["plan_code"])


def downgrade() -> None:
    op.drop_index("ix_attachments_plan_code", table_name="attachments")
    op.execute("DELETE FROM attachments WHERE incident_id IS NULL")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("plan_code")
        batch.alter_column("incident_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("checklist_ticks")
