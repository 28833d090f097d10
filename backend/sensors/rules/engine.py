"""The sensor rules engine: readings and the time in, decisions out.

:class:`SensorRules` keeps each configured sensor's compiled rules and state.

Rules per sensor
----------------
* **Thresholds** at up to four levels (blue < yellow < orange < red) in each direction
  (``high``: a value at or above ``value`` is dangerous; ``low``: at or below, as for
  oxygen). Each level has its own ``restore`` value (hysteresis: a high level stays
  active while the value is at or above ``restore`` and ends once it is below) and a
  ``dwell_seconds`` (the level is raised only once the condition has held on every
  reading for that long; it is confirmed by the reading that completes the dwell).
  Restoring is immediate. Each direction is one alarm whose level moves up and down.
* **Rate of change**: the change over ``window_seconds`` (against the newest reading
  at least that old), per minute; ``rise`` or ``fall``. One alarm per direction.
* **Stale**: no reading for ``stale_after_cycles`` poll cycles makes one
  :class:`Offline`; the next accepted reading makes one :class:`Online`.
* **Flapping**: a threshold or rate alarm that returns within ``flap_window_seconds``
  of its :class:`Clear` yields :class:`Recur` (update the alarm raised before) instead
  of :class:`Raise` (open a new one).
* **Units**: a reading whose unit differs from the sensor's is :class:`Rejected`.
  Nothing is converted (ppm and mg/m³ differ per gas); only spellings of the very same
  unit (``℃``/``°C``, ``％``/``%``, ``m3``/``m³``) are accepted. A reading without a unit
  (Modbus register maps carry none) is taken to be in the sensor's unit.
* **Order**: a reading not newer than the last accepted one of its sensor is
  :class:`Ignored` (a duplicate or out of order) and changes nothing.

Every alarm-related decision carries ``rule`` (:class:`RuleKey`): one sensor has at most
one open alarm per rule, so ``(sensor_id, rule)`` is the alarm's dedupe key.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backend.sensors.rules.config import (
    Direction,
    Error,
    RateLimit,
    RuleKey,
    RuleSet,
    SensorConfig,
    Threshold,
    normalize_unit,
    severity,
)
from backend.sensors.rules.decisions import (
    Clear,
    Decision,
    DeEscalate,
    Escalate,
    Ignored,
    IgnoreReason,
    Offline,
    Online,
    Raise,
    Recur,
    Rejected,
    RejectReason,
)
from backend.sensors.rules.state import RuleState, SensorState, datetime_of, timestamp_of
from devices.observations import Reading
from realtime.states import AlarmLevel


@dataclass(slots=True)
class _Sensor:
    config: SensorConfig
    state: SensorState
    unit: str
    high: tuple[Threshold, ...]
    low: tuple[Threshold, ...]
    rise: RateLimit | None
    fall: RateLimit | None
    rate_window: float


def _compile(config: SensorConfig, state: SensorState) -> _Sensor:
    def by_severity(direction: Direction) -> tuple[Threshold, ...]:
        return tuple(
            sorted(
                (t for t in config.rules.thresholds if t.direction is direction),
                key=lambda t: severity(t.level),
            )
        )

    rates = {r.direction: r for r in config.rules.rates}
    rise, fall = rates.get(Direction.HIGH), rates.get(Direction.LOW)
    return _Sensor(
        config=config,
        state=state,
        unit=normalize_unit(config.unit),
        high=by_severity(Direction.HIGH),
        low=by_severity(Direction.LOW),
        rise=rise,
        fall=fall,
        rate_window=max((r.window_seconds for r in config.rules.rates), default=0.0),
    )


class SensorRules:
    """The rules of every configured sensor and their state.

    Call :meth:`observe` for each reading and :meth:`tick` about once a second; act on
    the decisions they return. Not thread-safe; cheap enough to call on the event loop.
    """

    def __init__(self, sensors: Iterable[SensorConfig] = (), *, now: dt.datetime) -> None:
        self._sensors: dict[str, _Sensor] = {}
        for config in sensors:
            self.configure(config, now=now)

    # ------------------------------------------------------------------ configuration

    def configure(self, config: SensorConfig, *, now: dt.datetime) -> None:
        """Add a sensor or replace its configuration.

        A replaced sensor keeps its last reading, offline state and the active levels
        that its new rules still define; pending dwell times restart.
        """
        existing = self._sensors.get(config.sensor_id)
        if existing is None:
            state = SensorState(watch_since=timestamp_of(now))
        else:
            state = existing.state
            keep = _rule_keys(config.rules)
            state.rules = {
                key: RuleState(level=rule.level, cleared_at=rule.cleared_at)
                for key, rule in state.rules.items()
                if key in keep
            }
        self._sensors[config.sensor_id] = _compile(config, state)

    def remove(self, sensor_id: str) -> None:
        """Stop watching a sensor (no decision is made for its open alarms)."""
        self._sensors.pop(sensor_id, None)

    def configs(self) -> list[SensorConfig]:
        """Every configured sensor's configuration."""
        return [sensor.config for sensor in self._sensors.values()]

    def config(self, sensor_id: str) -> SensorConfig | None:
        """Return a sensor's configuration, or None."""
        sensor = self._sensors.get(sensor_id)
        return None if sensor is None else sensor.config

    def state(self, sensor_id: str) -> SensorState | None:
        """Return a sensor's live state (do not mutate it), or None."""
        sensor = self._sensors.get(sensor_id)
        return None if sensor is None else sensor.state

    def snapshot(self, sensor_id: str) -> SensorState | None:
        """A copy of a sensor's state (None if it is not configured), for :meth:`rollback`.

        Take it before :meth:`observe` and roll back to it when what the decisions stand
        for could not be made durable, so that the device's resend is judged again.
        """
        sensor = self._sensors.get(sensor_id)
        return None if sensor is None else sensor.state.copy()

    def rollback(self, sensor_id: str, snapshot: SensorState | None) -> None:
        """Put back a state taken by :meth:`snapshot` (nothing if it was None or the sensor
        is no longer configured)."""
        sensor = self._sensors.get(sensor_id)
        if sensor is not None and snapshot is not None:
            sensor.state = snapshot

    def retract(self, decision: Decision) -> None:
        """Undo an :class:`Offline` from :meth:`tick` that could not be made durable: the
        next tick decides it again. Other decisions are left alone (roll the state of
        :meth:`observe` back with :meth:`rollback`)."""
        if not isinstance(decision, Offline):
            return
        sensor = self._sensors.get(decision.sensor_id)
        if sensor is not None and sensor.state.offline_since == timestamp_of(decision.at):
            sensor.state.offline_since = None

    def restore_state(
        self,
        sensor_id: str,
        *,
        last_at: dt.datetime | None = None,
        last_value: float | None = None,
        active_levels: Mapping[RuleKey, AlarmLevel] | None = None,
        offline_since: dt.datetime | None = None,
        state: SensorState | None = None,
    ) -> None:
        """Rebuild a configured sensor's state at start.

        Either pass ``state`` (saved with :meth:`SensorState.to_data`), or the last stored
        reading and the levels of the sensor's open alarms per rule (so an alarm open
        before a restart is escalated, lowered or cleared rather than raised again).
        The stale clock restarts from the sensor's ``watch_since``.
        """
        sensor = self._sensors.get(sensor_id)
        if sensor is None:
            raise Error(f"sensor {sensor_id} is not configured")
        if state is None:
            state = SensorState(watch_since=sensor.state.watch_since)
            if last_at is not None:
                state.last_at = timestamp_of(last_at)
                state.last_value = last_value
            if offline_since is not None:
                state.offline_since = timestamp_of(offline_since)
            for key, level in (active_levels or {}).items():
                if key is not RuleKey.OFFLINE:
                    state.rules[key] = RuleState(level=level)
        self._sensors[sensor_id] = _compile(sensor.config, state)

    def recover(self, sensor_id: str) -> list[Decision]:
        """Judge the sensor's last stored reading against its rebuilt state, once at start.

        A crash between storing a reading and writing the alarm it caused leaves the
        reading stored and its alarm missing, and the device's resend is then a duplicate:
        judging the last reading again raises (or moves) what it should have. A rule whose
        open alarm restored before the restart becomes inactive, so the next crossing is
        seen; that alarm stays open for the officer and gets no second "restored" note.
        Only thresholds without a dwell can be judged from one reading; rates need history.
        """
        sensor = self._sensors.get(sensor_id)
        if sensor is None:
            raise Error(f"sensor {sensor_id} is not configured")
        state = sensor.state
        if state.last_at is None or state.last_value is None:
            return []
        decisions: list[Decision] = []
        for key, levels in (
            (RuleKey.THRESHOLD_HIGH, sensor.high),
            (RuleKey.THRESHOLD_LOW, sensor.low),
        ):
            instant = tuple(t for t in levels if t.dwell_seconds == 0)
            open_rule = state.rules.get(key)
            open_level = open_rule.level if open_rule is not None else None
            if not instant or (
                open_level is not None and open_level not in {t.level for t in instant}
            ):
                continue  # an alarm held by a dwell is judged by the next readings
            decision = self._thresholds(sensor, key, instant, state.last_value, state.last_at)
            # Pending dwells restart with the next reading, as after any restart.
            state.rules[key].pending_since.clear()
            if decision is not None and not isinstance(decision, Clear):
                decisions.append(decision)
        return decisions

    # ------------------------------------------------------------------ evaluation

    def observe(
        self, reading: Reading, *, received_at: dt.datetime | None = None
    ) -> list[Decision]:
        """Evaluate one reading and return what to do.

        ``received_at`` (default ``reading.at``) feeds the stale clock, which
        :meth:`tick` compares with its ``now``; dwell, rates and flapping use
        ``reading.at``.
        """
        sensor = self._sensors.get(reading.sensor)
        if sensor is None:
            return [Ignored(reading.sensor, IgnoreReason.UNKNOWN_SENSOR, reading.at)]
        unit = normalize_unit(reading.unit)
        if unit and unit != sensor.unit:
            return [
                Rejected(
                    reading.sensor,
                    RejectReason.UNIT_MISMATCH,
                    f"sensor {reading.sensor} measures in {sensor.unit!r} but the reading is "
                    f"in {reading.unit!r}; no conversion is attempted: fix the device's "
                    "unit or the sensor's registry entry",
                    reading.at,
                )
            ]
        value = reading.value
        if not math.isfinite(value):
            return [
                Rejected(
                    reading.sensor,
                    RejectReason.NOT_A_NUMBER,
                    f"sensor {reading.sensor} sent {value!r}, not a finite number",
                    reading.at,
                )
            ]
        state = sensor.state
        at = timestamp_of(reading.at)
        if state.last_at is not None and at <= state.last_at:
            why = IgnoreReason.DUPLICATE if at == state.last_at else IgnoreReason.OUT_OF_ORDER
            return [Ignored(reading.sensor, why, reading.at)]

        decisions: list[Decision] = []
        if state.offline_since is not None:
            decisions.append(Online(reading.sensor, reading.at, datetime_of(state.offline_since)))
            state.offline_since = None
        if state.last_at is not None and at - state.last_at > sensor.config.stale_after_seconds:
            # Nothing is known about the gap: dwell and rates start afresh.
            for rule in state.rules.values():
                rule.pending_since.clear()
            state.rate_samples.clear()
        state.last_at = at
        state.last_value = value
        state.last_received = timestamp_of(received_at) if received_at is not None else at

        if sensor.high:
            decision = self._thresholds(sensor, RuleKey.THRESHOLD_HIGH, sensor.high, value, at)
            if decision is not None:
                decisions.append(decision)
        if sensor.low:
            decision = self._thresholds(sensor, RuleKey.THRESHOLD_LOW, sensor.low, value, at)
            if decision is not None:
                decisions.append(decision)
        if sensor.rise is not None or sensor.fall is not None:
            self._rates(sensor, value, at, decisions)
        return decisions

    def tick(self, now: dt.datetime) -> list[Decision]:
        """Return an :class:`Offline` for each sensor that has just gone silent."""
        now_ts = timestamp_of(now)
        decisions: list[Decision] = []
        for sensor_id, sensor in self._sensors.items():
            state = sensor.state
            if state.offline_since is not None:
                continue
            since = state.last_received if state.last_received is not None else state.watch_since
            silent = now_ts - since
            if silent > sensor.config.stale_after_seconds:
                state.offline_since = now_ts
                decisions.append(
                    Offline(
                        sensor_id,
                        sensor.config.rules.offline_level,
                        None if state.last_at is None else datetime_of(state.last_at),
                        now,
                        silent,
                    )
                )
        return decisions

    # ------------------------------------------------------------------ rules

    @staticmethod
    def _thresholds(
        sensor: _Sensor, key: RuleKey, levels: tuple[Threshold, ...], value: float, at: float
    ) -> Decision | None:
        rule = sensor.state.rules.get(key)
        if rule is None:
            rule = sensor.state.rules[key] = RuleState()
        current = rule.level
        current_rank = 0 if current is None else severity(current)
        pending = rule.pending_since
        reached: Threshold | None = None
        for threshold in levels:
            if threshold.triggered(value):
                since = pending.setdefault(threshold.level, at)
                if at - since >= threshold.dwell_seconds:
                    reached = threshold
            else:
                pending.pop(threshold.level, None)
        target: Threshold | None = None
        if current is not None:
            for threshold in reversed(levels):
                if severity(threshold.level) <= current_rank and threshold.holds(value):
                    target = threshold
                    break
        if reached is not None and (target is None or severity(reached.level) > current_rank):
            target = reached
        step = _Step(
            level=None if target is None else target.level,
            threshold=0.0 if target is None else target.value,
            label="" if target is None else target.label,
            restore=0.0 if current is None else _restore_of(levels, current),
        )
        return _apply(sensor, key, rule, step, value=value, at=at)

    @staticmethod
    def _rates(sensor: _Sensor, value: float, at: float, decisions: list[Decision]) -> None:
        samples = sensor.state.rate_samples
        # Keep the newest sample at least one window old, and everything after it.
        cutoff = at - sensor.rate_window
        index = bisect.bisect_right(samples, cutoff, key=lambda sample: sample[0])
        if index > 1:
            del samples[: index - 1]
        for limit, key in ((sensor.rise, RuleKey.RATE_RISE), (sensor.fall, RuleKey.RATE_FALL)):
            if limit is None:
                continue
            reference = _reference(samples, at - limit.window_seconds)
            if reference is None:
                continue
            ref_at, ref_value = reference
            per_minute = (value - ref_value) * 60.0 / (at - ref_at)
            sign = 1.0 if key is RuleKey.RATE_RISE else -1.0
            rule = sensor.state.rules.get(key)
            if rule is None:
                rule = sensor.state.rules[key] = RuleState()
            change = sign * per_minute
            active = change >= limit.per_minute or (
                rule.level is not None and change >= limit.restore
            )
            step = _Step(
                level=limit.level if active else None,
                threshold=sign * limit.per_minute,
                label=limit.label,
                restore=sign * limit.restore,
            )
            decision = _apply(sensor, key, rule, step, value=per_minute, at=at)
            if decision is not None:
                decisions.append(decision)
        samples.append((at, value))


