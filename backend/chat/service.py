"""The chat service: messages between desks inside an incident, their attachments, and
read receipts.

A message is one event of the event log (``incident.message``, its row's ``incident_id``
set), written in one transaction of the event writer with the checks it depends on: the
incident exists, the author may see it, it is not closed, the attachments are the
author's own uploads to it. So messages are ordered by ``seq``, reach consoles through the
fan-out only after the commit, resume after a reconnect and are part of the incident's
timeline.

Read marks (``message_reads``) move only forward and are written at once; the receipt
*event* that tells other desks is coalesced: at most one per user and incident every
:data:`RECEIPT_INTERVAL` seconds, the latest mark winning, so a console that marks on
every scroll cannot flood the log.

Who may see an incident is :func:`backend.authz.incidents.can_see_incident`; an incident
(or attachment) outside the user's scope is refused exactly like a missing one.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Final, Protocol

import msgspec
from sqlalchemy import and_, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import incidents as access
from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.chat.attachments import AttachmentStore, Finished
from backend.errors import ValidationError
from backend.eventlog import log as eventlog
from backend.incidents.service import listed_incident_views, load_incident_view
from backend.runtime.clock import utc_now
from backend.runtime.periodic import Periodic
from backend.storage.models import AttachmentRecord, EventRecord, MessageRead
from realtime.event_kinds import EventKind
from realtime.incident_states import IncidentState
from realtime.protocol import (
    AttachmentData,
    AttachmentView,
    Event,
    IncidentView,
    MessageResult,
    MessageView,
    ReceiptView,
    UnreadCount,
    UploadAttachment,
    UploadResult,
)

logger = logging.getLogger(__name__)

RECEIPT_INTERVAL: Final = 2.0
"""Seconds between two receipt events of one user on one incident (the latest mark wins)."""
FLUSH_INTERVAL: Final = 0.5
"""How often held-back receipts and idle uploads are looked at."""
FINISHED_MEMORY: Final = 1000
"""Final-chunk answers kept to answer a re-send (after a lost answer) alike."""
UNREAD_BATCH: Final = 500
"""Incidents counted per query (one ``IN (...)`` small enough for every database)."""


PLAN_DOCUMENT_TYPE: Final = "application/pdf"
"""What a plan's document may be (sniffed from its bytes like every attachment)."""


class PlanDocumentAccess(Protocol):
    """Who may store and read a plan's documents (the plans package answers; the chat
    stores the bytes alike)."""

    async def check_upload(self, principal: Principal, plan_code: str) -> None:
        """Refuse (a :class:`backend.errors.Error`) unless the principal may attach a
        document to the plan."""

    async def may_read(self, principal: Principal, plan_code: str) -> bool:
        """Return whether the principal may read the plan's documents."""


class DangerPhotoAccess(Protocol):
    """Who may add and see a hidden danger's photos (the dangers package answers)."""

    async def check_photo(self, principal: Principal, danger_id: int, content_type: str) -> None:
        """Refuse (a :class:`backend.errors.Error`) unless the principal may add this photo."""

    async def may_see_photo(self, principal: Principal, danger_id: int) -> bool:
        """Return whether the principal sees the danger (and so its photos)."""


def attachment_view(record: AttachmentRecord) -> AttachmentView:
    """The wire view of a stored attachment."""
    return AttachmentView(
        id=record.id,
        incident_id=record.incident_id,
        filename=record.filename,
        content_type=record.content_type,
        size=record.size,
        sha256=record.sha256,
        uploaded_by=record.uploaded_by,
        at=record.at,
        plan_code=record.plan_code or msgspec.UNSET,
        danger_id=msgspec.UNSET if record.danger_id is None else record.danger_id,
    )


@dataclasses.dataclass(slots=True)
class _HeldReceipt:
    principal: Principal
    due: float


