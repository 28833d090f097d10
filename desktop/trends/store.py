"""What the trends panel knows about each sensor's series, in plain Python (no Qt).

A :class:`SeriesCache` holds the points of one sensor, merged from history fetches
(:class:`~realtime.protocol.SeriesResult`) and live readings, and remembers which time
ranges it has fetched so that scrolling back asks the server only for what is missing.
Times are UTC epoch seconds, the plot's x axis.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from desktop.spreadsheet import spreadsheet_safe
from realtime.protocol import AlarmView, ReadingView, SensorView, SeriesPoint

logger = logging.getLogger(__name__)

SENSOR_REF_PREFIX = "sensor:"
"""An alarm raised by a sensor rule carries ``source_ref == "sensor:<sensor_id>"``."""
SENSOR_ALARM_PREFIX = "sensor_"
"""Sensor alarms have an ``alarm_type`` starting with this."""
MAX_POINTS_PER_SERIES = 400_000
"""Cached points per sensor; the oldest history is dropped beyond this."""
COARSE_ZOOM_FACTOR = 4.0
"""A downsampled fetch still serves a view at most this many times narrower than it."""

FloatArray = npt.NDArray[np.float64]


def epoch(moment: dt.datetime) -> float:
    """Return an aware datetime as UTC epoch seconds."""
    return moment.timestamp()


def from_epoch(seconds: float) -> dt.datetime:
    """Return UTC epoch seconds as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def sensor_of_alarm(alarm: AlarmView) -> str | None:
    """Return the sensor id an alarm was raised for, or None for other alarms."""
    if alarm.source_ref.startswith(SENSOR_REF_PREFIX):
        return alarm.source_ref.removeprefix(SENSOR_REF_PREFIX) or None
    return None


def alarm_moments(alarms: Iterable[AlarmView], sensor_id: str) -> list[AlarmView]:
    """Return the sensor alarms of ``sensor_id``, oldest first."""
    found = [
        alarm
        for alarm in alarms
        if alarm.alarm_type.startswith(SENSOR_ALARM_PREFIX) and sensor_of_alarm(alarm) == sensor_id
    ]
    return sorted(found, key=lambda alarm: alarm.first_seen)


def group_key(sensor: SensorView) -> str:
    """Return the heading a sensor is listed under: its hazard source and enterprise."""
    parts = [part for part in (sensor.hazard_source, sensor.enterprise) if part]
    return " · ".join(parts)


def group_sensors(sensors: Iterable[SensorView]) -> dict[str, list[SensorView]]:
    """Group sensors by :func:`group_key` (sorted headings, sensors by id)."""
    groups: dict[str, list[SensorView]] = {}
    for sensor in sorted(sensors, key=lambda view: (group_key(view), view.sensor_id)):
        groups.setdefault(group_key(sensor), []).append(sensor)
    return groups


def sensor_matches(sensor: SensorView, text: str) -> bool:
    """Return whether a search text matches the sensor (id, name, place, kind, group)."""
    needle = text.strip().casefold()
    if not needle:
        return True
    haystack = " ".join(
        (
            sensor.sensor_id,
            sensor.name,
            sensor.place,
            sensor.kind,
            sensor.hazard_source,
            sensor.enterprise,
        )
    ).casefold()
    return all(word in haystack for word in needle.split())


@dataclasses.dataclass(frozen=True, slots=True)
class FetchedRange:
    """A time range fetched from the server and whether the server thinned it out."""

    start: float
    end: float
    downsampled: bool

    @property
    def span(self) -> float:
        """The length of the range in seconds."""
        return self.end - self.start


