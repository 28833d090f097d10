"""Reading towns and villages from GeoJSON, Shapefile or CSV-with-WKT, and checking them
against the tree before anything is written.

:func:`read_features` turns a file into :class:`RawFeature` rows (properties and
polygons) and the problems of the file itself; :func:`validate` checks every row against
the tree and returns a :class:`Report`: the jurisdictions ready to store and, per feature
or row, the field and the reason of each problem. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import enum
import itertools
import json
import logging
import struct
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapefile

from backend.errors import ValidationError
from backend.jurisdictions import codes, wkt
from backend.jurisdictions.basemap import FloatArray
from backend.jurisdictions.codes import Level
from backend.jurisdictions.datum import gcj02_to_wgs84
from backend.jurisdictions.index import PolygonIndex
from backend.jurisdictions.tree import BASEMAP_SOURCE, Jurisdiction, JurisdictionTree, bbox_of

logger = logging.getLogger(__name__)

FAR_OUTSIDE_M = 1_000.0
"""How far outside its parent a vertex may lie before it counts as outside (the parent's
basemap outline is simplified to 150 m; imported outlines are often rougher)."""

MAX_OUTSIDE_SHARE = 0.10
"""A feature with more of its vertices than this far outside its parent is refused."""

MAX_NAME_LENGTH = 128

Polygon = list[FloatArray]
"""A polygon: its outer ring, then its holes, each ``(n, 2)`` ``(lon, lat)``, closed."""


class Format(enum.StrEnum):
    """The file formats ``dutydesk jurisdiction import`` reads."""

    GEOJSON = "geojson"
    SHP = "shp"
    CSV = "csv"

    @classmethod
    def of(cls, path: Path) -> Format:
        """The format a file name suggests; :class:`ValidationError` when none does."""
        suffix = path.suffix.lower()
        found = {".geojson": cls.GEOJSON, ".json": cls.GEOJSON, ".shp": cls.SHP, ".csv": cls.CSV}
        if suffix not in found:
            raise ValidationError(
                f"cannot tell the format of {path.name}: give --format geojson, shp or csv"
            )
        return found[suffix]


class Datum(enum.StrEnum):
    """The datum of a file's coordinates."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"


@dataclass(frozen=True, slots=True)
class FieldNames:
    """Which property or column holds what. Empty tuples mean the defaults."""

    code: tuple[str, ...] = ("code", "CODE", "代码", "区划代码", "行政区划代码")
    name: tuple[str, ...] = ("name", "NAME", "名称", "区划名称")
    parent: tuple[str, ...] = ("parent", "PARENT", "上级", "上级代码")
    wkt: tuple[str, ...] = ("wkt", "WKT", "geometry", "geom", "边界")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file: where, which field, why."""

    where: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.reason}"


@dataclass(slots=True)
class RawFeature:
    """One feature or row as read, before any check."""

    where: str
    properties: dict[str, str]
    polygons: list[Polygon] = field(default_factory=list)
    geometry_problem: str = ""


@dataclass(slots=True)
class Report:
    """What an import would do: the checked jurisdictions and every problem found."""

    source: str
    features: int
    accepted: list[Jurisdiction] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    polygons: dict[str, list[Polygon]] = field(default_factory=dict)
    """The accepted jurisdictions' polygons (outer ring first), by code, for storage."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def counts(self) -> dict[Level, int]:
        """How many accepted jurisdictions of each level."""
        result: dict[Level, int] = {}
        for node in self.accepted:
            result[node.level] = result.get(node.level, 0) + 1
        return result


