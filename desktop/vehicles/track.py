"""Track data, analysis, export and the replay clock, in plain Python and numpy (no Qt).

:class:`TrackData` holds a loaded track as numpy columns, built straight from the wire's
:class:`~realtime.protocol.TrackColumns` with no per-fix Python object (a day at 1 Hz is
86,400 fixes); it still reads as a sequence of :class:`~realtime.protocol.PositionView`,
made on demand. :func:`analyse_track` measures it with array arithmetic: the distance
driven (great-circle, :func:`haversine_m`), moving and stopped time, stops of at least
:data:`MIN_STOP` and overspeed segments. :class:`ReplayClock` moves through the fixes in
track time at a chosen speed; :func:`write_gpx` and :func:`write_track_csv` export them.

This is the one implementation of track analysis and export, and the console owns it:
the replay panel is its only user, and the desktop may import only :mod:`realtime`. It
is not in :mod:`realtime`, which is the wire contract, because nothing on the server
analyses or exports tracks; should a server-side export ever be wanted, the pure parts
would move there. (The backend once had its own copy, used by nothing but its test.)

Moving or stopped is decided per interval between consecutive fixes, by the fix that
opens it: the interval is moving when that fix reports at least ``moving_kmh``. So a
terminal that falls silent while parked (ignition off) makes one long stopped interval,
and the interval in which a parked vehicle drives off counts as stopped.

The CSV is what a dispatcher opens in Excel: UTF-8 with a byte-order mark (or Excel
garbles the Chinese), the local time in the console's display zone next to UTC, one row
a fix.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import logging
import math
import xml.etree.ElementTree as ET  # writing only; nothing untrusted is parsed here
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np
import numpy.typing as npt

from desktop.spreadsheet import spreadsheet_safe
from realtime.protocol import TRACK_COORDINATE_SCALE, PositionView, TrackColumns

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), for great-circle distances."""
DEFAULT_SPEED_LIMIT_KMH = 80.0
"""Speed above which a fix counts as overspeed unless told otherwise."""
MOVING_KMH = 3.0
"""Below this speed a fix counts as stopped (GPS jitter reads a few km/h)."""
MIN_STOP = dt.timedelta(minutes=5)
"""A standstill at least this long is reported as a stop."""
OVERSPEED_ALARM = "overspeed"
"""A fix whose alarms contain this word (any case) counts as overspeed."""
REPLAY_SPEEDS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
"""Playback speeds the replay offers (track seconds per wall-clock second)."""
GPX_NAMESPACE = "http://www.topografix.com/GPX/1/1"
"""The GPX 1.1 namespace."""
GPX_TRACKPOINT_EXTENSION_NAMESPACE = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
"""Garmin's TrackPointExtension v2: speed (m/s) and course (degrees) of a track point."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NO_ALARMS: tuple[str, ...] = ()


class Error(ValueError):
    """Fixes that cannot make a track (columns of different lengths)."""


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres between two WGS-84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_m_arrays(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Vectorised :func:`haversine_m`."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = np.radians(lon2 - lon1)
    a = np.sin(d_phi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(d_lambda / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


def _is_overspeed_alarm(alarms: Sequence[str]) -> bool:
    return any(OVERSPEED_ALARM in alarm.casefold() for alarm in alarms)


class TrackData(Sequence[PositionView]):
    """One vehicle's fixes as numpy columns (element ``i`` of each is fix ``i``).

    Reading it as a sequence makes a :class:`PositionView` per fix asked for; the panel,
    the analysis and the map use the arrays and never make one per fix.
    """

    __slots__ = ("alarms", "device", "heading_deg", "lat", "lon", "speed_kmh", "times_us")

    def __init__(
        self,
        device: str,
        *,
        times_us: IntArray,
        lat: FloatArray,
        lon: FloatArray,
        speed_kmh: FloatArray,
        heading_deg: FloatArray,
        alarms: dict[int, tuple[str, ...]] | None = None,
    ) -> None:
        count = len(times_us)
        if not len(lat) == len(lon) == len(speed_kmh) == len(heading_deg) == count:
            raise Error("track columns must all have one value per fix")
        self.device = device
        self.times_us = times_us
        """UTC microseconds since 1970 (int64)."""
        self.lat = lat
        self.lon = lon
        self.speed_kmh = speed_kmh
        self.heading_deg = heading_deg
        self.alarms: dict[int, tuple[str, ...]] = alarms or {}
        """The alarms of the fixes that carry any, by index."""

    @classmethod
    def empty(cls, device: str = "") -> TrackData:
        """A track with no fixes."""
        return cls.from_positions([], device=device)

    @classmethod
    def from_columns(cls, columns: TrackColumns) -> TrackData:
        """Build from the wire's columns (times and coordinates converted by numpy)."""
        t0 = columns.t0.astimezone(dt.UTC)
        t0_us = (t0 - _EPOCH) // dt.timedelta(microseconds=1)
        times = np.asarray(columns.t_ms, dtype=np.int64) * 1000 + t0_us
        scale = float(TRACK_COORDINATE_SCALE)
        return cls(
            columns.device,
            times_us=times,
            lat=np.asarray(columns.lat_e7, dtype=np.float64) / scale,
            lon=np.asarray(columns.lon_e7, dtype=np.float64) / scale,
            speed_kmh=np.asarray(columns.speed_kmh, dtype=np.float64),
            heading_deg=np.asarray(columns.heading_deg, dtype=np.float64),
            alarms={entry.index: tuple(entry.alarms) for entry in columns.alarms},
        )

    @classmethod
    def from_positions(cls, positions: Sequence[PositionView], *, device: str = "") -> TrackData:
        """Build from fixes in the order given (``device``: the first fix's if empty)."""
        if isinstance(positions, TrackData):
            return positions
        unit = dt.timedelta(microseconds=1)
        count = len(positions)
        return cls(
            device or (positions[0].device if positions else ""),
            times_us=np.fromiter(
                ((p.at - _EPOCH) // unit for p in positions), dtype=np.int64, count=count
            ),
            lat=np.fromiter((p.lat for p in positions), dtype=np.float64, count=count),
            lon=np.fromiter((p.lon for p in positions), dtype=np.float64, count=count),
            speed_kmh=np.fromiter((p.speed_kmh for p in positions), dtype=np.float64, count=count),
            heading_deg=np.fromiter(
                (p.heading_deg for p in positions), dtype=np.float64, count=count
            ),
            alarms={index: tuple(p.alarms) for index, p in enumerate(positions) if p.alarms},
        )

    def __len__(self) -> int:
        return len(self.times_us)

    @overload
    def __getitem__(self, index: int) -> PositionView: ...

    @overload
    def __getitem__(self, index: slice) -> TrackData: ...

    def __getitem__(self, index: int | slice) -> PositionView | TrackData:
        if isinstance(index, slice):
            first, _stop, step = index.indices(len(self))
            kept = range(len(self))[index]
            alarms = {
                (i - first) // step: names
                for i, names in self.alarms.items()
                if i in kept and (i - first) % step == 0
            }
            return self._picked(index, alarms)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"fix {index} is not in a track of {len(self)}")
        return PositionView(
            device=self.device,
            at=self.at(index),
            lat=float(self.lat[index]),
            lon=float(self.lon[index]),
            speed_kmh=float(self.speed_kmh[index]),
            heading_deg=float(self.heading_deg[index]),
            alarms=list(self.alarms.get(index, _NO_ALARMS)),
        )

    def __iter__(self) -> Iterator[PositionView]:
        for index in range(len(self)):
            yield self[index]

    def at(self, index: int) -> dt.datetime:
        """The time of fix ``index`` (UTC)."""
        return _EPOCH + dt.timedelta(microseconds=int(self.times_us[index]))

    def times_s(self) -> FloatArray:
        """Each fix's time as UTC epoch seconds."""
        result: FloatArray = self.times_us / 1e6
        return result

    def sorted_by_time(self) -> TrackData:
        """The same fixes in time order (stable: equal times keep their order)."""
        if bool(np.all(self.times_us[1:] >= self.times_us[:-1])):
            return self
        order = np.argsort(self.times_us, kind="stable")
        position_of = {int(old): new for new, old in enumerate(order)}
        return self._picked(
            order, {position_of[index]: names for index, names in self.alarms.items()}
        )

    def _picked(self, index: slice | IntArray, alarms: dict[int, tuple[str, ...]]) -> TrackData:
        """The fixes ``index`` picks, with ``alarms`` already renumbered to match."""
        return TrackData(
            self.device,
            times_us=self.times_us[index],
            lat=self.lat[index],
            lon=self.lon[index],
            speed_kmh=self.speed_kmh[index],
            heading_deg=self.heading_deg[index],
            alarms=alarms,
        )

    def overspeed_flags(self, limit_kmh: float) -> BoolArray:
        """Per fix: over ``limit_kmh``, or carrying an overspeed alarm."""
        flags: BoolArray = self.speed_kmh > limit_kmh
        for index, names in self.alarms.items():
            if _is_overspeed_alarm(names):
                flags[index] = True
        return flags


