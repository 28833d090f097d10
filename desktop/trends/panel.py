"""The sensor trends dock: pick sensors, watch live curves, scroll back through history.

One :class:`pyqtgraph.PlotDataItem` per sensor is fed by ``setData`` from a fixed-rate
timer (live readings only queue points), with peak downsampling and clip-to-view.
Sensors with the same unit share a plot; other units get their own plot below, all on
one linked time axis shown in local time. Scrolling or zooming asks the server (through
the :class:`~desktop.trends.history.HistoryLoader`, debounced) only for the ranges the
:class:`~desktop.trends.store.SeriesCache` has not fetched yet.

The panel ties the pieces: the :class:`~desktop.trends.sensor_picker.SensorPicker` on
the left, the plots (:mod:`desktop.trends.plots`) and a data-age table on the right.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.plain_text import escape, plain_label
from desktop.service import ConsoleService
from desktop.state import AlarmStore, StoreChange, utc_now
from desktop.trends.history import HistoryLoader
from desktop.trends.plots import (
    CURVE_COLOURS,
    TrendSeries,
    add_curve,
    add_unit_plot,
    draw_alarm_marks,
    draw_thresholds,
)
from desktop.trends.projection import ProjectionOverlay
from desktop.trends.sensor_picker import SensorPicker
from desktop.trends.store import (
    SeriesCache,
    epoch,
    sensor_of_alarm,
    write_series_csv,
)
from realtime.protocol import (
    AlarmView,
    ListSensors,
    ResultData,
    SensorsResult,
    SensorView,
    Telemetry,
)

logger = logging.getLogger(__name__)

REDRAW_MS = 500
"""The fixed rate at which curves, the live window and data ages are redrawn."""
ALARM_WINDOW = dt.timedelta(minutes=30)
"""A sensor opened from an alarm shows this much before and after the alarm."""
LIVE_WINDOWS: tuple[dt.timedelta, ...] = (
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
    dt.timedelta(hours=24),
)
"""The spans the live view can follow."""


class TrendsPanel(QWidget):
    """Sensor list on the left, stacked plots and a data-age table on the right."""

    sensors_loaded = Signal(object)
    """The sensor registry arrived (a list of ``SensorView``): the map shows their sites."""

    def __init__(
        self,
        service: ConsoleService,
        alarms: AlarmStore,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("trends_panel")
        self._service = service
        self._alarms = alarms
        self._clock = clock
        self._closed = False
        self.sensors: dict[str, SensorView] = {}
        self.series: dict[str, TrendSeries] = {}
        self.plots: dict[str, Any] = {}
        """One PlotItem per unit, top to bottom."""
        self._colour_index = 0

        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        layout.addWidget(splitter)

        self.picker = SensorPicker(splitter)
        self.picker.sensor_toggled.connect(self._on_sensor_toggled)
        self.search_edit = self.picker.search_edit
        self.sensor_tree = self.picker.sensor_tree
        self.reload_button = self.picker.reload_button
        self.reload_button.clicked.connect(self.load_sensors)

        right = QWidget(splitter)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        controls = QHBoxLayout()
        self.live_check = QCheckBox(self.tr("Follow live"), right)
        self.live_check.setObjectName("trends_live")
        self.live_check.setChecked(True)
        self.live_check.toggled.connect(self._on_live_toggled)
        controls.addWidget(self.live_check)
        self.window_combo = QComboBox(right)
        for window in LIVE_WINDOWS:
            self.window_combo.addItem(texts.format_duration(window.total_seconds()), window)
        self.window_combo.currentIndexChanged.connect(lambda _index: self._follow_live())
        controls.addWidget(self.window_combo)
        controls.addStretch(1)
        self.status_label = plain_label(parent=right)
        self.status_label.setObjectName("trends_status")
        controls.addWidget(self.status_label)
        export_png = QPushButton(self.tr("Export PNG…"), right)
        export_png.clicked.connect(self._ask_export_png)
        controls.addWidget(export_png)
        export_csv = QPushButton(self.tr("Export CSV…"), right)
        export_csv.clicked.connect(self._ask_export_csv)
        controls.addWidget(export_csv)
        right_layout.addLayout(controls)

        self.plot_area = pg.GraphicsLayoutWidget(right)
        self.plot_area.setObjectName("trends_plot_area")
        self.plot_area.setBackground("w")
        right_layout.addWidget(self.plot_area, 1)
        self.age_table = QTableWidget(0, 4, right)
        self.age_table.setObjectName("trends_age_table")
        self.age_table.setHorizontalHeaderLabels(
            [self.tr("Sensor"), self.tr("Last value"), self.tr("Last reading"), self.tr("Age")]
        )
        self.age_table.verticalHeader().hide()
        self.age_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.age_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.age_table.setMaximumHeight(130)
        right_layout.addWidget(self.age_table)
        splitter.setStretchFactor(1, 3)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self.redraw)
        self._redraw_timer.start()
        self._history = HistoryLoader(
            service,
            self,
            fetch_due=self.fetch_visible,
            loaded=self.redraw,
            failed=self.show_query_error,
        )
        self._remove_alarm_listener = alarms.add_listener(self._on_alarm_change)
        self.projections = ProjectionOverlay(
            service, self, series=lambda: self.series, plot_of=lambda s: self.plots.get(s.unit)
        )
        """The fitted trend of each shown sensor, dashed, with its predicted crossing."""

    # ------------------------------------------------------------------ sensors

    def load_sensors(self) -> None:
        """Ask the server for the sensor registry; the list fills when it answers."""
        self._service.query(ListSensors(req=""), self._on_sensors_result, self.show_query_error)

    def _on_sensors_result(self, result: ResultData) -> None:
        if self._closed or not isinstance(result, SensorsResult):
            return
        self.set_sensors(result.sensors)

    def set_sensors(self, sensors: Iterable[SensorView]) -> None:
        """Fill the sensor list, grouped by hazard source and enterprise."""
        self.sensors = {sensor.sensor_id: sensor for sensor in sensors}
        self.picker.fill(self.sensors, checked=self.series)
        self.sensors_loaded.emit(list(self.sensors.values()))
        for sensor_id, series in self.series.items():
            known = self.sensors.get(sensor_id)
            if known is not None and known != series.sensor:
                series.sensor = known
                self._rebuild_plots()
        self.picker.apply_search(self.search_edit.text())

    def visible_sensor_ids(self) -> list[str]:
        """The sensor ids the search leaves in the list."""
        return self.picker.visible_sensor_ids()

    def _on_sensor_toggled(self, sensor_id: str, checked: bool) -> None:
        if checked:
            self.add_sensor(sensor_id)
        else:
            self.remove_sensor(sensor_id)

    # ------------------------------------------------------------------ series

    def add_sensor(self, sensor_id: str) -> TrendSeries:
        """Show ``sensor_id``'s trend (its history is fetched for the visible range)."""
        held = self.series.get(sensor_id)
        if held is not None:
            return held
        sensor = self.sensors.get(sensor_id) or SensorView(sensor_id=sensor_id, kind="", unit="")
        colour = CURVE_COLOURS[self._colour_index % len(CURVE_COLOURS)]
        self._colour_index += 1
        series = TrendSeries(
            sensor=sensor,
            cache=SeriesCache(sensor_id, sensor.unit),
            colour=colour,
            live_since=epoch(self._clock()),
        )
        had_plots = bool(self.plots)
        self.series[sensor_id] = series
        self.picker.set_checked(sensor_id, True)
        self._rebuild_plots()
        if not had_plots and self.live_check.isChecked():
            self._follow_live()
        self._history.schedule()
        self.projections.schedule()
        return series

    def remove_sensor(self, sensor_id: str) -> None:
        """Stop showing ``sensor_id``."""
        if self.series.pop(sensor_id, None) is None:
            return
        self.picker.set_checked(sensor_id, False)
        self._rebuild_plots()

    def _rebuild_plots(self) -> None:
        """Lay out one plot per unit, linked on the time axis, and draw every series."""
        x_range = self.x_range() if self.plots else None
        self.plot_area.clear()
        self.plots = {}
        first: Any = None
        for series in self.series.values():
            plot = self.plots.get(series.unit)
            if plot is None:
                plot = add_unit_plot(
                    self.plot_area,
                    len(self.plots),
                    # The axis title is HTML to pyqtgraph.
                    escape(series.unit) or self.tr("value"),
                )
                if first is None:
                    first = plot
                    view_box = plot.getViewBox()
                    view_box.sigXRangeChanged.connect(self._on_x_range_changed)
                    view_box.sigRangeChangedManually.connect(self._on_manual_range_change)
                else:
                    plot.setXLink(first)
                    plot.getViewBox().sigRangeChangedManually.connect(self._on_manual_range_change)
                self.plots[series.unit] = plot
            add_curve(series, plot)
            draw_thresholds(series, plot)
            draw_alarm_marks(series, plot, self._alarms)
        if x_range is not None and first is not None:
            first.setXRange(*x_range, padding=0)
        self.projections.forget_items()
        self.projections.draw_all()
        self.redraw()

    def _on_alarm_change(self, change: StoreChange) -> None:
        if self._closed:
            return
        alarm = change.alarm
        for series in self.series.values():
            if alarm is None or sensor_of_alarm(alarm) == series.sensor.sensor_id:
                plot = self.plots.get(series.unit)
                if plot is not None:
                    draw_alarm_marks(series, plot, self._alarms)

    # ------------------------------------------------------------------ live

    def apply_telemetry(self, telemetry: Telemetry) -> None:
        """Queue the live readings of the shown sensors (drawn at the next redraw)."""
        for reading in telemetry.readings:
            series = self.series.get(reading.sensor)
            if series is not None:
                series.cache.add_reading(reading)

    def redraw(self) -> None:
        """Push changed points to the curves, move the live window, refresh the ages."""
        if self._closed:
            return
        for series in self.series.values():
            if series.curve is not None and series.cache.version != series.drawn_version:
                times, values = series.cache.arrays()
                series.curve.setData(times, values)
                series.drawn_version = series.cache.version
        if self.live_check.isChecked():
            self._follow_live()
        self._refresh_ages()

    def _refresh_ages(self) -> None:
        now = self._clock()
        self.age_table.setRowCount(len(self.series))
        for row, series in enumerate(self.series.values()):
            for column, text in enumerate(series.age_cells(now)):
                item = self.age_table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.age_table.setItem(row, column, item)
                if item.text() != text:
                    item.setText(text)

    def live_window(self) -> dt.timedelta:
        """The span the live view follows."""
        window = self.window_combo.currentData()
        return window if isinstance(window, dt.timedelta) else LIVE_WINDOWS[0]

    def _follow_live(self) -> None:
        if not self.plots or not self.live_check.isChecked():
            return
        end = epoch(self._clock())
        start = end - self.live_window().total_seconds()
        # Far enough right to show where the projected trends lead.
        ahead = self.projections.latest_end() or end
        self._first_plot().setXRange(start, max(end + 5, ahead + 30), padding=0)

    def _on_live_toggled(self, checked: bool) -> None:
        if checked:
            self._follow_live()

    def _on_manual_range_change(self, *_args: object) -> None:
        if self.live_check.isChecked():
            self.live_check.setChecked(False)

    # ------------------------------------------------------------------ history

    def _first_plot(self) -> Any:
        return next(iter(self.plots.values()))

    def x_range(self) -> tuple[float, float]:
        """The visible time range (UTC epoch seconds)."""
        low, high = self._first_plot().getViewBox().viewRange()[0]
        return float(low), float(high)

    def set_time_range(self, start: dt.datetime, end: dt.datetime) -> None:
        """Stop following live and show ``[start, end]`` (history is fetched as needed)."""
        self.live_check.setChecked(False)
        if self.plots:
            self._first_plot().setXRange(epoch(start), epoch(end), padding=0)
        self._history.schedule()

    def _on_x_range_changed(self, *_args: object) -> None:
        self._history.schedule()

    def fetch_visible(self) -> None:
        """Ask the server for the parts of the visible range that are not cached yet."""
        if self._closed or not self.plots:
            return
        start, end = self.x_range()
        self._history.load_missing(self.series.values(), start, end, int(self.plot_area.width()))

    def show_query_error(self, code: str, message: str) -> None:
        """Show why a query of the panel (or the sensor registry's load) failed."""
        if self._closed:
            return
        logger.info("trends query failed: %s %s", code, message)
        self.status_label.setText(f"{texts.error_summary(code)} ({message})")

    # ------------------------------------------------------------------ alarms

    def show_sensor_for_alarm(self, alarm: AlarmView) -> bool:
        """Open the trend of the sensor that raised ``alarm``, ±30 min around it.

        Return False when the alarm did not come from a sensor.
        """
        sensor_id = sensor_of_alarm(alarm)
        if sensor_id is None:
            return False
        self.add_sensor(sensor_id)
        self.set_time_range(alarm.first_seen - ALARM_WINDOW, alarm.first_seen + ALARM_WINDOW)
        return True

    def show_sensors(self, sensor_ids: Iterable[str]) -> list[str]:
        """Show the live trends of the registered sensors among ``sensor_ids``.

        Return the ids shown; ids the registry does not know are skipped.
        """
        shown = [sensor_id for sensor_id in sensor_ids if sensor_id in self.sensors]
        for sensor_id in shown:
            self.add_sensor(sensor_id)
        if shown:
            # The officer asked about the site now: follow live even after an alarm's window.
            self.live_check.setChecked(True)
            self._follow_live()
        return shown

    # ------------------------------------------------------------------ export

    def export_png(self, path: Path) -> bool:
        """Save the plots as they are shown to a PNG file; return whether it worked."""
        saved = self.plot_area.grab().save(str(path), "PNG")
        if not saved:
            logger.warning("could not write %s", path)
        return bool(saved)

    def export_csv(self, path: Path) -> int:
        """Write the points of the visible range of every series to CSV; return the rows."""
        if not self.plots:
            return write_series_csv(path, (), texts.DISPLAY_TIMEZONE)
        start, end = self.x_range()
        items = [series.csv_between(start, end) for series in self.series.values()]
        return write_series_csv(path, items, texts.DISPLAY_TIMEZONE)

    def _ask_export_png(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export trend image"), "trend.png", self.tr("PNG images (*.png)")
        )
        if name:
            self.export_png(Path(name))

    def _ask_export_csv(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export trend data"), "trend.csv", self.tr("CSV files (*.csv)")
        )
        if name:
            rows = self.export_csv(Path(name))
            self.status_label.setText(self.tr("{rows} rows exported.").format(rows=rows))

    # ------------------------------------------------------------------ life

    def shutdown(self) -> None:
        """Stop the timers and listeners (the window is closing)."""
        self._closed = True
        self._redraw_timer.stop()
        self._history.stop()
        self.projections.stop()
        self._remove_alarm_listener()
