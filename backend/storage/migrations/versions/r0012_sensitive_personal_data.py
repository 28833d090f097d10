"""Sensitive personal data (issue 14): the caller's name, address and a sensitive note are
stored encrypted with the data key beside masked copies; plain names are encrypted.

The key lives outside the database, so the backend hands this migration an encrypter
(``encrypter`` in the Alembic attributes, see :func:`backend.storage.db.migrate`). It is
asked for only when there are plain names to encrypt; without one, such a database is
refused with a message saying to run the migration where the data key is.

Revision ID: r0012
Revises: r0011
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from backend.security import mask_name
from backend.storage.db import Error

revision = "r0012"
down_revision = "r0011"

BATCH = 500


def upgrade() -> None:
    """Add the encrypted and masked columns, encrypt every plain caller name, drop them."""
    # Asked before any change: SQLite commits DDL as it goes, so a refusal must come first.
    encrypt = _encrypter_if_needed()
    with op.batch_alter_table("alarms") as batch:
        batch.add_column(sa.Column("caller_name_enc", sa.Text, nullable=False, server_default=""))
        batch.add_column(
            sa.Column("caller_name_masked", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("caller_address_enc", sa.Text, nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("caller_address_masked", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("sensitive_note_enc", sa.Text, nullable=False, server_default="")
        )
    if encrypt is not None:
        _encrypt_plain_names(encrypt)
    with op.batch_alter_table("alarms") as batch:
        batch.drop_column("caller_name")


_ALARMS = sa.table(
    "alarms",
    sa.column("id", sa.Integer),
    sa.column("caller_name", sa.String),
    sa.column("caller_name_enc", sa.Text),
    sa.column("caller_name_masked", sa.String),
)
_PLAIN = _ALARMS.c.caller_name != ""


def _encrypter_if_needed() -> Callable[[str], str] | None:
    """The data key's encryption when there are plain names, else None."""
    count = op.get_bind().scalar(sa.select(sa.func.count()).select_from(_ALARMS).where(_PLAIN))
    if not count:
        return None
    provider: Callable[[], Callable[[str], str]] | None = context.config.attributes.get("encrypter")
    if provider is None:
        raise Error(
            f"{count} callers' names must be encrypted with the data key (migration r0012): "
            "run `dutydesk serve`, or this command where the server's key file is"
        )
    return provider()


def _encrypt_plain_names(encrypt: Callable[[str], str]) -> None:
    connection = op.get_bind()
    alarms, plain = _ALARMS, _PLAIN
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(alarms.c.id, alarms.c.caller_name)
            .where(plain, alarms.c.id > last_id)
            .order_by(alarms.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for alarm_id, name in rows:
            connection.execute(
                alarms.update()
                .where(alarms.c.id == alarm_id)
                .values(
                    caller_name_enc=encrypt(name),
                    caller_name_masked=mask_name(name),
                    caller_name="",
                )
            )
        last_id = rows[-1][0]
