"""Several gateway workers: ``terminal_states`` (what follows a terminal to another
process), and on PostgreSQL ``positions`` and ``readings`` partitioned by month of ``at``
(``backend.storage.partitions``; SQLite unchanged).

Revision ID: r0024
Revises: r0023
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from backend.storage.partitions import (
    DEFAULT_MONTHS_AHEAD,
    add_months,
    month_start,
    partition_name,
)
from backend.storage.types import UTCDateTime

revision = "r0024"
down_revision = "r0023"

_INDEXES = {
    "positions": {"ix_positions_device_at": "(device, at)"},
    "readings": {"ix_readings_sensor_at": "(sensor, at)", "ix_readings_at": "(at)"},
}


def upgrade() -> None:
    op.create_table(
        "terminal_states",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("device", sa.String(128), primary_key=True),
        sa.Column("alarms", sa.Text(), nullable=False, server_default=""),
        sa.Column("rules", sa.Text(), nullable=False, server_default=""),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in _INDEXES:
            _partition(table)


def _partition(table: str) -> None:
    old = f"{table}_unpartitioned"
    execute = op.execute
    execute(f"ALTER TABLE {table} RENAME TO {old}")
    execute(f"ALTER TABLE {old} RENAME CONSTRAINT {table}_pkey TO {old}_pkey")
    for index in _INDEXES[table]:
        execute(f"ALTER INDEX {index} RENAME TO {index}_unpartitioned")
    # The id sequence outlives the old table and numbers the new one on.
    execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE (at)")
    # A partitioned table's key must hold the partition column.
    execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, at)")
    for index, columns in _INDEXES[table].items():
        execute(f"CREATE INDEX {index} ON {table} {columns}")
    execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    bind = op.get_bind()
    stored = bind.execute(
        sa.text(f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC') FROM {old}")  # noqa: S608 - table names from a fixed list, dates formatted here
    ).scalars()
    current = month_start(dt.datetime.now(dt.UTC))
    wanted = {month_start(at) for at in stored} | {
        add_months(current, offset) for offset in range(DEFAULT_MONTHS_AHEAD + 1)
    }
    for month in sorted(wanted):
        execute(
            f"CREATE TABLE {partition_name(table, month)} PARTITION OF {table} FOR VALUES "
            f"FROM ('{month.isoformat()} 00:00:00+00') "
            f"TO ('{add_months(month, 1).isoformat()} 00:00:00+00')"
        )
    execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608 - table names from a fixed list, dates formatted here
    execute(f"DROP TABLE {old}")
    execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, indexes in _INDEXES.items():
            old = f"{table}_partitioned"
            op.execute(f"ALTER TABLE {table} RENAME TO {old}")
            op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT {table}_pkey TO {old}_pkey")
            for index in indexes:
                op.execute(f"ALTER INDEX {index} RENAME TO {index}_partitioned")
            op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
            op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS)")
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id)")
            for index, columns in indexes.items():
                op.execute(f"CREATE INDEX {index} ON {table} {columns}")
            op.execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608 - table names from a fixed list, dates formatted here
            op.execute(f"DROP TABLE {old}")
            op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.drop_table("terminal_states")
