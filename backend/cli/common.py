"""What every ``dutydesk`` command group shares: exit codes, output, storage options, and
the one-line error every command reports instead of a traceback.

The storage options (``--data-dir``, ``--db`` or ``$DUTYDESK_DB``) name the database and
the data key; the commands that change the registry open that database with
:func:`database`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeAlias

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.config import default_data_dir, sqlite_url
from backend.security import Error as SecurityError
from backend.security import FieldCipher
from backend.storage import db

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C

DB_ENVIRONMENT_VARIABLE = "DUTYDESK_DB"
"""Database URL used when ``--db`` is absent (keeps a password out of ``ps``)."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Error(Exception):
    """A command cannot do what it was asked; ``str()`` is the one line the user sees."""


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
        help="database URL, e.g. postgresql://user:pass@host/dutydesk or "
        f"sqlite:////abs/path.sqlite (default: ${DB_ENVIRONMENT_VARIABLE}, else SQLite in the "
        f"data folder; prefer ${DB_ENVIRONMENT_VARIABLE} for a URL with a password, "
        "which --db shows in ps)",
    )


def add_action(
    actions: Subparsers,
    name: str,
    *,
    summary: str,
    description: str,
    func: Callable[[argparse.Namespace], int],
    options: Callable[[argparse.ArgumentParser], None] = add_storage_options,
    epilog: str | None = None,
    keep_layout: bool = False,
    **defaults: object,
) -> argparse.ArgumentParser:
    """Register one action of a command group and return its parser for its own arguments.

    ``summary`` is the line in the group's list, ``description`` the action's ``--help``
    (``epilog`` after the options, e.g. examples; ``keep_layout`` keeps their line breaks);
    ``options`` adds what every action of the group takes (by default the storage options
    of a command that opens the database); ``func`` runs it, with ``defaults`` set on its
    arguments.
    """
    parser = actions.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=(
            argparse.RawDescriptionHelpFormatter if keep_layout else argparse.HelpFormatter
        ),
    )
    options(parser)
    parser.set_defaults(func=func, **defaults)
    return parser


def add_log_level_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Add ``--log-level``; on a subcommand it overrides the top-level one only when given."""
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=os.environ.get("DUTYDESK_LOG_LEVEL", "INFO") if top else argparse.SUPPRESS,
        help="how much to log to stderr (default: $DUTYDESK_LOG_LEVEL, else INFO)",
    )


def storage(args: argparse.Namespace) -> tuple[str, Path]:
    """The database URL and the data folder that the storage options name."""
    data_dir: Path = args.data_dir or default_data_dir()
    db_url = args.db or os.environ.get(DB_ENVIRONMENT_VARIABLE) or sqlite_url(data_dir)
    return db_url, data_dir


@contextlib.asynccontextmanager
async def database(
    args: argparse.Namespace, *, migrate: bool = True
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The command's database (migrated unless told otherwise), released when done.

    A database that cannot be opened, or that fails under the command, is an
    :class:`Error` naming it (password masked) and saying why, in one line.
    """
    db_url, data_dir = storage(args)
    try:
        engine = db.create_engine(db_url)
    except (db.Error, OSError) as exc:
        raise Error(f"cannot use the database {db.safe_url(db_url)}: {_reason(exc)}") from exc
    try:
        try:
            if migrate:
                await db.migrate(engine, encrypter=lambda: _existing_key(data_dir))
            else:
                async with engine.connect():
                    pass
        except (SQLAlchemyError, OSError, db.Error) as exc:
            raise Error(f"cannot open the database {db.safe_url(db_url)}: {_reason(exc)}") from exc
        yield db.session_factory(engine)
    except SQLAlchemyError as exc:
        raise Error(f"the database {db.safe_url(db_url)} failed: {_reason(exc)}") from exc
    finally:
        await engine.dispose()


def _existing_key(data_dir: Path) -> db.Encrypter:
    """The data key's encryption for a migration that must encrypt plain personal data.

    Never a new key: data encrypted with a key this machine just made up would be
    unreadable to the server, so a missing key is an error here.
    """
    try:
        return FieldCipher.from_data_dir(data_dir, create=False).encrypt
    except (SecurityError, OSError) as exc:
        raise db.Error(f"the data key is needed and cannot be read: {exc}") from exc


def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, db.Error) else db.failure_reason(exc)
