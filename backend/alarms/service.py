"""The alarm service: taking alarms in, moving them through their life cycle, dispatching.

Every change runs in one transaction that updates the state tables and appends the event
that records it; only after the commit are the events handed to the fan-out, so nothing
is ever broadcast that is not durable.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.alarms import grants
from backend.alarms.reveals import RevealLimit
from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.errors import Error
from backend.eventlog import log as eventlog
from backend.jurisdictions.placing import settle
from backend.jurisdictions.tree import JurisdictionTree
from backend.runtime.clock import utc_now
from backend.security import (
    SENSITIVE_PLACEHOLDER,
    FieldCipher,
    mask_address,
    mask_name,
    mask_phone,
)
from backend.storage.models import Alarm, Dispatch, Unit
from backend.storage.types import as_utc
from realtime.protocol import (
    AlarmView,
    ContactField,
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
MAX_CALLER_NAME = 64
MAX_REASON = 200
"""Longest reason for a reveal (the wire refuses longer ones already)."""
DEFAULT_REVEAL_FIELDS = (ContactField.CALLER_NAME, ContactField.CALLER_PHONE)
"""What a reveal without ``fields`` shows (what ``alarm.reveal_contact`` always showed)."""
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
        *,
        reveal_limit: RevealLimit | None = None,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._write = writer.run
        self._reveal_limit = reveal_limit or RevealLimit()
        self._jurisdictions = jurisdictions
        """Places alarms (and seeded units) by their coordinates; None places nothing."""

    @property
    def reveal_limit(self) -> RevealLimit:
        """The per-user limit of reveals this service counts against."""
        return self._reveal_limit

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
            caller_name=alarm.caller_name_masked,
            caller_phone=alarm.caller_phone_masked,
            caller_address=alarm.caller_address_masked,
            sensitive_note=SENSITIVE_PLACEHOLDER if alarm.sensitive_note_enc else "",
            reported_by=alarm.reported_by,
            count=alarm.count,
            first_seen=alarm.first_seen,
            last_seen=alarm.last_seen,
            updated_at=alarm.updated_at,
            updated_by=alarm.updated_by,
            last_note=alarm.last_note,
            merged_into=alarm.merged_into,
            dispatches=dispatches,
            shared_with=await grants.shared_agencies(session, alarm.id),
        )

    async def _load(self, session: AsyncSession, alarm_id: int, *, lock: bool = False) -> Alarm:
        query = select(Alarm).where(Alarm.id == alarm_id)
        if lock:
            query = query.with_for_update()
        alarm = await session.scalar(query)
        if alarm is None:
            # Refused like an alarm outside the user's scope: the answer never tells which.
            raise authz.hidden("alarm")
        return alarm

    async def load_view(self, session: AsyncSession, alarm_id: int) -> tuple[Alarm, AlarmView]:
        """An alarm (locked for update) and its view, in the caller's transaction (for the
        grant service); a missing alarm is refused as :func:`authz.hidden`."""
        alarm = await self._load(session, alarm_id, lock=True)
        return alarm, await self._view(session, alarm)

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
        name, address = command.caller_name.strip(), command.caller_address.strip()
        if len(name) > MAX_CALLER_NAME:
            # Personal data never goes into a message, not even a refusal's.
            raise Error(
                ErrorCode.VALIDATION,
                f"the caller's name is longer than {MAX_CALLER_NAME} characters",
            )
        note = command.sensitive_note.strip()
        now = utc_now()
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
                personal={
                    "caller_name_enc": self._cipher.encrypt(name),
                    "caller_name_masked": mask_name(name),
                    "caller_phone_enc": self._cipher.encrypt(phone),
                    "caller_phone_masked": mask_phone(phone),
                    "caller_address_enc": self._cipher.encrypt(address),
                    "caller_address_masked": mask_address(address),
                    "sensitive_note_enc": self._cipher.encrypt(note),
                },
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
        now = utc_now()
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
            now = as_utc(at) if at is not None else utc_now()
            if level is not None:
                alarm.level = level.value
            alarm.last_note = note
            alarm.version += 1
            alarm.updated_at = utc_now()
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
            now = utc_now()
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
        if not authz.can_see(principal, await self._view(session, target)):
            raise authz.hidden("alarm")
        if AlarmState(target.state) in FINAL_STATES:
            raise Error(
                ErrorCode.ILLEGAL_TRANSITION,
                f"alarm {merge_into} is {target.state}; merge only into an open alarm",
            )
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
            # A unit outside the user's scope is refused like a missing one.
            if set(command.unit_ids) - set(units) or not all(
                authz.can_see_unit(principal, unit.jurisdiction, unit.agency)
                for unit in units.values()
            ):
                raise authz.hidden("unit")
            already = {d.unit_id for d in current.dispatches} & set(command.unit_ids)
            if already:
                names = ", ".join(units[unit_id].name for unit_id in sorted(already))
                raise Error(ErrorCode.VALIDATION, f"already dispatched: {names}")
            now = utc_now()
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
        self,
        principal: Principal,
        alarm_id: int,
        reason: str,
        fields: Sequence[ContactField] = (),
    ) -> ContactResult:
        """Return protected personal fields of an alarm in full (default: the caller's
        name and number); the read itself is an audited event.

        Refused without a reason, outside the principal's scope (see
        :func:`backend.authz.policy.check_reveal_contact`), and over the per-user limit
        (``rate_limited``; the first refusal of a spell is an audited event too).
        """
        reason = reason.strip()
        if not reason:
            raise Error(ErrorCode.VALIDATION, "say why you need to see the caller's details")
        if len(reason) > MAX_REASON:
            raise Error(ErrorCode.VALIDATION, f"keep the reason to {MAX_REASON} characters")
        chosen = list(dict.fromkeys(fields or DEFAULT_REVEAL_FIELDS))
        names = [field.value for field in chosen]
        user = principal.username

        async def work(session: AsyncSession, events: list[Event]) -> ContactResult | None:
            alarm = await self._load(session, alarm_id)
            view = await self._view(session, alarm)
            authz.check_reveal_contact(principal, view)
            # Counted inside the write, which runs one at a time: no burst slips through.
            if not self._reveal_limit.allow(user, time.monotonic()):
                if self._reveal_limit.first_refusal(user):
                    logger.warning(
                        "%s went over %s reveals of personal data per hour; refusing "
                        "(alarm %s, fields %s)",
                        user,
                        self._reveal_limit.limit,
                        alarm_id,
                        ",".join(names),
                    )
                    events.append(
                        await eventlog.append(
                            session,
                            kind=eventlog.EventKind.CONTACT_REVEAL_REFUSED,
                            actor=user,
                            alarm=view,
                            note=reason,
                            fields=names,
                        )
                    )
                return None
            events.append(
                await eventlog.append(
                    session,
                    kind=eventlog.EventKind.CONTACT_REVEALED,
                    actor=user,
                    alarm=view,
                    note=reason,
                    fields=names,
                )
            )
            stored = {
                ContactField.CALLER_NAME: alarm.caller_name_enc,
                ContactField.CALLER_PHONE: alarm.caller_phone_enc,
                ContactField.CALLER_ADDRESS: alarm.caller_address_enc,
                ContactField.SENSITIVE_NOTE: alarm.sensitive_note_enc,
            }
            plain = {field: self._cipher.decrypt(stored[field]) for field in chosen}
            return ContactResult(
                alarm_id=alarm.id,
                caller_name=plain.get(ContactField.CALLER_NAME, ""),
                caller_phone=plain.get(ContactField.CALLER_PHONE, ""),
                caller_address=plain.get(ContactField.CALLER_ADDRESS, ""),
                sensitive_note=plain.get(ContactField.SENSITIVE_NOTE, ""),
                fields=chosen,
            )

        result = await self._write(work)
        if result is None:
            wait = self._reveal_limit.retry_after(user, time.monotonic())
            raise Error(
                ErrorCode.RATE_LIMITED,
                f"more than {self._reveal_limit.limit} reveals of personal data within an "
                f"hour: refused and recorded; the next is possible in {wait / 60:.0f} min",
            )
        logger.info("alarm %s: %s revealed %s (audited)", alarm_id, user, ",".join(names))
        return result

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
                if authz.can_see_unit(principal, u.jurisdiction, u.agency)
            ]

    async def history(self, principal: Principal, alarm_id: int) -> list[Event]:
        """Return every event of an alarm the principal may see (the alarm's own events;
        of its camera shares only those the principal may see)."""
        async with self._sessions() as session:
            alarm = await self._load(session, alarm_id)
            if not authz.can_see(principal, await self._view(session, alarm)):
                raise authz.hidden("alarm")
            events = await eventlog.events_of_alarm(session, alarm_id)
        # Whether the alarm is visible was decided on its view now (an agency desk may not
        # have been dispatched yet when it was raised); a camera share to another agency
        # is not the principal's business.
        return [
            event
            for event in events
            if event.alarm is not None or authz.can_see_event(principal, event)
        ]

    async def snapshot(self, principal: Principal) -> Snapshot:
        """Return open alarms and those closed recently, as the principal may see them.

        Read in one transaction with the head ``seq`` so the snapshot and its seq agree.
        """
        since = utc_now() - RECENTLY_CLOSED
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
    personal: dict[str, str] | None = None,
) -> Alarm:
    """A new alarm row from an officer's or a device's report: version 1, state new.

    ``personal`` holds the encrypted and masked personal columns (``caller_name_enc``…).
    """
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
        reported_by=reporter,
        count=1,
        first_seen=seen,
        last_seen=seen,
        created_at=now,
        updated_at=now,
        updated_by=reporter,
        last_note="",
        **(personal or {}),
    )
