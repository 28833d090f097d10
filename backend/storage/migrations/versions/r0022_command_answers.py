"""Remembered answers of state-changing console commands, shared by every instance on the
database: ``command_answers`` (one row per user and request id, pruned after a while).

Revision ID: r0022
Revises: r0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0022"
down_revision = "r0020"


def upgrade() -> None:
    op.create_table(
        "command_answers",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("req", sa.String(128), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
    )
    op.create_index("ix_command_answers_at", "command_answers", ["at"])


def downgrade() -> None:
    op.drop_index("ix_command_answers_at", table_name="command_answers")
    op.drop_table("command_answers")
