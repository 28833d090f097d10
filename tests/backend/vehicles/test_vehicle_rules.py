"""Vehicle rules engine: every rule with its dwell/duration, hysteresis, out-of-order and
duplicate fixes, time gaps, backfill; configuration loading; state export."""

from __future__ import annotations

import datetime as dt
import logging
import random
import zoneinfo
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.geo import Circle, Polygon, destination_point
from backend.vehicles import rules as vehicle_rules
from backend.vehicles.rules import (
    CHINA_STANDARD_TIME,
    ConfigError,
    GeofenceRule,
    NightDrivingRule,
    NoGoZoneRule,
    OfflineRule,
    OverspeedRule,
    ParkingRule,
    RouteCorridorRule,
    RuleCleared,
    RuleDecision,
    RuleHit,
    RuleKind,
    RulesConfig,
    SpeedSection,
    SpeedZone,
    TerminalAlarmRule,
    VehicleRulesEngine,
    device_alarm_for,
    load_timezone,
)
from devices.observations import Position
from realtime.states import AlarmLevel

T0 = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
HOME = (31.0, 121.0)
ROUTE = ((31.0, 121.0), (31.0, 121.2))  # about 19 km due east


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def fix(
    seconds: float,
    speed: float = 0.0,
    *,
    where: tuple[float, float] = HOME,
    device: str = "V1",
    alarms: Iterable[str] = (),
    backfill: bool = False,
    start: dt.datetime = T0,
) -> Position:
    return Position(
        device=device,
        at=start + dt.timedelta(seconds=seconds),
        lat=where[0],
        lon=where[1],
        speed_kmh=speed,
        alarms=frozenset(alarms),
        backfill=backfill,
    )


def engine_for(*rules: vehicle_rules.Rule, max_gap_s: float = 120.0) -> VehicleRulesEngine:
    return VehicleRulesEngine(RulesConfig(rules=rules, max_gap_s=max_gap_s))


def run(engine: VehicleRulesEngine, fixes: Iterable[Position]) -> list[RuleDecision]:
    decisions: list[RuleDecision] = []
    for position in fixes:
        decisions.extend(engine.observe(position))
    return decisions


def hits(decisions: Iterable[RuleDecision]) -> list[RuleHit]:
    return [decision for decision in decisions if isinstance(decision, RuleHit)]


def clears(decisions: Iterable[RuleDecision]) -> list[RuleCleared]:
    return [decision for decision in decisions if isinstance(decision, RuleCleared)]


def timeline(engine: VehicleRulesEngine, fixes: Iterable[Position]) -> list[tuple[str, float]]:
    """(hit|clear, seconds after T0) for each decision."""
    return [
        ("hit" if isinstance(d, RuleHit) else "clear", (d.at - T0).total_seconds())
        for d in run(engine, fixes)
    ]


def speeds(
    pairs: Sequence[tuple[float, float]],
    *,
    where: tuple[float, float] = HOME,
    device: str = "V1",
    backfill: bool = False,
) -> list[Position]:
    """Fixes from (seconds, speed) pairs."""
    return [
        fix(seconds, speed, where=where, device=device, backfill=backfill)
        for seconds, speed in pairs
    ]


# --------------------------------------------------------------------------- overspeed

SPEED = OverspeedRule(rule_id="speed", limit_kmh=80, min_duration_s=30, clear_margin_kmh=5)


def test_overspeed_needs_the_minimum_duration() -> None:
    engine = engine_for(SPEED)
    decisions = run(engine, speeds([(0, 90), (10, 95), (20, 92)]))
    assert decisions == []
    (hit,) = engine.observe(fix(30, 91))
    assert isinstance(hit, RuleHit)
    assert hit.kind is RuleKind.OVERSPEED
    assert hit.level is AlarmLevel.ORANGE
    assert (hit.started_at, hit.at) == (at(0), at(30))
    assert hit.alarm_key == "rule.speed"
    assert hit.key == "V1/rule.speed"
    assert hit.detail["limit_kmh"] == 80
    assert hit.detail["limit_source"] == "default"


def test_a_short_spike_never_raises() -> None:
    engine = engine_for(SPEED)
    pattern = [(0, 90), (10, 95), (20, 70), (30, 90), (50, 95), (60, 70)]
    assert run(engine, speeds(pattern)) == []


def test_overspeed_is_raised_once_per_episode() -> None:
    engine = engine_for(SPEED)
    events = timeline(engine, speeds([(s, 100) for s in range(0, 600, 10)]))
    assert events == [("hit", 30)]


