"""Track replay dock: load a vehicle's track, play it at 1×–64×, read its analysis.

The track is drawn on a plain pyqtgraph plot in lon/lat (WGS-84 degrees): the whole
route in grey, overspeed segments in red, stops of five minutes or more as labelled
markers, and the replayed fix as a moving dot. The track is asked for in the compact
column form and kept as numpy arrays (:class:`~desktop.vehicles.track.TrackData`); the
analysis and the playback clock are plain Python and numpy (:mod:`desktop.vehicles.track`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QDateTime, Qt, QTimer, QTimeZone, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from desktop.vehicles.roster import VehicleRoster
from desktop.vehicles.track import (
    DEFAULT_SPEED_LIMIT_KMH,
    REPLAY_SPEEDS,
    ReplayClock,
    TrackAnalysis,
    TrackData,
    analyse_track,
    write_gpx,
    write_track_csv,
)
from realtime.protocol import (
    ErrorCode,
    GetTrack,
    PositionView,
    ResultData,
    TrackColumns,
    TrackForm,
    TrackResult,
)

logger = logging.getLogger(__name__)

PLAY_TICK_MS = 100
"""The replay advances this often while playing."""
DEFAULT_SPAN = dt.timedelta(hours=2)
"""The time range offered when the panel opens: the last two hours."""
MAX_TRACK_POINTS = 100_000


class TrackReplayPanel(QWidget):
    """Pick a vehicle and a time range, load the track, play it back."""

    position_changed = Signal(object)
    """The replayed fix moved (a :class:`~realtime.protocol.PositionView`), for the map."""
    track_shown = Signal(str, object)
    """A track was loaded: the device and its fixes in time order (a
    :class:`~desktop.vehicles.track.TrackData`), for the map."""

    def __init__(
        self, service: ConsoleService, roster: VehicleRoster, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("track_replay_panel")
        self._service = service
        self._roster = roster
        self._closed = False
        self.device = ""
        self.track = TrackData.empty()
        """The loaded fixes in time order."""
        self.analysis: TrackAnalysis | None = None
        self.truncated = False
        self.clock = ReplayClock([])
        self._last_tick = time.monotonic()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        form = QGridLayout()
        self.vehicle_combo = QComboBox(self)
        self.vehicle_combo.setObjectName("replay_vehicle")
        self.vehicle_combo.setEditable(True)
        form.addWidget(plain_label(self.tr("Vehicle"), self), 0, 0)
        form.addWidget(self.vehicle_combo, 0, 1, 1, 3)
        now = QDateTime.currentDateTime()
        self.start_edit = QDateTimeEdit(now.addSecs(-int(DEFAULT_SPAN.total_seconds())), self)
        self.end_edit = QDateTimeEdit(now, self)
        for edit in (self.start_edit, self.end_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setTimeZone(texts_time_zone())
        form.addWidget(plain_label(self.tr("From"), self), 1, 0)
        form.addWidget(self.start_edit, 1, 1)
        form.addWidget(plain_label(self.tr("To"), self), 1, 2)
        form.addWidget(self.end_edit, 1, 3)
        self.limit_spin = QDoubleSpinBox(self)
        self.limit_spin.setRange(10, 200)
        self.limit_spin.setSuffix(" km/h")
        self.limit_spin.setValue(DEFAULT_SPEED_LIMIT_KMH)
        self.limit_spin.valueChanged.connect(lambda _value: self._analyse())
        form.addWidget(plain_label(self.tr("Speed limit"), self), 2, 0)
        form.addWidget(self.limit_spin, 2, 1)
        self.load_button = QPushButton(self.tr("Load track"), self)
        self.load_button.setObjectName("replay_load")
        self.load_button.clicked.connect(self.load_selected)
        form.addWidget(self.load_button, 2, 3)
        layout.addLayout(form)

        self.plot = pg.PlotWidget(self)
        self.plot.setObjectName("replay_plot")
        self.plot.setBackground("w")
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", self.tr("Longitude (°)"))
        self.plot.setLabel("left", self.tr("Latitude (°)"))
        self.route_curve = self.plot.plot(pen=pg.mkPen("#90a4ae", width=2))
        self.overspeed_curve = self.plot.plot(pen=pg.mkPen("#d32f2f", width=3), connect="finite")
        self.stop_markers = pg.ScatterPlotItem(
            symbol="s", size=10, brush=pg.mkBrush("#1565c0"), pen=pg.mkPen("w")
        )
        self.plot.addItem(self.stop_markers)
        self.stop_labels: list[Any] = []
        self.replay_marker = pg.ScatterPlotItem(
            symbol="o", size=14, brush=pg.mkBrush("#ff6f00"), pen=pg.mkPen("k")
        )
        self.plot.addItem(self.replay_marker)
        layout.addWidget(self.plot, 1)

        controls = QHBoxLayout()
        self.back_button = QPushButton("⏮", self)
        self.back_button.setToolTip(self.tr("Step back"))
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.play_button = QPushButton(self.tr("Play"), self)
        self.play_button.setObjectName("replay_play")
        self.play_button.clicked.connect(self.toggle_play)
        self.forward_button = QPushButton("⏭", self)
        self.forward_button.setToolTip(self.tr("Step forward"))
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.speed_combo = QComboBox(self)
        self.speed_combo.setObjectName("replay_speed")
        for speed in REPLAY_SPEEDS:
            self.speed_combo.addItem(f"{speed}×", speed)
        self.speed_combo.currentIndexChanged.connect(self._on_speed_changed)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("replay_slider")
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider_moved)
        for widget in (self.back_button, self.play_button, self.forward_button, self.speed_combo):
            controls.addWidget(widget)
        controls.addWidget(self.slider, 1)
        layout.addLayout(controls)
        self.position_label = plain_label(parent=self)
        self.position_label.setObjectName("replay_position")
        layout.addWidget(self.position_label)
        self.summary_label = plain_label(parent=self)
        self.summary_label.setObjectName("replay_summary")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        exports = QHBoxLayout()
        gpx_button = QPushButton(self.tr("Export GPX…"), self)
        gpx_button.clicked.connect(self._ask_export_gpx)
        csv_button = QPushButton(self.tr("Export CSV…"), self)
        csv_button.clicked.connect(self._ask_export_csv)
        exports.addStretch(1)
        exports.addWidget(gpx_button)
        exports.addWidget(csv_button)
        layout.addLayout(exports)

        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_TICK_MS)
        self._timer.timeout.connect(self._on_tick)
        self._choices: list[tuple[str, str]] = []
        """What the picker offers now: (shown text, device)."""
        self._remove_listener = roster.add_listener(self.refresh_vehicles)
        self.refresh_vehicles()

    # ------------------------------------------------------------------ loading

    def refresh_vehicles(self) -> None:
        """Offer the roster's vehicles in the picker (keeping the current choice)."""
        if self._closed:
            return
        choices = self._roster.choices()
        if choices == self._choices:  # positions moved, the vehicles did not change
            return
        self._choices = choices
        current = self.selected_device()
        self.vehicle_combo.blockSignals(True)
        try:
            self.vehicle_combo.clear()
            for shown, device in choices:
                self.vehicle_combo.addItem(shown, device)
            self._select_in_combo(current)
        finally:
            self.vehicle_combo.blockSignals(False)

    def _select_in_combo(self, device: str) -> None:
        index = self.vehicle_combo.findData(device)
        if index >= 0:
            self.vehicle_combo.setCurrentIndex(index)
        elif device:
            self.vehicle_combo.setEditText(device)

    def selected_device(self) -> str:
        """The chosen device identity (a typed identity when it is not listed)."""
        index = self.vehicle_combo.currentIndex()
        data = self.vehicle_combo.itemData(index) if index >= 0 else None
        text = self.vehicle_combo.currentText().strip()
        if isinstance(data, str) and self.vehicle_combo.itemText(index) == text:
            return data
        return text

    def set_range(self, start: dt.datetime, end: dt.datetime) -> None:
        """Set the time range to load."""
        self.start_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(start.timestamp())))
        self.end_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(end.timestamp())))

    def open_vehicle(self, device: str) -> None:
        """Choose ``device`` (e.g. from the vehicle list) without loading yet."""
        self._select_in_combo(device)

    def load_selected(self) -> None:
        """Load the chosen vehicle's track for the chosen range."""
        start = dt.datetime.fromtimestamp(self.start_edit.dateTime().toSecsSinceEpoch(), dt.UTC)
        end = dt.datetime.fromtimestamp(self.end_edit.dateTime().toSecsSinceEpoch(), dt.UTC)
        self.load(self.selected_device(), start, end)

    @property
    def positions(self) -> TrackData:
        """The loaded fixes in time order (read as :class:`PositionView` on demand)."""
        return self.track

    def load(self, device: str, start: dt.datetime, end: dt.datetime) -> None:
        """Ask the server for ``device``'s track in ``[start, end)``."""
        if not device or end <= start:
            self.summary_label.setText(self.tr("Pick a vehicle and a time range."))
            return
        self.pause()
        self.summary_label.setText(self.tr("Loading…"))
        command = GetTrack(
            req="",
            device=device,
            start=start,
            end=end,
            max_points=MAX_TRACK_POINTS,
            form=TrackForm.COLUMNS,
        )

        def on_error(code: str, message: str) -> None:
            # A server older than the column form refuses the field: ask again in rows.
            if code == ErrorCode.BAD_MESSAGE and "form" in message and not self._closed:
                logger.info("server does not know track columns; asking for rows")
                rows = msgspec.structs.replace(command, form=TrackForm.ROWS)
                self._service.query(rows, self._on_track, self._on_error)
                return
            self._on_error(code, message)

        self._service.query(command, self._on_track, on_error)

    def _on_track(self, result: ResultData) -> None:
        if self._closed:
            return
        if isinstance(result, TrackColumns):
            self.set_track(
                result.device, TrackData.from_columns(result), truncated=result.truncated
            )
        elif isinstance(result, TrackResult):
            self.set_track(result.device, result.positions, truncated=result.truncated)

    def _on_error(self, code: str, message: str) -> None:
        if self._closed:
            return
        logger.info("track query failed: %s %s", code, message)
        self.summary_label.setText(f"{texts.error_summary(code)} ({message})")

    def set_track(
        self, device: str, positions: Sequence[PositionView], *, truncated: bool = False
    ) -> None:
        """Show a loaded track (a :class:`TrackData`, or any fixes) and rewind the replay
        to its first fix."""
        self.pause()
        self.device = device
        self.track = TrackData.from_positions(positions, device=device).sorted_by_time()
        self.truncated = truncated
        self.clock = ReplayClock(self.track)
        self.clock.speed = self.replay_speed()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(self.track) - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.route_curve.setData(self.track.lon, self.track.lat)
        self._analyse()
        self._show_current()
        if self.track:
            self.plot.autoRange()
        self.track_shown.emit(device, self.track)

    def _analyse(self) -> None:
        track = self.track
        if not track:
            self.analysis = None
            self.overspeed_curve.setData([], [])
            self.stop_markers.setData([])
            self.summary_label.setText(self.tr("No positions in this range."))
            return
        analysis = analyse_track(track, speed_limit_kmh=self.limit_spin.value())
        self.analysis = analysis
        gap = np.array([np.nan])
        lons: list[npt.NDArray[np.float64]] = [gap]
        lats: list[npt.NDArray[np.float64]] = [gap]
        for segment in analysis.overspeed:
            # One fix beyond the run, so that a single overspeed fix still draws a line.
            lons += (track.lon[segment.first : segment.last + 2], gap)
            lats += (track.lat[segment.first : segment.last + 2], gap)
        self.overspeed_curve.setData(np.concatenate(lons), np.concatenate(lats), connect="finite")
        for label in self.stop_labels:
            self.plot.removeItem(label)
        self.stop_labels = []
        self.stop_markers.setData([{"pos": (stop.lon, stop.lat)} for stop in analysis.stops])
        for stop in analysis.stops:
            label = pg.TextItem(
                texts.format_duration(stop.duration.total_seconds()),
                color="#1565c0",
                anchor=(0, 1),
            )
            label.setPos(stop.lon, stop.lat)
            self.plot.addItem(label)
            self.stop_labels.append(label)
        summary = self.tr(
            "{distance:.2f} km · moving {moving} · stopped {stopped} · "
            "{stops} stops · {overspeed} overspeed segments · top speed {top:.0f} km/h"
        ).format(
            distance=analysis.distance_m / 1000,
            moving=texts.format_duration(analysis.moving_time.total_seconds()),
            stopped=texts.format_duration(analysis.stopped_time.total_seconds()),
            stops=len(analysis.stops),
            overspeed=len(analysis.overspeed),
            top=analysis.max_speed_kmh,
        )
        if self.truncated:
            summary += " " + self.tr("(thinned out by the server)")
        self.summary_label.setText(summary)

    # ------------------------------------------------------------------ playback

    def replay_speed(self) -> int:
        """Track seconds replayed per second."""
        speed = self.speed_combo.currentData()
        return speed if isinstance(speed, int) else 1

    def set_replay_speed(self, speed: int) -> None:
        """Choose one of :data:`REPLAY_SPEEDS`."""
        index = self.speed_combo.findData(speed)
        if index >= 0:
            self.speed_combo.setCurrentIndex(index)

    def _on_speed_changed(self, _index: int) -> None:
        self.clock.speed = self.replay_speed()

    @property
    def playing(self) -> bool:
        """Whether the replay runs."""
        return self.clock.playing

    def play(self) -> None:
        """Play from the current fix (from the start when at the end)."""
        if not self.track:
            return
        self.clock.play()
        self._last_tick = time.monotonic()
        self._timer.start()
        self.play_button.setText(self.tr("Pause"))
        self._show_current()

    def pause(self) -> None:
        """Stop where the replay is."""
        self.clock.pause()
        self._timer.stop()
        self.play_button.setText(self.tr("Play"))

    def toggle_play(self) -> None:
        """Play or pause."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def step(self, count: int) -> None:
        """Pause and move ``count`` fixes (negative: back)."""
        self.pause()
        self.clock.step(count)
        self._show_current()

    def advance(self, wall_seconds: float) -> None:
        """Let ``wall_seconds`` of playback pass (the timer calls this)."""
        if self.clock.advance(wall_seconds):
            self._show_current()
        if not self.clock.playing and self._timer.isActive():
            self.pause()

    def _on_tick(self) -> None:
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        self.advance(elapsed)

    def _on_slider_moved(self, value: int) -> None:
        if value != self.clock.index:
            self.clock.seek(value)
            self._show_current()

    def current_position(self) -> PositionView | None:
        """The fix the replay shows."""
        return self.track[self.clock.index] if self.track else None

    def _show_current(self) -> None:
        position = self.current_position()
        if position is None:
            self.replay_marker.setData([])
            self.position_label.setText("")
            return
        self.replay_marker.setData([{"pos": (position.lon, position.lat)}])
        self.slider.blockSignals(True)
        self.slider.setValue(self.clock.index)
        self.slider.blockSignals(False)
        self.position_label.setText(
            self.tr("{time} · {speed:.0f} km/h · fix {index}/{count}").format(
                time=texts.format_time(position.at),
                speed=position.speed_kmh,
                index=self.clock.index + 1,
                count=len(self.track),
            )
        )
        self.position_changed.emit(position)

    # ------------------------------------------------------------------ export

    def export_gpx(self, path: Path) -> None:
        """Write the loaded track as GPX."""
        write_gpx(path, self.device, self._roster.label(self.device), self.track)

    def export_csv(self, path: Path) -> None:
        """Write the loaded track as CSV."""
        write_track_csv(path, self.device, self.track, texts.DISPLAY_TIMEZONE)

    def _ask_export_gpx(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export track"), "track.gpx", self.tr("GPX tracks (*.gpx)")
        )
        if name:
            self.export_gpx(Path(name))

    def _ask_export_csv(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export track"), "track.csv", self.tr("CSV files (*.csv)")
        )
        if name:
            self.export_csv(Path(name))

    def shutdown(self) -> None:
        """Stop playback and the roster listener (the window is closing)."""
        self._closed = True
        self.pause()
        self._remove_listener()


def texts_time_zone() -> QTimeZone:
    """The display zone as a QTimeZone, for the range pickers."""
    return QTimeZone(texts.DISPLAY_TIMEZONE.key.encode())
