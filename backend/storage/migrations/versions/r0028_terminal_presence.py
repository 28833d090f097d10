"""Offline timers that survive their instance: ``devices.heard_at`` (when a server last
heard the device, heartbeats too, written coalesced) and ``devices.held_by`` (the
instance holding its connection), read by the leased offline sweep
(``backend.server.presence``).

Revision ID: r0028
Revises: r0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0028"
down_revision = "r0027"


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("heard_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("held_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("held_by")
        batch.drop_column("heard_at")
