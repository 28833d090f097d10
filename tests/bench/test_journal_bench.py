"""The journal micro-benchmark (``bench/journal.py``) in miniature: it runs, reads back
every input it journaled, and prints both figures of the gateway's path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_journal_bench_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "journal.py"), "--reads", "2000"],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "without the journal" in done.stdout
    assert "read back              10,000 records" in done.stdout
