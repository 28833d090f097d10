"""Who a notice goes to, decided when it is approved: the enterprises, agencies and
public subscribers of its area, and on which channels (one delivery per recipient and
channel). An exercise's notice goes to consoles only: nothing leaves the exercise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.geo import Polygon
from backend.publishing.store import mask_address
from backend.security import FieldCipher
from backend.storage.models import Agency, NoticeDelivery, NoticeSubscriber, RegistryItem
from realtime.protocol import (
    Audience,
    Channel,
    Contact,
    DeliveryState,
    NoticeArea,
    NoticeInput,
    RecipientKind,
)

_CONTACTS = msgspec.json.Decoder(list[Contact])
CAP_RECIPIENT = "cap"
"""The recipient code of the public CAP feed's delivery row."""


@dataclass(frozen=True, slots=True)
class Planned:
    """One delivery to store: a recipient on a channel (``address`` in plain text)."""

    kind: RecipientKind
    code: str
    name: str
    channel: Channel
    address: str = ""


def area_codes(area: NoticeArea, jurisdiction: str) -> list[str]:
    """The jurisdiction prefixes a notice covers: those chosen, else (no polygon either)
    the drafter's area."""
    if area.jurisdictions:
        return list(area.jurisdictions)
    return [] if len(area.polygon) >= 3 else [jurisdiction]


def _overlaps(code: str, prefixes: Sequence[str]) -> bool:
    return any(code.startswith(prefix) or prefix.startswith(code) for prefix in prefixes)


async def plan(
    session: AsyncSession,
    cipher: FieldCipher,
    notice: NoticeInput,
    jurisdiction: str,
    *,
    outside: bool,
) -> list[Planned]:
    """The deliveries of ``notice`` (drafted in ``jurisdiction``); ``outside``: channels
    that leave the system (SMS, e-mail, the CAP feed) may be used (never in an exercise)."""
    channels = set(notice.channels)
    if not outside:
        channels &= {Channel.CONSOLE}
    codes = area_codes(notice.area, jurisdiction)
    polygon = Polygon(notice.area.polygon) if len(notice.area.polygon) >= 3 else None
    planned: list[Planned] = []
    if Audience.ENTERPRISES in notice.audience:
        planned += await _enterprises(session, cipher, channels, codes, polygon)
    if Audience.AGENCIES in notice.audience and Channel.CONSOLE in channels:
        agencies = await session.scalars(
            select(Agency).where(Agency.active.is_(True)).order_by(Agency.code)
        )
        planned += [
            Planned(RecipientKind.AGENCY, agency.code, agency.name_zh, Channel.CONSOLE)
            for agency in agencies
        ]
    if Audience.PUBLIC in notice.audience:
        if Channel.CAP in channels:
            planned.append(Planned(RecipientKind.PUBLIC, CAP_RECIPIENT, "CAP", Channel.CAP))
        planned += await _subscribers(session, cipher, channels, codes or [jurisdiction])
    return planned


async def _enterprises(
    session: AsyncSession,
    cipher: FieldCipher,
    channels: set[Channel],
    codes: Sequence[str],
    polygon: Polygon | None,
) -> list[Planned]:
    rows = await session.scalars(
        select(RegistryItem)
        .where(RegistryItem.kind == "enterprise", RegistryItem.retired.is_(False))
        .order_by(RegistryItem.code)
    )
    planned: list[Planned] = []
    for row in rows:
        inside = any(row.jurisdiction.startswith(code) for code in codes) or (
            polygon is not None
            and row.lat is not None
            and row.lon is not None
            and polygon.contains(row.lat, row.lon)
        )
        if not inside:
            continue
        kind, code, name = RecipientKind.ENTERPRISE, row.code, row.name
        if Channel.CONSOLE in channels:
            planned.append(Planned(kind, code, name, Channel.CONSOLE))
        contacts = _CONTACTS.decode(cipher.decrypt(row.contacts_enc)) if row.contacts_enc else []
        seen: set[tuple[Channel, str]] = set()
        for contact in contacts:
            email = contact.email if isinstance(contact.email, str) else ""
            for channel, address in ((Channel.SMS, contact.phone), (Channel.EMAIL, email)):
                address = address.strip()  # noqa: PLW2901
                if channel in channels and address and (channel, address) not in seen:
                    seen.add((channel, address))
                    planned.append(Planned(kind, code, name, channel, address))
    return planned


async def _subscribers(
    session: AsyncSession, cipher: FieldCipher, channels: set[Channel], codes: Sequence[str]
) -> list[Planned]:
    planned: list[Planned] = []
    for row in await session.scalars(select(NoticeSubscriber).order_by(NoticeSubscriber.id)):
        if not _overlaps(row.jurisdiction, codes):
            continue
        code = f"s{row.id}"
        if Channel.SMS in channels and row.phone_enc:
            planned.append(
                Planned(
                    RecipientKind.PUBLIC,
                    code,
                    row.phone_masked,
                    Channel.SMS,
                    cipher.decrypt(row.phone_enc),
                )
            )
        if Channel.EMAIL in channels and row.email_enc:
            planned.append(
                Planned(
                    RecipientKind.PUBLIC,
                    code,
                    row.email_masked,
                    Channel.EMAIL,
                    cipher.decrypt(row.email_enc),
                )
            )
    return planned


def store(
    session: AsyncSession,
    cipher: FieldCipher,
    notice_id: int,
    planned: Sequence[Planned],
    now: dt.datetime,
) -> None:
    """Add the delivery rows (in the caller's transaction, the one that publishes).

    Consoles are ``sent`` at once (the published event goes out with the commit); the CAP
    feed is ``delivered`` (the feed serves it from the commit on); the rest wait in the
    outbox as ``queued``."""
    for item in planned:
        if item.channel is Channel.CONSOLE:
            state, masked = DeliveryState.SENT, item.name
        elif item.channel is Channel.CAP:
            state, masked = DeliveryState.DELIVERED, ""
        else:
            state, masked = DeliveryState.QUEUED, mask_address(item.channel, item.address)
        session.add(
            NoticeDelivery(
                notice_id=notice_id,
                recipient_kind=item.kind.value,
                recipient_code=item.code,
                recipient_name=item.name,
                channel=item.channel.value,
                address_enc=cipher.encrypt(item.address) if item.address else "",
                address_masked=masked,
                state=state.value,
                attempts=0,
                next_attempt_at=now if state is DeliveryState.QUEUED else None,
                reference="",
                error="",
                updated_at=now,
            )
        )
