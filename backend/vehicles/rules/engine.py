"""The vehicle rules engine: fixes and the time in, decisions out, state per vehicle.

:class:`VehicleRulesEngine` screens each fix (contact, backfill, clock ahead, order) and
hands an accepted one to the evaluator of every rule that watches the vehicle
(:mod:`backend.vehicles.rules.evaluators`).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable, Mapping

from backend.vehicles.rules import evaluators
from backend.vehicles.rules.config import NightDrivingRule, OfflineRule, RulesConfig
from backend.vehicles.rules.decisions import RuleDecision, RuleHit, RuleKind
from backend.vehicles.rules.evaluators import Evaluator, Fix, seconds_between
from backend.vehicles.rules.state import ConditionState, VehicleState
from devices.observations import Position

logger = logging.getLogger(__name__)


_TimeoutJudge = Callable[[VehicleState, dt.datetime], list[RuleDecision]]
"""An offline or night-driving rule's check at a time, with the rule bound."""


def _as_utc(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is dt.UTC:
        return value  # the everyday case (decoders and the server clock give UTC)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, not naive {value!r}")
    return value.astimezone(dt.UTC)


def _log(decisions: list[RuleDecision]) -> None:
    for decision in decisions:
        logger.info(
            "vehicle %s: %s %s (%s)",
            decision.vehicle,
            "hit" if isinstance(decision, RuleHit) else "cleared",
            decision.alarm_key,
            decision.kind,
        )


class VehicleRulesEngine:
    """Evaluates :class:`RulesConfig` against position fixes, one vehicle state at a time.

    Deterministic and free of I/O: time comes only from the fixes and from ``now`` passed
    to :meth:`check_timeouts`. Not thread-safe; call it from one task.
    """

    def __init__(self, config: RulesConfig, states: Iterable[VehicleState] = ()) -> None:
        self._config = config
        self._compile(config)
        self._states: dict[str, VehicleState] = {
            state.vehicle: copy.deepcopy(state) for state in states
        }

    @property
    def config(self) -> RulesConfig:
        """The rules in force."""
        return self._config

    def replace_config(self, config: RulesConfig) -> None:
        """Put new rules in force. States of rules whose id remains are kept (so open
        episodes neither repeat nor get lost); states of removed rules are dropped."""
        self._config = config
        self._compile(config)
        kept = {rule.rule_id for rule in config.rules}
        for state in self._states.values():
            for rule_id in list(state.rules):
                if rule_id not in kept:
                    del state.rules[rule_id]

    def states(self) -> list[VehicleState]:
        """Copies of every vehicle's state, to persist and later pass to a new engine."""
        return [copy.deepcopy(state) for state in self._states.values()]

    def state_of(self, vehicle: str) -> VehicleState | None:
        """A copy of one vehicle's state, or None if it was never seen."""
        state = self._states.get(vehicle)
        return copy.deepcopy(state) if state is not None else None

    def snapshot(self, vehicles: Iterable[str]) -> dict[str, VehicleState | None]:
        """Copies of these vehicles' states (None: never seen), for :meth:`rollback`.

        Take it before :meth:`observe` and roll back to it when what the decisions stand
        for could not be made durable, so that the terminal's resend is judged again.
        """
        return {
            vehicle: None if (state := self._states.get(vehicle)) is None else state.copy()
            for vehicle in vehicles
        }

    def rollback(self, snapshot: Mapping[str, VehicleState | None]) -> None:
        """Put back the states taken by :meth:`snapshot`."""
        for vehicle, state in snapshot.items():
            if state is None:
                self._states.pop(vehicle, None)
            else:
                self._states[vehicle] = state

    def retract(self, decision: RuleDecision) -> None:
        """Undo an offline hit from :meth:`check_timeouts` that could not be made durable:
        the next check decides it again. Other decisions are left alone (the fixes that
        made them are rolled back with :meth:`rollback`)."""
        if not isinstance(decision, RuleHit) or decision.kind is not RuleKind.OFFLINE:
            return
        state = self._states.get(decision.vehicle)
        rule = state.rules.get(decision.rule_id) if state is not None else None
        if isinstance(rule, ConditionState) and rule.active:
            rule.active = False
            rule.started_at = None

    def forget(self, vehicle: str) -> None:
        """Drop a vehicle's state (e.g. when it is removed from the registry)."""
        self._states.pop(vehicle, None)

    def vehicles(self) -> list[str]:
        """The vehicles the engine keeps state for (a snapshot)."""
        return list(self._states)

    def observe(
        self, position: Position, *, received_at: dt.datetime | None = None
    ) -> list[RuleDecision]:
        """Evaluate one fix; returns the decisions it causes, in rule order.

        ``received_at`` (the server's receive time; pass it) counts as contact for the
        offline rule and guards against device clocks running ahead; without it the fix's
        own time counts as contact. Fixes at or before the vehicle's last accepted fix,
        backfill fixes and fixes stamped too far ahead count as contact only.
        """
        at = _as_utc(position.at, "position.at")
        contact = _as_utc(received_at, "received_at") if received_at is not None else at
        state = self._states.get(position.device)
        if state is None:
            state = self._states[position.device] = VehicleState(position.device)
        decisions: list[RuleDecision] = []
        if state.last_contact_at is None or contact > state.last_contact_at:
            state.last_contact_at = contact
            decisions.extend(
                evaluators.back_online(
                    self._offline_rules, state, contact, position.lat, position.lon
                )
            )
        if position.backfill:
            return decisions
        if received_at is not None and self._clock_ahead(state, at, contact):
            return decisions
        if state.last_fix_at is not None and at <= state.last_fix_at:
            logger.debug(
                "vehicle %s: fix at %s is not after %s; not evaluated",
                position.device,
                at,
                state.last_fix_at,
            )
            return decisions
        gap_s = None if state.last_fix_at is None else seconds_between(state.last_fix_at, at)
        state.last_fix_at, state.last_lat, state.last_lon = at, position.lat, position.lon
        fix = Fix(
            position.device,
            at,
            position.lat,
            position.lon,
            position.speed_kmh,
            gap_s,
            position.alarms,
        )
        for applies_to, evaluate, max_gap_s in self._plan:
            if applies_to(position.device):
                decisions.extend(evaluate(state, fix, max_gap_s))
        _log(decisions)
        return decisions

    def check_timeouts(
        self, now: dt.datetime, vehicles: Iterable[str] | None = None
    ) -> list[RuleDecision]:
        """Decisions due by ``now`` without a fix: vehicles gone offline, night windows
        that ended. Call it periodically (e.g. every few seconds), for all vehicles or, in
        slices, for ``vehicles`` (unknown ones are skipped)."""
        now = _as_utc(now, "now")
        decisions: list[RuleDecision] = []
        if vehicles is None:
            states: Iterable[VehicleState] = self._states.values()
        else:
            states = [state for v in vehicles if (state := self._states.get(v)) is not None]
        for state in states:
            for applies_to, judge in self._timeouts:
                if applies_to(state.vehicle):
                    decisions.extend(judge(state, now))
        _log(decisions)
        return decisions

    def _compile(self, config: RulesConfig) -> None:
        # Done once per configuration: isinstance on msgspec structs is slow, and the
        # per-fix loop then only asks each rule whether it watches the vehicle.
        plan: list[tuple[Callable[[str], bool], Evaluator, float]] = []
        for rule in config.rules:
            evaluate = evaluators.for_rule(rule)
            if evaluate is not None:
                max_gap_s = config.max_gap_s if rule.max_gap_s is None else rule.max_gap_s
                plan.append((rule.applies_to, evaluate, max_gap_s))
        self._plan = tuple(plan)
        self._offline_rules = tuple(rule for rule in config.rules if isinstance(rule, OfflineRule))
        timeouts: list[tuple[Callable[[str], bool], _TimeoutJudge]] = []
        for rule in config.rules:
            if isinstance(rule, OfflineRule):
                timeouts.append(
                    (rule.applies_to, functools.partial(evaluators.offline_timeout, rule))
                )
            elif isinstance(rule, NightDrivingRule):
                timeouts.append((rule.applies_to, functools.partial(evaluators.night_ended, rule)))
        self._timeouts = tuple(timeouts)

    def _clock_ahead(self, state: VehicleState, at: dt.datetime, received: dt.datetime) -> bool:
        ahead = seconds_between(received, at) > self._config.max_clock_ahead_s
        if ahead != state.clock_ahead:
            state.clock_ahead = ahead
            if ahead:
                logger.warning(
                    "vehicle %s: fix stamped %s but received %s; not evaluated until the "
                    "clock is right",
                    state.vehicle,
                    at.isoformat(),
                    received.isoformat(),
                )
            else:
                logger.info("vehicle %s: fix times are plausible again", state.vehicle)
        return ahead
