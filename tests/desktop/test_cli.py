"""The ``desktop`` subcommand: no Qt at import, options, password sources, help."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import cli


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.configure_parser(parser)
    return parser.parse_args(list(argv))


def test_importing_the_cli_does_not_load_qt() -> None:
    code = "import sys, desktop.cli; sys.exit('PySide6' in sys.modules or 'qasync' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], check=False)
    assert result.returncode == 0, "desktop.cli imported Qt at import time"


def test_dutydesk_registers_the_desktop_subcommand() -> None:
    from backend.cli.app import build_parser

    args = build_parser().parse_args(["desktop", "--user", "officer1", "--lang", "en"])
    assert args.func is cli.run
    # No --server: the addresses of the last login, else the default (desktop.app).
    assert (args.server, args.user, args.lang) == (None, "officer1", "en")


def test_several_servers_are_repeated_or_comma_separated() -> None:
    args = parse("--server", "ws://a:8765/console,ws://b:8765/console", "--server", "ws://c:1/x")
    assert args.server == ["ws://a:8765/console,ws://b:8765/console", "ws://c:1/x"]


def test_help_explains_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "--help"], capture_output=True, text=True, check=True
    )
    for text in (
        "--server",
        "ws://127.0.0.1:8765/console",
        "--password-file",
        "DUTYDESK_PASSWORD",
        "--screenshot",
        "--after",
        "--open-incident",
        "zh_CN",
    ):
        assert text in result.stdout


def test_unknown_language_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--lang", "fr")
    assert "invalid choice" in capsys.readouterr().err


def test_password_comes_from_the_file_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("s3cret pass\nignored\n", encoding="utf-8")
    monkeypatch.setenv(cli.PASSWORD_ENV, "from-env")
    assert cli.read_password(password_file) == "s3cret pass"
    assert cli.read_password(None) == "from-env"
    monkeypatch.delenv(cli.PASSWORD_ENV)
    assert cli.read_password(None) == ""


@pytest.mark.logs_errors
def test_unreadable_password_file_is_a_usage_error(tmp_path: Path) -> None:
    args = parse("--user", "officer1", "--password-file", str(tmp_path / "missing"))
    assert cli.run(args) == 2
