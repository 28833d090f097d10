"""The placement benchmark (``bench/placement.py``) in miniature: it runs, places most
of Zhejiang's points, and meets the goal with room to spare on a small batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_placement_bench_runs_and_meets_its_goal(tmp_path: Path) -> None:
    figures_path = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "placement.py"),
            "--points",
            "2000",
            "--json",
            str(figures_path),
        ],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "points/s" in done.stdout
    figures = json.loads(figures_path.read_text())
    assert figures["zhejiang"]["placed_share"] > 0.5
    assert 0.2 < figures["china"]["placed_share"] < 0.8
    assert figures["zhejiang"]["warm_seconds"] < 0.1
