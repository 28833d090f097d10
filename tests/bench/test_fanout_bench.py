"""The scoped fan-out bench (``bench/fanout.py``) in miniature: it runs against a real
server and real WebSocket consoles of every kind of scope, and its own check passes —
each console received exactly what its scope allows, and the raw broadcast reached all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_tiny_fanout_run_delivers_exactly_what_each_scope_allows(tmp_path: Path) -> None:
    figures_path = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "fanout.py"),
            *("--consoles", "10", "--seconds", "1.5", "--events", "40", "--vehicles", "200"),
            *("--json", str(figures_path)),
        ],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())
    assert figures["problems"] == []
    assert figures["mix"] == {"whole-area": 2, "cities": 4, "districts": 2, "agency desks": 2}
    # Something was fanned out and measured in both runs, so "no problem" means something.
    assert figures["events_sent"] >= 40
    assert figures["alarms_delivered"] > figures["events_sent"]  # several consoles each
    for run in ("dutydesk", "ceiling"):
        assert figures[run]["messages_per_s"] > 0
        assert figures[run]["us_per_console_message"] > 0
    assert figures["ratio"] > 0
    assert "µs per console per message" in done.stdout
