"""``dutydesk db``: the upkeep actions open the database their storage options name."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.cli.app import main
from backend.cli.common import EXIT_FAILURE, EXIT_OK


def test_migrate_then_partitions_on_the_named_data_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main(["db", "migrate", *data]) == EXIT_OK
    assert capsys.readouterr().out == "database schema up to date\n"
    assert (tmp_path / "dutydesk.db").exists()
    assert main(["db", "partitions", "--keep-months", "2", *data]) == EXIT_OK
    # SQLite has no partitions to create; the retention deletes rows (none here).
    assert capsys.readouterr().out == "partitions created: none; dropped: none\n"


def test_a_database_that_cannot_be_opened_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_database = tmp_path / "x.sqlite"
    not_a_database.write_bytes(b"this is not an SQLite file" * 100)
    url = f"sqlite+aiosqlite:///{not_a_database}"
    assert main(["db", "migrate", "--db", url]) == EXIT_FAILURE
    err = capsys.readouterr().err.strip()
    assert err.startswith("dutydesk db: cannot open the database ")
    assert len(err.splitlines()) == 1
