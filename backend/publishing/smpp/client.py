"""The SMS channel: an asyncio SMPP 3.4 client (ESME) bound as a transceiver.

One connection task (started by the first :meth:`SmppAdapter.send` or
:meth:`SmppAdapter.receipts`) connects, binds, keeps the link alive with enquire_link,
answers deliver_sm (delivery receipts) and reconnects with doubling back-off; the outage
is logged once (:class:`~backend.runtime.episodes.EpisodeLog`). Submits share the link up
to ``window`` outstanding at once.

A text is split into parts (:func:`~backend.publishing.smpp.messages.split_text`); the
parts a send already got message ids for are remembered per delivery id, so a retry after
throttling or a lost connection sends only the parts not yet accepted — never one twice
once the SMSC answered it. The reference returned is the first part's message id; the
receipts of all parts are folded into one :class:`ChannelReceipt` for it (delivered when
every part is, failed at the first part that fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from backend.publishing.channels import ChannelReceipt, DeliveryError, Outgoing
from backend.publishing.settings import SmppSettings
from backend.publishing.smpp.messages import (
    Receipt,
    Segment,
    TextTooLongError,
    read_receipt,
    split_text,
)
from backend.publishing.smpp.pdu import (
    ESM_CLASS_DELIVERY_RECEIPT,
    RESPONSE_BIT,
    Bind,
    CommandId,
    CommandStatus,
    Empty,
    FramingError,
    MessageResp,
    Pdu,
    PduError,
    PduReader,
    Sequences,
    ShortMessage,
    decode_pdu,
    encode_pdu,
    status_name,
)
from backend.runtime.episodes import EpisodeLog
from realtime.aio import cancel_and_wait
from realtime.protocol import Channel, DeliveryState

logger = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")

READ_CHUNK: Final = 65536
RECEIPT_QUEUE: Final = 10_000
"""Receipts waiting for the workflow; beyond, reading from the SMSC pauses."""
REMEMBERED: Final = 50_000
"""Deliveries (and part message ids) remembered for retries and receipts."""
UNBIND_WAIT: Final = 2.0
LATE_ANSWERS: Final = 1_000
"""Requests given up (timed out) per link whose answer is still taken when it comes."""

PERMANENT: Final = frozenset(
    {
        CommandStatus.ESME_RINVMSGLEN,
        CommandStatus.ESME_RINVSRCADR,
        CommandStatus.ESME_RINVDSTADR,
        CommandStatus.ESME_RINVNUMDESTS,
        CommandStatus.ESME_RINVESMCLASS,
        CommandStatus.ESME_RINVSRCTON,
        CommandStatus.ESME_RINVSRCNPI,
        CommandStatus.ESME_RINVDSTTON,
        CommandStatus.ESME_RINVDSTNPI,
        CommandStatus.ESME_RX_P_APPN,
        CommandStatus.ESME_RX_R_APPN,
    }
)
"""Submit answers that a retry cannot change (the number or the content is refused);
every other error (throttling, a full queue, a system error) is worth retrying."""


class ConnectionLostError(Exception):
    """The link to the SMSC ended before the answer came."""


class _Link:
    """One bound connection: requests matched to answers by sequence number."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.sequences = Sequences()
        self.pending: dict[int, tuple[asyncio.Future[Pdu], Callable[[Pdu], None] | None]] = {}
        self.late: OrderedDict[int, Callable[[Pdu], None]] = OrderedDict()
        """``on_answer`` of the requests that timed out, by sequence number."""
        self.bound = False

    async def write(self, pdu: Pdu) -> None:
        self.writer.write(encode_pdu(pdu))
        await self.writer.drain()

    async def request(
        self,
        body: ShortMessage | Bind | Empty,
        timeout: float,
        on_answer: Callable[[Pdu], None] | None = None,
    ) -> Pdu:
        """Send ``body``, return the answer. ``on_answer`` runs as soon as the answer is
        read, before the next PDU from the SMSC is handled (a receipt may follow at once)."""
        sequence = self.sequences.next()
        answer: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        self.pending[sequence] = (answer, on_answer)
        try:
            await self.write(Pdu(sequence, body))
            return await asyncio.wait_for(answer, timeout)
        except ConnectionError as exc:
            raise ConnectionLostError(str(exc)) from exc
        except TimeoutError:
            # A slow SMSC may still accept it: its message id must count then, or the
            # retry sends the text a second time.
            if on_answer is not None:
                _remember(self.late, sequence, on_answer, LATE_ANSWERS)
            raise
        finally:
            self.pending.pop(sequence, None)

    def answered(self, pdu: Pdu) -> None:
        waiting = self.pending.get(pdu.sequence)
        if waiting is None:
            late = self.late.pop(pdu.sequence, None)
            if late is not None:
                logger.info("the SMSC answered request %s after its timeout", pdu.sequence)
                late(pdu)
            return
        if waiting[0].done():
            return
        answer, on_answer = waiting
        if on_answer is not None:
            on_answer(pdu)
        answer.set_result(pdu)

    def lost(self) -> None:
        for answer, _ in self.pending.values():
            if not answer.done():
                answer.set_exception(ConnectionLostError("the connection to the SMSC ended"))


