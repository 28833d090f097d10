"""One ``dutydesk serve`` per SQLite file: a second is refused at once with one clear
line (SQLite has one writer and no notifications between processes); PostgreSQL takes
any number."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.config import sqlite_url
from backend.storage.single_process import AlreadyServedError, sole_server
from tests.backend.cli.test_cli_errors import _serve


def test_a_second_server_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    with sole_server(url):
        refused = pytest.raises(AlreadyServedError, match="already using the SQLite database")
        with refused, sole_server(url):
            pass
        # The command says so in one line and exits 1, before opening anything.
        code, lines = _serve(tmp_path, "--db", url, "--port", "0")
        assert code == 1
        assert len(lines) == 1, lines
        assert "SQLite allows one server process" in lines[0]
        assert "use PostgreSQL" in lines[0]
    # Released when the holder ends (also when it dies: the system drops the lock).
    with sole_server(url):
        pass


def test_postgresql_and_memory_need_no_lock(tmp_path: Path) -> None:
    for url in ("postgresql+asyncpg://u@127.0.0.1/db", "sqlite+aiosqlite:///:memory:"):
        with sole_server(url), sole_server(url):
            pass
    assert not list(tmp_path.iterdir())
