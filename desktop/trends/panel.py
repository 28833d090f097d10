"""The sensor trends dock: pick sensors, watch live curves, scroll back through history.

One :class:`pyqtgraph.PlotDataItem` per sensor is fed by ``setData`` from a fixed-rate
timer (live readings only queue points), with peak downsampling and clip-to-view.
Sensors with the same unit share a plot; other units get their own plot below, all on
one linked time axis shown in local time. Scrolling or zooming asks the server (through
:meth:`~desktop.service.ConsoleService.query`, debounced) only for the ranges the
:class:`~desktop.trends.store.SeriesCache` has not fetched yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.alarm_model import LEVEL_COLOURS
from desktop.plain_text import escape, format_literal, plain_label, plain_tooltip
from desktop.service import ConsoleService
from desktop.state import AlarmStore, StoreChange, utc_now
from desktop.trends.store import (
    CsvSeries,
    SeriesCache,
    alarm_moments,
    epoch,
    group_sensors,
    sensor_matches,
    sensor_of_alarm,
    write_series_csv,
)
from realtime.protocol import (
    AlarmView,
    GetSeries,
    ListSensors,
    ResultData,
    SensorsResult,
    SensorView,
    SeriesResult,
    Telemetry,
)

logger = logging.getLogger(__name__)

REDRAW_MS = 500
"""The fixed rate at which curves, the live window and data ages are redrawn."""
FETCH_DEBOUNCE_MS = 300
"""History is fetched this long after the view stopped moving."""
ALARM_WINDOW = dt.timedelta(minutes=30)
"""A sensor opened from an alarm shows this much before and after the alarm."""
LIVE_WINDOWS: tuple[dt.timedelta, ...] = (
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
    dt.timedelta(hours=24),
)
"""The spans the live view can follow."""
MIN_FETCH_POINTS = 200
MAX_FETCH_POINTS = 5000
"""Bounds of ``max_points`` asked per fetch (about two points per pixel in between)."""
CURVE_COLOURS: tuple[str, ...] = (
    "#1565c0",
    "#2e7d32",
    "#6a1b9a",
    "#00838f",
    "#4e342e",
    "#ad1457",
    "#37474f",
    "#9e9d24",
)
"""Curve colours, in the order sensors are added (kept apart from the level colours)."""
SENSOR_ID_ROLE = Qt.ItemDataRole.UserRole


def display_utc_offset() -> int:
    """Return the offset pyqtgraph's date axis wants for the display zone (seconds west)."""
    offset = texts.DISPLAY_TIMEZONE.utcoffset(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    return -int(offset.total_seconds()) if offset is not None else 0


@dataclasses.dataclass(eq=False)
class TrendSeries:
    """One sensor on the plot: its description, cache and drawn items."""

    sensor: SensorView
    cache: SeriesCache
    colour: str
    live_since: float
    """From this moment (epoch seconds) live readings cover the series."""
    curve: Any = None
    drawn_version: int = -1
    threshold_items: list[Any] = dataclasses.field(default_factory=list)
    alarm_items: list[Any] = dataclasses.field(default_factory=list)
    in_flight: set[tuple[float, float]] = dataclasses.field(default_factory=set)

    @property
    def unit(self) -> str:
        """The unit the series is plotted in."""
        return self.sensor.unit or self.cache.unit

    @property
    def title(self) -> str:
        """The sensor's name, or its id."""
        return self.sensor.name or self.sensor.sensor_id


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

        picker = QWidget(splitter)
        picker_layout = QVBoxLayout(picker)
        picker_layout.setContentsMargins(0, 0, 0, 0)
        self.search_edit = QLineEdit(picker)
        self.search_edit.setObjectName("trends_search")
        self.search_edit.setPlaceholderText(self.tr("Search sensors…"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._apply_search)
        picker_layout.addWidget(self.search_edit)
        self.sensor_tree = QTreeWidget(picker)
        self.sensor_tree.setObjectName("trends_sensor_tree")
        self.sensor_tree.setHeaderHidden(True)
        self.sensor_tree.itemChanged.connect(self._on_item_changed)
        picker_layout.addWidget(self.sensor_tree, 1)
        self.reload_button = QPushButton(self.tr("Reload sensors"), picker)
        self.reload_button.clicked.connect(self.load_sensors)
        picker_layout.addWidget(self.reload_button)

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
        self._fetch_timer = QTimer(self)
        self._fetch_timer.setSingleShot(True)
        self._fetch_timer.setInterval(FETCH_DEBOUNCE_MS)
        self._fetch_timer.timeout.connect(self.fetch_visible)
        self._remove_alarm_listener = alarms.add_listener(self._on_alarm_change)

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
        self.sensor_tree.blockSignals(True)
        try:
            self.sensor_tree.clear()
            for heading, members in group_sensors(self.sensors.values()).items():
                group = QTreeWidgetItem(self.sensor_tree, [heading or self.tr("Other sensors")])
                group.setFlags(group.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
                for sensor in members:
                    label = f"{sensor.name or sensor.sensor_id} ({sensor.sensor_id})"
                    item = QTreeWidgetItem(group, [label])
                    item.setData(0, SENSOR_ID_ROLE, sensor.sensor_id)
                    item.setToolTip(0, plain_tooltip(sensor.place))
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    checked = sensor.sensor_id in self.series
                    item.setCheckState(
                        0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
                    )
                group.setExpanded(True)
        finally:
            self.sensor_tree.blockSignals(False)
        self.sensors_loaded.emit(list(self.sensors.values()))
        for sensor_id, series in self.series.items():
            known = self.sensors.get(sensor_id)
            if known is not None and known != series.sensor:
                series.sensor = known
                self._rebuild_plots()
        self._apply_search(self.search_edit.text())

    def _groups(self) -> Iterable[QTreeWidgetItem]:
        for group_index in range(self.sensor_tree.topLevelItemCount()):
            group = self.sensor_tree.topLevelItem(group_index)
            if group is not None:
                yield group

    @staticmethod
    def _children(group: QTreeWidgetItem) -> Iterable[QTreeWidgetItem]:
        for child_index in range(group.childCount()):
            child = group.child(child_index)
            if child is not None:
                yield child

    def _sensor_items(self) -> Iterable[QTreeWidgetItem]:
        for group in self._groups():
            yield from self._children(group)

    def visible_sensor_ids(self) -> list[str]:
        """The sensor ids the search leaves in the list."""
        return [
            str(item.data(0, SENSOR_ID_ROLE))
            for item in self._sensor_items()
            if not item.isHidden()
        ]

    def _apply_search(self, text: str) -> None:
        needle = text.strip().casefold()
        for group in self._groups():
            group_matches = bool(needle) and needle in group.text(0).casefold()
            shown = 0
            for item in self._children(group):
                sensor = self.sensors.get(str(item.data(0, SENSOR_ID_ROLE)))
                visible = sensor is not None and (group_matches or sensor_matches(sensor, text))
                item.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)

    def _on_item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        sensor_id = item.data(0, SENSOR_ID_ROLE)
        if not isinstance(sensor_id, str):
            return
        if item.checkState(0) == Qt.CheckState.Checked:
            self.add_sensor(sensor_id)
        else:
            self.remove_sensor(sensor_id)

    def _set_checked(self, sensor_id: str, checked: bool) -> None:
        self.sensor_tree.blockSignals(True)
        try:
            for item in self._sensor_items():
                if item.data(0, SENSOR_ID_ROLE) == sensor_id:
                    item.setCheckState(
                        0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
                    )
        finally:
            self.sensor_tree.blockSignals(False)

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
        self._set_checked(sensor_id, True)
        self._rebuild_plots()
        if not had_plots and self.live_check.isChecked():
            self._follow_live()
        self._fetch_timer.start()
        return series

    def remove_sensor(self, sensor_id: str) -> None:
        """Stop showing ``sensor_id``."""
        if self.series.pop(sensor_id, None) is None:
            return
        self._set_checked(sensor_id, False)
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
                axis = pg.DateAxisItem(orientation="bottom", utcOffset=display_utc_offset())
                plot = self.plot_area.addPlot(
                    row=len(self.plots), col=0, axisItems={"bottom": axis}
                )
                plot.showGrid(x=True, y=True, alpha=0.2)
                # Axis titles and legend entries are HTML to pyqtgraph.
                plot.setLabel("left", escape(series.unit) or self.tr("value"))
                plot.addLegend(offset=(10, 5))
                plot.getViewBox().setAutoVisible(y=True)
                plot.getViewBox().enableAutoRange(axis="y")
                if first is None:
                    first = plot
                    view_box = plot.getViewBox()
                    view_box.sigXRangeChanged.connect(self._on_x_range_changed)
                    view_box.sigRangeChangedManually.connect(self._on_manual_range_change)
                else:
                    plot.setXLink(first)
                    plot.getViewBox().sigRangeChangedManually.connect(self._on_manual_range_change)
                self.plots[series.unit] = plot
            curve = pg.PlotDataItem(
                pen=pg.mkPen(series.colour, width=1.5), name=escape(series.title)
            )
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            plot.addItem(curve)
            series.curve = curve
            series.drawn_version = -1
            self._draw_thresholds(series, plot)
            self._draw_alarm_marks(series, plot)
        if x_range is not None and first is not None:
            first.setXRange(*x_range, padding=0)
        self.redraw()

    def _draw_thresholds(self, series: TrendSeries, plot: Any) -> None:
        series.threshold_items = []
        for threshold in series.sensor.thresholds:
            colour = LEVEL_COLOURS[threshold.level]
            band_colour = QColor(colour)
            band_colour.setAlpha(40)
            low, high = sorted((threshold.value, threshold.restore))
            if high > low:
                band = pg.LinearRegionItem(
                    values=(low, high),
                    orientation="horizontal",
                    brush=pg.mkBrush(band_colour),
                    pen=pg.mkPen(None),
                    movable=False,
                )
                band.setZValue(-20)
                plot.addItem(band, ignoreBounds=True)
                series.threshold_items.append(band)
            label = threshold.label or f"{texts.level_label(threshold.level)} {threshold.value:g}"
            line = pg.InfiniteLine(
                pos=threshold.value,
                angle=0,
                movable=False,
                pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
                label=format_literal(label),  # a format string to pyqtgraph
                labelOpts={"position": 0.05, "color": colour, "anchors": [(0, 1), (0, 1)]},
            )
            plot.addItem(line)
            series.threshold_items.append(line)

    def _draw_alarm_marks(self, series: TrendSeries, plot: Any) -> None:
        for item in series.alarm_items:
            plot.removeItem(item)
        series.alarm_items = []
        for alarm in alarm_moments(self._alarms, series.sensor.sensor_id):
            line = pg.InfiniteLine(
                pos=epoch(alarm.first_seen),
                angle=90,
                movable=False,
                pen=pg.mkPen(LEVEL_COLOURS[alarm.level], width=2),
                label=f"#{alarm.id}",
                labelOpts={"position": 0.95, "color": LEVEL_COLOURS[alarm.level]},
            )
            line.setToolTip(
                plain_tooltip(f"#{alarm.id} {alarm.title} {texts.format_time(alarm.first_seen)}")
            )
            plot.addItem(line, ignoreBounds=True)
            series.alarm_items.append(line)

    def _on_alarm_change(self, change: StoreChange) -> None:
        if self._closed:
            return
        alarm = change.alarm
        for series in self.series.values():
            if alarm is None or sensor_of_alarm(alarm) == series.sensor.sensor_id:
                plot = self.plots.get(series.unit)
                if plot is not None:
                    self._draw_alarm_marks(series, plot)

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
            cache = series.cache
            value = f"{cache.last_value:g} {series.unit}" if cache.last_value is not None else "–"
            at = texts.format_time(cache.last_reading_at) if cache.last_reading_at else "–"
            age = cache.data_age(now)
            cells = (
                series.title,
                value,
                at,
                texts.format_duration(age.total_seconds()) if age is not None else "–",
            )
            for column, text in enumerate(cells):
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
        self._first_plot().setXRange(start, end + 5, padding=0)

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
        self._fetch_timer.start()

    def _on_x_range_changed(self, *_args: object) -> None:
        self._fetch_timer.start()

    def fetch_visible(self) -> None:
        """Ask the server for the parts of the visible range that are not cached yet."""
        if self._closed or not self.plots:
            return
        start, end = self.x_range()
        margin = (end - start) * 0.1
        start, end = start - margin, end + margin
        width = max(int(self.plot_area.width()), 100)
        max_points = min(max(2 * width, MIN_FETCH_POINTS), MAX_FETCH_POINTS)
        for series in self.series.values():
            # Live readings cover what happened since the sensor was added.
            capped_end = min(end, series.live_since)
            missing = series.cache.missing(start, capped_end)
            if not missing:
                continue
            fetch_start, fetch_end = missing[0][0], missing[-1][1]
            if any(low <= fetch_start and high >= fetch_end for low, high in series.in_flight):
                continue
            self._fetch(series, fetch_start, fetch_end, max_points)

    def _fetch(self, series: TrendSeries, start: float, end: float, max_points: int) -> None:
        key = (start, end)
        series.in_flight.add(key)
        command = GetSeries(
            req="",
            sensor=series.sensor.sensor_id,
            start=dt.datetime.fromtimestamp(start, dt.UTC),
            end=dt.datetime.fromtimestamp(end, dt.UTC),
            max_points=max_points,
        )
        logger.debug(
            "fetching %s from %s to %s", series.sensor.sensor_id, command.start, command.end
        )

        def on_result(result: ResultData) -> None:
            series.in_flight.discard(key)
            if self._closed or not isinstance(result, SeriesResult):
                return
            series.cache.add_history(
                command.start,
                command.end,
                result.points,
                downsampled=result.downsampled,
                unit=result.unit,
            )
            self.redraw()

        def on_error(code: str, message: str) -> None:
            series.in_flight.discard(key)
            self.show_query_error(code, message)

        self._service.query(command, on_result, on_error)

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
        items = []
        for series in self.series.values():
            times, values = series.cache.points_between(start, end)
            items.append(
                CsvSeries(
                    series.sensor.sensor_id,
                    series.title,
                    series.unit,
                    times.tolist(),
                    values.tolist(),
                )
            )
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
        self._fetch_timer.stop()
        self._remove_alarm_listener()
