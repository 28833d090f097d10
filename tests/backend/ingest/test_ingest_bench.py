"""bench/ingest.py keeps working: a tiny run, end to end (real TCP terminals, the gateway,
SQLite, a console in its own process). Its figures are not judged here — only that every
report sent was stored, answered and seen by the console."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_a_tiny_ingest_bench_stores_answers_and_shows_every_report() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "ingest.py"),
            "--terminals",
            "20",
            "--rate",
            "5",
            "--seconds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=110,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^sent / stored\s+100 / 100$", out, re.MULTILINE), out
    # Fixes are coalesced per console tick, the newest always kept: each terminal is seen.
    samples = re.search(r"sent → console\s+p50 .* \(([\d,]+) samples\)", out)
    assert samples is not None, out
    assert 20 <= int(samples.group(1).replace(",", "")) <= 100
    assert "20 of 20 terminals online" in out
    assert re.search(r"^terminals\s+20 \(20 registered, authenticated and online", out, re.M), out
    # The floor is measured in the same run: TCP alone and storing alone.
    assert re.search(r"^storing alone\s+\d+\.\d µs per location \(1 per commit", out, re.M), out
    assert re.search(r"^floor \(TCP \+ storing\)\s+\d+\.\d µs per location", out, re.M), out
    assert "Traceback" not in result.stderr
