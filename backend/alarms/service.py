"""The alarm service: taking alarms in, moving them through their life cycle, dispatching.

Every change runs in one transaction that updates the state tables and appends the event
that records it; only after the commit are the events handed to the fan-out, so nothing
is ever broadcast that is not durable.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.errors import Error
from backend.eventlog import log as eventlog
from backend.jurisdictions.placing import settle
from backend.jurisdictions.tree import JurisdictionTree
from backend.security import FieldCipher, mask_phone
from backend.storage.models import Alarm, Dispatch, Unit
from backend.storage.types import as_utc
from realtime.protocol import (
    AlarmView,
    ContactResult,
    CreateAlarm,
    DeviceAlarm,
    DispatchAlarm,
    DispatchView,
    ErrorCode,
    Event,
    Snapshot,
    TransitionAlarm,
    UnitView,
)
from realtime.states import (
    FINAL_STATES,
    NOTE_REQUIRED,
    AlarmAction,
    AlarmLevel,
    AlarmState,
    allowed_actions,
    next_state,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

RECENTLY_CLOSED = dt.timedelta(hours=24)
"""Closed alarms stay in a console's snapshot this long, so a shift sees what just ended."""

_PHONE_RE = re.compile(r"^[0-9+\-() ]{3,24}$")
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_FINAL = [state.value for state in FINAL_STATES]


@dataclass(frozen=True, slots=True)
class DeviceAlarmOutcome:
    """What became of a device's alarm message."""

    alarm: AlarmView
    repeated: bool