def test_overspeed_hysteresis_needs_speed_below_limit_minus_margin() -> None:
    engine = engine_for(SPEED)
    fixes = speeds(
        [(s, 100) for s in range(0, 40, 10)]
        # 78 km/h is under the limit but not under limit - margin: still the same episode.
        + [(s, 78) for s in range(40, 300, 10)]
        # 74 km/h for 10 s clears it.
        + [(300, 74), (310, 74)]
    )
    assert timeline(engine, fixes) == [("hit", 30), ("clear", 310)]


def test_overspeed_clear_timer_restarts_when_speed_rises_again() -> None:
    engine = engine_for(SPEED)
    fixes = speeds([(0, 100), (30, 100), (35, 70), (40, 79), (45, 70), (50, 70), (55, 70)])
    # 35 starts the clear timer, 40 (79 km/h) stops it, 45 restarts it, 55 completes it.
    assert timeline(engine, fixes) == [("hit", 30), ("clear", 55)]


def test_overspeed_after_a_clear_is_a_new_episode() -> None:
    engine = engine_for(SPEED)
    fixes = speeds([(0, 100), (30, 100), (40, 60), (50, 60), (60, 100), (90, 100)])
    events = timeline(engine, fixes)
    assert events == [("hit", 30), ("clear", 50), ("hit", 90)]


def test_overspeed_limits_per_vehicle_section_and_zone() -> None:
    section = SpeedSection(name="bridge", route=ROUTE, max_distance_m=30, limit_kmh=60)
    school = SpeedZone(name="school", area=Circle(31.05, 121.05, 300), limit_kmh=30)
    rule = OverspeedRule(
        rule_id="speed",
        limit_kmh=100,
        vehicle_limits_kmh={"HAZ1": 70},
        sections=(section,),
        zones=(school,),
    )
    off_road = (31.02, 121.05)
    on_bridge = (31.0, 121.05)
    assert rule.limit_at("V1", *off_road) == (100, "default")
    assert rule.limit_at("HAZ1", *off_road) == (70, "vehicle")
    assert rule.limit_at("V1", *on_bridge) == (60, "section:bridge")
    assert rule.limit_at("V1", 31.05, 121.05) == (30, "zone:school")
    engine = engine_for(rule)
    decisions = run(engine, speeds([(0, 65), (30, 65)], where=on_bridge))
    assert [hit.detail["limit_source"] for hit in hits(decisions)] == ["section:bridge"]
    # Leaving the section: 65 km/h is under the default limit minus the margin: cleared.
    decisions = run(engine, speeds([(40, 65), (50, 65)], where=off_road))
    assert len(clears(decisions)) == 1


def test_overspeed_rule_without_any_limit_for_a_vehicle_never_fires() -> None:
    rule = OverspeedRule(rule_id="haz", vehicle_limits_kmh={"HAZ1": 60}, min_duration_s=0)
    engine = engine_for(rule)
    assert run(engine, speeds([(0, 150), (10, 150)], device="V1")) == []
    assert len(hits(run(engine, speeds([(0, 61)], device="HAZ1")))) == 1


def test_rules_apply_only_to_their_vehicles() -> None:
    rule = OverspeedRule(rule_id="speed", limit_kmh=80, min_duration_s=0, vehicles=frozenset({"A"}))
    engine = engine_for(rule)
    assert run(engine, speeds([(0, 120)], device="B")) == []
    assert len(run(engine, speeds([(0, 120)], device="A"))) == 1


def test_out_of_order_fix_neither_resets_nor_counts() -> None:
    engine = engine_for(SPEED)
    # A stale slow fix (t=5) arrives after t=10: ignored, so the episode still counts from 0.
    fixes = [fix(0, 100), fix(10, 100), fix(5, 0), fix(30, 100)]
    assert timeline(engine, fixes) == [("hit", 30)]
    # A stale fast fix after a clear does not raise a new episode.
    engine = engine_for(SPEED)
    fixes = [fix(0, 0), fix(100, 0), *speeds([(s, 120) for s in range(0, 100, 5)])]
    assert run(engine, fixes) == []


def test_duplicate_fixes_do_not_double_or_prolong() -> None:
    engine = engine_for(SPEED)
    fixes = [fix(0, 100), fix(0, 100), fix(29, 100), fix(29, 100), fix(30, 100), fix(30, 100)]
    assert timeline(engine, fixes) == [("hit", 30)]


