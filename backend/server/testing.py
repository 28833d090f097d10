"""Test and benchmark support: a real DutyDesk server in a background thread (see
:mod:`backend.server.embedded`) and throw-away PostgreSQL databases."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url

from backend.server.embedded import DEFAULT_USERS, ServerThread

__all__ = ["DEFAULT_USERS", "ServerThread", "fresh_postgres_database"]


@contextlib.asynccontextmanager
async def fresh_postgres_database(
    admin_url: str, prefix: str = "dutydesk_test"
) -> AsyncIterator[str]:
    """Create an empty database on the server of ``admin_url``; yield its SQLAlchemy URL;
    drop it (disconnecting whoever is left) afterwards."""
    url = make_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
