"""Times stored with a UTC offset are rewritten in UTC.

SQLite keeps a datetime as text: a row written with an offset (``+08:00`` from a device
or a feed, by raw SQL or an older tool) sorts and compares as the wrong instant. Every
such value in the tables the services read is rewritten as the naive UTC text the
``UTCDateTime`` type writes. PostgreSQL's ``timestamptz`` keeps the instant whatever
offset it was given, so there is nothing to rewrite there. The event log is left as it
was written (append-only, hash-chained); its older payloads are read back in UTC.

Revision ID: r0007
Revises: r0006
"""

from __future__ import annotations

import datetime as dt

from alembic import op

from backend.storage import raw

revision = "r0007"
down_revision = "r0006"

_COLUMNS = {
    "alarms": ("first_seen", "last_seen", "created_at", "updated_at"),
    "dispatches": ("at",),
    "devices": ("last_seen", "created_at"),
    "sensors": ("created_at", "updated_at"),
    "geofences": ("created_at", "updated_at"),
    "cameras": ("created_at", "updated_at"),
    "users": ("created_at",),
}
"""The tables with an ``id`` key and their UTC columns (telemetry is written in UTC by
its own writer; the event log may not be updated)."""


def upgrade() -> None:
    """Rewrite SQLite time texts that carry an offset (``Z``, ``+hh:mm``, ``-hh:mm``)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table, columns in _COLUMNS.items():
        for column in columns:
            # Names are the constants above; nothing from the data is interpolated.
            rows = bind.exec_driver_sql(
                f"SELECT id, {column} FROM {table} "  # noqa: S608
                f"WHERE {column} LIKE '%+__:__' OR {column} LIKE '%-__:__' "
                f"OR {column} LIKE '%Z'"
            ).all()
            for row_id, text in rows:
                at = dt.datetime.fromisoformat(text)
                bind.exec_driver_sql(
                    f"UPDATE {table} SET {column} = ? WHERE id = ?",  # noqa: S608
                    (raw.sqlite_time(at), row_id),
                )


def downgrade() -> None:
    """Nothing to undo: the rewritten values are the same instants."""
