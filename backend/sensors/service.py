"""Sensors at major hazard sources and coal mines: their rules applied to live readings.

Wraps the sans-I/O :class:`~backend.sensors.rules.SensorRules` with what it needs from the
outside: the sensor registry and the last readings at start, open alarms (so a restart
does not raise them twice), a clock for the stale rule, and the alarm service for its
decisions. Also runs the time-series maintenance (rollup, retention).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.alarms.service import AlarmService
from backend.jurisdictions.placing import settle
from backend.jurisdictions.tree import JurisdictionTree
from backend.runtime.clock import utc_now
from backend.runtime.leases import Leases
from backend.runtime.periodic import Periodic
from backend.sensors import registry as sensor_registry
from backend.sensors import timeseries
from backend.sensors.rules import (
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
    RuleKey,
    SensorConfig,
    SensorRules,
)
from devices.observations import Reading
from realtime.event_kinds import EventKind
from realtime.protocol import DeviceAlarm, ReadingView
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

SOURCE_PREFIX = "sensor:"

RULE_TITLES = {
    RuleKey.THRESHOLD_HIGH: "超限",
    RuleKey.THRESHOLD_LOW: "低于下限",
    RuleKey.RATE_RISE: "上升过快",
    RuleKey.RATE_FALL: "下降过快",
    RuleKey.OFFLINE: "传感器离线",
}


def place_sensor(
    config: SensorConfig, jurisdictions: JurisdictionTree | None
) -> tuple[SensorConfig, str]:
    """``config`` with the jurisdiction it stands in (placed wins over a given code that
    disagrees), and the warning to show when they disagreed."""
    if jurisdictions is None:
        return config, ""
    settled = settle(
        config.jurisdiction,
        jurisdictions.place(config.lat, config.lon),
        what=f"sensor {config.sensor_id}",
    )
    if settled.code == config.jurisdiction:
        return config, settled.warning
    return dataclasses.replace(config, jurisdiction=settled.code), settled.warning


def _source(sensor_id: str) -> str:
    return f"{SOURCE_PREFIX}{sensor_id}"


class SensorService:
    """Evaluates readings against each sensor's thresholds and turns decisions into alarms."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        alarms: AlarmService,
        *,
        tick_interval: float = 1.0,
        maintenance: bool = True,
        jurisdictions: JurisdictionTree | None = None,
        leases: Leases | None = None,
    ) -> None:
        self._sessions = sessions
        self._alarms = alarms
        self._jurisdictions = jurisdictions
        self.rules = SensorRules(now=utc_now())
        self.on_stored: Callable[[Reading], Awaitable[None]] | None = None
        """Called with each reading once it and its alarms are stored (early warnings);
        its failures are its own: the reading stays stored."""
        self._ticker = Periodic(
            "sensor-rules-tick",
            self._tick,
            interval=tick_interval,
            log=logger,
            lease=leases.lease("sensor stale checks") if leases is not None else None,
        )
        self._maintenance = (
            timeseries.TimeSeriesMaintenance(
                sessions,
                lease=leases.lease("time-series maintenance") if leases is not None else None,
            )
            if maintenance
            else None
        )

    async def start(self) -> list[ReadingView]:
        """Load the sensors, rebuild their state, start the stale clock and maintenance.

        Returns the newest stored reading of each sensor (what the state was rebuilt from).
        """
        now = utc_now()
        async with self._sessions() as session:
            configs = await sensor_registry.load_sensors(session)
            stored = await timeseries.latest_reading_views(session)
        latest = {view.sensor: view for view in stored}
        open_levels: dict[str, dict[RuleKey, AlarmLevel]] = {}
        for dedupe_key, level in await self._alarms.open_device_alarm_keys(SOURCE_PREFIX):
            sensor_id, _, rule = dedupe_key.removeprefix(SOURCE_PREFIX).rpartition(":")
            if rule in RuleKey.__members__.values():
                open_levels.setdefault(sensor_id, {})[RuleKey(rule)] = level
        missed: list[Decision] = []
        for config in configs:
            self.rules.configure(config, now=now)
            point = latest.get(config.sensor_id)
            self.rules.restore_state(
                config.sensor_id,
                last_at=point.at if point else None,
                last_value=point.value if point else None,
                active_levels=open_levels.get(config.sensor_id),
            )
            missed += self.rules.recover(config.sensor_id)
        if missed:
            # The process stopped after storing these readings and before their alarms.
            logger.warning("raising %s sensor alarms missed before the restart", len(missed))
            await self.apply(missed)
        logger.info("watching %s sensors", len(configs))
        self._ticker.start()
        if self._maintenance is not None:
            self._maintenance.start()
        return [self.with_jurisdiction(view) for view in stored]

    def with_jurisdiction(self, view: ReadingView) -> ReadingView:
        """``view`` carrying its sensor's jurisdiction (readings are scoped by it)."""
        config = self.rules.config(view.sensor)
        if config is None or config.jurisdiction == view.jurisdiction:
            return view
        return msgspec.structs.replace(view, jurisdiction=config.jurisdiction)

    async def stop(self) -> None:
        """Stop the stale clock and the maintenance."""
        await self._ticker.stop()
        if self._maintenance is not None:
            await self._maintenance.stop()

    async def add_sensors(self, configs: Iterable[SensorConfig], *, only_new: bool = False) -> int:
        """Store sensors (insert or update) and start watching them; return how many.

        With ``only_new``, sensors already registered are left as they are (seeding must
        not undo thresholds someone edited). Each sensor lies where it stands
        (:func:`place_sensor`).
        """
        now = utc_now()
        count = 0
        async with self._sessions.begin() as session:
            known = {c.sensor_id for c in await sensor_registry.load_sensors(session)}
            for given in configs:
                if only_new and given.sensor_id in known:
                    continue
                config, warning = place_sensor(given, self._jurisdictions)
                if warning:
                    logger.warning("%s", warning)
                await sensor_registry.save_sensor(session, config, now=now)
                self.rules.configure(config, now=now)
                count += 1
        return count

    async def reload(self, sensor_ids: Collection[str] | None = None) -> int:
        """Put the stored rules of ``sensor_ids`` (None: every sensor) in force at once,
        as another process (an instance, ``dutydesk sensor rules``) left them; sensors
        disabled or gone stop being watched. Return how many changed.

        A sensor whose rules changed keeps its last reading and the open alarms its new
        rules still define (:meth:`SensorRules.configure`).
        """
        now = utc_now()
        async with self._sessions() as session:
            stored = {c.sensor_id: c for c in await sensor_registry.load_sensors(session)}
        wanted = set(stored) | {c.sensor_id for c in self.rules.configs()}
        if sensor_ids is not None:
            wanted &= set(sensor_ids)
        changed = 0
        for sensor_id in sorted(wanted):
            config = stored.get(sensor_id)
            if config is None:
                self.rules.remove(sensor_id)
                changed += 1
            elif self.rules.config(sensor_id) != config:
                self.rules.configure(config, now=now)
                changed += 1
        if changed:
            logger.info("sensor rules reloaded: %s sensors changed", changed)
        return changed

    async def accept(
        self, reading: Reading, store: Callable[[Reading], Awaitable[None]]
    ) -> list[Decision]:
        """Judge ``reading``, ``store`` it and carry out the decisions; return them.

        A reading the rules reject, or one already stored (a duplicate), is not stored:
        the caller acts on the :class:`Rejected` or :class:`Ignored` returned. The rules'
        state moves on only once the reading and the alarms it causes are durable: if
        ``store`` or an alarm write fails, the state is rolled back, so the device's
        resend is judged (and stored) again instead of being taken for a duplicate.
        """
        before = self.rules.snapshot(reading.sensor)
        decisions = self.rules.observe(reading, received_at=utc_now())
        for decision in decisions:
            if isinstance(decision, Rejected) or (
                isinstance(decision, Ignored) and decision.why is IgnoreReason.DUPLICATE
            ):
                return decisions
        try:
            await store(reading)
            await self.apply(decisions)
        except BaseException:
            self.rules.rollback(reading.sensor, before)
            raise
        if self.on_stored is not None:
            await self.on_stored(reading)
        return decisions

    async def apply(self, decisions: Iterable[Decision]) -> None:
        """Carry out the rules' decisions on alarms."""
        for decision in decisions:
            match decision:
                case Raise() | Recur():
                    await self._raise(decision)
                case Offline():
                    await self._raise_offline(decision)
                case Escalate() | DeEscalate():
                    unit = self._unit(decision.sensor_id)
                    verb = "升级" if isinstance(decision, Escalate) else "降级"
                    await self._alarms.update_from_device(
                        _source(decision.sensor_id),
                        decision.rule.value,
                        kind=EventKind.ALARM_LEVEL_CHANGED,
                        level=decision.level,
                        note=f"{verb}：{decision.previous} → {decision.level}，"
                        f"读数 {decision.value:g} {unit}",
                        at=decision.at,
                    )
                case Clear():
                    unit = self._unit(decision.sensor_id)
                    await self._alarms.update_from_device(
                        _source(decision.sensor_id),
                        decision.rule.value,
                        kind=EventKind.ALARM_RESTORED,
                        note=f"已恢复：读数 {decision.value:g} {unit}"
                        f"（恢复值 {decision.restore:g}），{decision.at.isoformat()}；请核实后消警",
                        at=decision.at,
                    )
                case Online():
                    await self._alarms.update_from_device(
                        _source(decision.sensor_id),
                        decision.rule.value,
                        kind=EventKind.ALARM_RESTORED,
                        note=f"数据已恢复（{decision.at.isoformat()}）；请核实后消警",
                        at=decision.at,
                    )
                case _:
                    pass  # Rejected/Ignored are handled by the caller before storing

    def _unit(self, sensor_id: str) -> str:
        config = self.rules.config(sensor_id)
        return config.unit if config is not None else ""

    async def _raise(self, decision: Raise | Recur) -> None:
        config = self.rules.config(decision.sensor_id)
        name = (config.name or decision.sensor_id) if config else decision.sensor_id
        unit = config.unit if config else ""
        what = RULE_TITLES.get(decision.rule, decision.rule.value)
        await self._alarms.raise_from_device(
            _source(decision.sensor_id),
            DeviceAlarm(
                ref="",
                key=decision.rule.value,
                alarm_type=f"sensor_{decision.rule.value}",
                level=decision.level,
                title=f"{name} {what} {decision.value:g} {unit}".strip()[:200],
                description=f"读数 {decision.value:g} {unit}，限值 {decision.threshold:g}"
                + (f"（{config.hazard_source}）" if config and config.hazard_source else ""),
                lat=config.lat if config else None,
                lon=config.lon if config else None,
                place=(config.place if config else "")[:200],
                jurisdiction=config.jurisdiction if config else "",
                at=decision.at,
            ),
        )

    async def _raise_offline(self, decision: Offline) -> None:
        config = self.rules.config(decision.sensor_id)
        name = (config.name or decision.sensor_id) if config else decision.sensor_id
        await self._alarms.raise_from_device(
            _source(decision.sensor_id),
            DeviceAlarm(
                ref="",
                key=RuleKey.OFFLINE.value,
                alarm_type="sensor_offline",
                level=decision.level,
                title=f"{name} 传感器离线"[:200],
                description=f"{decision.silent_seconds:.0f} 秒无数据",
                lat=config.lat if config else None,
                lon=config.lon if config else None,
                place=(config.place if config else "")[:200],
                jurisdiction=config.jurisdiction if config else "",
                at=decision.at,
            ),
        )

    async def _tick(self) -> None:
        decisions = self.rules.tick(utc_now())
        for index, decision in enumerate(decisions):
            try:
                await self.apply((decision,))
            except BaseException:
                # Not durable: decided again on the next tick.
                for undone in decisions[index:]:
                    self.rules.retract(undone)
                raise
