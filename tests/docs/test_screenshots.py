"""``docs/screenshots.py``, the maker of the user guide's pictures: its help, and a run end
to end into a temporary folder that leaves every picture as a real, non-empty PNG."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from backend.exercises.library import RecordingLibrary

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "docs" / "screenshots.py"
ENV = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
IMAGES = (
    "console-task-inbox.png",
    "console-badge.png",
    "console-incident.png",
    "console-chat.png",
    "console-handover.png",
    "console-roster.png",
    "console-assessment.png",
    "console-registry.png",
    "console-vehicle-confirm.png",
    "console-vehicle-command.png",
    "console-exercise.png",
    "console-exercise-panel.png",
    "console-warnings.png",
    "console-trend-projection.png",
    "console-publishing.png",
    "console-inbox.png",
    "console-dangers.png",
    "console-danger-stats.png",
    "console-enterprise.png",
)


def test_help_says_what_it_makes_and_where() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--out FOLDER" in done.stdout
    assert "handover" in done.stdout
    assert "assessment" in done.stdout
    assert "registry" in done.stdout


def test_the_images_it_lists_are_those_the_guide_shows() -> None:
    guide = (REPO / "docs" / "user-guide.md").read_text(encoding="utf-8")
    for name in IMAGES:
        assert f"(images/{name})" in guide


@pytest.mark.slow
def test_a_run_makes_every_picture(tmp_path: Path) -> None:
    out = tmp_path / "images"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    # Neither the backend nor the console complained on the way.
    assert not [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert sorted(path.name for path in out.iterdir()) == sorted(IMAGES)
    for name in IMAGES:
        image = QImage(str(out / name))
        assert not image.isNull(), name
        assert image.width() > 200, name
        assert image.height() > 10, name
    window = QImage(str(out / "console-incident.png"))
    assert window.width() == 1440  # the window as the docs show it, not the 800 px screen
    assert window.height() >= 900


def test_the_drill_picture_starts_the_tanker_scenario_its_title_names(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    server = types.SimpleNamespace(data_dir=tmp_path)
    name = screenshots.ensure_recording(server)
    assert name == "tanker-rollover"
    info = {info.name: info for info in RecordingLibrary(tmp_path).list()}[name]
    assert "槽罐车" in info.title
    assert "槽车" in screenshots.EXERCISE_TITLE
