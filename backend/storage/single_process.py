"""One ``dutydesk serve`` per SQLite database file.

SQLite has one writer and no notifications between processes: two servers on one file
would interleave their writes with "database is locked" failures and never see each
other's events. A second server on the same file is refused at start; several instances
need PostgreSQL (docs/deployment.md, "Several instances on one PostgreSQL").
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class AlreadyServedError(Exception):
    """Another server process holds the SQLite database; ``str()`` says which file."""


@contextlib.contextmanager
def sole_server(db_url: str) -> Iterator[None]:
    """Hold the SQLite database of ``db_url`` for this process while inside (a lock on
    ``<file>.serve-lock``, released by the system if the process dies); raise
    :class:`AlreadyServedError` if another process holds it. PostgreSQL (and in-memory
    SQLite) need no lock."""
    try:
        url = make_url(db_url)
    except ArgumentError:
        yield  # the server says what is wrong with it
        return
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    path = Path(url.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".serve-lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyServedError(
                f"another dutydesk serve is already using the SQLite database {path}; "
                "SQLite allows one server process (use PostgreSQL to run several instances)"
            ) from None
        yield
    finally:
        os.close(descriptor)