class AlarmService:
    """Commands and queries on alarms; the only code that writes the alarm tables."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        writer: eventlog.EventWriter,
        jurisdictions: JurisdictionTree | None = None,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._write = writer.run
        self._jurisdictions = jurisdictions
        """Places alarms (and seeded units) by their coordinates; None places nothing."""

    def _place(self, lat: float | None, lon: float | None) -> str:
        """The jurisdiction (lat, lon) lies in ("" when unknown or not given)."""
        if self._jurisdictions is None or lat is None or lon is None:
            return ""
        return self._jurisdictions.place(lat, lon)

    # ------------------------------------------------------------------ plumbing

    async def _record(
        self,
        session: AsyncSession,
        events: list[Event],
        alarm: Alarm,
        kind: eventlog.EventKind,
        actor: str,
        *,
        action: AlarmAction | None = None,
        note: str = "",
        at: dt.datetime | None = None,
    ) -> AlarmView:
        """Flush ``alarm``, append the event that records its change (in the same
        transaction) and return the alarm's view as the event carries it."""
        await session.flush()
        view = await self._view(session, alarm)
        events.append(
            await eventlog.append(
                session, kind=kind, actor=actor, alarm=view, action=action, note=note, at=at
            )
        )
        return view

    async def _view(self, session: AsyncSession, alarm: Alarm) -> AlarmView:
        rows = await session.execute(
            select(Dispatch, Unit)
            .join(Unit, Unit.id == Dispatch.unit_id)
            .where(Dispatch.alarm_id == alarm.id)
            .order_by(Dispatch.id)
        )
        dispatches = [
            DispatchView(
                unit_id=unit.id,
                unit_name=unit.name,
                agency=unit.agency,
                note=dispatch.note,
                by=dispatch.by,
                at=dispatch.at,
            )
            for dispatch, unit in rows
        ]
        return AlarmView(
            id=alarm.id,
            version=alarm.version,
            state=AlarmState(alarm.state),
            level=alarm.level,  # type: ignore[arg-type]  # validated on the way in
            alarm_type=alarm.alarm_type,
            title=alarm.title,
            description=alarm.description,
            lat=alarm.lat,
            lon=alarm.lon,
            place=alarm.place,
            jurisdiction=alarm.jurisdiction,
            source=alarm.source,
            source_ref=alarm.source_ref,
            caller_name=alarm.caller_name,
            caller_phone=alarm.caller_phone_masked,
            reported_by=alarm.reported_by,
            count=alarm.count,
            first_seen=alarm.first_seen,
            last_seen=alarm.last_seen,
            updated_at=alarm.updated_at,
            updated_by=alarm.updated_by,
            last_note=alarm.last_note,
            merged_into=alarm.merged_into,
            dispatches=dispatches,
        )

    async def _load(self, session: AsyncSession, alarm_id: int, *, lock: bool = False) -> Alarm:
        query = select(Alarm).where(Alarm.id == alarm_id)
        if lock:
            query = query.with_for_update()
        alarm = await session.scalar(query)
        if alarm is None:
            raise Error(ErrorCode.NOT_FOUND, f"no alarm {alarm_id}")
        return alarm

    # ------------------------------------------------------------------ commands

    async def create_manual(
        self, principal: Principal, command: CreateAlarm, *, client_ref: str | None = None
    ) -> AlarmView:
        """Record an alarm an officer took by phone. ``client_ref`` makes a resend harmless.

        The alarm lies where its coordinates are, when they are given and lie in a known
        jurisdiction; otherwise in the jurisdiction given, else the officer's. Either way
        it must be inside the officer's area.
        """
        _validate_alarm_fields(command.alarm_type, command.title, command.lat, command.lon)
        given = command.jurisdiction or principal.jurisdiction
        jurisdiction = settle(given, self._place(command.lat, command.lon)).code
        authz.check_create_alarm(principal, jurisdiction)
        phone = command.caller_phone.strip()
        if phone and not _PHONE_RE.match(phone):
            raise Error(
                ErrorCode.VALIDATION, f"caller phone {mask_phone(phone)!r} is not a phone number"
            )
        now = dt.datetime.now(dt.UTC)
        # Reporters may use any offset; alarms are kept and sent in UTC.
        occurred = as_utc(command.occurred_at) if command.occurred_at is not None else now

        async def work(session: AsyncSession, events: list[Event]) -> AlarmView:
            if client_ref is not None:
                existing = await session.scalar(select(Alarm).where(Alarm.client_ref == client_ref))
                if existing is not None:
                    return await self._view(session, existing)
            alarm = _new_alarm(
                command,
                jurisdiction=jurisdiction,
                source="manual",
                reporter=principal.username,
                seen=occurred,
                now=now,
                client_ref=client_ref,
                caller_name=command.caller_name.strip(),
                caller_phone_enc=self._cipher.encrypt(phone),
                caller_phone_masked=mask_phone(phone),
            )
            session.add(alarm)
            view = await self._record(
                session, events, alarm, eventlog.EventKind.ALARM_RAISED, principal.username
            )
            return view

        view = await self._write(work)
        logger.info(
            "alarm %s raised by %s (%s, %s)",
            view.id,
            principal.username,
            view.level,
            view.alarm_type,
        )
        return view

    async def device_alarm(self, principal: Principal, message: DeviceAlarm) -> DeviceAlarmOutcome:
        """Record a device feed's alarm; a repeat of one still open raises its count instead."""
        authz.check_device(principal)
        return await self.raise_from_device(principal.username, message)

    async def raise_from_device(self, source: str, message: DeviceAlarm) -> DeviceAlarmOutcome:
        """Record an alarm from ``source`` (a device account or a gateway's terminal id).

        Callers have authorized the source already. While an alarm with the same source and
        ``message.key`` is open, a repeat raises its count and last-seen instead. A new
        alarm with coordinates lies where they are (placed wins over
        ``message.jurisdiction``, which stays for a point outside every jurisdiction).
        """
        _validate_alarm_fields(message.alarm_type, message.title, message.lat, message.lon)
        jurisdiction = settle(message.jurisdiction, self._place(message.lat, message.lon)).code
        if not message.key.strip() or len(message.key) > 64:
            raise Error(ErrorCode.VALIDATION, "an alarm key needs 1 to 64 characters")
        now = dt.datetime.now(dt.UTC)
        # Devices may stamp their local offset (+08:00); alarms are kept and sent in UTC.
        seen = as_utc(message.at) if message.at is not None else now
        dedupe_key = f"{source}:{message.key}"

        async def work(session: AsyncSession, events: list[Event]) -> DeviceAlarmOutcome:
            alarm = await session.scalar(
                select(Alarm)
                .where(Alarm.dedupe_key == dedupe_key, Alarm.state.not_in(_FINAL))
                .order_by(Alarm.id.desc())
                .limit(1)
                .with_for_update()
            )
            if alarm is not None:
                alarm.count += 1
                alarm.last_seen = max(alarm.last_seen, seen)
                view = await self._record(
                    session, events, alarm, eventlog.EventKind.ALARM_REPEATED, source
                )
                return DeviceAlarmOutcome(view, repeated=True)
            alarm = _new_alarm(
                message,
                jurisdiction=jurisdiction,
                source="device",
                reporter=source,
                seen=seen,
                now=now,
                dedupe_key=dedupe_key,
            )
            session.add(alarm)
            view = await self._record(
                session, events, alarm, eventlog.EventKind.ALARM_RAISED, source
            )
            return DeviceAlarmOutcome(view, repeated=False)

        return await self._write(work)

    async def update_from_device(
        self,
        source: str,
        key: str,
        *,
        kind: eventlog.EventKind,
        note: str,
        level: AlarmLevel | None = None,
        at: dt.datetime | None = None,
    ) -> AlarmView | None:
        """Record news about a device's open alarm: a new level, or that it restored.

        ``kind`` is the event kind (``alarm.level_changed``, ``alarm.restored``). The alarm
        stays in its state: clearing (消警) is the officer's decision, with their feedback;
        the note (e.g. the restoring reading) is attached for them. Returns None when no
        alarm of ``source``/``key`` is open.
        """
        dedupe_key = f"{source}:{key}"

        async def work(session: AsyncSession, events: list[Event]) -> AlarmView | None:
            alarm = await session.scalar(
                select(Alarm)
                .where(Alarm.dedupe_key == dedupe_key, Alarm.state.not_in(_FINAL))
                .order_by(Alarm.id.desc())
                .limit(1)
                .with_for_update()
            )
            if alarm is None:
                return None
            now = as_utc(at) if at is not None else dt.datetime.now(dt.UTC)
            if level is not None:
                alarm.level = level.value
            alarm.last_note = note
            alarm.version += 1
            alarm.updated_at = dt.datetime.now(dt.UTC)
            alarm.updated_by = source
            alarm.last_seen = max(alarm.last_seen, now)
            view = await self._record(session, events, alarm, kind, source, note=note)
            return view

        return await self._write(work)

    async def open_device_alarm_keys(self, source_prefix: str) -> list[tuple[str, AlarmLevel]]:
        """``(source:key, level)`` of open alarms whose source starts with ``source_prefix``.

        Rules engines rebuild their state from these at start, so an alarm open before a
        restart is updated rather than raised again.
        """
        async with self._sessions() as session:
            rows = await session.execute(
                select(Alarm.dedupe_key, Alarm.level).where(
                    Alarm.dedupe_key.startswith(source_prefix), Alarm.state.not_in(_FINAL)
                )
            )
            return [(key, AlarmLevel(level)) for key, level in rows if key is not None]

    async def transition(self, principal: Principal, command: TransitionAlarm) -> AlarmView:
        """Apply one life-cycle action, refusing illegal moves and stale versions."""
        if command.action is AlarmAction.DISPATCH:
            raise Error(ErrorCode.VALIDATION, "dispatching needs units: send alarm.dispatch")
        note = command.note.strip()
        if command.action in NOTE_REQUIRED and not note:
            raise Error(ErrorCode.VALIDATION, f"{command.action} needs a note")

        async def work(session: AsyncSession, events: list[Event]) -> AlarmView:
            alarm = await self._load(session, command.alarm_id, lock=True)
            current = await self._view(session, alarm)
            authz.check_action(principal, command.action, current)
            target = _check_transition(alarm, command.action, command.expected_version)
            merge_target: Alarm | None = None
            if command.action is AlarmAction.MERGE:
                merge_target = await self._merge_target(
                    session, principal, alarm, command.merge_into
                )
            now = dt.datetime.now(dt.UTC)
            alarm.state = target.value
            alarm.version += 1
            alarm.updated_at = now
            alarm.updated_by = principal.username
            if note:
                alarm.last_note = note
            if merge_target is not None:
                alarm.merged_into = merge_target.id
                alarm.dedupe_key = None
                merge_target.count += alarm.count
                merge_target.last_seen = max(merge_target.last_seen, alarm.last_seen)
            view = await self._record(
                session,
                events,
                alarm,
                eventlog.EventKind.ALARM_TRANSITIONED,
                principal.username,
                action=command.action,
                note=note,
                at=now,
            )
            if merge_target is not None:
                await self._record(
                    session,
                    events,
                    merge_target,
                    eventlog.EventKind.ALARM_MERGED_IN,
                    principal.username,
                    note=f"#{alarm.id} merged into this alarm",
                    at=now,
                )
            return view

        view = await self._write(work)
        logger.info(
            "alarm %s: %s by %s → %s", view.id, command.action, principal.username, view.state
        )
        return view

    async def _merge_target(
        self, session: AsyncSession, principal: Principal, alarm: Alarm, merge_into: int | None
    ) -> Alarm:
        if merge_into is None:
            raise Error(ErrorCode.VALIDATION, "merge needs merge_into: the alarm to merge into")
        if merge_into == alarm.id:
            raise Error(ErrorCode.VALIDATION, "an alarm cannot be merged into itself")
        target = await self._load(session, merge_into, lock=True)
        if AlarmState(target.state) in FINAL_STATES:
            raise Error(
                ErrorCode.ILLEGAL_TRANSITION,
                f"alarm {merge_into} is {target.state}; merge only into an open alarm",
            )
        if not authz.can_see(principal, await self._view(session, target)):
            raise Error(ErrorCode.FORBIDDEN, f"alarm {merge_into} is not in your area")
        return target

    async def dispatch(self, principal: Principal, command: DispatchAlarm) -> AlarmView:
        """Send units to an alarm (派警), moving it to dispatched where that applies."""
        if not command.unit_ids:
            raise Error(ErrorCode.VALIDATION, "choose at least one unit to dispatch")
        if len(set(command.unit_ids)) != len(command.unit_ids):
            raise Error(ErrorCode.VALIDATION, "a unit is listed twice")

        async def work(session: AsyncSession, events: list[Event]) -> AlarmView:
            alarm = await self._load(session, command.alarm_id, lock=True)
            current = await self._view(session, alarm)
            authz.check_action(principal, AlarmAction.DISPATCH, current)
            target = _check_transition(alarm, AlarmAction.DISPATCH, command.expected_version)
            units = {
                unit.id: unit
                for unit in await session.scalars(select(Unit).where(Unit.id.in_(command.unit_ids)))
            }
            missing = sorted(set(command.unit_ids) - set(units))
            if missing:
                raise Error(ErrorCode.VALIDATION, f"no such unit: {', '.join(map(str, missing))}")
            already = {d.unit_id for d in current.dispatches} & set(command.unit_ids)
            if already:
                names = ", ".join(units[unit_id].name for unit_id in sorted(already))
                raise Error(ErrorCode.VALIDATION, f"already dispatched: {names}")
            for unit in units.values():
                if not authz.in_jurisdiction(principal, unit.jurisdiction):
                    raise Error(ErrorCode.FORBIDDEN, f"unit {unit.name} is outside your area")
            now = dt.datetime.now(dt.UTC)
            note = command.note.strip()
            for unit_id in command.unit_ids:
                session.add(
                    Dispatch(
                        alarm_id=alarm.id, unit_id=unit_id, note=note, by=principal.username, at=now
                    )
                )
            alarm.state = target.value
            alarm.version += 1
            alarm.updated_at = now
            alarm.updated_by = principal.username
            if note:
                alarm.last_note = note
            view = await self._record(
                session,
                events,
                alarm,
                eventlog.EventKind.ALARM_DISPATCHED,
                principal.username,
                action=AlarmAction.DISPATCH,
                note=note,
                at=now,
            )
            return view

        view = await self._write(work)
        logger.info(
            "alarm %s dispatched by %s to %s", view.id, principal.username, command.unit_ids
        )
        return view

    async def reveal_contact(
        self, principal: Principal, alarm_id: int, reason: str
    ) -> ContactResult:
        """Return the caller's full phone number; the read itself is an audited event."""
        if not reason.strip():
            raise Error(ErrorCode.VALIDATION, "say why you need the caller's number")

        async def work(session: AsyncSession, events: list[Event]) -> ContactResult:
            alarm = await self._load(session, alarm_id)
            view = await self._view(session, alarm)
            authz.check_reveal_contact(principal, view)
            events.append(
                await eventlog.append(
                    session,
                    kind=eventlog.EventKind.CONTACT_REVEALED,
                    actor=principal.username,
                    alarm=view,
                    note=reason.strip(),
                )
            )
            return ContactResult(
                alarm_id=alarm.id,
                caller_name=alarm.caller_name,
                caller_phone=self._cipher.decrypt(alarm.caller_phone_enc),
            )

        return await self._write(work)

    # ------------------------------------------------------------------ queries

    async def list_units(self, principal: Principal) -> list[UnitView]:
        """Return the units the principal may dispatch (or, for an agency, its own)."""
        async with self._sessions() as session:
            units = await session.scalars(select(Unit).order_by(Unit.agency, Unit.code))
            return [
                UnitView(
                    id=u.id,
                    code=u.code,
                    name=u.name,
                    agency=u.agency,
                    jurisdiction=u.jurisdiction,
                    lat=u.lat,
                    lon=u.lon,
                )
                for u in units
                if authz.in_jurisdiction(principal, u.jurisdiction)
                and (principal.agency is None or principal.agency == u.agency)
            ]

    async def history(self, principal: Principal, alarm_id: int) -> list[Event]:
        """Return every event of an alarm the principal may see."""
        async with self._sessions() as session:
            alarm = await self._load(session, alarm_id)
            if not authz.can_see(principal, await self._view(session, alarm)):
                raise Error(ErrorCode.FORBIDDEN, f"alarm {alarm_id} is not in your area or agency")
            return await eventlog.events_of_alarm(session, alarm_id)

    async def snapshot(self, principal: Principal) -> Snapshot:
        """Return open alarms and those closed recently, as the principal may see them.

        Read in one transaction with the head ``seq`` so the snapshot and its seq agree.
        """
        since = dt.datetime.now(dt.UTC) - RECENTLY_CLOSED
        async with self._sessions() as session, session.begin():
            head = await eventlog.head_seq(session)
            alarms = await session.scalars(
                select(Alarm)
                .where(Alarm.state.not_in(_FINAL) | (Alarm.updated_at >= since))
                .order_by(Alarm.id)
            )
            views = [await self._view(session, alarm) for alarm in alarms]
        return Snapshot(head_seq=head, alarms=[v for v in views if authz.can_see(principal, v)])

    async def seed_units(self, units: Sequence[UnitView]) -> int:
        """Insert registry units whose code is new; return how many were added.

        A unit lies where it is based (placed wins over the file's jurisdiction, logged)."""
        async with self._sessions.begin() as session:
            known = set(await session.scalars(select(Unit.code)))
            added = 0
            for unit in units:
                if unit.code in known:
                    continue
                settled = settle(
                    unit.jurisdiction, self._place(unit.lat, unit.lon), what=f"unit {unit.code}"
                )
                if settled.warning:
                    logger.warning("%s", settled.warning)
                session.add(
                    Unit(
                        code=unit.code,
                        name=unit.name,
                        agency=unit.agency,
                        jurisdiction=settled.code,
                        lat=unit.lat,
                        lon=unit.lon,
                    )
                )
                added += 1
        return added


