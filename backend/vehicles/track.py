"""Track analysis for replay: distance, moving/stopped time, stops, overspeed segments,
and GPX 1.1 / CSV export.

Pure functions: a time-ordered list of :class:`~devices.observations.Position` in, plain
results out. Indices in the results refer to positions in the list given, so a map can
highlight exactly those points.

Moving versus stopped is decided per interval between consecutive fixes: an interval is
*stopped* when the fix that opens it reports less than ``moving_kmh`` and the average
speed over the interval (distance / time) is below ``moving_kmh`` too. So a vehicle whose
terminal fell silent while parked (ignition off) shows one long stopped interval.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from backend.geo import haversine_m
from backend.vehicles.rules import DEFAULT_TIMEZONE, load_timezone
from devices.observations import Position

GPX_NAMESPACE = "http://www.topografix.com/GPX/1/1"
"""The GPX 1.1 namespace."""

GPX_TRACKPOINT_EXTENSION_NAMESPACE = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
"""Garmin's TrackPointExtension v2 (speed in m/s, course in degrees), read by most tools."""

ET.register_namespace("", GPX_NAMESPACE)
ET.register_namespace("gpxtpx", GPX_TRACKPOINT_EXTENSION_NAMESPACE)

CSV_COLUMNS: tuple[str, ...] = (
    "device",
    "time_local",
    "time_utc",
    "lat",
    "lon",
    "speed_kmh",
    "heading_deg",
    "altitude_m",
    "alarms",
)
"""The header row of :func:`to_csv`."""


class TrackError(ValueError):
    """The fixes cannot be analysed as given (e.g. not in time order)."""


@dataclass(frozen=True, slots=True)
class Stop:
    """A stop: the vehicle stood within ``radius_m`` from ``started_at`` to ``ended_at``.

    ``first_index``/``last_index`` are the fixes that open and close it; (lat, lon) is the
    mean position of its fixes.
    """

    started_at: dt.datetime
    ended_at: dt.datetime
    lat: float
    lon: float
    first_index: int
    last_index: int

    @property
    def duration_s(self) -> float:
        """How long the stop lasted, in seconds."""
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class OverspeedSegment:
    """A contiguous run of fixes above the limit (``first_index`` to ``last_index``,
    inclusive)."""

    first_index: int
    last_index: int
    started_at: dt.datetime
    ended_at: dt.datetime
    max_speed_kmh: float
    distance_m: float

    @property
    def duration_s(self) -> float:
        """Time from the first to the last fix above the limit, in seconds."""
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class TrackSummary:
    """What :func:`analyze_track` found."""

    point_count: int
    distance_m: float
    duration_s: float
    moving_s: float
    stopped_s: float
    max_speed_kmh: float
    stops: tuple[Stop, ...]
    overspeed_segments: tuple[OverspeedSegment, ...]


def _check_order(fixes: Sequence[Position]) -> None:
    for index, (earlier, later) in enumerate(itertools.pairwise(fixes), start=1):
        if later.at < earlier.at:
            raise TrackError(
                f"fix {index} at {later.at.isoformat()} is before fix {index - 1} "
                f"at {earlier.at.isoformat()}; sort the track by time first"
            )


def _interval_is_stopped(earlier: Position, later: Position, moving_kmh: float) -> bool:
    if earlier.speed_kmh >= moving_kmh:
        return False
    seconds = (later.at - earlier.at).total_seconds()
    if seconds <= 0:
        return True
    metres = haversine_m(earlier.lat, earlier.lon, later.lat, later.lon)
    return metres / seconds * 3.6 < moving_kmh


def find_stops(
    fixes: Sequence[Position],
    *,
    moving_kmh: float = 5.0,
    radius_m: float = 100.0,
    min_stop_s: float = 300.0,
) -> list[Stop]:
    """Stops of at least ``min_stop_s``: runs of stopped intervals whose fixes all stay
    within ``radius_m`` of the run's first fix."""
    _check_order(fixes)
    stops: list[Stop] = []
    run_start: int | None = None

    def close_run(last: int) -> None:
        if run_start is None or last <= run_start:
            return
        duration_s = (fixes[last].at - fixes[run_start].at).total_seconds()
        if duration_s < min_stop_s:
            return
        members = fixes[run_start : last + 1]
        stops.append(
            Stop(
                started_at=fixes[run_start].at,
                ended_at=fixes[last].at,
                lat=math.fsum(fix.lat for fix in members) / len(members),
                lon=math.fsum(fix.lon for fix in members) / len(members),
                first_index=run_start,
                last_index=last,
            )
        )

    for index in range(len(fixes) - 1):
        earlier, later = fixes[index], fixes[index + 1]
        stopped = _interval_is_stopped(earlier, later, moving_kmh)
        if stopped and run_start is not None:
            anchor = fixes[run_start]
            if haversine_m(anchor.lat, anchor.lon, later.lat, later.lon) > radius_m:
                close_run(index)
                run_start = index
        elif stopped:
            run_start = index
        else:
            close_run(index)
            run_start = None
    if run_start is not None:
        close_run(len(fixes) - 1)
    return stops


