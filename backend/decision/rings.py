"""The rings of a hazardous-chemical incident, and which ring a place lies in (sans-I/O).

The rules (ERG "Table of Initial Isolation and Protective Action Distances" and the
guides' public-safety sections; the figures are the chemical table's):

- **Isolation** (初始隔离区): all round the incident, the largest initial isolation
  distance among the chemicals for the spill size. **Fire**: a tank, tank car or tanker
  on fire is isolated at least as far as the chemical's fire distance (800 m or 1600 m
  by guide), so a fire never shrinks the ring and usually widens it.
- **Protective action** (防护行动区): downwind, the largest protective-action distance
  for the spill size, by day or by night, and never inside the isolation ring. The wind
  is not known here, so the ring is drawn all round (a superset of the downwind zone).
- A **custom** outer radius given by the officer replaces the protective ring.
- With no chemical of the table known (cargo unknown, names not in the table) the
  "unidentified cargo" distances apply (ERG guide 111), so an unknown never means no ring.

Night is 18:00–06:00 China Standard Time (UTC+8, no daylight saving) unless the request
says: a simple rule instead of sunrise and sunset, documented as such.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from backend.decision.chemicals import Chemical, Unidentified
from realtime.protocol import RingKind

CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
NIGHT_FROM_HOUR = 18
NIGHT_UNTIL_HOUR = 6


@dataclass(frozen=True, slots=True)
class Ring:
    """A circle around the incident."""

    kind: RingKind
    radius_m: float
    chemical: str = ""
    """The UN number whose distance set it ("" for the unidentified-cargo rule or custom)."""


@dataclass(frozen=True, slots=True)
class Conditions:
    """What the officer says about the release."""

    large_spill: bool = False
    night: bool = False
    fire: bool = False
    radius_m: float | None = None


def is_night(at: dt.datetime) -> bool:
    """Whether ``at`` (aware) is night, 18:00–06:00 in China Standard Time."""
    hour = at.astimezone(CHINA_STANDARD_TIME).hour
    return hour >= NIGHT_FROM_HOUR or hour < NIGHT_UNTIL_HOUR


def rings(
    chemicals: Sequence[Chemical], unidentified: Unidentified, conditions: Conditions
) -> tuple[Ring, Ring]:
    """The isolation ring and the outer (protective or custom) ring, inner first.

    The outer ring is never smaller than the isolation ring.
    """
    sources: list[tuple[str, Chemical | Unidentified]] = [(c.un_number, c) for c in chemicals]
    if not sources:
        sources = [("", unidentified)]
    isolation = max(
        ((_isolation_m(source, conditions), un_number) for un_number, source in sources),
        key=lambda pair: pair[0],
    )
    protective = max(
        (
            (
                source.distances(large_spill=conditions.large_spill).protective_m(
                    night=conditions.night
                ),
                un_number,
            )
            for un_number, source in sources
        ),
        key=lambda pair: pair[0],
    )
    inner = Ring(RingKind.ISOLATION, isolation[0], isolation[1])
    if conditions.radius_m is not None:
        return inner, Ring(RingKind.CUSTOM, max(conditions.radius_m, inner.radius_m))
    return inner, Ring(RingKind.PROTECTIVE, max(protective[0], inner.radius_m), protective[1])


def _isolation_m(source: Chemical | Unidentified, conditions: Conditions) -> float:
    spill = source.distances(large_spill=conditions.large_spill).isolation_m
    return max(spill, source.fire_isolation_m) if conditions.fire else spill


def ring_of(distance_m: float, inner: Ring, outer: Ring) -> RingKind | None:
    """The innermost ring a place at ``distance_m`` lies in (None: outside both)."""
    if distance_m <= inner.radius_m:
        return inner.kind
    if distance_m <= outer.radius_m:
        return outer.kind
    return None
