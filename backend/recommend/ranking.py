"""Rank resources for a place and a plan's needs: the sans-I/O heart of ``recommend``.

Every candidate (a team, a unit, equipment, an expert, a shelter) gets a position, an ETA
from the travel model (:mod:`backend.recommend.travel`), the needs it meets and lacks,
and a **score** in minutes; lower ranks first, within its kind. The rules (docs/incidents.md
"Recommendation" states them for users):

- **Position**: the newest fix of the resource's vehicles when it is fresh (younger than
  ``fresh_for``), else its base (the registry's lat/lon); none: no ETA, ranked after the
  available ones with a position (:data:`NO_POSITION_PENALTY`).
- **Teams, units, equipment**: ``score = ETA + SHORTFALL_PENALTY_MIN × (1 − match)``,
  ``match`` the share of the plan's capabilities it has. Equipment whose quantity is below
  what the plan asks adds ``QUANTITY_PENALTY_MIN × (1 − quantity / needed)``. A unit that
  no team lists has no known capabilities: ranked by ETA alone.
- **Unavailable** (deployed, off duty, no quantity) ranks after every available one of its
  kind, however close (:data:`UNAVAILABLE_PENALTY`).
- **Experts**: by specialty match first, then availability (available, busy,
  unavailable), then ETA.
- **Shelters**: ``score = ETA on foot + SPARE_PENALTY_MIN × (1 − spare / most spare)``;
  a full shelter is unavailable.
- **Cover**: sending an available team leaves its jurisdiction without cover when no other
  available team sharing one of its capabilities reaches that team's base within
  ``cover_minutes``: warning ``no_cover:<jurisdiction>``.

Vectorised over numpy arrays: 5,000 candidates rank in a few milliseconds
(bench/recommend.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from backend.plans.matching import PlanCandidate
from backend.recommend.travel import FloatArray, StraightLine, TravelModel, speed_of
from realtime.protocol import RankedResource, TravelBasis

SHORTFALL_PENALTY_MIN = 60.0
"""Minutes added for meeting none of the plan's capabilities (pro rata for a part): a
team that meets them all wins over one that meets none unless it is an hour further."""
QUANTITY_PENALTY_MIN = 30.0
"""Minutes added for equipment holding none of the quantity the plan asks (pro rata)."""
SPARE_PENALTY_MIN = 30.0
"""Minutes added to the shelter with the least room (none for the one with the most)."""
NO_POSITION_PENALTY = 1e6
"""Added when there is no position: after every resource with one."""
UNAVAILABLE_PENALTY = 1e7
"""Added when unavailable: after every available resource of the kind."""
EXPERT_MATCH_WEIGHT = 1e9
"""Experts: the specialty shortfall outweighs everything else."""
EXPERT_AVAILABILITY_WEIGHT = 1e8
"""Experts: then availability (0 available, 1 busy, 2 unavailable)."""
DEFAULT_COVER_MINUTES = 15.0
"""Within how many minutes another team must reach a sent team's base (server setting)."""
DEFAULT_FRESH_FOR = dt.timedelta(minutes=10)
"""A vehicle fix older than this is stale: the team is placed at its base instead."""

_STRAIGHT = StraightLine()

KIND_ORDER = ("team", "unit", "equipment", "expert", "shelter")
"""The order of the kinds in a recommendation."""


@dataclass(frozen=True, slots=True)
class Fix:
    """A vehicle's newest fix."""

    vehicle: str
    lat: float
    lon: float
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    """One resource to rank, as the service read it."""

    kind: str
    """An ItemKind value or ``unit``."""
    code: str
    name: str
    lat: float | None = None
    lon: float | None = None
    """The base (WGS-84)."""
    agency: str = ""
    jurisdiction: str = ""
    capabilities: frozenset[str] | None = frozenset()
    """Teams and equipment: capabilities; experts: specialties; None: unknown (a unit no
    team lists)."""
    available: bool = True
    availability_rank: int = 0
    """Experts: 0 available, 1 busy, 2 unavailable."""
    spare: float | None = None
    """Shelters: places left; equipment: quantity."""
    fixes: tuple[Fix, ...] = ()
    """The newest fix of each of its vehicles."""


@dataclass(frozen=True, slots=True)
class Needs:
    """What the applicable plan asks for."""

    plan_code: str = ""
    capabilities: tuple[str, ...] = ()
    quantities: dict[str, float] = field(default_factory=dict)
    """Capability → quantity the plan asks (teams or amount)."""
    specialties: tuple[str, ...] = ()

    def listed(self) -> list[str]:
        """Capabilities then specialties, each once (what the recommendation shows)."""
        return list(dict.fromkeys((*self.capabilities, *self.specialties)))


