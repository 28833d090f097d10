"""Public subscribers (公众订阅): people who asked for the notices of an area by SMS or
e-mail. Phone and e-mail address are personal data: encrypted with the data key, listed
masked. Kept by ``dutydesk subscribers`` (add, import a CSV, list, remove)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.publishing.store import mask_email
from backend.runtime.clock import utc_now
from backend.security import FieldCipher, mask_phone
from backend.storage.models import NoticeSubscriber

_PHONE = re.compile(r"^\+?[0-9][0-9-]{4,19}$")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_JURISDICTION = re.compile(r"^[0-9]{2,12}$")
CSV_COLUMNS = ("jurisdiction", "phone", "email")


class Error(Exception):
    """A subscriber cannot be added as given; the message says why."""


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One subscriber as lists show it (masked)."""

    id: int
    jurisdiction: str
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    added: int
    unchanged: int
    refused: list[str]
    """One line per refused row: its line number and why."""


def check(jurisdiction: str, phone: str, email: str) -> tuple[str, str, str]:
    """The subscriber's fields, trimmed; raise :class:`Error` saying what is wrong."""
    jurisdiction, phone, email = jurisdiction.strip(), phone.strip(), email.strip()
    if not _JURISDICTION.match(jurisdiction):
        raise Error(f"the area must be a region code (2 to 12 digits), not {jurisdiction!r}")
    if not phone and not email:
        raise Error("give a phone number or an e-mail address (or both)")
    if phone and not _PHONE.match(phone):
        raise Error("the phone number is not one (digits, optionally + and -)")
    if email and not _EMAIL.match(email):
        raise Error("the e-mail address is not one")
    return jurisdiction, phone, email


class SubscriberStore:
    """Adds, lists and removes public subscribers."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

    async def add(self, jurisdiction: str, phone: str = "", email: str = "") -> int | None:
        """Add one subscriber; return its id (None: the same one exists already)."""
        outcome = await self._add_all([check(jurisdiction, phone, email)])
        return outcome[0]

    async def import_csv(self, text: str) -> ImportOutcome:
        """Add the rows of a CSV with the header ``jurisdiction,phone,email``: each good
        row is added (once), each bad one refused with its line number."""
        reader = csv.DictReader(io.StringIO(text))
        missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise Error(f"the CSV needs the columns {', '.join(CSV_COLUMNS)}")
        good: list[tuple[str, str, str]] = []
        refused: list[str] = []
        for row in reader:
            try:
                good.append(
                    check(row["jurisdiction"] or "", row["phone"] or "", row["email"] or "")
                )
            except Error as exc:
                refused.append(f"line {reader.line_num}: {exc}")
        ids = await self._add_all(good)
        added = sum(1 for i in ids if i is not None)
        return ImportOutcome(added, len(ids) - added, refused)

    async def _add_all(self, rows: Iterable[tuple[str, str, str]]) -> list[int | None]:
        now = utc_now()
        async with self._sessions.begin() as session:
            known = {
                (s.jurisdiction, self._plain(s.phone_enc), self._plain(s.email_enc))
                for s in await session.scalars(select(NoticeSubscriber))
            }
            added: list[NoticeSubscriber | None] = []
            for jurisdiction, phone, email in rows:
                if (jurisdiction, phone, email) in known:
                    added.append(None)
                    continue
                known.add((jurisdiction, phone, email))
                row = self._row(jurisdiction, phone, email, now)
                session.add(row)
                added.append(row)
            await session.flush()
            return [row.id if row is not None else None for row in added]

    def _row(self, jurisdiction: str, phone: str, email: str, now: dt.datetime) -> NoticeSubscriber:
        return NoticeSubscriber(
            jurisdiction=jurisdiction,
            phone_enc=self._cipher.encrypt(phone) if phone else "",
            phone_masked=mask_phone(phone),
            email_enc=self._cipher.encrypt(email) if email else "",
            email_masked=mask_email(email) if email else "",
            created_at=now,
        )

    def _plain(self, ciphertext: str) -> str:
        return self._cipher.decrypt(ciphertext) if ciphertext else ""

    async def list(self, jurisdiction: str = "") -> list[Subscriber]:
        """The subscribers of an area (a prefix; "" every one), masked."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(NoticeSubscriber)
                .where(NoticeSubscriber.jurisdiction.startswith(jurisdiction, autoescape=True))
                .order_by(NoticeSubscriber.id)
            )
            return [Subscriber(r.id, r.jurisdiction, r.phone_masked, r.email_masked) for r in rows]

    async def remove(self, subscriber_id: int) -> bool:
        """Remove one subscriber (their number and address are gone for good)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(NoticeSubscriber).where(NoticeSubscriber.id == subscriber_id)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
