"""Opening the database: engine settings per dialect, and migrations at start."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Error(Exception):
    """Database setup failed."""


_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def database_url(url: str) -> URL:
    """Parse ``url`` and give it the async driver DutyDesk uses when it names none
    (``sqlite:////abs/path.sqlite``, ``postgresql://…``, ``postgres://…``)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise Error(
            f"not a database URL: {url!r} (e.g. sqlite:////var/lib/dutydesk/db.sqlite or postgresql://user@host/dutydesk)"
        ) from exc
    backend = "postgresql" if parsed.get_backend_name() == "postgres" else parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise Error(f"unsupported database {backend!r}: use sqlite or postgresql")
    if "+" not in parsed.drivername or parsed.get_driver_name() in ("pysqlite", "psycopg2"):
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    return parsed


def safe_url(url: str | URL) -> str:
    """``url`` with its password masked, for messages and logs."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "(unreadable database URL)"
    return parsed.render_as_string(hide_password=True)


def failure_reason(exc: BaseException) -> str:
    """One line saying why the database could not be used, without driver noise."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return _first_line(str(exc.orig)) or type(exc.orig).__name__
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, SQLAlchemyError):
        return _first_line(str(exc).split(" (Background on this error", 1)[0])
    return _first_line(str(exc)) or type(exc).__name__


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def create_engine(url: str) -> AsyncEngine:
    """Create an async engine for ``url`` with DutyDesk's settings.

    SQLite gets WAL (readers never block the writer), ``synchronous=FULL`` (a committed
    alarm survives a power cut), foreign keys and a busy timeout.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_async_engine(parsed, pool_size=10, max_overflow=10, pool_pre_ping=True)
    raise Error(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")


Encrypter = Callable[[str], str]
"""Encrypts one protected field with the data key (``FieldCipher.encrypt``)."""


def _upgrade(
    connection: Connection, revision: str, encrypter: Callable[[], Encrypter] | None
) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["encrypter"] = encrypter
    plain = _plain_names_to_encrypt(connection, config, revision)
    if plain:
        # Asked before the first migration runs, not when r0012 is reached: SQLite commits
        # DDL as it goes, so migrations run before a refusal would stay applied while the
        # recorded version stays behind, and the next attempt would fail on them.
        if encrypter is None:
            raise Error(
                f"{plain} callers' names must be encrypted with the data key (migration "
                f"{ENCRYPTING_REVISION}): run `dutydesk serve`, or this command where the "
                "server's key file is"
            )
        encrypt = encrypter()
        config.attributes["encrypter"] = lambda: encrypt
    command.upgrade(config, revision)


ENCRYPTING_REVISION = "r0012"
"""The migration that encrypts plain callers' names with the data key."""


def _plain_names_to_encrypt(connection: Connection, config: Config, target: str) -> int:
    """How many plain callers' names the pending migrations must encrypt (0: no key needed)."""
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return 0  # a new database holds no names
    script = ScriptDirectory.from_config(config)
    pending = {rev.revision for rev in script.iterate_revisions(target, current)}
    if ENCRYPTING_REVISION not in pending:
        return 0
    alarms = sa.table("alarms", sa.column("caller_name", sa.String))
    count = connection.scalar(
        sa.select(sa.func.count()).select_from(alarms).where(alarms.c.caller_name != "")
    )
    return int(count or 0)


async def migrate(
    engine: AsyncEngine,
    revision: str = "head",
    *,
    encrypter: Callable[[], Encrypter] | None = None,
) -> None:
    """Bring the schema to the newest migration, or to ``revision`` (idempotent).

    ``encrypter`` gives the data key's encryption to migrations that must encrypt plain
    personal data they find (r0012); it is called only if there is such data, and
    without it such a migration fails with :class:`Error` (the key is never in the
    database, so a tool without it cannot do that part).
    """
    async with _migration_lock(), engine.begin() as connection:
        await connection.run_sync(_upgrade, revision, encrypter)
    logger.debug(
        "database schema is up to date (%s)", engine.url.render_as_string(hide_password=True)
    )


_MIGRATION_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _migration_lock() -> asyncio.Lock:
    """One migration at a time in this event loop: alembic keeps the running migration's
    context and ``op`` in module-wide proxies, and ``run_sync`` yields to the loop at every
    statement, so two interleaved upgrades (several exercises starting at once) would run
    each other's DDL on the wrong connection ("table users already exists")."""
    loop = asyncio.get_running_loop()
    lock = _MIGRATION_LOCKS.get(loop)
    if lock is None:
        lock = _MIGRATION_LOCKS[loop] = asyncio.Lock()
    return lock


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory the services use."""
    return async_sessionmaker(engine, expire_on_commit=False)