def test_time_gap_restarts_the_duration_timer() -> None:
    engine = engine_for(SPEED, max_gap_s=120)
    fixes = speeds([(0, 100), (20, 100), (200, 100), (220, 100), (230, 100)])
    # 20 -> 200 is a 180 s gap: the episode restarts at 200 and needs 30 s from there.
    assert timeline(engine, fixes) == [("hit", 230)]


def test_time_gap_keeps_an_open_episode_open() -> None:
    engine = engine_for(SPEED, max_gap_s=120)
    fixes = speeds([(0, 100), (30, 100), (1000, 100), (1100, 100)])
    assert timeline(engine, fixes) == [("hit", 30)]


def test_rule_gap_override() -> None:
    rule = OverspeedRule(rule_id="speed", limit_kmh=80, min_duration_s=30, max_gap_s=10)
    engine = engine_for(rule, max_gap_s=120)
    assert run(engine, speeds([(0, 100), (15, 100), (30, 100)])) == []


def test_backfill_is_not_evaluated_and_does_not_advance_the_clock() -> None:
    engine = engine_for(SPEED)
    backfill = speeds([(s, 150) for s in range(0, 300, 10)], backfill=True)
    assert run(engine, backfill) == []
    # Live fixes older than the backfill ones are still accepted and evaluated.
    assert timeline(engine, speeds([(100, 100), (130, 100)])) == [("hit", 130)]


def test_naive_times_are_refused() -> None:
    engine = engine_for(SPEED)
    naive = Position(device="V1", at=dt.datetime(2026, 1, 1), lat=31, lon=121)  # noqa: DTZ001 - refused on purpose
    with pytest.raises(ValueError, match="aware"):
        engine.observe(naive)


def test_overspeed_clear_reports_the_episode_peak() -> None:
    engine = engine_for(SPEED)
    fixes = speeds([(0, 130), (10, 90), (30, 95), (40, 60), (50, 60)])
    (cleared,) = clears(run(engine, fixes))
    assert cleared.detail["peak"] == 130
    assert cleared.detail["duration_s"] == 50


def test_fix_stamped_far_ahead_of_its_receive_time_is_not_evaluated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = engine_for(SPEED)
    with caplog.at_level(logging.WARNING, logger="backend.vehicles.rules.engine"):
        # A terminal whose clock jumped a year ahead, twice: logged once, not evaluated.
        for seconds in (0, 10):
            future = fix(seconds + 365 * 86400, 150)
            assert engine.observe(future, received_at=at(seconds)) == []
    assert caplog.text.count("not evaluated until the clock is right") == 1
    # Later fixes with a sane clock are not shadowed by the bogus ones.
    decisions = [engine.observe(p, received_at=p.at) for p in speeds([(20, 100), (50, 100)])]
    assert [len(d) for d in decisions] == [0, 1]


def test_hit_as_a_device_alarm() -> None:
    engine = engine_for(SPEED, TERMINAL)
    decisions = run(engine, [fix(0, 100, alarms={"emergency"}), fix(30, 100)])
    terminal, speed = hits(decisions)
    assert (terminal.alarm_type, speed.alarm_type) == ("vehicle_emergency", "vehicle_overspeed")
    message = device_alarm_for(speed, label="苏A·D8821")
    assert message.key == "rule.speed"
    assert message.alarm_type == "vehicle_overspeed"
    assert message.level is AlarmLevel.ORANGE
    assert message.title == "超速 苏A·D8821"
    assert (message.lat, message.lon, message.at) == (*HOME, at(30))
    assert message.description.startswith("since 2026-11-29T02:00:00+00:00; speed_kmh=100")
    assert device_alarm_for(terminal).key == "emergency"


# --------------------------------------------------------------------------- geofences

DEPOT = Circle(HOME[0], HOME[1], 500)
INSIDE = HOME
OUTSIDE = destination_point(*HOME, 90, 2000)


def test_geofence_enter_and_exit_after_dwell() -> None:
    rule = GeofenceRule(rule_id="depot", area=DEPOT, enter_dwell_s=20, exit_dwell_s=30)
    engine = engine_for(rule)
    fixes = [
        fix(0, 30, where=OUTSIDE),
        fix(10, 30, where=INSIDE),
        fix(20, 30, where=INSIDE),
        fix(30, 30, where=INSIDE),  # 20 s inside: enter
        fix(40, 30, where=OUTSIDE),
        fix(60, 30, where=OUTSIDE),
        fix(70, 30, where=OUTSIDE),  # 30 s outside: exit
    ]
    decisions = run(engine, fixes)
    assert [(d.kind, d.alarm_key, d.started_at, d.at) for d in hits(decisions)] == [
        (RuleKind.GEOFENCE_ENTER, "rule.depot:enter", at(10), at(30)),
        (RuleKind.GEOFENCE_EXIT, "rule.depot:exit", at(40), at(70)),
    ]
    assert clears(decisions) == []


