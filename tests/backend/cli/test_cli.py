"""The ``dutydesk`` command: help everywhere, user management, audit verification."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.cli.app import build_parser, main


def _subcommand_paths() -> list[list[str]]:
    """Every (sub)command path of the parser, e.g. ['user', 'add']."""
    import argparse

    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    paths.append([*prefix, name])
                    walk(sub, [*prefix, name])

    walk(build_parser(), [])
    return paths


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    paths = _subcommand_paths()
    names = {" ".join(p) for p in paths}
    assert {"serve", "user add", "user token", "audit verify", "demo", "desktop", "decode"} <= names
    for path in [[], *paths]:
        with pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert "usage: dutydesk" in out, path


def test_installed_entry_point_runs() -> None:
    exe = Path(sys.executable).parent / "dutydesk"
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("dutydesk ")


def test_user_add_list_token_and_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path)]
    password_file = tmp_path / "pw"
    password_file.write_text("correct horse battery\n", encoding="utf-8")
    assert (
        main(
            [
                "user",
                "add",
                "zhang",
                "--role",
                "officer",
                "--password-file",
                str(password_file),
                *data,
            ]
        )
        == 0
    )
    assert "added zhang (officer)" in capsys.readouterr().out
    assert main(["user", "add", "park-a", "--role", "device", "--no-password", *data]) == 0
    capsys.readouterr()

    # Refusals are clear and do not crash.
    assert (
        main(
            [
                "user",
                "add",
                "zhang",
                "--role",
                "officer",
                "--password-file",
                str(password_file),
                *data,
            ]
        )
        == 1
    )
    assert "already exists" in capsys.readouterr().err
    assert (
        main(
            [
                "user",
                "add",
                "li",
                "--role",
                "agency",
                "--password-file",
                str(password_file),
                *data,
            ]
        )
        == 1
    )
    assert "agency" in capsys.readouterr().err

    assert main(["user", "list", *data]) == 0
    listing = capsys.readouterr().out
    assert "zhang" in listing
    assert "park-a" in listing

    assert main(["user", "token", "park-a", *data]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) >= 40

    assert main(["audit", "verify", *data]) == 0
    assert "event log intact" in capsys.readouterr().out


def test_new_password_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUTYDESK_NEW_PASSWORD", "short")
    assert main(["user", "add", "wang", "--role", "officer", "--data-dir", str(tmp_path)]) == 1
    monkeypatch.setenv("DUTYDESK_NEW_PASSWORD", "long-enough-password")
    assert main(["user", "add", "wang", "--role", "officer", "--data-dir", str(tmp_path)]) == 0


def _serve_once(tmp_path: Path, *options: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `dutydesk serve` in a subprocess that is expected to exit by itself."""
    return subprocess.run(
        [sys.executable, "-m", "backend", "serve", "--data-dir", str(tmp_path), *options],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def test_serve_reports_a_busy_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _serve_once(tmp_path, "--port", str(port), DUTYDESK_LOG_LEVEL="WARNING")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_serve_refuses_an_unknown_event_loop(tmp_path: Path) -> None:
    result = _serve_once(tmp_path, "--port", "0", DUTYDESK_EVENT_LOOP="twisted")
    assert result.returncode == 2
    assert "DUTYDESK_EVENT_LOOP must be one of auto, uvloop, asyncio, got 'twisted'" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert "never awaited" not in result.stderr


def test_simulate_drives_trucks_and_sensors_through_a_real_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import func, select

    from backend.server.embedded import ServerThread
    from backend.storage.models import PositionRecord, ReadingRecord

    with ServerThread(data_dir=tmp_path, jt808=True) as server:
        monkeypatch.setenv("DUTYDESK_PASSWORD", "pw-device1")
        status = main(
            [
                "simulate",
                "--jt808",
                f"127.0.0.1:{server.jt808_port}",
                "--trucks",
                "3",
                "--sos",
                "1",
                "--feed",
                server.device_url,
                "--user",
                "device1",
                "--sensors",
                "4",
                "--interval",
                "0.2",
                "--duration",
                "1.0",
            ]
        )
        assert status == 0
        out = capsys.readouterr().out
        assert "trucks: 15 reports sent, 15 acknowledged" in out
        assert "sent=20, acked=20, refused=0" in out

        async def count() -> tuple[int, int]:
            async with server.server.sessions() as session:
                positions = await session.scalar(select(func.count()).select_from(PositionRecord))
                readings = await session.scalar(select(func.count()).select_from(ReadingRecord))
            return int(positions or 0), int(readings or 0)

        assert server.call(count()) == (15, 20)


def test_simulate_needs_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate"]) == 2
    assert "--jt808" in capsys.readouterr().err


def test_sensor_thresholds_are_editable_per_sensor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from backend.registry.files import DEFAULT_SENSORS_CSV

    data = ["--data-dir", str(tmp_path)]
    assert main(["sensor", "import", str(DEFAULT_SENSORS_CSV), *data]) == 0
    capsys.readouterr()
    assert main(["sensor", "rules", "ch4-0001", *data]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert [t["value"] for t in rules["thresholds"]] == [1.0, 1.5]

    rules["thresholds"][0]["value"] = 0.8  # a stricter local rule
    rules["thresholds"][0]["restore"] = 0.8
    edited = tmp_path / "ch4.json"
    edited.write_text(json.dumps(rules), encoding="utf-8")
    assert main(["sensor", "rules", "ch4-0001", "--file", str(edited), *data]) == 0
    capsys.readouterr()
    assert main(["sensor", "list", *data]) == 0
    assert "orange≥0.8" in capsys.readouterr().out

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"thresholds": [{"level": "purple"}]}), encoding="utf-8")
    assert main(["sensor", "rules", "ch4-0001", "--file", str(broken), *data]) == 1
    assert "broken.json" in capsys.readouterr().err
    assert main(["sensor", "rules", "nope", *data]) == 1


def test_audit_of_a_database_without_a_log_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", "--data-dir", str(tmp_path)]) == 1
    assert "no DutyDesk event log" in capsys.readouterr().err


def test_serve_starts_freezes_its_start_up_heap_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "DUTYDESK_LOG_LEVEL": "DEBUG"}
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "serve", "--port", "0", "--data-dir", str(tmp_path)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            seen.append(line)
            if "exempt from cycle collection" in line:
                break
        assert any("exempt from cycle collection" in line for line in seen), "".join(seen)
        # uvloop is a dependency on Linux: the server runs on it unless told otherwise.
        assert any("event loop: uvloop" in line for line in seen), "".join(seen)
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "shutting down" in rest


@pytest.mark.parametrize(("level", "pymodbus_level"), [("INFO", logging.CRITICAL), ("DEBUG", 0)])
def test_pymodbus_does_not_flood_the_log_unless_debugging(
    tmp_path: Path, level: str, pymodbus_level: int
) -> None:
    # It logs an ERROR at every poll of a silent slave; the poller reports the episode once.
    pymodbus = logging.getLogger("pymodbus")
    before = pymodbus.level
    try:
        assert main(["--log-level", level, "user", "list", "--data-dir", str(tmp_path)]) == 0
        assert pymodbus.level == pymodbus_level
    finally:
        pymodbus.setLevel(before)
