"""One evaluator per rule kind: a fix (or the time) and a vehicle's state in, decisions out.

Each function moves the rule's state in :class:`~backend.vehicles.rules.state.VehicleState`
on by one accepted fix and returns the :class:`RuleHit`/:class:`RuleCleared` it causes.
``max_gap_s`` is the rule's own gap, else the engine's: a longer gap between fixes
restarts pending timers instead of counting as continuous evidence.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from backend.geo import distance_to_polyline_m, haversine_m
from backend.vehicles.rules.config import (
    GeofenceRule,
    NightDrivingRule,
    NoGoZoneRule,
    OfflineRule,
    OverspeedRule,
    ParkingRule,
    RouteCorridorRule,
    Rule,
    RuleBase,
    TerminalAlarmRule,
)
from backend.vehicles.rules.decisions import (
    DetailValue,
    RuleCleared,
    RuleDecision,
    RuleHit,
    RuleKind,
)
from backend.vehicles.rules.state import (
    ConditionState,
    DwellState,
    ParkingState,
    TerminalAlarmState,
    VehicleState,
)
from devices.jt808.bits import ALARM_LABELS
from realtime.states import AlarmLevel


def seconds_between(earlier: dt.datetime, later: dt.datetime) -> float:
    """``later − earlier`` in seconds."""
    return (later - earlier).total_seconds()


@dataclass(frozen=True, slots=True)
class Fix:
    """The parts of an accepted fix the evaluators need (time in UTC); ``gap_s`` is the
    time since the vehicle's previous accepted fix (None for its first), ``alarms`` the
    terminal's alarm bits."""

    vehicle: str
    at: dt.datetime
    lat: float
    lon: float
    speed_kmh: float
    gap_s: float | None
    alarms: frozenset[str]

    def gap_exceeds(self, max_gap_s: float) -> bool:
        """True if the fix follows a gap longer than ``max_gap_s``."""
        return self.gap_s is not None and self.gap_s > max_gap_s


Evaluator = Callable[[VehicleState, Fix, float], list[RuleDecision]]
"""One rule's evaluator with the rule bound: (vehicle state, fix, max_gap_s) → decisions."""


def _advance(
    state: ConditionState,
    at: dt.datetime,
    *,
    raise_when: bool,
    clear_when: bool,
    raise_after_s: float,
    clear_after_s: float,
) -> str | None:
    """Move a debounced condition on by one fix: returns "raise", "clear" or None."""
    if not state.active:
        if not raise_when:
            state.pending_since = None
            return None
        if state.pending_since is None:
            state.pending_since = at
        if seconds_between(state.pending_since, at) >= raise_after_s:
            state.active = True
            state.started_at = state.pending_since
            state.pending_since = None
            return "raise"
        return None
    if not clear_when:
        state.pending_since = None
        return None
    if state.pending_since is None:
        state.pending_since = at
    if seconds_between(state.pending_since, at) >= clear_after_s:
        state.active = False
        state.pending_since = None
        return "clear"
    return None


def _hit(
    rule: RuleBase,
    kind: RuleKind,
    *,
    vehicle: str,
    started_at: dt.datetime,
    at: dt.datetime,
    lat: float | None,
    lon: float | None,
    detail: dict[str, DetailValue],
    alarm_key: str | None = None,
    level: AlarmLevel | None = None,
    title: str | None = None,
) -> RuleHit:
    return RuleHit(
        vehicle=vehicle,
        rule_id=rule.rule_id,
        alarm_key=alarm_key or rule.alarm_key,
        kind=kind,
        level=level or rule.level,
        title=title or rule.title,
        started_at=started_at,
        at=at,
        lat=lat,
        lon=lon,
        detail=detail,
    )


def _cleared(
    rule: RuleBase,
    kind: RuleKind,
    *,
    vehicle: str,
    started_at: dt.datetime,
    at: dt.datetime,
    lat: float | None,
    lon: float | None,
    detail: dict[str, DetailValue],
    alarm_key: str | None = None,
) -> RuleCleared:
    return RuleCleared(
        vehicle=vehicle,
        rule_id=rule.rule_id,
        alarm_key=alarm_key or rule.alarm_key,
        kind=kind,
        started_at=started_at,
        at=at,
        lat=lat,
        lon=lon,
        detail=detail,
    )


