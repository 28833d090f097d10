"""The commit-failure test hook (``DUTYDESK_FAULT_COMMIT_FAIL_RATE``): off unless set, a
clear error for a bad value, and when on, a failed commit refuses what it carried."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.config import sqlite_url
from backend.ingest import telemetry
from backend.storage import db, faults
from backend.storage.models import PositionRecord
from devices.observations import Position

REPO = Path(__file__).resolve().parents[3]


def _rate_in_a_fresh_process(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != faults.ENVIRONMENT_VARIABLE}
    if value is not None:
        env[faults.ENVIRONMENT_VARIABLE] = value
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from backend.storage import faults; print(faults.COMMIT_FAIL_RATE)",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_hook_is_off_unless_the_environment_sets_it() -> None:
    assert _rate_in_a_fresh_process(None).stdout.strip() == "0.0"
    assert _rate_in_a_fresh_process("0.25").stdout.strip() == "0.25"


@pytest.mark.parametrize("value", ["lots", "1.5", "-0.1"])
def test_a_bad_rate_stops_the_process_with_one_clear_line(value: str) -> None:
    done = _rate_in_a_fresh_process(value)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        f"{faults.ENVIRONMENT_VARIABLE}={value!r} is not "
        + ("a number" if value == "lots" else "between 0 and 1")
    ]


@pytest.mark.logs_errors
async def test_an_injected_failure_refuses_the_commit_and_the_next_one_goes_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = db.create_engine(sqlite_url(tmp_path))
    await db.migrate(engine)
    sessions = db.session_factory(engine)
    writer = telemetry.TelemetryWriter(sessions, max_delay=0.01)
    writer.start()
    at = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
    try:
        monkeypatch.setattr(faults, "COMMIT_FAIL_RATE", 1.0)
        with caplog.at_level(logging.WARNING), pytest.raises(telemetry.Error, match="injected"):
            await writer.submit(Position(device="a", at=at, lat=30.0, lon=120.0))
        monkeypatch.setattr(faults, "COMMIT_FAIL_RATE", 0.0)
        await writer.submit(Position(device="b", at=at, lat=30.0, lon=120.0))
        async with sessions() as session:
            devices = list(await session.scalars(select(PositionRecord.device)))
            assert await session.scalar(select(func.count()).select_from(PositionRecord)) == 1
        assert devices == ["b"]
        assert any(faults.ENVIRONMENT_VARIABLE in r.getMessage() for r in caplog.records)
    finally:
        await writer.stop()
        await engine.dispose()
