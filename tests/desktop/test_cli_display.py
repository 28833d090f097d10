"""Without a display the console says so in one line and exits non-zero, before Qt starts
(Qt itself would abort the process with a hint about a library that is not missing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import cli

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    ("environ", "platform", "problem"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ""}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_a_missing_display_is_recognised(
    environ: dict[str, str], platform: str, problem: bool
) -> None:
    assert (cli.display_problem(environ, platform) is not None) is problem


def without_display(tmp_path: Path) -> dict[str, str]:
    """The environment of a shell with no display (an SSH session, a service)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland displays")
@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "desktop", "--user", "officer1"],
        ["-m", "backend", "desktop"],
        ["-m", "backend", "demo"],
    ],
    ids=["python -m desktop", "dutydesk desktop", "dutydesk demo"],
)
def test_without_a_display_the_console_says_so_in_one_line(tmp_path: Path, argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, *argv],
        env=without_display(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == cli.EXIT_NO_DISPLAY, result.stderr
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "no display" in lines[0]
    assert "xvfb-run" in lines[0]
    assert "QT_QPA_PLATFORM=offscreen" in lines[0]
    assert "libxcb" not in lines[0]
