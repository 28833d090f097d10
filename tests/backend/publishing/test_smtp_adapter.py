"""The e-mail adapter against a real SMTP server (aiosmtpd on 127.0.0.1, port 0): UTF-8
subject and body, Message-ID as the reference, 5xx permanent, 4xx temporary, STARTTLS
and login, and one bad recipient never holding up the others."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email
import email.policy
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from backend.publishing.channels import DeliveryError, Outgoing
from backend.publishing.settings import SmtpSettings
from backend.publishing.smtp_adapter import SmtpAdapter


@dataclass
class Mailbox:
    """What the server received, and how it answers given recipients."""

    messages: list[Envelope] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.answers:
            return self.answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def parsed(self, index: int = 0) -> email.message.EmailMessage:
        content = self.messages[index].original_content
        assert content is not None
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        return message


async def smtp_server(mailbox: Mailbox, **options: Any) -> tuple[asyncio.Server, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(mailbox, hostname="relay.test", loop=loop, **options), "127.0.0.1", 0
    )
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def relay() -> AsyncIterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    server, port = await smtp_server(mailbox)
    yield mailbox, port
    server.close()
    await server.wait_closed()


def mail(delivery_id: int, address: str = "duty@example.org") -> Outgoing:
    return Outgoing(
        delivery_id=delivery_id,
        address=address,
        subject="【橙色预警】液氯泄漏\n请注意",
        text="东坝乡化工厂液氯储罐泄漏。\n请立即关闭门窗，听从指挥撤离。",
    )


def adapter_for(port: int, **changes: Any) -> SmtpAdapter:
    settings = SmtpSettings("127.0.0.1", port, "值班台 <dutydesk@yjj.example.gov.cn>", timeout=5)
    return SmtpAdapter(_replace(settings, **changes))


def _replace(settings: SmtpSettings, **changes: Any) -> SmtpSettings:
    return dataclasses.replace(settings, **changes)


async def test_utf8_subject_and_body_arrive_and_the_message_id_is_the_reference(
    relay: tuple[Mailbox, int],
) -> None:
    mailbox, port = relay
    adapter = adapter_for(port)
    reference = await adapter.send(mail(1))
    (envelope,) = mailbox.messages
    assert envelope.mail_from == "dutydesk@yjj.example.gov.cn"
    assert envelope.rcpt_tos == ["duty@example.org"]
    message = mailbox.parsed()
    assert message["Message-ID"] == reference
    assert reference.endswith("@yjj.example.gov.cn>")
    assert message["Subject"] == "【橙色预警】液氯泄漏 请注意"
    assert str(message["From"]) == "值班台 <dutydesk@yjj.example.gov.cn>"
    body = message.get_body()
    assert body is not None
    assert (
        body.get_content().replace("\r\n", "\n")
        == "东坝乡化工厂液氯储罐泄漏。\n请立即关闭门窗，听从指挥撤离。\n"
    )
    assert body.get_content_charset() == "utf-8"
    assert await adapter.send(mail(1)) == reference  # returned once: never sent again
    assert len(mailbox.messages) == 1
    await adapter.close()


async def test_5xx_is_permanent_4xx_temporary_and_the_others_still_go(
    relay: tuple[Mailbox, int],
) -> None:
    mailbox, port = relay
    mailbox.answers["nobody@example.org"] = "550 5.1.1 No such user"
    mailbox.answers["busy@example.org"] = "451 4.3.0 Try again later"
    adapter = adapter_for(port)
    results = await asyncio.gather(
        adapter.send(mail(1, "nobody@example.org")),
        adapter.send(mail(2, "busy@example.org")),
        adapter.send(mail(3, "a@example.org")),
        adapter.send(mail(4, "b@example.org")),
        return_exceptions=True,
    )
    refused, busy, *sent = results
    assert isinstance(refused, DeliveryError)
    assert refused.permanent
    assert "550 5.1.1 No such user" in str(refused)
    assert isinstance(busy, DeliveryError)
    assert not busy.permanent
    assert "451" in str(busy)
    assert all(isinstance(reference, str) for reference in sent)
    assert sorted(e.rcpt_tos[0] for e in mailbox.messages) == ["a@example.org", "b@example.org"]


@pytest.mark.parametrize(
    "address", ["not-an-address", "a@b.org\r\nBcc: victim@example.org", "a@b.org, c@d.org", ""]
)
async def test_an_address_that_is_not_one_is_refused_before_connecting(address: str) -> None:
    adapter = adapter_for(9)  # nothing listens there: it must not even try
    with pytest.raises(DeliveryError, match="not an e-mail address") as caught:
        await adapter.send(mail(1, address))
    assert caught.value.permanent


@pytest.mark.logs_errors
async def test_a_relay_that_is_down_is_temporary_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    adapter = adapter_for(port)
    for delivery_id in (1, 2):
        with pytest.raises(DeliveryError, match="not reachable") as caught:
            await adapter.send(mail(delivery_id))
        assert not caught.value.permanent
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "SMTP relay 127.0.0.1" in errors[0].getMessage()


@pytest.mark.logs_errors
async def test_starttls_and_login(caplog: pytest.LogCaptureFixture) -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)

    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        given = [v.decode() if isinstance(v, bytes) else v for v in (data.login, data.password)]
        return AuthResult(success=given == ["duty", "s3cret"], handled=False)

    mailbox = Mailbox()
    server, port = await smtp_server(
        mailbox,
        tls_context=server_context,
        require_starttls=True,
        authenticator=check,
        # smtplib's AUTH LOGIN with an initial response stalls aiosmtpd 1.4: PLAIN only.
        auth_exclude_mechanism=["LOGIN"],
    )
    try:
        settings = SmtpSettings("127.0.0.1", port, "dutydesk@example.org", user="duty",
                                password="s3cret", starttls=True, timeout=5)  # fmt: skip
        assert await SmtpAdapter(settings, tls=client_context).send(mail(1))
        assert len(mailbox.messages) == 1
        wrong = SmtpAdapter(_replace(settings, password="wrong"), tls=client_context)
        with pytest.raises(DeliveryError, match="login refused") as caught:
            await wrong.send(mail(2))
        assert not caught.value.permanent
        plain = SmtpAdapter(_replace(settings, starttls=False), tls=client_context)
        with pytest.raises(DeliveryError, match="AUTH extension not supported"):
            await plain.send(mail(3))  # the relay offers AUTH only after STARTTLS
        assert len(mailbox.messages) == 1
    finally:
        server.close()
        await server.wait_closed()


async def test_receipts_yield_nothing_and_end_at_close() -> None:
    adapter = adapter_for(9)
    waiting = asyncio.ensure_future(anext(adapter.receipts(), None))
    await asyncio.sleep(0)
    assert not waiting.done()
    await adapter.close()
    assert await asyncio.wait_for(waiting, 1) is None


@pytest.mark.logs_errors
async def test_a_relay_that_trickles_its_greeting_for_ever_is_given_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each line comes well within the socket timeout, but the greeting never ends: the
    message is given up (temporarily) instead of holding a sending slot for good."""
    stop = asyncio.Event()
    handlers_done: list[asyncio.Event] = []

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        finished = asyncio.Event()
        handlers_done.append(finished)
        try:
            with contextlib.suppress(ConnectionError):
                while not stop.is_set():
                    writer.write(b"220-still greeting you\r\n")
                    await writer.drain()
                    await asyncio.sleep(0.02)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            finished.set()  # the socket is closed before the test's loop ends

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    adapter = adapter_for(port, timeout=1, message_timeout=1)
    try:
        async with asyncio.timeout(10):
            with pytest.raises(DeliveryError, match="no complete answer within 1 s") as caught:
                await adapter.send(mail(1))
        assert not caught.value.permanent
    finally:
        stop.set()
        for finished in handlers_done:
            await finished.wait()
        server.close()
        await server.wait_closed()
