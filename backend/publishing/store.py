"""What the publishing tables hold, as the wire shows it: a notice row as a
:class:`~realtime.protocol.NoticeView` (with its delivery counts), a delivery row as a
:class:`~realtime.protocol.ReceiptRow` (address masked), a published notice as an
:class:`~realtime.protocol.InboxItem`; and the masks of phones and e-mail addresses."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterable, Sequence

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.security import mask_phone
from backend.storage.models import NoticeDelivery, NoticeRow
from realtime.protocol import (
    Channel,
    DeliveryCounts,
    DeliveryState,
    InboxItem,
    NoticeInput,
    NoticeState,
    NoticeView,
    ReceiptRow,
    RecipientKind,
)

_CONTENT = msgspec.json.Decoder(NoticeInput)
_ENCODER = msgspec.json.Encoder()


def encode_content(notice: NoticeInput) -> str:
    """The ``content`` column of a notice."""
    return _ENCODER.encode(notice).decode("utf-8")


def content_of(row: NoticeRow) -> NoticeInput:
    """The notice as drafted."""
    return _CONTENT.decode(row.content)


def mask_email(address: str) -> str:
    """Mask an e-mail address for display: ``zhang.san@example.cn`` → ``z***@example.cn``."""
    local, at, domain = address.strip().partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_address(channel: Channel, address: str) -> str:
    """The masked form of a phone (SMS) or e-mail address (EMAIL)."""
    return mask_email(address) if channel is Channel.EMAIL else mask_phone(address)


async def counts_of(session: AsyncSession, notice_ids: Sequence[int]) -> dict[int, DeliveryCounts]:
    """The delivery counts of each notice (by state, and its distinct recipients)."""
    if not notice_ids:
        return {}
    by_state: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    rows = await session.execute(
        select(NoticeDelivery.notice_id, NoticeDelivery.state, func.count())
        .where(NoticeDelivery.notice_id.in_(notice_ids))
        .group_by(NoticeDelivery.notice_id, NoticeDelivery.state)
    )
    for notice_id, state, count in rows:
        by_state[notice_id][state] += count
    recipients = await session.execute(
        select(
            NoticeDelivery.notice_id, NoticeDelivery.recipient_kind, NoticeDelivery.recipient_code
        )
        .where(NoticeDelivery.notice_id.in_(notice_ids))
        .distinct()
    )
    distinct: collections.Counter[int] = collections.Counter(row[0] for row in recipients)
    return {
        notice_id: DeliveryCounts(
            recipients=distinct[notice_id],
            queued=by_state[notice_id][DeliveryState.QUEUED],
            sent=by_state[notice_id][DeliveryState.SENT],
            delivered=by_state[notice_id][DeliveryState.DELIVERED],
            read=by_state[notice_id][DeliveryState.READ],
            failed=by_state[notice_id][DeliveryState.FAILED],
        )
        for notice_id in notice_ids
    }


def view_of(row: NoticeRow, counts: DeliveryCounts | None = None) -> NoticeView:
    """The notice as staff see it."""
    return NoticeView(
        id=row.id,
        version=row.version,
        state=NoticeState(row.state),
        notice=content_of(row),
        jurisdiction=row.jurisdiction,
        drafted_by=row.drafted_by,
        drafted_at=row.drafted_at,
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        published_at=row.published_at,
        cap_identifier=row.cap_identifier,
        counts=counts or DeliveryCounts(),
    )


async def views_of(session: AsyncSession, rows: Iterable[NoticeRow]) -> list[NoticeView]:
    """Views of ``rows`` with their delivery counts (one query for all)."""
    rows = list(rows)
    counts = await counts_of(session, [row.id for row in rows])
    return [view_of(row, counts.get(row.id)) for row in rows]


def receipt_of(delivery: NoticeDelivery) -> ReceiptRow:
    """One delivery row as the receipts table shows it (address masked)."""
    return ReceiptRow(
        recipient=delivery.recipient_name,
        recipient_kind=RecipientKind(delivery.recipient_kind),
        recipient_code=delivery.recipient_code,
        channel=Channel(delivery.channel),
        address=delivery.address_masked,
        state=DeliveryState(delivery.state),
        at=delivery.updated_at,
        attempts=delivery.attempts,
        error=delivery.error,
    )


def inbox_item_of(row: NoticeRow, area: str, read_at: dt.datetime | None = None) -> InboxItem:
    """A published (or withdrawn) notice as its recipients see it."""
    notice = content_of(row)
    published = row.published_at or row.updated_at
    return InboxItem(
        id=row.id,
        kind=notice.kind,
        level=notice.level,
        title=notice.title,
        body=notice.body,
        instruction=notice.instruction,
        area=area,
        published_at=published,
        expires_at=notice.expires_at,
        cancelled=row.state == NoticeState.CANCELLED,
        read_at=read_at,
    )
