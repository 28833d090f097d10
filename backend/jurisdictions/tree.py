"""The jurisdiction tree and the placer.

Provinces, cities and districts/counties come from the shipped basemap
(:mod:`backend.jurisdictions.basemap`), towns/streets and villages/communities from the
``jurisdictions`` table (imported by ``dutydesk jurisdiction import``). Every code is
canonical (:mod:`backend.jurisdictions.codes`).

:meth:`JurisdictionTree.place_many` finds, for many points at once, the deepest
jurisdiction containing each: the province (one grid look-up for most points), then that
province's districts (read on first use), then any imported towns and villages below.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backend.errors import ValidationError
from backend.jurisdictions import codes
from backend.jurisdictions.basemap import BASEMAP_DIR, BasemapSource, FloatArray, Layer
from backend.jurisdictions.codes import Level
from backend.jurisdictions.index import PolygonIndex

logger = logging.getLogger(__name__)

BASEMAP_SOURCE = "basemap"
"""The ``source`` of the provinces, cities and districts of the shipped basemap."""

SNAP_M = 300.0
"""A point outside every district of its province but this close to one (a gap between
neighbours simplified one at a time, a quay just off a simplified coast) is placed in the
nearest. The basemap's districts are simplified to 150 m, provinces to 600 m."""

PROVINCE_SNAP_M = 1_000.0
"""The same for provinces (simplified to 600 m)."""

BBox = tuple[float, float, float, float]
"""``(min_lon, min_lat, max_lon, max_lat)``, WGS-84 degrees."""


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """One node of the tree."""

    code: str
    """Canonical code (``33``, ``3301``, ``330106``, ``330106001``…)."""
    name: str
    level: Level
    parent: str
    """Canonical code of the node above (``""`` for a province)."""
    bbox: BBox
    source: str = BASEMAP_SOURCE
    """``basemap`` or the file an imported node came from."""
    rings: tuple[FloatArray, ...] = field(default=(), repr=False, compare=False)
    """The boundary as ``(lon, lat)`` rings, even-odd (outer rings and holes). Empty for
    a basemap node until :meth:`JurisdictionTree.boundary` reads it."""
    imported_at: str = ""
    imported_by: str = ""


def bbox_of(rings: Iterable[FloatArray]) -> BBox:
    """The bounding box of some rings."""
    points = np.vstack(list(rings))
    low, high = points.min(axis=0), points.max(axis=0)
    return float(low[0]), float(low[1]), float(high[0]), float(high[1])


class _Basemap:
    """The basemap's part of the tree: immutable once read, shared by every tree of the
    process (read once per folder, see :func:`_basemap`)."""

    def __init__(self, folder: Path) -> None:
        self.source = BasemapSource(folder)
        self._lock = threading.RLock()
        self.nodes: dict[str, Jurisdiction] = {}
        self.children: dict[str, list[str]] = {}
        provinces = self.source.provinces
        self.province_codes = tuple(codes.normalize(code) for code in provinces.codes)
        for index in range(len(provinces.codes)):
            self._add(
                self.province_codes[index],
                provinces.names[index],
                Level.PROVINCE,
                "",
                provinces.bbox(index),
            )
        self.province_index = PolygonIndex(provinces.rings, cell_deg=0.1, snap_m=PROVINCE_SNAP_M)
        cities = self.source.cities
        self._city_adcodes = set(cities.codes)
        for index, adcode in enumerate(cities.codes):
            code = codes.normalize(adcode)
            parent = codes.normalize(cities.parents[index])
            if code == parent or code in self.nodes:
                continue  # 重庆, 台湾, 香港, 澳门 name themselves: the province is the city
            self._add(code, cities.names[index], Level.CITY, parent, cities.bbox(index))
        self._district_indexes: dict[str, tuple[PolygonIndex, tuple[str, ...]]] = {}
        self.loaded_provinces: set[str] = set()

    def _add(self, code: str, name: str, level: Level, parent: str, bbox: BBox) -> None:
        self.nodes[code] = Jurisdiction(code=code, name=name, level=level, parent=parent, bbox=bbox)
        self.children.setdefault(parent, []).append(code)

    def districts(self, province: str) -> tuple[PolygonIndex, tuple[str, ...]]:
        """The district index of one province (canonical ``33``) and the code each of its
        features stands for; read and built on first use (≈ 5–30 ms)."""
        found = self._district_indexes.get(province)  # the per-fix path: no lock once read
        if found is not None:
            return found
        with self._lock:
            found = self._district_indexes.get(province)
            if found is not None:
                return found
            adcode = codes.full_code(province)
            if adcode not in self.source.county_provinces:
                found = (PolygonIndex(()), ())
            else:
                layer = self.source.counties(adcode)
                found = (
                    PolygonIndex(layer.rings, snap_m=SNAP_M),
                    self._add_districts(province, layer),
                )
            self._district_indexes[province] = found
            return found

    def _add_districts(self, province: str, layer: Layer) -> tuple[str, ...]:
        feature_codes: list[str] = []
        for index, adcode in enumerate(layer.codes):
            code = codes.normalize(adcode)
            feature_codes.append(code)
            if code in self.nodes:
                continue  # a city without districts (东莞, 嘉峪关…) or a province (台湾)
            parent_adcode = layer.parents[index]
            parent = (
                codes.normalize(parent_adcode) if parent_adcode in self._city_adcodes else province
            )
            if parent not in self.nodes:
                parent = province  # 省直辖县级行政区划 (469000), 重庆's 500100/500200
            self._add(code, layer.names[index], Level.DISTRICT, parent, layer.bbox(index))
        self.loaded_provinces.add(province)
        return tuple(feature_codes)

    def load_all(self) -> None:
        """Read every province's districts (for listings of the whole tree)."""
        for code in self.province_codes:
            self.districts(code)

    def rings(self, code: str) -> tuple[FloatArray, ...]:
        """The basemap outline of a node."""
        node = self.nodes[code]
        if node.level is Level.PROVINCE:
            return self.source.provinces.rings[self.province_codes.index(code)]
        if node.level is Level.CITY:
            layer = self.source.cities
            adcodes = [codes.normalize(adcode) for adcode in layer.codes]
            if code in adcodes:
                return layer.rings[adcodes.index(code)]
        province = code[:2]
        self.districts(province)
        layer = self.source.counties(codes.full_code(province))
        adcodes = [codes.normalize(adcode) for adcode in layer.codes]
        return layer.rings[adcodes.index(code)] if code in adcodes else ()


