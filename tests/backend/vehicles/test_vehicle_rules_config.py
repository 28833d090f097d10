"""Vehicle rules configuration: the rules file's JSON into msgspec structs, and errors
that say where and why."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from backend.geo import Circle, Polygon
from backend.vehicles.rules import (
    ConfigError,
    GeofenceRule,
    NightDrivingRule,
    OverspeedRule,
    RuleHit,
    RulesConfig,
    TerminalAlarmRule,
    VehicleRulesEngine,
)
from devices.observations import Position
from realtime.states import AlarmLevel

CONFIG_JSON = json.dumps(
    {
        "max_gap_s": 90,
        "rules": [
            {
                "type": "overspeed",
                "id": "speed",
                "level": "red",
                "limit_kmh": 80,
                "vehicle_limits_kmh": {"HAZ1": 60},
                "sections": [
                    {
                        "name": "G2",
                        "route": [[31, 121], [31, 121.2]],
                        "max_distance_m": 40,
                        "limit_kmh": 100,
                    }
                ],
                "zones": [
                    {
                        "name": "school",
                        "limit_kmh": 30,
                        "area": {"type": "circle", "lat": 31.05, "lon": 121.05, "radius_m": 300},
                    }
                ],
                "min_duration_s": 20,
            },
            {
                "type": "geofence",
                "id": "depot",
                "area": {
                    "type": "polygon",
                    "outer": [[31, 121], [31, 121.1], [31.1, 121.1]],
                    "holes": [],
                },
                "enter_dwell_s": 10,
                "report": ["enter"],
            },
            {
                "type": "no_go_zone",
                "id": "reservoir",
                "area": {"type": "circle", "lat": 31.3, "lon": 121.3, "radius_m": 800},
            },
            {
                "type": "route_corridor",
                "id": "approved",
                "route": [[31, 121], [31.2, 121.2]],
                "max_distance_m": 300,
                "vehicles": ["HAZ1"],
            },
            {
                "type": "parking",
                "id": "parking",
                "max_stopped_s": 1800,
                "max_gap_s": 900,
                "allowed_areas": [{"type": "circle", "lat": 31, "lon": 121, "radius_m": 200}],
            },
            {
                "type": "night_driving",
                "id": "night",
                "window_start": "22:00",
                "window_end": "06:00",
                "timezone": "Asia/Shanghai",
            },
            {"type": "offline", "id": "offline", "timeout_s": 600},
            {"type": "terminal_alarm", "id": "terminal", "levels": {"emergency": "red"}},
        ],
    }
)


def test_config_loads_from_json() -> None:
    config = RulesConfig.from_json(CONFIG_JSON)
    assert config.max_gap_s == 90
    assert [type(rule).__name__ for rule in config.rules] == [
        "OverspeedRule",
        "GeofenceRule",
        "NoGoZoneRule",
        "RouteCorridorRule",
        "ParkingRule",
        "NightDrivingRule",
        "OfflineRule",
        "TerminalAlarmRule",
    ]
    speed = config.rules[0]
    assert isinstance(speed, OverspeedRule)
    assert speed.level is AlarmLevel.RED
    assert speed.vehicle_limits_kmh == {"HAZ1": 60}
    assert speed.min_duration_s == 20
    assert speed.clear_margin_kmh == 5
    assert isinstance(speed.zones[0].area, Circle)
    depot = config.rules[1]
    assert isinstance(depot, GeofenceRule)
    assert isinstance(depot.area, Polygon)
    assert depot.report == {"enter"}
    corridor = config.rules[3]
    assert corridor.vehicles == {"HAZ1"}
    night = config.rules[5]
    assert isinstance(night, NightDrivingRule)
    assert night.window_start == dt.time(22, 0)
    terminal = config.rules[7]
    assert isinstance(terminal, TerminalAlarmRule)
    assert terminal.levels == {"emergency": AlarmLevel.RED}
    engine = VehicleRulesEngine(config)
    inside_the_no_go_zone = Position(
        device="V1",
        at=dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC),
        lat=31.3,
        lon=121.3,
        speed_kmh=50,
    )
    (hit,) = engine.observe(inside_the_no_go_zone)
    assert isinstance(hit, RuleHit)
    assert hit.rule_id == "reservoir"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda c: c["rules"][0].update(limt_kmh=80),
            r"^rules\[0\] \(speed\): .*unknown field `limt_kmh`",
        ),
        (
            lambda c: c["rules"][0].update(level="purple"),
            r"^rules\[0\] \(speed\)\.level: .*'purple'; expected one of red, orange",
        ),
        (lambda c: c["rules"][1].update(id="speed"), "^config: rule id 'speed' is used twice"),
        (
            lambda c: c["rules"][5].update(timezone="Mars/Olympus"),
            r"^rules\[5\] \(night\): unknown time zone",
        ),
        (
            lambda c: c["rules"][5].update(window_start="25:00"),
            r"^rules\[5\] \(night\)\.window_start: expected HH:MM",
        ),
        (lambda c: c["rules"][0].update(id="has space"), r"^rules\[0\] .*rule id"),
        (lambda c: c["rules"][0].update(id="x" * 41), r"^rules\[0\] .*rule id"),
        (
            lambda c: c["rules"][0].update(min_duration_s=-1),
            r"^rules\[0\] \(speed\): min_duration_s must be a non-negative",
        ),
        (
            lambda c: c["rules"][0].update(limit_kmh="fast"),
            r"^rules\[0\] \(speed\)\.limit_kmh: Expected `float \| null`, got `str`",
        ),
        (
            lambda c: c["rules"][2]["area"].update(type="hexagon"),
            r"^rules\[2\] \(reservoir\)\.area\.type: .*'hexagon'; expected one of circle, polygon",
        ),
        (
            lambda c: c["rules"][2]["area"].update(radius_m=0),
            r"^rules\[2\] \(reservoir\)\.area: .*radius",
        ),
        (
            lambda c: c["rules"][3].update(route=[[31, 121]]),
            r"^rules\[3\] \(approved\): .*at least 2 points",
        ),
        (
            lambda c: c["rules"][3].update(route=[[121, 31], [181, 31]]),
            r"^rules\[3\] \(approved\): .*WGS-84",
        ),
        (
            lambda c: c["rules"][4].pop("max_stopped_s"),
            r"^rules\[4\] \(parking\): .*missing required field `max_stopped_s`",
        ),
        (
            lambda c: c["rules"][1].update(report=["enter", "sideways"]),
            r"^rules\[1\] \(depot\): report",
        ),
        (
            lambda c: c["rules"].append({"type": "teleport", "id": "t"}),
            r"^rules\[8\] \(t\)\.type: .*'teleport'; expected one of overspeed, geofence",
        ),
        (lambda c: c.update(max_gap_s=0), "^config: max_gap_s"),
        (
            lambda c: c["rules"][1]["area"].update(outer=[[31, 121], [31, 121, 5]]),
            r"^rules\[1\] \(depot\)\.area\.outer\[1\]: .*length 2",
        ),
        (
            lambda c: c["rules"][0]["zones"][0]["area"].update(radius_m="x"),
            r"^rules\[0\] \(speed\)\.zones\[0\]\.area\.radius_m: Expected `float`",
        ),
        (
            lambda c: c["rules"][7].update(levels={"emergency": "pink"}),
            r"^rules\[7\] \(terminal\)\.levels\[\.\.\.\]: .*'pink'; expected one of red",
        ),
        (
            lambda c: c["rules"][0].update(vehicle_limits_kmh={"HAZ1": -1}),
            r"^rules\[0\] \(speed\): vehicle_limits_kmh\.HAZ1 must be a positive",
        ),
    ],
)
def test_config_errors_say_where_and_why(
    mutate: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = json.loads(CONFIG_JSON)
    mutate(data)
    with pytest.raises(ConfigError, match=message):
        RulesConfig.from_dict(data)


def test_config_that_is_not_json_or_not_an_object() -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        RulesConfig.from_json("{rules")
    with pytest.raises(ConfigError, match="JSON object"):
        RulesConfig.from_json("[]")


def test_overspeed_rule_needs_a_limit() -> None:
    with pytest.raises(ConfigError, match="at least one limit"):
        RulesConfig.from_dict({"rules": [{"type": "overspeed", "id": "speed"}]})
