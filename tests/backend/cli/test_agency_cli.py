"""``dutydesk agency``: the seeded agencies, adding and disabling one, and users' agencies
checked against the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.cli.app import main


def test_agencies_are_seeded_added_disabled_and_checked_for_users(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    password_file = tmp_path / "pw"
    password_file.write_text("correct horse battery\n", encoding="utf-8")
    user = ["user", "add", "--password-file", str(password_file), *data]

    assert main(["agency", "list", *data]) == 0
    listed = capsys.readouterr().out
    for code, name in [("fire", "消防救援"), ("police", "公安"), ("health", "卫健/120")]:
        assert f"{code:<14} {name}" in listed
    # Every agency the sample registry names is valid.
    for code in ("medical", "safety", "grid", "environment", "transport", "weather", "housing"):
        assert code in listed

    assert main(["agency", "add", "water", "水务", "--name-en", "Water", *data]) == 0
    assert "added agency water (水务)" in capsys.readouterr().out
    assert main(["agency", "add", "water", "水务", *data]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["agency", "add", "Bad Code", "坏", *data]) == 1
    assert "lower-case code" in capsys.readouterr().err
    assert main(["agency", "add", "empty", " ", *data]) == 1
    assert "Chinese name" in capsys.readouterr().err

    assert main([*user[:2], "w-desk", "--role", "agency", "--agency", "water", *user[2:]]) == 0
    capsys.readouterr()
    assert main(["agency", "disable", "water", *data]) == 0
    assert "disabled agency water" in capsys.readouterr().out
    assert main(["agency", "disable", "water", *data]) == 1
    assert "no active agency" in capsys.readouterr().err
    assert main([*user[:2], "w-desk2", "--role", "agency", "--agency", "water", *user[2:]]) == 1
    assert "no active agency 'water'" in capsys.readouterr().err
    assert main([*user[:2], "x-desk", "--role", "officer", "--agency", "nope", *user[2:]]) == 1
    assert "no active agency 'nope'" in capsys.readouterr().err

    assert main(["agency", "list", *data]) == 0
    assert "water" not in capsys.readouterr().out
    assert main(["agency", "list", "--all", *data]) == 0
    assert "(disabled)" in capsys.readouterr().out
    # Brought back with new names.
    assert main(["agency", "add", "water", "水务局", *data]) == 0
    assert "added agency water (水务局)" in capsys.readouterr().out
