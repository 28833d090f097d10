"""The device registry: which terminals and sensors exist, and whether they are online.

It also answers the JT/T 808 gateway's questions (may this terminal register, is this
auth code right), so registration and authentication follow the registry, not the wire.
"""

from __future__ import annotations

import builtins
import datetime as dt
import functools
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.eventlog import log as eventlog
from backend.runtime import grouping
from backend.runtime.clock import utc_now
from backend.storage import raw
from backend.storage.models import Device
from devices.jt808.messages import Register, RegisterResult
from devices.jt808.registration import Registered, judge_registration
from realtime.protocol import DeviceView, Event, Presence

logger = logging.getLogger(__name__)

DEVICE_KINDS = ("jt808", "nmea", "modbus", "json")
JT808 = "jt808"
_PHONE_RE = re.compile(r"^\d{1,20}$")


class Error(Exception):
    """A registry operation was refused; the message says why."""


def normalize_phone(phone: str) -> str:
    """JT/T 808 terminal phone as stored: digits without leading zeros (BCD pads with 0)."""
    digits = phone.strip()
    if not _PHONE_RE.match(digits):
        raise Error(f"terminal phone {phone!r} must be 1 to 20 digits")
    return digits.lstrip("0") or "0"


def code_matches(issued: str | None, offered: str) -> bool:
    """Whether ``offered`` is the auth code ``issued`` (none issued: never), compared in
    constant time as UTF-8 bytes: ``compare_digest`` raises TypeError on a ``str`` that is
    not ASCII, and any text can arrive in an authentication frame."""
    if not issued:
        return False
    return secrets.compare_digest(issued.encode(), offered.encode())


_IN_CHUNK = 500
"""Identities per IN (...) query: well under every database's parameter limit."""


_TOUCH_CHUNK = 500
"""Devices per last-seen statement (two parameters each)."""


def _time_rows(dialect: str, markers: Sequence[str], count: int) -> str:
    """``count`` VALUES rows of (identity, time) from ``markers``, two per row. PostgreSQL
    needs the types spelled out; SQLite (3.33 and newer) takes them as given."""
    if dialect == "postgresql":
        rows = [
            f"(CAST({markers[2 * n]} AS VARCHAR), CAST({markers[2 * n + 1]} AS TIMESTAMPTZ))"
            for n in range(count)
        ]
    else:
        rows = [f"({markers[2 * n]}, {markers[2 * n + 1]})" for n in range(count)]
    return ", ".join(rows)


@functools.lru_cache(maxsize=32)
def _touch_statement(dialect: str, paramstyle: str, count: int) -> str:
    """UPDATE the last-seen time of ``count`` devices of one kind, never backwards.

    Parameters: identity and time for each device, then the kind. PostgreSQL needs the
    types of the VALUES columns spelled out; SQLite (3.33 and newer) takes them as given.
    """
    markers = raw.placeholders(paramstyle, 2 * count + 1)
    # Table and column names are constants; only markers are interpolated.
    return (
        f"WITH seen(identity, at) AS (VALUES {_time_rows(dialect, markers, count)}) "  # noqa: S608
        "UPDATE devices SET last_seen = seen.at FROM seen "
        f"WHERE devices.kind = {markers[-1]} AND devices.identity = seen.identity "
        "AND (devices.last_seen IS NULL OR devices.last_seen < seen.at)"
    )


@functools.lru_cache(maxsize=32)
def _heard_statement(dialect: str, paramstyle: str, count: int) -> str:
    """UPDATE when ``count`` devices of one kind were last heard and by which instance,
    never backwards (an instance that lost a terminal to another one heard it earlier).

    Parameters: identity and time for each device, then the instance, then the kind.
    """
    markers = raw.placeholders(paramstyle, 2 * count + 2)
    # Table and column names are constants; only markers are interpolated.
    return (
        f"WITH heard(identity, at) AS (VALUES {_time_rows(dialect, markers, count)}) "  # noqa: S608
        f"UPDATE devices SET heard_at = heard.at, held_by = {markers[-2]} FROM heard "
        f"WHERE devices.kind = {markers[-1]} AND devices.identity = heard.identity "
        "AND (devices.heard_at IS NULL OR devices.heard_at < heard.at)"
    )


