"""The deadlines benchmark (``bench/deadlines.py``) in miniature: a tiny run prints its
figures, the heap check, the reload and the service's escalations."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "deadlines.py"


def test_a_tiny_run_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--tasks", "300", "--seconds", "60", "--wall", "0.5"],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "tracker: 300 open tasks" in out
    assert re.search(r"check \(CPU\)\s+p50 [\d.]+ ms\s+p99 [\d.]+ ms\s+max [\d.]+ ms", out)
    assert "service: 900 deadlines reloaded" in out
    escalations = re.search(r"(\d+) escalations committed", out)
    assert escalations is not None
    assert int(escalations.group(1)) > 0, out