def find_overspeed_segments(
    fixes: Sequence[Position], *, limit_kmh: float
) -> list[OverspeedSegment]:
    """Contiguous runs of fixes reporting more than ``limit_kmh`` (for highlighting)."""
    _check_order(fixes)
    segments: list[OverspeedSegment] = []
    index = 0
    while index < len(fixes):
        if fixes[index].speed_kmh <= limit_kmh:
            index += 1
            continue
        first = index
        while index + 1 < len(fixes) and fixes[index + 1].speed_kmh > limit_kmh:
            index += 1
        run = fixes[first : index + 1]
        segments.append(
            OverspeedSegment(
                first_index=first,
                last_index=index,
                started_at=run[0].at,
                ended_at=run[-1].at,
                max_speed_kmh=max(fix.speed_kmh for fix in run),
                distance_m=math.fsum(
                    haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in itertools.pairwise(run)
                ),
            )
        )
        index += 1
    return segments


def analyze_track(
    fixes: Sequence[Position],
    *,
    limit_kmh: float | None = None,
    moving_kmh: float = 5.0,
    stop_radius_m: float = 100.0,
    min_stop_s: float = 300.0,
) -> TrackSummary:
    """Summarize a time-ordered track (raises :class:`TrackError` if it is not in order).

    ``limit_kmh``: find overspeed segments above it (none if None). See the module
    docstring for how moving and stopped time are told apart.
    """
    _check_order(fixes)
    distance_m = 0.0
    moving_s = 0.0
    stopped_s = 0.0
    for earlier, later in itertools.pairwise(fixes):
        distance_m += haversine_m(earlier.lat, earlier.lon, later.lat, later.lon)
        seconds = (later.at - earlier.at).total_seconds()
        if _interval_is_stopped(earlier, later, moving_kmh):
            stopped_s += seconds
        else:
            moving_s += seconds
    duration_s = (fixes[-1].at - fixes[0].at).total_seconds() if fixes else 0.0
    return TrackSummary(
        point_count=len(fixes),
        distance_m=distance_m,
        duration_s=duration_s,
        moving_s=moving_s,
        stopped_s=stopped_s,
        max_speed_kmh=max((fix.speed_kmh for fix in fixes), default=0.0),
        stops=tuple(
            find_stops(fixes, moving_kmh=moving_kmh, radius_m=stop_radius_m, min_stop_s=min_stop_s)
        ),
        overspeed_segments=tuple(
            find_overspeed_segments(fixes, limit_kmh=limit_kmh) if limit_kmh is not None else ()
        ),
    )


def _utc_iso(at: dt.datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix (milliseconds only when present)."""
    utc = at.astimezone(dt.UTC)
    timespec = "milliseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def _coordinate(value: float) -> str:
    return f"{value:.7f}"


def to_gpx(
    fixes: Sequence[Position],
    *,
    name: str = "",
    creator: str = "DutyDesk",
) -> str:
    """A GPX 1.1 document (one track, one segment, a point per fix) with UTC times, the
    altitude as ``ele`` and speed/course in Garmin's TrackPointExtension."""

    def gpx(tag: str) -> str:
        return f"{{{GPX_NAMESPACE}}}{tag}"

    def ext(tag: str) -> str:
        return f"{{{GPX_TRACKPOINT_EXTENSION_NAMESPACE}}}{tag}"

    root = ET.Element(gpx("gpx"), {"version": "1.1", "creator": creator})
    metadata = ET.SubElement(root, gpx("metadata"))
    if name:
        ET.SubElement(metadata, gpx("name")).text = name
    if fixes:
        ET.SubElement(metadata, gpx("time")).text = _utc_iso(fixes[0].at)
    track = ET.SubElement(root, gpx("trk"))
    if name:
        ET.SubElement(track, gpx("name")).text = name
    segment = ET.SubElement(track, gpx("trkseg"))
    for fix in fixes:
        point = ET.SubElement(
            segment, gpx("trkpt"), {"lat": _coordinate(fix.lat), "lon": _coordinate(fix.lon)}
        )
        ET.SubElement(point, gpx("ele")).text = f"{fix.altitude_m:.1f}"
        ET.SubElement(point, gpx("time")).text = _utc_iso(fix.at)
        extensions = ET.SubElement(point, gpx("extensions"))
        values = ET.SubElement(extensions, ext("TrackPointExtension"))
        ET.SubElement(values, ext("speed")).text = f"{fix.speed_kmh / 3.6:.2f}"
        ET.SubElement(values, ext("course")).text = f"{fix.heading_deg % 360:.1f}"
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def to_csv(fixes: Sequence[Position], *, timezone: str = DEFAULT_TIMEZONE) -> str:
    """CSV text with a header row (:data:`CSV_COLUMNS`): local time (``timezone``,
    ISO 8601 with offset) and UTC time (``Z``) per fix; alarms joined with ``;``.

    Lines end with CRLF (RFC 4180). Write it as ``utf-8-sig`` for Excel.
    """
    zone = load_timezone(timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for fix in fixes:
        writer.writerow(
            (
                fix.device,
                fix.at.astimezone(zone).isoformat(timespec="seconds"),
                _utc_iso(fix.at),
                _coordinate(fix.lat),
                _coordinate(fix.lon),
                f"{fix.speed_kmh:.1f}",
                f"{fix.heading_deg:.0f}",
                f"{fix.altitude_m:.1f}",
                ";".join(sorted(fix.alarms)),
            )
        )
    return buffer.getvalue()
