"""Every ``dutydesk`` error is one clear line on stderr and a non-zero exit, never a
traceback; the database may be named by ``$DUTYDESK_DB``; ``--log-level`` may follow the
command name."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from backend.cli.app import build_parser, main

QUIET = ("--log-level", "WARNING")


def _serve(tmp_path: Path, *options: str) -> tuple[int, list[str]]:
    """Run `dutydesk serve ... --log-level WARNING`, expected to exit by itself."""
    result = subprocess.run(
        [sys.executable, "-m", "backend", "serve", "--data-dir", str(tmp_path), *options, *QUIET],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "DUTYDESK_DB"},
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stderr.strip().splitlines()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]


def test_serve_takes_a_plain_sqlite_url(tmp_path: Path, busy_port: int) -> None:
    # The database opens (the driver is added) and the one failure is the busy port.
    database = tmp_path / "abs" / "path.sqlite"
    code, lines = _serve(tmp_path, "--db", f"sqlite:///{database}", "--port", str(busy_port))
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"dutydesk serve: cannot listen on 127.0.0.1:{busy_port}: ")
    assert "address already in use" in lines[0].lower()
    assert database.exists(), "migrated before listening"


def test_serve_blames_an_unreachable_database_not_the_socket(tmp_path: Path) -> None:
    url = "postgresql://dutydesk:s3cret@nohost.invalid/dutydesk"
    code, lines = _serve(tmp_path, "--db", url, "--port", "0")
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith("dutydesk serve: cannot use the database postgresql://dutydesk:***@")
    assert "cannot listen" not in lines[0]
    assert "s3cret" not in lines[0]


def test_serve_says_a_postgres_database_is_missing(tmp_path: Path) -> None:
    admin = os.environ.get("DUTYDESK_TEST_PG")
    if admin is None:
        pytest.skip("PostgreSQL not configured (run ./test.sh)")
    url = make_url(admin).set(database="dutydesk_no_such_database")
    code, lines = _serve(tmp_path, "--db", url.render_as_string(hide_password=False), "--port", "0")
    assert code == 1
    assert len(lines) == 1, lines
    assert 'database "dutydesk_no_such_database" does not exist' in lines[0]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://u@h/d", "unsupported database 'mysql'"),
        ("not a url", "not a database URL"),
    ],
)
def test_serve_refuses_a_url_it_cannot_use(tmp_path: Path, url: str, reason: str) -> None:
    code, lines = _serve(tmp_path, "--db", url, "--port", "0")
    assert code == 1
    assert len(lines) == 1, lines
    assert reason in lines[0]


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _user_add(tmp_path: Path, *options: str) -> int:
    return main(["user", "add", "li", "--role", "officer", "--data-dir", str(tmp_path), *options])


def _no_users(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["user", "list", "--data-dir", str(tmp_path)]) == 0
    assert "li" not in capsys.readouterr().out.split()


@pytest.fixture
def no_password_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUTYDESK_NEW_PASSWORD", raising=False)
    monkeypatch.delenv("DUTYDESK_DB", raising=False)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.usefixtures("no_password_variable")
def test_user_add_with_mismatched_passwords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["first-password", "second-password"])
    monkeypatch.setattr(sys, "stdin", _Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert _user_add(tmp_path) == 1
    assert "the two passwords differ" in _one_error_line(capsys)
    _no_users(tmp_path, capsys)


@pytest.mark.usefixtures("no_password_variable")
def test_user_add_without_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert _user_add(tmp_path) == 1
    assert "no terminal" in _one_error_line(capsys)
    _no_users(tmp_path, capsys)


@pytest.mark.usefixtures("no_password_variable")
def test_user_add_no_password_is_for_devices_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _user_add(tmp_path, "--no-password") == 1
    assert "only for device accounts" in _one_error_line(capsys)
    _no_users(tmp_path, capsys)
    assert (
        main(
            ["user", "add", "gw", "--role", "device", "--no-password", "--data-dir", str(tmp_path)]
        )
        == 0
    )


@pytest.mark.usefixtures("no_password_variable")
def test_user_add_with_an_empty_or_missing_password_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    assert _user_add(tmp_path, "--password-file", str(empty)) == 1
    assert "is empty" in _one_error_line(capsys)
    assert _user_add(tmp_path, "--password-file", str(tmp_path / "missing.txt")) == 1
    assert "No such file or directory" in _one_error_line(capsys)
    _no_users(tmp_path, capsys)


def test_user_commands_say_the_database_cannot_be_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://dutydesk:s3cret@127.0.0.1:1/dutydesk"
    assert main(["user", "list", "--db", url]) == 1
    line = _one_error_line(capsys)
    assert line.startswith("dutydesk user: cannot open the database postgresql://dutydesk:***@")
    assert "s3cret" not in line


def test_database_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "elsewhere" / "duty.sqlite"
    monkeypatch.setenv("DUTYDESK_DB", f"sqlite:///{database}")
    monkeypatch.setenv("DUTYDESK_NEW_PASSWORD", "long-enough-password")
    assert _user_add(tmp_path / "data") == 0
    assert database.exists()
    assert not (tmp_path / "data" / "dutydesk.db").exists()
    capsys.readouterr()
    assert main(["user", "list"]) == 0
    assert "li" in capsys.readouterr().out.split()
    # --db still wins over the environment.
    assert main(["user", "list", "--db", f"sqlite:///{tmp_path / 'other.sqlite'}"]) == 0
    assert "li" not in capsys.readouterr().out.split()


def test_help_names_the_database_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "$DUTYDESK_DB" in capsys.readouterr().out


def test_log_level_is_accepted_after_the_command_name() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "--log-level", "DEBUG"]).log_level == "DEBUG"
    assert parser.parse_args(["--log-level", "ERROR", "serve"]).log_level == "ERROR"
    assert parser.parse_args(["user", "list", "--log-level", "WARNING"]).log_level == "WARNING"
    assert parser.parse_args(["serve"]).log_level in {"DEBUG", "INFO", "WARNING", "ERROR"}
