"""Hidden dangers (隐患排查治理) and the enterprise role: ``users.enterprise``,
``inspections``, ``hidden_dangers``, ``danger_steps`` and ``attachments.danger_id``
(a hidden danger's photos).

Revision ID: r0027
Revises: r0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0027"
down_revision = "r0026"  # re-chained after merging lane pub (r0026)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("enterprise", sa.String(64), nullable=True))
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("enterprise", sa.String(64), nullable=False),
        sa.Column("enterprise_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("jurisdiction", sa.String(32), nullable=False, server_default=""),
        sa.Column("inspected_at", UTCDateTime(), nullable=False),
        sa.Column("inspectors", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_inspections_enterprise", "inspections", ["enterprise", "inspected_at"])
    op.create_index("ix_inspections_jurisdiction", "inspections", ["jurisdiction"])
    op.create_table(
        "hidden_dangers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("enterprise", sa.String(64), nullable=False),
        sa.Column("enterprise_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("industry", sa.String(64), nullable=False, server_default=""),
        sa.Column("jurisdiction", sa.String(32), nullable=False, server_default=""),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False, server_default=""),
        sa.Column("deadline", UTCDateTime(), nullable=True),
        sa.Column("responsible_enc", sa.Text(), nullable=False, server_default=""),
        sa.Column("responsible_phone_masked", sa.String(32), nullable=False, server_default=""),
        sa.Column("found_at", UTCDateTime(), nullable=False),
        sa.Column("reported_by", sa.String(64), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("rectified_at", UTCDateTime(), nullable=True),
        sa.Column("verified_at", UTCDateTime(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("overdue_at", UTCDateTime(), nullable=True),
        sa.Column("escalated_to", sa.String(16), nullable=False, server_default=""),
        sa.Column("escalated_at", UTCDateTime(), nullable=True),
        sa.Column("inspection_id", sa.Integer(), sa.ForeignKey("inspections.id"), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_hidden_dangers_enterprise", "hidden_dangers", ["enterprise", "id"])
    op.create_index("ix_hidden_dangers_jurisdiction", "hidden_dangers", ["jurisdiction", "id"])
    op.create_index("ix_hidden_dangers_open_deadline", "hidden_dangers", ["state", "deadline"])
    op.create_index("ix_hidden_dangers_reported_at", "hidden_dangers", ["reported_at"])
    op.create_index("ix_hidden_dangers_inspection_id", "hidden_dangers", ["inspection_id"])
    op.create_table(
        "danger_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("danger_id", sa.Integer(), sa.ForeignKey("hidden_dangers.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_danger_steps_danger_id", "danger_steps", ["danger_id"])
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("danger_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_attachments_danger_id", "hidden_dangers", ["danger_id"], ["id"]
        )
    op.create_index("ix_attachments_danger_id", "attachments", ["danger_id"])


def downgrade() -> None:
    op.drop_index("ix_attachments_danger_id", table_name="attachments")
    op.execute("DELETE FROM attachments WHERE danger_id IS NOT NULL")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint("fk_attachments_danger_id", type_="foreignkey")
        batch.drop_column("danger_id")
    op.drop_table("danger_steps")
    op.drop_table("hidden_dangers")
    op.drop_table("inspections")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("enterprise")
