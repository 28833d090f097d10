"""The publishing workflow (信息发布): draft → submit → approve (a second person, a
supervisor of the area) → published to the recipients of its area; or rejected back to
the drafter; a published notice may be withdrawn.

Every step is one transaction with its ``notice.*`` event (who, when); approving also
stores one delivery row per recipient and channel in that same transaction, so nothing
accepted is lost: the outbox (:mod:`backend.publishing.outbox`) sends the queued rows,
after a restart too. A notice outside the user's scope is refused exactly like a missing
one (:func:`backend.authz.policy.hidden`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import notices as access
from backend.authz import policy
from backend.authz.policy import Permission
from backend.authz.principal import Principal
from backend.authz.scope import SUPERVISORS, hidden, in_jurisdiction
from backend.errors import Error, ForbiddenError, ValidationError
from backend.eventlog import log as eventlog
from backend.publishing import recipients, store
from backend.runtime.clock import utc_now
from backend.security import FieldCipher
from backend.storage.models import NoticeDelivery, NoticeRow
from realtime.protocol import (
    Audience,
    Channel,
    DeliveryState,
    ErrorCode,
    Event,
    InboxItem,
    NoticeInput,
    NoticeState,
    NoticeView,
    ReceiptRow,
    RecipientKind,
    Role,
)

logger = logging.getLogger(__name__)

EDITABLE = frozenset({NoticeState.DRAFT, NoticeState.REJECTED})
_UNSAFE_IN_IDENTIFIER = re.compile(r"[^A-Za-z0-9._@-]+")
DEFAULT_CAP_SENDER = "dutydesk@localhost"


def _check_version(row: NoticeRow, expected: int) -> None:
    if row.version != expected:
        raise Error(
            ErrorCode.STALE_VERSION,
            f"notice {row.id} changed (now version {row.version}, you saw {expected}): "
            "reload it and decide again",
        )


def _check_content(principal: Principal, notice: NoticeInput) -> None:
    for code in notice.area.jurisdictions:
        if not in_jurisdiction(principal, code):
            raise ValidationError(f"jurisdiction {code!r} is outside your area")
    if 0 < len(notice.area.polygon) < 3:
        raise ValidationError("a polygon needs at least 3 points")
    if not notice.audience:
        raise ValidationError("choose who the notice is for (audience)")
    if not notice.channels:
        raise ValidationError("choose at least one channel")
    if Channel.CAP in notice.channels and Audience.PUBLIC not in notice.audience:
        raise ValidationError("the CAP feed carries notices for the public only")


class PublishingService:
    """Notices: the workflow, the lists, the inbox of recipients."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        cipher: FieldCipher,
        *,
        place_name: Callable[[str], str] = str,
        outside: bool = True,
        cap_sender: str = DEFAULT_CAP_SENDER,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._write = writer.run
        self._cipher = cipher
        self._place_name = place_name
        self.outside = outside
        """SMS, e-mail and the CAP feed may be used (False in an exercise)."""
        self.cap_sender = cap_sender
        self._clock = clock
        self.on_delivery: Callable[[int], None] | None = None
        """Called with a notice's id when a console receipt changed (the outbox reports)."""

    def now(self) -> dt.datetime:
        """Now on the service's clock."""
        return self._clock()

    # ------------------------------------------------------------------ workflow

    async def save(
        self,
        principal: Principal,
        notice: NoticeInput,
        notice_id: int | None = None,
        version: int | None = None,
    ) -> NoticeView:
        """Create a draft, or change a draft or rejected notice (by its drafter or a
        supervisor of its area) against ``version``."""
        policy.check(principal, Permission.DRAFT_NOTICES)
        _check_content(principal, notice)
        now = self._clock()

        async def work(session: AsyncSession, events: list[Event]) -> NoticeView:
            if notice_id is None:
                row = NoticeRow(
                    version=1,
                    state=NoticeState.DRAFT.value,
                    jurisdiction=principal.jurisdiction,
                    drafted_by=principal.username,
                    drafted_at=now,
                    submitted_by="",
                    decided_by="",
                    reason="",
                    cap_identifier="",
                )
                session.add(row)
            else:
                if version is None:
                    raise ValidationError("say which version of the notice you changed")
                row = await self._load(session, principal, notice_id)
                self._check_author(principal, row, "change")
                if NoticeState(row.state) not in EDITABLE:
                    raise ValidationError(f"a {row.state} notice cannot be changed")
                _check_version(row, version)
                row.version += 1
                row.state = NoticeState.DRAFT.value
            row.content = store.encode_content(notice)
            row.public = Audience.PUBLIC in notice.audience
            row.expires_at = notice.expires_at
            row.updated_at = now
            return await self._record(
                session, events, row, eventlog.EventKind.NOTICE_SAVED, principal
            )

        return await self._write(work)

    async def submit(self, principal: Principal, notice_id: int, version: int) -> NoticeView:
        """Send a draft (or a rejected notice) for approval."""
        now = self._clock()

        async def work(session: AsyncSession, events: list[Event]) -> NoticeView:
            row = await self._load(session, principal, notice_id)
            self._check_author(principal, row, "submit")
            if NoticeState(row.state) not in EDITABLE:
                raise ValidationError(f"a {row.state} notice cannot be submitted")
            _check_version(row, version)
            row.version += 1
            row.state = NoticeState.PENDING.value
            row.submitted_by, row.submitted_at, row.updated_at = principal.username, now, now
            row.decided_by, row.decided_at, row.reason = "", None, ""
            return await self._record(
                session, events, row, eventlog.EventKind.NOTICE_SUBMITTED, principal
            )

        return await self._write(work)

    async def approve(
        self, principal: Principal, notice_id: int, version: int, note: str = ""
    ) -> NoticeView:
        """Approve a pending notice and publish it: its deliveries are stored with the
        ``notice.published`` event. Never by whoever drafted or submitted it."""
        now = self._clock()

        async def work(session: AsyncSession, events: list[Event]) -> NoticeView:
            row = await self._pending(session, principal, notice_id, version)
            if principal.username in (row.drafted_by, row.submitted_by):
                raise ForbiddenError(
                    "two-person rule: a notice you drafted or submitted must be approved "
                    "by another supervisor"
                )
            notice = store.content_of(row)
            planned = await recipients.plan(
                session, self._cipher, notice, row.jurisdiction, outside=self.outside
            )
            row.version += 1
            row.state = NoticeState.PUBLISHED.value
            row.decided_by, row.decided_at, row.reason = principal.username, now, ""
            row.published_at = row.updated_at = now
            await session.flush()
            row.cap_identifier = self._identifier(row, now)
            recipients.store(session, self._cipher, row.id, planned, now)
            tags = sorted(
                {
                    access.recipient_tag(item.kind, item.code)
                    for item in planned
                    if item.channel is Channel.CONSOLE
                }
            )
            return await self._record(
                session,
                events,
                row,
                eventlog.EventKind.NOTICE_PUBLISHED,
                principal,
                note=note,
                recipients=tags,
            )

        return await self._write(work)

    async def reject(
        self, principal: Principal, notice_id: int, version: int, reason: str
    ) -> NoticeView:
        """Send a pending notice back to its drafter with ``reason``."""
        now = self._clock()

        async def work(session: AsyncSession, events: list[Event]) -> NoticeView:
            row = await self._pending(session, principal, notice_id, version)
            row.version += 1
            row.state = NoticeState.REJECTED.value
            row.decided_by, row.decided_at, row.reason = principal.username, now, reason
            row.updated_at = now
            return await self._record(
                session, events, row, eventlog.EventKind.NOTICE_REJECTED, principal, note=reason
            )

        return await self._write(work)

    async def cancel(
        self, principal: Principal, notice_id: int, version: int, reason: str
    ) -> NoticeView:
        """Withdraw a published notice (the CAP feed then carries its Cancel; recipients'
        consoles are told). Deliveries still queued are not sent any more."""
        now = self._clock()

        async def work(session: AsyncSession, events: list[Event]) -> NoticeView:
            policy.check(principal, Permission.APPROVE_NOTICES)
            row = await self._load(session, principal, notice_id)
            if row.state != NoticeState.PUBLISHED:
                raise ValidationError(f"a {row.state} notice cannot be withdrawn")
            _check_version(row, version)
            row.version += 1
            row.state = NoticeState.CANCELLED.value
            row.reason, row.cancelled_at, row.updated_at = reason, now, now
            queued = await session.scalars(
                select(NoticeDelivery).where(
                    NoticeDelivery.notice_id == row.id,
                    NoticeDelivery.state == DeliveryState.QUEUED.value,
                )
            )
            for delivery in queued:
                delivery.state, delivery.error = DeliveryState.FAILED.value, "withdrawn"
                delivery.updated_at = now
            tags = await self._recipient_tags(session, row.id)
            return await self._record(
                session,
                events,
                row,
                eventlog.EventKind.NOTICE_CANCELLED,
                principal,
                note=reason,
                recipients=tags,
            )

        return await self._write(work)

    # ------------------------------------------------------------------ reading

    async def list_notices(
        self, principal: Principal, states: Sequence[NoticeState] = (), limit: int = 100
    ) -> list[NoticeView]:
        """The notices of the user's area the user may see, newest change first."""
        async with self._sessions() as session:
            query = (
                select(NoticeRow)
                .where(NoticeRow.jurisdiction.startswith(principal.jurisdiction, autoescape=True))
                .order_by(NoticeRow.updated_at.desc(), NoticeRow.id.desc())
            )
            if states:
                query = query.where(NoticeRow.state.in_([s.value for s in states]))
            rows = [
                row
                for row in await session.scalars(query)
                if access.can_see_notice(principal, store.view_of(row))
            ][:limit]
            return await store.views_of(session, rows)

    async def get(
        self, principal: Principal, notice_id: int
    ) -> tuple[NoticeView, list[ReceiptRow]]:
        """One notice and its receipts (one per recipient and channel)."""
        async with self._sessions() as session:
            row = await self._load(session, principal, notice_id)
            (view,) = await store.views_of(session, [row])
            deliveries = await session.scalars(
                select(NoticeDelivery)
                .where(NoticeDelivery.notice_id == row.id)
                .order_by(NoticeDelivery.id)
            )
            return view, [store.receipt_of(delivery) for delivery in deliveries]

    async def inbox(self, principal: Principal, limit: int = 100) -> list[InboxItem]:
        """The notices published to the user's enterprise or agency, newest first; their
        console receipts become ``delivered`` (the console has them now)."""
        recipient = _recipient_of(principal)
        if recipient is None:
            return []
        now = self._clock()
        touched: set[int] = set()
        async with self._sessions.begin() as session:
            pairs = await session.execute(
                self._inbox_query(recipient).order_by(NoticeRow.published_at.desc()).limit(limit)
            )
            items: list[InboxItem] = []
            for row, delivery in pairs:
                if not access.is_recipient(principal, [_tag(delivery)], row.jurisdiction):
                    continue
                if delivery.state == DeliveryState.SENT.value:
                    delivery.state, delivery.updated_at = DeliveryState.DELIVERED.value, now
                    touched.add(row.id)
                items.append(self._inbox_item(row, delivery))
        self._report(touched)
        return items

    async def mark_read(self, principal: Principal, notice_id: int) -> InboxItem:
        """The recipient opened the notice: its console receipt becomes ``read``."""
        recipient = _recipient_of(principal)
        if recipient is None:
            raise hidden("notice")
        now = self._clock()
        async with self._sessions.begin() as session:
            found = (
                await session.execute(self._inbox_query(recipient).where(NoticeRow.id == notice_id))
            ).first()
            if found is None or not access.is_recipient(
                principal, [_tag(found[1])], found[0].jurisdiction
            ):
                raise hidden("notice")
            row, delivery = found
            if delivery.state != DeliveryState.READ.value:
                delivery.state, delivery.updated_at = DeliveryState.READ.value, now
            item = self._inbox_item(row, delivery)
        self._report({notice_id})
        return item

    def inbox_item(self, row: NoticeRow) -> InboxItem:
        """The notice as its recipients see it (nothing read yet)."""
        return store.inbox_item_of(row, self.area_text(store.content_of(row).area.description, row))

    def area_text(self, description: str, row: NoticeRow) -> str:
        """The area in words: as described, else the jurisdictions' names."""
        if description:
            return description
        codes = recipients.area_codes(store.content_of(row).area, row.jurisdiction)
        return "、".join(self._place_name(code) for code in codes if code) or "全辖区"

    # ------------------------------------------------------------------ helpers

    def _inbox_item(self, row: NoticeRow, delivery: NoticeDelivery) -> InboxItem:
        read = delivery.updated_at if delivery.state == DeliveryState.READ.value else None
        item = self.inbox_item(row)
        item.read_at = read
        return item

    @staticmethod
    def _inbox_query(
        recipient: tuple[RecipientKind, str],
    ) -> Select[NoticeRow, NoticeDelivery]:
        kind, code = recipient
        return (
            select(NoticeRow, NoticeDelivery)
            .join(NoticeDelivery, NoticeDelivery.notice_id == NoticeRow.id)
            .where(
                NoticeDelivery.channel == Channel.CONSOLE.value,
                NoticeDelivery.recipient_kind == kind.value,
                NoticeDelivery.recipient_code == code,
                NoticeRow.state.in_([NoticeState.PUBLISHED.value, NoticeState.CANCELLED.value]),
            )
        )

    def _report(self, notice_ids: set[int]) -> None:
        if self.on_delivery is not None:
            for notice_id in notice_ids:
                self.on_delivery(notice_id)

    async def _load(self, session: AsyncSession, principal: Principal, notice_id: int) -> NoticeRow:
        row = await session.get(NoticeRow, notice_id, with_for_update=True)
        if row is None or not access.can_see_notice(principal, store.view_of(row)):
            raise hidden("notice")
        return row

    async def _pending(
        self, session: AsyncSession, principal: Principal, notice_id: int, version: int
    ) -> NoticeRow:
        policy.check(principal, Permission.APPROVE_NOTICES)
        row = await self._load(session, principal, notice_id)
        if row.state != NoticeState.PENDING:
            raise ValidationError(f"a {row.state} notice is not waiting for a decision")
        _check_version(row, version)
        return row

    @staticmethod
    def _check_author(principal: Principal, row: NoticeRow, what: str) -> None:
        if principal.username != row.drafted_by and principal.role not in SUPERVISORS:
            raise ForbiddenError(f"only its drafter or a supervisor may {what} this notice")

    def _identifier(self, row: NoticeRow, at: dt.datetime) -> str:
        sender = _UNSAFE_IN_IDENTIFIER.sub("-", self.cap_sender)
        return f"{sender}.notice.{row.id}.{at:%Y%m%d%H%M%S}"

    async def _recipient_tags(self, session: AsyncSession, notice_id: int) -> list[str]:
        rows = await session.execute(
            select(NoticeDelivery.recipient_kind, NoticeDelivery.recipient_code)
            .where(
                NoticeDelivery.notice_id == notice_id,
                NoticeDelivery.channel == Channel.CONSOLE.value,
            )
            .distinct()
        )
        return sorted(access.recipient_tag(RecipientKind(kind), code) for kind, code in rows)

    async def _record(
        self,
        session: AsyncSession,
        events: list[Event],
        row: NoticeRow,
        kind: eventlog.EventKind,
        principal: Principal,
        *,
        note: str = "",
        recipients: Sequence[str] | None = None,
    ) -> NoticeView:
        await session.flush()
        (view,) = await store.views_of(session, [row])
        events += await eventlog.append_many(
            session,
            (
                eventlog.Draft(
                    kind,
                    principal.username,
                    note=note,
                    at=row.updated_at,
                    fields=tuple(recipients or ()),
                    notice=view,
                    inbox=self.inbox_item(row) if recipients is not None else None,
                ),
            ),
        )
        return view


def _recipient_of(principal: Principal) -> tuple[RecipientKind, str] | None:
    if principal.role is Role.ENTERPRISE and principal.enterprise:
        return RecipientKind.ENTERPRISE, principal.enterprise
    if principal.role is Role.AGENCY and principal.agency:
        return RecipientKind.AGENCY, principal.agency
    return None


def _tag(delivery: NoticeDelivery) -> str:
    return access.recipient_tag(RecipientKind(delivery.recipient_kind), delivery.recipient_code)