def test_geofence_first_known_side_is_silent() -> None:
    engine = engine_for(GeofenceRule(rule_id="depot", area=DEPOT))
    assert run(engine, [fix(0, where=INSIDE), fix(10, where=INSIDE)]) == []


def test_geofence_flicker_shorter_than_dwell_is_ignored() -> None:
    rule = GeofenceRule(rule_id="depot", area=DEPOT, enter_dwell_s=20, exit_dwell_s=20)
    engine = engine_for(rule)
    fixes = [fix(0, where=OUTSIDE)]
    for second in range(10, 300, 20):
        fixes += [fix(second, where=INSIDE), fix(second + 10, where=OUTSIDE)]
    assert run(engine, fixes) == []


def test_geofence_reports_only_the_chosen_direction() -> None:
    rule = GeofenceRule(rule_id="plant", area=DEPOT, report=frozenset({"exit"}))
    engine = engine_for(rule)
    fixes = [fix(0, where=OUTSIDE), fix(10, where=INSIDE), fix(20, where=OUTSIDE)]
    assert [d.kind for d in run(engine, fixes)] == [RuleKind.GEOFENCE_EXIT]


def test_geofence_dwell_restarts_after_a_gap() -> None:
    rule = GeofenceRule(rule_id="depot", area=DEPOT, enter_dwell_s=60)
    engine = engine_for(rule, max_gap_s=120)
    fixes = [
        fix(0, where=OUTSIDE),
        fix(10, where=INSIDE),
        fix(500, where=INSIDE),  # gap: not 490 s of evidence
        fix(540, where=INSIDE),
        fix(560, where=INSIDE),
    ]
    assert [(d.started_at, d.at) for d in run(engine, fixes)] == [(at(500), at(560))]


def test_geofence_polygon() -> None:
    square = Polygon([(31.0, 121.0), (31.0, 121.1), (31.1, 121.1), (31.1, 121.0)])
    engine = engine_for(GeofenceRule(rule_id="zone", area=square))
    fixes = [fix(0, where=(30.9, 121.05)), fix(10, where=(31.05, 121.05))]
    assert [d.kind for d in run(engine, fixes)] == [RuleKind.GEOFENCE_ENTER]


def test_no_go_zone_alarms_on_entry_and_clears_after_leaving() -> None:
    rule = NoGoZoneRule(rule_id="reservoir", area=DEPOT, level=AlarmLevel.RED, exit_dwell_s=30)
    engine = engine_for(rule)
    fixes = [
        fix(0, 40, where=OUTSIDE),
        fix(10, 40, where=INSIDE),
        fix(20, 40, where=INSIDE),
        fix(30, 40, where=OUTSIDE),
        fix(50, 40, where=INSIDE),  # back inside before 30 s out: same episode
        fix(60, 40, where=OUTSIDE),
        fix(90, 40, where=OUTSIDE),
    ]
    decisions = run(engine, fixes)
    assert [(type(d).__name__, d.at) for d in decisions] == [
        ("RuleHit", at(10)),
        ("RuleCleared", at(90)),
    ]
    assert hits(decisions)[0].level is AlarmLevel.RED
    assert clears(decisions)[0].started_at == at(10)


def test_no_go_zone_found_inside_at_the_first_fix_alarms() -> None:
    engine = engine_for(NoGoZoneRule(rule_id="reservoir", area=DEPOT))
    assert len(hits(run(engine, [fix(0, where=INSIDE)]))) == 1


def test_no_go_zone_stale_fix_inside_is_ignored() -> None:
    engine = engine_for(NoGoZoneRule(rule_id="reservoir", area=DEPOT))
    fixes = [fix(100, where=OUTSIDE), fix(50, where=INSIDE), fix(100, where=INSIDE)]
    assert run(engine, fixes) == []


# --------------------------------------------------------------------------- route corridor

CORRIDOR = RouteCorridorRule(
    rule_id="route",
    route=ROUTE,
    max_distance_m=200,
    min_duration_s=60,
    clear_margin_m=20,
    clear_duration_s=30,
)


def off_route(metres: float) -> tuple[float, float]:
    return destination_point(31.0, 121.1, 0, metres)


