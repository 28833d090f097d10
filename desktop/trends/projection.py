"""The trend projection on the trends panel: for each shown sensor, the server's fitted
line (``sensor.projection``) drawn dashed from the fit's start to its end, and where it
meets the next alarm level a marker and a dashed vertical line at the predicted time.

Refreshed every :data:`REFRESH_MS` while the panel shows sensors; a sensor without enough
readings simply has no projection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer

from desktop import texts
from desktop.alarm_model import LEVEL_COLOURS
from desktop.service import ConsoleService
from desktop.trends.plots import TrendSeries
from desktop.trends.store import epoch
from realtime.client import ConnectionState
from realtime.protocol import GetProjection, ProjectionResult, ResultData, TrendProjection
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

REFRESH_MS = 10_000
"""How often the projections of the shown sensors are asked for."""
LINE_COLOUR = "#455a64"


def projection_points(projection: TrendProjection) -> tuple[list[float], list[float]]:
    """The dashed line's two ends (epoch seconds, values)."""
    return (
        [epoch(projection.fitted_from_at), epoch(projection.fitted_to_at)],
        [projection.fitted_from_value, projection.fitted_to_value],
    )


def _loop_running() -> bool:
    """Whether the console's event loop runs (a window left over after it stopped, as in
    a test, must not start queries no loop will ever run)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class ProjectionOverlay(QObject):
    """Asks for and draws the projections of the panel's series."""

    def __init__(
        self,
        service: ConsoleService,
        parent: QObject,
        *,
        series: Callable[[], Mapping[str, TrendSeries]],
        plot_of: Callable[[TrendSeries], Any],
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._series = series
        self._plot_of = plot_of
        self.projections: dict[str, TrendProjection] = {}
        self.items: dict[str, list[Any]] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.refresh)

    def schedule(self) -> None:
        """Ask again soon (a sensor was added), from the event loop."""
        self._soon.start()

    def refresh(self) -> None:
        """Ask for the projection of every shown sensor (while connected: the answers of
        a disconnected console would only queue up behind the reconnect)."""
        if self._service.state is not ConnectionState.LIVE or not _loop_running():
            return
        for sensor_id in list(self._series()):
            self.ask(sensor_id)

    def ask(self, sensor_id: str) -> None:
        """Ask for one sensor's projection."""
        self._service.query(GetProjection(req="", sensor=sensor_id), self._on_result, self._failed)

    def _on_result(self, result: ResultData) -> None:
        if not isinstance(result, ProjectionResult):
            return
        if result.projection is None:
            self.projections.pop(result.sensor, None)
        else:
            self.projections[result.sensor] = result.projection
        self.draw(result.sensor)

    def _failed(self, code: str, message: str) -> None:
        logger.info("projection query failed: %s %s", code, message)

    def latest_end(self) -> float | None:
        """Where the furthest drawn projection ends (epoch seconds): the live view shows
        up to there, so the predicted crossing is on screen."""
        ends = [
            epoch(p.fitted_to_at)
            for sensor, p in self.projections.items()
            if sensor in self._series()
        ]
        return max(ends) if ends else None

    def forget_items(self) -> None:
        """The plots were rebuilt: the drawn items went with them."""
        self.items = {}

    def draw_all(self) -> None:
        """Draw every known projection on the current plots."""
        for sensor_id in list(self._series()):
            self.draw(sensor_id)

    def draw(self, sensor_id: str) -> None:
        """Draw (or remove) one sensor's projection."""
        series = self._series().get(sensor_id)
        plot = self._plot_of(series) if series is not None else None
        for item in self.items.pop(sensor_id, []):
            if plot is not None:
                plot.removeItem(item)
        projection = self.projections.get(sensor_id)
        if series is None or plot is None or projection is None:
            return
        times, values = projection_points(projection)
        line = pg.PlotDataItem(
            times, values, pen=pg.mkPen(series.colour, width=2, style=Qt.PenStyle.DashLine)
        )
        line.setObjectName(f"projection:{sensor_id}")
        plot.addItem(line)
        drawn: list[Any] = [line]
        if projection.crossing_at is not None and projection.level_value is not None:
            colour = LEVEL_COLOURS.get(AlarmLevel(projection.level), LINE_COLOUR)
            at = epoch(projection.crossing_at)
            mark = pg.ScatterPlotItem(
                [at], [projection.level_value], symbol="x", size=14, pen=pg.mkPen(colour, width=3)
            )
            plot.addItem(mark)
            when = pg.InfiniteLine(
                pos=at,
                angle=90,
                movable=False,
                pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine),
                label=self.tr("predicted {time}").format(
                    time=texts.format_time(projection.crossing_at)
                ),
                labelOpts={"position": 0.9, "color": colour},
            )
            plot.addItem(when, ignoreBounds=True)
            drawn += [mark, when]
        self.items[sensor_id] = drawn

    def stop(self) -> None:
        """Stop asking (the window is closing)."""
        self._timer.stop()
        self._soon.stop()
