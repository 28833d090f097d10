"""Read a road layer from a file: an OpenStreetMap extract (``.osm.pbf``, ``.osm``,
``.osm.bz2``/``.osm.gz``, through pyosmium, the maintained reader of libosmium) or a
GeoPackage (``.gpkg``, an SQLite file: its line geometries are the GeoPackage binary
header followed by WKB, read here with the standard library).

Every reader yields :class:`RoadSegment` (one per way or line, WGS-84) and tells its
progress to a callback. A file it cannot read is an :class:`Error` naming the file and
what is wrong with it, in one line.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from backend.jurisdictions.datum import gcj02_to_wgs84
from backend.roads.classes import parse_maxspeed, parse_oneway, road_class
from realtime.protocol import RoadClass

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 10_000
"""Ways (or rows) between two progress calls."""

Progress = Callable[[int], None]
"""Called with the number of ways or lines read so far."""


class Error(Exception):
    """The file cannot be read as a road layer (one line, naming the file)."""


class Datum(StrEnum):
    """What the coordinates of the file are."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    """Chinese web-map coordinates (Amap/Gaode, Tencent): converted to WGS-84."""


@dataclass(slots=True)
class RoadSegment:
    """One road: a way of the extract or a line of the GeoPackage."""

    road_class: RoadClass
    highway: str
    points: list[tuple[float, float]]
    """(lat, lon) WGS-84, at least two."""
    name: str = ""
    name_zh: str = ""
    oneway: int = 0
    """1 along the points, -1 against them, 0 both ways."""
    maxspeed: int | None = None
    ref: str = field(default="")


@dataclass(slots=True)
class Tally:
    """What a read saw, for the import's summary."""

    read: int = 0
    """Ways or lines read."""
    roads: int = 0
    """Of them, roads kept."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Left out, by reason (``footway``, ``too few points``, …)."""

    def skip(self, reason: str) -> None:
        """Count one item left out for ``reason``."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _segment(
    tags: dict[str, str], points: list[tuple[float, float]], tally: Tally
) -> RoadSegment | None:
    highway = tags.get("highway") or tags.get("fclass") or ""
    if not highway:
        tally.skip("not a highway")
        return None
    kind = road_class(highway)
    if kind is None:
        tally.skip(f"highway={highway}")
        return None
    if len(points) < 2:
        tally.skip("fewer than two located points")
        return None
    return RoadSegment(
        road_class=kind,
        highway=highway,
        points=points,
        name=tags.get("name", "").strip(),
        name_zh=(tags.get("name:zh") or tags.get("name_zh") or "").strip(),
        oneway=_oneway(tags.get("oneway", "")),
        maxspeed=parse_maxspeed(tags.get("maxspeed", "")),
        ref=tags.get("ref", "").strip(),
    )


def _oneway(text: str) -> int:
    # Geofabrik's layers write F (forward), T (backward), B (both).
    geofabrik = {"F": 1, "T": -1, "B": 0}
    return geofabrik[text] if text in geofabrik else parse_oneway(text)


def _converted(points: list[tuple[float, float]], datum: Datum) -> list[tuple[float, float]]:
    if datum is Datum.WGS84 or not points:
        return points
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    lon84, lat84 = gcj02_to_wgs84(lon, lat)
    return list(zip(lat84.tolist(), lon84.tolist(), strict=True))


def _tick(tally: Tally, progress: Progress | None) -> None:
    tally.read += 1
    if progress is not None and tally.read % PROGRESS_EVERY == 0:
        progress(tally.read)


# ---------------------------------------------------------------------------- OSM


OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".o5m")


def read_osm(
    path: Path, tally: Tally, *, datum: Datum = Datum.WGS84, progress: Progress | None = None
) -> Iterator[RoadSegment]:
    """The roads of an OSM extract (its ways tagged ``highway=*``), one per way; a way
    whose nodes are partly missing from the extract keeps its longest located run."""
    import osmium  # noqa: PLC0415 - a C extension loaded only when an extract is read

    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_filter(osmium.filter.KeyFilter("highway"))
            .with_locations()
        )
        for item in processor:
            if not isinstance(item, osmium.osm.Way):
                continue
            way = item
            _tick(tally, progress)
            runs: list[list[tuple[float, float]]] = [[]]
            for node in way.nodes:
                location = node.location
                if location.valid():
                    runs[-1].append((location.lat, location.lon))
                elif runs[-1]:
                    runs.append([])
            points = max(runs, key=len)
            segment = _segment(dict(way.tags), _converted(points, datum), tally)
            if segment is not None:
                tally.roads += 1
                yield segment
    except RuntimeError as exc:
        # pyosmium reports unreadable files, bad XML and bad PBF blocks this way.
        raise Error(f"{path.name}: not a readable OSM extract: {exc}") from exc


# ---------------------------------------------------------------------------- GeoPackage

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_LINESTRING, _MULTILINESTRING = 2, 5


def gpkg_lines(blob: bytes) -> list[list[tuple[float, float]]]:
    """The lines of a GeoPackage geometry (LineString or MultiLineString, 2D, Z, M or ZM,
    ISO or EWKB flags) as (lat, lon) lists; other geometries give ``[]``.

    Raises :class:`ValueError` when the bytes are no GeoPackage geometry.
    """
    if len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry (no GP header)")
    flags = blob[3]
    if flags & 0b1_0000:  # the empty flag
        return []
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        raise ValueError("bad envelope indicator in the GeoPackage header")
    lines, _ = _wkb(blob, 8 + envelope)
    return lines


def _wkb(blob: bytes, offset: int) -> tuple[list[list[tuple[float, float]]], int]:
    try:
        order = "<" if blob[offset] == 1 else ">"
        (code,) = struct.unpack_from(order + "I", blob, offset + 1)
        offset += 5
        dims = 2
        if code & 0x80000000:  # EWKB Z
            dims += 1
        if code & 0x40000000:  # EWKB M
            dims += 1
        code &= 0x0FFFFFFF
        if code >= 1000:  # ISO: 1000 Z, 2000 M, 3000 ZM
            dims += {1: 1, 2: 1, 3: 2}[code // 1000]
            code %= 1000
        if code == _LINESTRING:
            (count,) = struct.unpack_from(order + "I", blob, offset)
            offset += 4
            values = struct.unpack_from(f"{order}{count * dims}d", blob, offset)
            offset += 8 * count * dims
            # WKB of EPSG:4326 in a GeoPackage is x = longitude, y = latitude.
            line = [(values[i + 1], values[i]) for i in range(0, count * dims, dims)]
            return [line], offset
        if code == _MULTILINESTRING:
            (count,) = struct.unpack_from(order + "I", blob, offset)
            offset += 4
            lines: list[list[tuple[float, float]]] = []
            for _ in range(count):
                part, offset = _wkb(blob, offset)
                lines.extend(part)
            return lines, offset
    except (struct.error, IndexError, KeyError) as exc:
        raise ValueError(f"truncated or malformed WKB: {exc}") from exc
    return [], offset


def _feature_tables(db: sqlite3.Connection, path: Path) -> Sequence[tuple[str, str, int]]:
    try:
        rows = db.execute(
            "SELECT g.table_name, g.column_name, g.srs_id FROM gpkg_geometry_columns g "
            "JOIN gpkg_contents c ON c.table_name = g.table_name "
            "WHERE c.data_type = 'features' AND upper(g.geometry_type_name) IN "
            "('LINESTRING', 'MULTILINESTRING', 'GEOMETRY', 'MULTICURVE', 'CURVE')"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise Error(f"{path.name}: not a GeoPackage ({exc})") from exc
    if not rows:
        raise Error(f"{path.name}: the GeoPackage has no line layer")
    return [(str(table), str(column), int(srs)) for table, column, srs in rows]


def _check_srs(db: sqlite3.Connection, path: Path, table: str, srs_id: int) -> None:
    row = db.execute(
        "SELECT organization, organization_coordsys_id, srs_name FROM gpkg_spatial_ref_sys "
        "WHERE srs_id = ?",
        (srs_id,),
    ).fetchone()
    if row is not None and (str(row[0]).upper(), int(row[1])) == ("EPSG", 4326):
        return
    declared = f"{row[0]}:{row[1]} ({row[2]})" if row is not None else f"srs_id {srs_id}"
    raise Error(
        f"{path.name}: layer {table} is in {declared}; only EPSG:4326 (WGS-84 longitude/"
        "latitude) is accepted: reproject it first (e.g. ogr2ogr -t_srs EPSG:4326), or give "
        "--datum gcj02 for Chinese web-map coordinates declared as EPSG:4326"
    )


def read_gpkg(
    path: Path, tally: Tally, *, datum: Datum = Datum.WGS84, progress: Progress | None = None
) -> Iterator[RoadSegment]:
    """The roads of every line layer of a GeoPackage: a row's ``highway`` (or Geofabrik's
    ``fclass``) column gives its class; ``name``, ``name_zh``/``name:zh``, ``oneway``,
    ``maxspeed`` and ``ref`` are read when present."""
    try:
        # The batches are read from worker threads in turn (never two at once).
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise Error(f"{path.name}: cannot open: {exc}") from exc
    try:
        tables = _feature_tables(db, path)
        for table, _, srs_id in tables:
            _check_srs(db, path, table, srs_id)
        for table, column, _ in tables:
            yield from _gpkg_rows(
                db, path, table, column, tally=tally, datum=datum, progress=progress
            )
    except sqlite3.DatabaseError as exc:
        raise Error(f"{path.name}: not a readable GeoPackage ({exc})") from exc
    finally:
        db.close()


def _gpkg_rows(
    db: sqlite3.Connection,
    path: Path,
    table: str,
    column: str,
    *,
    tally: Tally,
    datum: Datum,
    progress: Progress | None,
) -> Iterator[RoadSegment]:
    quoted = '"' + table.replace('"', '""') + '"'
    cursor = db.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - the name is quoted
    names = [description[0] for description in cursor.description]
    lowered = [name.lower() for name in names]
    if "highway" not in lowered and "fclass" not in lowered:
        raise Error(f"{path.name}: layer {table} has no highway (or fclass) column")
    for row in cursor:
        _tick(tally, progress)
        values = dict(zip(lowered, row, strict=True))
        blob = values.get(column.lower())
        tags = {
            key: str(value)
            for key, value in values.items()
            if key != column.lower() and value is not None
        }
        if blob is None:
            tally.skip("no geometry")
            continue
        try:
            lines = gpkg_lines(bytes(blob))
        except ValueError as exc:
            logger.debug("%s: a row of %s left out: %s", path.name, table, exc)
            tally.skip("bad geometry")
            continue
        for line in lines:
            segment = _segment(tags, _converted(line, datum), tally)
            if segment is not None:
                tally.roads += 1
                yield segment


# ---------------------------------------------------------------------------- any


def read_roads(
    path: Path, tally: Tally, *, datum: Datum = Datum.WGS84, progress: Progress | None = None
) -> Iterator[RoadSegment]:
    """The roads of ``path``, by its suffix (an OSM extract or a GeoPackage)."""
    if not path.is_file():
        raise Error(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith(".gpkg"):
        return read_gpkg(path, tally, datum=datum, progress=progress)
    if name.endswith(OSM_SUFFIXES):
        return read_osm(path, tally, datum=datum, progress=progress)
    raise Error(
        f"{path.name}: unknown format; give an OSM extract (.osm.pbf, .osm) or a GeoPackage (.gpkg)"
    )
