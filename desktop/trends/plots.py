"""The trend plots' pieces: one series per sensor, its curve, threshold bands and alarm marks.

Curve and axis text is HTML (legend, axis title) or a format string (threshold labels)
to pyqtgraph, so what comes from the registry is escaped here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from desktop import texts
from desktop.alarm_model import LEVEL_COLOURS
from desktop.plain_text import escape, format_literal, plain_tooltip
from desktop.state import AlarmStore
from desktop.trends.store import CsvSeries, SeriesCache, alarm_moments, epoch
from realtime.protocol import SensorView

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

    def age_cells(self, now: dt.datetime) -> tuple[str, str, str, str]:
        """The data-age table's row: title, last value, last reading time and data age."""
        cache = self.cache
        value = f"{cache.last_value:g} {self.unit}" if cache.last_value is not None else "–"
        at = texts.format_time(cache.last_reading_at) if cache.last_reading_at else "–"
        age = cache.data_age(now)
        return (
            self.title,
            value,
            at,
            texts.format_duration(age.total_seconds()) if age is not None else "–",
        )

    def csv_between(self, start: float, end: float) -> CsvSeries:
        """The points of ``[start, end]`` (epoch seconds), ready for the CSV export."""
        times, values = self.cache.points_between(start, end)
        return CsvSeries(
            self.sensor.sensor_id, self.title, self.unit, times.tolist(), values.tolist()
        )


def add_unit_plot(plot_area: Any, row: int, axis_label: str) -> Any:
    """Add an empty plot at ``row`` of ``plot_area``: local-time axis, grid and legend.

    ``axis_label`` is HTML to pyqtgraph: escape what came from the registry.
    """
    axis = pg.DateAxisItem(orientation="bottom", utcOffset=display_utc_offset())
    plot = plot_area.addPlot(row=row, col=0, axisItems={"bottom": axis})
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setLabel("left", axis_label)
    plot.addLegend(offset=(10, 5))
    plot.getViewBox().setAutoVisible(y=True)
    plot.getViewBox().enableAutoRange(axis="y")
    return plot


def add_curve(series: TrendSeries, plot: Any) -> None:
    """Give ``series`` a new curve on ``plot`` (drawn at the next redraw)."""
    # Legend entries are HTML to pyqtgraph.
    curve = pg.PlotDataItem(pen=pg.mkPen(series.colour, width=1.5), name=escape(series.title))
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    plot.addItem(curve)
    series.curve = curve
    series.drawn_version = -1


def draw_thresholds(series: TrendSeries, plot: Any) -> None:
    """Draw the sensor's thresholds: a band from limit to restore value and a dashed line."""
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


def draw_alarm_marks(series: TrendSeries, plot: Any, alarms: AlarmStore) -> None:
    """Mark when the sensor's alarms started (a vertical line each), replacing older marks."""
    for item in series.alarm_items:
        plot.removeItem(item)
    series.alarm_items = []
    for alarm in alarm_moments(alarms, series.sensor.sensor_id):
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
