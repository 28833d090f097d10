"""The outbox: sends the queued deliveries of published notices through the channel
adapters (SMS, e-mail), with retries, and turns their receipts into delivery states.

Rows are stored queued in the publishing transaction; the outbox only ever moves them on
(``queued`` → ``sent`` | ``failed``; ``sent`` → ``delivered`` | ``failed`` by receipt),
so a restart resumes where the last run stopped. It runs on one instance of several
(a lease, like the deadline checker); each channel is sent by a loop of its own (a relay
that stalls holds up its own channel, never the others) and rate-limited; a temporary failure is
retried with growing waits, a permanent one (or too many) fails the row with its reason.
Changes are reported as ``notice.delivery`` events, at most one per notice every
``report_every`` seconds (receipts arrive in bulk).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import security
from backend.eventlog import log as eventlog
from backend.publishing import store
from backend.publishing.channels import ChannelAdapter, ChannelReceipt, DeliveryError, Outgoing
from backend.runtime.clock import utc_now
from backend.runtime.leases import Lease
from backend.runtime.periodic import Periodic
from backend.storage.models import NoticeDelivery, NoticeRow
from realtime.aio import TaskSet
from realtime.protocol import Channel, DeliveryState, Event, NoticeInput

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
BATCH = 100
"""Most deliveries one run sends (the next run goes on)."""
MAX_ERROR = 200
HOLD_RECEIPTS = 60.0
"""Seconds a receipt for a message not known (yet) is kept and tried again: the SMSC may
report a text before the row that says it was sent is committed."""
MAX_HELD = 10_000
"""Receipts held at most (the oldest go first: a gateway reporting messages we never sent
must not fill the memory)."""


def message_text(notice: NoticeInput) -> str:
    """What an SMS or e-mail says: 【level】title, the body and the instruction."""
    parts = [f"【{notice.title}】", notice.body]
    if notice.instruction:
        parts.append(notice.instruction)
    return "\n".join(parts)


class Outbox:
    """Sends queued deliveries; applies receipts; reports delivery counts."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        cipher: security.FieldCipher,
        adapters: Mapping[Channel, ChannelAdapter],
        *,
        lease: Lease | None = None,
        interval: float = 1.0,
        report_every: float = 2.0,
        max_attempts: int = 5,
        retry_after: float = 5.0,
        rate_per_second: float = 20.0,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._write = writer.run
        self._cipher = cipher
        self.adapters = adapters
        """The server's adapters (filled before :meth:`start`; none in an exercise)."""
        self._report_every = report_every
        self.max_attempts = max_attempts
        self.retry_after = retry_after
        """Seconds before the first retry; each next one waits twice as long (≤ 1 h)."""
        self._min_gap = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self._clock = clock
        self._next_send: dict[Channel, float] = {}
        self._dirty: set[int] = set()
        self._reported_at = 0.0
        self._lease = lease
        self._interval = interval
        self._runners: list[Periodic] = []
        self._receipts = TaskSet()
        self._held: OrderedDict[tuple[Channel, str], tuple[ChannelReceipt, float]] = OrderedDict()
        """Receipts not matched yet, by channel and reference, with when to give up."""

    def start(self) -> None:
        """Send and report from now on; follow every adapter's receipts."""
        if self.adapters:
            self._runners = [
                Periodic(
                    f"notice outbox ({channel})",
                    functools.partial(self._tick, channel),
                    interval=self._interval,
                    immediately=True,
                    lease=self._lease,
                )
                for channel in self.adapters
            ]
            # On every instance (no lease): any of them may be the one the SMSC reports to.
            self._runners.append(
                Periodic("notice receipts held", self._retry_held, interval=self._interval)
            )
        else:
            # Nothing to send, only this instance's read receipts to report: no lease to
            # take (and no lease traffic) then.
            self._runners = [
                Periodic("notice outbox", self.report, interval=self._interval, immediately=True)
            ]
        for runner in self._runners:
            runner.start()
        for adapter in self.adapters.values():
            self._receipts.start(self._follow(adapter), name=f"{adapter.channel} receipts")

    async def stop(self) -> None:
        """Stop sending (rows stay queued for the next start) and report what changed."""
        runners, self._runners = self._runners, []
        for runner in runners:
            await runner.stop()
        await self._receipts.close()
        if self._dirty:
            await self.report(force=True)

    def touched(self, notice_id: int) -> None:
        """A delivery of ``notice_id`` changed elsewhere (a console read it)."""
        self._dirty.add(notice_id)

    async def _tick(self, channel: Channel) -> None:
        await self._send_due(channel)
        await self.report()

    async def run_once(self) -> int:
        """Send the deliveries due now on every channel at once (at most :data:`BATCH`
        each); return how many were tried."""
        async with asyncio.TaskGroup() as group:
            runs = [group.create_task(self._send_due(channel)) for channel in self.adapters]
        await self.report()
        return sum(run.result() for run in runs)

    async def _send_due(self, channel: Channel) -> int:
        """Send ``channel``'s deliveries due now (at most :data:`BATCH`), one after the
        other; return how many were tried."""
        now = self._clock()
        async with self._sessions() as session:
            due = list(
                await session.execute(
                    select(NoticeDelivery, NoticeRow)
                    .join(NoticeRow, NoticeRow.id == NoticeDelivery.notice_id)
                    .where(
                        NoticeDelivery.state == DeliveryState.QUEUED.value,
                        NoticeDelivery.channel == channel.value,
                        NoticeDelivery.next_attempt_at <= now,
                    )
                    .order_by(NoticeDelivery.id)
                    .limit(BATCH)
                )
            )
        for delivery, notice in due:
            await self._send(delivery, store.content_of(notice))
        return len(due)

    async def _send(self, delivery: NoticeDelivery, notice: NoticeInput) -> None:
        channel = Channel(delivery.channel)
        attempts = delivery.attempts + 1
        values: dict[str, object]
        try:
            message = Outgoing(
                delivery_id=delivery.id,
                address=self._cipher.decrypt(delivery.address_enc),
                subject=notice.title,
                text=message_text(notice),
            )
            await self._pace(channel)
            reference = await self.adapters[channel].send(message)
        except DeliveryError as exc:
            values = self._failed(attempts, str(exc), permanent=exc.permanent)
        except security.Error as exc:  # a key gone: retrying will not bring it back
            values = self._failed(attempts, f"address unreadable: {exc}", permanent=True)
        except Exception:  # an adapter's bug must not stall the rows behind it
            logger.exception("the %s adapter failed on delivery %s", channel, delivery.id)
            values = self._failed(attempts, "the channel failed (logged)", permanent=False)
        else:
            values = {"state": DeliveryState.SENT.value, "reference": reference[:200], "error": ""}
        values |= {"attempts": attempts, "updated_at": self._clock()}
        async with self._sessions.begin() as session:
            # Only a row still queued: a withdrawal meanwhile has the last word.
            await session.execute(
                update(NoticeDelivery)
                .where(
                    NoticeDelivery.id == delivery.id,
                    NoticeDelivery.state == DeliveryState.QUEUED.value,
                )
                .values(**values)
            )
        self._dirty.add(delivery.notice_id)
        if values.get("state") == DeliveryState.SENT.value:
            held = self._held.pop((channel, str(values["reference"])), None)
            if held is not None:  # its receipt came before this commit
                await self._apply(channel, held[0])

    def _failed(self, attempts: int, error: str, *, permanent: bool) -> dict[str, object]:
        if permanent or attempts >= self.max_attempts:
            logger.info("delivery failed for good after %s attempts: %s", attempts, error)
            return {"state": DeliveryState.FAILED.value, "error": error[:MAX_ERROR]}
        wait = min(self.retry_after * 2 ** (attempts - 1), 3600.0)
        return {
            "error": error[:MAX_ERROR],
            "next_attempt_at": self._clock() + dt.timedelta(seconds=wait),
        }

    async def _pace(self, channel: Channel) -> None:
        now = time.monotonic()
        at = max(self._next_send.get(channel, now), now)
        self._next_send[channel] = at + self._min_gap
        if at > now:
            await asyncio.sleep(at - now)

    async def _follow(self, adapter: ChannelAdapter) -> None:
        async for receipt in adapter.receipts():
            try:
                await self.apply_receipt(adapter.channel, receipt)
            except SQLAlchemyError:  # the database may be down: the next receipts still count
                logger.exception("receipt %s not applied", receipt.reference)

    async def apply_receipt(self, channel: Channel, receipt: ChannelReceipt) -> None:
        """Record a delivery report (by the reference ``send`` returned). A report for a
        message not known yet is kept and tried again for :data:`HOLD_RECEIPTS` seconds."""
        if await self._apply(channel, receipt) is None:
            self._held[(channel, receipt.reference)] = (
                receipt,
                time.monotonic() + HOLD_RECEIPTS,
            )
            while len(self._held) > MAX_HELD:
                (_, dropped), _ = self._held.popitem(last=False)
                logger.info("receipt for unknown message %s dropped (too many held)", dropped)

    async def _apply(self, channel: Channel, receipt: ChannelReceipt) -> bool | None:
        """Whether the receipt moved its row on; None when no row has its reference."""
        async with self._sessions.begin() as session:
            delivery = await session.scalar(
                select(NoticeDelivery).where(
                    NoticeDelivery.channel == channel.value,
                    NoticeDelivery.reference == receipt.reference,
                )
            )
            if delivery is None:
                return None
            if delivery.state != DeliveryState.SENT.value:
                logger.info("receipt for settled message %s", receipt.reference)
                return False
            delivery.state = receipt.state.value
            delivery.error = receipt.error[:MAX_ERROR]
            delivery.updated_at = receipt.at
            notice_id = delivery.notice_id
        # Only once committed: a report read before the commit would miss this receipt.
        self._dirty.add(notice_id)
        return True

    async def _retry_held(self) -> None:
        """Apply the held receipts whose rows are known now; drop those held too long."""
        now = time.monotonic()
        for key, (_, until) in list(self._held.items()):
            if until <= now:
                del self._held[key]
                logger.info("receipt for unknown message %s (%s)", key[1], key[0])
        by_channel: dict[Channel, list[str]] = {}
        for channel, reference in self._held:
            by_channel.setdefault(channel, []).append(reference)
        for channel, references in by_channel.items():
            known: set[str] = set()
            async with self._sessions() as session:
                for at in range(0, len(references), BATCH):  # bounded IN lists
                    known.update(
                        await session.scalars(
                            select(NoticeDelivery.reference).where(
                                NoticeDelivery.channel == channel.value,
                                NoticeDelivery.reference.in_(references[at : at + BATCH]),
                            )
                        )
                    )
            for reference in known:
                held = self._held.pop((channel, reference), None)
                if held is not None:
                    await self._apply(channel, held[0])

    async def report(self, *, force: bool = False) -> None:
        """Write a ``notice.delivery`` event for each notice whose deliveries changed,
        unless one went out less than ``report_every`` seconds ago."""
        if not self._dirty or (
            not force and time.monotonic() - self._reported_at < self._report_every
        ):
            return
        dirty, self._dirty = sorted(self._dirty), set()
        self._reported_at = time.monotonic()

        async def work(session: AsyncSession, events: list[Event]) -> None:
            rows = await session.scalars(select(NoticeRow).where(NoticeRow.id.in_(dirty)))
            views = await store.views_of(session, rows)
            events += await eventlog.append_many(
                session,
                [
                    eventlog.Draft(eventlog.EventKind.NOTICE_DELIVERY, SYSTEM_ACTOR, notice=view)
                    for view in views
                ],
            )

        try:
            await self._write(work)
        except Exception:
            self._dirty.update(dirty)  # reported with the next run
            raise
