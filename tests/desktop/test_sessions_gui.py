"""The console's side of sessions, against the real backend: the idle lock hides the
data but keeps the connection (alarms keep arriving, sounding and being counted on the
lock screen) and opens only for the right password, checked by the server; a session
the server ends takes the console back to the login, saying why in the console's
language; the login dialog asks for the second-factor code when the server wants one."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget
from pytestqt.qtbot import QtBot

from backend.registry import second_factor
from backend.server.testing import ServerThread
from desktop import texts
from desktop.app import CA_FILE_KEY, ConsoleSession
from desktop.lock import IDLE_LOCK_KEY, ConsoleLock, IdleWatcher
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import CERTIFICATE_NOT_TRUSTED, ConnectionState
from realtime.protocol import Role, SessionEndReason
from realtime.states import AlarmLevel
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until
from tests.desktop.test_console_e2e import create_alarm, other_console

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]
IDLE = 0.3


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


def opened_window(session: ConsoleSession) -> MainWindow | None:
    """The session's main window (a function, so that type narrowing does not stick)."""
    return session.main_window


def is_locked(lock: ConsoleLock) -> bool:
    """Whether the lock screen is up (read afresh each time)."""
    return lock.locked


async def _logged_in(
    server: ServerThread, qtbot: QtBot, settings: QSettings, *, idle: float = IDLE
) -> tuple[ConsoleSession, asyncio.Future[int]]:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    session = ConsoleSession(
        ConsoleService(), AlarmSounder(use_audio=False), settings, done, idle_lock_seconds=idle
    )
    dialog = session.show_login(server.console_url, "officer1")
    qtbot.addWidget(dialog)
    dialog.password_edit.setText("pw-officer1")
    await call(dialog.login_button.click)
    await wait_until(lambda: session.main_window is not None, what="main window")
    assert session.main_window is not None
    qtbot.addWidget(session.main_window)
    await wait_until(lambda: session.service.state is ConnectionState.LIVE, what="live")
    return session, done


