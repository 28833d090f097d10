"""The e-mail channel: each message over its own SMTP connection (stdlib ``smtplib`` in a
worker thread, a few at once), optionally STARTTLS and login.

The subject and body are UTF-8 (MIME: RFC 2047 encoded-words for the subject, a UTF-8
text part for the body); the Message-ID we generate is the reference. A 5xx answer is
permanent (the address or the content is refused); a 4xx answer, a dropped connection or
a timeout is temporary. A refused login or a missing STARTTLS is a configuration problem,
temporary as well (the workflow retries once the operator fixed it) and logged once.
SMTP gives no delivery reports, so :meth:`SmtpAdapter.receipts` yields none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Final

from backend.publishing.channels import ChannelReceipt, DeliveryError, Outgoing
from backend.publishing.settings import SmtpSettings
from backend.runtime.episodes import EpisodeLog
from realtime.protocol import Channel

logger = logging.getLogger(__name__)

REMEMBERED: Final = 50_000
"""Deliveries remembered, so a repeated send of one that returned is not sent again."""
MAX_ADDRESS: Final = 254


class SmtpAdapter:
    """:class:`~backend.publishing.channels.ChannelAdapter` for e-mail through a relay."""

    def __init__(self, settings: SmtpSettings, *, tls: ssl.SSLContext | None = None) -> None:
        """``tls``: the context for STARTTLS (default: the system's trusted CAs)."""
        self.settings = settings
        self._tls = tls
        self._limit = asyncio.Semaphore(max(1, settings.concurrency))
        self._sent: OrderedDict[int, str] = OrderedDict()
        self._closed = asyncio.Event()
        self._outage = EpisodeLog(logger, f"SMTP relay {settings.host}:{settings.port}")
        _, self._envelope_from = parseaddr(settings.sender)
        self._domain = self._envelope_from.rpartition("@")[2] or "dutydesk.invalid"

    @property
    def channel(self) -> Channel:
        return Channel.EMAIL

    async def send(self, message: Outgoing) -> str:
        """Send one e-mail; return its Message-ID."""
        if self._closed.is_set():
            raise DeliveryError("the e-mail channel is closed")
        known = self._sent.get(message.delivery_id)
        if known is not None:
            return known
        email = self.compose(message)
        async with self._limit:
            attempt = _Attempt()
            # The socket timeout bounds each read only: a relay trickling line after line
            # would hold the thread for good. Shutting the socket down ends any read.
            deadline = asyncio.get_running_loop().call_later(
                self.settings.message_timeout, attempt.abort
            )
            try:
                await asyncio.to_thread(self._deliver, attempt, email, message.address.strip())
            finally:
                deadline.cancel()
        message_id = str(email["Message-ID"])
        self._sent[message.delivery_id] = message_id
        while len(self._sent) > REMEMBERED:
            self._sent.popitem(last=False)
        return message_id

    def compose(self, message: Outgoing) -> EmailMessage:
        """The e-mail for ``message`` (raises a permanent DeliveryError for an address
        that cannot be one)."""
        address = message.address.strip()
        _, parsed = parseaddr(address)
        if (
            parsed != address
            or "@" not in address
            or len(address) > MAX_ADDRESS
            or any(c in address for c in "\r\n<>,; ")
        ):
            raise DeliveryError(f"not an e-mail address: {address!r}", permanent=True)
        email = EmailMessage()
        email["From"] = self.settings.sender
        email["To"] = address
        email["Subject"] = " ".join(message.subject.split())  # no line breaks in a header
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = make_msgid(domain=self._domain)
        email.set_content(message.text, charset="utf-8")
        return email

    def _deliver(self, attempt: _Attempt, email: EmailMessage, address: str) -> None:
        """Blocking: one connection, one message (runs in a worker thread)."""
        settings = self.settings
        try:
            with _Smtp(attempt, settings.host, settings.port, settings.timeout) as smtp:
                if settings.starttls:
                    smtp.starttls(context=self._tls or ssl.create_default_context())
                if settings.user:
                    smtp.login(settings.user, settings.password)
                smtp.send_message(email, from_addr=self._envelope_from, to_addrs=[address])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()), (0, b""))
            self._outage.succeeded()
            raise _refused(code, reason, "recipient refused") from exc
        except smtplib.SMTPAuthenticationError as exc:
            self._outage.failed(f"login refused: {exc.smtp_code}")
            raise DeliveryError(f"SMTP login refused ({exc.smtp_code})") from exc
        except smtplib.SMTPResponseException as exc:
            self._outage.succeeded()
            raise _refused(exc.smtp_code, exc.smtp_error, "refused") from exc
        except smtplib.SMTPNotSupportedError as exc:
            self._outage.failed(f"not supported by the relay: {exc}")
            raise DeliveryError(f"SMTP relay: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
            if attempt.aborted:
                problem = f"no complete answer within {settings.message_timeout:g} s"
            self._outage.failed(problem)
            raise DeliveryError(f"SMTP relay not reachable: {problem}") from exc
        self._outage.succeeded()

    async def receipts(self) -> AsyncIterator[ChannelReceipt]:
        """None: SMTP reports nothing after accepting (ends at :meth:`close`)."""
        await self._closed.wait()
        nothing: tuple[ChannelReceipt, ...] = ()
        for receipt in nothing:  # makes this an async generator that yields nothing
            yield receipt

    async def close(self) -> None:
        self._closed.set()


class _Attempt:
    """One message's connection, as the event loop sees it from outside its thread."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None
        self.aborted = False

    def abort(self) -> None:
        """End the connection of a message past its deadline (its thread's read returns)."""
        self.aborted = True  # before reading the socket: see _Smtp.getreply
        sock = self.smtp.sock if self.smtp is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Smtp(smtplib.SMTP):
    """``smtplib.SMTP`` that its :class:`_Attempt` can abort from the start (the greeting
    is read in the constructor)."""

    def __init__(self, attempt: _Attempt, host: str, port: int, timeout: float) -> None:
        self._attempt = attempt
        attempt.smtp = self
        super().__init__(host, port, timeout=timeout)

    def getreply(self) -> tuple[int, bytes]:
        # Aborted before the socket was there to shut down: stop at the next read.
        if self._attempt.aborted:
            self.close()
            raise smtplib.SMTPServerDisconnected("given up")
        return super().getreply()


def _refused(code: int, reason: bytes | str, what: str) -> DeliveryError:
    text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else reason
    return DeliveryError(f"SMTP {what}: {code} {text}".strip(), permanent=500 <= code < 600)
