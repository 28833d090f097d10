"""Early warnings (预警) on the server: the detector fed with readings as they are stored,
its decisions written to ``early_warnings`` with their events, and the console's
commands (``warning.list``, ``warning.act``, ``sensor.projection``).

Writes are idempotent across instances: a condition has at most one open row (the
``open_key`` unique constraint); a raise that finds one merges into it. A warning never
enters the alarm queue. Weather alerts are :mod:`backend.early_warning.weather`'s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz.policy import can_see_warning
from backend.authz.principal import Principal
from backend.authz.scope import hidden, sees_jurisdiction
from backend.early_warning import store
from backend.early_warning.detector import (
    MAX_BUFFER,
    Clear,
    Decision,
    Detector,
    Escalate,
    Finding,
    Raise,
    WarningSettings,
    project,
)
from backend.early_warning.trend import rank
from backend.errors import Error, ValidationError
from backend.eventlog import log as eventlog
from backend.runtime.clock import utc_now
from backend.runtime.leases import Lease
from backend.runtime.periodic import Periodic
from backend.sensors.rules import SensorConfig
from backend.storage.models import EarlyWarningRow, RegistryItem
from devices.observations import Reading
from realtime.event_kinds import EventKind
from realtime.protocol import ErrorCode
from realtime.protocol.early_warning import (
    EarlyWarningView,
    ProjectionResult,
    TrendProjection,
    WarningAction,
    WarningLevel,
    WarningSource,
    WarningState,
)
from realtime.ratelimit import UserRateLimit

logger = logging.getLogger(__name__)

ACTOR: Final = "early-warning"
"""Who raises, changes and clears warnings in the event log."""
WEATHER_IMPORTS_PER_MINUTE: Final = 20
"""Per user (``weather.import``): an alert is parsed, checked and laid over every hazard
source of the area; a weather service sends a handful an hour."""
LIST_LIMIT: Final = 500
ENDED_LOOKBACK: Final = dt.timedelta(hours=24)
"""``warning.list`` with ended ones and no ``since``: those of the last day."""
HOUSEKEEPING_INTERVAL: Final = 30.0
"""Seconds between reloads of the hazard sources and checks of weather expiry."""


class Watcher(Protocol):
    """Something the service starts and stops with itself (the weather folder)."""

    def start(self) -> None:
        """Start watching."""

    async def stop(self) -> None:
        """Stop watching."""


@dataclass(frozen=True, slots=True)
class HazardSource:
    """A hazard source of the registry, as warnings need it."""

    code: str
    name: str
    jurisdiction: str
    lat: float | None
    lon: float | None
    sensors: tuple[str, ...]


async def load_hazard_sources(session: AsyncSession) -> dict[str, HazardSource]:
    """The registry's hazard sources in service (retired ones left out)."""
    rows = await session.scalars(
        select(RegistryItem).where(
            RegistryItem.kind == "hazard_source", RegistryItem.retired.is_(False)
        )
    )
    found: dict[str, HazardSource] = {}
    for row in rows:
        sensors = row.details.get("sensors") or []
        found[row.code] = HazardSource(
            row.code,
            row.name,
            row.jurisdiction,
            row.lat,
            row.lon,
            tuple(str(s) for s in sensors if isinstance(s, str)),
        )
    return found


