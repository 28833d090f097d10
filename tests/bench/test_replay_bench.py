"""The replay benchmark (``bench/replay.py``) in miniature: it generates the same
recording for the same seed, runs through a real server's exercise, and finds the alarms
of its 1× and 64× runs the same."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from backend.exercises.recording import encode_recording

REPO = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    """bench/replay.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("replay_bench", REPO / "bench" / "replay.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_recording_depends_only_on_its_arguments() -> None:
    replay = _bench()
    first = replay.generate(2, 10, 10, seed=5)
    assert encode_recording(first) == encode_recording(replay.generate(2, 10, 10, seed=5))
    assert encode_recording(first) != encode_recording(replay.generate(2, 10, 10, seed=6))
    cut = replay.first_minutes(first, 1)
    assert cut.duration_s == 60.0
    assert all(entry.at <= cut.header.window_to for entry in cut.entries)


@pytest.mark.slow
def test_the_replay_bench_runs_and_the_alarms_match() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "replay.py"),
            "--minutes",
            "1",
            "--trucks",
            "20",
            "--sensors",
            "20",
            "--compare-minutes",
            "0.5",
        ],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "recorded s per wall s" in done.stdout
    assert "p99" in done.stdout
    assert "inputs/s made ready" in done.stdout
    assert "the same" in done.stdout
    assert "1x 0 alarms" not in done.stdout, "the comparison window holds alarms"
