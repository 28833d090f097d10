"""When each step of a task happened, for the assessment (量化考核): ``tasks.accepted_at``,
``arrived_at`` and ``finished_at``, and the indexes the report's period queries use.

Tasks written before this revision get their times back from the event log: the first
``task.changed`` event whose task shows ``last_action`` accept / arrive / finish is when
that step was taken (each step happens at most once in a task's life). Adding nullable
columns and indexes is plain DDL (no batch copy), so the event log's triggers stay.

Revision ID: r0016
Revises: r0013
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0016"
down_revision = "r0015"

PAGE = 2_000

STEP_COLUMNS = {"accept": "accepted_at", "arrive": "arrived_at", "finish": "finished_at"}
"""The task action whose first event sets each new column."""

INDEXES = (
    ("ix_tasks_created_at", "tasks", "created_at"),
    ("ix_tasks_accepted_at", "tasks", "accepted_at"),
    ("ix_tasks_arrived_at", "tasks", "arrived_at"),
    ("ix_tasks_finished_at", "tasks", "finished_at"),
    ("ix_incidents_opened_at", "incidents", "opened_at"),
    ("ix_incidents_closed_at", "incidents", "closed_at"),
    ("ix_task_escalations_at", "task_escalations", "at"),
    ("ix_task_supervisions_created_at", "task_supervisions", "created_at"),
)


def upgrade() -> None:
    """Add the step times and the period indexes; fill the times from the event log."""
    for column in STEP_COLUMNS.values():
        op.add_column("tasks", sa.Column(column, UTCDateTime(), nullable=True))
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])
    _backfill()


def downgrade() -> None:
    """Drop the indexes and the step times."""
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("tasks") as batch:
        for column in STEP_COLUMNS.values():
            batch.drop_column(column)


def _backfill() -> None:
    connection = op.get_bind()
    events = sa.table(
        "events",
        sa.column("seq", sa.BigInteger),
        sa.column("at", UTCDateTime()),
        sa.column("kind", sa.String),
        sa.column("incident_id", sa.Integer),
        sa.column("payload", sa.Text),
    )
    tasks = sa.table(
        "tasks",
        sa.column("id", sa.Integer),
        *(sa.column(name, UTCDateTime()) for name in STEP_COLUMNS.values()),
    )
    found: dict[tuple[int, str], dt.datetime] = {}
    after = 0
    while True:
        rows = connection.execute(
            sa.select(events.c.seq, events.c.at, events.c.payload)
            .where(
                events.c.kind == "task.changed",
                events.c.incident_id.is_not(None),
                events.c.seq > after,
            )
            .order_by(events.c.seq)
            .limit(PAGE)
        ).all()
        if not rows:
            break
        after = rows[-1].seq
        for row in rows:
            task = json.loads(row.payload).get("task") or {}
            column = STEP_COLUMNS.get(task.get("last_action") or "")
            if column is not None and isinstance(task.get("id"), int):
                found.setdefault((task["id"], column), row.at)
    for (task_id, column), at in found.items():
        connection.execute(
            sa.update(tasks)
            .where(tasks.c.id == task_id, tasks.c[column].is_(None))
            .values({column: at})
        )