class EarlyWarningService:
    """Raises, merges and clears warnings; answers the console's warning commands."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        sensor_config: Callable[[str], SensorConfig | None],
        *,
        settings: WarningSettings | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        lease: Lease | None = None,
    ) -> None:
        self._sessions = sessions
        self.writer = writer
        self._sensor_config = sensor_config
        self.settings = settings or WarningSettings()
        self.clock = clock
        self.detector = Detector(self.settings, self.config_of)
        self.weather_imports = UserRateLimit(WEATHER_IMPORTS_PER_MINUTE)
        """Each user's budget of ``weather.import``."""
        self.hazard_sources: dict[str, HazardSource] = {}
        self._hazard_of_sensor: dict[str, str] = {}
        self._hazard_by_name: dict[str, str] = {}
        self._placed: dict[str, tuple[SensorConfig, SensorConfig]] = {}
        self._housekeeping = Periodic(
            "early-warning-housekeeping",
            self.housekeeping,
            interval=HOUSEKEEPING_INTERVAL,
            log=logger,
            lease=lease,
        )
        self.folder: Watcher | None = None
        """Set when CAP files are picked up from a folder (``serve --weather-dir``)."""
        self.expire_weather: Callable[[], Awaitable[None]] | None = None
        """Set by the weather module: ends the weather warnings past their expiry."""

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Load the hazard sources and the open warnings (their conditions stay raised,
        so they clear when the readings say so), then start the housekeeping."""
        async with self._sessions() as session:
            self.set_hazard_sources(await load_hazard_sources(session))
            rows = await store.open_warnings(session)
        for row in rows:
            source = WarningSource(row.source)
            if source is not WarningSource.WEATHER:
                self.detector.restore((source, row.subject), WarningLevel(row.level))
        logger.info("early warning: %s open warnings", len(rows))
        self._housekeeping.start()
        if self.folder is not None:
            self.folder.start()

    async def stop(self) -> None:
        """Stop the housekeeping (and the folder's scans)."""
        if self.folder is not None:
            await self.folder.stop()
        await self._housekeeping.stop()

    async def housekeeping(self) -> None:
        """Reload the hazard sources; end the weather warnings that expired."""
        async with self._sessions() as session:
            self.set_hazard_sources(await load_hazard_sources(session))
        if self.expire_weather is not None:
            await self.expire_weather()

    def set_hazard_sources(self, sources: dict[str, HazardSource]) -> None:
        """Put the registry's hazard sources in force (co-rise groups, names, areas)."""
        self.hazard_sources = sources
        self._hazard_of_sensor = {s: h.code for h in sources.values() for s in h.sensors}
        # Sensor configurations may name their hazard source instead of giving its code.
        self._hazard_by_name = {h.name: h.code for h in sources.values()}
        self._placed.clear()

    def config_of(self, sensor_id: str) -> SensorConfig | None:
        """The sensor's rules, with the code of the hazard source the registry attaches it
        to (else of the one its own configuration names or codes)."""
        config = self._sensor_config(sensor_id)
        if config is None:
            return None
        hazard = self._hazard_of_sensor.get(sensor_id) or self._hazard_by_name.get(
            config.hazard_source, config.hazard_source
        )
        if hazard == config.hazard_source:
            return config
        cached = self._placed.get(sensor_id)
        if cached is None or cached[0] is not config:
            cached = (config, dataclasses.replace(config, hazard_source=hazard))
            self._placed[sensor_id] = cached
        return cached[1]

    # ------------------------------------------------------------------ readings

    async def observe(self, reading: Reading) -> None:
        """Take a reading just stored: evaluate it and write what it decides. A database
        failure is logged and the decision undone (it is decided again later); the
        reading itself is stored already and never refused for it."""
        for decision in self.detector.observe(reading.sensor, reading.at, reading.value):
            try:
                await self.apply(decision)
            except SQLAlchemyError as exc:
                logger.warning("early warning %s not written: %s", decision.key, exc)
                self.detector.undo(decision)

    async def apply(self, decision: Decision) -> EarlyWarningView | None:
        """Write one decision (another instance may have raised the same condition at
        the same moment: then it merges)."""
        try:
            return await self.writer.run(functools.partial(self._write, decision))
        except IntegrityError:
            return await self.writer.run(functools.partial(self._write, decision))

    async def _write(
        self, decision: Decision, session: AsyncSession, events: list[Any]
    ) -> EarlyWarningView | None:
        row = await store.load_open(session, store.open_key(*decision.key), lock=True)
        now = self.clock()
        if isinstance(decision, Clear):
            if row is None:
                return None
            return await self.end(
                session, events, row, state=WarningState.CLEARED, note=decision.note, now=now
            )
        if row is None:
            if isinstance(decision, Escalate):
                return None  # closed by an officer meanwhile: stays closed until it clears
            row = self._new_row(decision, now)
            session.add(row)
            await session.flush()
            return await self.emit(
                session, events, row, kind=EventKind.WARNING_RAISED, note="", now=now
            )
        note = self._merge(row, decision)
        row.updated_at = now
        row.version += 1
        return await self.emit(
            session, events, row, kind=EventKind.WARNING_CHANGED, note=note, now=now
        )

    def _where(self, decision: Finding) -> tuple[str, str]:
        """(jurisdiction, hazard source name) of a decision's warning."""
        hazard = self.hazard_sources.get(decision.hazard_source)
        if hazard is not None:
            return hazard.jurisdiction, hazard.name
        config = self._sensor_config(decision.sensors[0]) if decision.sensors else None
        return (config.jurisdiction if config is not None else ""), decision.hazard_source

    def _new_row(self, decision: Raise | Escalate, now: dt.datetime) -> EarlyWarningRow:
        source, subject = decision.key
        jurisdiction, hazard_name = self._where(decision)
        title = decision.title
        if source is WarningSource.CO_RISE and hazard_name:
            title = f"{hazard_name} {title}"
        return EarlyWarningRow(
            version=1,
            open_key=store.open_key(source, subject),
            source=source.value,
            subject=subject,
            level=decision.level.value,
            state=WarningState.ACTIVE.value,
            title=title[:200],
            detail=decision.detail,
            jurisdiction=jurisdiction,
            hazard_source=decision.hazard_source,
            sensors=list(decision.sensors),
            raised_at=decision.at,
            updated_at=now,
            count=1,
            predicted_at=decision.predicted_at,
            projection=store.to_json(decision.projection),
            weather=None,
            alert_key="",
            acknowledged_by="",
            closed_by="",
            note="",
        )

    def _merge(self, row: EarlyWarningRow, decision: Finding) -> str:
        notes: list[str] = []
        if isinstance(decision, Raise):
            row.count += 1
            notes.append(f"再次触发，已合并（第 {row.count} 次）")
        if rank(decision.level) > rank(WarningLevel(row.level)):
            row.level = decision.level.value
            notes.append(f"级别升为 {decision.level.value}")
        title = decision.title
        if decision.key[0] is WarningSource.CO_RISE:
            title = row.title  # keeps the hazard source's name
        row.title = title[:200]
        row.detail = decision.detail
        row.sensors = sorted(set(row.sensors) | set(decision.sensors))
        row.predicted_at = decision.predicted_at
        row.projection = store.to_json(decision.projection)
        return "；".join(notes)

    async def end(
        self,
        session: AsyncSession,
        events: list[Any],
        row: EarlyWarningRow,
        *,
        state: WarningState,
        note: str,
        now: dt.datetime,
    ) -> EarlyWarningView:
        """End an open warning (cleared or closed) inside the caller's transaction."""
        row.state = state.value
        row.open_key = None
        row.ended_at = now
        row.updated_at = now
        row.version += 1
        row.note = note[:500]
        return await self.emit(
            session, events, row, kind=EventKind.WARNING_ENDED, note=note, now=now
        )

    async def emit(
        self,
        session: AsyncSession,
        events: list[Any],
        row: EarlyWarningRow,
        *,
        kind: EventKind,
        note: str,
        now: dt.datetime | None = None,
    ) -> EarlyWarningView:
        """Append the event of a change to ``row`` inside the caller's transaction."""
        now = now or self.clock()
        view = store.view_of(row)
        draft = eventlog.Draft(kind, ACTOR, note=note[:500], at=now, early_warning=view)
        events.extend(await eventlog.append_many(session, (draft,)))
        return view

    # ------------------------------------------------------------------ commands

    async def list(
        self, principal: Principal, *, include_ended: bool, since: dt.datetime | None
    ) -> list[EarlyWarningView]:
        """The open warnings of the principal's area (and the ended ones since ``since``,
        default the last day, with ``include_ended``)."""
        if include_ended and since is None:
            since = self.clock() - ENDED_LOOKBACK
        async with self._sessions() as session:
            rows = await store.warnings_of_area(
                session,
                principal.jurisdiction,
                since=since if include_ended else None,
                limit=LIST_LIMIT,
            )
        return [store.view_of(row) for row in rows if can_see_warning(principal, row.jurisdiction)]

    async def act(
        self,
        principal: Principal,
        warning_id: int,
        version: int,
        action: WarningAction,
        note: str,
    ) -> EarlyWarningView:
        """Acknowledge or close a warning at the version read (a newer one:
        ``stale_version``). Closing an open warning needs a note (its condition still
        holds, as far as the server knows)."""
        note = note.strip()

        async def work(session: AsyncSession, events: list[Any]) -> EarlyWarningView:
            row = await session.get(EarlyWarningRow, warning_id, with_for_update=True)
            if row is None or not can_see_warning(principal, row.jurisdiction):
                raise hidden("warning")
            if row.version != version:
                raise Error(
                    ErrorCode.STALE_VERSION,
                    f"the warning changed (now version {row.version}, you saw {version}): "
                    "reload it and decide again",
                )
            if row.state not in store.OPEN_STATES:
                raise ValidationError(f"the warning has ended already ({row.state})")
            now = self.clock()
            if action is WarningAction.CLOSE:
                if not note:
                    raise ValidationError(
                        "closing a warning whose condition still holds needs a note (why)"
                    )
                row.closed_by = principal.username
                return await self.end(
                    session, events, row, state=WarningState.CLOSED, note=note, now=now
                )
            if row.state == WarningState.ACKNOWLEDGED.value:
                raise ValidationError("the warning is acknowledged already")
            row.state = WarningState.ACKNOWLEDGED.value
            row.acknowledged_by = principal.username
            row.updated_at = now
            row.version += 1
            if note:
                row.note = note[:500]
            return await self.emit(
                session, events, row, kind=EventKind.WARNING_CHANGED, note=note or "已确认", now=now
            )

        view = await self.writer.run(work)
        logger.info("warning %s %s by %s", warning_id, action.value, principal.username)
        return view

    async def projection(
        self, principal: Principal, sensor_id: str, horizon_s: int | None
    ) -> ProjectionResult:
        """The current fit of a sensor in the principal's area, from its stored readings."""
        config = self.config_of(sensor_id)
        if config is None or not sees_jurisdiction(principal, config.jurisdiction):
            raise hidden("sensor")
        async with self._sessions() as session:
            points = await store.recent_readings(
                session, sensor_id, window_s=self.settings.window_s, limit=MAX_BUFFER
            )
        result = project(config, points, self.settings, horizon_s=horizon_s)
        if isinstance(result, TrendProjection):
            return ProjectionResult(sensor=sensor_id, projection=result)
        return ProjectionResult(sensor=sensor_id, reason=result)
