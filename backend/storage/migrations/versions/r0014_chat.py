"""Incident chat: attachments (photos from the field) and read marks.

Messages themselves are events of the event log (``incident.message``); these tables hold
what the log does not: the attachments' metadata (the bytes are files named by their
SHA-256 under the data folder's ``attachments/``) and, per user and incident, how far the
messages were read.

Revision ID: r0014
Revises: r0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0014"
down_revision = "r0013"


def upgrade() -> None:
    """Add ``attachments`` and ``message_reads``."""
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False, index=True
        ),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "message_reads",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("up_to_seq", sa.BigInteger, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
