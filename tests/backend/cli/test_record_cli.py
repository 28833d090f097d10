"""``dutydesk record`` against the database and data folder a server used."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from backend.cli.app import main
from backend.config import sqlite_url
from backend.exercises.recording import CommandInput, Jt808Input, decode_recording
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from devices.jt808.messages import GeneralResult
from devices.jt808.simulator import SimulatedTruck, TruckPlan
from realtime.protocol import CreateAlarm, Role
from realtime.states import AlarmLevel
from tests.backend.conftest import open_console

PHONE = "13900000077"
PLATE = "沪A0077"


async def _live(data_dir: Path) -> None:
    """A server's day, in brief: a truck reports and an officer takes a call."""
    server = DutyDeskServer(
        ServerConfig(
            db_url=sqlite_url(data_dir),
            data_dir=data_dir,
            port=0,
            jt808_listen=("127.0.0.1", 0),
            auto_record=False,
        )
    )
    await server.start()
    try:
        await server.users.add_user("officer1", "pw-officer1", Role.OFFICER)
        await server.registry.add("jt808", PHONE, "槽车", plate=PLATE)
        truck = SimulatedTruck(PHONE, PLATE, TruckPlan(), reply_timeout=5)
        await truck.connect("127.0.0.1", server.jt808_port)
        assert await truck.report() is GeneralResult.SUCCESS
        await truck.close()
        console = await open_console(server)
        await console.client.request(
            CreateAlarm(
                req="",
                alarm_type="fire",
                level=AlarmLevel.RED,
                title="仓库起火",
                jurisdiction="310101",
                caller_phone="13812345678",
            )
        )
        await console.close()
    finally:
        await server.close()


def test_record_a_window_masked_and_unmasked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    asyncio.run(_live(data_dir))
    end = dt.datetime.now(dt.UTC)
    window = ["--from", start.isoformat(), "--to", end.isoformat(), "--data-dir", str(data_dir)]

    masked_file = tmp_path / "window.ddrec"
    assert main(["record", *window, str(masked_file), "--title", "演练素材"]) == 0
    assert "recorded" in capsys.readouterr().out
    recording = decode_recording(masked_file.read_bytes())
    assert recording.header.title == "演练素材"
    assert recording.header.masked
    assert any(isinstance(e, Jt808Input) for e in recording.entries)
    (command,) = [e for e in recording.entries if isinstance(e, CommandInput)]
    assert command.command["caller_phone"] == "138****5678"

    full_file = tmp_path / "full.ddrec"
    assert main(["record", *window, str(full_file), "--unmasked"]) == 0
    assert "UNMASKED" in capsys.readouterr().out
    (command,) = [
        e for e in decode_recording(full_file.read_bytes()).entries if isinstance(e, CommandInput)
    ]
    assert command.command["caller_phone"] == "13812345678"

    # Another area holds none of it.
    elsewhere = tmp_path / "elsewhere.ddrec"
    assert main(["record", *window, str(elsewhere), "--area", "32"]) == 0
    assert decode_recording(elsewhere.read_bytes()).entries == []


def test_bad_windows_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = dt.datetime.now(dt.UTC)
    out = str(tmp_path / "x.ddrec")
    common = ["--data-dir", str(tmp_path), out]
    backwards = ["--from", now.isoformat(), "--to", (now - dt.timedelta(hours=1)).isoformat()]
    assert main(["record", *backwards, *common]) == 1
    assert "--to must be after --from" in capsys.readouterr().err
    future = ["--from", (now + dt.timedelta(hours=1)).isoformat(), "--to", "2099-01-01T00:00"]
    assert main(["record", *future, *common]) == 1
    assert "future" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["record", "--from", "yesterday", "--to", now.isoformat(), *common])
    assert "not an ISO 8601 time" in capsys.readouterr().err
    assert not Path(out).exists()


def test_help_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["record", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for option in ("--from", "--to", "--area", "--title", "--unmasked", "--data-dir", "--db"):
        assert option in text
