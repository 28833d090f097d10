"""The road option of the travel model: a shortest path over a small graph beats the
straight line where a river lies between; what it cannot route falls back to the
straight line, and says so."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from backend.recommend.ranking import Candidate, Needs, Settings, rank
from backend.recommend.travel import Error, RoadGraph, RoadTravel
from realtime.protocol import TravelBasis

NOW = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)
KM_PER_DEGREE = 2 * math.pi * 6371.0088 / 360
PLACE = (31.0, 121.0)
ACROSS_THE_RIVER = (31.0, 121.02)
"""1.9 km east in a straight line; 10 km by the bridge."""
UP_THE_ROAD = (31.03, 121.0)
"""3.34 km north, a straight road."""
ISLAND = (31.0, 121.01)
"""A node with no road."""


def graph() -> RoadGraph:
    return RoadGraph.from_edges(
        [PLACE, ACROSS_THE_RIVER, UP_THE_ROAD, ISLAND], [(0, 2, None), (0, 1, 10.0)]
    )


def team(code: str, where: tuple[float, float]) -> Candidate:
    return Candidate(kind="team", code=code, name=code, lat=where[0], lon=where[1])


def test_the_road_beats_the_straight_line_across_a_river() -> None:
    settings = Settings(travel=RoadTravel(graph()))
    ranked = rank(
        *PLACE,
        [team("across", ACROSS_THE_RIVER), team("north", UP_THE_ROAD)],
        Needs(),
        now=NOW,
        settings=settings,
    )
    assert [r.code for r in ranked] == ["north", "across"]
    north, across = ranked
    assert north.travel is TravelBasis.ROAD
    assert north.distance_km == pytest.approx(0.03 * KM_PER_DEGREE, abs=1e-3)
    assert north.eta_min == pytest.approx(0.03 * KM_PER_DEGREE / 40 * 60, abs=0.05)
    assert across.distance_km == pytest.approx(10.0)
    assert across.eta_min == pytest.approx(15.0)  # 10 km at 40 km/h
    # In a straight line the one across the river would have come first.
    straight = rank(
        *PLACE, [team("across", ACROSS_THE_RIVER), team("north", UP_THE_ROAD)], Needs(), now=NOW
    )
    assert [r.code for r in straight] == ["across", "north"]


def test_what_the_roads_cannot_reach_falls_back_to_the_straight_line() -> None:
    settings = Settings(travel=RoadTravel(graph()))
    far = (31.5, 121.0)  # 55.6 km from any node: beyond the 2 km reach
    ranked = rank(
        *PLACE,
        [team("far", far), team("island", ISLAND), team("north", UP_THE_ROAD)],
        Needs(),
        now=NOW,
        settings=settings,
    )
    by_code = {r.code: r for r in ranked}
    assert by_code["north"].travel is TravelBasis.ROAD
    assert by_code["far"].travel is TravelBasis.STRAIGHT_LINE
    assert by_code["far"].eta_min == pytest.approx(0.5 * KM_PER_DEGREE * 1.3 / 40 * 60, abs=0.1)
    assert by_code["island"].travel is TravelBasis.STRAIGHT_LINE


def test_a_broken_graph_is_refused() -> None:
    with pytest.raises(Error, match="does not exist"):
        RoadGraph.from_edges([PLACE], [(0, 1, 1.0)])
    with pytest.raises(Error, match="length"):
        RoadGraph.from_edges([PLACE, UP_THE_ROAD], [(0, 1, -1.0)])