class ChatService:
    """Messages, attachments and read receipts of incidents."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        store: AttachmentStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        receipt_interval: float = RECEIPT_INTERVAL,
        flush_interval: float = FLUSH_INTERVAL,
        plan_documents: PlanDocumentAccess | None = None,
    ) -> None:
        self._sessions = sessions
        self._plan_documents = plan_documents
        """None: plan documents are refused (a service without plans)."""
        self.danger_photos: DangerPhotoAccess | None = None
        """Set by the server: None refuses hidden-danger photos."""
        self._write = writer.run
        self.store = store
        self._clock = clock
        self._receipt_interval = receipt_interval
        self._last_receipt: dict[tuple[str, int], float] = {}
        """When the last receipt event of (user, incident) was written (``clock``)."""
        self._held: dict[tuple[str, int], _HeldReceipt] = {}
        self._finished: collections.OrderedDict[tuple[str, str, str, int, str], UploadResult] = (
            collections.OrderedDict()
        )
        """The answers to the latest final chunks (to answer a re-send alike)."""
        """Marks moved since the last receipt event, waiting for their turn."""
        self._flusher = Periodic(
            "chat receipts and uploads", self.flush, interval=flush_interval, log=logger
        )

    async def start(self) -> None:
        """Prepare the attachment folders and start the receipt flusher."""
        await self.store.open()
        self._flusher.start()

    async def stop(self) -> None:
        """Stop the flusher, write the held receipts, drop uploads in progress."""
        await self._flusher.stop()
        try:
            await self.flush(everything=True)
        except SQLAlchemyError as exc:
            logger.warning("held read receipts not written at stop: %s", exc)
        await self.store.close()

    # ------------------------------------------------------------------ scope

    async def _visible_incident(
        self, session: AsyncSession, principal: Principal, incident_id: int
    ) -> IncidentView:
        incident = await load_incident_view(session, incident_id)
        if incident is None or not access.can_see_incident(principal, incident):
            raise authz.hidden("incident")
        return incident

    @staticmethod
    def _check_open(incident: IncidentView) -> None:
        if incident.state is IncidentState.CLOSED:
            raise ValidationError(f"incident {incident.id} is closed: it takes no new messages")

    # ------------------------------------------------------------------ messages

    async def post(
        self, principal: Principal, incident_id: int, text: str, attachment_ids: Sequence[int]
    ) -> MessageResult:
        """Post a message; return it with its ``seq``."""
        text = text.strip()
        wanted = list(dict.fromkeys(attachment_ids))

        async def work(session: AsyncSession, events: list[Event]) -> MessageResult:
            incident = await self._visible_incident(session, principal, incident_id)
            self._check_open(incident)
            attachments = await self._own_attachments(session, principal, incident_id, wanted)
            if not text and not attachments:
                raise ValidationError("a message needs text or an attachment")
            message = MessageView(
                incident_id=incident_id,
                author=principal.username,
                author_name=principal.display_name,
                agency=principal.agency or "",
                text=text,
                attachments=attachments,
                jurisdiction=incident.jurisdiction,
                agencies=list(incident.agencies),
                grid_areas=list(incident.grid_areas),
            )
            event = await eventlog.append(
                session, kind=EventKind.INCIDENT_MESSAGE, actor=principal.username, message=message
            )
            events.append(event)
            return MessageResult(seq=event.seq, at=event.at, message=message)

        result = await self._write(work)
        logger.info(
            "message %s on incident %s by %s (%s attachments)",
            result.seq,
            incident_id,
            principal.username,
            len(wanted),
        )
        return result

    @staticmethod
    async def _own_attachments(
        session: AsyncSession, principal: Principal, incident_id: int, ids: Sequence[int]
    ) -> list[AttachmentView]:
        if not ids:
            return []
        records = {
            record.id: record
            for record in await session.scalars(
                select(AttachmentRecord).where(AttachmentRecord.id.in_(ids))
            )
        }
        views = []
        for attachment_id in ids:
            record = records.get(attachment_id)
            # Another user's upload, or one of another incident, is as good as missing.
            if (
                record is None
                or record.incident_id != incident_id
                or record.uploaded_by != principal.username
            ):
                raise authz.hidden(f"attachment {attachment_id}")
            views.append(attachment_view(record))
        return views

    # ------------------------------------------------------------------ attachments

    async def upload(self, principal: Principal, command: UploadAttachment) -> UploadResult:
        """Take one chunk of an upload; store the attachment with the final one.

        A final chunk sent again (its answer was lost) gets the same answer, not an error.
        """
        danger_id = None if isinstance(command.danger_id, msgspec.UnsetType) else command.danger_id
        # The target is part of the key: an upload id may be used again once finished,
        # and the same bytes sent elsewhere are a new attachment, not a re-send.
        final_key = (
            principal.username,
            command.upload_id,
            _owner(command.plan_code, danger_id, command.incident_id),
            command.offset,
            hashlib.sha256(command.data).hexdigest(),
        )
        if command.final and (answered := self._finished.get(final_key)) is not None:
            return answered
        owners = (command.incident_id is not None, bool(command.plan_code), danger_id is not None)
        if sum(owners) != 1:
            raise ValidationError(
                "an upload names exactly one of incident_id, plan_code and danger_id"
            )
        if not self.store.has_upload(principal.username, command.upload_id):
            if danger_id is not None:
                await self._check_danger_photo(principal, danger_id, command.content_type)
            elif command.incident_id is None:
                await self._check_plan_upload(principal, command.plan_code, command.content_type)
            else:
                async with self._sessions() as session:
                    incident = await self._visible_incident(session, principal, command.incident_id)
                self._check_open(incident)
        upload, finished, _resent = await self.store.take_chunk(
            owner=principal.username,
            upload_id=command.upload_id,
            incident_id=command.incident_id,
            filename=command.filename,
            content_type=command.content_type,
            offset=command.offset,
            data=command.data,
            final=command.final,
            plan_code=command.plan_code,
            danger_id=danger_id,
        )
        if finished is None:
            return UploadResult(upload_id=command.upload_id, received=upload.received)
        view = await self._record_attachment(principal, finished)
        logger.info(
            "attachment %s (%s, %s bytes) stored for %s by %s",
            view.id,
            view.content_type,
            view.size,
            _owner(command.plan_code, danger_id, view.incident_id),
            principal.username,
        )
        result = UploadResult(upload_id=command.upload_id, received=view.size, attachment=view)
        self._finished[final_key] = result
        while len(self._finished) > FINISHED_MEMORY:
            self._finished.popitem(last=False)
        return result

    async def _check_danger_photo(
        self, principal: Principal, danger_id: int, content_type: str
    ) -> None:
        if self.danger_photos is None:
            raise authz.hidden("hidden danger")
        await self.danger_photos.check_photo(principal, danger_id, content_type)

    async def _check_plan_upload(
        self, principal: Principal, plan_code: str, content_type: str
    ) -> None:
        if self._plan_documents is None:
            raise authz.hidden("plan")
        await self._plan_documents.check_upload(principal, plan_code)
        if content_type != PLAN_DOCUMENT_TYPE:
            raise ValidationError(f"a plan's document is a PDF, not {content_type!r}")

    async def _record_attachment(self, principal: Principal, finished: Finished) -> AttachmentView:
        upload = finished.upload
        try:
            # The scope and state may have changed while the chunks came in.
            if upload.danger_id is not None:
                await self._check_danger_photo(principal, upload.danger_id, upload.content_type)
            elif upload.incident_id is None:
                await self._check_plan_upload(principal, upload.plan_code, upload.content_type)
            async with self._sessions.begin() as session:
                if upload.incident_id is not None:
                    incident = await self._visible_incident(session, principal, upload.incident_id)
                    self._check_open(incident)
                record = AttachmentRecord(
                    incident_id=upload.incident_id,
                    plan_code=upload.plan_code,
                    danger_id=upload.danger_id,
                    sha256=finished.sha256,
                    size=finished.size,
                    content_type=finished.content_type,
                    filename=upload.filename,
                    uploaded_by=principal.username,
                    at=utc_now(),
                )
                session.add(record)
                await session.flush()
                return attachment_view(record)
        except BaseException:
            await self.store.discard(finished)
            raise

    async def attachment(
        self, principal: Principal, attachment_id: int, offset: int, length: int
    ) -> AttachmentData:
        """Bytes of an attachment of an incident the principal may see, or of a plan's
        document the principal may read."""
        async with self._sessions() as session:
            record = await session.get(AttachmentRecord, attachment_id)
            incident = (
                await load_incident_view(session, record.incident_id)
                if record is not None and record.incident_id is not None
                else None
            )
        if record is None:
            raise authz.hidden("attachment")
        if record.danger_id is not None:
            photos = self.danger_photos
            if photos is None or not await photos.may_see_photo(principal, record.danger_id):
                raise authz.hidden("attachment")
        elif record.incident_id is None:
            plans = self._plan_documents
            if plans is None or not await plans.may_read(principal, record.plan_code):
                raise authz.hidden("attachment")
        elif incident is None or not access.can_see_incident(principal, incident):
            raise authz.hidden("attachment")
        if offset > record.size:
            raise ValidationError(
                f"offset {offset} is past the end of attachment {attachment_id} "
                f"({record.size} bytes)"
            )
        data = await self.store.read(record.sha256, offset, length)
        return AttachmentData(attachment=attachment_view(record), offset=offset, data=data)

    # ------------------------------------------------------------------ receipts

    async def mark_read(self, principal: Principal, incident_id: int, up_to_seq: int) -> int:
        """Move the principal's read mark forward to ``up_to_seq``; return the mark now."""
        key = (principal.username, incident_id)

        async def work(session: AsyncSession, events: list[Event]) -> int:
            incident = await self._visible_incident(session, principal, incident_id)
            head = await eventlog.head_seq(session)
            if up_to_seq > head:
                raise ValidationError(f"seq {up_to_seq} is beyond the log (it ends at {head})")
            row = await session.get(
                MessageRead, (incident_id, principal.username), with_for_update=True
            )
            if row is not None and row.up_to_seq >= up_to_seq:
                return row.up_to_seq
            now = utc_now()
            if row is None:
                session.add(
                    MessageRead(
                        incident_id=incident_id,
                        username=principal.username,
                        up_to_seq=up_to_seq,
                        at=now,
                    )
                )
            else:
                row.up_to_seq = up_to_seq
                row.at = now
            since = self._clock() - self._last_receipt.get(key, float("-inf"))
            if since >= self._receipt_interval and key not in self._held:
                events.append(await self._receipt(session, principal, incident, up_to_seq))
            else:
                due = self._last_receipt.get(key, 0.0) + self._receipt_interval
                self._held[key] = _HeldReceipt(principal, due)
            return up_to_seq

        return await self._write(work)

    async def _receipt(
        self, session: AsyncSession, principal: Principal, incident: IncidentView, up_to_seq: int
    ) -> Event:
        self._last_receipt[(principal.username, incident.id)] = self._clock()
        receipt = ReceiptView(
            incident_id=incident.id,
            reader=principal.username,
            agency=principal.agency or "",
            up_to_seq=up_to_seq,
            jurisdiction=incident.jurisdiction,
            agencies=list(incident.agencies),
            grid_areas=list(incident.grid_areas),
        )
        return await eventlog.append(
            session,
            kind=EventKind.INCIDENT_MESSAGE_READ,
            actor=principal.username,
            receipt=receipt,
        )

    async def flush(self, *, everything: bool = False) -> None:
        """Write the held receipts whose turn has come (all of them with ``everything``)
        and drop idle uploads."""
        await self.store.drop_idle()
        now = self._clock()
        for key, held in list(self._held.items()):
            if everything or held.due <= now:
                await self._write_held(key, held)
        stale = now - self._receipt_interval
        for key, at in list(self._last_receipt.items()):
            if at < stale and key not in self._held:
                del self._last_receipt[key]

    async def _write_held(self, key: tuple[str, int], held: _HeldReceipt) -> None:
        username, incident_id = key

        async def work(session: AsyncSession, events: list[Event]) -> None:
            self._held.pop(key, None)
            incident = await load_incident_view(session, incident_id)
            row = await session.get(MessageRead, (incident_id, username))
            if incident is None or row is None:
                return
            events.append(await self._receipt(session, held.principal, incident, row.up_to_seq))

        try:
            await self._write(work)
        except BaseException:
            self._held.setdefault(key, held)  # tried again at the next flush
            raise

    async def unread(self, principal: Principal) -> list[UnreadCount]:
        """Per incident the principal sees (open, or closed in the last day), the others'
        messages after their read mark."""
        counts: list[UnreadCount] = []
        async with self._sessions() as session:
            incidents = await listed_incident_views(session, utc_now())
            ids = [i.id for i in incidents if access.can_see_incident(principal, i)]
            for start in range(0, len(ids), UNREAD_BATCH):
                rows = await session.execute(
                    select(EventRecord.incident_id, func.count(), func.max(EventRecord.seq))
                    .outerjoin(
                        MessageRead,
                        and_(
                            MessageRead.incident_id == EventRecord.incident_id,
                            MessageRead.username == principal.username,
                        ),
                    )
                    .where(
                        # By the incident index: never a scan of the whole log.
                        EventRecord.incident_id.in_(ids[start : start + UNREAD_BATCH]),
                        EventRecord.kind == EventKind.INCIDENT_MESSAGE.value,
                        EventRecord.actor != principal.username,
                        EventRecord.seq > func.coalesce(MessageRead.up_to_seq, 0),
                    )
                    .group_by(EventRecord.incident_id)
                )
                counts += [
                    UnreadCount(incident_id=incident_id, unread=count, last_seq=last_seq)
                    for incident_id, count, last_seq in rows
                    if incident_id is not None
                ]
        return sorted(counts, key=lambda count: count.incident_id)


def _owner(plan_code: str, danger_id: int | None, incident_id: int | None) -> str:
    if plan_code:
        return f"plan {plan_code}"
    return f"hidden danger {danger_id}" if danger_id is not None else f"incident {incident_id}"