def subtract_ranges(
    start: float, end: float, covered: Iterable[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Return the parts of ``[start, end]`` not inside any of ``covered``, in order."""
    pieces = [(start, end)]
    for cover_start, cover_end in sorted(covered):
        remaining: list[tuple[float, float]] = []
        for piece_start, piece_end in pieces:
            if cover_end <= piece_start or cover_start >= piece_end:
                remaining.append((piece_start, piece_end))
                continue
            if cover_start > piece_start:
                remaining.append((piece_start, cover_start))
            if cover_end < piece_end:
                remaining.append((cover_end, piece_end))
        pieces = remaining
    return [
        (piece_start, piece_end) for piece_start, piece_end in pieces if piece_end > piece_start
    ]


class SeriesCache:
    """The cached points of one sensor, with the ranges fetched so far."""

    def __init__(self, sensor_id: str, unit: str = "", max_points: int = MAX_POINTS_PER_SERIES):
        self.sensor_id = sensor_id
        self.unit = unit
        self._max_points = max_points
        self._times: FloatArray = np.empty(0)
        self._values: FloatArray = np.empty(0)
        self._pending_times: list[float] = []
        self._pending_values: list[float] = []
        self._fetched: list[FetchedRange] = []
        self.last_reading_at: dt.datetime | None = None
        """When the newest point was measured (device time, UTC)."""
        self.last_value: float | None = None
        self.version = 0
        """Grows whenever the points change (the panel redraws when it moved)."""

    # ------------------------------------------------------------------ reading

    @property
    def fetched(self) -> Sequence[FetchedRange]:
        """The ranges fetched from the server so far."""
        return tuple(self._fetched)

    def __len__(self) -> int:
        self._merge_pending()
        return len(self._times)

    def arrays(self) -> tuple[FloatArray, FloatArray]:
        """Return all cached (times, values), sorted by time, without duplicates."""
        self._merge_pending()
        return self._times, self._values

    def points_between(self, start: float, end: float) -> tuple[FloatArray, FloatArray]:
        """Return the cached (times, values) with ``start <= time <= end``."""
        times, values = self.arrays()
        low = int(np.searchsorted(times, start, side="left"))
        high = int(np.searchsorted(times, end, side="right"))
        return times[low:high], values[low:high]

    def missing(self, start: float, end: float) -> list[tuple[float, float]]:
        """Return the parts of ``[start, end]`` that still have to be fetched.

        A range fetched in full counts as covered; a downsampled one serves a view inside
        it unless the view is much narrower (then the finer detail is fetched).
        """
        span = end - start
        if span <= 0:
            return []
        for fetched in self._fetched:
            if (
                fetched.downsampled
                and fetched.start <= start
                and fetched.end >= end
                and span * COARSE_ZOOM_FACTOR >= fetched.span
            ):
                return []
        covered = [(item.start, item.end) for item in self._fetched if not item.downsampled]
        return subtract_ranges(start, end, covered)

    def data_age(self, now: dt.datetime) -> dt.timedelta | None:
        """How old the newest point is at ``now``, or None before any point."""
        if self.last_reading_at is None:
            return None
        return max(now - self.last_reading_at, dt.timedelta(0))

    # ------------------------------------------------------------------ writing

    def add_history(
        self,
        start: dt.datetime,
        end: dt.datetime,
        points: Sequence[SeriesPoint],
        *,
        downsampled: bool,
        unit: str = "",
    ) -> None:
        """Merge the answer of a ``GetSeries`` for ``[start, end]``."""
        if unit:
            self.unit = unit
        self._fetched.append(FetchedRange(epoch(start), epoch(end), downsampled))
        if points:
            times = np.fromiter((epoch(point.at) for point in points), float, len(points))
            values = np.fromiter((point.value for point in points), float, len(points))
            self._merge(times, values)
            self._note_latest(points[-1].at, points[-1].value)

    def add_reading(self, reading: ReadingView) -> None:
        """Queue a live reading; it is merged at the next read (the panel's redraw)."""
        if reading.unit:
            self.unit = reading.unit
        self._pending_times.append(epoch(reading.at))
        self._pending_values.append(reading.value)
        self._note_latest(reading.at, reading.value)
        self.version += 1

    def _note_latest(self, at: dt.datetime, value: float) -> None:
        if self.last_reading_at is None or at >= self.last_reading_at:
            self.last_reading_at = at
            self.last_value = value

    def _merge_pending(self) -> None:
        if not self._pending_times:
            return
        times = np.asarray(self._pending_times, dtype=float)
        values = np.asarray(self._pending_values, dtype=float)
        self._pending_times.clear()
        self._pending_values.clear()
        if len(self._times) and times[0] > self._times[-1] and np.all(np.diff(times) > 0):
            # The usual case: live readings arrive in order after everything held.
            self._times = np.concatenate((self._times, times))
            self._values = np.concatenate((self._values, values))
            self._trim()
        else:
            self._merge(times, values)

    def _merge(self, times: FloatArray, values: FloatArray) -> None:
        all_times = np.concatenate((times, self._times))
        all_values = np.concatenate((values, self._values))
        # np.unique keeps the first occurrence: new points win over held ones.
        unique_times, index = np.unique(all_times, return_index=True)
        self._times = unique_times
        self._values = all_values[index]
        self._trim()
        self.version += 1

    def _trim(self) -> None:
        excess = len(self._times) - self._max_points
        if excess > 0:
            self._times = self._times[excess:]
            self._values = self._values[excess:]
            cutoff = float(self._times[0])
            self._fetched = [item for item in self._fetched if item.start >= cutoff]
            logger.debug("dropped %s old points of %s", excess, self.sensor_id)


@dataclasses.dataclass(frozen=True, slots=True)
class CsvSeries:
    """One series to export: its sensor, unit and (times, values)."""

    sensor_id: str
    name: str
    unit: str
    times: Sequence[float]
    values: Sequence[float]


CSV_HEADER = ("sensor_id", "name", "time_local", "time_utc", "value", "unit")
"""The columns of an exported trend CSV."""


def write_series_csv(path: Path, series: Iterable[CsvSeries], timezone: dt.tzinfo) -> int:
    """Write the points of ``series`` to ``path`` (UTF-8 with BOM for Excel); return rows."""
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_HEADER)
        for item in series:
            for seconds, value in zip(item.times, item.values, strict=True):
                moment = from_epoch(float(seconds))
                writer.writerow(
                    (
                        spreadsheet_safe(item.sensor_id),
                        spreadsheet_safe(item.name),
                        moment.astimezone(timezone).isoformat(timespec="seconds"),
                        moment.isoformat(timespec="seconds"),
                        repr(float(value)),
                        spreadsheet_safe(item.unit),
                    )
                )
                rows += 1
    return rows
