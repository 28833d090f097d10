"""The sensor rules engine: thresholds, hysteresis, dwell, rates, staleness, flapping."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from backend.sensors.rules import (
    DEFAULT_RULES,
    Clear,
    Decision,
    DeEscalate,
    Direction,
    Error,
    Escalate,
    Ignored,
    IgnoreReason,
    Offline,
    Online,
    Placement,
    Raise,
    RateLimit,
    Recur,
    Rejected,
    RejectReason,
    RuleKey,
    RuleSet,
    SensorConfig,
    SensorKind,
    SensorRules,
    SensorState,
    Threshold,
    default_rules,
)
from devices.observations import Reading
from realtime.states import AlarmLevel

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
BLUE, YELLOW, ORANGE, RED = AlarmLevel.BLUE, AlarmLevel.YELLOW, AlarmLevel.ORANGE, AlarmLevel.RED
HIGH, LOW = Direction.HIGH, Direction.LOW


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


class Feed:
    """One sensor's rules, fed readings at given seconds after T0."""

    def __init__(
        self,
        rules: RuleSet,
        *,
        kind: SensorKind = SensorKind.CH4,
        unit: str = "%",
        poll_cycle_seconds: float = 1.0,
    ) -> None:
        self.config = SensorConfig(
            "s1", kind, unit, rules, poll_cycle_seconds=poll_cycle_seconds, place="1203 工作面"
        )
        self.engine = SensorRules([self.config], now=T0)

    def read(self, seconds: float, value: float, unit: str | None = None) -> list[Decision]:
        reading = Reading(
            "dev", "s1", at(seconds), value, self.config.unit if unit is None else unit
        )
        return self.engine.observe(reading)

    def series(self, *values: float, start: float = 1.0, step: float = 1.0) -> list[list[Decision]]:
        return [self.read(start + i * step, v) for i, v in enumerate(values)]

    def kinds(self, *values: float, start: float = 1.0, step: float = 1.0) -> list[str]:
        """What happened on each reading: '' or the decision names joined by '+'."""
        return [
            "+".join(f"{type(d).__name__}:{getattr(d, 'level', '')}" for d in decisions)
            for decisions in self.series(*values, start=start, step=step)
        ]


FOUR_HIGH = RuleSet(
    thresholds=(
        Threshold(BLUE, HIGH, 10.0, 9.0),
        Threshold(YELLOW, HIGH, 20.0, 18.0),
        Threshold(ORANGE, HIGH, 30.0, 27.0),
        Threshold(RED, HIGH, 40.0, 36.0),
    )
)
FOUR_LOW = RuleSet(
    thresholds=(
        Threshold(BLUE, LOW, 20.0, 20.3),
        Threshold(YELLOW, LOW, 19.5, 19.8),
        Threshold(ORANGE, LOW, 18.0, 18.5),
        Threshold(RED, LOW, 16.0, 16.5),
    )
)


# --------------------------------------------------------------------------- levels


def test_four_high_levels_up_and_down_with_hysteresis() -> None:
    feed = Feed(FOUR_HIGH)
    assert feed.kinds(5, 10, 19.9, 20, 30, 40, 37, 36, 35.9, 27.5, 26.9, 18, 17.9, 9, 8.9) == [
        "",
        "Raise:blue",
        "",
        "Escalate:yellow",
        "Escalate:orange",
        "Escalate:red",
        "",  # 37 is below red's alarm value but above its restore (36): still red
        "",
        "DeEscalate:orange",
        "",
        "DeEscalate:yellow",
        "",
        "DeEscalate:blue",
        "",
        "Clear:",
    ]


def test_four_low_levels_up_and_down_with_hysteresis() -> None:
    feed = Feed(FOUR_LOW, kind=SensorKind.O2)
    assert feed.kinds(20.9, 20.0, 19.5, 18.0, 16.0, 16.4, 16.6, 18.6, 19.9, 20.2, 20.4) == [
        "",
        "Raise:blue",
        "Escalate:yellow",
        "Escalate:orange",
        "Escalate:red",
        "",
        "DeEscalate:orange",
        "DeEscalate:yellow",
        "DeEscalate:blue",
        "",
        "Clear:",
    ]


