"""Camera video: real clips made with ffmpeg play in the video window (frames arrive),
streams that fail say why without crashing, and the console puts the server's cameras
on the map and opens the clicked one."""

from __future__ import annotations

import http.server
import logging
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.main_window import MainWindow
from desktop.map.layers import LayerKey
from desktop.map.projection import to_mercator
from desktop.map.view import MapView
from desktop.plain_text import plain_tooltip
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from desktop.video.cameras import CameraDirectory, camera_label, distance_m
from desktop.video.player import CameraVideoWindow, VideoStatus
from realtime.client import ConnectionState
from realtime.protocol import CameraView
from tests.desktop.conftest import ignore_offscreen_quirks, wait_until
from tests.desktop.factories import make_alarm, make_snapshot

SECRET = "vid-s3cret"
PARK = (32.2563, 118.7818)
"""(lat, lon) of the test camera."""
NO_GPU = r"ensureRhi\(QRhi::Implementation\) : No RHI backend\. Using CPU conversion\.$"
"""Offscreen there is no GPU: Qt converts video frames on the CPU and says so (once)."""
NO_RAISE = r"^This plugin does not support raise\(\)$"
"""Offscreen windows cannot be brought to the front (an open video window is)."""
video_quirks = pytest.mark.qt_log_ignore(*ignore_offscreen_quirks.args, NO_GPU, NO_RAISE)
could_not_open = pytest.mark.qt_log_ignore(
    *ignore_offscreen_quirks.args,
    NO_GPU,
    NO_RAISE,
    r"^Could not open media\. FFmpeg error description",
)
"""Also Qt's own warning when a stream cannot be opened, where a test makes one fail."""

pytestmark = [pytest.mark.gui, video_quirks]

Run = Callable[..., Any]


