"""The event log: append-only, gap-free ``seq``, hash-chained, written in the caller's
transaction so an event exists exactly when the state change it records exists."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.runtime import grouping
from backend.runtime.clock import utc_now
from backend.runtime.episodes import EpisodeLog
from backend.security import mask_name
from backend.storage import answers, db, faults
from backend.storage.models import EventCounter, EventRecord
from backend.storage.types import as_utc
from realtime.event_kinds import EventKind as EventKind  # noqa: PLC0414  (re-exported)
from realtime.protocol import (
    AlarmView,
    ChecklistView,
    DeviceView,
    EarlyWarningView,
    Event,
    ExerciseRunView,
    GeofenceView,
    GrantView,
    HandoverView,
    HiddenDangerView,
    InboxItem,
    IncidentView,
    InspectionView,
    MessageView,
    NoticeView,
    ReceiptView,
    RegistryChangeView,
    RegistryItemView,
    TaskView,
    VehicleCommandView,
    decode_server,
    encode,
)
from realtime.states import AlarmAction

T = TypeVar("T")
Q = TypeVar("Q")
R = TypeVar("R")

logger = logging.getLogger(__name__)


class Error(Exception):
    """The event log is damaged or could not be written."""


Publisher = Callable[[Sequence[Event]], None]


class EventWriter:
    """Runs write transactions one at a time and publishes their events after commit.

    Serializing writers in the process keeps the fan-out in ``seq`` order, and handing
    events to the fan-out only after the commit means nothing is broadcast that a crash
    could take back.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publish: Publisher,
        outage: EpisodeLog | None = None,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._lock = asyncio.Lock()
        self._outage = outage or EpisodeLog(logger, "event log storage")
        """Failed transactions are reported once per outage; the caller still gets the error."""

    async def run(self, work: Callable[[AsyncSession, list[Event]], Awaitable[T]]) -> T:
        """Run ``work(session, events)`` in one transaction, then publish ``events``."""
        async with self._lock:
            events: list[Event] = []
            try:
                async with self._sessions.begin() as session:
                    if session.get_bind().dialect.name == "postgresql":
                        # First, so every writing transaction of every instance takes the
                        # head before any other row: no deadlock between two instances.
                        await lock_head(session)
                    result = await work(session, events)
                    faults.before_commit("event log")
            except (SQLAlchemyError, OSError) as exc:
                self._outage.failed(f"a write transaction failed: {db.failure_reason(exc)}", exc)
                raise
            self._outage.succeeded()
            self._publish(events)
            return result


GroupWork = Callable[[AsyncSession, list[Event], Sequence[Q]], Awaitable[Sequence[R]]]
"""Writes a group of requests in the caller's transaction; one result per request."""


class GroupedWrites(grouping.Grouped[Q, R]):
    """Requests that arrive while one group is being written go into the next transaction
    together: one commit for the lot, each request still awaiting its own result (see
    :class:`backend.runtime.grouping.Grouped`). A database failure fails every request of its
    group, and only those.
    """

    def __init__(self, writer: EventWriter, work: GroupWork[Q, R], *, name: str) -> None:
        self._writer = writer
        self._work = work
        super().__init__(self._write, name=name, expected=(SQLAlchemyError, Error))

    async def _write(self, requests: Sequence[Q]) -> Sequence[R]:
        return await self._writer.run(functools.partial(self._work_on, requests))

    async def _work_on(
        self, requests: Sequence[Q], session: AsyncSession, events: list[Event]
    ) -> Sequence[R]:
        return await self._work(session, events, requests)


