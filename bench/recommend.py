"""Recommendation benchmark: how long ranking 5,000 resources takes.

A city's worth of resources scattered over a 60 × 60 km box around Nanjing: teams (a
third with a vehicle reporting, half of those fresh), units, equipment, experts and
shelters, with capabilities drawn from a small vocabulary, some deployed or busy; a plan
asking for three capabilities and two specialties. Each run ranks all of them for a
random point (``backend.recommend.ranking.rank``: positions, ETAs, matches, penalties,
the cover check of the ranked teams, the wire structs of the top 20 per kind).

It prints the ranking time p50/p99 against the goal (issue 16: 5,000 resources in
≤ 50 ms), and in the same run the **floor**: the bare numpy haversine over the same
5,000 points, and the ratio of the two. Exit 1 when p99 misses the goal.

    .venv/bin/python bench/recommend.py [--resources 5000] [--runs 200] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from backend.recommend.ranking import Candidate, Fix, Needs, Settings, rank
from backend.recommend.travel import haversine_km

GOAL_MS = 50.0
"""Issue 16: ranking 5,000 resources takes at most 50 ms."""
CENTRE = (32.06, 118.79)
HALF_SIDE_DEG = 0.27
"""About 30 km of latitude either side of the centre."""
CAPABILITIES = (
    "hazmat",
    "rescue",
    "firefighting",
    "medical",
    "decontamination",
    "water_rescue",
    "mine_rescue",
    "lighting",
)
SPECIALTIES = ("危险化学品", "矿山安全", "消防", "医疗救治", "地质灾害")
KINDS = ("team", "team", "unit", "equipment", "expert", "shelter")
NOW = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)


def world(count: int, rng: np.random.Generator) -> list[Candidate]:
    """``count`` resources of every kind around the centre."""
    lat = rng.uniform(CENTRE[0] - HALF_SIDE_DEG, CENTRE[0] + HALF_SIDE_DEG, count)
    lon = rng.uniform(CENTRE[1] - HALF_SIDE_DEG, CENTRE[1] + HALF_SIDE_DEG, count)
    candidates = []
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        vocabulary = SPECIALTIES if kind == "expert" else CAPABILITIES
        picked = rng.choice(len(vocabulary), size=int(rng.integers(1, 4)), replace=False)
        fixes: tuple[Fix, ...] = ()
        if kind == "team" and index % 3 == 0:
            age = dt.timedelta(minutes=float(rng.uniform(0, 20)))
            fixes = (Fix(f"1380000{index:04d}", lat[index] + 0.01, lon[index], NOW - age),)
        candidates.append(
            Candidate(
                kind=kind,
                code=f"{kind}-{index}",
                name=f"{kind} {index}",
                lat=float(lat[index]),
                lon=float(lon[index]),
                jurisdiction=f"320116{index % 12:03d}",
                capabilities=None if kind == "unit" else frozenset(vocabulary[i] for i in picked),
                available=index % 7 != 0,
                availability_rank=index % 3 if kind == "expert" else 0,
                spare=float(rng.integers(0, 2000)) if kind in {"shelter", "equipment"} else None,
                fixes=fixes,
            )
        )
    return candidates


def run(resources: int, runs: int, seed: int = 16) -> dict[str, float]:
    """Measure; return the figures (milliseconds)."""
    rng = np.random.default_rng(seed)
    candidates = world(resources, rng)
    needs = Needs(
        plan_code="bench",
        capabilities=("hazmat", "rescue", "decontamination"),
        quantities={"hazmat": 2.0, "rescue": 1.0, "decontamination": 50.0},
        specialties=("危险化学品", "消防"),
    )
    settings = Settings()
    points = rng.uniform(-HALF_SIDE_DEG, HALF_SIDE_DEG, (runs, 2)) + np.array(CENTRE)
    lat = np.array([c.lat for c in candidates], dtype=np.float64)
    lon = np.array([c.lon for c in candidates], dtype=np.float64)
    # Warm-up: the first call pays numpy's and msgspec's first-use costs.
    rank(float(points[0][0]), float(points[0][1]), candidates, needs, now=NOW, settings=settings)
    ranking, floor = [], []
    for to_lat, to_lon in points:
        started = time.perf_counter()
        rank(float(to_lat), float(to_lon), candidates, needs, now=NOW, settings=settings)
        ranking.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        haversine_km(lat, lon, float(to_lat), float(to_lon))
        floor.append((time.perf_counter() - started) * 1000)
    quantiles = statistics.quantiles(ranking, n=100)
    floor_quantiles = statistics.quantiles(floor, n=100)
    return {
        "resources": resources,
        "runs": runs,
        "rank_p50_ms": quantiles[49],
        "rank_p99_ms": quantiles[98],
        "floor_p50_ms": floor_quantiles[49],
        "floor_p99_ms": floor_quantiles[98],
        "ratio_p50": quantiles[49] / floor_quantiles[49],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    f = run(args.resources, max(2, args.runs))
    out = sys.stdout.write
    ok = f["rank_p99_ms"] <= GOAL_MS
    out(
        f"ranking {int(f['resources']):,} resources ({int(f['runs'])} runs): "
        f"p50 {f['rank_p50_ms']:.2f} ms, p99 {f['rank_p99_ms']:.2f} ms "
        f"(goal ≤ {GOAL_MS:.0f} ms: {'met' if ok else 'MISSED'})\n"
        f"floor, numpy haversine over the same points: p50 {f['floor_p50_ms'] * 1000:.0f} µs, "
        f"p99 {f['floor_p99_ms'] * 1000:.0f} µs; ranking / floor (p50) = {f['ratio_p50']:.0f}×\n"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(f, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
