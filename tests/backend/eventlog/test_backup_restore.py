"""Backup and restore of the event log on PostgreSQL, with the commands docs/deployment.md
gives: ``pg_dump --format=custom`` of a database a server wrote events to, restored with
``pg_restore`` into a fresh database (the whole database, and the event log alone), and
``dutydesk audit verify`` finds the hash chain intact and every event there."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from backend.cli.app import main as dutydesk
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.server.testing import fresh_postgres_database
from realtime.protocol import DeviceAlarm
from realtime.states import AlarmLevel

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed"),
]


def _libpq(url: str) -> str:
    """The URL pg_dump and pg_restore take (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(*command, stderr=asyncio.subprocess.PIPE)
    _, errors = await process.communicate()
    assert process.returncode == 0, f"{command[0]} failed: {errors.decode()}"


@pytest.fixture
def admin() -> str:
    url = os.environ.get("DUTYDESK_TEST_PG")
    if url is None:
        pytest.skip("PostgreSQL not configured (run ./test.sh)")
    return url


async def _write_events(url: str, data_dir: Path) -> None:
    server = DutyDeskServer(
        ServerConfig(db_url=url, data_dir=data_dir, port=0, cipher=FieldCipher.generate())
    )
    await server.start()
    try:
        for number in range(5):
            await server.registry.add("jt808", f"1390000000{number}", f"槽车{number}")
            await server.alarms.raise_from_device(
                f"jt808:1390000000{number}",
                DeviceAlarm(
                    ref="",
                    key="emergency",
                    alarm_type="vehicle_emergency",
                    level=AlarmLevel.RED,
                    title=f"紧急报警 槽车{number}",
                    lat=30.25,
                    lon=120.15,
                ),
            )
    finally:
        await server.close()


@pytest.mark.parametrize("only_the_log", [False, True], ids=["whole database", "event log"])
async def test_a_restored_event_log_verifies_intact(
    admin: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], only_the_log: bool
) -> None:
    dump = tmp_path / "dutydesk.dump"
    async with fresh_postgres_database(admin) as source:
        await _write_events(source, tmp_path)
        tables = ["--table=events", "--table=event_counter"] if only_the_log else []
        await _run("pg_dump", "--format=custom", f"--file={dump}", *tables, _libpq(source))
    restore = ["pg_restore", "--no-owner", "--exit-on-error"]
    if only_the_log:
        # The log alone carries no trigger function: its archive copy is restored
        # without the append-only trigger (docs/deployment.md, Backup and restore).
        listing = await asyncio.create_subprocess_exec(
            "pg_restore", "--list", str(dump), stdout=asyncio.subprocess.PIPE
        )
        entries, _ = await listing.communicate()
        kept = [line for line in entries.decode().splitlines() if " TRIGGER " not in line]
        (tmp_path / "events.list").write_text("\n".join(kept) + "\n")
        restore.append(f"--use-list={tmp_path / 'events.list'}")
    async with fresh_postgres_database(admin) as target:
        await _run(*restore, f"--dbname={_libpq(target)}", str(dump))
        capsys.readouterr()
        code = await asyncio.to_thread(dutydesk, ["audit", "verify", "--db", target])
    said = capsys.readouterr().out
    assert code == 0, said
    assert "event log intact: 10 events" in said