@dataclass(slots=True)
class _Progress:
    """One delivery's parts and the message ids the SMSC gave the ones it accepted."""

    segments: list[Segment]
    ids: list[str | None]
    tracker: _Tracker | None = None
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held by the send under way (a concurrent send of the same delivery waits)."""


@dataclass(slots=True)
class _Tracker:
    """Receipts of one sent text's parts, folded into one."""

    reference: str
    parts: int
    delivered: set[str] = field(default_factory=set)
    reported: bool = False


class SmppAdapter:
    """:class:`~backend.publishing.channels.ChannelAdapter` for SMS through an SMSC."""

    def __init__(self, settings: SmppSettings) -> None:
        self.settings = settings
        self._task: asyncio.Task[None] | None = None
        self._link: _Link | None = None
        self._bound = asyncio.Event()
        self._window = asyncio.Semaphore(max(1, settings.window))
        self._receipts: asyncio.Queue[ChannelReceipt | None] = asyncio.Queue(RECEIPT_QUEUE)
        self._progress: OrderedDict[int, _Progress] = OrderedDict()
        self._trackers: OrderedDict[str, _Tracker] = OrderedDict()
        self._outage = EpisodeLog(logger, f"SMSC {settings.host}:{settings.port}")
        self._running = False
        self._closed = False

    @property
    def channel(self) -> Channel:
        return Channel.SMS

    @property
    def bound(self) -> bool:
        """Whether a bound link is up now."""
        return self._bound.is_set()

    async def wait_bound(self, timeout: float) -> None:
        """Wait until a link is bound (raises TimeoutError)."""
        self.start()
        await asyncio.wait_for(self._bound.wait(), timeout)

    def start(self) -> None:
        """Start connecting (idempotent; :meth:`send` and :meth:`receipts` call it)."""
        if not self._running and not self._closed:
            self._running = True
            self._task = asyncio.get_running_loop().create_task(self._run(), name="smpp-link")

    # --- sending -----------------------------------------------------------------------

    async def send(self, message: Outgoing) -> str:
        """Submit the text (in parts when long); return the first part's message id."""
        if self._closed:
            raise DeliveryError("the SMS channel is closed")
        self.start()
        progress = self._progress.get(message.delivery_id)
        if progress is None:
            try:
                segments = split_text(message.text, reference=message.delivery_id & 0xFF)
            except TextTooLongError as exc:
                raise DeliveryError(str(exc), permanent=True) from exc
            progress = _Progress(segments, [None] * len(segments))
            _remember(self._progress, message.delivery_id, progress)
        destination, ton, npi = _destination(message.address)
        async with progress.sending:
            for index, segment in enumerate(progress.segments):
                if progress.ids[index] is not None:
                    continue  # accepted by an earlier attempt
                try:
                    await self._submit(
                        destination,
                        ton,
                        npi,
                        segment,
                        functools.partial(self._accepted, progress, index),
                    )
                except DeliveryError as exc:
                    if exc.permanent:
                        self._progress.pop(message.delivery_id, None)
                    raise
        assert progress.tracker is not None  # noqa: S101  (at least one segment)
        return progress.tracker.reference

    def _accepted(self, progress: _Progress, index: int, message_id: str) -> None:
        """A part was accepted: remember its id (before its receipt can be read)."""
        progress.ids[index] = message_id
        if progress.tracker is None:
            progress.tracker = _Tracker(message_id, len(progress.segments))
        _remember(self._trackers, message_id, progress.tracker)

    async def _submit(
        self,
        destination: str,
        ton: int,
        npi: int,
        segment: Segment,
        accepted: Callable[[str], None],
    ) -> None:
        settings = self.settings
        body = ShortMessage(
            CommandId.SUBMIT_SM,
            source_addr=settings.source_addr,
            source_addr_ton=settings.source_addr_ton,
            source_addr_npi=settings.source_addr_npi,
            destination_addr=destination,
            dest_addr_ton=ton,
            dest_addr_npi=npi,
            esm_class=segment.esm_class,
            registered_delivery=1,
            data_coding=segment.data_coding,
            short_message=segment.short_message,
        )
        async with self._window:
            link = await self._bound_link()
            try:
                answer = await link.request(
                    body, settings.response_timeout, functools.partial(_on_submit_answer, accepted)
                )
            except ConnectionLostError as exc:
                raise DeliveryError(f"connection to the SMSC lost: {exc}") from exc
            except TimeoutError as exc:
                raise DeliveryError("the SMSC did not answer the submit in time") from exc
            except PduError as exc:  # a field we cannot encode (a bad address)
                raise DeliveryError(str(exc), permanent=True) from exc
        if _message_id(answer) is not None:
            return
        permanent = answer.status in PERMANENT
        raise DeliveryError(
            f"SMSC refused the message: {status_name(answer.status)}", permanent=permanent
        )

    async def _bound_link(self) -> _Link:
        try:
            await asyncio.wait_for(self._bound.wait(), self.settings.send_timeout)
        except TimeoutError:
            raise DeliveryError(
                "the SMSC is not reachable: " + (self._outage.last_problem or "not bound yet")
            ) from None
        link = self._link
        if link is None:  # lost between the wake-up and now
            raise DeliveryError("connection to the SMSC lost")
        return link

    # --- receipts ----------------------------------------------------------------------

    async def receipts(self) -> AsyncIterator[ChannelReceipt]:
        """Delivery reports, one per sent text (see the module's docstring)."""
        self.start()
        while True:
            receipt = await self._receipts.get()
            if receipt is None:
                return
            yield receipt

    async def _received(self, receipt: Receipt) -> None:
        if not receipt.final:
            return
        tracker = self._trackers.get(receipt.message_id)
        if tracker is None:
            # Sent before a restart: the workflow knows the first part's id.
            tracker = _Tracker(receipt.message_id, 1)
        if tracker.reported:
            return
        now = dt.datetime.now(dt.UTC)
        if receipt.delivered:
            tracker.delivered.add(receipt.message_id)
            if len(tracker.delivered) < tracker.parts:
                return
            report = ChannelReceipt(tracker.reference, DeliveryState.DELIVERED, now)
        else:
            error = f"{receipt.state} err:{receipt.error}" if receipt.error else receipt.state
            report = ChannelReceipt(tracker.reference, DeliveryState.FAILED, now, error)
        tracker.reported = True
        await self._receipts.put(report)

    # --- the link ----------------------------------------------------------------------

    async def _run(self) -> None:
        settings = self.settings
        delay = settings.reconnect_min
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(settings.host, settings.port),
                    settings.connect_timeout,
                )
            except (OSError, TimeoutError) as exc:
                self._failed(f"cannot connect: {exc or type(exc).__name__}")
            else:
                try:
                    if await self._session(reader, writer):
                        delay = settings.reconnect_min
                finally:
                    writer.close()
                    with contextlib.suppress(ConnectionError):
                        await writer.wait_closed()
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.reconnect_max)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Bind and serve one connection until it ends; whether it was bound."""
        settings = self.settings
        link = _Link(writer)
        reading = asyncio.get_running_loop().create_task(self._read(reader, link))
        try:
            answer = await link.request(
                Bind(
                    CommandId.BIND_TRANSCEIVER,
                    settings.system_id,
                    settings.password,
                    settings.system_type,
                ),
                settings.response_timeout,
            )
            if answer.status != CommandStatus.ESME_ROK:
                self._failed(f"bind refused: {status_name(answer.status)}")
                return False
            link.bound = True
            self._link = link
            self._bound.set()
            self._outage.succeeded()
            logger.info(
                "bound to the SMSC %s:%s as %s", settings.host, settings.port, settings.system_id
            )
            await self._keep_alive(link, reading)
            self._failed("the connection ended")
            return True
        except (ConnectionLostError, TimeoutError, PduError) as exc:
            self._failed(f"link failed: {exc or type(exc).__name__}")
            return link.bound
        finally:
            self._bound.clear()
            self._link = None
            link.lost()
            await cancel_and_wait(reading)

    def _failed(self, problem: str) -> None:
        if not self._closed:  # an unbind on close is no outage
            self._outage.failed(problem)

    async def _keep_alive(self, link: _Link, reading: asyncio.Task[None]) -> None:
        interval = self.settings.enquire_link_interval
        odd_answer_logged = False
        while True:
            done, _ = await asyncio.wait({reading}, timeout=interval)
            if done:
                return
            answer = await link.request(
                Empty(CommandId.ENQUIRE_LINK), self.settings.response_timeout
            )
            # Any answer (a generic_nack too) shows the link alive: only silence ends it.
            if answer.command != CommandId.ENQUIRE_LINK_RESP and not odd_answer_logged:
                odd_answer_logged = True
                logger.info(
                    "the SMSC answers enquire_link with %s %s (the link is alive)",
                    answer.command.name,
                    status_name(answer.status),
                )

    async def _read(self, reader: asyncio.StreamReader, link: _Link) -> None:
        frames = PduReader()
        try:
            while True:
                data = await reader.read(READ_CHUNK)
                if not data:
                    return
                try:
                    batch, broken = frames.feed(data), None
                except FramingError as exc:
                    batch, broken = exc.frames, exc
                for frame in batch:
                    if not await self._dispatch(frame, link):
                        return
                if broken is not None:
                    raise broken
        except FramingError as exc:
            logger.warning("SMSC stream unreadable, reconnecting: %s", exc)
        except ConnectionError as exc:
            logger.debug("SMSC connection error: %s", exc)
        finally:
            link.lost()

    async def _dispatch(self, frame: bytes, link: _Link) -> bool:
        """Handle one PDU from the SMSC; False when the link is to end (unbind)."""
        try:
            pdu = decode_pdu(frame)
        except PduError as exc:
            logger.warning("bad PDU from the SMSC: %s", exc)
            await link.write(Pdu(exc.sequence, Empty(CommandId.GENERIC_NACK), exc.status))
            return True
        command = pdu.command
        if command & RESPONSE_BIT:  # answers and generic_nack
            link.answered(pdu)
        elif command == CommandId.DELIVER_SM:
            await link.write(Pdu(pdu.sequence, MessageResp(CommandId.DELIVER_SM_RESP)))
            assert isinstance(pdu.body, ShortMessage)  # noqa: S101  (decode_pdu's type)
            receipt = read_receipt(pdu.body)
            if receipt is not None:
                await self._received(receipt)
            elif pdu.body.esm_class & ESM_CLASS_DELIVERY_RECEIPT:
                logger.info("unreadable receipt from the SMSC: %r", pdu.body.short_message[:80])
        elif command == CommandId.ENQUIRE_LINK:
            await link.write(Pdu(pdu.sequence, Empty(CommandId.ENQUIRE_LINK_RESP)))
        elif command == CommandId.UNBIND:
            await link.write(Pdu(pdu.sequence, Empty(CommandId.UNBIND_RESP)))
            return False
        else:
            await link.write(
                Pdu(pdu.sequence, Empty(CommandId.GENERIC_NACK), CommandStatus.ESME_RINVCMDID)
            )
        return True

    async def close(self) -> None:
        """Unbind (briefly), disconnect and end :meth:`receipts`."""
        if self._closed:
            return
        self._closed = True
        link = self._link
        if link is not None:
            with contextlib.suppress(ConnectionLostError, TimeoutError, OSError):
                await link.request(Empty(CommandId.UNBIND), UNBIND_WAIT)
        task, self._task = self._task, None
        if task is not None:
            # Cancelled until it ends: on Python 3.11 a wait_for racing an answer from the
            # SMSC can swallow one cancellation, and close() then waited for ever.
            await cancel_and_wait(task)
            if not task.cancelled() and task.exception() is not None:
                logger.error("the SMSC link task failed", exc_info=task.exception())
        with contextlib.suppress(asyncio.QueueFull):
            self._receipts.put_nowait(None)


def _message_id(answer: Pdu) -> str | None:
    """The message id of an accepting submit_sm_resp (None: not accepted)."""
    if answer.status == CommandStatus.ESME_ROK and isinstance(answer.body, MessageResp):
        return answer.body.message_id
    return None


def _on_submit_answer(accepted: Callable[[str], None], answer: Pdu) -> None:
    message_id = _message_id(answer)
    if message_id is not None:
        accepted(message_id)


def _remember(store: OrderedDict[K, V], key: K, value: V, limit: int = REMEMBERED) -> None:
    """Keep ``key`` as the newest entry, dropping the oldest beyond ``limit``."""
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)


def _destination(address: str) -> tuple[str, int, int]:
    """The number as SMPP carries it: ``+86…`` international (TON 1), otherwise as
    dialled (TON 0 unknown); NPI 1 (E.164)."""
    address = address.strip().replace(" ", "").replace("-", "")
    if address.startswith("+"):
        return address[1:], 1, 1
    return address, 0, 1