_BASEMAPS: dict[Path, _Basemap] = {}
_BASEMAPS_LOCK = threading.Lock()


def _basemap(folder: Path) -> _Basemap:
    with _BASEMAPS_LOCK:
        found = _BASEMAPS.get(folder)
        if found is None:
            found = _Basemap(folder)
            _BASEMAPS[folder] = found
        return found


class JurisdictionTree:
    """The whole tree: the basemap's upper levels plus the imported towns and villages.

    Placing is thread-safe; :meth:`replace_imported` swaps the imported part at once.
    """

    def __init__(
        self, imported: Iterable[Jurisdiction] = (), *, basemap_dir: Path = BASEMAP_DIR
    ) -> None:
        self._basemap_dir = basemap_dir
        self._loaded: _Basemap | None = None
        self._imported: dict[str, Jurisdiction] = {}
        self._imported_children: dict[str, list[str]] = {}
        self._child_indexes: dict[str, tuple[PolygonIndex, tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self.replace_imported(imported)

    @property
    def _base(self) -> _Basemap:
        # Read on first use (≈ 0.1–0.2 s once per process), so building a server is cheap.
        loaded = self._loaded
        if loaded is None:
            loaded = self._loaded = _basemap(self._basemap_dir)
        return loaded

    def load(self, *, districts: bool = False) -> None:
        """Read the basemap's provinces and cities now, and with ``districts`` every
        province's districts too (blocking; call it off the event loop)."""
        base = self._base
        if districts:
            base.load_all()

    @property
    def loaded_provinces(self) -> int:
        """How many provinces' districts are read (for tests and diagnostics)."""
        return len(self._base.loaded_provinces)

    # ------------------------------------------------------------------ the nodes

    def replace_imported(self, nodes: Iterable[Jurisdiction]) -> None:
        """Put these imported towns and villages in place of the previous ones."""
        imported = {node.code: node for node in nodes}
        children: dict[str, list[str]] = {}
        for node in imported.values():
            children.setdefault(node.parent, []).append(node.code)
        with self._lock:
            self._imported = imported
            self._imported_children = children
            self._child_indexes = {}

    @property
    def imported_count(self) -> int:
        """How many towns and villages were imported."""
        return len(self._imported)

    def get(self, code: str) -> Jurisdiction | None:
        """The node of a canonical code, or None (a district's province is read if needed)."""
        if not code:
            return None
        node = self._imported.get(code) or self._base.nodes.get(code)
        if node is None and code[:2] in self._base.nodes and len(code) >= 6:
            self._base.districts(code[:2])
            node = self._base.nodes.get(code)
        return node

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def lookup(self, text: str) -> Jurisdiction:
        """The node a user's code stands for (normalized first); :class:`ValidationError`
        when there is none."""
        code = codes.normalize(text)
        node = self.get(code)
        if node is None:
            raise ValidationError(f"no jurisdiction {text.strip()!r} (canonical {code!r})")
        return node

    def children(self, code: str) -> list[Jurisdiction]:
        """The nodes directly below ``code`` (``""``: the provinces), by code."""
        if code and len(code) >= 2 and code[:2] in self._base.nodes:
            self._base.districts(code[:2])
        found = [self._base.nodes[child] for child in self._base.children.get(code, ())]
        found += [self._imported[child] for child in self._imported_children.get(code, ())]
        return sorted(found, key=lambda node: node.code)

    def ancestors(self, code: str) -> list[Jurisdiction]:
        """The chain from the province down to the node's parent."""
        chain: list[Jurisdiction] = []
        node = self.get(code)
        while node is not None and node.parent:
            node = self.get(node.parent)
            if node is not None:
                chain.append(node)
        return chain[::-1]

    def descendants(self, code: str, level: Level | None = None) -> list[Jurisdiction]:
        """Every node below ``code`` (the whole tree for ``""``), optionally of one level."""
        if not code:
            self._base.load_all()
        result: list[Jurisdiction] = []
        todo = [code]
        while todo:
            for child in self.children(todo.pop()):
                if level is None or child.level is level:
                    result.append(child)
                todo.append(child.code)
        return sorted(result, key=lambda node: node.code)

    def boundary(self, code: str) -> tuple[FloatArray, ...]:
        """A node's outline as ``(lon, lat)`` rings (even-odd)."""
        node = self.get(code)
        if node is None:
            return ()
        return node.rings if node.rings else self._base.rings(code)

    # ------------------------------------------------------------------ placing

    def place(self, lat: float | None, lon: float | None) -> str:
        """The deepest jurisdiction containing (lat, lon), or ``""`` (none, or no point)."""
        if lat is None or lon is None:
            return ""
        base = self._base
        province = base.province_index.locate_one(lon, lat)
        if province < 0:
            return ""
        code = base.province_codes[province]
        index, feature_codes = base.districts(code)
        district = index.locate_one(lon, lat)
        if district >= 0:
            code = feature_codes[district]
        while self._imported_children.get(code):
            index, child_codes = self._children_index(code)
            child = index.locate_one(lon, lat)
            if child < 0:
                break
            code = child_codes[child]
        return code

    def place_many(
        self, lats: Sequence[float] | FloatArray, lons: Sequence[float] | FloatArray
    ) -> list[str]:
        """:meth:`place` for many points at once (the fast path: ≈ 1 µs a point)."""
        lat = np.asarray(lats, dtype=np.float64)
        lon = np.asarray(lons, dtype=np.float64)
        if lat.shape != lon.shape or lat.ndim != 1:
            raise ValueError("give as many latitudes as longitudes")
        result = np.full(len(lat), "", dtype=object)
        if not len(lat):
            return []
        province = self._base.province_index.locate(lon, lat)
        for feature in np.unique(province[province >= 0]):
            code = self._base.province_codes[int(feature)]
            members = np.flatnonzero(province == feature)
            result[members] = code
            index, feature_codes = self._base.districts(code)
            district = index.locate(lon[members], lat[members])
            found = district >= 0
            if feature_codes:
                result[members[found]] = np.asarray(feature_codes, dtype=object)[district[found]]
        if self._imported:
            self._place_imported(result, lat, lon)
        return [str(code) for code in result]

    def _place_imported(self, result: np.ndarray, lat: FloatArray, lon: FloatArray) -> None:
        """Go down into imported towns and villages while there are any below."""
        todo = np.arange(len(result))
        while len(todo):
            current = result[todo]
            next_todo: list[np.ndarray] = []
            for code in set(current.tolist()):
                index, child_codes = self._children_index(code)
                if not child_codes:
                    continue
                members = todo[current == code]
                child = index.locate(lon[members], lat[members])
                found = child >= 0
                result[members[found]] = np.asarray(child_codes, dtype=object)[child[found]]
                next_todo.append(members[found])
            todo = np.concatenate(next_todo) if next_todo else np.zeros(0, dtype=np.int64)

    def _children_index(self, code: str) -> tuple[PolygonIndex, tuple[str, ...]]:
        with self._lock:
            found = self._child_indexes.get(code)
            if found is None:
                child_codes = tuple(sorted(self._imported_children.get(code, ())))
                # Imported outlines are exact: no snapping below a district.
                index = PolygonIndex([self._imported[child].rings for child in child_codes])
                found = (index, child_codes)
                self._child_indexes[code] = found
            return found
