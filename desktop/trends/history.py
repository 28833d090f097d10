"""History for the trend plots: what the visible range lacks is asked of the server.

Scrolling or zooming schedules a fetch (debounced); each series then asks
:meth:`~desktop.service.ConsoleService.query` only for the span its
:class:`~desktop.trends.store.SeriesCache` has not fetched and no request already covers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QTimer

from desktop.service import ConsoleService
from desktop.trends.plots import TrendSeries
from realtime.protocol import GetSeries, ResultData, SeriesResult

logger = logging.getLogger(__name__)

FETCH_DEBOUNCE_MS = 300
"""History is fetched this long after the view stopped moving."""
MIN_FETCH_POINTS = 200
MAX_FETCH_POINTS = 5000
"""Bounds of ``max_points`` asked per fetch (about two points per pixel in between)."""


class HistoryLoader:
    """Fetches the missing history of the shown series; results go into their caches.

    ``fetch_due`` runs when a scheduled fetch is due (the panel then calls
    :meth:`load_missing` with its visible range); ``loaded`` runs after history arrived
    and ``failed`` with the error code and message of a failed query.
    """

    def __init__(
        self,
        service: ConsoleService,
        timer_parent: QObject,
        *,
        fetch_due: Callable[[], None],
        loaded: Callable[[], None],
        failed: Callable[[str, str], None],
    ) -> None:
        self._service = service
        self._loaded = loaded
        self._failed = failed
        self._stopped = False
        self._timer = QTimer(timer_parent)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FETCH_DEBOUNCE_MS)
        self._timer.timeout.connect(fetch_due)

    def schedule(self) -> None:
        """Fetch once the view has not moved for :data:`FETCH_DEBOUNCE_MS`."""
        self._timer.start()

    def load_missing(
        self, series: Iterable[TrendSeries], start: float, end: float, width_px: int
    ) -> None:
        """Ask for what ``series`` lack of ``[start, end]`` (epoch seconds), with a margin.

        ``width_px`` is the plot's width: about two points per pixel are asked for.
        """
        margin = (end - start) * 0.1
        start, end = start - margin, end + margin
        width = max(width_px, 100)
        max_points = min(max(2 * width, MIN_FETCH_POINTS), MAX_FETCH_POINTS)
        for one in series:
            # Live readings cover what happened since the sensor was added.
            capped_end = min(end, one.live_since)
            missing = one.cache.missing(start, capped_end)
            if not missing:
                continue
            fetch_start, fetch_end = missing[0][0], missing[-1][1]
            if any(low <= fetch_start and high >= fetch_end for low, high in one.in_flight):
                continue
            self._fetch(one, fetch_start, fetch_end, max_points)

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
            if self._stopped or not isinstance(result, SeriesResult):
                return
            series.cache.add_history(
                command.start,
                command.end,
                result.points,
                downsampled=result.downsampled,
                unit=result.unit,
            )
            self._loaded()

        def on_error(code: str, message: str) -> None:
            series.in_flight.discard(key)
            self._failed(code, message)

        self._service.query(command, on_result, on_error)

    def stop(self) -> None:
        """Fetch nothing more and ignore the answers still to come (the panel is closing)."""
        self._stopped = True
        self._timer.stop()
