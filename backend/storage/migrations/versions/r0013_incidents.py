"""Incidents, the alarms grouped under them, their tasks, escalations and supervision.

Also ``events.incident_id``: the incident an event is about, so an incident's timeline is
one indexed query. Existing events predate incidents and keep NULL; adding a nullable
column is plain DDL, which the append-only triggers do not refuse.

Revision ID: r0013
Revises: r0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0013"
down_revision = "r0012"


def upgrade() -> None:
    """Add the incident tables and ``events.incident_id``."""
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type_code", sa.String(48), nullable=False),
        sa.Column("type_name", sa.String(128), nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("state", sa.String(24), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False, index=True),
        sa.Column("commander", sa.String(64), nullable=False),
        sa.Column("reported_by", sa.String(64), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("feedback", sa.Text, nullable=False),
        sa.Column("last_note", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "incident_alarms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False, index=True
        ),
        sa.Column("alarm_id", sa.Integer, sa.ForeignKey("alarms.id"), nullable=False, unique=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False, index=True
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(24), nullable=False, index=True),
        sa.Column("assignee_kind", sa.String(16), nullable=False),
        sa.Column("assignee_ref", sa.String(64), nullable=False),
        sa.Column("assignee_name", sa.String(128), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False, index=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("assignee_user", sa.String(64), nullable=False),
        sa.Column("instructions", sa.Text, nullable=False),
        sa.Column("last_action", sa.String(16), nullable=True),
        sa.Column("last_note", sa.Text, nullable=False),
        sa.Column("accept_by", UTCDateTime(), nullable=True),
        sa.Column("arrive_by", UTCDateTime(), nullable=True),
        sa.Column("finish_by", UTCDateTime(), nullable=True),
        sa.Column("escalation_level", sa.String(24), nullable=False),
        sa.Column("returned_from", sa.Integer, sa.ForeignKey("tasks.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "task_escalations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False, index=True),
        sa.Column("cause", sa.String(16), nullable=False),
        sa.Column("from_level", sa.String(24), nullable=False),
        sa.Column("to_level", sa.String(24), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("task_id", "cause", name="uq_task_escalations_cause"),
    )
    op.create_table(
        "task_supervisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False, index=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
    )
    # Not through batch_alter_table: on SQLite a batch may copy the table, which would
    # lose the append-only triggers; ADD COLUMN keeps the table (and its triggers) as is.
    op.add_column("events", sa.Column("incident_id", sa.Integer, nullable=True))
    op.create_index("ix_events_incident_id", "events", ["incident_id"])