def test_a_jump_goes_straight_to_the_highest_level_and_back_to_normal() -> None:
    feed = Feed(FOUR_HIGH)
    raised, cleared = feed.series(55, 1)
    assert raised == [Raise("s1", RuleKey.THRESHOLD_HIGH, RED, 55, 40.0, at(1))]
    assert cleared == [Clear("s1", RuleKey.THRESHOLD_HIGH, RED, 1, 36.0, at(2))]


def test_decisions_carry_what_the_alarm_needs() -> None:
    feed = Feed(default_rules(SensorKind.CH4, Placement.MINING_FACE))
    [raised] = feed.read(1, 1.02)
    assert raised == Raise("s1", RuleKey.THRESHOLD_HIGH, ORANGE, 1.02, 1.0, at(1), "报警")
    [escalated] = feed.read(2, 1.55)
    assert escalated == Escalate(
        "s1", RuleKey.THRESHOLD_HIGH, RED, ORANGE, 1.55, 1.5, at(2), "断电"
    )
    feed = Feed(FOUR_HIGH)
    feed.read(1, 45)
    [lowered] = feed.read(2, 30)
    assert lowered == DeEscalate("s1", RuleKey.THRESHOLD_HIGH, ORANGE, RED, 30, 36.0, at(2))


def test_high_and_low_limits_are_separate_alarms() -> None:
    rules = RuleSet(
        thresholds=(
            Threshold(ORANGE, HIGH, 40.0, 38.0),
            Threshold(YELLOW, LOW, 5.0, 6.0),
        )
    )
    feed = Feed(rules, kind=SensorKind.TEMPERATURE, unit="°C")
    high, low, normal = feed.series(41, 4, 20)
    assert [(type(d), getattr(d, "rule", None)) for d in high] == [(Raise, RuleKey.THRESHOLD_HIGH)]
    assert [(type(d), getattr(d, "rule", None)) for d in low] == [
        (Clear, RuleKey.THRESHOLD_HIGH),
        (Raise, RuleKey.THRESHOLD_LOW),
    ]
    assert [(type(d), getattr(d, "rule", None)) for d in normal] == [(Clear, RuleKey.THRESHOLD_LOW)]


# --------------------------------------------------------------------------- dwell


def test_dwell_holds_back_a_raise_until_the_condition_has_lasted() -> None:
    rules = RuleSet(thresholds=(Threshold(ORANGE, HIGH, 1.0, 0.9, dwell_seconds=10),))
    feed = Feed(rules, poll_cycle_seconds=5)
    assert feed.kinds(1.2, 1.3, 0.95, 1.1, 1.2, 1.4, 1.0, start=0, step=5) == [
        "",  # t=0 pending
        "",  # t=5
        "",  # t=10: 0.95 is below 1.0: the dwell starts again
        "",  # t=15 pending
        "",  # t=20
        "Raise:orange",  # t=25: held 10 s
        "",  # t=30: 1.0 still holds
    ]
    assert feed.engine.state("s1") is not None


def test_dwell_per_level_escalates_later() -> None:
    rules = RuleSet(
        thresholds=(
            Threshold(ORANGE, HIGH, 1.0, 1.0),
            Threshold(RED, HIGH, 1.5, 1.0, dwell_seconds=3),
        )
    )
    feed = Feed(rules)
    assert feed.kinds(2.0, 2.0, 2.0, 2.0, 1.2, 0.5) == [
        "Raise:orange",
        "",
        "",
        "Escalate:red",
        "",
        "Clear:",
    ]


def test_a_gap_in_the_data_restarts_the_dwell() -> None:
    rules = RuleSet(thresholds=(Threshold(ORANGE, HIGH, 1.0, 1.0, dwell_seconds=10),))
    feed = Feed(rules, poll_cycle_seconds=5)  # stale after 15 s
    assert feed.read(0, 1.5) == []
    assert feed.read(60, 1.5) == [], "nothing is known about the 60 s between"
    assert [type(d) for d in feed.read(70, 1.5)] == [Raise]


# --------------------------------------------------------------------------- rate of change


