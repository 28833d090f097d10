"""The offline vector basemap: countries, China's provinces, cities and a county sample.

The layers are compressed numpy archives in ``resources/basemap`` written by
``resources/basemap/build_basemap.py`` (its README names the source and licence). Each
holds Web-Mercator coordinates (float32 metres) and, per feature, a code (adcode or
ISO3), a Chinese name, an English name where the source has one, and a label point.
Loading is plain numpy; nothing here knows about Qt.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
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
    COUNTIES = "counties_330000"
    CHINA_MARITIME = "china_maritime"


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


def region_for_jurisdiction(code: str, folder: Path = BASEMAP_DIR) -> BasemapFeature | None:
    """The province, city or county outline of a jurisdiction code (``32``, ``3201``,
    ``330106``…), or None when the code is empty or the shipped basemap lacks that region
    (counties are shipped for one province only)."""
    digits = code.strip()
    if not digits.isdigit() or len(digits) > 6:
        return None
    adcode = digits.ljust(6, "0")
    if adcode.endswith("0000"):
        layer_name = BasemapLayerName.PROVINCES
    elif adcode.endswith("00"):
        layer_name = BasemapLayerName.CITIES
    else:
        layer_name = BasemapLayerName.COUNTIES
    try:
        layer = load_layer(layer_name, folder)
    except BasemapError:
        return None
    return layer.find(adcode)