# ---------------------------------------------------------------------- reading


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _ring_array(points: Any, where: str) -> tuple[FloatArray | None, str]:
    """A ring as an array, or the reason it is unusable."""
    try:
        ring = np.asarray([(float(p[0]), float(p[1])) for p in points], dtype=np.float64)
    except (TypeError, ValueError, IndexError):
        return None, "a ring's points must be [lon, lat] number pairs"
    if ring.ndim != 2 or len(ring) == 0:
        return None, "a ring has no points"
    if not np.all(np.isfinite(ring)):
        return None, "a coordinate is not a finite number"
    if np.any(np.abs(ring[:, 0]) > 180.0) or np.any(np.abs(ring[:, 1]) > 90.0):
        bad = ring[(np.abs(ring[:, 0]) > 180.0) | (np.abs(ring[:, 1]) > 90.0)][0]
        return None, (
            f"coordinate ({bad[0]:g}, {bad[1]:g}) is out of range (lon -180…180, lat -90…90; "
            "projected metres are not accepted)"
        )
    if not np.array_equal(ring[0], ring[-1]):
        return None, "a ring is not closed (its last point must repeat the first)"
    if len(np.unique(ring[:-1], axis=0)) < 3:
        return (
            None,
            f"a ring has fewer than 3 distinct points ({len(np.unique(ring[:-1], axis=0))})",
        )
    return ring, ""


def _polygons(raw: Iterable[Iterable[Any]], where: str) -> tuple[list[Polygon], str]:
    polygons: list[Polygon] = []
    for polygon in raw:
        rings: Polygon = []
        for points in polygon:
            ring, problem = _ring_array(points, where)
            if ring is None:
                return [], problem
            rings.append(ring)
        if not rings:
            return [], "a polygon has no rings"
        polygons.append(rings)
    if not polygons:
        return [], "no polygon"
    return polygons, ""


