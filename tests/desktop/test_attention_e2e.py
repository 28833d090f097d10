"""Against the real backend: an alarm raised at another desk sounds, flashes and repeats
here until the officer acknowledges it with F2 over the wire; acknowledged at another
desk, it stops here too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from realtime.protocol import TransitionAlarm
from realtime.states import AlarmAction, AlarmLevel, AlarmState
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until
from tests.desktop.test_console_e2e import console, create_alarm, other_console

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


def test_an_alarm_sounds_until_acknowledged_over_the_wire(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with console(server, qtbot, settings) as (window, service, sounder):
            window.activateWindow()
            await wait_until(window.isActiveWindow, what="window active")
            schedule = window.attention.alerts.schedule
            async with other_console(server) as other:
                first = await create_alarm(other, "储罐起火", AlarmLevel.RED)
                second = await create_alarm(other, "厂房冒烟", AlarmLevel.ORANGE)
                await wait_until(lambda: schedule.sounding() == [first, second], what="both")
                assert sounder.played_levels == [AlarmLevel.RED, AlarmLevel.ORANGE]
                assert window.attention.alerts.flash_timer.isActive()

                window.queue_view.setFocus()
                await call(lambda: QTest.keyClick(window.queue_view, Qt.Key.Key_F4))
                assert window.queue_view.selected_alarm_id() == first
                await call(lambda: QTest.keyClick(window.queue_view, Qt.Key.Key_F2))
                await wait_until(lambda: not schedule.reminds_of(first), what="acknowledged")
                alarm = service.store.get(first)
                assert alarm is not None
                assert alarm.state is AlarmState.ACKNOWLEDGED
                assert alarm.updated_by == "officer1"
                assert not window.attention.alerts.flash_timer.isActive()

                # Acknowledged at the other desk: it stops sounding here as well.
                current = service.store.get(second)
                assert current is not None
                await other.request(
                    TransitionAlarm(
                        req="",
                        alarm_id=second,
                        action=AlarmAction.ACKNOWLEDGE,
                        expected_version=current.version,
                    )
                )
                await wait_until(lambda: schedule.sounding() == [], what="second stopped")

    run(scenario(), timeout=60)
