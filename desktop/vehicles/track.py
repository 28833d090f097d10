"""Track analysis, export and the replay clock, in plain Python (no Qt).

:func:`analyse_track` measures a :class:`~realtime.protocol.TrackResult`'s fixes: the
distance driven (great-circle, :func:`haversine_m`), moving and stopped time, stops of
at least :data:`MIN_STOP` and overspeed segments. :class:`ReplayClock` moves through the
fixes in track time at a chosen speed; :func:`write_gpx` and :func:`write_track_csv`
export them.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import datetime as dt
import itertools
import logging
import math
import xml.etree.ElementTree as ET  # writing only; nothing untrusted is parsed here
from collections.abc import Sequence
from pathlib import Path

from realtime.protocol import PositionView

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


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres between two WGS-84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def is_overspeed(position: PositionView, limit_kmh: float) -> bool:
    """Return whether a fix is over ``limit_kmh`` or carries an overspeed alarm."""
    if position.speed_kmh > limit_kmh:
        return True
    return any(OVERSPEED_ALARM in alarm.casefold() for alarm in position.alarms)


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
    """Measure a track whose fixes are in time order.

    The time between two fixes counts as moving when the earlier fix moves (speed at
    least ``moving_kmh``) and as stopped otherwise. A stop runs from the first to the
    last of consecutive stopped fixes.
    """
    distance = 0.0
    moving = dt.timedelta(0)
    stopped = dt.timedelta(0)
    for before, after in itertools.pairwise(positions):
        distance += haversine_m(before.lat, before.lon, after.lat, after.lon)
        interval = max(after.at - before.at, dt.timedelta(0))
        if before.speed_kmh >= moving_kmh:
            moving += interval
        else:
            stopped += interval
    stops = tuple(
        Stop(
            first,
            last,
            positions[first].at,
            positions[last].at,
            positions[first].lat,
            positions[first].lon,
        )
        for first, last in _runs([p.speed_kmh < moving_kmh for p in positions])
        if positions[last].at - positions[first].at >= min_stop
    )
    overspeed = tuple(
        OverspeedSegment(
            first,
            last,
            positions[first].at,
            positions[last].at,
            max(p.speed_kmh for p in positions[first : last + 1]),
        )
        for first, last in _runs([is_overspeed(p, speed_limit_kmh) for p in positions])
    )
    return TrackAnalysis(
        distance_m=distance,
        moving_time=moving,
        stopped_time=stopped,
        stops=stops,
        overspeed=overspeed,
        max_speed_kmh=max((p.speed_kmh for p in positions), default=0.0),
    )


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """Return (first, last) index pairs of the runs of True in ``flags``."""
    runs: list[tuple[int, int]] = []
    first: int | None = None
    for index, flag in enumerate(flags):
        if flag and first is None:
            first = index
        elif not flag and first is not None:
            runs.append((first, index - 1))
            first = None
    if first is not None:
        runs.append((first, len(flags) - 1))
    return runs


# ---------------------------------------------------------------------- export


def write_gpx(path: Path, device: str, name: str, positions: Sequence[PositionView]) -> None:
    """Write the fixes as a GPX 1.1 track (UTC times, WGS-84)."""
    ET.register_namespace("", GPX_NAMESPACE)
    root = ET.Element(f"{{{GPX_NAMESPACE}}}gpx", {"version": "1.1", "creator": "DutyDesk"})
    track = ET.SubElement(root, f"{{{GPX_NAMESPACE}}}trk")
    ET.SubElement(track, f"{{{GPX_NAMESPACE}}}name").text = name or device
    segment = ET.SubElement(track, f"{{{GPX_NAMESPACE}}}trkseg")
    for position in positions:
        point = ET.SubElement(
            segment,
            f"{{{GPX_NAMESPACE}}}trkpt",
            {"lat": f"{position.lat:.7f}", "lon": f"{position.lon:.7f}"},
        )
        moment = position.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ET.SubElement(point, f"{{{GPX_NAMESPACE}}}time").text = moment
        if position.alarms:
            ET.SubElement(point, f"{{{GPX_NAMESPACE}}}desc").text = ",".join(position.alarms)
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
                    device,
                    position.at.astimezone(timezone).isoformat(timespec="seconds"),
                    position.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                    f"{position.lat:.7f}",
                    f"{position.lon:.7f}",
                    f"{position.speed_kmh:.1f}",
                    f"{position.heading_deg:.0f}",
                    ";".join(position.alarms),
                )
            )


# ---------------------------------------------------------------------- replay


class ReplayClock:
    """Moves through a track's fixes in track time at a chosen speed.

    ``advance`` is fed the wall-clock seconds since the last call (the panel's timer);
    the clock stops by itself at the last fix.
    """

    def __init__(self, positions: Sequence[PositionView]) -> None:
        self._times = [position.at.timestamp() for position in positions]
        self.index = 0
        """The fix shown now."""
        self.track_time = self._times[0] if self._times else 0.0
        """The replayed moment (UTC epoch seconds)."""
        self.speed = 1
        """Track seconds per wall-clock second."""
        self.playing = False

    def __len__(self) -> int:
        return len(self._times)

    @property
    def at_end(self) -> bool:
        """Whether the last fix is shown."""
        return not self._times or self.index >= len(self._times) - 1

    def play(self) -> None:
        """Start (from the beginning when at the end)."""
        if not self._times:
            return
        if self.at_end:
            self.seek(0)
        self.playing = True

    def pause(self) -> None:
        """Stop where it is."""
        self.playing = False

    def seek(self, index: int) -> None:
        """Show fix ``index`` (clamped to the track)."""
        if not self._times:
            return
        self.index = min(max(index, 0), len(self._times) - 1)
        self.track_time = self._times[self.index]

    def step(self, count: int = 1) -> None:
        """Pause and move ``count`` fixes (negative: back)."""
        self.pause()
        self.seek(self.index + count)

    def advance(self, wall_seconds: float) -> bool:
        """Let ``wall_seconds`` pass while playing; return whether the fix changed."""
        if not self.playing or not self._times:
            return False
        before = self.index
        self.track_time += wall_seconds * self.speed
        if self.track_time >= self._times[-1]:
            self.seek(len(self._times) - 1)
            self.playing = False
        else:
            self.index = max(bisect.bisect_right(self._times, self.track_time) - 1, 0)
        return self.index != before