def is_overspeed(position: PositionView, limit_kmh: float) -> bool:
    """Return whether a fix is over ``limit_kmh`` or carries an overspeed alarm."""
    if position.speed_kmh > limit_kmh:
        return True
    return _is_overspeed_alarm(position.alarms)


@dataclasses.dataclass(frozen=True, slots=True)
class Stop:
    """A standstill: fixes ``first`` to ``last`` (indices) stayed below moving speed."""

    first: int
    last: int
    start: dt.datetime
    end: dt.datetime
    lat: float
    lon: float

    @property
    def duration(self) -> dt.timedelta:
        """How long the vehicle stood."""
        return self.end - self.start


@dataclasses.dataclass(frozen=True, slots=True)
class OverspeedSegment:
    """Consecutive overspeed fixes ``first`` to ``last`` (indices) and the top speed."""

    first: int
    last: int
    start: dt.datetime
    end: dt.datetime
    max_speed_kmh: float


@dataclasses.dataclass(frozen=True, slots=True)
class TrackAnalysis:
    """What a track adds up to."""

    distance_m: float
    moving_time: dt.timedelta
    stopped_time: dt.timedelta
    stops: tuple[Stop, ...]
    overspeed: tuple[OverspeedSegment, ...]
    max_speed_kmh: float


