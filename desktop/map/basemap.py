"""The offline vector basemap: countries, China's provinces, cities and counties.

The layers are compressed numpy archives in ``resources/basemap`` written by
``resources/basemap/build_basemap.py`` (its README names the source and licence). Each
holds Web-Mercator coordinates (float32 metres, WGS-84) and, per feature, a code (adcode
or ISO3), a Chinese name, an English name where the source has one, and a label point.
Counties come one file per province (:func:`load_counties`), so the map reads only the
provinces it shows; ``manifest.json`` lists each county file's extent
(:func:`county_extents`). Loading is plain numpy; nothing here knows about Qt.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from desktop.resources import RESOURCES_DIR

logger = logging.getLogger(__name__)

BASEMAP_DIR = RESOURCES_DIR / "basemap"
"""Where the basemap layers live."""


class BasemapError(Exception):
    """A basemap file is missing or not in the expected format."""


class BasemapLayerName(enum.StrEnum):
    """The layers the build script writes (file stem in ``resources/basemap``)."""

    COUNTRIES = "countries"
    PROVINCES = "provinces"
    CITIES = "cities"
    CHINA_MARITIME = "china_maritime"


COUNTY_FILE_PREFIX = "counties_"
"""Counties are in ``counties_<province adcode>.npz``, one file per province."""

Extent = tuple[float, float, float, float]
"""(x_min, y_min, x_max, y_max), Web-Mercator metres."""


@dataclasses.dataclass(frozen=True, slots=True)
class BasemapFeature:
    """One region (or one set of lines) of a layer."""

    code: str
    """Administrative code (``330100``) or ISO3 country code (``FRA``)."""
    name: str
    """Chinese name, as in the source."""
    name_en: str
    """English name where the source has one (countries), else empty."""
    parent: str
    """Code of the region this one belongs to (empty for countries)."""
    label_xy: tuple[float, float]
    """Where its name goes, Web-Mercator metres (NaN for line layers)."""
    rings: tuple[npt.NDArray[np.float32], ...]
    """Its rings (or lines), each an n×2 array of Web-Mercator metres."""


@dataclasses.dataclass(frozen=True, slots=True)
class BasemapLayer:
    """One layer file, as flat arrays (see ``resources/basemap/README.md``)."""

    name: str
    xy: npt.NDArray[np.float32]
    ring_starts: npt.NDArray[np.int32]
    feature_rings: npt.NDArray[np.int32]
    codes: npt.NDArray[np.str_]
    names: npt.NDArray[np.str_]
    names_en: npt.NDArray[np.str_]
    parents: npt.NDArray[np.str_]
    label_xy: npt.NDArray[np.float32]
    lines: bool

    def __len__(self) -> int:
        return len(self.codes)

    def feature(self, index: int) -> BasemapFeature:
        """Return feature number ``index``."""
        first, last = int(self.feature_rings[index]), int(self.feature_rings[index + 1])
        rings = tuple(
            self.xy[int(self.ring_starts[ring]) : int(self.ring_starts[ring + 1])]
            for ring in range(first, last)
        )
        label = self.label_xy[index]
        return BasemapFeature(
            code=str(self.codes[index]),
            name=str(self.names[index]),
            name_en=str(self.names_en[index]),
            parent=str(self.parents[index]),
            label_xy=(float(label[0]), float(label[1])),
            rings=rings,
        )

    def __iter__(self) -> Iterator[BasemapFeature]:
        for index in range(len(self)):
            yield self.feature(index)

    def find(self, code: str) -> BasemapFeature | None:
        """Return the feature with ``code``, or None."""
        matches = np.flatnonzero(self.codes == code)
        return self.feature(int(matches[0])) if len(matches) else None

    @property
    def point_count(self) -> int:
        """How many vertices the layer holds."""
        return len(self.xy)


def read_layer(path: Path) -> BasemapLayer:
    """Read one layer file; raise :class:`BasemapError` when it is unusable."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            layer = BasemapLayer(
                name=path.stem,
                xy=archive["xy"],
                ring_starts=archive["ring_starts"],
                feature_rings=archive["feature_rings"],
                codes=archive["codes"],
                names=archive["names"],
                names_en=archive["names_en"],
                parents=archive["parents"],
                label_xy=archive["label_xy"],
                lines=bool(archive["lines"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise BasemapError(f"cannot read basemap layer {path}: {exc}") from exc
    if layer.xy.ndim != 2 or layer.xy.shape[1] != 2:
        raise BasemapError(f"{path}: xy must be n×2")
    if len(layer.feature_rings) != len(layer.codes) + 1:
        raise BasemapError(f"{path}: feature_rings does not match the features")
    return layer


@functools.cache
def load_layer(name: BasemapLayerName, folder: Path = BASEMAP_DIR) -> BasemapLayer:
    """Return a basemap layer, read once per process (the arrays are never modified)."""
    layer = read_layer(folder / f"{name}.npz")
    logger.debug("basemap %s: %s features, %s points", name, len(layer), layer.point_count)
    return layer


def province_of(code: str) -> str:
    """Return the adcode of the province that the adcode ``code`` belongs to."""
    return code[:2] + "0000"


@functools.cache
def load_counties(province: str, folder: Path = BASEMAP_DIR) -> BasemapLayer:
    """Return the counties of one province (``330000``), read once per process.

    Raises :class:`BasemapError` when the province has no county file. Safe to call from
    a worker thread: the file is read by numpy alone.
    """
    layer = read_layer(folder / f"{COUNTY_FILE_PREFIX}{province}.npz")
    logger.debug(
        "basemap counties of %s: %s counties, %s points", province, len(layer), layer.point_count
    )
    return layer


@functools.cache
def county_extents(folder: Path = BASEMAP_DIR) -> dict[str, Extent]:
    """Return the extent of each province's county file, from ``manifest.json``.

    An empty dict (logged) when the manifest is missing or unreadable: the map then
    shows no counties, and :func:`region_for_jurisdiction` still reads the files.
    """
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        extents = {
            str(province): (float(x_min), float(y_min), float(x_max), float(y_max))
            for province, (x_min, y_min, x_max, y_max) in manifest["county_extents"].items()
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("no county extents in %s: %s", path, exc)
        return {}
    return extents


def provinces_in_extent(extent: Extent, folder: Path = BASEMAP_DIR) -> list[str]:
    """Return the provinces whose county file overlaps ``extent`` (Mercator metres)."""
    x_min, y_min, x_max, y_max = extent
    return [
        province
        for province, (left, bottom, right, top) in county_extents(folder).items()
        if left <= x_max and right >= x_min and bottom <= y_max and top >= y_min
    ]


def region_for_jurisdiction(code: str, folder: Path = BASEMAP_DIR) -> BasemapFeature | None:
    """The province, city or county outline of a jurisdiction code (``32``, ``3201``,
    ``330106``…), or None when the code is empty or the basemap lacks that region."""
    digits = code.strip()
    if not digits.isdigit() or len(digits) > 6:
        return None
    adcode = digits.ljust(6, "0")
    try:
        if adcode.endswith("0000"):
            layer = load_layer(BasemapLayerName.PROVINCES, folder)
        elif adcode.endswith("00"):
            layer = load_layer(BasemapLayerName.CITIES, folder)
        else:
            layer = load_counties(province_of(adcode), folder)
    except BasemapError:
        return None
    return layer.find(adcode)
