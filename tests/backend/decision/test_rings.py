"""The ring rules: the table's figures by spill size and day/night, a fire widens the
isolation ring, unknown cargo still gets rings, and the night rule of the clock."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.decision.chemicals import ChemicalTable, load_table
from backend.decision.rings import Conditions, is_night, ring_of, rings
from realtime.protocol import RingKind


@pytest.fixture(scope="module")
def table() -> ChemicalTable:
    return load_table()


def _radii(table: ChemicalTable, names: list[str], conditions: Conditions) -> tuple[float, float]:
    chemicals = [table.find(name) for name in names]
    assert all(chemicals)
    inner, outer = rings([c for c in chemicals if c], table.unidentified, conditions)
    return inner.radius_m, outer.radius_m


def test_chlorine_large_night_and_small_day_are_the_tables(table: ChemicalTable) -> None:
    chlorine = table.find("1017")
    assert chlorine is not None
    inner, outer = rings([chlorine], table.unidentified, Conditions(large_spill=True, night=True))
    # ERG 2016: the large spill is Table 3's worst case (rail tank car, low wind).
    assert (inner.kind, inner.radius_m, inner.chemical) == (RingKind.ISOLATION, 1000.0, "1017")
    assert (outer.kind, outer.radius_m) == (RingKind.PROTECTIVE, 11000.0)
    assert _radii(table, ["1017"], Conditions()) == (60.0, 300.0)
    assert _radii(table, ["1017"], Conditions(large_spill=True)) == (1000.0, 9900.0)


def test_the_largest_distance_among_the_chemicals_sets_each_ring(table: ChemicalTable) -> None:
    ammonia, chlorine = table.find("1005"), table.find("1017")
    assert ammonia is not None
    assert chlorine is not None
    inner, outer = rings([ammonia, chlorine], table.unidentified, Conditions(night=True))
    assert (inner.radius_m, inner.chemical) == (60.0, "1017")
    assert (outer.radius_m, outer.chemical) == (1100.0, "1017")


def test_a_fire_raises_the_isolation_ring(table: ChemicalTable) -> None:
    assert _radii(table, ["汽油"], Conditions()) == (50.0, 50.0)
    # A tanker of gasoline on fire: 800 m all round, the outer ring at least as far.
    assert _radii(table, ["汽油"], Conditions(fire=True)) == (800.0, 800.0)
    assert _radii(table, ["液化石油气"], Conditions(fire=True, large_spill=True)) == (
        1600.0,
        1600.0,
    )
    # Chlorine (guide 124: 800 m) on fire: the isolation ring widens from 60 m; its small
    # night spill still reaches further downwind.
    assert _radii(table, ["1017"], Conditions(fire=True, night=True)) == (800.0, 1100.0)
    # Its large spill's isolation (1000 m) is already wider than the fire distance.
    assert _radii(table, ["1017"], Conditions(fire=True, large_spill=True, night=True)) == (
        1000.0,
        11000.0,
    )


def test_unknown_cargo_gets_the_unidentified_rings(table: ChemicalTable) -> None:
    inner, outer = rings([], table.unidentified, Conditions())
    assert (inner.radius_m, outer.radius_m, inner.chemical) == (100.0, 100.0, "")
    inner, outer = rings([], table.unidentified, Conditions(large_spill=True, fire=True))
    assert (inner.radius_m, outer.radius_m) == (800.0, 800.0)
    inner, outer = rings([], table.unidentified, Conditions(large_spill=True))
    assert outer.radius_m == 500.0


def test_a_custom_radius_replaces_the_protective_ring(table: ChemicalTable) -> None:
    chlorine = table.find("1017")
    assert chlorine is not None
    inner, outer = rings([chlorine], table.unidentified, Conditions(radius_m=2500.0))
    assert (outer.kind, outer.radius_m) == (RingKind.CUSTOM, 2500.0)
    # Never inside the isolation ring.
    _, outer = rings([chlorine], table.unidentified, Conditions(radius_m=10.0))
    assert outer.radius_m == inner.radius_m == 60.0


def test_ring_of_is_the_innermost() -> None:
    table = load_table()
    chlorine = table.find("1017")
    assert chlorine is not None
    inner, outer = rings([chlorine], table.unidentified, Conditions())
    assert ring_of(0.0, inner, outer) is RingKind.ISOLATION
    assert ring_of(60.0, inner, outer) is RingKind.ISOLATION
    assert ring_of(300.0, inner, outer) is RingKind.PROTECTIVE
    assert ring_of(300.1, inner, outer) is None


@pytest.mark.parametrize(
    ("utc_hour", "night"),
    # Beijing is UTC+8: 09:00 UTC is 17:00 there, 10:00 UTC 18:00, 22:00 UTC 06:00.
    [(9, False), (10, True), (21, True), (22, False), (23, False), (3, False), (15, True)],
)
def test_night_is_18_to_6_china_time(utc_hour: int, night: bool) -> None:
    assert is_night(dt.datetime(2026, 12, 5, utc_hour, 0, tzinfo=dt.UTC)) is night