def analyse_track(
    positions: Sequence[PositionView],
    *,
    speed_limit_kmh: float = DEFAULT_SPEED_LIMIT_KMH,
    min_stop: dt.timedelta = MIN_STOP,
    moving_kmh: float = MOVING_KMH,
) -> TrackAnalysis:
    """Measure a track whose fixes are in time order (a :class:`TrackData` is fastest).

    The time between two fixes counts as moving when the earlier fix moves (speed at
    least ``moving_kmh``) and as stopped otherwise. A stop runs from the first to the
    last of consecutive stopped fixes.
    """
    track = TrackData.from_positions(positions)
    times, speed = track.times_us, track.speed_kmh
    distance = float(
        haversine_m_arrays(track.lat[:-1], track.lon[:-1], track.lat[1:], track.lon[1:]).sum()
    )
    intervals = np.maximum(np.diff(times), 0)
    moves = speed[:-1] >= moving_kmh
    moving = dt.timedelta(microseconds=int(intervals[moves].sum()))
    stopped = dt.timedelta(microseconds=int(intervals[~moves].sum()))
    min_stop_us = min_stop // dt.timedelta(microseconds=1)
    stops = tuple(
        Stop(
            first,
            last,
            track.at(first),
            track.at(last),
            float(track.lat[first]),
            float(track.lon[first]),
        )
        for first, last in _runs(speed < moving_kmh)
        if times[last] - times[first] >= min_stop_us
    )
    over = _runs(track.overspeed_flags(speed_limit_kmh))
    overspeed = tuple(
        OverspeedSegment(first, last, track.at(first), track.at(last), top)
        for (first, last), top in zip(over, _run_maxima(speed, over), strict=True)
    )
    return TrackAnalysis(
        distance_m=distance,
        moving_time=moving,
        stopped_time=stopped,
        stops=stops,
        overspeed=overspeed,
        max_speed_kmh=float(speed.max()) if len(speed) else 0.0,
    )


