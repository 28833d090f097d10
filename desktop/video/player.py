"""A camera's video window: the picture, the camera's name, its masked address and a
status line, with play/pause and reconnect.

QtMultimedia's FFmpeg back end opens files, HTTP and RTSP streams off the GUI thread; an
RTSP camera takes a few seconds, so the window says it is connecting (and for how long)
until the first frame arrives, and says why when a stream cannot be played. Nothing a
stream does can crash the console: every failure ends in :attr:`VideoStatus.ERROR` with
a reason the officer can read.
"""

from __future__ import annotations

import enum
import logging
import urllib.parse
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from desktop.plain_text import plain_label
from desktop.video.logging_rules import limit_ffmpeg_log
from realtime.protocol import CameraView
from realtime.streams import is_url, mask_stream_url, mask_urls_in_text

logger = logging.getLogger(__name__)

CLOCK_MS = 1000
"""How often the status line counts the seconds spent connecting."""
LIVE_SCHEMES = frozenset({"rtsp", "rtsps"})
"""Streams that are live by nature: when one closes, the camera is opened again."""
RETRY_DELAYS_S: tuple[float, ...] = (5.0, 10.0, 20.0, 40.0, 60.0)
"""Waits before opening a failed or closed live stream again (the last one repeats)."""


class VideoStatus(enum.Enum):
    """What the window's stream is doing."""

    NO_SOURCE = "no_source"
    """The camera has no stream address the console may use."""
    CONNECTING = "connecting"
    """Opening the stream; no picture yet."""
    PLAYING = "playing"
    """Frames arrive."""
    BUFFERING = "buffering"
    """The stream stalled after it had played; waiting for data."""
    PAUSED = "paused"
    ENDED = "ended"
    """A recording reached its end, or a live stream closed."""
    ERROR = "error"
    """The stream cannot be played; :attr:`CameraVideoWindow.error_reason` says why."""


def status_text(status: VideoStatus, *, reason: str = "", seconds: int = 0) -> str:
    """Return the status line for ``status`` (translated)."""
    translate = QCoreApplication.translate
    texts = {
        VideoStatus.NO_SOURCE: translate(
            "CameraVideo", "No video source is available for this camera."
        ),
        VideoStatus.CONNECTING: translate("CameraVideo", "Connecting… {seconds} s").format(
            seconds=seconds
        ),
        VideoStatus.PLAYING: translate("CameraVideo", "Playing"),
        VideoStatus.BUFFERING: translate(
            "CameraVideo", "Waiting for the stream… {seconds} s"
        ).format(seconds=seconds),
        VideoStatus.PAUSED: translate("CameraVideo", "Paused"),
        VideoStatus.ENDED: translate("CameraVideo", "The stream ended."),
        VideoStatus.ERROR: translate("CameraVideo", "Error: {reason}").format(reason=reason),
    }
    return texts[status]


def source_url(stream_url: str) -> QUrl:
    """Return what the player opens for a camera's stream address (a URL or a file path)."""
    if is_url(stream_url):
        return QUrl(stream_url.strip())
    return QUrl.fromLocalFile(stream_url.strip())


