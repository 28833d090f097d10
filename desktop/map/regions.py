"""Which basemap region a point lies in (the province, city and county of the view's
centre), by an even-odd ray test over the region's rings. Plain numpy, no Qt."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from desktop.map.basemap import BasemapFeature, BasemapLayer

Box = tuple[float, float, float, float]
"""(x_min, y_min, x_max, y_max), Web-Mercator metres."""


class RegionIndex:
    """The ring bounding boxes of one layer, so a lookup tests only the rings around it."""

    def __init__(self, layer: BasemapLayer) -> None:
        self.layer = layer
        starts = layer.ring_starts[:-1].astype(np.int64)
        ends = layer.ring_starts[1:].astype(np.int64)
        nonempty = ends > starts
        self._lo = np.full((len(starts), 2), np.inf)
        self._hi = np.full((len(starts), 2), -np.inf)
        if nonempty.any():
            self._lo[nonempty] = np.minimum.reduceat(layer.xy, starts[nonempty], axis=0)
            self._hi[nonempty] = np.maximum.reduceat(layer.xy, starts[nonempty], axis=0)
        # Which feature each ring belongs to.
        bounds = layer.feature_rings.astype(np.int64)
        counts = bounds[1:] - bounds[:-1]
        self._ring_feature = np.repeat(np.arange(len(layer)), counts)

    def feature_at(self, x: float, y: float) -> BasemapFeature | None:
        """The region containing (x, y), or None (at sea, or outside the layer)."""
        lo, hi = self._lo, self._hi
        near = np.flatnonzero((lo[:, 0] <= x) & (hi[:, 0] >= x) & (lo[:, 1] <= y) & (hi[:, 1] >= y))
        crossings: dict[int, int] = {}
        for ring in near:
            start, end = int(self.layer.ring_starts[ring]), int(self.layer.ring_starts[ring + 1])
            feature = int(self._ring_feature[ring])
            crossings[feature] = crossings.get(feature, 0) + ray_crossings(
                self.layer.xy[start:end], x, y
            )
        for feature, count in crossings.items():
            if count % 2:
                return self.layer.feature(feature)
        return None


def ray_crossings(ring: npt.NDArray[np.float32], x: float, y: float) -> int:
    """How many edges of ``ring`` a ray from (x, y) towards +x crosses."""
    xs = ring[:, 0].astype(np.float64)
    ys = ring[:, 1].astype(np.float64)
    x2, y2 = np.roll(xs, -1), np.roll(ys, -1)
    straddles = (ys > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_x = xs + (y - ys) * (x2 - xs) / (y2 - ys)
    return int(np.count_nonzero(straddles & (at_x > x)))
