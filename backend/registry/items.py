"""The registry items (台账): enterprises, major hazard sources, teams, equipment,
shelters, experts, protection targets and plans, kept for years.

Every change runs in one transaction that writes the row and appends its
``registry.changed`` event (who, when, before, after), so the item's history is the event
log's. Contact numbers are personal data: the row's ``details`` and every view and event
carry them masked; the full numbers are ``contacts_enc`` (encrypted with the data key) and
leave only through :meth:`RegistryService.reveal_contacts`, audited and limited per hour.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.alarms.reveals import RevealLimit
from backend.authz import registry as scope
from backend.authz.principal import Principal
from backend.authz.scope import hidden
from backend.errors import Error, ValidationError
from backend.eventlog import log as eventlog
from backend.jurisdictions.tree import JurisdictionTree
from backend.registry import item_checks, item_fields
from backend.registry.item_fields import ImportConflictError
from backend.security import FieldCipher
from backend.storage.models import RegistryItem
from realtime.protocol import (
    MAX_REGISTRY_PAGE,
    Contact,
    ErrorCode,
    Event,
    ItemKind,
    RegistryChangeAction,
    RegistryChangeView,
    RegistryDetails,
    RegistryItemInput,
    RegistryItemView,
)

logger = logging.getLogger(__name__)

MAX_REVEAL_NOTE = 200
CURSOR_SEPARATOR = "/"
"""Joins kind and code in the paging cursor of a list over every kind (neither holds it)."""
_CONTACTS = msgspec.json.Decoder(list[Contact])


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What a file import did (or, dry, would do)."""

    created: int
    updated: int
    unchanged: int


