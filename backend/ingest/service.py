"""Ingest: where every device adapter's observations enter the backend.

Positions and readings go to the time-series tables by group commit and to the consoles
coalesced (latest per device); device alarms become alarms in the one life cycle;
online/offline changes become events. ``submit`` returns only once the observation is
durable, so a gateway may then acknowledge the device.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence

import msgspec

from backend.alarms.service import AlarmService
from backend.errors import ValidationError
from backend.ingest.telemetry import TelemetryWriter
from backend.ingest.terminal_state import Error as TerminalStateError
from backend.ingest.terminal_state import (
    Remembered,
    TerminalStates,
    decode_rules,
    encode_rules,
)
from backend.jurisdictions.tree import JurisdictionTree
from backend.registry.devices import DeviceRegistry
from backend.runtime.clock import utc_now
from backend.runtime.periodic import Periodic
from backend.sensors.rules import Ignored, IgnoreReason, Rejected
from backend.sensors.service import SensorService
from backend.server.hub import Hub
from backend.vehicles.rules import RuleCleared, RuleDecision, VehicleRulesEngine, device_alarm_for
from devices.jt808.bits import ALARM_LABELS
from devices.observations import (
    DeviceAlarmRaised,
    DeviceStatusChanged,
    Observation,
    Position,
    Reading,
)
from realtime.protocol import DeviceAlarm, PositionView, ReadingView
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

TIMEOUT_SLICE = 2_000
"""Vehicles judged for timeouts per turn of the event loop (≈ 3 ms each)."""

JT808_ALARM_LEVELS: Mapping[str, AlarmLevel] = {
    "emergency": AlarmLevel.RED,
    "rollover_warning": AlarmLevel.RED,
    "collision_warning": AlarmLevel.RED,
    "collision_rollover": AlarmLevel.RED,
    "danger_warning": AlarmLevel.ORANGE,
    "overspeed": AlarmLevel.ORANGE,
    "vehicle_stolen": AlarmLevel.ORANGE,
    "illegal_displacement": AlarmLevel.ORANGE,
    "fatigue_driving": AlarmLevel.YELLOW,
    "illegal_ignition": AlarmLevel.YELLOW,
    "illegal_door_open": AlarmLevel.YELLOW,
    "route_deviation": AlarmLevel.YELLOW,
    "fuel_abnormal": AlarmLevel.YELLOW,
    "daily_driving_overtime": AlarmLevel.YELLOW,
    "parking_overtime": AlarmLevel.BLUE,
}
"""Default level per JT/T 808 alarm bit; anything not listed is blue. Editable per site."""

JT808_ALARM_TITLES: Mapping[str, str] = ALARM_LABELS
"""Title per JT/T 808 alarm bit name: the duty officer's label of every bit either edition
names (reserved bits raise no alarm)."""


class RefusedError(ValidationError):
    """An observation was refused (e.g. a reading in the wrong unit); nothing was stored."""


class IngestService:
    """The backend's ``ObservationSink`` for one kind of device (e.g. ``jt808``)."""

    def __init__(
        self,
        *,
        kind: str,
        alarms: AlarmService,
        registry: DeviceRegistry,
        telemetry: TelemetryWriter,
        hub: Hub,
        levels: Mapping[str, AlarmLevel] = JT808_ALARM_LEVELS,
        titles: Mapping[str, str] = JT808_ALARM_TITLES,
        touch_interval: float = 5.0,
        vehicle_rules: VehicleRulesEngine | None = None,
        sensors: SensorService | None = None,
        jurisdictions: JurisdictionTree | None = None,
        terminal_states: TerminalStates | None = None,
    ) -> None:
        self.kind = kind
        self.relay: Callable[[Position, str], None] | None = None
        """Also gets every live fix offered to the hub (the other workers' consoles)."""
        self.relay_reading: Callable[[ReadingView], None] | None = None
        """Also gets every live reading offered to the hub (the other instances' consoles)."""
        self.terminal_states = terminal_states
        """Where the terminals' alarm bits and rule state are kept for a reconnect to
        another process (None: only in this process)."""
        self._alarms = alarms
        self._registry = registry
        self._telemetry = telemetry
        self._hub = hub
        self._levels = levels
        self._titles = titles
        self._last_seen: dict[str, dt.datetime] = {}
        self._vehicle_rules = vehicle_rules
        self._sensors = sensors
        self._jurisdictions = jurisdictions
        self._last_place: dict[str, tuple[float, float, str]] = {}
        """Each device's last fix and the jurisdiction it lies in: a vehicle parked on the
        same coordinates is not placed again, and an alarm without coordinates (a rule's
        timeout, a feed's alarm) lies where the device was last seen."""
        self._loops = [
            Periodic(
                f"last-seen writes ({kind})",
                self._flush_last_seen,
                interval=touch_interval,
                log=logger,
            )
        ]
        if vehicle_rules is not None:
            self._loops.append(
                Periodic(
                    f"vehicle rule timeouts ({kind})",
                    self._check_rule_timeouts,
                    interval=touch_interval,
                    log=logger,
                )
            )

    def start(self) -> None:
        """Start writing last-seen times (and judging rule timeouts) in the background."""
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        """Stop the background work and try once more to write the last-seen times (a
        failure is logged, not raised: shutting down goes on)."""
        for loop in self._loops:
            await loop.stop()
        await self._loops[0].run_once()

    async def submit_many(self, observations: Sequence[Observation]) -> None:
        """Accept several observations in order; returns once all are durable.

        Consecutive positions are stored in one group commit and judged by the vehicle
        rules together: the fast path for a terminal's run of reports.
        """
        run: list[Position] = []
        ruled: set[str] = set()
        for observation in observations:
            if isinstance(observation, Position):
                run.append(observation)
                continue
            if run:
                await self._accept_positions(run, ruled)
                run = []
            await self.submit(observation)
        if run:
            await self._accept_positions(run, ruled)
        # Last: stored only once the alarms it stands for are durable.
        await self._save_terminal_states(observations, ruled)

    async def submit(self, observation: Observation) -> None:
        """Accept one observation; returns once it is durable."""
        match observation:
            case Position():
                ruled: set[str] = set()
                await self._accept_positions((observation,), ruled)
                await self._save_terminal_states((observation,), ruled)
            case Reading():
                if self._sensors is None:
                    await self._telemetry.submit(observation)
                else:
                    verdicts = await self._sensors.accept(observation, self._telemetry.submit)
                    for verdict in verdicts:
                        if isinstance(verdict, Rejected):
                            raise RefusedError(verdict.reason)
                        if isinstance(verdict, Ignored) and verdict.why is IgnoreReason.DUPLICATE:
                            return  # already stored once
                self._seen(observation.device, observation.at)
                config = self._sensors.rules.config(observation.sensor) if self._sensors else None
                view = ReadingView(
                    device=observation.device,
                    sensor=observation.sensor,
                    at=observation.at,
                    value=observation.value,
                    unit=observation.unit,
                    jurisdiction=config.jurisdiction if config is not None else "",
                )
                self._hub.offer_reading(view)
                if self.relay_reading is not None:
                    self.relay_reading(view)
            case DeviceAlarmRaised():
                await self._raise(observation)
            case DeviceStatusChanged():
                await self._registry.set_online(
                    self.kind,
                    observation.device,
                    observation.online,
                    observation.at,
                    observation.reason,
                )

    def remember_places(self, fixes: Sequence[PositionView]) -> None:
        """Start from the devices' last stored fixes (at a restart), so an alarm without
        coordinates lies where its device was last seen even before its next fix."""
        for fix in fixes:
            self._last_place.setdefault(fix.device, (fix.lat, fix.lon, fix.jurisdiction))

    def place_of(self, device: str) -> str:
        """The jurisdiction of the device's last fix ("" when none is known)."""
        last = self._last_place.get(device)
        return last[2] if last is not None else ""

    def _place(self, position: Position) -> str:
        if self._jurisdictions is None:
            return ""
        last = self._last_place.get(position.device)
        if last is not None and last[0] == position.lat and last[1] == position.lon:
            return last[2]
        place = self._jurisdictions.place(position.lat, position.lon)
        if not position.backfill:
            self._last_place[position.device] = (position.lat, position.lon, place)
        return place

    async def _accept_positions(self, positions: Sequence[Position], ruled: set[str]) -> None:
        """Store, judge and offer ``positions``; add the vehicles whose rules decided
        something to ``ruled``."""
        # Placed first: rule alarms decided on these fixes lie where the vehicle now is.
        places = [self._place(position) for position in positions]
        await self._telemetry.submit_many(positions, places)
        rules = self._vehicle_rules
        # The rules' state moves on only with the alarms their decisions stand for: if one
        # cannot be written, the terminals get a failure, resend, and are judged again.
        before = rules.snapshot({p.device for p in positions}) if rules is not None else {}
        decisions: list[RuleDecision] = []
        received_at = utc_now()
        for position in positions:
            self._seen(position.device, position.at)
            if rules is not None:
                decisions.extend(rules.observe(position, received_at=received_at))
        try:
            await self._apply_rule_decisions(decisions)
        except BaseException:
            if rules is not None:
                rules.rollback(before)
            raise
        ruled.update(decision.vehicle for decision in decisions)
        for position, place in zip(positions, places, strict=True):
            if not position.backfill:
                self._hub.offer_position(position, place)
                if self.relay is not None:
                    self.relay(position, place)

    async def _raise(self, observation: DeviceAlarmRaised) -> None:
        device = await self._registry.find(self.kind, observation.device)
        label = device.plate or device.name if device is not None else observation.device
        title = self._titles.get(observation.key, observation.key)
        message = DeviceAlarm(
            ref="",
            key=observation.key,
            alarm_type=f"vehicle_{observation.key}" if self.kind == "jt808" else observation.key,
            level=self._levels.get(observation.key, AlarmLevel.BLUE),
            title=f"{title} {label}",
            description=observation.description,
            lat=observation.lat,
            lon=observation.lon,
            # Until reverse geocoding exists, the coordinates are the place.
            place=(
                f"{observation.lat:.5f}, {observation.lon:.5f}"
                if observation.lat is not None and observation.lon is not None
                else ""
            ),
            # With coordinates the alarm service places it there; else where last seen.
            jurisdiction=self.place_of(observation.device),
            at=observation.at,
        )
        outcome = await self._alarms.raise_from_device(f"{self.kind}:{observation.device}", message)
        logger.info(
            "%s %s: %s → alarm %s%s",
            self.kind,
            observation.device,
            observation.key,
            outcome.alarm.id,
            " (repeat)" if outcome.repeated else "",
        )

    async def _apply_rule_decisions(self, decisions: list[RuleDecision]) -> None:
        """Raise an alarm for each rule hit (one open alarm per vehicle and rule)."""
        for decision in decisions:
            if isinstance(decision, RuleCleared):
                # Clearing an alarm stays an officer's decision (消警 needs feedback).
                logger.info("%s %s: %s cleared", self.kind, decision.vehicle, decision.rule_id)
                continue
            device = await self._registry.find(self.kind, decision.vehicle)
            label = (device.plate or device.name) if device is not None else decision.vehicle
            message = msgspec.structs.replace(
                device_alarm_for(decision, label=label),
                jurisdiction=self.place_of(decision.vehicle),
            )
            outcome = await self._alarms.raise_from_device(
                f"{self.kind}:{decision.vehicle}", message
            )
            logger.info(
                "%s %s: rule %s → alarm %s%s",
                self.kind,
                decision.vehicle,
                decision.rule_id,
                outcome.alarm.id,
                " (repeat)" if outcome.repeated else "",
            )

    async def restore_terminal(self, device: str) -> frozenset[str]:
        """Take ``device``'s stored state (it connected to this process, maybe after
        another had it): its rules' state goes into the rules engine; returns the alarm
        bit names of its last acknowledged live report."""
        if self.terminal_states is None:
            return frozenset()
        remembered = await self.terminal_states.restore(device)
        rules = self._vehicle_rules
        if rules is not None and remembered.rules:
            try:
                stored = decode_rules(device, remembered.rules)
            except TerminalStateError as exc:
                # Never lock a terminal out: judged from scratch, at worst one repeat.
                logger.warning("%s: %s; its rules start afresh", self.kind, exc)
                return remembered.alarms
            local = rules.snapshot((device,))[device]
            if local is not None:
                # The times of its last fix stay; the rules' state is the stored one.
                local.rules = stored.rules
                stored = local
            rules.rollback({device: stored})
        return remembered.alarms

    async def _save_terminal_states(
        self, observations: Sequence[Observation], ruled: set[str]
    ) -> None:
        states = self.terminal_states
        if states is None:
            return
        changes: dict[str, Remembered] = {}
        for observation in observations:
            if isinstance(observation, Position) and not observation.backfill:
                known = changes.get(observation.device) or states.known(observation.device)
                if known is None or known.alarms != observation.alarms:
                    changes[observation.device] = states.with_alarms(
                        observation.device, observation.alarms
                    )
        if ruled and self._vehicle_rules is not None:
            for vehicle, state in self._vehicle_rules.snapshot(ruled).items():
                text = encode_rules(state) if state is not None else ""
                changes[vehicle] = states.with_rules(vehicle, text, changes.get(vehicle))
        await states.save(changes)

    def _seen(self, device: str, at: dt.datetime) -> None:
        previous = self._last_seen.get(device)
        if previous is None or at > previous:
            self._last_seen[device] = at

    async def _check_rule_timeouts(self) -> None:
        rules = self._vehicle_rules
        if rules is None:
            return
        # In slices, letting the loop run between them: all of a large fleet at once
        # held the event loop for ≈ 30 ms per 20,000 vehicles.
        now = utc_now()
        vehicles = rules.vehicles()
        for start in range(0, len(vehicles), TIMEOUT_SLICE):
            decisions = rules.check_timeouts(now, vehicles[start : start + TIMEOUT_SLICE])
            for index, decision in enumerate(decisions):
                try:
                    await self._apply_rule_decisions([decision])
                except BaseException:
                    # Not durable: decided again on the next check.
                    for undone in decisions[index:]:
                        rules.retract(undone)
                    raise
            if decisions:
                await self._save_terminal_states((), {d.vehicle for d in decisions})
            await asyncio.sleep(0)

    async def _flush_last_seen(self) -> None:
        pending, self._last_seen = self._last_seen, {}
        try:
            await self._registry.touch(self.kind, pending)
        except BaseException:
            for device, at in pending.items():  # kept for the next attempt
                self._seen(device, at)
            raise
