"""Fixtures for the console tests: an isolated QSettings, a qasync loop, a fake client."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QSettings, QTranslator
from PySide6.QtWidgets import QApplication

from desktop.i18n import install_translators
from desktop.service import ConsoleService
from desktop.video.logging_rules import quiet_multimedia_probes
from realtime.client import CommandError, ConnectionState
from realtime.protocol import (
    AlarmResult,
    Command,
    CreateAlarm,
    DispatchAlarm,
    ErrorCode,
    ListUnits,
    ResultData,
    TransitionAlarm,
    UnitsResult,
    UnitView,
)
from realtime.states import AlarmAction, next_state
from tests.desktop.factories import evolve, make_alarm

# Before any test module imports QtMultimedia: its load-time probes for optional libraries
# (PipeWire) warn, and Qt warnings fail tests. The console sets the same rules.
quiet_multimedia_probes()

T = TypeVar("T")

RunCoroutine = Callable[[Coroutine[Any, Any, T]], T]

ignore_offscreen_quirks = pytest.mark.qt_log_ignore(
    r"^This plugin does not support propagateSizeHints\(\)$"
)
"""The offscreen platform warns about every top-level window it shows; that is not ours."""


@pytest.fixture(autouse=True)
def collect_qt_garbage() -> Iterator[None]:
    """Free Qt objects caught in reference cycles here, on the GUI thread.

    Otherwise the collector may free them later in whatever thread runs Python then (the
    test server's thread), and Qt warns that timers cannot be stopped from another thread.
    What was alive before the test is frozen first, so that the collection walks only what
    the test made: late in a full run the heap holds all the earlier tests left, and a
    full collection over it took 3-4 s after every desktop test.
    """
    gc.freeze()
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Path:
    """Point QSettings at a temporary folder so tests never touch the user's settings."""
    folder = tmp_path / "settings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def settings(isolated_settings: Path) -> QSettings:
    """A QSettings object in the temporary folder."""
    return QSettings(str(isolated_settings / "console.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def qt_loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop over the test QApplication (asyncio and Qt events both run)."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    # As in the console: closing a window must not stop the loop (see field-facts).
    quit_on_last_window_closed = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    yield loop
    qapp.setQuitOnLastWindowClosed(quit_on_last_window_closed)
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def run(qt_loop: qasync.QEventLoop) -> Callable[..., Any]:
    """Run a coroutine on the qasync loop, failing the test if it takes over 20 s."""

    def run_coroutine(coroutine: Awaitable[T], timeout: float = 20.0) -> T:
        result: T = qt_loop.run_until_complete(asyncio.wait_for(coroutine, timeout))
        return result

    return run_coroutine


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Let the loop (and Qt) run until ``predicate`` is true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def call(action: Callable[[], object]) -> None:
    """Do ``action`` (a click, say) while the loop runs, as it always does in the console."""
    action()
    await asyncio.sleep(0)


async def awaited(start: Callable[[], Awaitable[T]]) -> T:
    """Start a service call while the loop runs (tasks need a running loop) and await it."""
    return await start()


UNITS = [
    UnitView(id=1, code="F01", name="西湖消防站", agency="fire"),
    UnitView(id=2, code="P01", name="文三派出所", agency="police"),
    UnitView(id=3, code="M01", name="市急救中心", agency="medical"),
]


class FakeClient:
    """Stands in for :class:`DutyDeskClient`: records commands and answers them.

    While ``connected`` is False, commands wait (like the real outbox) until it is set.
    A command whose alarm id is in ``refuse`` is answered with that error code.
    """

    def __init__(self, service: ConsoleService) -> None:
        self.service = service
        self.commands: list[Command] = []
        self.refuse: dict[int, ErrorCode] = {}
        self.refuse_create: ErrorCode | None = None
        self.connected = asyncio.Event()
        self.connected.set()
        self.closed = asyncio.Event()
        self._next_alarm_id = 100
        self._waiting = 0

    @property
    def queued_commands(self) -> int:
        return self._waiting

    async def run(self) -> None:
        self.service.on_state(ConnectionState.CONNECTING, "fake")
        self.service.on_state(ConnectionState.LIVE, "")
        # No timers: Qt events processed outside the running loop must find nothing to do.
        await self.closed.wait()

    async def close(self) -> None:
        self.closed.set()

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        self._waiting += 1
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        finally:
            self._waiting -= 1
        self.commands.append(command)
        if isinstance(command, ListUnits):
            return UnitsResult(units=UNITS)
        if isinstance(command, CreateAlarm):
            if self.refuse_create is not None:
                raise CommandError(self.refuse_create, "caller phone is not a phone number")
            self._next_alarm_id += 1
            alarm = make_alarm(
                self._next_alarm_id,
                level=command.level,
                alarm_type=command.alarm_type,
                title=command.title,
                place=command.place,
            )
            return AlarmResult(alarm=alarm)
        if isinstance(command, TransitionAlarm | DispatchAlarm):
            if command.alarm_id in self.refuse:
                raise CommandError(self.refuse[command.alarm_id], "refused by the fake server")
            current = self.service.store.get(command.alarm_id)
            assert current is not None
            action = (
                command.action if isinstance(command, TransitionAlarm) else AlarmAction.DISPATCH
            )
            state = next_state(current.state, action)
            if state is None:
                raise CommandError(ErrorCode.ILLEGAL_TRANSITION, "illegal")
            return AlarmResult(alarm=evolve(current, state=state))
        raise CommandError(ErrorCode.BAD_MESSAGE, f"unexpected {command!r}")


@pytest.fixture
def fake_service(qt_loop: qasync.QEventLoop) -> Iterator[tuple[ConsoleService, list[FakeClient]]]:
    """A ConsoleService whose client is a :class:`FakeClient` (created on ``start``)."""
    clients: list[FakeClient] = []

    def factory(
        _url: str, listener: ConsoleService, _user: str, _password: str, _seq: int | None
    ) -> FakeClient:
        client = FakeClient(listener)
        clients.append(client)
        return client

    service = ConsoleService(client_factory=factory)
    yield service, clients
    qt_loop.run_until_complete(service.stop())


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[list[QTranslator]]:
    """The console in Chinese, as an officer sees it by default (English again after)."""
    installed = install_translators(qapp, "zh_CN")
    yield installed
    for translator in installed:
        QCoreApplication.removeTranslator(translator)
    install_translators(qapp, "en")
