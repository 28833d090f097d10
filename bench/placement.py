"""Placement benchmark: how fast points are placed in the deepest jurisdiction.

Random points, uniform in two boxes: Zhejiang (27.0–31.2°N, 118.0–122.9°E; almost all
inside the province's districts) and China's whole extent (18–53°N, 73–135°E; about
45 % lands in a province, the rest at sea or abroad). For each box it prints:

- ``cold``: the first batch, which also reads the basemap files it needs and builds
  their grids (what the first fixes after a start pay, once per province);
- ``warm``: the same batch again (``place_many``, the bulk path: migrations, imports);
- ``one by one``: ``place`` per point (the ingest's per-fix path).

The goal (issue 14): 20,000 points placed in ≤ 1 s. Exit 1 when a warm batch misses it.

    .venv/bin/python bench/placement.py [--points 20000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from backend.jurisdictions.tree import JurisdictionTree

BOXES = {
    "zhejiang": (27.0, 31.2, 118.0, 122.9),
    "china": (18.0, 53.0, 73.0, 135.0),
}
GOAL_SECONDS = 1.0
"""Issue 14: placing 20,000 points takes at most a second."""


def run(points: int, seed: int = 14) -> dict[str, dict[str, float]]:
    """Measure every box; return the figures."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    tree = JurisdictionTree()
    tree.load()
    figures: dict[str, dict[str, float]] = {"start": {"seconds": time.perf_counter() - started}}
    for name, (south, north, west, east) in BOXES.items():
        lat = rng.uniform(south, north, points)
        lon = rng.uniform(west, east, points)
        started = time.perf_counter()
        placed = tree.place_many(lat, lon)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        tree.place_many(lat, lon)
        warm = time.perf_counter() - started
        single = min(points, 5000)
        started = time.perf_counter()
        for a, b in zip(lat[:single].tolist(), lon[:single].tolist(), strict=True):
            tree.place(a, b)
        one = (time.perf_counter() - started) / single
        figures[name] = {
            "points": points,
            "placed_share": sum(1 for code in placed if code) / points,
            "cold_seconds": cold,
            "warm_seconds": warm,
            "warm_points_per_second": points / warm,
            "one_by_one_us": one * 1e6,
        }
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = run(args.points)
    out = sys.stdout.write
    out(f"tree ready (provinces and cities read) in {figures['start']['seconds'] * 1000:.0f} ms\n")
    ok = True
    for name in BOXES:
        f = figures[name]
        scaled = f["warm_seconds"] * 20_000 / f["points"]
        ok = ok and scaled <= GOAL_SECONDS
        out(
            f"{name:<9} {int(f['points']):>7} points ({f['placed_share']:.0%} placed): "
            f"cold {f['cold_seconds'] * 1000:7.1f} ms, warm {f['warm_seconds'] * 1000:6.1f} ms "
            f"({f['warm_points_per_second']:,.0f} points/s; 20,000 in {scaled * 1000:.0f} ms, "
            f"goal ≤ {GOAL_SECONDS * 1000:.0f} ms), one by one {f['one_by_one_us']:.1f} µs/point\n"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