@dataclass(frozen=True, slots=True)
class _Step:
    """Where one rule of one sensor goes on one reading."""

    level: AlarmLevel | None
    """The level the rule should now be at (None: normal)."""
    threshold: float
    """The limit of ``level`` (for raising and escalating)."""
    label: str
    restore: float
    """The restore value of the current level (for lowering and clearing)."""


def _apply(
    sensor: _Sensor, key: RuleKey, rule: RuleState, step: _Step, *, value: float, at: float
) -> Decision | None:
    """Move ``rule`` to ``step.level`` and return the decision that says so, if any."""
    sensor_id = sensor.config.sensor_id
    current, target = rule.level, step.level
    rule.level = target
    if target is None:
        if current is None:
            return None
        rule.cleared_at = at
        return Clear(sensor_id, key, current, value, step.restore, datetime_of(at))
    if current is None:
        cleared_at = rule.cleared_at
        if cleared_at is not None and at - cleared_at <= sensor.config.rules.flap_window_seconds:
            return Recur(
                sensor_id,
                key,
                target,
                value,
                step.threshold,
                datetime_of(at),
                datetime_of(cleared_at),
                step.label,
            )
        return Raise(sensor_id, key, target, value, step.threshold, datetime_of(at), step.label)
    if severity(target) > severity(current):
        return Escalate(
            sensor_id, key, target, current, value, step.threshold, datetime_of(at), step.label
        )
    if severity(target) < severity(current):
        return DeEscalate(sensor_id, key, target, current, value, step.restore, datetime_of(at))
    return None


def _restore_of(levels: tuple[Threshold, ...], level: AlarmLevel) -> float:
    """Return the restore value of ``level``, or of the nearest level below it when the
    rules no longer define it (they were edited while the alarm was open)."""
    below = [t for t in levels if severity(t.level) <= severity(level)]
    return (below[-1] if below else levels[0]).restore


def _reference(samples: list[tuple[float, float]], cutoff: float) -> tuple[float, float] | None:
    """Return the newest sample taken at or before ``cutoff``."""
    index = bisect.bisect_right(samples, cutoff, key=lambda sample: sample[0])
    return samples[index - 1] if index else None


def _rule_keys(rules: RuleSet) -> set[RuleKey]:
    keys: set[RuleKey] = set()
    for threshold in rules.thresholds:
        keys.add(
            RuleKey.THRESHOLD_HIGH
            if threshold.direction is Direction.HIGH
            else RuleKey.THRESHOLD_LOW
        )
    for rate in rules.rates:
        keys.add(RuleKey.RATE_RISE if rate.direction is Direction.HIGH else RuleKey.RATE_FALL)
    return keys