def make_clip(path: Path, seconds: int) -> Path:
    """Write a small H.264 MP4 test pattern (index first, so HTTP can stream it)."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None, "ffmpeg is needed for the video tests (./test.sh installs it)"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc=duration={seconds}:size=160x120:rate=10",
         "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "short": make_clip(folder / "short.mp4", 2),
        "long": make_clip(folder / "long.mp4", 20),
    }


def camera(stream_url: str, code: str = "CAM-A3", **fields: Any) -> CameraView:
    values: dict[str, Any] = {
        "name": "A 区 3 号储罐 球机",
        "lat": PARK[0],
        "lon": PARK[1],
        "agency": "safety",
        "hazard_source": "A 区储罐区",
        "enterprise": "江北化工有限公司",
    }
    values.update(fields)
    return CameraView(id=1, code=code, stream_url=stream_url, **values)


@pytest.fixture
def open_window(qtbot: QtBot) -> Iterator[Callable[[CameraView], CameraVideoWindow]]:
    windows: list[CameraVideoWindow] = []

    def opener(view: CameraView) -> CameraVideoWindow:
        window = CameraVideoWindow(view)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield opener
    for window in windows:
        window.stop()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_recorded_clip_plays_to_its_end(
    open_window: Callable[[CameraView], CameraVideoWindow], clips: dict[str, Path], qtbot: QtBot
) -> None:
    window = open_window(camera(str(clips["short"])))
    assert window.name_label.text() == "A 区 3 号储罐 球机"
    assert window.details_label.text() == "A 区储罐区 · 江北化工有限公司"
    assert window.address_label.text() == str(clips["short"])
    qtbot.waitUntil(lambda: window.status is VideoStatus.PLAYING, timeout=10_000)
    assert window.frames_received > 0
    assert window.status_label.text() == "Playing"
    assert window.player.playbackState() is QMediaPlayer.PlaybackState.PlayingState
    qtbot.waitUntil(lambda: window.status is VideoStatus.ENDED, timeout=10_000)
    assert window.frames_received >= 10, "two seconds at 10 fps"
    assert window.status_label.text() == "The stream ended."
    assert window.play_pause_button.text() == "Play"
    window.toggle_play()  # plays it again from the start
    qtbot.waitUntil(lambda: window.status is VideoStatus.PLAYING, timeout=10_000)


def test_pause_resume_and_reconnect(
    open_window: Callable[[CameraView], CameraVideoWindow], clips: dict[str, Path], qtbot: QtBot
) -> None:
    window = open_window(camera(clips["long"].as_uri()))
    with qtbot.waitSignal(window.frame_arrived, timeout=10_000):
        pass
    QTest.mouseClick(window.play_pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.status is VideoStatus.PAUSED, timeout=5_000)
    assert window.status_label.text() == "Paused"
    assert window.play_pause_button.text() == "Play"
    QTest.mouseClick(window.play_pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.status is VideoStatus.PLAYING, timeout=5_000)
    before = window.frames_received
    with qtbot.waitSignal(window.frame_arrived, timeout=5_000):
        pass
    assert window.frames_received > before
    QTest.mouseClick(window.reconnect_button, Qt.MouseButton.LeftButton)
    assert window.status is VideoStatus.CONNECTING
    assert window.status_label.text().startswith("Connecting…")
    qtbot.waitUntil(lambda: window.status is VideoStatus.PLAYING, timeout=10_000)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the clips folder without logging each request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


@pytest.fixture
def http_clips(clips: dict[str, Path]) -> Iterator[str]:
    """An HTTP server for the clips; yields its base URL."""
    folder = clips["short"].parent

    def handler(*args: Any) -> QuietHandler:
        return QuietHandler(*args, directory=str(folder))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_an_http_stream_with_credentials_plays_and_shows_them_masked(
    open_window: Callable[[CameraView], CameraVideoWindow],
    http_clips: str,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    window = open_window(camera(f"http://viewer:{SECRET}@{http_clips}/long.mp4"))
    assert window.address_label.text() == f"http://***@{http_clips}/long.mp4"
    qtbot.waitUntil(lambda: window.frames_received > 0, timeout=10_000)
    assert window.status is VideoStatus.PLAYING
    assert SECRET not in caplog.text
    assert f"http://***@{http_clips}/long.mp4" in caplog.text, "the log names the stream, masked"
    # FFmpeg itself would print the full URL to stderr when it opens the stream.
    assert SECRET not in capfd.readouterr().err


@could_not_open
def test_an_unreachable_stream_shows_an_error_instead_of_crashing(
    open_window: Callable[[CameraView], CameraVideoWindow],
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = closed_port()
    window = open_window(camera(f"rtsp://admin:{SECRET}@127.0.0.1:{port}/live"))
    assert window.address_label.text() == f"rtsp://***@127.0.0.1:{port}/live"
    qtbot.waitUntil(lambda: window.status is VideoStatus.ERROR, timeout=15_000)
    assert window.error_reason
    # A live camera is opened again by itself after a while; the status line says when.
    assert window.retry_pending()
    assert window.status_label.text().startswith(f"Error: {window.error_reason} Trying again in")
    assert window.frames_received == 0
    assert window.play_pause_button.text() == "Play"
    assert SECRET not in caplog.text
    assert SECRET not in window.status_label.text()
    failures = [r for r in caplog.records if r.name == "desktop.video.player" and r.levelno >= 30]
    assert len(failures) == 1, "one failure, logged once"
    window.reconnect()  # trying again fails again, the same clear way
    assert window.status is VideoStatus.CONNECTING
    assert not window.retry_pending()
    qtbot.waitUntil(lambda: window.status is VideoStatus.ERROR, timeout=15_000)


@could_not_open
def test_a_file_that_is_not_a_video_shows_an_error(
    open_window: Callable[[CameraView], CameraVideoWindow], tmp_path: Path, qtbot: QtBot
) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    window = open_window(camera(str(junk)))
    qtbot.waitUntil(lambda: window.status is VideoStatus.ERROR, timeout=10_000)
    assert window.status_label.text().startswith("Error: ")


def test_a_missing_recording_or_no_address_is_said_plainly(
    open_window: Callable[[CameraView], CameraVideoWindow], tmp_path: Path
) -> None:
    missing = tmp_path / "gone.mp4"
    window = open_window(camera(str(missing)))
    assert window.status is VideoStatus.ERROR
    assert window.status_label.text() == f"Error: the recording {missing} does not exist"
    nothing = open_window(camera("", code="CAM-X"))
    assert nothing.status is VideoStatus.NO_SOURCE
    assert nothing.status_label.text() == "No video source is available for this camera."
    assert not nothing.play_pause_button.isEnabled()
    assert not nothing.reconnect_button.isEnabled()


def test_cameras_nearby_and_their_labels() -> None:
    assert distance_m(32.0, 118.0, 32.0, 118.0) == 0.0
    assert distance_m(32.0, 118.0, 32.01, 118.0) == pytest.approx(1112, rel=0.01)
    assert camera_label(camera("/x")) == "A 区 3 号储罐 球机\nA 区储罐区 · 江北化工有限公司"
    bare = CameraView(id=2, code="C2", name="北门", lat=32.0, lon=118.0)
    assert camera_label(bare) == "北门"


def viewport_point(view: MapView, lon: float, lat: float) -> QPoint:
    scene = view.view_box.mapViewToScene(QPointF(*to_mercator(lon, lat)))
    point: QPoint = view.canvas.mapFromScene(scene)
    return point


def test_the_nearest_camera_to_the_selected_alarm_opens(
    qtbot: QtBot, settings: QSettings, tmp_path: Path
) -> None:
    service = ConsoleService()
    window = MainWindow(service, AlarmSounder(use_audio=False), settings, username="o")
    qtbot.addWidget(window)
    directory = window.camera_directory
    near = camera(str(tmp_path / "near.mp4"), code="NEAR")
    far = camera(str(tmp_path / "far.mp4"), code="FAR", lat=PARK[0] + 0.05)
    directory.set_cameras([far, near])
    assert window.map_view.cameras.count() == 2
    service.store.apply_snapshot(
        make_snapshot(5, make_alarm(1, lat=PARK[0] + 0.001, lon=PARK[1]), make_alarm(2))
    )
    assert not window.alarm_camera_action.isEnabled()
    assert window.select_alarm(1)
    assert window.alarm_camera_action.isEnabled()
    assert [c.code for c in directory.near(PARK[0] + 0.001, PARK[1])] == ["NEAR"]
    window.alarm_camera_action.trigger()
    assert sorted(directory.windows) == ["NEAR"]
    assert window.select_alarm(2)
    assert not window.alarm_camera_action.isEnabled(), "an alarm without a place"
    assert not window.watch_alarm_camera()
    window.close()
    assert directory.windows == {}


def test_the_console_maps_the_servers_cameras_and_plays_the_clicked_one(
    qtbot: QtBot, settings: QSettings, run: Run, clips: dict[str, Path]
) -> None:
    with ServerThread() as server:
        server.add_user("park-officer", "pw-park-officer", "officer", jurisdiction="3201")
        registry = server.server.cameras
        server.call(registry.add(camera(str(clips["long"]), jurisdiction="320111")))
        # Cameras lie where they stand: this one films Hangzhou's West Lake.
        hangzhou = camera("rtsp://h/x", code="HZ-1", lat=30.27, lon=120.13)
        server.call(registry.add(hangzhou))

        async def scenario() -> None:
            service = ConsoleService()
            window = MainWindow(service, AlarmSounder(use_audio=False), settings, username="p")
            qtbot.addWidget(window)
            window.show()
            directory: CameraDirectory = window.camera_directory
            service.start(server.console_url, "park-officer", "pw-park-officer")
            try:
                await wait_until(lambda: service.state is ConnectionState.LIVE, what="live")
                layer = window.map_view.cameras
                await wait_until(lambda: layer.count() == 1, what="cameras on the map")
                assert sorted(directory.cameras) == ["CAM-A3"], "not the other city's camera"
                tip = layer.item.opts["tip"]
                assert tip(0.0, 0.0, "CAM-A3") == plain_tooltip(
                    camera_label(directory.cameras["CAM-A3"])
                )
                assert window.map_view.layer_visible(LayerKey.CAMERAS)
                window.map_view.center_on(PARK[1], PARK[0], span_m=2_000)
                QTest.mouseClick(
                    window.map_view.canvas.viewport(),
                    Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier,
                    viewport_point(window.map_view, PARK[1], PARK[0]),
                )
                await wait_until(lambda: "CAM-A3" in directory.windows, what="video window")
                video = directory.windows["CAM-A3"]
                assert video.isVisible()
                await wait_until(lambda: video.frames_received > 0, what="frames")
                assert video.status is VideoStatus.PLAYING
                assert directory.open_video("CAM-A3") is video, "one window per camera"
            finally:
                window.close()
                await service.stop()
            assert directory.windows == {}

        run(scenario(), timeout=60)


class FlakyHandler(QuietHandler):
    """Answers 503 to the first ``failures`` requests, then serves the clips."""

    failures = 2
    served: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        """Fail while the camera is 'rebooting', then stream."""
        FlakyHandler.served.append(1)
        if len(FlakyHandler.served) <= FlakyHandler.failures:
            self.send_error(503, "camera rebooting")
            return
        super().do_GET()


@could_not_open
def test_a_failing_live_camera_is_opened_again_by_itself_until_it_plays(
    clips: dict[str, Path], qtbot: QtBot
) -> None:
    FlakyHandler.served = []
    folder = clips["long"].parent

    def handler(*args: Any) -> FlakyHandler:
        return FlakyHandler(*args, directory=str(folder))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    window = CameraVideoWindow(
        camera(f"http://127.0.0.1:{server.server_address[1]}/long.mp4"), retry_delays=(0.2, 0.4)
    )
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.frames_received > 0, timeout=20_000)
        assert window.status is VideoStatus.PLAYING
        assert window.automatic_reconnects >= 1
        assert not window.retry_pending()
    finally:
        window.stop()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_recording_that_ends_is_not_reopened(
    open_window: Callable[[CameraView], CameraVideoWindow], clips: dict[str, Path], qtbot: QtBot
) -> None:
    window = open_window(camera(str(clips["short"])))
    qtbot.waitUntil(lambda: window.status is VideoStatus.ENDED, timeout=15_000)
    assert not window.retry_pending()
