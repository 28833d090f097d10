"""Sessions that end at once (issue 14): who is logged in where, an epoch per user that
every account change bumps, and the TOTP second factor.

Revision ID: r0011
Revises: r0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0011"
down_revision = "r0010"


def upgrade() -> None:
    """Add ``users.auth_epoch``, the TOTP columns and the ``sessions`` table."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("auth_epoch", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("epoch_reason", sa.String(32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("totp_secret_enc", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger, nullable=True))
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("remote", sa.String(128), nullable=False),
        sa.Column("client", sa.String(128), nullable=False),
        sa.Column("auth_epoch", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=False),
    )
    op.create_index("ix_sessions_open", "sessions", ["user_id", "ended_at"])