def test_the_console_locks_when_idle_and_keeps_receiving_alarms(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        session, _done = await _logged_in(server, qtbot, settings)
        try:
            lock = session.lock
            window = session.main_window
            assert lock is not None
            assert window is not None
            await wait_until(lambda: lock.locked, what="idle lock")
            overlay = lock.overlay
            assert overlay.geometry() == window.rect()
            central = window.centralWidget()
            assert central is not None
            assert not central.isEnabled()
            sounder = session._sounder
            played = sounder.play_count
            async with other_console(server) as supervisor:
                await create_alarm(supervisor, "锁屏时到达的火警", AlarmLevel.RED)
                await wait_until(lambda: lock.alarms_while_locked == 1, what="counted alarm")
            # The data is kept and the sound goes on; the lock screen says an alarm came.
            assert sounder.play_count == played + 1
            assert any(a.title == "锁屏时到达的火警" for a in session.service.store)
            assert overlay.alarm_label.isVisibleTo(overlay)
            assert "1" in overlay.alarm_label.text()
            assert session.service.state is ConnectionState.LIVE

            overlay.password_edit.setText("wrong password")
            await call(overlay.unlock_button.click)
            await wait_until(overlay.unlock_button.isEnabled, what="refusal")
            assert "4" in overlay.message_label.text()
            assert lock.locked

            overlay.password_edit.setText("pw-officer1")
            await call(overlay.unlock_button.click)
            await wait_until(lambda: not lock.locked, what="unlocked")
            assert central.isEnabled()
            assert session.service.state is ConnectionState.LIVE
        finally:
            await session.close()

    run(scenario(), timeout=60)


def test_a_session_ended_by_the_server_goes_back_to_the_login(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        session, done = await _logged_in(server, qtbot, settings, idle=0)
        try:
            assert session.lock is None  # 0: never lock
            await asyncio.wrap_future(server.submit(server.server.users.logout("officer1")))
            await wait_until(lambda: session.login_dialog is not None, what="login again")
            dialog = session.login_dialog
            assert dialog is not None
            qtbot.addWidget(dialog)
            assert session.main_window is None
            assert not done.done()
            expected = texts.session_end_label(SessionEndReason.LOGGED_OUT)
            assert expected in dialog.message_label.text()
            # Nothing of what the last user saw is kept for the next login.
            # (The reset runs after the dialog shows: wait for it, not for an empty queue,
            # which a fresh server's console had all along.)
            await wait_until(lambda: session.service.store.last_seq is None, what="store cleared")
            assert len(session.service.store) == 0
            dialog.password_edit.setText("pw-officer1")
            await call(dialog.login_button.click)
            await wait_until(lambda: session.main_window is not None, what="window again")
            window = opened_window(session)
            assert window is not None
            qtbot.addWidget(window)
        finally:
            await session.close()

    run(scenario(), timeout=60)


def test_five_wrong_unlocks_end_the_session(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        session, _done = await _logged_in(server, qtbot, settings)
        try:
            lock = session.lock
            assert lock is not None
            await wait_until(lambda: lock.locked, what="idle lock")
            for _ in range(5):
                lock.overlay.password_edit.setText("wrong password")
                await call(lock.overlay.unlock_button.click)
                await wait_until(
                    lambda: (
                        lock.overlay.unlock_button.isEnabled() or session.login_dialog is not None
                    ),
                    what="answer",
                )
            await wait_until(lambda: session.login_dialog is not None, what="login again")
            assert session.login_dialog is not None
            qtbot.addWidget(session.login_dialog)
            assert texts.session_end_label(SessionEndReason.UNLOCK_FAILED) in (
                session.login_dialog.message_label.text()
            )
        finally:
            await session.close()

    run(scenario(), timeout=60)


def test_the_login_dialog_asks_for_the_code_when_the_server_wants_one(
    qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    with ServerThread(users=[("boss", "pw-boss-123", Role.SUPERVISOR)]) as server:
        secret = server.call(server.server.users.enrol_totp("boss"))

        async def scenario() -> None:
            done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            session = ConsoleSession(
                ConsoleService(), AlarmSounder(use_audio=False), settings, done
            )
            dialog = session.show_login(server.console_url, "boss")
            qtbot.addWidget(dialog)
            try:
                assert dialog.code_edit.isHidden()
                dialog.password_edit.setText("pw-boss-123")
                await call(dialog.login_button.click)
                await wait_until(lambda: not dialog.code_edit.isHidden(), what="code field")
                assert "second factor code required" in dialog.message_label.text()
                assert dialog.login_button.isEnabled()
                step = second_factor.step_of(dt.datetime.now(dt.UTC))
                dialog.code_edit.setText(second_factor.code_at(secret, step))
                await call(dialog.login_button.click)
                await wait_until(lambda: session.main_window is not None, what="window")
                assert session.main_window is not None
                qtbot.addWidget(session.main_window)
                # The lock screen of a user with a second factor asks for the code too.
                assert session.lock is not None
                assert not session.lock.overlay.code_edit.isHidden()
            finally:
                await session.close()

        run(scenario(), timeout=60)


def test_idle_watcher_restarts_on_input_and_swallows_shortcuts_while_locked(
    qtbot: QtBot, settings: QSettings
) -> None:
    now = [0.0]
    watcher = IdleWatcher(10.0, clock=lambda: now[0])
    fired: list[bool] = []
    watcher.idle.connect(lambda: fired.append(True))
    window = MainWindow(
        ConsoleService(), AlarmSounder(use_audio=False), settings, username="officer1"
    )
    qtbot.addWidget(window)
    now[0] = 9.0
    QTest.keyClick(window, Qt.Key.Key_A)
    now[0] = 15.0
    watcher.check()
    assert fired == []
    now[0] = 19.5
    watcher.check()
    watcher.check()
    assert fired == [True]  # once per idle stretch
    watcher.swallow_shortcuts = True
    assert watcher.eventFilter(window, QEvent(QEvent.Type.Shortcut))
    watcher.swallow_shortcuts = False
    assert not watcher.eventFilter(window, QEvent(QEvent.Type.Shortcut))
    watcher.stop()


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise|propagateSizeHints)\(\)$")
def test_the_lock_hides_floating_docks_and_follows_resizes(
    qtbot: QtBot, settings: QSettings
) -> None:
    service = ConsoleService()
    window = MainWindow(service, AlarmSounder(use_audio=False), settings, username="officer1")
    qtbot.addWidget(window)
    window.show()
    lock = ConsoleLock(window, service, idle_seconds=3600, username="officer1")
    dock = window.findChild(QDockWidget, "event_log_dock")
    assert dock is not None
    dock.setFloating(True)
    dock.show()
    lock.lock()
    lock.lock()  # twice is once
    assert lock.locked
    assert not dock.isVisible()
    window.resize(900, 700)
    assert lock.overlay.geometry() == window.rect()
    lock.overlay.submit()  # no password typed: said, nothing sent
    assert lock.overlay.message_label.text()
    service.unlock_finished.emit(False, "unauthorized", "wrong password (3 tries left)")
    assert "3" in lock.overlay.message_label.text()
    service.unlock_finished.emit(True, "", "")
    assert not is_locked(lock)
    assert dock.isVisible()
    lock.unlock()  # not locked: nothing to do
    lock.stop()


def test_the_idle_time_comes_from_the_settings(settings: QSettings, qt_loop: object) -> None:
    settings.setValue(IDLE_LOCK_KEY, "5")
    done: asyncio.Future[int] = asyncio.Future()
    session = ConsoleSession(ConsoleService(), AlarmSounder(use_audio=False), settings, done)
    assert session.idle_lock_seconds == 300.0
    settings.setValue(IDLE_LOCK_KEY, "soon")
    session = ConsoleSession(ConsoleService(), AlarmSounder(use_audio=False), settings, done)
    assert session.idle_lock_seconds == 30 * 60.0


def test_texts_for_every_end_reason_and_unlock_refusal() -> None:
    for reason in SessionEndReason:
        assert texts.session_end_label(reason.value)
    assert texts.session_end_label("something new") == "something new"
    assert "code" in texts.unlock_refusal("unauthorized", "second factor code required")
    assert texts.unlock_refusal("unauthorized", "wrong password")
    assert texts.unlock_refusal("rate_limited", "an unlock is being checked")


def test_an_untrusted_certificate_is_said_plainly_and_the_ca_file_remembered(
    qtbot: QtBot, settings: QSettings, run: Run, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"

    async def scenario() -> None:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        session = ConsoleSession(ConsoleService(), AlarmSounder(use_audio=False), settings, done)
        dialog = session.show_login("wss://127.0.0.1:9/console", "officer1")
        qtbot.addWidget(dialog)
        try:
            dialog.password_edit.setText("pw")
            dialog.ca_edit.setText(str(ca_file))
            await call(dialog.login_button.click)
            # The CA file does not exist: the client says so at once, no retrying.
            await wait_until(dialog.login_button.isEnabled, what="refusal")
            assert str(ca_file) in dialog.message_label.text()
            assert settings.value(CA_FILE_KEY) == str(ca_file)
            # What a failed verification looks like to the officer.
            session._phase = session._phase.CONNECTING
            session._on_connection_changed(
                ConnectionState.AUTH_FAILED,
                f"{CERTIFICATE_NOT_TRUSTED}: self-signed certificate in certificate chain",
            )
            text = dialog.message_label.text()
            assert text.startswith("The server's certificate is not trusted (self-signed")
        finally:
            await session.close()

    run(scenario(), timeout=30)
    # The next dialog offers the remembered CA file.
    done: asyncio.Future[int] = asyncio.Future()
    again = ConsoleSession(ConsoleService(), AlarmSounder(use_audio=False), settings, done)
    dialog = again.show_login("wss://127.0.0.1:9/console", "officer1")
    qtbot.addWidget(dialog)
    assert dialog.ca_file() == str(ca_file)
    dialog.done(0)


def test_an_admin_sees_who_is_logged_in_where(qtbot: QtBot, settings: QSettings, run: Run) -> None:
    users = [("root", "pw-root-123", Role.ADMIN), ("officer1", "pw-officer1", Role.OFFICER)]
    with ServerThread(users=users) as server:

        async def scenario() -> None:
            done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            session = ConsoleSession(
                ConsoleService(), AlarmSounder(use_audio=False), settings, done
            )
            session.login_unattended(server.console_url, "root", "pw-root-123")
            window = opened_window(session)
            assert window is not None
            qtbot.addWidget(window)
            action = session.sessions_action
            assert action is not None
            try:
                await wait_until(action.action.isEnabled, what="admin welcomed")
                dialog = action.open()
                qtbot.addWidget(dialog)
                await wait_until(lambda: dialog.table.rowCount() == 1, what="session list")
                item = dialog.table.item(0, 0)
                assert item is not None
                assert item.text() == "root"
                assert "1" in dialog.message_label.text()
            finally:
                await session.close()

        run(scenario(), timeout=60)


def test_others_cannot_open_the_session_list(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        session, _done = await _logged_in(server, qtbot, settings, idle=0)
        try:
            action = session.sessions_action
            assert action is not None
            assert not action.action.isEnabled()
            # Asked anyway (the menu is a courtesy): the server refuses, the dialog says so.
            dialog = action.open()
            qtbot.addWidget(dialog)
            await wait_until(lambda: dialog.message_label.text() != "Loading…", what="refusal")
            assert dialog.table.rowCount() == 0
        finally:
            await session.close()

    run(scenario(), timeout=60)