class CameraVideoWindow(QWidget):
    """A top-level window that plays one camera's stream."""

    status_changed = Signal(object)
    """The stream's :class:`VideoStatus` changed."""
    frame_arrived = Signal()
    """A video frame was shown (for tests and the status line)."""
    closed = Signal(str)
    """The window was closed (the camera's code)."""

    def __init__(
        self,
        camera: CameraView,
        parent: QWidget | None = None,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS_S,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName(f"camera_video_{camera.code}")
        self.camera = camera
        self.setWindowTitle(self.tr("Camera – {name}").format(name=camera.name))
        self.resize(640, 480)
        self.status = VideoStatus.NO_SOURCE
        self.error_reason = ""
        self.frames_received = 0
        self._seconds = 0

        self.name_label = plain_label(camera.name, self)
        self.name_label.setObjectName("camera_name_label")
        font = QFont(self.name_label.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.name_label.setFont(font)
        details = " · ".join(part for part in (camera.hazard_source, camera.enterprise) if part)
        self.details_label = plain_label(details, self)
        self.details_label.setObjectName("camera_details_label")
        self.details_label.setVisible(bool(details))
        self.address_label = plain_label(mask_stream_url(camera.stream_url), self)
        self.address_label.setObjectName("camera_address_label")
        self.address_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.video_widget = QVideoWidget(self)
        self.video_widget.setObjectName("camera_video_widget")
        self.video_widget.setMinimumSize(320, 180)
        self.status_label = plain_label(parent=self)
        self.status_label.setObjectName("camera_status_label")
        self.status_label.setWordWrap(True)
        self.play_pause_button = QPushButton(self)
        self.play_pause_button.setObjectName("camera_play_pause_button")
        self.play_pause_button.clicked.connect(self.toggle_play)
        self.reconnect_button = QPushButton(self.tr("Reconnect"), self)
        self.reconnect_button.setObjectName("camera_reconnect_button")
        self.reconnect_button.clicked.connect(self.reconnect)

        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.play_pause_button)
        buttons.addWidget(self.reconnect_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.name_label)
        layout.addWidget(self.details_label)
        layout.addWidget(self.address_label)
        layout.addWidget(self.video_widget, 1)
        layout.addLayout(buttons)

        self.player = QMediaPlayer(self)
        limit_ffmpeg_log()  # the player loaded FFmpeg; keep stream URLs out of its log
        self.player.setVideoOutput(self.video_widget)
        self.player.mediaStatusChanged.connect(self._on_media_status)
        self.player.playbackStateChanged.connect(self._on_playback_state)
        self.player.errorOccurred.connect(self._on_error)
        self.video_widget.videoSink().videoFrameChanged.connect(self._on_frame)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_MS)
        self._clock.timeout.connect(self._tick)
        # A live camera that fails or closes is opened again by itself, waiting longer
        # each time, until frames arrive (a recording that ended is left ended).
        self._retry_delays = retry_delays
        self._failures_in_a_row = 0
        self.automatic_reconnects = 0
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._retry_now)
        self.connect_stream()

    # ------------------------------------------------------------------ control

    def connect_stream(self) -> None:
        """Open the camera's stream and start playing it."""
        address = self.camera.stream_url.strip()
        if not address:
            self._set_status(VideoStatus.NO_SOURCE)
            return
        if not is_url(address) and not Path(address).is_file():
            self._fail(self.tr("the recording {path} does not exist").format(path=address))
            return
        self.frames_received = 0
        self._set_status(VideoStatus.CONNECTING)
        logger.info("opening camera %s: %s", self.camera.code, mask_stream_url(address))
        self.player.setSource(source_url(address))
        self.player.play()

    def retry_pending(self) -> bool:
        """Whether the stream will be opened again by itself shortly."""
        return self._retry.isActive()

    def reconnect(self) -> None:
        """Drop the stream and open it again (after an error, or a frozen picture)."""
        self._retry.stop()
        self.player.stop()
        self.player.setSource(QUrl())
        self.connect_stream()

    def toggle_play(self) -> None:
        """Pause a playing stream, resume a paused one, open an ended or failed one again."""
        if self.status in (VideoStatus.PLAYING, VideoStatus.BUFFERING, VideoStatus.CONNECTING):
            self.player.pause()
        elif self.status is VideoStatus.PAUSED:
            self.player.play()
        else:
            self.reconnect()

    def stop(self) -> None:
        """Stop playing and release the stream (no automatic reconnect either)."""
        self._retry.stop()
        self._clock.stop()
        self.player.stop()
        self.player.setSource(QUrl())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Release the stream when the officer closes the window."""
        self.stop()
        super().closeEvent(event)
        self.closed.emit(self.camera.code)

    # ------------------------------------------------------------------ player events

    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        media = QMediaPlayer.MediaStatus
        if status is media.LoadingMedia:
            self._set_status(VideoStatus.CONNECTING)
        elif status in (media.StalledMedia, media.BufferingMedia):
            if self.frames_received and self.status is VideoStatus.PLAYING:
                self._set_status(VideoStatus.BUFFERING)
        elif status is media.BufferedMedia:
            if self.frames_received and self.status is VideoStatus.BUFFERING:
                self._set_status(VideoStatus.PLAYING)
        elif status is media.EndOfMedia:
            self._set_status(VideoStatus.ENDED)
        elif status is media.InvalidMedia and self.status is not VideoStatus.ERROR:
            self._fail(self.player.errorString() or self.tr("the stream cannot be played"))

    def _on_playback_state(self, state: QMediaPlayer.PlaybackState) -> None:
        if state is QMediaPlayer.PlaybackState.PausedState:
            self._set_status(VideoStatus.PAUSED)
        elif state is QMediaPlayer.PlaybackState.PlayingState and self.status in (
            VideoStatus.PAUSED,
            VideoStatus.ENDED,
        ):
            self._set_status(
                VideoStatus.PLAYING if self.frames_received else VideoStatus.CONNECTING
            )

    def _on_error(self, error: QMediaPlayer.Error, text: str) -> None:
        if error is QMediaPlayer.Error.NoError:
            return
        self._fail(text or self.tr("the stream cannot be played"))

    def _on_frame(self, frame: QVideoFrame) -> None:
        if not frame.isValid():
            return
        self.frames_received += 1
        self._failures_in_a_row = 0
        if self.status in (VideoStatus.CONNECTING, VideoStatus.BUFFERING):
            self._set_status(VideoStatus.PLAYING)
        self.frame_arrived.emit()

    # ------------------------------------------------------------------ status

    def _fail(self, reason: str) -> None:
        if self.status is VideoStatus.ERROR:
            return  # the player reports one failure twice (error, then invalid media)
        self.error_reason = mask_urls_in_text(reason)
        logger.warning("camera %s: %s", self.camera.code, self.error_reason)
        self._set_status(VideoStatus.ERROR)

    def _schedule_retry(self) -> None:
        """After a camera's stream failed (or a live one closed): open it again after the
        next wait. Recordings are not retried: a file that ended or is broken stays so."""
        scheme = urllib.parse.urlsplit(self.camera.stream_url.strip()).scheme.lower()
        retry = scheme in LIVE_SCHEMES or (
            self.status is VideoStatus.ERROR and scheme in ("http", "https")
        )
        if not retry or not self._retry_delays or not self.isVisible():
            return
        delay = self._retry_delays[min(self._failures_in_a_row, len(self._retry_delays) - 1)]
        self._failures_in_a_row += 1
        self._retry.start(round(delay * 1000))
        self._clock.start()
        logger.info("camera %s: opening the stream again in %.0f s", self.camera.code, delay)

    def _retry_now(self) -> None:
        self.automatic_reconnects += 1
        self.player.stop()
        self.player.setSource(QUrl())
        self.connect_stream()

    def _set_status(self, status: VideoStatus) -> None:
        changed = status is not self.status
        if changed and status in (VideoStatus.CONNECTING, VideoStatus.BUFFERING):
            self._seconds = 0
        self.status = status
        if status in (VideoStatus.CONNECTING, VideoStatus.BUFFERING):
            self._clock.start()
        else:
            self._clock.stop()
        if changed and status in (VideoStatus.ERROR, VideoStatus.ENDED):
            self._schedule_retry()
        self._show_status()
        if changed:
            self.status_changed.emit(status)

    def _tick(self) -> None:
        self._seconds += 1
        self._show_status()

    def _show_status(self) -> None:
        text = status_text(self.status, reason=self.error_reason, seconds=self._seconds)
        if self._retry.isActive():
            text += " " + self.tr("Trying again in {seconds} s…").format(
                seconds=max(1, round(self._retry.remainingTime() / 1000))
            )
        self.status_label.setText(text)
        colour = "#b71c1c" if self.status is VideoStatus.ERROR else "#263238"
        self.status_label.setStyleSheet(f"color: {colour};")
        pausable = self.status in (
            VideoStatus.PLAYING,
            VideoStatus.BUFFERING,
            VideoStatus.CONNECTING,
        )
        self.play_pause_button.setText(self.tr("Pause") if pausable else self.tr("Play"))
        self.play_pause_button.setEnabled(self.status is not VideoStatus.NO_SOURCE)
        self.reconnect_button.setEnabled(self.status is not VideoStatus.NO_SOURCE)