def test_route_deviation_sustained_raises_and_return_clears() -> None:
    engine = engine_for(CORRIDOR)
    fixes = [
        fix(0, 50, where=off_route(10)),
        *[fix(s, 50, where=off_route(600)) for s in range(10, 80, 10)],  # 60 s off: hit at 70
        fix(80, 50, where=off_route(190)),  # within 200 but not within 200 - 20: no clear
        fix(120, 50, where=off_route(190)),
        fix(130, 50, where=off_route(50)),
        fix(160, 50, where=off_route(50)),  # 30 s back on route: clear
    ]
    decisions = run(engine, fixes)
    assert [(type(d).__name__, d.at) for d in decisions] == [
        ("RuleHit", at(70)),
        ("RuleCleared", at(160)),
    ]
    hit = hits(decisions)[0]
    assert hit.kind is RuleKind.ROUTE_DEVIATION
    assert hit.detail["distance_m"] == pytest.approx(600, rel=0.005)
    assert clears(decisions)[0].detail["peak"] == pytest.approx(600, rel=0.005)


def test_brief_route_deviation_is_ignored() -> None:
    engine = engine_for(CORRIDOR)
    fixes = [fix(s, 50, where=off_route(600 if s % 100 < 50 else 0)) for s in range(0, 600, 10)]
    assert run(engine, fixes) == []


# --------------------------------------------------------------------------- parking

PARKING = ParkingRule(rule_id="parking", max_stopped_s=1800, radius_m=50, max_gap_s=900)


def test_parking_overtime_raises_once_and_clears_on_departure() -> None:
    engine = engine_for(PARKING)
    drift = destination_point(*HOME, 45, 20)
    fixes = [
        fix(0, 40, where=OUTSIDE),
        *(fix(s, 0, where=drift if s % 60 else HOME) for s in range(30, 2400, 30)),
    ]
    decisions = run(engine, fixes)
    assert [(d.started_at, d.at) for d in hits(decisions)] == [(at(30), at(1830))]
    assert hits(decisions)[0].kind is RuleKind.PARKING_OVERTIME
    decisions = run(engine, [fix(2400, 30, where=HOME)])
    assert [type(d) for d in decisions] == [RuleCleared]
    assert decisions[0].detail["stopped_s"] == 2370


def test_parking_in_an_allowed_area_is_fine() -> None:
    rule = ParkingRule(rule_id="parking", max_stopped_s=1800, allowed_areas=(DEPOT,))
    engine = engine_for(rule)
    assert run(engine, [fix(s, 0, where=INSIDE) for s in range(0, 4000, 60)]) == []
    assert len(hits(run(engine, [fix(s, 0, where=OUTSIDE) for s in range(4000, 8000, 60)]))) == 1


def test_creeping_beyond_the_radius_restarts_the_stop() -> None:
    engine = engine_for(PARKING)
    fixes = [
        fix(s, 2, where=destination_point(*HOME, 90, s / 10)) for s in range(0, 4000, 60)
    ]  # 2 km/h, 6 m a minute: a new stop every ~8 minutes
    assert run(engine, fixes) == []


def test_parking_timer_restarts_after_a_gap_longer_than_the_rule_allows() -> None:
    engine = engine_for(PARKING)  # max_gap_s=900 for this rule
    fixes = [fix(s, 0) for s in (0, 600, 2000, 2800, 3600, 3800)]
    # 600 -> 2000 is a 1400 s gap: the stop is counted from 2000 on.
    assert [(d.started_at, d.at) for d in run(engine, fixes)] == [(at(2000), at(3800))]


# --------------------------------------------------------------------------- night driving

NIGHT = NightDrivingRule(
    rule_id="night",
    window_start=dt.time(22, 0),
    window_end=dt.time(6, 0),
    speed_above_kmh=10,
    min_duration_s=30,
    level=AlarmLevel.ORANGE,
)
EVENING = dt.datetime(2026, 11, 29, 14, 0, tzinfo=dt.UTC)  # 22:00 in Shanghai


def test_night_of_uses_local_time() -> None:
    assert NIGHT.night_of(EVENING - dt.timedelta(seconds=1)) is None  # 21:59:59
    assert NIGHT.night_of(EVENING) == "2026-11-29"
    assert NIGHT.night_of(EVENING + dt.timedelta(hours=5)) == "2026-11-29"  # 03:00 next day
    assert NIGHT.night_of(EVENING + dt.timedelta(hours=8)) is None  # 06:00
    day = NightDrivingRule(rule_id="noon", window_start=dt.time(12, 0), window_end=dt.time(14, 0))
    assert day.night_of(dt.datetime(2026, 11, 29, 4, 30, tzinfo=dt.UTC)) == "2026-11-29"
    assert day.night_of(dt.datetime(2026, 11, 29, 6, 30, tzinfo=dt.UTC)) is None


