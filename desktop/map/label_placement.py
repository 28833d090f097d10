"""Greedy label placement in screen pixels: labels beside their symbols, never on one.

Plain geometry (no Qt), so the map's labeller and the tests share it. Labels are placed
in order of priority; each tries a few spots around its symbol and takes the first that
overlaps no symbol and no label placed before it. A label with no free spot is hidden
(the officer zooms in to read it, or hovers for the tooltip).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

Rect = tuple[float, float, float, float]
"""(left, top, right, bottom) in screen pixels (y grows downwards)."""

GAP_PX = 2.0
"""Room between a symbol and its label."""
FAR_PX = 10.0
"""How much further out the second ring of spots lies."""


@dataclasses.dataclass(frozen=True, slots=True)
class Symbol:
    """A symbol drawn on the map: its centre and its size (diameter), screen pixels."""

    x: float
    y: float
    size: float

    @property
    def rect(self) -> Rect:
        """The square the symbol covers."""
        half = self.size / 2
        return (self.x - half, self.y - half, self.x + half, self.y + half)


@dataclasses.dataclass(frozen=True, slots=True)
class LabelRequest:
    """A label wanted beside ``symbol``; lower ``priority`` numbers are placed first."""

    key: object
    symbol: Symbol
    width: float
    height: float
    priority: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class Placement:
    """Where a label went: its top-left corner relative to its symbol's centre."""

    key: object
    rect: Rect
    dx: float
    dy: float


def intersects(a: Rect, b: Rect) -> bool:
    """Whether two rectangles overlap (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def candidate_offsets(request: LabelRequest) -> list[tuple[float, float]]:
    """Top-left corners to try, relative to the symbol's centre: right, left, below,
    above, then the four corners; then the same a little further out (a crowd of
    symbols around the first ring)."""
    offsets = []
    for extra in (0.0, FAR_PX):
        half = request.symbol.size / 2 + GAP_PX + extra
        w, h = request.width, request.height
        offsets += [
            (half, -h / 2),
            (-half - w, -h / 2),
            (-w / 2, half),
            (-w / 2, -half - h),
            (half, half),
            (-half - w, half),
            (half, -half - h),
            (-half - w, -half - h),
        ]
    return offsets


class _Grid:
    """Rectangles bucketed in square cells, so a crowded view stays cheap to test."""

    def __init__(self, cell: float = 64.0) -> None:
        self._cell = cell
        self._cells: dict[tuple[int, int], list[Rect]] = {}

    def _keys(self, rect: Rect) -> Iterable[tuple[int, int]]:
        c = self._cell
        for i in range(int(rect[0] // c), int(rect[2] // c) + 1):
            for j in range(int(rect[1] // c), int(rect[3] // c) + 1):
                yield (i, j)

    def add(self, rect: Rect) -> None:
        for key in self._keys(rect):
            self._cells.setdefault(key, []).append(rect)

    def hits(self, rect: Rect) -> bool:
        return any(
            intersects(rect, other)
            for key in self._keys(rect)
            for other in self._cells.get(key, ())
        )


def place_labels(
    requests: Sequence[LabelRequest],
    obstacles: Iterable[Symbol],
    bounds: Rect | None = None,
) -> list[Placement]:
    """Place ``requests`` greedily; return the labels shown (the others are hidden).

    ``obstacles`` are every symbol drawn (a label's own symbol among them); ``bounds``,
    when given, is the view: a label must fit inside it.
    """
    taken = _Grid()
    for symbol in obstacles:
        taken.add(symbol.rect)
    placed: list[Placement] = []
    for request in sorted(requests, key=lambda r: r.priority):
        sx, sy = request.symbol.x, request.symbol.y
        for dx, dy in candidate_offsets(request):
            rect = (sx + dx, sy + dy, sx + dx + request.width, sy + dy + request.height)
            if bounds is not None and not (
                rect[0] >= bounds[0]
                and rect[1] >= bounds[1]
                and rect[2] <= bounds[2]
                and rect[3] <= bounds[3]
            ):
                continue
            if taken.hits(rect):
                continue
            taken.add(rect)
            placed.append(Placement(request.key, rect, dx, dy))
            break
    return placed
