"""Sessions end at once: a password change, a new role, disablement or ``dutydesk user
logout`` — made by the command-line tool in another process — close that user's open
consoles and device feeds with ``4001`` and the reason, and revoke their tokens;
sessions expire; a locked console is unlocked with the password, and five wrong tries
end it. Over real WebSockets, against the same database file the CLI changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from backend.cli.app import main
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.server.sessions import UNLOCK_TRIES
from realtime import PROTOCOL_VERSION
from realtime.client import CommandError, ConnectionState, DutyDeskClient, basic_auth_header
from realtime.protocol import (
    CLOSE_SESSION_ENDED,
    CLOSE_SESSION_EXPIRED,
    ErrorCode,
    Role,
    SessionEndReason,
    SessionUnlocked,
    UnlockSession,
)
from tests.backend.conftest import USERS, Console, Recorder, console_url, device_url

REPO = Path(__file__).resolve().parents[3]
CHECK_INTERVAL = 0.1


async def _serve(db_url: str, data_dir: Path, **options: object) -> DutyDeskServer:
    config = ServerConfig(
        db_url=db_url,
        data_dir=data_dir,
        port=0,
        cipher=FieldCipher.from_data_dir(data_dir),
        session_check_interval=CHECK_INTERVAL,
        console_rate_per_second=1000.0,
        console_rate_burst=1000,
    )
    for name, value in options.items():
        setattr(config, name, value)
    server = DutyDeskServer(config)
    await server.start()
    for username, password, role in USERS:
        await server.users.add_user(username, password, role)
    return server


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[DutyDeskServer]:
    """A server that checks its sessions every 0.1 s, on the database the CLI opens with
    ``--data-dir tmp_path`` (SQLite) or ``--db`` (PostgreSQL)."""
    srv = await _serve(db_url, tmp_path)
    yield srv
    await srv.close()


def _cli_storage(server: DutyDeskServer) -> list[str]:
    return ["--data-dir", str(server.config.data_dir), "--db", server.config.db_url]


async def _cli(server: DutyDeskServer, *words: str) -> int:
    """Run ``dutydesk WORDS`` in-process (on a thread: it runs its own event loop)."""
    return await asyncio.to_thread(main, [*words, *_cli_storage(server)])


async def _console(
    server: DutyDeskServer,
    username: str = "officer1",
    password: str = "pw-officer1",
    *,
    token: str = "",
    totp: str = "",
) -> Console:
    recorder = Recorder()
    client = DutyDeskClient(
        console_url(server),
        recorder,
        username=username,
        password=password,
        backoff_initial=0.05,
        backoff_max=0.2,
        client_name="test-console/1.0",
        token=token,
        totp=totp,
    )
    task = asyncio.create_task(client.run())
    await client.wait_live(10)
    return Console(client, recorder, task)


async def _ended(console: Console, timeout: float = 10.0) -> str:
    """Wait until the server ends the console's session; return the reason."""
    await console.recorder.wait_for(
        lambda: console.client.state is ConnectionState.SESSION_ENDED, timeout
    )
    await asyncio.wait_for(console.task, timeout)
    return console.recorder.states[-1][1]


async def _read_until_closed(ws: ClientConnection, timeout: float) -> None:
    """Read (and drop) messages until the server closes the connection."""
    async with asyncio.timeout(timeout):
        while True:
            await ws.recv()


async def _bearer_status(server: DutyDeskServer, token: str) -> int:
    try:
        async with connect(
            console_url(server), additional_headers={"Authorization": f"Bearer {token}"}
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        (("user", "logout", "officer1"), SessionEndReason.LOGGED_OUT),
        (("user", "disable", "officer1"), SessionEndReason.DISABLED),
        (("user", "set", "officer1", "--role", "supervisor"), SessionEndReason.ACCOUNT_CHANGED),
        (("user", "set", "officer1", "--jurisdiction", "3301"), SessionEndReason.ACCOUNT_CHANGED),
    ],
)
async def test_a_change_by_the_cli_ends_the_users_consoles_at_once(
    server: DutyDeskServer, words: tuple[str, ...], reason: SessionEndReason
) -> None:
    first = await _console(server)
    second = await _console(server)
    other = await _console(server, "officer2", "pw-officer2")
    assert first.client.welcome is not None
    token = first.client.welcome.session_token
    assert await _bearer_status(server, token) == 101

    started = asyncio.get_running_loop().time()
    assert await _cli(server, *words) == 0
    assert await _ended(first) == reason.value
    assert await _ended(second) == reason.value
    # Noticed by the watcher within its interval (plus the close handshake), not later.
    assert asyncio.get_running_loop().time() - started < 3.0
    # The user's session tokens are revoked: no reconnect without logging in again.
    assert await _bearer_status(server, token) == 401
    # Nobody else was touched.
    assert other.client.state is ConnectionState.LIVE
    await other.close()


