"""Publishing (信息发布): ``notices`` (drafted, approved, published), their
``notice_deliveries`` (one row per recipient and channel, addresses encrypted) and the
public ``notice_subscribers`` (phone and e-mail encrypted).

Revision ID: r0026
Revises: r0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0026"
down_revision = "r0024"


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("drafted_by", sa.String(64), nullable=False),
        sa.Column("drafted_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("cap_identifier", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_notices_state_jurisdiction", "notices", ["state", "jurisdiction"])
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("notice_id", sa.Integer(), sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("recipient_kind", sa.String(16), nullable=False),
        sa.Column("recipient_code", sa.String(64), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address_enc", sa.Text(), nullable=False),
        sa.Column("address_masked", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("error", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_notice_deliveries_notice_id", "notice_deliveries", ["notice_id"])
    op.create_index(
        "ix_notice_deliveries_state_next", "notice_deliveries", ["state", "next_attempt_at"]
    )
    op.create_index(
        "ix_notice_deliveries_recipient",
        "notice_deliveries",
        ["recipient_kind", "recipient_code", "channel"],
    )
    op.create_index("ix_notice_deliveries_reference", "notice_deliveries", ["channel", "reference"])
    op.create_table(
        "notice_subscribers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("email_enc", sa.Text(), nullable=False),
        sa.Column("email_masked", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_notice_subscribers_jurisdiction", "notice_subscribers", ["jurisdiction"])


def downgrade() -> None:
    op.drop_table("notice_subscribers")
    op.drop_table("notice_deliveries")
    op.drop_table("notices")
