"""``dutydesk serve`` opens a database without seeding the sample units into it (they
are the demo's); ``--units FILE`` registers a site's own units explicitly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from backend.incidents.catalogue import PATH_ENV


def _serve_until_listening(data_dir: Path, *options: str) -> None:
    """Run ``dutydesk serve`` until it listens, then stop it with SIGTERM."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DUTYDESK_DB", PATH_ENV)}
    command = [sys.executable, "-m", "backend", "serve", "--data-dir", str(data_dir)]
    with subprocess.Popen(
        [*command, "--port", "0", *options, "--log-level", "INFO"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environment,
    ) as process:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "listening on" in line or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGTERM)
        rest = process.stderr.read()
        assert process.wait(30) == 0, "".join(lines) + rest
    assert any("listening on" in line for line in lines), "".join(lines)


def _unit_codes(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "dutydesk.db") as connection:
        return [row[0] for row in connection.execute("SELECT code FROM units ORDER BY code")]


def test_serve_on_a_fresh_database_adds_no_units(tmp_path: Path) -> None:
    _serve_until_listening(tmp_path)
    assert _unit_codes(tmp_path) == []


def test_serve_registers_the_units_of_the_file_it_is_given(tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_text(
        "code,name,agency,jurisdiction\nSITE-FIRE-1,一中队,fire,\nSITE-120-1,急救一组,medical,\n",
        encoding="utf-8",
    )
    _serve_until_listening(tmp_path, "--units", str(units))
    assert _unit_codes(tmp_path) == ["SITE-120-1", "SITE-FIRE-1"]