def _debounced(
    rule: RuleBase,
    kind: RuleKind,
    state: ConditionState,
    fix: Fix,
    max_gap_s: float,
    *,
    raise_when: bool,
    clear_when: bool,
    raise_after_s: float,
    clear_after_s: float,
    value: float,
    detail: dict[str, DetailValue],
) -> list[RuleDecision]:
    if fix.gap_exceeds(max_gap_s):
        state.pending_since = None
    if not state.active and state.pending_since is None:
        state.peak = value  # a new episode may begin here
    outcome = _advance(
        state,
        fix.at,
        raise_when=raise_when,
        clear_when=clear_when,
        raise_after_s=raise_after_s,
        clear_after_s=clear_after_s,
    )
    state.peak = max(state.peak, value)
    started_at = state.started_at or fix.at
    if outcome == "raise":
        return [
            _hit(
                rule,
                kind,
                vehicle=fix.vehicle,
                started_at=started_at,
                at=fix.at,
                lat=fix.lat,
                lon=fix.lon,
                detail=detail,
            )
        ]
    if outcome == "clear":
        detail = {
            **detail,
            "peak": state.peak,
            "duration_s": seconds_between(started_at, fix.at),
        }
        return [
            _cleared(
                rule,
                kind,
                vehicle=fix.vehicle,
                started_at=started_at,
                at=fix.at,
                lat=fix.lat,
                lon=fix.lon,
                detail=detail,
            )
        ]
    return []


# --------------------------------------------------------------------------- on a fix


def overspeed(
    rule: OverspeedRule, vehicle: VehicleState, fix: Fix, max_gap_s: float
) -> list[RuleDecision]:
    """Over the lowest applicable limit for ``min_duration_s``, with hysteresis."""
    limit = rule.limit_at(fix.vehicle, fix.lat, fix.lon)
    limit_kmh, source = limit if limit is not None else (None, "")
    return _debounced(
        rule,
        RuleKind.OVERSPEED,
        vehicle.rule_state(rule.rule_id, ConditionState),
        fix,
        max_gap_s,
        raise_when=limit_kmh is not None and fix.speed_kmh > limit_kmh,
        clear_when=limit_kmh is None or fix.speed_kmh <= limit_kmh - rule.clear_margin_kmh,
        raise_after_s=rule.min_duration_s,
        clear_after_s=rule.clear_duration_s,
        value=fix.speed_kmh,
        detail={"speed_kmh": fix.speed_kmh, "limit_kmh": limit_kmh, "limit_source": source},
    )


def no_go_zone(
    rule: NoGoZoneRule, vehicle: VehicleState, fix: Fix, max_gap_s: float
) -> list[RuleDecision]:
    """Inside the forbidden area for ``enter_dwell_s``."""
    inside = rule.area.contains(fix.lat, fix.lon)
    return _debounced(
        rule,
        RuleKind.NO_GO_ZONE,
        vehicle.rule_state(rule.rule_id, ConditionState),
        fix,
        max_gap_s,
        raise_when=inside,
        clear_when=not inside,
        raise_after_s=rule.enter_dwell_s,
        clear_after_s=rule.exit_dwell_s,
        value=fix.speed_kmh,
        detail={"inside": int(inside)},
    )


def route_corridor(
    rule: RouteCorridorRule, vehicle: VehicleState, fix: Fix, max_gap_s: float
) -> list[RuleDecision]:
    """Farther than ``max_distance_m`` from the route for ``min_duration_s``."""
    distance_m = distance_to_polyline_m(fix.lat, fix.lon, rule.route)
    return _debounced(
        rule,
        RuleKind.ROUTE_DEVIATION,
        vehicle.rule_state(rule.rule_id, ConditionState),
        fix,
        max_gap_s,
        raise_when=distance_m > rule.max_distance_m,
        clear_when=distance_m <= rule.max_distance_m - rule.clear_margin_m,
        raise_after_s=rule.min_duration_s,
        clear_after_s=rule.clear_duration_s,
        value=distance_m,
        detail={"distance_m": round(distance_m, 1), "max_distance_m": rule.max_distance_m},
    )


def geofence(
    rule: GeofenceRule, vehicle: VehicleState, fix: Fix, max_gap_s: float
) -> list[RuleDecision]:
    """An enter or exit event once the vehicle dwelt on the new side long enough."""
    state = vehicle.rule_state(rule.rule_id, DwellState)
    inside = rule.area.contains(fix.lat, fix.lon)
    if state.inside is None:
        state.inside = inside  # the first known side is where the vehicle is: no event
        return []
    if fix.gap_exceeds(max_gap_s):
        state.candidate = state.pending_since = None
    if inside == state.inside:
        state.candidate = state.pending_since = None
        return []
    if state.candidate != inside or state.pending_since is None:
        state.candidate, state.pending_since = inside, fix.at
    dwell_s = rule.enter_dwell_s if inside else rule.exit_dwell_s
    started_at = state.pending_since
    if seconds_between(started_at, fix.at) < dwell_s:
        return []
    state.inside = inside
    state.candidate = state.pending_since = None
    direction = "enter" if inside else "exit"
    if direction not in rule.report:
        return []
    return [
        _hit(
            rule,
            RuleKind.GEOFENCE_ENTER if inside else RuleKind.GEOFENCE_EXIT,
            vehicle=fix.vehicle,
            started_at=started_at,
            at=fix.at,
            lat=fix.lat,
            lon=fix.lon,
            detail={"direction": direction},
            alarm_key=rule.direction_key(direction),
        )
    ]