def test_rate_of_rise_raises_and_clears_with_hysteresis() -> None:
    rules = RuleSet(rates=(RateLimit(HIGH, per_minute=0.3, level=YELLOW, restore_per_minute=0.1),))
    feed = Feed(rules, poll_cycle_seconds=10)
    flat = [0.2] * 7
    ramp = [0.2 + 0.07 * i for i in range(1, 8)]  # 0.42 per minute
    slow = [ramp[-1] + 0.03 * i for i in range(1, 8)]  # 0.18 per minute
    still = [slow[-1]] * 7
    happened = feed.kinds(*flat, *ramp, *slow, *still, start=0, step=10)
    assert happened[:7] == [""] * 7
    # The 60 s window holds 5 steps (0.35) on the fifth reading of the ramp.
    assert happened[7:14] == ["", "", "", "", "Raise:yellow", "", ""]
    assert happened[14:21] == [""] * 7, "0.18/min is below the limit but above the restore"
    assert happened[21:] == ["", "", "Clear:", "", "", "", ""]
    decision = feed.series(5.0, start=1000)[0]
    assert decision == [], "after a gap in the data the rate starts afresh: no jump alarm"


def test_rate_of_fall_watches_drops() -> None:
    rules = RuleSet(rates=(RateLimit(LOW, per_minute=0.5, level=ORANGE, window_seconds=30),))
    feed = Feed(rules, kind=SensorKind.PRESSURE, unit="MPa", poll_cycle_seconds=10)
    happened = feed.series(4.0, 4.0, 4.0, 4.0, 3.8, 3.6, 3.5, 3.5, 3.5, 3.5, start=0, step=10)
    raised = [d for ds in happened for d in ds if isinstance(d, Raise)]
    assert len(raised) == 1
    assert raised[0].rule is RuleKey.RATE_FALL
    assert raised[0].threshold == -0.5
    assert raised[0].value == pytest.approx(-0.8)  # 4.0 → 3.6 within 30 s
    cleared = [d for ds in happened for d in ds if isinstance(d, Clear)]
    assert [d.rule for d in cleared] == [RuleKey.RATE_FALL]


# --------------------------------------------------------------------------- staleness


def test_silence_makes_one_offline_and_data_one_online() -> None:
    feed = Feed(default_rules(SensorKind.CO), kind=SensorKind.CO, unit="ppm", poll_cycle_seconds=10)
    feed.read(0, 3)
    assert feed.engine.tick(at(30)) == []
    [offline] = feed.engine.tick(at(31))
    assert offline == Offline("s1", YELLOW, at(0), at(31), 31.0)
    assert feed.engine.tick(at(45)) == []
    assert feed.engine.tick(at(500)) == []
    assert feed.read(501, 3) == [Online("s1", at(501), at(31))]
    assert feed.engine.tick(at(502)) == []
    assert [type(d) for d in feed.engine.tick(at(532))] == [Offline]


def test_a_sensor_that_never_reports_goes_offline_once() -> None:
    feed = Feed(RuleSet(stale_after_cycles=2), poll_cycle_seconds=30)
    assert feed.engine.tick(at(60)) == []
    [offline] = feed.engine.tick(at(61))
    assert isinstance(offline, Offline)
    assert offline.last_reading_at is None
    assert feed.engine.tick(at(120)) == []


def test_data_coming_back_after_offline_is_evaluated_too() -> None:
    feed = Feed(default_rules(SensorKind.CH4, Placement.HEADING_FACE), poll_cycle_seconds=2)
    feed.read(0, 0.3)
    feed.engine.tick(at(10))
    assert [type(d) for d in feed.read(11, 1.6)] == [Online, Raise]


def test_the_stale_clock_can_run_on_arrival_time() -> None:
    feed = Feed(RuleSet(), poll_cycle_seconds=10)
    # The device clock is 10 minutes behind; arrival time keeps it from looking stale.
    feed.engine.observe(Reading("dev", "s1", at(-600), 0.1, "%"), received_at=at(0))
    assert feed.engine.tick(at(20)) == []


# --------------------------------------------------------------------------- flapping


def test_an_alarm_returning_inside_the_flap_window_recurs() -> None:
    rules = RuleSet(thresholds=(Threshold(ORANGE, HIGH, 1.0, 1.0),), flap_window_seconds=60)
    feed = Feed(rules)
    assert feed.kinds(1.1, 0.9, 1.1, 0.9) == ["Raise:orange", "Clear:", "Recur:orange", "Clear:"]
    [recur] = feed.read(64, 1.2)
    assert recur == Recur("s1", RuleKey.THRESHOLD_HIGH, ORANGE, 1.2, 1.0, at(64), at(4))


