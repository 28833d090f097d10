"""The registry import benchmark (``bench/registry_import.py``) in miniature: a small
workbook is generated, read against openpyxl's floor and imported into SQLite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "registry_import.py"


def test_a_tiny_run_prints_its_figures(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "DUTYDESK_TEST_PG"}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "500", "--keep", str(tmp_path / "r.xlsx")],
        env=dict(env, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "floor  openpyxl read of 507 rows" in out  # 500 rows and seven headers
    assert re.search(r"parse  500 items: +[\d.]+ s \([\d,]+ rows/s; [\d.]+× the floor\)", out)
    assert re.search(r"import sqlite +[\d.]+ s .* goal ≤ 30 s: met", out)
    assert (tmp_path / "r.xlsx").exists()
