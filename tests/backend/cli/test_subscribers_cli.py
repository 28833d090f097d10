"""``dutydesk subscribers``: adding, importing (bad rows refused with their line, good ones
added once), listing masked, removing; the numbers are stored encrypted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backend.cli.app import main


def test_subscribers_are_added_imported_listed_masked_and_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main(["subscribers", "add", "330106", "--phone", "13812345678", *data]) == 0
    assert "added subscriber 1" in capsys.readouterr().out
    assert main(["subscribers", "add", "330106", "--phone", "13812345678", *data]) == 0
    assert "already subscribed" in capsys.readouterr().out
    assert main(["subscribers", "add", "330106", *data]) == 1
    assert "give a phone number or an e-mail address" in capsys.readouterr().err

    sheet = tmp_path / "subscribers.csv"
    sheet.write_text(
        "jurisdiction,phone,email\n"
        "330106,13900000001,\n"
        "330106,,li.si@example.cn\n"
        "abc,13900000002,\n"
        "330106,not-a-number,\n"
        "330106,13812345678,\n",
        encoding="utf-8",
    )
    assert main(["subscribers", "import", str(sheet), *data]) == 1
    result = capsys.readouterr()
    assert "added 2, already there 1, refused 2" in result.out
    assert "line 4: the area must be a region code" in result.err
    assert "line 5: the phone number is not one" in result.err

    assert main(["subscribers", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert "138****5678" in listed
    assert "l***@example.cn" in listed
    assert "13812345678" not in listed
    database = next(tmp_path.glob("*.db"))
    with sqlite3.connect(database) as connection:
        stored = " ".join(map(str, connection.execute("SELECT * FROM notice_subscribers")))
    assert "13812345678" not in stored
    assert "li.si@example.cn" not in stored

    assert main(["subscribers", "remove", "1", *data]) == 0
    assert main(["subscribers", "remove", "1", *data]) == 1
    assert "no subscriber 1" in capsys.readouterr().err
    assert main(["subscribers", "import", str(tmp_path / "missing.csv"), *data]) == 1
    assert "cannot read" in capsys.readouterr().err