def read_geojson(path: Path) -> list[RawFeature]:
    """The features of a GeoJSON FeatureCollection (or a single Feature)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"cannot read {path.name} as GeoJSON: {exc}") from exc
    if isinstance(document, dict) and document.get("type") == "Feature":
        document = {"type": "FeatureCollection", "features": [document]}
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValidationError(f"{path.name} is not a GeoJSON FeatureCollection")
    features: list[RawFeature] = []
    for number, feature in enumerate(document.get("features") or [], start=1):
        where = f"feature {number}"
        if not isinstance(feature, dict):
            features.append(RawFeature(where, {}, geometry_problem="not a GeoJSON feature"))
            continue
        properties = feature.get("properties") or {}
        row = (
            {str(key): _text(value) for key, value in properties.items()}
            if isinstance(properties, dict)
            else {}
        )
        geometry = feature.get("geometry")
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if kind == "Polygon" and isinstance(coordinates, list):
            polygons, problem = _polygons([coordinates], where)
        elif kind == "MultiPolygon" and isinstance(coordinates, list):
            polygons, problem = _polygons(coordinates, where)
        else:
            polygons, problem = (
                [],
                f"geometry must be a Polygon or MultiPolygon, not {kind or 'missing'}",
            )
        features.append(RawFeature(where, row, polygons, problem))
    return features


def _signed_area(ring: FloatArray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]) / 2)


def read_shapefile(path: Path) -> list[RawFeature]:
    """The polygons of a ``.shp`` with its ``.dbf`` (attributes in the ``.cpg``'s
    encoding, else UTF-8, else GB 18030 — many Chinese files are GBK without a ``.cpg``)."""
    try:
        with warnings.catch_warnings():
            # pyshp only warns when it drops bytes to decode a text: for us a wrong guess.
            warnings.simplefilter("error", shapefile.PossibleDataLoss)
            return _read_shapefile(path, None)
    except (shapefile.dbfFileException, shapefile.PossibleDataLoss):
        logger.info("%s: attributes are not UTF-8; reading them as GB 18030", path.name)
        return _read_shapefile(path, "gb18030")


def _read_shapefile(path: Path, encoding: str | None) -> list[RawFeature]:
    options: dict[str, Any] = {"encoding": encoding} if encoding else {}
    try:
        reader = shapefile.Reader(str(path), **options)
    except (OSError, shapefile.ShapefileException, struct.error, ValueError) as exc:
        raise ValidationError(
            f"cannot read {path.name} as a Shapefile (.shp with .shx and .dbf): {exc}"
        ) from exc
    features: list[RawFeature] = []
    with reader:
        for number, (shape, record) in enumerate(_shape_records(path, reader), start=1):
            where = f"feature {number}"
            row = {str(key): _text(value) for key, value in record.as_dict().items()}
            if shape.shapeType not in (shapefile.POLYGON, shapefile.POLYGONZ, shapefile.POLYGONM):
                features.append(
                    RawFeature(
                        where, row, geometry_problem=f"not a polygon ({shape.shapeTypeName})"
                    )
                )
                continue
            starts = [*list(shape.parts), len(shape.points)]
            rings_raw = [shape.points[starts[k] : starts[k + 1]] for k in range(len(shape.parts))]
            rings: list[FloatArray] = []
            problem = "" if rings_raw else "no polygon"
            for points in rings_raw:
                ring, problem = _ring_array(points, where)
                if ring is None:
                    break
                rings.append(ring)
            if problem:
                features.append(RawFeature(where, row, geometry_problem=problem))
                continue
            # Shapefile outer rings run clockwise, holes counter-clockwise.
            polygons: list[Polygon] = []
            for ring in rings:
                if _signed_area(ring) < 0 or not polygons:
                    polygons.append([ring])
                else:
                    polygons[-1].append(ring)
            features.append(RawFeature(where, row, polygons))
    return features


def _shape_records(path: Path, reader: shapefile.Reader) -> Iterator[tuple[shapefile.Shape, Any]]:
    """The shapes with their records, refusing a ``.dbf`` that does not pair up with the
    ``.shp`` (one from another export): pairing as far as both go would drop the rest
    without a word."""
    shapes, records = reader.iterShapes(), reader.iterRecords()
    for paired, (shape, record) in enumerate(itertools.zip_longest(shapes, records)):
        if shape is None or record is None:
            shape_count = paired + (shape is not None) + sum(1 for _ in shapes)
            record_count = paired + (record is not None) + sum(1 for _ in records)
            raise ValidationError(
                f"{path.with_suffix('.dbf').name} holds {record_count} records but "
                f"{path.name} {shape_count} shapes: the files are not of one export"
            )
        yield shape, record


def read_csv(path: Path, wkt_fields: Sequence[str]) -> list[RawFeature]:
    """The rows of a UTF-8 CSV whose geometry column holds WKT."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ValidationError(f"cannot open {path.name}: {exc.strerror}") from exc
    features: list[RawFeature] = []
    try:
        with handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            column = next((name for name in wkt_fields if name in header), None)
            if column is None:
                raise ValidationError(
                    f"{path.name}: no geometry column ({' or '.join(wkt_fields)}) in the header"
                )
            for line, cells in enumerate(reader, start=2):
                where = f"row {line}"
                row = {
                    key: (value or "").strip() for key, value in cells.items() if key is not None
                }
                try:
                    raw = wkt.parse(row.get(column, ""))
                except wkt.Error as exc:
                    features.append(RawFeature(where, row, geometry_problem=str(exc)))
                    continue
                polygons, problem = _polygons(raw, where)
                features.append(RawFeature(where, row, polygons, problem))
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path.name} is not UTF-8 text: save it as UTF-8") from exc
    return features


def read_features(path: Path, fmt: Format, fields: FieldNames = FieldNames()) -> list[RawFeature]:
    """Read a file of the given format (:class:`ValidationError` when it is unreadable)."""
    if fmt is Format.GEOJSON:
        return read_geojson(path)
    if fmt is Format.SHP:
        return read_shapefile(path)
    return read_csv(path, fields.wkt)


# ---------------------------------------------------------------------- checking


def _value(row: dict[str, str], names: Sequence[str]) -> tuple[str, str]:
    """The first of ``names`` present in ``row``: (its name, its value)."""
    for name in names:
        if name in row:
            return name, row[name]
    return names[0], ""


def _to_wgs84(polygons: list[Polygon]) -> list[Polygon]:
    converted: list[Polygon] = []
    for polygon in polygons:
        rings: Polygon = []
        for ring in polygon:
            lon, lat = gcj02_to_wgs84(ring[:, 0], ring[:, 1])
            rings.append(np.column_stack([lon, lat]))
        converted.append(rings)
    return converted


