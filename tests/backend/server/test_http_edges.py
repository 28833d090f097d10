"""The plain HTTP side of the one port tried from outside: methods, HEAD, and handshakes
that authenticate but never become WebSocket connections."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging

import pytest
from websockets.asyncio.server import ServerConnection

from backend.server.app import DutyDeskServer


async def _exchange(server: DutyDeskServer, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send one raw request; the status line, headers and body of the answer (the server
    closes the connection after answering plain HTTP)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (ln.partition(": ") for ln in lines)}
    return status, headers, body


def _request(method: str, path: str, *extra: str) -> bytes:
    return "\r\n".join([f"{method} {path} HTTP/1.1", "Host: dutydesk", *extra, "", ""]).encode()


@pytest.mark.parametrize("path", ["/health", "/cap/feed.atom"])
@pytest.mark.parametrize("method", ["POST", "DELETE", "BREW"])
async def test_other_methods_than_get_are_refused(
    server: DutyDeskServer, method: str, path: str
) -> None:
    status, headers, _ = await _exchange(server, _request(method, path))
    assert status.startswith("HTTP/1.1 405"), f"{method} {path} answered as a GET: {status}"
    assert headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/health", "/cap/feed.atom"])
async def test_head_gets_the_headers_of_a_get_without_its_body(
    server: DutyDeskServer, path: str
) -> None:
    status, got, body = await _exchange(server, _request("GET", path))
    assert status == "HTTP/1.1 200 OK"
    status, head, head_body = await _exchange(server, _request("HEAD", path))
    assert status == "HTTP/1.1 200 OK"
    assert head_body == b"", "a HEAD answer has no body"
    assert head["content-type"] == got["content-type"]
    assert int(head["content-length"]) == len(body) > 0


async def test_a_login_on_another_method_is_refused_before_the_password_is_checked(
    server: DutyDeskServer,
) -> None:
    wrong = base64.b64encode(b"device1:not-the-password").decode()
    status, headers, _ = await _exchange(
        server, _request("POST", "/device", f"Authorization: Basic {wrong}")
    )
    assert status.startswith("HTTP/1.1 405")
    assert headers["allow"] == "GET"
    assert len(server.login_throttle) == 0, "no login was tried, so no failure is counted"


def _connections_alive() -> int:
    gc.collect()
    return sum(isinstance(thing, ServerConnection) for thing in gc.get_objects())


async def test_handshakes_refused_after_the_login_leave_nothing_behind(
    server: DutyDeskServer,
) -> None:
    # Right credentials but no WebSocket upgrade: the login passes, the handshake fails.
    good = base64.b64encode(b"device1:pw-device1").decode()
    for _ in range(10):
        status, _, _ = await _exchange(
            server, _request("GET", "/device", f"Authorization: Basic {good}")
        )
        assert status.startswith("HTTP/1.1 426"), status
    # The server closes each connection after answering; then nothing may hold it.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    alive = _connections_alive()
    while alive and loop.time() < deadline:
        await asyncio.sleep(0.05)
        alive = _connections_alive()
    assert alive == 0, f"{alive} refused handshakes' connections are still held"


async def test_a_nul_in_a_cap_alert_name_is_not_found(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    status, _, _ = await _exchange(server, _request("GET", "/cap/alerts/a\x00b.xml"))
    assert status.startswith("HTTP/1.1 404"), status
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_nul_in_a_user_name_is_a_wrong_login_not_a_database_outage(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    hostile = base64.b64encode(b"device\x001:pw-device1").decode()
    status, _, body = await _exchange(
        server, _request("GET", "/device", f"Authorization: Basic {hostile}")
    )
    assert status.startswith("HTTP/1.1 401"), (status, body)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
