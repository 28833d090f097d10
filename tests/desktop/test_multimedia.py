"""Without QtMultimedia, and without a sound server: the console starts and stays quiet.

A missing QtMultimedia (or the ``libpulse`` under it) is simulated by making its import
fail (``sys.modules[name] = None``), in this process and in a real console run against a
real server. The PulseAudio back end's ``pa_context_connect() failed`` line is checked
in a separate Python where Qt really probes for a sound server.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMessageLogContext, QSettings, QtMsgType
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop import multimedia
from desktop.main_window import MainWindow
from desktop.multimedia import AudioMessageFilter
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.protocol import CameraView
from tests.desktop.conftest import FakeClient, ignore_offscreen_quirks

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

FakeService = tuple[ConsoleService, list[FakeClient]]
Run = Callable[..., Any]
PROJECT = Path(__file__).resolve().parents[2]
BLOCK_MULTIMEDIA = (
    "import sys; sys.modules['PySide6.QtMultimedia'] = None; "
    "sys.modules['PySide6.QtMultimediaWidgets'] = None; "
)


def test_the_audio_servers_lines_are_dropped_and_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    passed: list[str] = []
    handler = AudioMessageFilter(lambda _kind, _context, message: passed.append(message))
    context = QMessageLogContext()
    for _ in range(3):
        handler(QtMsgType.QtWarningMsg, context, "PulseAudioService: pa_context_connect() failed")
    handler(QtMsgType.QtWarningMsg, context, "QLayout: something of ours")
    assert passed == ["QLayout: something of ours"]
    assert handler.sound_server_missing
    reports = [r for r in caplog.records if "sound is unavailable" in r.getMessage()]
    assert len(reports) == 1
    assert "pa_context_connect() failed" in reports[0].getMessage()


def test_a_machine_without_a_sound_server_prints_no_audio_error(tmp_path: Path) -> None:
    """Qt really probes PulseAudio here (no screen needed for that)."""
    script = textwrap.dedent(
        """
        import logging, sys
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="LOG %(message)s")
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from desktop.multimedia import load_multimedia
        loaded = load_multimedia()
        assert loaded is not None
        loaded.multimedia.QMediaDevices.audioOutputs()
        output = loaded.multimedia.QAudioOutput()
        effect = loaded.multimedia.QSoundEffect()
        print("ok")
        """
    )
    environment = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=str(PROJECT),
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    environment.pop("PULSE_SERVER", None)  # no sound server reachable from here
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert "PulseAudioService" not in result.stderr
    assert result.stderr.count("sound is unavailable") <= 1


@pytest.fixture
def without_multimedia(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """QtMultimedia's import fails (as when it, or libpulse under it, is not installed)."""
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimediaWidgets", None)
    multimedia.forget_for_tests()
    yield
    multimedia.forget_for_tests()


@pytest.mark.usefixtures("without_multimedia")
def test_without_qtmultimedia_the_window_starts_and_says_so(
    qtbot: QtBot,
    fake_service: FakeService,
    settings: QSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    service, _clients = fake_service
    sounder = AlarmSounder()
    assert not sounder.uses_sound_effect
    window = MainWindow(service, sounder, settings, username="officer1")
    qtbot.addWidget(window)
    window.show()
    notice = window.attention.sound_indicator.notice_label
    assert notice.isVisible()
    assert notice.text() == "No video or sound"
    assert "QtMultimedia" in notice.toolTip()
    assert sounder.play()  # the system bell stands in
    messages: list[tuple[str, bool]] = []
    window.camera_directory.message.connect(lambda text, error: messages.append((text, error)))
    window.camera_directory.set_cameras(
        [CameraView(id=1, code="C1", name="南门", lat=30.27, lon=120.13, stream_url="x.mp4")]
    )
    assert window.camera_directory.open_video("C1") is None
    assert len(messages) == 1
    assert messages[0][0].startswith("Video is unavailable on this computer")
    assert messages[0][1]
    assert any("QtMultimedia cannot load" in r.getMessage() for r in caplog.records)


def test_the_console_runs_against_a_server_without_qtmultimedia(tmp_path: Path) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("pw-officer1\n", encoding="utf-8")
    shot = tmp_path / "console.png"
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(PROJECT))
    environment["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    with ServerThread() as server:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                BLOCK_MULTIMEDIA + "from desktop.cli import main; sys.exit(main())",
                "--server",
                server.console_url,
                "--user",
                "officer1",
                "--password-file",
                str(password_file),
                "--screenshot",
                str(shot),
                "--after",
                "1.5",
            ],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "QtMultimedia cannot load" in result.stderr
    assert "Traceback" not in result.stderr