@dataclass(slots=True)
class _Candidate:
    raw: RawFeature
    code: str
    name: str
    parent: str
    level: Level | None
    code_field: str
    parent_field: str


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to read a file's features: its level, field names, datum, and who imports."""

    level: Level | None = None
    """All features are of this level (default: from each code, or from its parent)."""
    fields: FieldNames = field(default_factory=FieldNames)
    datum: Datum = Datum.WGS84
    imported_by: str = ""
    imported_at: str = ""


def validate(
    features: Sequence[RawFeature],
    tree: JurisdictionTree,
    *,
    source: str,
    options: ImportOptions = ImportOptions(),
) -> Report:
    """Check every feature against the tree (and the file's other features)."""
    return _Checker(tree, source, options).check(features)


class _Checker:
    def __init__(self, tree: JurisdictionTree, source: str, options: ImportOptions) -> None:
        self.tree = tree
        self.source = source
        self.options = options
        self.problems: list[Problem] = []
        self.seen: dict[str, str] = {}
        self.accepted: dict[str, Jurisdiction] = {}
        self.polygons: dict[str, list[Polygon]] = {}

    def check(self, features: Sequence[RawFeature]) -> Report:
        pending = [c for c in (self._basic(raw) for raw in features) if c is not None]
        # Parents before their children, whatever the file's order.
        while pending:
            waiting = {c.code for c in pending}
            ready = [c for c in pending if c.parent not in waiting]
            for candidate in ready or pending:
                node = self._in_tree(candidate)
                if node is not None:
                    self.accepted[node.code] = node
            pending = [c for c in pending if c not in ready] if ready else []
        order = {raw.where: index for index, raw in enumerate(features)}
        self.problems.sort(key=lambda p: order.get(p.where, -1))
        return Report(
            source=self.source,
            features=len(features),
            accepted=sorted(self.accepted.values(), key=lambda node: node.code),
            problems=self.problems,
            polygons=self.polygons,
        )

    def _problem(self, where: str, field_name: str, reason: str) -> None:
        self.problems.append(Problem(where, field_name, reason))

    def _basic(self, raw: RawFeature) -> _Candidate | None:
        """The checks of one feature on its own; None (and problems) when it fails one."""
        before = len(self.problems)
        fields = self.options.fields
        code_field, code_text = _value(raw.properties, fields.code)
        name_field, name = _value(raw.properties, fields.name)
        parent_field, parent_text = _value(raw.properties, fields.parent)
        code = self._code(raw.where, code_field, code_text)
        parent = ""
        if not name:
            self._problem(raw.where, name_field, "missing")
        elif len(name) > MAX_NAME_LENGTH:
            self._problem(raw.where, name_field, f"longer than {MAX_NAME_LENGTH} characters")
        try:
            parent = codes.normalize(parent_text) if parent_text else codes.nominal_parent(code)
            if code and not parent:
                self._problem(
                    raw.where, parent_field, f"missing: a local code such as {code} needs one"
                )
        except ValidationError as exc:
            self._problem(raw.where, parent_field, str(exc))
        if raw.geometry_problem:
            self._problem(raw.where, "geometry", raw.geometry_problem)
        if len(self.problems) > before:
            return None
        return _Candidate(
            raw=raw,
            code=code,
            name=name,
            parent=parent,
            level=self.options.level or codes.nominal_level(code),
            code_field=code_field,
            parent_field=parent_field,
        )

    def _code(self, where: str, field_name: str, text: str) -> str:
        """The canonical code of a feature ("" and a problem when unusable)."""
        try:
            code = codes.normalize(text)
        except ValidationError as exc:
            self._problem(where, field_name, str(exc))
            return ""
        if not code:
            self._problem(where, field_name, "missing")
            return ""
        if code in self.seen:
            self._problem(where, field_name, f"duplicate code {code} (also {self.seen[code]})")
            return ""
        self.seen[code] = where
        existing = self.tree.get(code)
        nominal = codes.nominal_level(code)
        level = self.options.level
        reason = ""
        if existing is not None and existing.source == BASEMAP_SOURCE:
            reason = f"{code} is {existing.name}, a {existing.level} of the basemap"
        elif nominal is not None and nominal not in (Level.TOWN, Level.VILLAGE):
            reason = f"{code} is a {nominal} code"
        elif level is not None and nominal is not None and nominal is not level:
            reason = f"{code} is a {nominal} code, not a {level}"
        if reason:
            self._problem(where, field_name, f"{reason}: import towns and villages only")
            return ""
        return code

    def _in_tree(self, candidate: _Candidate) -> Jurisdiction | None:
        where = candidate.raw.where
        parent = self.accepted.get(candidate.parent) or self.tree.get(candidate.parent)
        if parent is None:
            self._problem(
                where,
                candidate.parent_field,
                f"unknown parent {candidate.parent} (not in the tree, nor valid in this file)",
            )
            return None
        if not (candidate.code.startswith(parent.code) and len(candidate.code) > len(parent.code)):
            self._problem(
                where,
                candidate.code_field,
                f"{candidate.code} does not extend its parent's code {parent.code}",
            )
            return None
        level = candidate.level
        if level is None:
            level = Level.VILLAGE if parent.level is Level.TOWN else Level.TOWN
        allowed = {Level.TOWN: (Level.CITY, Level.DISTRICT), Level.VILLAGE: (Level.TOWN,)}[level]
        if parent.level not in allowed:
            self._problem(
                where,
                candidate.parent_field,
                f"a {level}'s parent must be a {' or '.join(allowed)}, "
                f"not the {parent.level} {parent.code} {parent.name}",
            )
            return None
        polygons = candidate.raw.polygons
        if self.options.datum is Datum.GCJ02:
            polygons = _to_wgs84(polygons)
        rings = tuple(ring for polygon in polygons for ring in polygon)
        outside = self._share_outside(rings, parent)
        if outside > MAX_OUTSIDE_SHARE:
            self._problem(
                where,
                "geometry",
                f"{outside:.0%} of its outline lies more than {FAR_OUTSIDE_M:g} m outside its "
                f"parent {parent.code} {parent.name} (wrong datum? try --datum gcj02; or a "
                "wrong parent)",
            )
            return None
        self.polygons[candidate.code] = polygons
        return Jurisdiction(
            code=candidate.code,
            name=candidate.name,
            level=level,
            parent=parent.code,
            bbox=bbox_of(rings),
            source=self.source,
            rings=rings,
            imported_at=self.options.imported_at,
            imported_by=self.options.imported_by,
        )

    def _share_outside(self, rings: tuple[FloatArray, ...], parent: Jurisdiction) -> float:
        """The share of vertices lying more than :data:`FAR_OUTSIDE_M` outside the parent."""
        parent_rings = parent.rings or self.tree.boundary(parent.code)
        if not parent_rings:
            return 0.0
        index = PolygonIndex([parent_rings], snap_m=FAR_OUTSIDE_M)
        points = np.vstack([ring[:-1] for ring in rings])
        inside = index.locate(points[:, 0], points[:, 1]) >= 0
        return float(1.0 - inside.mean())


def geojson_geometry(polygons: Sequence[Polygon]) -> dict[str, Any]:
    """A GeoJSON MultiPolygon of some polygons (coordinates rounded to 1e-7°, ≈ 1 cm)."""
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [[[round(float(x), 7), round(float(y), 7)] for x, y in ring] for ring in polygon]
            for polygon in polygons
        ],
    }


def rings_of_geometry(geometry: dict[str, Any]) -> tuple[FloatArray, ...]:
    """The rings of a stored GeoJSON Polygon/MultiPolygon (even-odd)."""
    coordinates = geometry.get("coordinates") or []
    polygons = [coordinates] if geometry.get("type") == "Polygon" else coordinates
    return tuple(np.asarray(ring, dtype=np.float64) for polygon in polygons for ring in polygon)