def test_night_driving_once_per_night() -> None:
    engine = engine_for(NIGHT)
    hour = 3600
    fixes = [
        fix(-120, 60, start=EVENING),  # 21:58: before the window
        fix(-60, 60, start=EVENING),
        *(fix(s, 60, start=EVENING) for s in range(0, 120, 10)),  # hit at 22:00:30
        fix(600, 0, start=EVENING),
        *(fix(s, 60, start=EVENING) for s in range(3 * hour, 3 * hour + 120, 10)),  # 01:00
    ]
    decisions = run(engine, fixes)
    assert [(d.started_at, d.at, d.detail["night"]) for d in hits(decisions)] == [
        (EVENING, EVENING + dt.timedelta(seconds=30), "2026-11-29")
    ]
    # The first fix after 06:00 clears it; the next night is a new episode.
    morning = run(engine, [fix(8 * hour + 60, 60, start=EVENING)])
    assert [type(d) for d in morning] == [RuleCleared]
    next_night = run(engine, [fix(24 * hour + s, 60, start=EVENING) for s in range(0, 40, 10)])
    assert [d.detail["night"] for d in hits(next_night)] == ["2026-11-30"]


def test_night_driving_slow_or_brief_movement_is_fine() -> None:
    engine = engine_for(NIGHT)
    fixes = [fix(s, 8, start=EVENING) for s in range(0, 300, 10)]
    fixes += [fix(300, 50, start=EVENING), fix(320, 50, start=EVENING), fix(330, 5, start=EVENING)]
    assert run(engine, fixes) == []


def test_night_driving_pending_is_dropped_when_the_window_ends() -> None:
    engine = engine_for(NIGHT)
    dawn = EVENING + dt.timedelta(hours=8)  # 06:00 Shanghai
    fixes = [fix(s, 60, start=dawn) for s in range(-20, 40, 10)]
    assert run(engine, fixes) == []


def test_check_timeouts_ends_the_night_episode() -> None:
    engine = engine_for(NIGHT)
    run(engine, [fix(s, 60, start=EVENING) for s in range(0, 40, 10)])
    assert engine.check_timeouts(EVENING + dt.timedelta(hours=7)) == []
    (cleared,) = engine.check_timeouts(EVENING + dt.timedelta(hours=8))
    assert isinstance(cleared, RuleCleared)
    assert cleared.kind is RuleKind.NIGHT_DRIVING
    assert engine.check_timeouts(EVENING + dt.timedelta(hours=9)) == []


# --------------------------------------------------------------------------- offline

OFFLINE = OfflineRule(rule_id="offline", timeout_s=300)


def test_offline_once_then_back_online() -> None:
    engine = engine_for(OFFLINE)
    run(engine, [fix(0), fix(60)])
    assert engine.check_timeouts(at(300)) == []
    (hit,) = engine.check_timeouts(at(360))
    assert isinstance(hit, RuleHit)
    assert (hit.kind, hit.started_at, hit.at) == (RuleKind.OFFLINE, at(60), at(360))
    assert (hit.lat, hit.lon) == HOME
    assert engine.check_timeouts(at(1000)) == []
    (cleared,) = engine.observe(fix(1200))
    assert isinstance(cleared, RuleCleared)
    assert cleared.key == hit.key
    assert engine.check_timeouts(at(1300)) == []


def test_offline_uses_the_receive_time_and_counts_backfill_as_contact() -> None:
    engine = engine_for(OFFLINE)
    engine.observe(fix(0), received_at=at(5))
    assert engine.check_timeouts(at(304)) == []
    assert len(engine.check_timeouts(at(305))) == 1
    # A blind-area backfill batch after reconnecting: old fixes, but the terminal is back.
    (cleared,) = engine.observe(fix(10, backfill=True), received_at=at(900))
    assert isinstance(cleared, RuleCleared)


def test_a_stale_fix_without_a_receive_time_does_not_end_offline() -> None:
    engine = engine_for(OFFLINE)
    run(engine, [fix(0), fix(100)])
    assert len(engine.check_timeouts(at(500))) == 1
    assert engine.observe(fix(50)) == []


