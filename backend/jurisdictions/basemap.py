"""The upper levels of the tree (provinces, cities, districts/counties) from the shipped
basemap (``resources/basemap``; its README gives the source, licence, datum and the
simplification of each layer).

The files hold Web-Mercator metres (float32); this reader turns them into WGS-84
``(lon, lat)`` degrees. It is the backend's own reader: the desktop's map has another
for drawing, and the backend never imports the desktop. Each province's counties are a
file of their own, read only when asked for (see :class:`BasemapSource`).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

BASEMAP_DIR = Path(__file__).resolve().parents[2] / "resources" / "basemap"
"""Where the shipped basemap lives."""

_EARTH_RADIUS = 6_378_137.0
"""Web-Mercator's sphere (EPSG:3857)."""

FloatArray = npt.NDArray[np.float64]


class Error(Exception):
    """A basemap file is missing or not in the expected format."""


def mercator_to_lonlat(xy: npt.NDArray[np.floating]) -> FloatArray:
    """Web-Mercator metres ``(x, y)`` rows → ``(lon, lat)`` degrees rows."""
    xy = np.asarray(xy, dtype=np.float64)
    lon = np.degrees(xy[:, 0] / _EARTH_RADIUS)
    lat = np.degrees(2.0 * np.arctan(np.exp(xy[:, 1] / _EARTH_RADIUS)) - math.pi / 2)
    return np.column_stack([lon, lat])


@dataclass(frozen=True, slots=True)
class Layer:
    """One basemap file: per feature its adcode, name, parent adcode and rings."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    parents: tuple[str, ...]
    rings: tuple[tuple[FloatArray, ...], ...]
    """Feature *i*'s rings as ``(lon, lat)`` arrays (even-odd: outer rings and holes)."""

    def bbox(self, index: int) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` of feature ``index``."""
        points = np.vstack(self.rings[index])
        low, high = points.min(axis=0), points.max(axis=0)
        return float(low[0]), float(low[1]), float(high[0]), float(high[1])


def read_layer(path: Path) -> Layer:
    """Read one ``.npz`` layer; :class:`Error` when it is missing or malformed."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            xy = archive["xy"]
            ring_starts = archive["ring_starts"].astype(np.int64)
            feature_rings = archive["feature_rings"].astype(np.int64)
            codes = tuple(str(code) for code in archive["codes"])
            names = tuple(str(name) for name in archive["names"])
            parents = tuple(str(parent) for parent in archive["parents"])
    except (OSError, KeyError, ValueError) as exc:
        raise Error(f"cannot read basemap layer {path}: {exc}") from exc
    if xy.ndim != 2 or xy.shape[1] != 2 or len(feature_rings) != len(codes) + 1:
        raise Error(f"{path}: not a basemap layer (xy must be n×2, one ring range per feature)")
    lonlat = mercator_to_lonlat(xy)
    rings = tuple(
        tuple(
            lonlat[ring_starts[ring] : ring_starts[ring + 1]]
            for ring in range(feature_rings[feature], feature_rings[feature + 1])
        )
        for feature in range(len(codes))
    )
    return Layer(codes=codes, names=names, parents=parents, rings=rings)


class BasemapSource:
    """The basemap files of one folder, each read once (thread-safe: the server may
    read a province's counties on a worker thread)."""

    def __init__(self, folder: Path = BASEMAP_DIR) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._counties: dict[str, Layer] = {}

    @functools.cached_property
    def provinces(self) -> Layer:
        """China's provincial units."""
        return read_layer(self.folder / "provinces.npz")

    @functools.cached_property
    def cities(self) -> Layer:
        """China's prefecture-level units."""
        return read_layer(self.folder / "cities.npz")

    @functools.cached_property
    def county_provinces(self) -> tuple[str, ...]:
        """The provinces (6-digit adcodes) that have a county file."""
        return tuple(
            sorted(
                path.stem.removeprefix("counties_") for path in self.folder.glob("counties_*.npz")
            )
        )

    def counties(self, province: str) -> Layer:
        """The counties of one province (``330000``), read on first use."""
        with self._lock:
            layer = self._counties.get(province)
            if layer is None:
                layer = read_layer(self.folder / f"counties_{province}.npz")
                self._counties[province] = layer
                logger.debug("basemap counties of %s: %s", province, len(layer.codes))
            return layer
