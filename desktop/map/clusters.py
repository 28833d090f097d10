"""Grid clustering of map points in screen space, vectorised with numpy (no Qt).

At a wide zoom many symbols fall on the same few pixels. :func:`grid_clusters` puts the
points on a square grid whose cell is about ``cell_px`` pixels wide and replaces every
cell holding at least ``min_size`` points by one cluster (count, centre, extent and the
most urgent member's rank). The cell size in metres is rounded up to a power of two
(:func:`cell_metres`), so the grid only changes when the zoom crosses a power-of-two
step and stays put while the officer pans.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

CELL_PX = 56.0
"""A cluster cell is about this many pixels wide (rounded up to a power-of-two step)."""
_OFFSET = 1 << 31
"""Shifts cell indices positive so that (column, row) packs into one int64 key."""


def cell_metres(metres_per_pixel: float, cell_px: float = CELL_PX) -> float:
    """Return the grid cell for a resolution: ``cell_px`` pixels, rounded up to 2**n m."""
    return float(2.0 ** math.ceil(math.log2(max(cell_px * metres_per_pixel, 1.0))))


@dataclasses.dataclass(frozen=True, slots=True)
class Clusters:
    """The result of :func:`grid_clusters`; cluster arrays are parallel, one row each."""

    clustered: BoolArray
    """Per input point: whether it is drawn as part of a cluster (not on its own)."""
    x: FloatArray
    """Cluster centres (mean of the members, kept off the cell's edges), Mercator metres."""
    y: FloatArray
    count: IntArray
    rank: IntArray
    """The highest member rank (e.g. alarm level): the cluster takes its colour."""
    bounds: FloatArray
    """n×4: west, south, east, north of each cluster's members."""

    def __len__(self) -> int:
        return len(self.count)


def no_clusters(points: int) -> Clusters:
    """The result for ``points`` points none of which is clustered."""
    empty = np.empty(0)
    return Clusters(
        clustered=np.zeros(points, dtype=bool),
        x=empty,
        y=empty,
        count=np.empty(0, dtype=np.intp),
        rank=np.empty(0, dtype=np.intp),
        bounds=np.empty((0, 4)),
    )


def grid_clusters(
    x: FloatArray,
    y: FloatArray,
    rank: IntArray,
    *,
    cell_m: float,
    min_size: int,
    keep_off_edge: float = 0.0,
    grid_offset: float = 0.0,
) -> Clusters:
    """Cluster the points (``x``, ``y``) on a grid of ``cell_m`` metres.

    Cells with at least ``min_size`` points become clusters; the rest stay single points.
    A cluster's centre is its members' mean, kept ``keep_off_edge`` × ``cell_m`` away from
    its cell's edges, so that symbols of neighbouring cells never overlap. Another layer
    clustering with ``grid_offset`` 0.5 (cells shifted by half a cell) puts its symbols
    between these, not on them.
    """
    if len(x) == 0 or min_size < 1:
        return no_clusters(len(x))
    shift = grid_offset * cell_m
    column = np.floor((x - shift) / cell_m).astype(np.int64) + _OFFSET
    row = np.floor((y - shift) / cell_m).astype(np.int64) + _OFFSET
    keys = (column << 32) | row
    _, cell_of, counts = np.unique(keys, return_inverse=True, return_counts=True)
    cell_of = cell_of.reshape(-1)
    big = counts >= min_size
    clustered = big[cell_of]
    if not clustered.any():
        return no_clusters(len(x))
    # renumber the big cells 0..k-1 and aggregate their members
    number = np.cumsum(big) - 1
    members = np.flatnonzero(clustered)
    cluster_of = number[cell_of[members]]
    k = int(big.sum())
    member_count = counts[big]
    mx, my = x[members], y[members]
    bounds = np.empty((k, 4))
    bounds[:, 0:2] = np.inf
    bounds[:, 2:4] = -np.inf
    np.minimum.at(bounds[:, 0], cluster_of, mx)
    np.minimum.at(bounds[:, 1], cluster_of, my)
    np.maximum.at(bounds[:, 2], cluster_of, mx)
    np.maximum.at(bounds[:, 3], cluster_of, my)
    top_rank = np.full(k, np.iinfo(np.intp).min, dtype=np.intp)
    np.maximum.at(top_rank, cluster_of, rank[members].astype(np.intp))
    margin = min(keep_off_edge, 0.5) * cell_m
    west = np.floor((bounds[:, 0] - shift) / cell_m) * cell_m + shift
    south = np.floor((bounds[:, 1] - shift) / cell_m) * cell_m + shift
    centre_x = np.bincount(cluster_of, weights=mx, minlength=k) / member_count
    centre_y = np.bincount(cluster_of, weights=my, minlength=k) / member_count
    return Clusters(
        clustered=clustered,
        x=np.clip(centre_x, west + margin, west + cell_m - margin),
        y=np.clip(centre_y, south + margin, south + cell_m - margin),
        count=member_count.astype(np.intp),
        rank=top_rank,
        bounds=bounds,
    )
