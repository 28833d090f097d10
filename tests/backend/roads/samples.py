"""Small road layers written by the tests: an OSM XML extract, the same as PBF (through
pyosmium's writer), and a GeoPackage (SQLite with GP-header + WKB geometries)."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import osmium

NODES = {
    1: (32.2400, 118.7500),
    2: (32.2450, 118.7600),
    3: (32.2500, 118.7700),
    4: (32.2550, 118.7700),
    5: (32.2450, 118.7650),
}
WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    (
        10,
        [1, 2, 3],
        {"highway": "primary", "name": "化工大道", "name:zh": "化工大道", "maxspeed": "50"},
    ),
    (11, [3, 4], {"highway": "service", "name": "园区支路", "oneway": "yes"}),
    (12, [2, 5], {"highway": "residential_link_unknown"}),
    (13, [2, 5], {"highway": "footway", "name": "步道"}),
    (14, [4, 5], {"highway": "motorway_link", "oneway": "-1", "maxspeed": "40 mph"}),
    (15, [1, 5], {"building": "yes"}),
]


def write_osm_xml(path: Path) -> Path:
    """The sample extract as OSM XML."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='test'>"]
    for node, (lat, lon) in NODES.items():
        lines.append(f"<node id='{node}' version='1' lat='{lat}' lon='{lon}'/>")
    for way, refs, tags in WAYS:
        lines.append(f"<way id='{way}' version='1'>")
        lines += [f"<nd ref='{ref}'/>" for ref in refs]
        lines += [f"<tag k='{key}' v='{value}'/>" for key, value in tags.items()]
        lines.append("</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_osm_pbf(path: Path) -> Path:
    """The sample extract as PBF, written by pyosmium."""
    with osmium.SimpleWriter(str(path)) as writer:
        for node, (lat, lon) in NODES.items():
            writer.add_node(osmium.osm.mutable.Node(id=node, location=(lon, lat), tags={}))
        for way, refs, tags in WAYS:
            writer.add_way(osmium.osm.mutable.Way(id=way, nodes=refs, tags=tags))
    return path


def gp_linestring(points: list[tuple[float, float]], *, srs: int = 4326, z: bool = False) -> bytes:
    """A GeoPackage geometry: GP header (little-endian, no envelope) + WKB LineString of
    (lat, lon) points written x = lon, y = lat."""
    header = b"GP" + bytes([0, 0b0000_0001]) + struct.pack("<i", srs)
    code = 1002 if z else 2
    body = struct.pack("<BII", 1, code, len(points))
    for lat, lon in points:
        body += struct.pack("<dd", lon, lat) + (struct.pack("<d", 12.0) if z else b"")
    return header + body


def gp_multilinestring(lines: list[list[tuple[float, float]]]) -> bytes:
    """A big-endian MultiLineString with a 2D envelope in the header."""
    header = b"GP" + bytes([0, 0b0000_0010]) + struct.pack(">i", 4326) + bytes(32)
    body = struct.pack(">BII", 0, 5, len(lines))
    for line in lines:
        body += struct.pack(">BII", 0, 2, len(line))
        for lat, lon in line:
            body += struct.pack(">dd", lon, lat)
    return header + body


def write_gpkg(
    path: Path,
    rows: list[tuple[bytes | None, dict[str, str | int | None]]],
    *,
    organization: str = "EPSG",
    coordsys: int = 4326,
) -> Path:
    """A GeoPackage with one line layer ``roads`` (columns highway, name, name_zh, oneway,
    maxspeed) in the given SRS."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY,
            organization TEXT, organization_coordsys_id INTEGER, definition TEXT);
        CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT,
            identifier TEXT, srs_id INTEGER);
        CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT,
            geometry_type_name TEXT, srs_id INTEGER, z INTEGER, m INTEGER);
        CREATE TABLE roads (fid INTEGER PRIMARY KEY, geom BLOB, highway TEXT, name TEXT,
            name_zh TEXT, oneway TEXT, maxspeed INTEGER);
        """
    )
    db.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('layer srs', 9001, ?, ?, '')",
        (organization, coordsys),
    )
    db.execute("INSERT INTO gpkg_contents VALUES ('roads', 'features', 'roads', 9001)")
    db.execute(
        "INSERT INTO gpkg_geometry_columns VALUES ('roads', 'geom', 'LINESTRING', 9001, 0, 0)"
    )
    for geometry, fields in rows:
        db.execute(
            "INSERT INTO roads (geom, highway, name, name_zh, oneway, maxspeed) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                geometry,
                fields.get("highway"),
                fields.get("name"),
                fields.get("name_zh"),
                fields.get("oneway"),
                fields.get("maxspeed"),
            ),
        )
    db.commit()
    db.close()
    return path