def parking(
    rule: ParkingRule, vehicle: VehicleState, fix: Fix, max_gap_s: float
) -> list[RuleDecision]:
    """Stopped within ``radius_m`` for longer than ``max_stopped_s`` outside the allowed
    areas; cleared when the vehicle moves off."""
    state = vehicle.rule_state(rule.rule_id, ParkingState)
    decisions: list[RuleDecision] = []
    stopped = fix.speed_kmh < rule.speed_below_kmh
    continuing = (
        stopped
        and state.anchor_lat is not None
        and state.anchor_lon is not None
        and state.stopped_since is not None
        and haversine_m(state.anchor_lat, state.anchor_lon, fix.lat, fix.lon) <= rule.radius_m
    )
    if continuing and not state.active and fix.gap_exceeds(max_gap_s):
        state.stopped_since = fix.at  # a gap is not evidence of standing still
    elif not continuing:
        if state.active and state.stopped_since is not None:
            decisions.append(
                _cleared(
                    rule,
                    RuleKind.PARKING_OVERTIME,
                    vehicle=fix.vehicle,
                    started_at=state.stopped_since,
                    at=fix.at,
                    lat=state.anchor_lat,
                    lon=state.anchor_lon,
                    detail={"stopped_s": seconds_between(state.stopped_since, fix.at)},
                )
            )
        state.active = False
        if stopped:
            state.anchor_lat, state.anchor_lon, state.stopped_since = fix.lat, fix.lon, fix.at
        else:
            state.anchor_lat = state.anchor_lon = state.stopped_since = None
    if (
        not state.active
        and state.stopped_since is not None
        and state.anchor_lat is not None
        and state.anchor_lon is not None
        and seconds_between(state.stopped_since, fix.at) >= rule.max_stopped_s
    ):
        anchor_lat, anchor_lon = state.anchor_lat, state.anchor_lon
        if any(area.contains(anchor_lat, anchor_lon) for area in rule.allowed_areas):
            return decisions
        state.active = True
        decisions.append(
            _hit(
                rule,
                RuleKind.PARKING_OVERTIME,
                vehicle=fix.vehicle,
                started_at=state.stopped_since,
                at=fix.at,
                lat=anchor_lat,
                lon=anchor_lon,
                detail={
                    "stopped_s": seconds_between(state.stopped_since, fix.at),
                    "max_stopped_s": rule.max_stopped_s,
                },
            )
        )
    return decisions


def night_driving(
    rule: NightDrivingRule, vehicle: VehicleState, fix: Fix, max_gap_s: float
) -> list[RuleDecision]:
    """Driving in the night window: one hit per vehicle per night, cleared when the
    night ends (here, or in :func:`night_ended`)."""
    state = vehicle.rule_state(rule.rule_id, ConditionState)
    night = rule.night_of(fix.at)
    decisions: list[RuleDecision] = []
    if state.active and night != state.episode:
        decisions.append(_night_cleared(rule, vehicle, state, at=fix.at, lat=fix.lat, lon=fix.lon))
    if fix.gap_exceeds(max_gap_s):
        state.pending_since = None
    outcome = _advance(
        state,
        fix.at,
        raise_when=(
            night is not None and night != state.episode and fix.speed_kmh > rule.speed_above_kmh
        ),
        clear_when=False,  # an episode ends with its night (above, or in night_ended)
        raise_after_s=rule.min_duration_s,
        clear_after_s=0.0,
    )
    if outcome == "raise" and night is not None:
        state.episode = night
        decisions.append(
            _hit(
                rule,
                RuleKind.NIGHT_DRIVING,
                vehicle=fix.vehicle,
                started_at=state.started_at or fix.at,
                at=fix.at,
                lat=fix.lat,
                lon=fix.lon,
                detail={"night": night, "speed_kmh": fix.speed_kmh},
            )
        )
    return decisions


def _night_cleared(
    rule: NightDrivingRule,
    vehicle: VehicleState,
    state: ConditionState,
    *,
    at: dt.datetime,
    lat: float | None,
    lon: float | None,
) -> RuleCleared:
    state.active = False
    state.pending_since = None
    return _cleared(
        rule,
        RuleKind.NIGHT_DRIVING,
        vehicle=vehicle.vehicle,
        started_at=state.started_at or at,
        at=at,
        lat=lat,
        lon=lon,
        detail={"night": state.episode},
    )