def needs_of(plans: Sequence[PlanCandidate]) -> Needs:
    """The needs of the most specific applicable plan (the first of
    :func:`backend.plans.matching.applicable_plans`), or none."""
    if not plans:
        return Needs()
    plan = plans[0]
    quantities: dict[str, float] = {}
    for need in plan.details.resources:
        quantities[need.capability] = quantities.get(need.capability, 0.0) + need.quantity
    return Needs(
        plan_code=plan.code,
        capabilities=tuple(quantities),
        quantities=quantities,
        specialties=tuple(dict.fromkeys(plan.details.specialties)),
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """The knobs of a ranking."""

    cover_minutes: float = DEFAULT_COVER_MINUTES
    fresh_for: dt.timedelta = DEFAULT_FRESH_FOR
    limit: int = 20
    """Resources per kind."""
    travel: TravelModel = field(default_factory=StraightLine)


@dataclass(slots=True)
class _Placed:
    """The candidates of one kind as arrays."""

    candidates: list[Candidate]
    lat: FloatArray
    lon: FloatArray
    has_position: np.ndarray
    vehicle: list[str]


def _place(candidates: list[Candidate], now: dt.datetime, fresh_for: dt.timedelta) -> _Placed:
    oldest = now - fresh_for
    nan = float("nan")
    lat = np.fromiter((nan if c.lat is None else c.lat for c in candidates), np.float64)
    lon = np.fromiter((nan if c.lon is None else c.lon for c in candidates), np.float64)
    # A base needs both coordinates.
    lat[np.isnan(lon)] = nan
    lon[np.isnan(lat)] = nan
    vehicle = [""] * len(candidates)
    for index, candidate in enumerate(candidates):
        if not candidate.fixes:
            continue
        fresh = [fix for fix in candidate.fixes if fix.at >= oldest]
        if fresh:
            newest = max(fresh, key=lambda fix: fix.at)
            lat[index], lon[index], vehicle[index] = newest.lat, newest.lon, newest.vehicle
    return _Placed(candidates, lat, lon, ~np.isnan(lat), vehicle)


def _holding(candidates: list[Candidate], capability: str) -> np.ndarray:
    """Which candidates have ``capability`` (unknown capabilities: no)."""
    return np.fromiter(
        (c.capabilities is not None and capability in c.capabilities for c in candidates),
        dtype=bool,
        count=len(candidates),
    )


def _match(candidate: Candidate, wanted: Sequence[str]) -> tuple[list[str], list[str], float]:
    if candidate.capabilities is None:
        return [], [], 0.0
    if not wanted:
        return [], [], 1.0
    matched = [need for need in wanted if need in candidate.capabilities]
    missing = [need for need in wanted if need not in candidate.capabilities]
    return matched, missing, len(matched) / len(wanted)


def rank(
    lat: float,
    lon: float,
    candidates: Iterable[Candidate],
    needs: Needs,
    *,
    now: dt.datetime,
    settings: Settings | None = None,
) -> list[RankedResource]:
    """Rank the candidates for the place ``(lat, lon)``: per kind (:data:`KIND_ORDER`, then
    any other), best first, at most ``settings.limit`` of each."""
    settings = settings or Settings()
    by_kind: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_kind.setdefault(candidate.kind, []).append(candidate)
    kinds = [kind for kind in KIND_ORDER if kind in by_kind]
    kinds += sorted(set(by_kind) - set(KIND_ORDER))
    ranked: list[RankedResource] = []
    for kind in kinds:
        placed = _place(by_kind[kind], now, settings.fresh_for)
        ranked.extend(_rank_kind(kind, lat, lon, placed, needs=needs, settings=settings))
    return ranked


def _rank_kind(
    kind: str, lat: float, lon: float, placed: _Placed, *, needs: Needs, settings: Settings
) -> list[RankedResource]:
    count = len(placed.candidates)
    speeds = np.full(count, speed_of(kind))
    distance, eta, by_model = _estimate(
        settings.travel, placed.lat, placed.lon, lat, lon, speeds=speeds
    )
    known_eta = np.where(placed.has_position, eta, 0.0)
    wanted = needs.specialties if kind == "expert" else needs.capabilities
    candidates = placed.candidates
    known = np.fromiter((c.capabilities is not None for c in candidates), bool, count)
    holding = {need: _holding(candidates, need) for need in wanted}
    share = (
        np.sum([holding[need] for need in wanted], axis=0, dtype=np.float64) / len(wanted)
        if wanted
        else np.ones(count)
    )
    share = np.where(known, share, 0.0)
    available = np.fromiter((c.available for c in candidates), bool, count)
    score = known_eta + np.where(placed.has_position, 0.0, NO_POSITION_PENALTY)
    if kind == "expert":
        rung = np.fromiter((c.availability_rank for c in candidates), np.float64, count)
        score = score + EXPERT_MATCH_WEIGHT * (1.0 - share) + EXPERT_AVAILABILITY_WEIGHT * rung
    else:
        score = score + np.where(known, SHORTFALL_PENALTY_MIN * (1.0 - share), 0.0)
        score = score + np.where(available, 0.0, UNAVAILABLE_PENALTY)
    if kind == "shelter":
        score = score + _spare_penalty(placed.candidates)
    if kind == "equipment":
        score = score + _quantity_penalty(candidates, holding, needs)
    order = np.argsort(score, kind="stable")[: settings.limit]
    warnings = _cover_warnings(kind, placed, order, settings) if kind == "team" else {}
    return [
        _resource(
            rank=position + 1,
            candidate=placed.candidates[index],
            distance=float(distance[index]) if placed.has_position[index] else None,
            eta=float(eta[index]) if placed.has_position[index] else None,
            basis=settings.travel.basis if by_model[index] else TravelBasis.STRAIGHT_LINE,
            position=(float(placed.lat[index]), float(placed.lon[index]))
            if placed.has_position[index]
            else None,
            vehicle=placed.vehicle[index],
            match=_match(candidates[index], wanted),
            score=float(score[index]),
            warnings=warnings.get(int(index), []),
        )
        for position, index in enumerate(order)
    ]


def _estimate(
    travel: TravelModel,
    lat: FloatArray,
    lon: FloatArray,
    to_lat: float,
    to_lon: float,
    *,
    speeds: FloatArray,
) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """The model's distances and minutes, the straight line where it cannot tell (NaN);
    and which came from the model."""
    distance, minutes = travel.estimate(lat, lon, to_lat, to_lon, speeds)
    by_model = ~np.isnan(minutes)
    fallback = ~by_model & ~np.isnan(lat)
    if fallback.any():
        straight, straight_minutes = _STRAIGHT.estimate(
            lat[fallback], lon[fallback], to_lat, to_lon, speeds[fallback]
        )
        distance, minutes = distance.copy(), minutes.copy()
        distance[fallback], minutes[fallback] = straight, straight_minutes
    return distance, minutes, by_model


def _spare_penalty(candidates: list[Candidate]) -> FloatArray:
    spare = np.array([max(0.0, c.spare or 0.0) for c in candidates], dtype=np.float64)
    most = float(spare.max()) if len(spare) else 0.0
    if most <= 0.0:
        return np.full(len(candidates), SPARE_PENALTY_MIN)
    penalty: FloatArray = SPARE_PENALTY_MIN * (1.0 - spare / most)
    return penalty


def _quantity_penalty(
    candidates: list[Candidate], holding: dict[str, np.ndarray], needs: Needs
) -> FloatArray:
    needed = np.zeros(len(candidates))
    for need, holds in holding.items():
        needed = np.maximum(needed, np.where(holds, needs.quantities.get(need, 0.0), 0.0))
    held = np.fromiter((max(0.0, c.spare or 0.0) for c in candidates), np.float64, len(candidates))
    short = np.clip(1.0 - held / np.where(needed > 0.0, needed, 1.0), 0.0, None)
    penalty: FloatArray = np.where(needed > 0.0, QUANTITY_PENALTY_MIN * short, 0.0)
    return penalty


def _cover_warnings(
    kind: str, placed: _Placed, order: np.ndarray, settings: Settings
) -> dict[int, list[str]]:
    """``no_cover:<jurisdiction>`` for each ranked available team whose base no other
    available team sharing a capability reaches within the cover time."""
    candidates = placed.candidates
    others = np.array([c.available for c in candidates], dtype=bool) & placed.has_position
    speeds = np.full(len(candidates), speed_of(kind))
    unknown = np.fromiter((c.capabilities is None for c in candidates), bool, len(candidates))
    holders: dict[str, np.ndarray] = {}
    warnings: dict[int, list[str]] = {}
    for raw in order:
        index = int(raw)
        team = candidates[index]
        if not team.available or not team.jurisdiction or team.lat is None or team.lon is None:
            continue
        sharing = others.copy()
        sharing[index] = False
        if team.capabilities:
            overlapping = unknown.copy()
            for capability in team.capabilities:
                if capability not in holders:
                    holders[capability] = _holding(candidates, capability)
                overlapping |= holders[capability]
            sharing &= overlapping
        if not sharing.any():
            warnings[index] = [f"no_cover:{team.jurisdiction}"]
            continue
        _, minutes, _ = _estimate(
            settings.travel,
            placed.lat[sharing],
            placed.lon[sharing],
            team.lat,
            team.lon,
            speeds=speeds[sharing],
        )
        if not bool((minutes <= settings.cover_minutes).any()):
            warnings[index] = [f"no_cover:{team.jurisdiction}"]
    return warnings


def _resource(
    *,
    rank: int,
    candidate: Candidate,
    distance: float | None,
    eta: float | None,
    basis: TravelBasis,
    position: tuple[float, float] | None,
    vehicle: str,
    match: tuple[list[str], list[str], float],
    score: float,
    warnings: list[str],
) -> RankedResource:
    matched, missing, share = match
    return RankedResource(
        rank=rank,
        kind=candidate.kind,
        code=candidate.code,
        name=candidate.name,
        agency=candidate.agency,
        jurisdiction=candidate.jurisdiction,
        lat=position[0] if position else None,
        lon=position[1] if position else None,
        distance_km=round(distance, 3) if distance is not None else None,
        eta_min=round(eta, 1) if eta is not None else None,
        travel=basis if position else TravelBasis.NONE,
        from_vehicle=vehicle,
        matched=matched,
        missing=missing,
        match=round(share, 3),
        available=candidate.available,
        spare=candidate.spare,
        score=round(score, 3),
        warnings=warnings,
    )
