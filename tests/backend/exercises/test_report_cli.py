"""``dutydesk exercise report``: what it needs, and one clear line when it cannot work."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from backend.cli.app import main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_a_report_needs_a_file_to_write(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercise", "report", "r1", "--user", "trainer1"]) == 1
    assert _error_line(capsys) == "dutydesk exercise: report: give --xlsx FILE and/or --html FILE"


def test_a_report_needs_a_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DUTYDESK_PASSWORD", raising=False)
    argv = ["exercise", "report", "r1", "--user", "trainer1", "--html", str(tmp_path / "r.html")]

    assert main(argv) == 1
    assert _error_line(capsys) == (
        "dutydesk exercise: report: give --password-file or set $DUTYDESK_PASSWORD"
    )
    assert main([*argv, "--password-file", str(tmp_path / "missing")]) == 1
    assert "cannot read the password file" in _error_line(capsys)


def test_a_server_that_does_not_answer_is_named_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUTYDESK_PASSWORD", "pw")
    url = f"ws://127.0.0.1:{_free_port()}/console"
    target = tmp_path / "r.html"

    options = ["--server", url, "--timeout", "1", "--log-level", "WARNING"]
    code = main(["exercise", "report", "r1", "--user", "trainer1", "--html", str(target), *options])

    assert code == 1
    line = _error_line(capsys)
    assert line.startswith(f"dutydesk exercise: no answer from {url} in 1 s (")
    assert not target.exists()
