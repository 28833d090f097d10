"""Vehicle rules benchmark: the cost of :meth:`VehicleRulesEngine.observe` per fix.

V vehicles random-walk around Hangzhou and report once per simulated second for N
seconds; some speed, some stop, some cross a no-go zone and a speed zone. Every fix goes
through one engine with the shipped rules file (``resources/rules/vehicle_rules.json``:
overspeed, night driving, parking, offline) plus four geofence-built rules (a no-go
polygon, a geofence circle, a speed zone and a route corridor, as
:func:`backend.vehicles.geofences.rules_with_geofences` makes them), and
``check_timeouts`` runs once per simulated second over every vehicle.

The **baseline** is the same fixes through an engine with no rules: what ``observe``
costs for its bookkeeping alone (contact, order, state lookup). Printed: µs per fix for
both, their difference (what the rules themselves cost), ``check_timeouts`` per call,
and the decisions made (the same figures on any version: the check that nothing changed).

    .venv/bin/python bench/vehicle_rules.py [--vehicles 2000] [--seconds 120] [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import time
from collections import Counter
from pathlib import Path

from backend.geo import Circle, Polygon
from backend.vehicles.rules import (
    GeofenceRule,
    NoGoZoneRule,
    OverspeedRule,
    RouteCorridorRule,
    RulesConfig,
    SpeedZone,
    VehicleRulesEngine,
)
from devices.observations import Position

T0 = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)  # 20:00 in Hangzhou: night at 22:00
CENTRE = (30.27, 120.16)
RULES_FILE = Path(__file__).resolve().parent.parent / "resources" / "rules" / "vehicle_rules.json"


def rules() -> RulesConfig:
    """The shipped rules plus four geofence-style rules."""
    shipped = RulesConfig.from_json(RULES_FILE.read_text(encoding="utf-8"))
    lat, lon = CENTRE
    extra = (
        NoGoZoneRule(
            rule_id="gf-1",
            area=Polygon(
                [(lat, lon), (lat + 0.02, lon), (lat + 0.02, lon + 0.02), (lat, lon + 0.02)]
            ),
            enter_dwell_s=10,
        ),
        GeofenceRule(rule_id="gf-2", area=Circle(lat - 0.01, lon - 0.01, 800), enter_dwell_s=5),
        OverspeedRule(
            rule_id="gf-3",
            zones=(SpeedZone("school", Circle(lat + 0.01, lon - 0.02, 1500), 30.0),),
            min_duration_s=10,
        ),
        RouteCorridorRule(
            rule_id="gf-4",
            route=((lat - 0.05, lon - 0.05), (lat, lon), (lat + 0.05, lon + 0.03)),
            max_distance_m=500,
            vehicles=frozenset(f"V{index:05d}" for index in range(0, 10_000, 10)),
        ),
    )
    return RulesConfig(
        rules=shipped.rules + extra,
        max_gap_s=shipped.max_gap_s,
        max_clock_ahead_s=shipped.max_clock_ahead_s,
    )


def simulate(vehicles: int, seconds: int) -> list[list[Position]]:
    """One list of fixes per simulated second (deterministic)."""
    chance = random.Random(808)
    where = [
        (CENTRE[0] + chance.uniform(-0.05, 0.05), CENTRE[1] + chance.uniform(-0.05, 0.05))
        for _ in range(vehicles)
    ]
    heading = [chance.uniform(0, 2 * math.pi) for _ in range(vehicles)]
    # A fifth stand still (parking), a tenth speed, the rest drive at town speeds.
    cruise = [0.0 if i % 5 == 0 else 95.0 if i % 10 == 1 else 45.0 for i in range(vehicles)]
    seconds_list: list[list[Position]] = []
    for second in range(seconds):
        at = T0 + dt.timedelta(seconds=second)
        batch: list[Position] = []
        for index in range(vehicles):
            speed = max(0.0, cruise[index] + chance.uniform(-8, 8)) if cruise[index] else 0.0
            heading[index] += chance.uniform(-0.2, 0.2)
            step_deg = speed / 3.6 / 111_000
            lat, lon = where[index]
            where[index] = (
                lat + step_deg * math.cos(heading[index]),
                lon + step_deg * math.sin(heading[index]),
            )
            batch.append(
                Position(
                    device=f"V{index:05d}",
                    at=at,
                    lat=where[index][0],
                    lon=where[index][1],
                    speed_kmh=speed,
                )
            )
        seconds_list.append(batch)
    return seconds_list


def run(config: RulesConfig, fixes: list[list[Position]]) -> tuple[float, float, Counter[str]]:
    """(seconds in observe, seconds in check_timeouts, decisions by kind)."""
    engine = VehicleRulesEngine(config)
    observe_seconds = timeout_seconds = 0.0
    decisions: Counter[str] = Counter()
    observe = engine.observe
    for batch in fixes:
        received = batch[0].at
        started = time.perf_counter()
        for position in batch:
            for decision in observe(position, received_at=received):
                decisions[f"{type(decision).__name__} {decision.kind}"] += 1
        observe_seconds += time.perf_counter() - started
        started = time.perf_counter()
        decisions.update(
            f"{type(decision).__name__} {decision.kind}"
            for decision in engine.check_timeouts(received + dt.timedelta(milliseconds=500))
        )
        timeout_seconds += time.perf_counter() - started
    return observe_seconds, timeout_seconds, decisions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vehicles", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=120, help="simulated seconds")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    fixes = simulate(args.vehicles, args.seconds)
    count = args.vehicles * args.seconds
    config = rules()
    best = best_baseline = best_timeouts = math.inf
    decisions: Counter[str] = Counter()
    for _ in range(args.runs):
        baseline, _, _ = run(RulesConfig(), fixes)
        observe_seconds, timeout_seconds, decisions = run(config, fixes)
        best_baseline = min(best_baseline, baseline)
        best = min(best, observe_seconds)
        best_timeouts = min(best_timeouts, timeout_seconds)
    print(
        f"vehicle rules: {args.vehicles} vehicles × {args.seconds} s = {count:,} fixes, "
        f"{len(config.rules)} rules (best of {args.runs})"
    )
    print(f"  observe, no rules (baseline): {best_baseline / count * 1e6:.2f} µs per fix")
    print(f"  observe, all rules:           {best / count * 1e6:.2f} µs per fix")
    print(f"  the rules themselves:         {(best - best_baseline) / count * 1e6:.2f} µs per fix")
    print(f"  check_timeouts: {best_timeouts / args.seconds * 1e3:.2f} ms per call")
    print(f"  decisions: {dict(sorted(decisions.items()))}")


if __name__ == "__main__":
    main()
