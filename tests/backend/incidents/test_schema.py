"""Migration r0013 creates exactly what the models say, and keeps the event log's
append-only triggers (the new ``events.incident_id`` column is added in place)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from backend.storage.models import Base
from backend.storage.partitions import is_partition
from tests.backend.incidents.conftest import Env


def _made_by_models(
    item: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    # Monthly partitions (PostgreSQL) are made at run time, not by the models.
    if type_ == "table":
        return not (name and is_partition(name))
    table = getattr(item, "table", None)
    return not (table is not None and is_partition(table.name))


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"include_object": _made_by_models})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_matches_the_models(env: Env) -> None:
    async with env.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_the_event_log_stays_append_only(env: Env) -> None:
    await env.alarm()
    for statement in ("UPDATE events SET incident_id = 1", "DELETE FROM events"):
        async with env.sessions() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
            await session.rollback()