def test_timeouts_checked_in_slices_find_what_one_pass_finds() -> None:
    whole, sliced = engine_for(OFFLINE), engine_for(OFFLINE)
    fleet = [f"V{n}" for n in range(7)]
    for engine in (whole, sliced):
        # Every other vehicle falls silent early.
        run(engine, [fix(0 if n % 2 else 200, device=vehicle) for n, vehicle in enumerate(fleet)])
    expected = {hit.vehicle for hit in hits(whole.check_timeouts(at(400)))}
    assert expected == {"V1", "V3", "V5"}
    vehicles = sliced.vehicles()
    assert sorted(vehicles) == sorted(fleet)
    found = [
        hit.vehicle
        for start in range(0, len(vehicles), 3)
        for hit in hits(sliced.check_timeouts(at(400), vehicles[start : start + 3]))
    ]
    assert sorted(found) == sorted(expected)  # each once
    assert sliced.check_timeouts(at(400), ["V1", "unknown"]) == []  # already offline; skipped


# --------------------------------------------------------------------------- terminal alarms

TERMINAL = TerminalAlarmRule(
    rule_id="terminal",
    levels={"emergency": AlarmLevel.RED, "rollover_warning": AlarmLevel.RED},
    titles={"emergency": "紧急报警"},
)


def test_terminal_alarm_bits_on_their_rising_edge() -> None:
    engine = engine_for(TERMINAL)
    decisions = run(
        engine,
        [
            fix(0),
            fix(10, alarms={"rollover_warning"}),
            fix(20, alarms={"rollover_warning"}),
            fix(30, alarms={"rollover_warning", "emergency"}),
            fix(40, alarms={"rollover_warning", "emergency"}),
        ],
    )
    assert [(d.alarm_key, d.level, d.title, d.at) for d in hits(decisions)] == [
        # No title configured: the bit's Chinese label, not its English name.
        ("rollover_warning", AlarmLevel.RED, "侧翻预警", at(10)),
        ("emergency", AlarmLevel.RED, "紧急报警", at(30)),
    ]
    # Falling edges: a latched bit (emergency) clears nothing; a maintained one clears.
    decisions = run(engine, [fix(50)])
    assert [(type(d), d.alarm_key) for d in decisions] == [(RuleCleared, "rollover_warning")]
    # The emergency button pressed again: a new rising edge.
    decisions = run(engine, [fix(60, alarms={"emergency"})])
    assert [d.alarm_key for d in hits(decisions)] == ["emergency"]


def test_terminal_alarm_ignores_reserved_bits() -> None:
    engine = engine_for(TerminalAlarmRule(rule_id="terminal"))
    decisions = run(engine, [fix(0), fix(10, alarms={"reserved_bit_30", "overspeed"})])
    assert [(d.alarm_key, d.title) for d in hits(decisions)] == [("overspeed", "超速报警")]


def test_terminal_alarm_filter_and_default_level() -> None:
    rule = TerminalAlarmRule(rule_id="terminal", names=frozenset({"overspeed", "fatigue_driving"}))
    engine = engine_for(rule)
    decisions = run(engine, [fix(0, alarms={"overspeed", "lcd_fault"})])
    assert [(d.alarm_key, d.level) for d in hits(decisions)] == [("overspeed", AlarmLevel.BLUE)]


def test_terminal_alarms_in_backfill_or_stale_fixes_are_ignored() -> None:
    engine = engine_for(TERMINAL)
    assert run(engine, [fix(100), fix(0, alarms={"emergency"}, backfill=True)]) == []
    assert run(engine, [fix(50, alarms={"emergency"})]) == []
    assert run(engine, [fix(100, alarms={"emergency"})]) == []  # a duplicate time


# --------------------------------------------------------------------------- time zones


