"""The TOTP second factor: required per role (or once enrolled), asked for at the
handshake (``X-DutyDesk-TOTP``), refused with a clear reason when missing, wrong or
replayed — each refusal counted by the login throttle — and asked again on the lock
screen. Enrolment by ``dutydesk user totp`` stores the secret encrypted."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backend.registry import second_factor
from backend.server.app import DutyDeskServer
from backend.storage.models import User
from realtime.client import CommandError, ConnectionState, DutyDeskClient, basic_auth_header
from realtime.protocol import (
    SECOND_FACTOR_CHALLENGE_HEADER,
    SECOND_FACTOR_HEADER,
    Role,
    SessionUnlocked,
    UnlockSession,
)
from tests.backend.conftest import Recorder, console_url
from tests.backend.server.test_sessions import _cli, _console, _ended, _serve


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[DutyDeskServer]:
    """Supervisors (and admins) must give a second factor; officers need not."""
    srv = await _serve(db_url, tmp_path, require_totp=frozenset({Role.SUPERVISOR, Role.ADMIN}))
    yield srv
    await srv.close()


def _now_code(secret: str, offset_steps: int = 0) -> str:
    step = second_factor.step_of(dt.datetime.now(dt.UTC)) + offset_steps
    return second_factor.code_at(secret, step)


async def _login(server: DutyDeskServer, user: str, password: str, code: str | None) -> int:
    headers = {"Authorization": basic_auth_header(user, password)}
    if code is not None:
        headers[SECOND_FACTOR_HEADER] = code
    try:
        async with connect(console_url(server), additional_headers=headers):
            return 101
    except InvalidStatus as refused:
        body = refused.response.body.decode()
        challenge = refused.response.headers.get(SECOND_FACTOR_CHALLENGE_HEADER, "")
        raise _RefusedError(refused.response.status_code, body, challenge) from refused


class _RefusedError(Exception):
    def __init__(self, status: int, body: str, challenge: str) -> None:
        super().__init__(status, body)
        self.status, self.body, self.challenge = status, body, challenge


async def _enrol(server: DutyDeskServer, username: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert await _cli(server, "user", "totp", username) == 0
    printed = capsys.readouterr().out
    uri = printed.splitlines()[0]
    assert uri.startswith("otpauth://totp/DutyDesk:")
    assert f"{username}" in uri
    match = re.search(r"secret: ([A-Z2-7]+)", printed)
    assert match is not None
    secret = match.group(1)
    assert f"secret={secret}" in uri
    return secret


async def test_a_role_that_requires_it_cannot_log_in_without_one_enrolled(
    server: DutyDeskServer,
) -> None:
    with pytest.raises(_RefusedError) as refused:
        await _login(server, "supervisor1", "pw-supervisor1", None)
    assert refused.value.status == 401
    assert "dutydesk user totp supervisor1" in refused.value.body
    # Officers log in with the password alone: the demo still works.
    assert await _login(server, "officer1", "pw-officer1", None) == 101


async def test_enrolled_login_needs_the_code_once(
    server: DutyDeskServer, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = await _enrol(server, "supervisor1", capsys)
    # Stored encrypted, not as the secret itself.
    async with server.sessions() as session:
        stored = await session.scalar(
            select(User.totp_secret_enc).where(User.username == "supervisor1")
        )
    assert stored
    assert secret not in stored
    assert server.cipher.decrypt(stored) == secret

    for code, fragment in ((None, "code required"), ("000000x", "6 digits")):
        with pytest.raises(_RefusedError) as refused:
            await _login(server, "supervisor1", "pw-supervisor1", code)
        assert refused.value.status == 401
        assert fragment in refused.value.body
        assert refused.value.challenge == "totp"
    wrong = f"{(int(_now_code(secret)) + 1) % 1_000_000:06d}"
    with pytest.raises(_RefusedError) as refused:
        await _login(server, "supervisor1", "pw-supervisor1", wrong)
    assert "wrong or expired" in refused.value.body
    # A wrong password is refused as such, without a challenge (no hint the code matters).
    with pytest.raises(_RefusedError) as refused:
        await _login(server, "supervisor1", "not the password", _now_code(secret))
    assert refused.value.challenge == ""

    code = _now_code(secret)
    assert await _login(server, "supervisor1", "pw-supervisor1", code) == 101
    # The same code again (seen over a shoulder): refused.
    with pytest.raises(_RefusedError) as refused:
        await _login(server, "supervisor1", "pw-supervisor1", code)
    assert "used already" in refused.value.body
    # Codes of a step already passed are refused too; the next step's code works.
    assert await _login(server, "supervisor1", "pw-supervisor1", _now_code(secret, 1)) == 101


async def test_code_failures_are_counted_by_the_login_throttle(
    server: DutyDeskServer, capsys: pytest.CaptureFixture[str]
) -> None:
    await _enrol(server, "supervisor1", capsys)
    for _ in range(server.login_throttle.limits.failures_per_user):
        with pytest.raises(_RefusedError):
            await _login(server, "supervisor1", "pw-supervisor1", "000000")
    assert server.login_throttle.user_blocked("supervisor1")
    with pytest.raises(_RefusedError) as refused:
        await _login(server, "supervisor1", "pw-supervisor1", "000000")
    assert refused.value.status == 429


async def test_the_client_reports_the_challenge_and_logs_in_with_the_code(
    server: DutyDeskServer, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = await _enrol(server, "supervisor1", capsys)
    recorder = Recorder()
    client = DutyDeskClient(
        console_url(server), recorder, username="supervisor1", password="pw-supervisor1"
    )
    await asyncio.wait_for(client.run(), 10)
    assert client.state is ConnectionState.AUTH_FAILED
    assert client.second_factor_required
    assert "second factor code required" in recorder.states[-1][1]

    console = await _console(server, "supervisor1", "pw-supervisor1", totp=_now_code(secret))
    # The lock screen asks for a fresh code too.
    with pytest.raises(CommandError) as refused:
        await console.client.request(UnlockSession(req="", password="pw-supervisor1"))
    assert "code required" in refused.value.message
    unlocked = await console.client.request(
        UnlockSession(req="", password="pw-supervisor1", totp=_now_code(secret, 1))
    )
    assert isinstance(unlocked, SessionUnlocked)
    await console.close()


async def test_enrolling_or_removing_the_factor_ends_sessions(
    server: DutyDeskServer, capsys: pytest.CaptureFixture[str]
) -> None:
    console = await _console(server)
    await _enrol(server, "officer1", capsys)
    assert await _ended(console) == "second_factor_changed"
    # Once enrolled, even a role that does not require it must give the code.
    with pytest.raises(_RefusedError):
        await _login(server, "officer1", "pw-officer1", None)
    assert await _cli(server, "user", "totp", "officer1", "--disable") == 0
    assert "removed" in capsys.readouterr().out
    assert await _login(server, "officer1", "pw-officer1", None) == 101


def test_codes_near_now_are_accepted_and_far_ones_refused() -> None:
    secret = second_factor.new_secret()
    now = dt.datetime(2026, 12, 4, 12, 0, 10, tzinfo=dt.UTC)
    step = second_factor.step_of(now)
    for offset in (-1, 0, 1):
        code = second_factor.code_at(secret, step + offset)
        assert second_factor.matching_step(secret, code, now, None) == step + offset
        assert second_factor.matching_step(secret, f" {code[:3]} {code[3:]} ", now, None)
    for offset in (-3, 3):
        with pytest.raises(second_factor.Error, match="wrong or expired"):
            second_factor.matching_step(
                secret, second_factor.code_at(secret, step + offset), now, None
            )
    with pytest.raises(second_factor.Error, match="used already"):
        second_factor.matching_step(secret, second_factor.code_at(secret, step), now, step)