async def test_a_password_change_ends_sessions_with_the_documented_close_code(
    server: DutyDeskServer, tmp_path: Path
) -> None:
    async with connect(
        console_url(server),
        additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
        max_size=None,
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
        while json.loads(await ws.recv())["type"] != "synced":
            pass
        password_file = tmp_path / "new-pw"
        password_file.write_text("a brand new password\n", encoding="utf-8")
        assert (
            await _cli(server, "user", "passwd", "officer1", "--password-file", str(password_file))
            == 0
        )
        with pytest.raises(ConnectionClosed) as closed:
            await _read_until_closed(ws, 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_SESSION_ENDED
    assert closed.value.rcvd.reason == "password_changed"


async def test_a_change_through_the_server_ends_sessions_without_waiting(
    db_url: str, tmp_path: Path
) -> None:
    # A watcher that would take a minute: only the direct path can be this quick.
    server = await _serve(db_url, tmp_path, session_check_interval=60.0)
    try:
        console = await _console(server)
        await server.users.set_password("officer1", "another password")
        async with asyncio.timeout(2):
            assert await _ended(console) == SessionEndReason.PASSWORD_CHANGED.value
    finally:
        await server.close()


async def test_device_feeds_end_too(server: DutyDeskServer) -> None:
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        assert await _cli(server, "user", "logout", "device1") == 0
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_SESSION_ENDED
    assert closed.value.rcvd.reason == "logged_out"


async def test_a_login_racing_a_change_is_ended_by_the_epoch(server: DutyDeskServer) -> None:
    console = await _console(server)
    # The account changes as if between the password check and the session's row:
    # the row is still open, but the user's epoch moved on.
    async with server.sessions.begin() as session:
        from sqlalchemy import update

        from backend.storage.models import User

        await session.execute(
            update(User)
            .where(User.username == "officer1")
            .values(auth_epoch=User.auth_epoch + 1, epoch_reason="")
        )
    assert await _ended(console) == SessionEndReason.ACCOUNT_CHANGED.value


async def test_user_sessions_lists_who_is_logged_in_where(
    server: DutyDeskServer, capsys: pytest.CaptureFixture[str]
) -> None:
    console = await _console(server)
    assert await _cli(server, "user", "sessions") == 0
    listed = capsys.readouterr().out
    assert "officer1" in listed
    assert "console" in listed
    assert "127.0.0.1:" in listed
    assert "test-console/1.0" in listed
    assert await _cli(server, "user", "sessions", "officer2") == 0
    assert "no open sessions" in capsys.readouterr().out
    await console.close()
    # A closed console is no longer listed (its row is ended as "closed").
    async with asyncio.timeout(5):
        while True:
            assert await _cli(server, "user", "sessions", "officer1") == 0
            if "no open sessions" in capsys.readouterr().out:
                break
            await asyncio.sleep(0.05)


async def test_cli_refusals_are_one_line(
    server: DutyDeskServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _cli(server, "user", "logout", "nobody") == 1
    assert "no user 'nobody'" in capsys.readouterr().err
    assert await _cli(server, "user", "totp", "officer1", "--disable") == 1
    assert "has no second factor" in capsys.readouterr().err
    assert await _cli(server, "user", "set", "officer1") != 0
    assert "nothing to change" in capsys.readouterr().err
    assert await _cli(server, "user", "set", "officer1", "--role", "agency") == 1
    assert "must belong to an agency" in capsys.readouterr().err
    # Re-enabling, and a change that alters nothing, end no session.
    console = await _console(server)
    assert await _cli(server, "user", "enable", "officer1") == 0
    assert await _cli(server, "user", "set", "officer1", "--display-name", "值班员一") == 0
    assert "0 open sessions ended" in capsys.readouterr().out
    await asyncio.sleep(CHECK_INTERVAL * 5)
    assert console.client.state is ConnectionState.LIVE
    await console.close()


@pytest.mark.timeout(120)
async def test_the_real_cli_in_another_process_ends_a_console(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("one database kind is enough for the subprocess")
    server = await _serve(db_url, tmp_path)
    try:
        console = await _console(server)
        env = {**os.environ, "PYTHONPATH": str(REPO), "DUTYDESK_NEW_PASSWORD": "changed-elsewhere"}
        ran = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "backend",
                "user",
                "passwd",
                "officer1",
                "--data-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=90,
        )
        assert ran.returncode == 0, ran.stderr
        assert "1 open session ended" in ran.stdout
        assert await _ended(console) == SessionEndReason.PASSWORD_CHANGED.value
    finally:
        await server.close()


# ---------------------------------------------------------------------------- expiry


async def test_a_session_past_its_expiry_is_closed_and_its_token_refused(
    db_url: str, tmp_path: Path
) -> None:
    server = await _serve(db_url, tmp_path, session_lifetime=dt.timedelta(seconds=1.5))
    try:
        async with connect(
            console_url(server),
            additional_headers={"Authorization": basic_auth_header("officer1", "pw-officer1")},
            max_size=None,
        ) as ws:
            await ws.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
            welcome = json.loads(await ws.recv())
            token = welcome["session_token"]
            with pytest.raises(ConnectionClosed) as closed:
                await _read_until_closed(ws, 10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CLOSE_SESSION_EXPIRED
        assert closed.value.rcvd.reason == "expired"
        with pytest.raises(InvalidStatus) as refused:
            await connect(
                console_url(server), additional_headers={"Authorization": f"Bearer {token}"}
            )
        assert refused.value.response.status_code == 401
        assert b"session expired" in refused.value.response.body
    finally:
        await server.close()


async def test_a_reconnect_with_the_token_keeps_its_expiry(server: DutyDeskServer) -> None:
    first = await _console(server)
    assert first.client.welcome is not None
    token = first.client.welcome.session_token
    await first.close()
    again = await _console(server, username="", password="", token=token)
    assert again.client.welcome is not None
    # The same session goes on: same token, not a fresh 12 hours.
    assert again.client.welcome.session_token == token
    assert len(server.session_tracker) == 1
    live = next(iter(server.session_tracker._live.values()))
    assert live.expires_at is not None
    assert live.expires_at - dt.datetime.now(dt.UTC) < dt.timedelta(hours=12)
    await again.close()


# ---------------------------------------------------------------------------- unlock


async def test_unlock_checks_the_password_and_five_wrong_tries_end_the_session(
    server: DutyDeskServer,
) -> None:
    console = await _console(server)
    client = console.client
    assert client.welcome is not None
    token = client.welcome.session_token
    result = await client.request(UnlockSession(req="", password="pw-officer1"))
    assert isinstance(result, SessionUnlocked)
    for attempt in range(1, UNLOCK_TRIES):
        with pytest.raises(CommandError) as refused:
            await client.request(UnlockSession(req="", password="wrong"))
        assert refused.value.code is ErrorCode.UNAUTHORIZED
        assert f"{UNLOCK_TRIES - attempt} tries left" in refused.value.message
    # A right password in between starts the count again.
    assert isinstance(
        await client.request(UnlockSession(req="", password="pw-officer1")), SessionUnlocked
    )
    for _ in range(UNLOCK_TRIES - 1):
        with pytest.raises(CommandError):
            await client.request(UnlockSession(req="", password="wrong"))
    with pytest.raises(CommandError) as last:
        await client.request(UnlockSession(req="", password="wrong"))
    # The answer or the close, whichever arrives first, says the session is over.
    assert "session is ended" in last.value.message or "unlock_failed" in last.value.message
    assert await _ended(console) == SessionEndReason.UNLOCK_FAILED.value
    assert await _bearer_status(server, token) == 401


async def test_unlock_checks_run_one_at_a_time(server: DutyDeskServer) -> None:
    console = await _console(server)
    answers = await asyncio.gather(
        console.client.request(UnlockSession(req="", password="pw-officer1")),
        console.client.request(UnlockSession(req="", password="pw-officer1")),
        return_exceptions=True,
    )
    refused = [a for a in answers if isinstance(a, CommandError)]
    assert any(isinstance(a, SessionUnlocked) for a in answers)
    assert all(a.code is ErrorCode.RATE_LIMITED for a in refused)
    await console.close()


@pytest.mark.parametrize("role", [Role.OFFICER])
async def test_the_session_table_rows_record_how_sessions_ended(
    server: DutyDeskServer, role: Role
) -> None:
    from sqlalchemy import select

    from backend.storage.models import SessionRecord

    console = await _console(server)
    await console.close()
    assert await _cli(server, "user", "logout", "officer2") == 0
    async with server.sessions() as session:
        rows = list(await session.scalars(select(SessionRecord)))
    assert [(r.kind, r.end_reason) for r in rows] == [("console", "closed")]
    assert rows[0].ended_at is not None
    assert rows[0].token_id is not None
    assert role is Role.OFFICER


# ---------------------------------------------------------------------------- edges


async def test_open_sessions_are_touched_and_stale_ones_ended(db_url: str, tmp_path: Path) -> None:
    from backend.registry.sessions import SessionStore

    server = await _serve(db_url, tmp_path, session_touch_interval=CHECK_INTERVAL)
    try:
        console = await _console(server)
        live = next(iter(server.session_tracker._live.values()))
        async with server.sessions() as session:
            from backend.storage.models import SessionRecord

            row = await session.get(SessionRecord, live.id)
            assert row is not None
            first_seen = row.last_seen_at

        async def seen_later() -> bool:
            async with server.sessions() as session:
                row = await session.get(SessionRecord, live.id)
                return row is not None and row.last_seen_at > first_seen

        for _ in range(100):
            if await seen_later():
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("last_seen_at was never updated")
        # A server that stopped uncleanly leaves rows open: they are ended as stale.
        later = SessionStore(
            server.sessions, clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        )
        listed = await later.list_open("officer1")
        assert [info.stale for info in listed] == [True]
        assert await later.end_stale(dt.timedelta(minutes=5)) == 1
        assert await later.list_open() == []
        await SessionStore(server.sessions).touch([])
        assert await SessionStore(server.sessions).ended_among([]) == {}
        await console.close()
    finally:
        await server.close()


@pytest.mark.logs_errors
async def test_a_session_that_cannot_be_recorded_is_refused_and_retried(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    real_start = server.session_tracker.store.start
    failures = [1]

    async def failing_start(**kwargs: object) -> int:
        if failures:
            failures.pop()
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return await real_start(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(server.session_tracker.store, "start", failing_start)
    # The first try is closed with 1011; the client retries and gets in.
    console = await _console(server)
    assert any("database is unavailable" in detail for _, detail in console.recorder.states)
    await console.close()


async def test_users_without_a_data_key_cannot_enrol_and_disabled_users_cannot_unlock(
    server: DutyDeskServer,
) -> None:
    from backend.registry.users import AuthError, UserService
    from backend.registry.users import Error as UserError

    keyless = UserService(server.sessions)
    try:
        with pytest.raises(UserError, match="no data encryption key"):
            await keyless.enrol_totp("officer1")
    finally:
        keyless.close()
    principal = (await server.users.list_users())[0]
    await server.users.set_active(principal.username, False)
    with pytest.raises(AuthError, match="disabled"):
        await server.users.verify_unlock(principal.user_id, "whatever")
    # Enrolled under another key: the code cannot be checked, and the login says so.
    await server.users.set_active(principal.username, True)
    other = UserService(server.sessions, cipher=FieldCipher.generate())
    try:
        await other.enrol_totp(principal.username)
    finally:
        other.close()
    with pytest.raises(AuthError, match="cannot be checked"):
        await server.users.authenticate(
            basic_auth_header(principal.username, f"pw-{principal.username}"), "123456"
        )


def test_serve_options_for_sessions_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    from backend.cli.app import build_parser

    parser = build_parser()
    args = parser.parse_args(
        ["serve", "--require-totp", "supervisor, admin,", "--session-hours", "0.5"]
    )
    assert args.require_totp == frozenset({Role.SUPERVISOR, Role.ADMIN})
    assert args.session_hours == 0.5
    for bad in (
        ["--require-totp", "chief"],
        ["--session-hours", "0"],
        ["--session-check", "soon"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", *bad])
    errors = capsys.readouterr().err
    assert "unknown role 'chief'" in errors
    assert "must be positive" in errors
    assert "not a number" in errors


async def test_admins_see_who_is_logged_in_where_and_others_may_not(
    server: DutyDeskServer,
) -> None:
    from realtime.protocol import ListSessions, SessionsResult

    await server.users.add_user("root", "pw-root-123", Role.ADMIN)
    officer = await _console(server)
    admin = await _console(server, "root", "pw-root-123")
    listed = await admin.client.request(ListSessions(req=""))
    assert isinstance(listed, SessionsResult)
    assert sorted(s.username for s in listed.sessions) == ["officer1", "root"]
    mine = next(s for s in listed.sessions if s.username == "officer1")
    assert mine.kind == "console"
    assert mine.client == "test-console/1.0"
    assert mine.remote.startswith("127.0.0.1:")
    assert mine.expires_at is not None
    assert not mine.stale
    with pytest.raises(CommandError) as refused:
        await officer.client.request(ListSessions(req=""))
    assert refused.value.code is ErrorCode.FORBIDDEN
    await officer.close()
    await admin.close()
