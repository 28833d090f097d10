"""``dutydesk exercise report``: what it needs, said in one line before anything is asked
(the report written from a real server: test_score_run.py)."""

from __future__ import annotations

import pytest

from backend.cli.app import main


def test_a_report_needs_a_file_to_write(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercise", "report", "r1", "--user", "trainer1"]) == 1

    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["dutydesk exercise: report: give --xlsx FILE and/or --html FILE"]