def test_timezone_falls_back_to_utc_plus_8(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing(name: str) -> zoneinfo.ZoneInfo:
        raise zoneinfo.ZoneInfoNotFoundError(name)

    load_timezone.cache_clear()
    monkeypatch.setattr(zoneinfo, "ZoneInfo", missing)
    try:
        with caplog.at_level(logging.WARNING, logger="backend.vehicles.rules.config"):
            assert load_timezone("Asia/Shanghai") is CHINA_STANDARD_TIME
        assert "UTC+08:00" in caplog.text
        with pytest.raises(ConfigError):
            load_timezone("Europe/Berlin")
    finally:
        load_timezone.cache_clear()
    # The night window still works on the fixed offset.
    monkeypatch.undo()
    assert NIGHT.night_of(EVENING) == "2026-11-29"


# --------------------------------------------------------------------------- state


def test_state_survives_an_engine_restart() -> None:
    engine = engine_for(SPEED, OFFLINE)
    assert len(run(engine, speeds([(0, 100), (30, 100)]))) == 1
    restarted = VehicleRulesEngine(engine.config, engine.states())
    # The open episode is neither repeated nor lost: it clears normally.
    assert timeline(restarted, speeds([(40, 100), (50, 60), (60, 60)])) == [("clear", 60)]
    # Stale fixes are still recognised after the restart.
    assert restarted.observe(fix(10, 200)) == []
    state = restarted.state_of("V1")
    assert state is not None
    assert state.last_fix_at == at(60)
    assert restarted.state_of("nobody") is None


def test_replace_config_keeps_state_of_remaining_rules() -> None:
    engine = engine_for(SPEED, CORRIDOR)
    run(engine, speeds([(0, 100), (30, 100)]))
    engine.replace_config(RulesConfig(rules=(SPEED,)))
    state = engine.state_of("V1")
    assert state is not None
    assert set(state.rules) == {"speed"}
    assert run(engine, speeds([(40, 100)])) == []
    engine.forget("V1")
    assert engine.state_of("V1") is None


# --------------------------------------------------------------------------- properties

ALL_FIX_RULES = (
    SPEED,
    NoGoZoneRule(rule_id="reservoir", area=DEPOT, enter_dwell_s=20),
    GeofenceRule(rule_id="depot", area=Circle(*OUTSIDE, 300), enter_dwell_s=10, exit_dwell_s=10),
    CORRIDOR,
    PARKING,
    TERMINAL,
)


@st.composite
def tracks(draw: st.DrawFn) -> list[Position]:
    """A time-ordered track with random speeds, places, alarm bits and gaps."""
    places = [HOME, OUTSIDE, off_route(600), off_route(30)]
    count = draw(st.integers(1, 40))
    seconds = 0.0
    fixes: list[Position] = []
    for _ in range(count):
        seconds += draw(st.sampled_from([1, 5, 10, 30, 200]))
        fixes.append(
            fix(
                seconds,
                draw(st.sampled_from([0, 3, 60, 78, 90, 130])),
                where=draw(st.sampled_from(places)),
                alarms=draw(st.sets(st.sampled_from(["emergency", "rollover_warning"]))),
            )
        )
    return fixes


@settings(max_examples=100, deadline=None)
@given(tracks(), st.data())
def test_redelivered_fixes_change_nothing(track: list[Position], data: st.DataObject) -> None:
    """Each fix may be delivered again any time later (duplicates, late retries): the
    decisions are exactly those of the clean, sorted track."""
    expected = run(engine_for(*ALL_FIX_RULES), track)
    deliveries: list[Position] = []
    for index, position in enumerate(track):
        deliveries.append(position)
        stale = data.draw(st.lists(st.integers(0, index), max_size=3))
        deliveries.extend(track[i] for i in stale)
    assert run(engine_for(*ALL_FIX_RULES), deliveries) == expected


@st.composite
def episodes(draw: st.DrawFn) -> list[Position]:
    """Alternating calm and violating blocks, each long enough to raise or clear: densely
    sampled, so the sorted track raises once per violating block."""
    fixes: list[Position] = []
    seconds = 0
    violating = draw(st.booleans())
    for _ in range(draw(st.integers(1, 5))):
        length = draw(st.integers(8, 15)) * 10
        for offset in range(0, length, 10):
            where = INSIDE if violating else OUTSIDE
            fixes.append(fix(seconds + offset, 120 if violating else 40, where=where))
        seconds += length
        violating = not violating
    return fixes


@settings(max_examples=150, deadline=None)
@given(episodes(), st.randoms(use_true_random=False))
def test_shuffled_order_never_creates_more_hits(
    track: list[Position], shuffle: random.Random
) -> None:
    rules = (SPEED, NoGoZoneRule(rule_id="reservoir", area=DEPOT, enter_dwell_s=20))
    sorted_hits = hits(run(engine_for(*rules), track))
    shuffled = list(track)
    shuffle.shuffle(shuffled)
    shuffled_hits = hits(run(engine_for(*rules), shuffled))
    for rule in rules:
        assert sum(h.rule_id == rule.rule_id for h in shuffled_hits) <= sum(
            h.rule_id == rule.rule_id for h in sorted_hits
        )
    # Every hit in the shuffled replay is one the sorted replay also had (same episode start
    # or later), never an invented one at a calm time.
    calm = {p.at for p in track if p.speed_kmh < 100}
    assert all(h.at not in calm for h in shuffled_hits)