def _validate_alarm_fields(
    alarm_type: str, title: str, lat: float | None, lon: float | None
) -> None:
    if not _TYPE_RE.match(alarm_type):
        raise Error(
            ErrorCode.VALIDATION, f"alarm type {alarm_type!r} must be a lower-case code like 'fire'"
        )
    if not title.strip():
        raise Error(ErrorCode.VALIDATION, "an alarm needs a title")
    if (lat is None) != (lon is None):
        raise Error(ErrorCode.VALIDATION, "give both latitude and longitude, or neither")


def _check_transition(alarm: Alarm, action: AlarmAction, expected_version: int) -> AlarmState:
    state = AlarmState(alarm.state)
    target = next_state(state, action)
    if target is None:
        allowed = ", ".join(allowed_actions(state)) or "nothing"
        raise Error(
            ErrorCode.ILLEGAL_TRANSITION,
            f"alarm {alarm.id} is {state}: cannot {action} (allowed: {allowed})",
        )
    if expected_version != alarm.version:
        raise Error(
            ErrorCode.STALE_VERSION,
            f"alarm {alarm.id} changed (now version {alarm.version}, you saw {expected_version}): "
            "reload it and decide again",
        )
    return target


def _new_alarm(
    report: CreateAlarm | DeviceAlarm,
    *,
    jurisdiction: str,
    source: str,
    reporter: str,
    seen: dt.datetime,
    now: dt.datetime,
    dedupe_key: str | None = None,
    client_ref: str | None = None,
    caller_name: str = "",
    caller_phone_enc: str = "",
    caller_phone_masked: str = "",
) -> Alarm:
    """A new alarm row from an officer's or a device's report: version 1, state new."""
    return Alarm(
        version=1,
        state=AlarmState.NEW.value,
        level=report.level.value,
        alarm_type=report.alarm_type,
        title=report.title.strip(),
        description=report.description,
        lat=report.lat,
        lon=report.lon,
        place=report.place,
        jurisdiction=jurisdiction,
        source=source,
        source_ref=reporter,
        dedupe_key=dedupe_key,
        client_ref=client_ref,
        caller_name=caller_name,
        caller_phone_enc=caller_phone_enc,
        caller_phone_masked=caller_phone_masked,
        reported_by=reporter,
        count=1,
        first_seen=seen,
        last_seen=seen,
        created_at=now,
        updated_at=now,
        updated_by=reporter,
        last_note="",
    )
