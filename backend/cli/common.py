"""What every ``dutydesk`` command group shares: exit codes, output, storage options.

The storage options (``--data-dir``, ``--db``) name the database and the data key; the
commands that change the registry open that database with :func:`database`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.config import default_data_dir, sqlite_url
from backend.storage import db

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""The object each command group's ``add_parser`` registers its subcommand on."""


def out(text: str) -> None:
    """Write one line of the command's result to stdout."""
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    """Write one line of diagnostics to stderr."""
    sys.stderr.write(text + "\n")


def add_storage_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--data-dir`` and ``--db`` to a subcommand that opens the database."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"folder for the embedded database and the data key (default: {default_data_dir()})",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL, e.g. postgresql+asyncpg://user:pass@host/dutydesk "
        "(default: SQLite in the data folder)",
    )


def storage(args: argparse.Namespace) -> tuple[str, Path]:
    """The database URL and the data folder that the storage options name."""
    data_dir: Path = args.data_dir or default_data_dir()
    return (args.db or sqlite_url(data_dir)), data_dir


@contextlib.asynccontextmanager
async def database(
    args: argparse.Namespace, *, migrate: bool = True
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The command's database (migrated unless told otherwise), released when done."""
    db_url, _ = storage(args)
    engine = db.create_engine(db_url)
    try:
        if migrate:
            await db.migrate(engine)
        yield db.session_factory(engine)
    finally:
        await engine.dispose()