def _runs(flags: BoolArray) -> list[tuple[int, int]]:
    """Return (first, last) index pairs of the runs of True in ``flags``."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    firsts = np.flatnonzero(edges == 1)
    lasts = np.flatnonzero(edges == -1) - 1
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def _run_maxima(values: FloatArray, runs: list[tuple[int, int]]) -> list[float]:
    """The largest of ``values`` in each run."""
    if not runs:
        return []
    bounds = np.array(runs, dtype=np.int64)
    bounds[:, 1] += 1  # runs are separated, so each end is below the next start
    padded = np.append(values, 0.0)
    maxima: FloatArray = np.maximum.reduceat(padded, bounds.ravel())[0::2]
    return [float(value) for value in maxima]


# ---------------------------------------------------------------------- export


def write_gpx(path: Path, device: str, name: str, positions: Sequence[PositionView]) -> None:
    """Write the fixes as a GPX 1.1 track (UTC times, WGS-84), with each fix's speed (m/s)
    and course in Garmin's TrackPointExtension, which most GPS tools read."""

    def gpx(tag: str) -> str:
        return f"{{{GPX_NAMESPACE}}}{tag}"

    def tpx(tag: str) -> str:
        return f"{{{GPX_TRACKPOINT_EXTENSION_NAMESPACE}}}{tag}"

    ET.register_namespace("", GPX_NAMESPACE)
    ET.register_namespace("gpxtpx", GPX_TRACKPOINT_EXTENSION_NAMESPACE)
    root = ET.Element(gpx("gpx"), {"version": "1.1", "creator": "DutyDesk"})
    track = ET.SubElement(root, gpx("trk"))
    ET.SubElement(track, gpx("name")).text = name or device
    segment = ET.SubElement(track, gpx("trkseg"))
    for position in positions:
        point = ET.SubElement(
            segment, gpx("trkpt"), {"lat": f"{position.lat:.7f}", "lon": f"{position.lon:.7f}"}
        )
        moment = position.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ET.SubElement(point, gpx("time")).text = moment
        if position.alarms:
            ET.SubElement(point, gpx("desc")).text = ",".join(position.alarms)
        extension = ET.SubElement(
            ET.SubElement(point, gpx("extensions")), tpx("TrackPointExtension")
        )
        ET.SubElement(extension, tpx("speed")).text = f"{position.speed_kmh / 3.6:.2f}"
        ET.SubElement(extension, tpx("course")).text = f"{position.heading_deg % 360:.1f}"
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


TRACK_CSV_HEADER = (
    "device",
    "time_local",
    "time_utc",
    "lat",
    "lon",
    "speed_kmh",
    "heading_deg",
    "alarms",
)
"""The columns of an exported track CSV."""


def write_track_csv(
    path: Path, device: str, positions: Sequence[PositionView], timezone: dt.tzinfo
) -> None:
    """Write the fixes as CSV (UTF-8 with BOM so that Excel reads the Chinese)."""
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(TRACK_CSV_HEADER)
        for position in positions:
            writer.writerow(
                (
                    spreadsheet_safe(device),
                    position.at.astimezone(timezone).isoformat(timespec="seconds"),
                    position.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                    f"{position.lat:.7f}",
                    f"{position.lon:.7f}",
                    f"{position.speed_kmh:.1f}",
                    f"{position.heading_deg:.0f}",
                    spreadsheet_safe(";".join(position.alarms)),
                )
            )


# ---------------------------------------------------------------------- replay


class ReplayClock:
    """Moves through a track's fixes in track time at a chosen speed.

    ``advance`` is fed the wall-clock seconds since the last call (the panel's timer);
    the clock stops by itself at the last fix.
    """

    def __init__(self, positions: Sequence[PositionView]) -> None:
        self._times = TrackData.from_positions(positions).times_s()
        self.index = 0
        """The fix shown now."""
        self.track_time = float(self._times[0]) if len(self._times) else 0.0
        """The replayed moment (UTC epoch seconds)."""
        self.speed = 1
        """Track seconds per wall-clock second."""
        self.playing = False

    def __len__(self) -> int:
        return len(self._times)

    @property
    def at_end(self) -> bool:
        """Whether the last fix is shown."""
        return not len(self._times) or self.index >= len(self._times) - 1

    def play(self) -> None:
        """Start (from the beginning when at the end)."""
        if not len(self._times):
            return
        if self.at_end:
            self.seek(0)
        self.playing = True

    def pause(self) -> None:
        """Stop where it is."""
        self.playing = False

    def seek(self, index: int) -> None:
        """Show fix ``index`` (clamped to the track)."""
        if not len(self._times):
            return
        self.index = min(max(index, 0), len(self._times) - 1)
        self.track_time = float(self._times[self.index])

    def step(self, count: int = 1) -> None:
        """Pause and move ``count`` fixes (negative: back)."""
        self.pause()
        self.seek(self.index + count)

    def advance(self, wall_seconds: float) -> bool:
        """Let ``wall_seconds`` pass while playing; return whether the fix changed."""
        if not self.playing or not len(self._times):
            return False
        before = self.index
        self.track_time += wall_seconds * self.speed
        if self.track_time >= self._times[-1]:
            self.seek(len(self._times) - 1)
            self.playing = False
        else:
            found = int(np.searchsorted(self._times, self.track_time, side="right"))
            self.index = max(found - 1, 0)
        return self.index != before
