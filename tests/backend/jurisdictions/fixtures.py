"""Small town and village files (GeoJSON, CSV with WKT, Shapefile) made inside the tests,
in 西湖区 (330106), Hangzhou."""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import shapefile

Ring = list[list[float]]


def square(lon: float, lat: float, size: float) -> Ring:
    """A closed counter-clockwise square ring of ``[lon, lat]`` points."""
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


TOWN_A = {"code": "330106001000", "name": "北山街道", "ring": square(120.10, 30.25, 0.02)}
TOWN_B = {"code": "330106002", "name": "西溪街道", "ring": square(120.12, 30.25, 0.02)}
VILLAGE = {
    "code": "330106001001",
    "name": "曙光社区",
    "parent": "330106001000",
    "ring": square(120.105, 30.255, 0.01),
}
GOOD = (TOWN_A, TOWN_B, VILLAGE)
"""Two towns and a village of the first: all valid."""
IN_VILLAGE = (30.26, 120.11)
IN_TOWN_B_ONLY = (30.26, 120.13)


def feature(item: dict[str, Any], **properties: Any) -> dict[str, Any]:
    """A GeoJSON Feature of a fixture item (properties may override or add fields)."""
    props = {key: value for key, value in item.items() if key not in ("ring", "geometry")}
    props.update(properties)
    geometry = item.get("geometry") or {"type": "Polygon", "coordinates": [item["ring"]]}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def write_geojson(path: Path, features: Sequence[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def wkt_polygon(ring: Ring) -> str:
    return "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"


def write_csv(
    path: Path,
    rows: Sequence[dict[str, str]],
    header: Sequence[str] = ("code", "name", "parent", "wkt"),
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header))
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def csv_row(item: dict[str, Any]) -> dict[str, str]:
    return {
        "code": item["code"],
        "name": item["name"],
        "parent": item.get("parent", ""),
        "wkt": wkt_polygon(item["ring"]),
    }


def write_shapefile(path: Path, items: Sequence[dict[str, Any]], encoding: str = "utf-8") -> Path:
    """A polygon Shapefile (.shp/.shx/.dbf) with code, name, parent attributes."""
    with shapefile_writer(path, encoding) as writer:
        writer.field("code", "C", size=20)
        writer.field("name", "C", size=40)
        writer.field("parent", "C", size=20)
        for item in items:
            # Shapefile outer rings run clockwise.
            writer.poly([list(reversed(item["ring"]))])
            writer.record(item["code"], item["name"], item.get("parent", ""))
    return path


@contextlib.contextmanager
def shapefile_writer(path: Path, encoding: str = "utf-8") -> Iterator[shapefile.Writer]:
    """A polygon Writer on files we open and close: pyshp 3.1's Writer leaves the .dbf
    it opens itself unclosed (a ResourceWarning, an error in this suite)."""
    with (
        path.open("w+b") as shp,
        path.with_suffix(".shx").open("w+b") as shx,
        path.with_suffix(".dbf").open("w+b") as dbf,
    ):
        writer = shapefile.Writer(
            shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding=encoding
        )
        try:
            yield writer
        finally:
            writer.close()
