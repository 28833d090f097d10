"""Wake-ups between instances on PostgreSQL: a trigger notifies ``dutydesk_events``
with the new head ``seq`` whenever a transaction moves the event log's head (delivered
when it commits), whoever wrote it. Nothing on SQLite (one process).

Revision ID: r0023
Revises: r0022
"""

from __future__ import annotations

from alembic import op

revision = "r0023"
down_revision = "r0022"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION dutydesk_notify_events() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('dutydesk_events', NEW.last_seq::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER event_counter_notify
        AFTER UPDATE OF last_seq ON event_counter
        FOR EACH ROW WHEN (NEW.last_seq IS DISTINCT FROM OLD.last_seq)
        EXECUTE FUNCTION dutydesk_notify_events()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS event_counter_notify ON event_counter")
    op.execute("DROP FUNCTION IF EXISTS dutydesk_notify_events()")