def test_an_alarm_returning_after_the_flap_window_is_new() -> None:
    rules = RuleSet(thresholds=(Threshold(ORANGE, HIGH, 1.0, 1.0),), flap_window_seconds=60)
    feed = Feed(rules, poll_cycle_seconds=100)
    feed.series(1.1, 0.9)
    assert [type(d) for d in feed.read(62.5, 1.1)] == [Raise]


# --------------------------------------------------------------------------- refusals


def test_a_reading_in_another_unit_is_rejected_without_conversion() -> None:
    feed = Feed(default_rules(SensorKind.CO), kind=SensorKind.CO, unit="ppm")
    [rejected] = feed.read(1, 40.0, unit="mg/m³")
    assert isinstance(rejected, Rejected)
    assert rejected.why is RejectReason.UNIT_MISMATCH
    assert "'ppm'" in rejected.reason
    assert "'mg/m³'" in rejected.reason
    assert "no conversion" in rejected.reason
    assert feed.engine.state("s1") == SensorState(watch_since=T0.timestamp())
    assert [type(d) for d in feed.read(2, 40.0, unit="")] == [Raise], "no unit: the sensor's"
    assert [type(d) for d in feed.read(3, 40.0, unit=" ppm ")] == []


def test_same_unit_spelled_differently_is_accepted() -> None:
    feed = Feed(
        RuleSet(thresholds=(Threshold(RED, HIGH, 60, 55),)), kind=SensorKind.TEMPERATURE, unit="°C"
    )
    assert [type(d) for d in feed.read(1, 61, unit="℃")] == [Raise]
    percent = Feed(default_rules(SensorKind.CH4, Placement.MINING_FACE))
    assert [type(d) for d in percent.read(1, 1.2, unit="％")] == [Raise]
    [rejected] = percent.read(2, 1.2, unit="%LEL")
    assert isinstance(rejected, Rejected)


def test_not_a_number_is_rejected() -> None:
    feed = Feed(FOUR_HIGH)
    for value in (math.nan, math.inf):
        [rejected] = feed.read(1, value)
        assert isinstance(rejected, Rejected)
        assert rejected.why is RejectReason.NOT_A_NUMBER


def test_out_of_order_and_duplicate_readings_are_ignored() -> None:
    feed = Feed(FOUR_HIGH)
    assert feed.read(10, 5) == []
    assert feed.read(10, 50) == [Ignored("s1", IgnoreReason.DUPLICATE, at(10))]
    assert feed.read(9, 50) == [Ignored("s1", IgnoreReason.OUT_OF_ORDER, at(9))]
    state = feed.engine.state("s1")
    assert state is not None
    assert (state.last_at, state.last_value) == (at(10).timestamp(), 5)
    assert [type(d) for d in feed.read(11, 50)] == [Raise]


def test_a_reading_of_an_unknown_sensor_is_ignored() -> None:
    engine = SensorRules(now=T0)
    assert engine.observe(Reading("dev", "nobody", T0, 1.0)) == [
        Ignored("nobody", IgnoreReason.UNKNOWN_SENSOR, T0)
    ]


def test_naive_times_are_refused() -> None:
    feed = Feed(FOUR_HIGH)
    with pytest.raises(Error):
        feed.engine.observe(Reading("dev", "s1", dt.datetime(2026, 1, 1), 1.0))  # noqa: DTZ001 - refused on purpose


# --------------------------------------------------------------------------- shipped defaults


