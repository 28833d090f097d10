"""An SMSC of our own for tests and demos: it stands for the carrier's SMS gateway.

It accepts binds (checking the password), answers submit_sm with message ids, sends a
delivery receipt (deliver_sm) after a delay, and keeps every part it received so tests
can assert the texts reassembled. It can be told to refuse numbers (``ESME_RINVDSTADR``),
to report numbers undeliverable in the receipt, to throttle the next submits
(``ESME_RTHROTTLED``) and to drop the connection at a submit (as a network would lose
it). ``dutydesk smsc-sim`` runs one in the foreground.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from backend.publishing.smpp.messages import STATE_CODES, Part, read_part, receipt_text
from backend.publishing.smpp.pdu import (
    ESM_CLASS_DELIVERY_RECEIPT,
    RESPONSE_BIT,
    Bind,
    BindResp,
    CommandId,
    CommandStatus,
    Empty,
    MessageResp,
    Pdu,
    PduError,
    PduReader,
    Sequences,
    ShortMessage,
    Tag,
    decode_pdu,
    encode_pdu,
)
from realtime.aio import TaskSet

logger = logging.getLogger(__name__)

_SENDERS = {CommandId.BIND_TRANSMITTER, CommandId.BIND_TRANSCEIVER}
_RECEIVERS = {CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER}


@dataclass(frozen=True, slots=True)
class ReceivedPart:
    """One submit_sm the simulator accepted."""

    system_id: str
    source: str
    destination: str
    message_id: str
    part: Part


@dataclass(slots=True)
class ReceivedText:
    """A text reassembled from its parts."""

    destination: str
    text: str
    message_ids: list[str]
    duplicates: int = 0
    """Parts received more than once (a resend of an accepted part)."""


@dataclass(slots=True, eq=False)
class _Session:
    system_id: str = ""
    command: CommandId | None = None
    writer: asyncio.StreamWriter | None = None
    sequences: Sequences = field(default_factory=Sequences)


class SmscSimulator:
    """An in-process SMSC on ``host``:``port`` (0: any free port, see :attr:`port`)."""

    def __init__(
        self,
        *,
        system_id: str = "dutydesk",
        password: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        receipt_delay: float = 0.05,
    ) -> None:
        """``password`` None accepts any password."""
        self.system_id = system_id
        self.password = password
        self.host = host
        self.port = port
        self.receipt_delay = receipt_delay
        self.fail_numbers: set[str] = set()
        """Destinations refused at submit (``ESME_RINVDSTADR``)."""
        self.undeliverable: set[str] = set()
        """Destinations accepted, then reported ``UNDELIV`` in the receipt."""
        self.parts: list[ReceivedPart] = []
        self.binds: list[tuple[str, bool]] = []
        """(system_id, accepted) of every bind."""
        self.enquire_links = 0
        self.answer_delay = 0.0
        """Seconds before a submit is answered (submits then overlap: see
        :attr:`max_unanswered`)."""
        self.max_unanswered = 0
        """The most submits received and not yet answered at one time (the client's
        window in use)."""
        self._unanswered = 0
        self._throttle = 0
        self._drop_after: int | None = None
        self._next_id = 0
        self._sessions: set[_Session] = set()
        self._waiting_receipts: list[tuple[str, ShortMessage]] = []
        self._tasks = TaskSet()
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()

    # --- what a test tells it ----------------------------------------------------------

    def throttle(self, submits: int) -> None:
        """Answer the next ``submits`` submit_sm with ``ESME_RTHROTTLED``."""
        self._throttle = submits

    def drop_connection_after(self, submits: int) -> None:
        """Accept ``submits`` more submit_sm, then close the connection at the next one
        without answering (it is not kept: the network lost it)."""
        self._drop_after = submits

    # --- what a test reads -------------------------------------------------------------

    def texts(self) -> list[ReceivedText]:
        """The texts received, reassembled (complete ones only), in order of first part."""
        groups: dict[tuple[str, str, int, int], dict[int, ReceivedPart]] = {}
        duplicates: defaultdict[tuple[str, str, int, int], int] = defaultdict(int)
        order: list[tuple[str, str, int, int]] = []
        for received in self.parts:
            part = received.part
            key = (received.source, received.destination, part.reference, part.total)
            if part.total == 1:
                key = (*key[:2], -len(order) - 1, 1)  # single texts are never joined
            if key not in groups:
                groups[key] = {}
                order.append(key)
            if part.number in groups[key]:
                duplicates[key] += 1
            groups[key][part.number] = received
        texts = []
        for key in order:
            parts = groups[key]
            if len(parts) < key[3]:
                continue
            ordered = [parts[number] for number in sorted(parts)]
            texts.append(
                ReceivedText(
                    key[1],
                    "".join(p.part.text for p in ordered),
                    [p.message_id for p in ordered],
                    duplicates[key],
                )
            )
        return texts

    async def wait_for(self, texts: int, timeout: float = 5.0) -> list[ReceivedText]:
        """Wait until at least ``texts`` complete texts were received."""
        await self.wait_until(lambda: len(self.texts()) >= texts, timeout)
        return self.texts()

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds (checked whenever a PDU was handled)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)

    # --- running -----------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("SMSC simulator listening on %s:%s", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for session in list(self._sessions):
                if session.writer is not None:
                    session.writer.close()
            await self._server.wait_closed()
        await self._tasks.close()

    async def __aenter__(self) -> SmscSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def disconnect_all(self) -> None:
        """Close every connection now (the carrier's gateway restarting)."""
        for session in list(self._sessions):
            if session.writer is not None:
                session.writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(writer=writer)
        self._sessions.add(session)
        frames = PduReader()
        try:
            while data := await reader.read(65536):
                for frame in frames.feed(data):
                    if not await self._handle(session, frame):
                        return
        except PduError as exc:
            logger.warning("SMSC simulator: unreadable stream: %s", exc)
        except ConnectionError:
            pass
        finally:
            self._sessions.discard(session)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _write(self, session: _Session, pdu: Pdu) -> None:
        assert session.writer is not None  # noqa: S101
        session.writer.write(encode_pdu(pdu))
        await session.writer.drain()

    async def _handle(self, session: _Session, frame: bytes) -> bool:
        try:
            pdu = decode_pdu(frame)
        except PduError as exc:
            await self._write(session, Pdu(exc.sequence, Empty(CommandId.GENERIC_NACK), exc.status))
            return True
        try:
            return await self._handle_pdu(session, pdu)
        finally:
            async with self._changed:
                self._changed.notify_all()

    async def _handle_pdu(self, session: _Session, pdu: Pdu) -> bool:
        body = pdu.body
        if pdu.command & RESPONSE_BIT:
            return True  # deliver_sm_resp, enquire_link_resp
        if isinstance(body, Bind):
            return await self._bind(session, pdu, body)
        if pdu.command == CommandId.ENQUIRE_LINK:
            self.enquire_links += 1
            await self._write(session, Pdu(pdu.sequence, Empty(CommandId.ENQUIRE_LINK_RESP)))
            return True
        if pdu.command == CommandId.UNBIND:
            await self._write(session, Pdu(pdu.sequence, Empty(CommandId.UNBIND_RESP)))
            return False
        if isinstance(body, ShortMessage) and pdu.command == CommandId.SUBMIT_SM:
            if self.answer_delay > 0 and self._drop_after is None:
                self._tasks.start(self._submit_later(session, pdu, body), name="smsc-submit")
                return True
            return await self._submit(session, pdu, body)
        await self._write(
            session, Pdu(pdu.sequence, Empty(CommandId.GENERIC_NACK), CommandStatus.ESME_RINVCMDID)
        )
        return True

    async def _submit_later(self, session: _Session, pdu: Pdu, body: ShortMessage) -> None:
        self._unanswered += 1
        self.max_unanswered = max(self.max_unanswered, self._unanswered)
        try:
            await asyncio.sleep(self.answer_delay)
            with contextlib.suppress(ConnectionError):
                await self._submit(session, pdu, body)
        finally:
            self._unanswered -= 1
        async with self._changed:
            self._changed.notify_all()

    async def _bind(self, session: _Session, pdu: Pdu, body: Bind) -> bool:
        response = CommandId(body.command | RESPONSE_BIT)
        if session.command is not None:
            status = CommandStatus.ESME_RALYBND
        elif body.system_id != self.system_id:
            status = CommandStatus.ESME_RINVSYSID
        elif self.password is not None and body.password != self.password:
            status = CommandStatus.ESME_RINVPASWD
        else:
            status = CommandStatus.ESME_ROK
        self.binds.append((body.system_id, status == CommandStatus.ESME_ROK))
        await self._write(session, Pdu(pdu.sequence, BindResp(response, "SMSC-SIM"), status))
        if status != CommandStatus.ESME_ROK:
            return status == CommandStatus.ESME_RALYBND
        session.system_id, session.command = body.system_id, body.command
        if body.command in _RECEIVERS:
            waiting, self._waiting_receipts = self._waiting_receipts, []
            for system_id, receipt in waiting:
                await self._deliver(system_id, receipt)
        return True

    async def _submit(self, session: _Session, pdu: Pdu, body: ShortMessage) -> bool:
        if session.command not in _SENDERS:
            await self._answer(session, pdu, CommandStatus.ESME_RINVBNDSTS)
            return True
        if self._drop_after is not None:
            if self._drop_after == 0:
                self._drop_after = None
                return False  # lost on the way: no answer, not kept
            self._drop_after -= 1
        if self._throttle > 0:
            self._throttle -= 1
            await self._answer(session, pdu, CommandStatus.ESME_RTHROTTLED)
            return True
        if body.destination_addr in self.fail_numbers:
            await self._answer(session, pdu, CommandStatus.ESME_RINVDSTADR)
            return True
        self._next_id += 1
        message_id = f"{self._next_id:010x}"
        part = read_part(body)
        self.parts.append(
            ReceivedPart(
                session.system_id, body.source_addr, body.destination_addr, message_id, part
            )
        )
        logger.info(
            "SMSC simulator: %s → %s [%s/%s]: %s",
            body.source_addr,
            body.destination_addr,
            part.number,
            part.total,
            part.text,
        )
        await self._answer(session, pdu, CommandStatus.ESME_ROK, message_id)
        if body.registered_delivery & 1:
            state = "UNDELIV" if body.destination_addr in self.undeliverable else "DELIVRD"
            receipt = self._receipt(body, message_id, state, part.text)
            if self.receipt_delay > 0:
                self._tasks.start(
                    self._deliver_later(session.system_id, receipt), name="smsc-receipt"
                )
            else:  # right behind the answer, often in the same TCP segment
                await self._deliver(session.system_id, receipt)
        return True

    async def _answer(self, session: _Session, pdu: Pdu, status: int, message_id: str = "") -> None:
        await self._write(
            session, Pdu(pdu.sequence, MessageResp(CommandId.SUBMIT_SM_RESP, message_id), status)
        )

    @staticmethod
    def _receipt(body: ShortMessage, message_id: str, state: str, text: str) -> ShortMessage:
        now = dt.datetime.now(dt.UTC)
        return ShortMessage(
            CommandId.DELIVER_SM,
            source_addr=body.destination_addr,
            destination_addr=body.source_addr,
            esm_class=ESM_CLASS_DELIVERY_RECEIPT,
            short_message=receipt_text(
                message_id,
                state,
                "000" if state == "DELIVRD" else "001",
                submitted=now,
                done=now,
                text=text,
            ),
            tlvs=(
                (Tag.RECEIPTED_MESSAGE_ID, message_id.encode() + b"\0"),
                (Tag.MESSAGE_STATE, bytes((STATE_CODES[state],))),
            ),
        )

    async def _deliver_later(self, system_id: str, receipt: ShortMessage) -> None:
        await asyncio.sleep(self.receipt_delay)
        await self._deliver(system_id, receipt)

    async def _deliver(self, system_id: str, receipt: ShortMessage) -> None:
        for session in list(self._sessions):
            if session.system_id == system_id and session.command in _RECEIVERS:
                with contextlib.suppress(ConnectionError):
                    await self._write(session, Pdu(session.sequences.next(), receipt))
                    return
        self._waiting_receipts.append((system_id, receipt))  # sent at the next bind