def chain_hash(prev_hash: str, seq: int, payload: str) -> str:
    """Return the hash linking an event to the one before it."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(str(seq).encode("ascii"))
    digest.update(payload.encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Draft:
    """An event still to be appended: everything but its ``seq`` (see :func:`append_many`)."""

    kind: EventKind
    actor: str
    alarm: AlarmView | None = None
    device: DeviceView | None = None
    geofence: GeofenceView | None = None
    action: AlarmAction | None = None
    note: str = ""
    at: dt.datetime | None = None
    fields: tuple[str, ...] = ()
    """For reveals: the protected fields asked for (names only, never values)."""
    grant: GrantView | None = None
    incident: IncidentView | None = None
    task: TaskView | None = None
    handover: HandoverView | None = None
    alarm_id: int | None = None
    """The alarm the event concerns when it carries no alarm view (an alarm attached to an
    incident): it then shows in that alarm's history too."""
    message: MessageView | None = None
    """A chat message (``incident.message``): the event is part of its incident's timeline."""
    receipt: ReceiptView | None = None
    """A read receipt (``incident.message_read``), also in the incident's timeline."""
    registry_item: RegistryItemView | None = None
    """The registry item a ``registry.*`` event is about (contacts masked)."""
    registry_change: RegistryChangeView | None = None
    """What a ``registry.changed`` event changed."""
    checklist: ChecklistView | None = None
    """A plan's checklist after a tick (``incident.checklist_ticked``; with ``incident``)."""
    exercise_run: ExerciseRunView | None = None
    """The run an ``exercise.*`` life-cycle event of the live log is about."""
    vehicle_command: VehicleCommandView | None = None
    """An order sent to a vehicle terminal and its answer (``vehicle.command``)."""
    early_warning: EarlyWarningView | None = None
    """The warning a ``warning.*`` event is about, as it is after the change."""
    danger: HiddenDangerView | None = None
    """The hidden danger a ``danger.*`` event is about (after the change)."""
    inspection: InspectionView | None = None
    """The inspection an ``inspection.recorded`` event is about."""
    notice: NoticeView | None = None
    """The notice a ``notice.*`` event is about (``fields``: its recipients)."""
    inbox: InboxItem | None = None
    """The notice as its recipients see it (``notice.published``/``notice.cancelled``)."""


async def append(
    session: AsyncSession,
    *,
    kind: EventKind,
    actor: str,
    alarm: AlarmView | None = None,
    device: DeviceView | None = None,
    geofence: GeofenceView | None = None,
    action: AlarmAction | None = None,
    note: str = "",
    at: dt.datetime | None = None,
    fields: Sequence[str] = (),
    grant: GrantView | None = None,
    incident: IncidentView | None = None,
    task: TaskView | None = None,
    alarm_id: int | None = None,
    message: MessageView | None = None,
    receipt: ReceiptView | None = None,
    handover: HandoverView | None = None,
    registry_item: RegistryItemView | None = None,
    registry_change: RegistryChangeView | None = None,
    checklist: ChecklistView | None = None,
    exercise_run: ExerciseRunView | None = None,
    vehicle_command: VehicleCommandView | None = None,
) -> Event:
    """Append one event inside the caller's transaction and return it.

    The counter row is locked (``FOR UPDATE`` on PostgreSQL; SQLite has one writer), so
    ``seq`` has no gaps even when several backend instances share one database: a
    transaction that rolls back also rolls back its ``seq``.
    """
    draft = Draft(
        kind,
        actor,
        alarm,
        device,
        geofence,
        action,
        note,
        at,
        fields=tuple(fields),
        grant=grant,
        incident=incident,
        task=task,
        handover=handover,
        alarm_id=alarm_id,
        message=message,
        receipt=receipt,
        registry_item=registry_item,
        registry_change=registry_change,
        checklist=checklist,
        exercise_run=exercise_run,
        vehicle_command=vehicle_command,
    )
    return (await append_many(session, (draft,)))[0]


_HEAD = "eventlog.head"
"""Where a session keeps the head row it locked (with the transaction that holds it)."""