class RegistryService:
    """Commands and queries on registry items; the only code that writes ``registry_items``."""

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
        self._jurisdictions = jurisdictions
        """Known jurisdiction codes (None: any code is taken, for tools without a tree)."""
        self._reveal_limit = reveal_limit or RevealLimit()
        """Shared with the alarms' reveals: one budget of personal data per user and hour."""

    # ------------------------------------------------------------------ queries

    async def list_items(
        self,
        principal: Principal,
        *,
        kind: ItemKind | None = None,
        jurisdiction: str = "",
        text: str = "",
        include_retired: bool = False,
        limit: int = 200,
        after_code: str | None = None,
    ) -> tuple[list[RegistryItemView], str | None]:
        """A page of the items the principal may see, by kind then code, and the cursor of
        the next page (None: no more). With a kind the cursor is the last code; over every
        kind it is ``kind/code``."""
        jurisdiction = jurisdiction.strip()
        if jurisdiction and not scope.can_see_item(principal, jurisdiction):
            raise hidden("jurisdiction")
        limit = max(1, min(limit, MAX_REGISTRY_PAGE))
        query = select(RegistryItem).where(_visible_to(principal))
        if kind is not None:
            query = query.where(RegistryItem.kind == kind.value)
        if jurisdiction:
            query = query.where(RegistryItem.jurisdiction.startswith(jurisdiction, autoescape=True))
        if not include_retired:
            query = query.where(RegistryItem.retired.is_(False))
        needle = text.strip().lower()
        if needle:
            query = query.where(
                or_(
                    *(
                        func.lower(column).contains(needle, autoescape=True)
                        for column in (RegistryItem.code, RegistryItem.name, RegistryItem.address)
                    )
                )
            )
        if after_code:
            query = query.where(_after(kind, after_code))
        query = query.order_by(RegistryItem.kind, RegistryItem.code).limit(limit + 1)
        async with self._sessions() as session:
            rows = list(await session.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = None
        if more:
            last = rows[-1]
            cursor = last.code if kind is not None else f"{last.kind}{CURSOR_SEPARATOR}{last.code}"
        return [_view(row) for row in rows], cursor

    async def get(self, principal: Principal, kind: ItemKind, code: str) -> RegistryItemView:
        """One item the principal may see (else refused as missing)."""
        async with self._sessions() as session:
            row = await _load(session, kind, code)
        scope.check_see_item(principal, row.jurisdiction, row.agency)
        return _view(row)

    async def history(
        self, principal: Principal, kind: ItemKind, code: str
    ) -> list[RegistryChangeView]:
        """Every change of an item the principal may see, oldest first."""
        async with self._sessions() as session:
            row = await _load(session, kind, code)
            scope.check_see_item(principal, row.jurisdiction, row.agency)
            events = await eventlog.events_of_registry_item(
                session, kind.value, code, (eventlog.EventKind.REGISTRY_CHANGED,)
            )
        return [
            msgspec.structs.replace(event.registry_change, seq=event.seq)
            for event in events
            if isinstance(event.registry_change, RegistryChangeView)
        ]

    async def export_items(self, kind: ItemKind, *, with_contacts: bool) -> list[RegistryItemView]:
        """Every item of a kind, retired ones included, by code (for a file export by the
        operator; ``with_contacts``: the numbers in full)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(RegistryItem)
                .where(RegistryItem.kind == kind.value)
                .order_by(RegistryItem.code)
            )
            views = []
            for row in rows:
                view = _view(row)
                if with_contacts:
                    full = self._full_contacts(row)
                    view = msgspec.structs.replace(
                        view, details=item_fields.with_contacts(view.details, full)
                    )
                views.append(view)
        return views

    # ------------------------------------------------------------------ commands

    async def save(
        self,
        principal: Principal,
        item: RegistryItemInput,
        expected_version: int | None,
        note: str = "",
    ) -> RegistryItemView:
        """Create an item (``expected_version`` None: its code must be new in its kind) or
        change one (at the version read; a newer one is ``stale_version``)."""
        item = item_fields.normalized(item)
        kind = item_fields.kind_of(item.details)
        note = note.strip()

        async def work(session: AsyncSession, events: list[Event]) -> RegistryItemView:
            row = await session.scalar(_by_key(kind, item.code).with_for_update())
            if expected_version is None:
                if row is not None:
                    if not scope.can_see_item(principal, row.jurisdiction, row.agency):
                        # Taken by an item the user may not see: say only that it is taken.
                        raise ValidationError(f"code {item.code!r} is taken; choose another")
                    raise ValidationError(
                        f"{kind} {item.code!r} exists already (version {row.version}): "
                        "load it to change it"
                    )
            else:
                if row is None:
                    raise hidden(scope.ITEM)
                scope.check_edit_item(principal, row.jurisdiction, row.agency)
                _check_version(row, expected_version)
            scope.check_edit_item(principal, item.jurisdiction, item.agency, existing=False)
            outcome = await self._apply(
                session,
                events,
                row,
                item,
                by=principal.username,
                action=None,
                note=note,
            )
            return outcome[0]

        view = await self._write(work)
        logger.info(
            "registry %s %s saved by %s (v%s)", kind, item.code, principal.username, view.version
        )
        return view

    async def retire(
        self,
        principal: Principal,
        kind: ItemKind,
        code: str,
        expected_version: int,
        *,
        retired: bool = True,
        note: str = "",
    ) -> RegistryItemView:
        """Retire (注销) an item, or restore it; kept either way, with its history."""
        note = note.strip()

        async def work(session: AsyncSession, events: list[Event]) -> RegistryItemView:
            row = await session.scalar(_by_key(kind, code).with_for_update())
            if row is None:
                raise hidden(scope.ITEM)
            scope.check_edit_item(principal, row.jurisdiction, row.agency)
            _check_version(row, expected_version)
            if row.retired == retired:
                state = "retired" if retired else "in use"
                raise ValidationError(f"{kind} {code!r} is {state} already")
            before = _view(row)
            row.retired = retired
            action = RegistryChangeAction.RETIRED if retired else RegistryChangeAction.RESTORED
            return await self._record(
                session, events, row, before, action, by=principal.username, note=note
            )

        view = await self._write(work)
        logger.info(
            "registry %s %s %s by %s",
            kind,
            code,
            "retired" if retired else "restored",
            principal.username,
        )
        return view

    async def reveal_contacts(
        self, principal: Principal, kind: ItemKind, code: str, note: str
    ) -> list[Contact]:
        """An item's contacts in full: refused outside the scope (as missing), without a
        note saying why, and over the per-user hourly limit (``rate_limited``; the first
        refusal of a spell is recorded). Each reveal is an audited event."""
        note = note.strip()
        if not note:
            raise ValidationError("note: say why you need the contacts in full")
        if len(note) > MAX_REVEAL_NOTE:
            raise ValidationError(f"note: keep it to {MAX_REVEAL_NOTE} characters")
        user = principal.username

        async def work(session: AsyncSession, events: list[Event]) -> list[Contact] | None:
            row = await _load(session, kind, code)
            scope.check_see_item(principal, row.jurisdiction, row.agency)
            view = _view(row)
            # Counted inside the write, which runs one at a time: no burst slips through.
            if not self._reveal_limit.allow(user, time.monotonic()):
                if self._reveal_limit.first_refusal(user):
                    logger.warning(
                        "%s went over %s reveals of personal data per hour; refusing "
                        "(registry %s %s)",
                        user,
                        self._reveal_limit.limit,
                        kind,
                        code,
                    )
                    events.append(
                        await eventlog.append(
                            session,
                            kind=eventlog.EventKind.CONTACT_REVEAL_REFUSED,
                            actor=user,
                            note=note,
                            fields=["contacts"],
                            registry_item=view,
                        )
                    )
                return None
            events.append(
                await eventlog.append(
                    session,
                    kind=eventlog.EventKind.REGISTRY_CONTACT_REVEALED,
                    actor=user,
                    note=note,
                    fields=["contacts"],
                    registry_item=view,
                )
            )
            return self._full_contacts(row)

        contacts = await self._write(work)
        if contacts is None:
            wait = self._reveal_limit.retry_after(user, time.monotonic())
            raise Error(
                ErrorCode.RATE_LIMITED,
                f"more than {self._reveal_limit.limit} reveals of personal data within an "
                f"hour: refused and recorded; the next is possible in {wait / 60:.0f} min",
            )
        logger.info("registry %s %s: %s revealed the contacts (audited)", kind, code, user)
        return contacts

    async def import_items(
        self,
        items: Sequence[RegistryItemInput],
        *,
        by: str,
        source: str,
        dry_run: bool = False,
    ) -> ImportOutcome:
        """Write a file's items all or nothing, in one transaction: new codes are created,
        changed items updated, the same ones left alone. One ``registry.changed`` event
        (action ``imported``) per item written and one ``registry.imported`` for the file.

        Raises :class:`ImportConflictError` naming the code of the first item that cannot
        be written; then nothing is. ``dry_run``: check everything, write nothing.
        """
        prepared = item_fields.prepare_import(items, source)

        async def work(session: AsyncSession, events: list[Event]) -> ImportOutcome:
            created = updated = unchanged = 0
            for item in prepared:
                kind = item_fields.kind_of(item.details)
                row = await session.scalar(_by_key(kind, item.code).with_for_update())
                try:
                    _view_after, action = await self._apply(
                        session,
                        events,
                        row,
                        item,
                        by=by,
                        action=RegistryChangeAction.IMPORTED,
                        note=source,
                    )
                except ValidationError as exc:
                    raise ImportConflictError(f"{kind} {item.code!r}: {exc.message}") from exc
                if action is None:
                    unchanged += 1
                elif row is None:
                    created += 1
                else:
                    updated += 1
            outcome = ImportOutcome(created, updated, unchanged)
            events.append(
                await eventlog.append(
                    session,
                    kind=eventlog.EventKind.REGISTRY_IMPORTED,
                    actor=by,
                    note=(f"{source}: {created} created, {updated} updated, {unchanged} unchanged"),
                )
            )
            if dry_run:
                raise _DryRunFinishedError(outcome)
            return outcome

        try:
            outcome = await self._write(work)
        except _DryRunFinishedError as done:
            return done.outcome
        logger.info(
            "registry import of %s by %s: %s created, %s updated, %s unchanged",
            source,
            by,
            outcome.created,
            outcome.updated,
            outcome.unchanged,
        )
        return outcome

    # ------------------------------------------------------------------ plumbing

    async def _apply(
        self,
        session: AsyncSession,
        events: list[Event],
        row: RegistryItem | None,
        item: RegistryItemInput,
        *,
        by: str,
        action: RegistryChangeAction | None,
        note: str,
    ) -> tuple[RegistryItemView, RegistryChangeAction | None]:
        """Validate ``item`` against the database and write it over ``row`` (None: a new
        row); return its view and the action recorded (None: nothing changed)."""
        item_fields.check_common(item)
        await item_checks.check_references(session, item, self._jurisdictions)
        stored = self._full_contacts(row) if row is not None else []
        incoming = item_fields.contacts_of(item.details)
        full = item_fields.resolve_phones(incoming, stored) if incoming is not None else []
        details = item_fields.with_contacts(item.details, item_fields.masked_contacts(full))
        before = _view(row) if row is not None else None
        if row is None:
            now = dt.datetime.now(dt.UTC)
            row = RegistryItem(
                kind=item_fields.kind_of(item.details).value,
                code=item.code,
                version=0,
                retired=False,
                created_at=now,
            )
            session.add(row)
        elif (
            _common(row) == _common_of(item)
            and row.details == msgspec.to_builtins(details)
            and full == stored
        ):
            return before or _view(row), None
        row.name = item.name
        row.jurisdiction = item.jurisdiction
        row.agency = item.agency
        row.address = item.address
        row.lat = item.lat
        row.lon = item.lon
        row.details = msgspec.to_builtins(details)
        row.contacts_enc = (
            self._cipher.encrypt(_CONTACTS_ENCODER.encode(full).decode()) if full else ""
        )
        if action is None:
            action = (
                RegistryChangeAction.CREATED if before is None else RegistryChangeAction.UPDATED
            )
        contacts_changed = before is not None and full != stored
        view = await self._record(
            session,
            events,
            row,
            before,
            action,
            by=by,
            note=note,
            contacts_changed=contacts_changed,
        )
        return view, action

    async def _record(
        self,
        session: AsyncSession,
        events: list[Event],
        row: RegistryItem,
        before: RegistryItemView | None,
        action: RegistryChangeAction,
        *,
        by: str,
        note: str,
        contacts_changed: bool = False,
    ) -> RegistryItemView:
        """Bump the row's version, flush it and append its ``registry.changed`` event."""
        now = dt.datetime.now(dt.UTC)
        row.version += 1
        row.updated_at = now
        row.updated_by = by
        await session.flush()
        after = _view(row)
        before_fields = item_fields.fields_of(before) if before is not None else None
        after_fields = item_fields.fields_of(after)
        changed = item_fields.changed_fields(before_fields, after_fields)
        if contacts_changed and "details.contacts" not in changed:
            # A new number that masks like the old one: still a change of the contacts.
            changed.append("details.contacts")
        change = RegistryChangeView(
            seq=0,
            at=now,
            by=by,
            action=action,
            before=before_fields,
            after=after_fields,
            changed=changed,
            note=note,
        )
        events.append(
            await eventlog.append(
                session,
                kind=eventlog.EventKind.REGISTRY_CHANGED,
                actor=by,
                note=note,
                at=now,
                registry_item=after,
                registry_change=change,
            )
        )
        return after

    def _full_contacts(self, row: RegistryItem) -> list[Contact]:
        if not row.contacts_enc:
            return []
        return _CONTACTS.decode(self._cipher.decrypt(row.contacts_enc))


_CONTACTS_ENCODER = msgspec.json.Encoder()


class _DryRunFinishedError(Exception):
    """Rolls a dry-run import back after every check passed."""

    def __init__(self, outcome: ImportOutcome) -> None:
        super().__init__("dry run")
        self.outcome = outcome


def _by_key(kind: ItemKind, code: str) -> Select[RegistryItem]:
    return select(RegistryItem).where(RegistryItem.kind == kind.value, RegistryItem.code == code)


async def _load(session: AsyncSession, kind: ItemKind, code: str) -> RegistryItem:
    row = await session.scalar(_by_key(kind, code))
    if row is None:
        # Refused like an item outside the user's scope: the answer never tells which.
        raise hidden(scope.ITEM)
    return row


def _check_version(row: RegistryItem, expected: int) -> None:
    if row.version != expected:
        raise Error(
            ErrorCode.STALE_VERSION,
            f"{row.kind} {row.code!r} changed (now version {row.version}, you saw {expected}): "
            "reload it and decide again",
        )


def _visible_to(principal: Principal) -> ColumnElement[bool]:
    """The SQL of :func:`backend.authz.registry.can_see_item`."""
    mine = principal.jurisdiction
    return or_(
        RegistryItem.jurisdiction.startswith(mine, autoescape=True),
        RegistryItem.jurisdiction.in_(scope.ancestors_of(mine)),
    )


def _after(kind: ItemKind | None, cursor: str) -> ColumnElement[bool]:
    if kind is not None:
        return RegistryItem.code > cursor
    cursor_kind, separator, code = cursor.partition(CURSOR_SEPARATOR)
    if not separator or cursor_kind not in item_fields.KIND_ORDER:
        raise ValidationError(
            "after_code: over every kind, page on with the next_after_code the last page gave"
        )
    return or_(
        RegistryItem.kind > cursor_kind,
        and_(RegistryItem.kind == cursor_kind, RegistryItem.code > code),
    )


def _common(row: RegistryItem) -> tuple[object, ...]:
    return (row.name, row.jurisdiction, row.agency, row.address, row.lat, row.lon)


def _common_of(item: RegistryItemInput) -> tuple[object, ...]:
    return (item.name, item.jurisdiction, item.agency, item.address, item.lat, item.lon)


def _view(row: RegistryItem) -> RegistryItemView:
    details: RegistryDetails = msgspec.convert(row.details, RegistryDetails)
    return RegistryItemView(
        kind=ItemKind(row.kind),
        code=row.code,
        name=row.name,
        version=row.version,
        jurisdiction=row.jurisdiction,
        agency=row.agency,
        address=row.address,
        lat=row.lat,
        lon=row.lon,
        details=details,
        retired=row.retired,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


__all__ = [
    "CURSOR_SEPARATOR",
    "ImportConflictError",
    "ImportOutcome",
    "RegistryService",
]