@pytest.mark.parametrize(
    ("placement", "alarm", "power_cut", "restore"),
    [
        (Placement.MINING_FACE, 1.0, 1.5, 1.0),
        (Placement.FACE_RETURN_AIRWAY, 1.0, 1.0, 1.0),
        (Placement.HEADING_FACE, 1.0, 1.5, 1.0),
        (Placement.DRAINAGE_ROADWAY, 2.5, 2.5, 2.5),
        (Placement.HIGH_GAS_MINE_INTAKE, 0.5, 0.5, 0.5),
    ],
)
def test_methane_defaults_follow_the_coal_mine_table(
    placement: Placement, alarm: float, power_cut: float, restore: float
) -> None:
    rules = default_rules(SensorKind.CH4, placement)
    by_label = {t.label: t for t in rules.thresholds}
    assert (by_label["报警"].level, by_label["报警"].value) == (ORANGE, alarm)
    assert (by_label["断电"].level, by_label["断电"].value) == (RED, power_cut)
    assert {t.restore for t in rules.thresholds} == {restore}

    feed = Feed(rules)
    below = alarm - 0.01
    assert feed.read(1, below) == []
    assert [(type(d), d.level) for d in feed.read(2, alarm) if isinstance(d, Raise)] == [
        (Raise, RED if power_cut == alarm else ORANGE)
    ]
    assert [type(d) for d in feed.read(3, power_cut + 0.2)] == (
        [Escalate] if power_cut > alarm else []
    )
    assert feed.read(4, restore) == [], "restore means strictly below"
    assert [type(d) for d in feed.read(5, restore - 0.01)] == [Clear]


def test_mining_face_power_cut_holds_until_below_the_restore_value() -> None:
    feed = Feed(default_rules(SensorKind.CH4, Placement.MINING_FACE))
    assert feed.kinds(0.8, 1.6, 1.4, 1.1, 1.0, 0.99) == [
        "",
        "Raise:red",
        "",
        "",
        "",
        "Clear:",
    ]


def test_carbon_monoxide_default_is_24_ppm() -> None:
    rules = default_rules(SensorKind.CO)
    feed = Feed(rules, kind=SensorKind.CO, unit="ppm")
    assert feed.kinds(23.9, 24.0, 30.0, 23.9) == ["", "Raise:orange", "", "Clear:"]


def test_oxygen_default_watches_the_low_side() -> None:
    feed = Feed(default_rules(SensorKind.O2), kind=SensorKind.O2)
    assert feed.kinds(20.9, 20.0, 19.0, 20.1) == ["", "Raise:orange", "", "Clear:"]


def test_kinds_without_published_limits_only_watch_staleness() -> None:
    assert default_rules(SensorKind.LIQUID_LEVEL) == RuleSet()
    assert default_rules(SensorKind.CH4) == DEFAULT_RULES[(SensorKind.CH4, Placement.MINING_FACE)]


# --------------------------------------------------------------------------- configuration