async def lock_head(session: AsyncSession) -> EventCounter:
    """Lock the log's head (the counter row) for the rest of the caller's transaction and
    return it, current: the one place where writers of every process queue for the next
    ``seq`` and the hash at the head of the chain.

    On PostgreSQL the row lock (``FOR UPDATE``) makes a second instance's writer wait
    until this transaction commits or rolls back, then read the head it left; SQLite has
    one writer. Locking again in the same transaction costs no query.
    """
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HEAD)
    if held is not None and held[0] is transaction:
        counter: EventCounter = held[1]
        return counter
    found = await session.scalar(
        select(EventCounter)
        .where(EventCounter.id == 1)
        .with_for_update()
        # Another process may have moved the head since this session last read it.
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise Error("event counter row is missing: the database was not migrated")
    session.info[_HEAD] = (transaction, found)
    return found


async def append_many(session: AsyncSession, drafts: Sequence[Draft]) -> list[Event]:
    """Append events in order inside the caller's transaction, as :func:`append` does,
    with one counter update and one flush for all of them."""
    if not drafts:
        return []
    counter = await lock_head(session)
    # A remembered command's receipt commits exactly with its change (see the module).
    await answers.note_applied(session)
    events: list[Event] = []
    for draft in drafts:
        seq = counter.last_seq + 1
        event = Event(
            seq=seq,
            at=as_utc(draft.at) if draft.at is not None else utc_now(),
            kind=draft.kind,
            actor=draft.actor,
            action=draft.action,
            note=draft.note,
            alarm=draft.alarm,
            device=draft.device,
            geofence=draft.geofence,
            fields=list(draft.fields),
            grant=draft.grant,
            incident=draft.incident if draft.incident is not None else msgspec.UNSET,
            task=draft.task if draft.task is not None else msgspec.UNSET,
            message=draft.message if draft.message is not None else msgspec.UNSET,
            receipt=draft.receipt if draft.receipt is not None else msgspec.UNSET,
            handover=draft.handover if draft.handover is not None else msgspec.UNSET,
            registry_item=_or_unset(draft.registry_item),
            registry_change=_or_unset(draft.registry_change),
            checklist=draft.checklist if draft.checklist is not None else msgspec.UNSET,
            exercise_run=_or_unset(draft.exercise_run),
            vehicle_command=_or_unset(draft.vehicle_command),
            early_warning=_or_unset(draft.early_warning),
            danger=_or_unset(draft.danger),
            inspection=_or_unset(draft.inspection),
            notice=_or_unset(draft.notice),
            inbox=_or_unset(draft.inbox),
        )
        payload = encode(event).decode("utf-8")
        digest = chain_hash(counter.last_hash, seq, payload)
        session.add(
            EventRecord(
                seq=seq,
                at=event.at,
                kind=draft.kind,
                actor=draft.actor,
                alarm_id=_alarm_id(draft),
                incident_id=_incident_id(draft),
                payload=payload,
                prev_hash=counter.last_hash,
                hash=digest,
            )
        )
        counter.last_seq = seq
        counter.last_hash = digest
        events.append(event)
    await session.flush()
    return events


def _or_unset(value: T | None) -> T | msgspec.UnsetType:
    return msgspec.UNSET if value is None else value


def _alarm_id(draft: Draft) -> int | None:
    """The alarm an event belongs to (its history): the one it carries, or the one a
    share was granted for."""
    if draft.alarm is not None:
        return draft.alarm.id
    if draft.grant is not None:
        return draft.grant.alarm_id
    return draft.alarm_id


def _incident_id(draft: Draft) -> int | None:
    if draft.incident is not None:
        return draft.incident.id
    if draft.message is not None:
        return draft.message.incident_id
    if draft.receipt is not None:
        return draft.receipt.incident_id
    return draft.task.incident_id if draft.task is not None else None


async def head_seq(session: AsyncSession) -> int:
    """Return the newest ``seq`` (0 for an empty log)."""
    value = await session.scalar(select(EventCounter.last_seq).where(EventCounter.id == 1))
    return int(value or 0)


_OFFSET_TIME = re.compile(r'T\d\d:\d\d:\d\d(?:\.\d+)?[+-]\d\d:\d\d"')
"""A time with a UTC offset other than ``Z`` in a payload (older events kept the
reporter's offset; the record stays as it was written, the chain covers it)."""


def _in_utc(value: object) -> object:
    """``value`` with every aware datetime inside it (structs, lists) in UTC."""
    if isinstance(value, dt.datetime):
        return as_utc(value) if value.tzinfo is not None else value
    if isinstance(value, msgspec.Struct):
        changes = {name: _in_utc(getattr(value, name)) for name in value.__struct_fields__}
        return msgspec.structs.replace(value, **changes)
    if isinstance(value, list):
        return [_in_utc(item) for item in value]
    return value


def event_of_record(record: EventRecord) -> Event:
    """The event a stored record holds, as every way out sends it (names masked, UTC)."""
    return _event(record)


def _event(record: EventRecord) -> Event:
    message = decode_server(record.payload)
    if not isinstance(message, Event):
        raise Error(f"event {record.seq} does not hold an event")
    if message.alarm is not None and message.alarm.caller_name:
        # Events written before r0012 carry the caller's name in plain text, and the hash
        # chain forbids rewriting them: they are masked on every way out instead (a masked
        # name masks to itself).
        alarm = msgspec.structs.replace(
            message.alarm, caller_name=mask_name(message.alarm.caller_name)
        )
        message = msgspec.structs.replace(message, alarm=alarm)
    if _OFFSET_TIME.search(record.payload):
        utc = _in_utc(message)
        if isinstance(utc, Event):
            return utc
    return message


async def events_after(session: AsyncSession, after: int, limit: int) -> list[Event]:
    """Return up to ``limit`` events with ``seq > after``, oldest first."""
    records = await session.scalars(
        select(EventRecord).where(EventRecord.seq > after).order_by(EventRecord.seq).limit(limit)
    )
    return [_event(record) for record in records]


async def events_of_alarm(session: AsyncSession, alarm_id: int) -> list[Event]:
    """Return every event of one alarm, oldest first."""
    records = await session.scalars(
        select(EventRecord).where(EventRecord.alarm_id == alarm_id).order_by(EventRecord.seq)
    )
    return [_event(record) for record in records]


async def events_of_incident(session: AsyncSession, incident_id: int) -> list[Event]:
    """Return every event of one incident and its tasks, oldest first (its timeline)."""
    records = await session.scalars(
        select(EventRecord).where(EventRecord.incident_id == incident_id).order_by(EventRecord.seq)
    )
    return [_event(record) for record in records]


async def events_of_registry_item(
    session: AsyncSession, kind: str, code: str, event_kinds: Sequence[EventKind]
) -> list[Event]:
    """Return the events of ``event_kinds`` about one registry item, oldest first.

    The log has no column for registry items: the item is found by its view in the
    payload (codes hold no characters JSON escapes), then checked on the decoded event.
    """
    marker = f'"registry_item":{{"kind":"{kind}","code":"{code}",'
    records = await session.scalars(
        select(EventRecord)
        .where(
            EventRecord.kind.in_([str(k) for k in event_kinds]),
            EventRecord.payload.contains(marker, autoescape=True),
        )
        .order_by(EventRecord.seq)
    )
    events = [_event(record) for record in records]
    return [
        event
        for event in events
        if isinstance(event.registry_item, RegistryItemView)
        and event.registry_item.kind == kind
        and event.registry_item.code == code
    ]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Result of walking the whole chain."""

    events: int
    head_hash: str
    problems: Sequence[str]

    @property
    def ok(self) -> bool:
        """True when the chain is intact and gap-free."""
        return not self.problems


async def verify(session: AsyncSession, batch: int = 5000) -> VerifyReport:
    """Walk the log, recomputing every hash and checking ``seq`` has no gaps."""
    problems: list[str] = []
    prev_hash = "0" * 64
    expected_seq = 1
    count = 0
    after = 0
    while True:
        records = list(
            await session.scalars(
                select(EventRecord)
                .where(EventRecord.seq > after)
                .order_by(EventRecord.seq)
                .limit(batch)
            )
        )
        if not records:
            break
        for record in records:
            if record.seq != expected_seq:
                problems.append(f"gap: expected seq {expected_seq}, found {record.seq}")
            if record.prev_hash != prev_hash:
                problems.append(f"seq {record.seq}: link to the previous event is broken")
            if chain_hash(record.prev_hash, record.seq, record.payload) != record.hash:
                problems.append(f"seq {record.seq}: content does not match its hash (edited?)")
            prev_hash = record.hash
            expected_seq = record.seq + 1
            after = record.seq
            count += 1
    counter = await session.scalar(select(EventCounter).where(EventCounter.id == 1))
    if counter is not None and (counter.last_seq != count or counter.last_hash != prev_hash):
        problems.append(
            f"head mismatch: counter says seq {counter.last_seq}, log has {count} events"
        )
    return VerifyReport(events=count, head_hash=prev_hash, problems=problems)