@dataclass(frozen=True, slots=True)
class _StatusChange:
    kind: str
    identity: str
    online: bool
    at: dt.datetime
    reason: str
    silent_before: dt.datetime | None = None
    """Set by the offline sweep: only if still online and not heard since (else the
    live instance reported it, or it came back)."""


def _view(device: Device, *, heard: bool, places: Mapping[str, str] | None = None) -> DeviceView:
    """The device as consoles see it; its recorded status counts only if ``heard``;
    ``places`` says where devices are (by identity), for scoped consoles."""
    if heard:
        presence = Presence.ONLINE if device.online else Presence.OFFLINE
    else:
        presence = Presence.UNKNOWN
    return DeviceView(
        id=device.id,
        kind=device.kind,
        identity=device.identity,
        name=device.name,
        plate=device.plate,
        owner=device.owner,
        online=presence is Presence.ONLINE,
        last_seen=device.last_seen,
        presence=presence,
        jurisdiction=(places or {}).get(device.identity, ""),
    )


class DeviceRegistry:
    """Registry of field devices; implements the JT/T 808 gateway's ``TerminalRegistry``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        *,
        auto_register: bool = False,
    ) -> None:
        self._sessions = sessions
        self._write = writer.run
        self.auto_register = auto_register
        # A fleet reconnecting after a restart logs in thousands of terminals at once: their
        # status changes and registrations are written in groups, one commit per group.
        self._status_changes = eventlog.GroupedWrites(
            writer, self._write_status_changes, name="device-status-writer"
        )
        self._registrations = eventlog.GroupedWrites(
            writer, self._write_registrations, name="terminal-registration-writer"
        )
        self._auth_checks = grouping.Grouped(
            self._check_codes, name="terminal-auth-checks", expected=(SQLAlchemyError,)
        )
        self.places: Callable[[], Mapping[str, str]] = dict
        """Where each device is, by identity (set by the server: a vehicle by its latest
        fix, a sensor device by its sensors); the events it writes carry it, so scoped
        consoles get the events of the devices of their area (unplaced: whole area)."""
        self._heard: set[tuple[str, str]] = set()
        """Devices whose status this process recorded: the stored status of any other is
        from before the start (a stop or a crash) and says nothing about now."""
        self.instance: str | None = None
        """This server instance's name, stored as ``held_by`` of the terminals that log in
        here and of those it reports offline (it judges their rules on; the offline
        sweep: ``backend.server.presence``)."""

    def _heard_of(self, device: Device) -> bool:
        return (device.kind, device.identity) in self._heard

    async def close(self) -> None:
        """Wait until the status changes, registrations and checks submitted are done."""
        await self._status_changes.close()
        await self._registrations.close()
        await self._auth_checks.close()

    async def add(
        self, kind: str, identity: str, name: str, *, plate: str = "", owner: str = ""
    ) -> DeviceView:
        """Register a device; JT/T 808 identities are phone numbers."""
        if kind not in DEVICE_KINDS:
            raise Error(f"unknown device kind {kind!r}; use one of {', '.join(DEVICE_KINDS)}")
        if kind == JT808:
            identity = normalize_phone(identity)
        if not identity.strip():
            raise Error("a device needs an identity")

        async def work(session: AsyncSession, events: list[Event]) -> DeviceView:
            existing = await session.scalar(
                select(Device).where(Device.kind == kind, Device.identity == identity)
            )
            if existing is not None:
                raise Error(f"{kind} device {identity} is already registered")
            device = Device(
                kind=kind,
                identity=identity,
                name=name or identity,
                plate=plate,
                owner=owner,
                auth_code="",
                online=False,
                last_seen=None,
                created_at=utc_now(),
            )
            session.add(device)
            await session.flush()
            view = _view(device, heard=False)
            events.append(
                await eventlog.append(
                    session, kind=eventlog.EventKind.DEVICE_ADDED, actor="registry", device=view
                )
            )
            return view

        return await self._write(work)

    async def remove(self, kind: str, identity: str) -> None:
        """Remove a device from the registry (its history stays in the log)."""
        if kind == JT808:
            identity = normalize_phone(identity)

        async def work(session: AsyncSession, events: list[Event]) -> None:
            device = await session.scalar(
                select(Device).where(Device.kind == kind, Device.identity == identity)
            )
            if device is None:
                raise Error(f"no {kind} device {identity}")
            view = _view(device, heard=self._heard_of(device), places=self.places())
            await session.execute(delete(Device).where(Device.id == device.id))
            events.append(
                await eventlog.append(
                    session, kind=eventlog.EventKind.DEVICE_REMOVED, actor="registry", device=view
                )
            )

        await self._write(work)
        self._heard.discard((kind, identity))

    async def list(self) -> list[DeviceView]:
        """Every registered device, by kind and identity."""
        async with self._sessions() as session:
            devices = await session.scalars(select(Device).order_by(Device.kind, Device.identity))
            return [_view(d, heard=self._heard_of(d)) for d in devices]

    async def find(self, kind: str, identity: str) -> DeviceView | None:
        """Return one device, or None."""
        async with self._sessions() as session:
            device = await session.scalar(
                select(Device).where(Device.kind == kind, Device.identity == identity)
            )
            return None if device is None else _view(device, heard=self._heard_of(device))

    async def set_online(
        self, kind: str, identity: str, online: bool, at: dt.datetime, reason: str
    ) -> None:
        """Record an online/offline change as an event; unknown devices are ignored.

        Returns once it is committed; changes submitted meanwhile share the transaction.
        The first change recorded after the start is an event even if the stored status
        (from before) was the same: consoles learn the presence from it.
        """
        await self._status_changes.submit(_StatusChange(kind, identity, online, at, reason))
        self._heard.add((kind, identity))

    async def _write_status_changes(
        self, session: AsyncSession, events: builtins.list[Event], changes: Sequence[_StatusChange]
    ) -> builtins.list[None]:
        devices = await self._load(session, {(change.kind, change.identity) for change in changes})
        drafts: builtins.list[eventlog.Draft] = []
        heard = set(self._heard)  # and those heard earlier in this group
        places = self.places()  # once per group: a fleet comes online in one
        for change in changes:  # in order: a terminal may come and go within one group
            key = (change.kind, change.identity)
            device = devices.get(key)
            if device is None or not self._holding(device, change):
                continue
            if device.online == change.online and key in heard:
                continue
            heard.add(key)
            device.online = change.online
            device.last_seen = max(device.last_seen or change.at, change.at)
            drafts.append(
                eventlog.Draft(
                    kind=eventlog.EventKind.DEVICE_ONLINE
                    if change.online
                    else eventlog.EventKind.DEVICE_OFFLINE,
                    actor=change.identity,
                    device=_view(device, heard=True, places=places),
                    note=change.reason,
                    at=change.at,
                )
            )
        events.extend(await eventlog.append_many(session, drafts))
        return [None] * len(changes)

    def _holding(self, device: Device, change: _StatusChange) -> bool:
        """Note who holds ``device`` now; False: a sweep's change that no longer applies."""
        if change.online:
            # Heard now, here: the sweep must not take it for a dead instance's terminal.
            device.heard_at = max(device.heard_at or change.at, change.at)
            device.held_by = self.instance
            return True
        if change.silent_before is not None:
            heard = device.heard_at or device.last_seen
            if not device.online or heard is None or heard >= change.silent_before:
                return False
        elif device.held_by not in (None, self.instance):
            return False  # it went to another instance, which reports it from now on
        # Offline, its vehicle rules (the offline rule's clock) are judged here from now
        # on: the reporting instance, or the sweep that takes over a dead one's terminal.
        # Should this instance die, the sweep takes them over (``take_over``).
        device.held_by = self.instance
        return True

    async def report_silent(
        self, kind: str, identity: str, at: dt.datetime, reason: str, silent_before: dt.datetime
    ) -> bool:
        """Record ``identity`` offline for the offline sweep, unless it is offline already
        (its live instance reported it) or was heard at or after ``silent_before``.

        Decided inside the writing transaction (instances write one at a time), so a
        terminal is never reported offline twice. Returns whether it was recorded now.
        """
        change = _StatusChange(kind, identity, False, at, reason, silent_before)

        async def work(session: AsyncSession, events: builtins.list[Event]) -> bool:
            await self._write_status_changes(session, events, [change])
            return bool(events)

        recorded = await self._write(work)
        if recorded:
            self._heard.add((kind, identity))
        return recorded

    async def take_over(
        self, kind: str, orphans: Mapping[str, str], instance: str
    ) -> builtins.set[str]:
        """Record that ``instance`` judges the rules of ``orphans`` from now on: offline
        devices (identity → the instance recorded as holding them, which is gone).

        Only a device still offline and still held by that instance is taken, decided
        inside the writing transaction (instances write one at a time): one that
        reconnected meanwhile, or that another instance took first, is left alone.
        Returns the identities taken.
        """
        by_holder: dict[str, builtins.list[str]] = {}
        for identity, holder in sorted(orphans.items()):
            by_holder.setdefault(holder, []).append(identity)

        async def work(session: AsyncSession, events: builtins.list[Event]) -> builtins.set[str]:
            taken: builtins.set[str] = set()
            for holder, identities in sorted(by_holder.items()):
                for start in range(0, len(identities), _IN_CHUNK):
                    rows = await session.scalars(
                        update(Device)
                        .where(
                            Device.kind == kind,
                            Device.identity.in_(identities[start : start + _IN_CHUNK]),
                            Device.held_by == holder,
                            Device.online.is_(False),
                        )
                        .values(held_by=instance)
                        .returning(Device.identity)
                        .execution_options(synchronize_session=False)
                    )
                    taken.update(rows)
            return taken

        if not orphans:
            return set()
        return await self._write(work)

    @staticmethod
    async def _load(
        session: AsyncSession, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], Device]:
        """The devices with these (kind, identity) keys, in one query per kind."""
        by_kind: dict[str, list[str]] = {}
        for kind, identity in keys:
            by_kind.setdefault(kind, []).append(identity)
        found: dict[tuple[str, str], Device] = {}
        for kind, identities in by_kind.items():
            for start in range(0, len(identities), _IN_CHUNK):
                chunk = identities[start : start + _IN_CHUNK]
                for device in await session.scalars(
                    select(Device).where(Device.kind == kind, Device.identity.in_(chunk))
                ):
                    found[(device.kind, device.identity)] = device
        return found

    async def touch(self, kind: str, last_seen: dict[str, dt.datetime]) -> None:
        """Store last-seen times gathered in memory (high-rate devices write these in bulk).

        One statement per 500 devices, never moving a time backwards. An executemany
        through SQLAlchemy cost ~25 µs per device on the event loop (30 ms every 5 s for
        1,200 terminals, half a second for 20,000), and SQLite's executemany would hand
        the interpreter lock back and forth at every row while holding the write lock.
        """
        await self._update_times(_touch_statement, builtins.list(last_seen.items()), (kind,))

    async def note_heard(self, kind: str, heard: Mapping[str, dt.datetime], instance: str) -> None:
        """Store when these devices were last heard (any frame, heartbeats too) and that
        ``instance`` holds them: one statement per 500, in identity order (two instances
        writing the same rows take their locks in the same order)."""
        await self._update_times(_heard_statement, sorted(heard.items()), (instance, kind))

    async def _update_times(
        self,
        statement_of: Callable[[str, str, int], str],
        items: Sequence[tuple[str, dt.datetime]],
        trailing: tuple[object, ...],
    ) -> None:
        """Run ``statement_of(dialect, paramstyle, n)`` over (identity, time) ``items``,
        500 at a time, in one transaction; ``trailing`` parameters end each statement's."""
        if not items:
            return
        async with self._sessions.begin() as session:
            connection = await session.connection()
            dialect = connection.dialect
            to_db_time = raw.time_converter(dialect.name)
            for start in range(0, len(items), _TOUCH_CHUNK):
                chunk = items[start : start + _TOUCH_CHUNK]
                statement = statement_of(dialect.name, dialect.paramstyle, len(chunk))
                values: builtins.list[object] = []
                for identity, at in chunk:
                    values += (identity, to_db_time(at))
                values += trailing
                await connection.exec_driver_sql(statement, tuple(values))

    # ------------------------------------------------------------------ JT/T 808 terminals

    async def register(self, phone: str, message: Register) -> tuple[RegisterResult, str]:
        """Answer a terminal's registration as every terminal registry does
        (:func:`devices.jt808.registration.judge_registration`): known (or auto-registered)
        terminals with their own plate get a code — the one they already have, if any.

        Registrations submitted meanwhile share the transaction (terminals that register at
        every power-up all do so at once after an outage).
        """
        return await self._registrations.submit((normalize_phone(phone), message))

    async def _write_registrations(
        self,
        session: AsyncSession,
        events: builtins.list[Event],
        requests: Sequence[tuple[str, Register]],
    ) -> builtins.list[tuple[RegisterResult, str]]:
        devices = await self._load(session, {(JT808, identity) for identity, _ in requests})
        owners = await self._plate_owners(session, {message.plate for _, message in requests})
        added: builtins.list[Device] = []
        results: builtins.list[tuple[RegisterResult, str]] = []
        for identity, message in requests:
            device = devices.get((JT808, identity))
            result = judge_registration(
                None if device is None else Registered(device.plate),
                message.plate,
                owners.get(message.plate) if message.plate else None,
                identity,
                auto_register=self.auto_register,
            )
            if result != RegisterResult.SUCCESS:
                logger.warning(
                    "registration of terminal %s (plate %s) refused: %s",
                    identity,
                    message.plate,
                    result.name,
                )
                results.append((result, ""))
                continue
            if device is None:
                device = devices[(JT808, identity)] = Device(
                    kind=JT808,
                    identity=identity,
                    name=message.plate or identity,
                    plate=message.plate,
                    owner="",
                    auth_code="",
                    online=False,
                    last_seen=None,
                    created_at=utc_now(),
                )
                session.add(device)
                added.append(device)
            if message.plate and not device.plate:
                device.plate = message.plate
            if device.plate:
                owners[device.plate] = identity
            if not device.auth_code:  # never rotated: see devices.jt808.registration
                device.auth_code = secrets.token_hex(8)
            results.append((RegisterResult.SUCCESS, device.auth_code))
        if added:
            await session.flush()  # their ids, for the events
            drafts = [
                eventlog.Draft(
                    kind=eventlog.EventKind.DEVICE_ADDED,
                    actor=device.identity,
                    device=_view(device, heard=False),
                )
                for device in added
            ]
            events.extend(await eventlog.append_many(session, drafts))
        return results

    @staticmethod
    async def _plate_owners(session: AsyncSession, plates: Iterable[str]) -> dict[str, str]:
        """Plate -> the identity of the JT/T 808 terminal it is bound to, for ``plates``."""
        wanted = builtins.list({plate for plate in plates if plate})
        owners: dict[str, str] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            rows = await session.execute(
                select(Device.plate, Device.identity).where(
                    Device.kind == JT808, Device.plate.in_(wanted[start : start + _IN_CHUNK])
                )
            )
            owners.update((plate, identity) for plate, identity in rows)
        return owners

    async def authenticate(self, phone: str, code: str) -> bool:
        """Check a terminal's auth code against the one it was given at registration.

        Checks submitted meanwhile share one query (a fleet logging in at once).
        """
        return await self._auth_checks.submit((normalize_phone(phone), code))

    async def _check_codes(self, requests: Sequence[tuple[str, str]]) -> builtins.list[bool]:
        identities = builtins.list({identity for identity, _ in requests})
        issued: dict[str, str] = {}
        async with self._sessions() as session:
            # Just the codes: no ORM objects for a fleet logging in.
            for start in range(0, len(identities), _IN_CHUNK):
                rows = await session.execute(
                    select(Device.identity, Device.auth_code).where(
                        Device.kind == JT808,
                        Device.identity.in_(identities[start : start + _IN_CHUNK]),
                    )
                )
                issued.update((identity, code) for identity, code in rows)
        return [code_matches(issued.get(identity), code) for identity, code in requests]
