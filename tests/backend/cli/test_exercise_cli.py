"""``dutydesk exercise`` against a real server: a trainer starts, lists, steers, injects
into and stops a run; bad input and a wrong password get one clear line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.cli.app import build_parser, main
from backend.cli.common import EXIT_FAILURE, EXIT_OK
from backend.exercises.library import SHIPPED_SCENARIOS, RecordingLibrary
from backend.server.embedded import ServerThread
from realtime.protocol import ControlAction, Role
from tests.backend.exercises.helpers import CAMERA, small_recording


@pytest.fixture
def running() -> object:
    with ServerThread(users=(("trainer1", "pw-trainer1-long", Role.TRAINER),)) as thread:
        RecordingLibrary(thread.data_dir).save(small_recording(duration_s=600), "small")
        yield thread


def _cli(
    thread: ServerThread, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main(["exercise", *args, "--server", thread.console_url, "--user", "trainer1"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_trainer_runs_an_exercise_from_the_command_line(
    running: ServerThread, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUTYDESK_PASSWORD", "pw-trainer1-long")
    code, out, _ = _cli(running, capsys, "start", "small", "--speed", "8", "--title", "夜班演练")
    assert code == EXIT_OK
    match = re.match(r"(\S+)\s+running", out)
    assert match, out
    run_id = match.group(1)
    assert f"/exercise/{run_id}/console" in out
    assert "夜班演练" in out
    for args, expected in (
        (("pause", run_id), "paused"),
        (("speed", run_id, "16"), "16x"),
        (("seek", run_id, "100"), "100/600 s"),
        (("resume", run_id), "running"),
        (("inject", run_id, "camera_drops", CAMERA), "injected 1"),
        # The saved recording beside the shipped scenarios.
        (("list",), f"recordings: {len(list(SHIPPED_SCENARIOS.glob('*/scenario.toml'))) + 1}"),
        (("stop", run_id), "stopped"),
    ):
        code, out, err = _cli(running, capsys, *args)
        assert code == EXIT_OK, err
        assert expected in out, (args, out)
    code, out, err = _cli(running, capsys, "seek", run_id, "200")
    assert code == EXIT_FAILURE
    assert err.strip() == f"dutydesk exercise: exercise {run_id} has ended"


def test_refusals_are_one_clear_line(
    running: ServerThread, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUTYDESK_PASSWORD", "pw-trainer1-long")
    code, _, err = _cli(running, capsys, "start", "no-such-recording")
    assert code == EXIT_FAILURE
    assert err.strip() == "dutydesk exercise: no recording 'no-such-recording'"
    monkeypatch.setenv("DUTYDESK_PASSWORD", "wrong-password")
    code, _, err = _cli(running, capsys, "list")
    assert code == EXIT_FAILURE
    assert err.startswith("dutydesk exercise: ")
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["exercise", "speed", "run", "65"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["pause", "r1"], {"action": ControlAction.PAUSE}),
        (["resume", "r1"], {"action": ControlAction.RESUME}),
        (["seek", "r1", "100"], {"action": ControlAction.SEEK, "position": 100.0}),
        (["speed", "r1", "8"], {"action": ControlAction.SPEED, "speed": 8.0}),
        (["inject", "r1", "camera_drops", "cam-1"], {"kind": "camera_drops", "target": "cam-1"}),
        (["stop", "r1"], {}),
        (["report", "r1", "--html", "r.html"], {"html": Path("r.html")}),
    ],
)
def test_every_action_on_a_run_takes_the_run_first_and_the_server_options(
    args: list[str], expected: dict[str, object]
) -> None:
    parsed = build_parser().parse_args(
        ["exercise", *args, "--server", "ws://h/console", "--user", "t", "--ca-file", "ca.pem"]
    )
    assert parsed.run_id == "r1"
    assert (parsed.server, parsed.user, parsed.ca_file) == ("ws://h/console", "t", "ca.pem")
    assert {name: getattr(parsed, name) for name in expected} == expected