def test_rules_round_trip_through_json() -> None:
    rules = RuleSet(
        thresholds=(*FOUR_HIGH.thresholds, Threshold(YELLOW, LOW, 1.0, 1.5, 5, "低")),
        rates=(RateLimit(HIGH, 0.3, YELLOW, 120, 0.1, "上升快"),),
        stale_after_cycles=4,
        offline_level=ORANGE,
        flap_window_seconds=90,
    )
    data = json.loads(json.dumps(rules.to_data()))
    assert RuleSet.from_data(data) == rules


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"thresholds": [{"level": "red", "direction": "high", "value": 1, "restore": 2}]},
            "restore",
        ),
        (
            {"thresholds": [{"level": "red", "direction": "low", "value": 2, "restore": 1}]},
            "restore",
        ),
        (
            {
                "thresholds": [
                    {"level": "red", "direction": "high", "value": 1, "restore": 1},
                    {"level": "orange", "direction": "high", "value": 2, "restore": 2},
                ]
            },
            "at or above",
        ),
        (
            {
                "thresholds": [
                    {"level": "red", "direction": "high", "value": 1, "restore": 1},
                    {"level": "red", "direction": "high", "value": 2, "restore": 2},
                ]
            },
            "twice",
        ),
        (
            {"thresholds": [{"level": "red", "direction": "up", "value": 1, "restore": 1}]},
            "direction",
        ),
        (
            {"thresholds": [{"level": "red", "direction": "high", "value": 1, "restor": 1}]},
            "restor",
        ),
        ({"rates": [{"direction": "high", "per_minute": 0, "level": "red"}]}, "positive"),
        ({"stale_after_cycles": 0}, "stale"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_rules_are_refused_with_a_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(Error, match=message):
        RuleSet.from_data(data)


def test_invalid_sensor_configuration_is_refused() -> None:
    with pytest.raises(Error):
        SensorConfig("", SensorKind.CO, "ppm", RuleSet())
    with pytest.raises(Error):
        SensorConfig("co-1", SensorKind.CO, "ppm", RuleSet(), poll_cycle_seconds=0)
    with pytest.raises(Error):
        SensorConfig("co-1", SensorKind.CO, "ppm", RuleSet(), lat=1.0)


# --------------------------------------------------------------------------- state


def test_state_is_rebuilt_from_open_alarms_at_start() -> None:
    rules = default_rules(SensorKind.CH4, Placement.MINING_FACE)
    feed = Feed(rules)
    feed.engine.restore_state(
        "s1", last_at=at(0), last_value=1.6, active_levels={RuleKey.THRESHOLD_HIGH: RED}
    )
    assert feed.read(1, 1.7) == [], "the red alarm is already open: not raised again"
    assert feed.read(0.5, 0.1) == [Ignored("s1", IgnoreReason.OUT_OF_ORDER, at(0.5))]
    assert [type(d) for d in feed.read(2, 0.5)] == [Clear]


def test_saved_state_survives_a_round_trip() -> None:
    feed = Feed(
        RuleSet(
            thresholds=(Threshold(ORANGE, HIGH, 1.0, 0.8, dwell_seconds=30),),
            rates=(RateLimit(HIGH, 0.3, YELLOW),),
        )
    )
    feed.series(0.5, 0.6, 1.2, 1.3, step=10)
    state = feed.engine.state("s1")
    assert state is not None
    saved = json.loads(json.dumps(state.to_data()))
    other = SensorRules([feed.config], now=T0)
    other.restore_state("s1", state=SensorState.from_data(saved))
    assert other.state("s1") == state
    reading = Reading("dev", "s1", at(41), 1.4, "%")
    assert other.observe(reading) == feed.engine.observe(reading)


def test_reconfiguring_keeps_the_open_level() -> None:
    feed = Feed(FOUR_HIGH)
    feed.read(1, 45)
    stricter = RuleSet(thresholds=(Threshold(ORANGE, HIGH, 30.0, 25.0),))
    feed.engine.configure(
        SensorConfig("s1", SensorKind.CH4, "%", stricter, poll_cycle_seconds=1), now=T0
    )
    # Red is no longer defined: the alarm is lowered to what the new rules say.
    [lowered] = feed.read(2, 31)
    assert lowered == DeEscalate("s1", RuleKey.THRESHOLD_HIGH, ORANGE, RED, 31, 25.0, at(2))
    feed.engine.remove("s1")
    assert feed.engine.config("s1") is None


def test_recovery_raises_what_the_last_stored_reading_should_have_raised() -> None:
    # The process stopped after storing 1.6 % and before writing its alarm.
    feed = Feed(default_rules(SensorKind.CH4, Placement.MINING_FACE))
    feed.engine.restore_state("s1", last_at=at(0), last_value=1.6)
    [raised] = feed.engine.recover("s1")
    assert isinstance(raised, Raise)
    assert raised.level is RED
    assert feed.read(0, 1.6) == [Ignored("s1", IgnoreReason.DUPLICATE, at(0))]
    assert feed.read(1, 1.7) == [], "now open: not raised twice"


def test_recovery_forgets_an_open_alarm_whose_condition_restored() -> None:
    # Red was open, the last stored reading had restored: the next crossing must count.
    feed = Feed(default_rules(SensorKind.CH4, Placement.MINING_FACE))
    feed.engine.restore_state(
        "s1", last_at=at(0), last_value=0.3, active_levels={RuleKey.THRESHOLD_HIGH: RED}
    )
    assert feed.engine.recover("s1") == [], "no second 'restored' note at every start"
    [again] = feed.read(1, 1.7)
    # Within the flap window after the restore it updates the alarm raised before.
    assert isinstance(again, Raise | Recur)
    assert again.level is RED


def test_recovery_keeps_an_open_alarm_that_still_holds_and_needs_nothing_without_readings() -> None:
    feed = Feed(default_rules(SensorKind.CH4, Placement.MINING_FACE))
    feed.engine.restore_state(
        "s1", last_at=at(0), last_value=1.6, active_levels={RuleKey.THRESHOLD_HIGH: RED}
    )
    assert feed.engine.recover("s1") == []
    assert feed.read(1, 1.7) == []
    silent = Feed(default_rules(SensorKind.CH4, Placement.MINING_FACE))
    silent.engine.restore_state("s1")
    assert silent.engine.recover("s1") == []