def terminal_alarms(
    rule: TerminalAlarmRule, vehicle: VehicleState, fix: Fix, max_gap_s: float
) -> list[RuleDecision]:
    """The terminal's watched alarm bits: a hit per rising edge, a clear per falling edge
    of a bit that is not latched (gaps do not matter: ``max_gap_s`` is unused)."""
    state = vehicle.rule_state(rule.rule_id, TerminalAlarmState)
    current = frozenset(name for name in fix.alarms if rule.watches(name))
    decisions: list[RuleDecision] = [
        _hit(
            rule,
            RuleKind.TERMINAL_ALARM,
            vehicle=fix.vehicle,
            started_at=fix.at,
            at=fix.at,
            lat=fix.lat,
            lon=fix.lon,
            detail={"alarm": name},
            alarm_key=name,
            level=rule.levels.get(name, rule.level),
            title=rule.titles.get(name) or ALARM_LABELS.get(name, name),
        )
        for name in sorted(current - state.names)
    ]
    decisions.extend(
        _cleared(
            rule,
            RuleKind.TERMINAL_ALARM,
            vehicle=fix.vehicle,
            started_at=fix.at,
            at=fix.at,
            lat=fix.lat,
            lon=fix.lon,
            detail={"alarm": name},
            alarm_key=name,
        )
        for name in sorted(state.names - current)
        if name not in rule.latched
    )
    state.names = current
    return decisions


def for_rule(rule: Rule) -> Evaluator | None:
    """The evaluator of ``rule`` on each fix, or None for a rule judged only on contact
    and time (offline)."""
    match rule:
        case OverspeedRule():
            return functools.partial(overspeed, rule)
        case GeofenceRule():
            return functools.partial(geofence, rule)
        case NoGoZoneRule():
            return functools.partial(no_go_zone, rule)
        case RouteCorridorRule():
            return functools.partial(route_corridor, rule)
        case ParkingRule():
            return functools.partial(parking, rule)
        case NightDrivingRule():
            return functools.partial(night_driving, rule)
        case TerminalAlarmRule():
            return functools.partial(terminal_alarms, rule)
        case OfflineRule():
            return None


# --------------------------------------------------------------------------- on contact or time


def back_online(
    rules: Iterable[OfflineRule],
    vehicle: VehicleState,
    contact: dt.datetime,
    lat: float,
    lon: float,
) -> list[RuleDecision]:
    """Clear every open offline episode of ``vehicle``: it made contact at ``contact``."""
    decisions: list[RuleDecision] = []
    for rule in rules:
        if not rule.applies_to(vehicle.vehicle):
            continue
        state = vehicle.rules.get(rule.rule_id)
        if not isinstance(state, ConditionState) or not state.active:
            continue
        state.active = False
        started_at = state.started_at or contact
        decisions.append(
            _cleared(
                rule,
                RuleKind.OFFLINE,
                vehicle=vehicle.vehicle,
                started_at=started_at,
                at=contact,
                lat=lat,
                lon=lon,
                detail={"silent_s": seconds_between(started_at, contact)},
            )
        )
    return decisions


def offline_timeout(
    rule: OfflineRule, vehicle: VehicleState, now: dt.datetime
) -> list[RuleDecision]:
    """A hit if ``vehicle`` has been silent for ``timeout_s`` by ``now`` (once per episode)."""
    state = vehicle.rule_state(rule.rule_id, ConditionState)
    last = vehicle.last_contact_at
    if state.active or last is None or seconds_between(last, now) < rule.timeout_s:
        return []
    state.active, state.started_at = True, last
    return [
        _hit(
            rule,
            RuleKind.OFFLINE,
            vehicle=vehicle.vehicle,
            started_at=last,
            at=now,
            lat=vehicle.last_lat,
            lon=vehicle.last_lon,
            detail={"silent_s": seconds_between(last, now), "timeout_s": rule.timeout_s},
        )
    ]


def night_ended(
    rule: NightDrivingRule, vehicle: VehicleState, now: dt.datetime
) -> list[RuleDecision]:
    """A clear if ``vehicle``'s night-driving episode belongs to a night that is over by
    ``now``."""
    state = vehicle.rule_state(rule.rule_id, ConditionState)
    if not state.active or rule.night_of(now) == state.episode:
        return []
    return [
        _night_cleared(rule, vehicle, state, at=now, lat=vehicle.last_lat, lon=vehicle.last_lon)
    ]
