"""The drill window on its own: it says it is a drill on every view."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from desktop.alarm_model import Column
from desktop.exercises.drill import DrillWindow
from desktop.exercises.state import DrillClock
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from desktop.texts import DISPLAY_TIMEZONE as BEIJING
from desktop.texts import format_duration
from realtime.event_kinds import EventKind
from realtime.protocol import Event, ExerciseState
from tests.desktop.conftest import ignore_offscreen_quirks
from tests.desktop.exercises.factories import AT, make_label, make_run
from tests.desktop.factories import make_alarm

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def drill_window(qtbot: QtBot, settings: QSettings, clock: DrillClock) -> DrillWindow:
    service = ConsoleService(exercise_run="x7")
    window = DrillWindow(
        service,
        AlarmSounder(use_audio=False),
        settings,
        clock=clock,
        username="officer1",
        server="ws://127.0.0.1:1/console#drill",
    )
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_banner_title_and_frame_say_drill_and_the_banner_stays(
    qtbot: QtBot, settings: QSettings
) -> None:
    monotonic = FakeMonotonic()
    clock = DrillClock.of_run(make_run(), monotonic)
    window = drill_window(qtbot, settings, clock)
    expected_time = (AT + dt.timedelta(minutes=5)).astimezone(BEIJING).strftime("%H:%M:%S")
    assert window.exercise_banner.text() == (
        f"DRILL · 罐区硫化氢泄漏演练 · 10× · exercise time {expected_time}"
    )
    monotonic.now += 6.0  # one wall minute of exercise time at 10×
    window.exercise_banner.refresh()
    later = (AT + dt.timedelta(minutes=6)).astimezone(BEIJING).strftime("%H:%M:%S")
    assert window.exercise_banner.text().endswith(later)
    assert window.windowTitle().startswith("[DRILL] ")
    window.setWindowTitle("DutyDesk – duty console – officer1")
    assert window.windowTitle() == "[DRILL] DutyDesk – duty console – officer1"
    assert "#e67e22" in window.styleSheet()
    assert window.attention.tray.prefix == "[DRILL] "
    # The banner is above every toolbar, cannot be moved, hidden, or reset away.
    assert window.banner_bar.isVisible()
    assert not window.banner_bar.isMovable()
    assert not window.banner_bar.toggleViewAction().isVisible()
    window.banner_bar.hide()
    assert window.banner_bar.isVisible()
    window.reset_layout()
    assert window.banner_bar.isVisible()
    assert window.banner_bar.y() <= min(
        bar.y() for bar in window.findChildren(type(window.banner_bar)) if bar.isVisible()
    )


def test_the_drill_window_shows_its_runs_alarms_and_ends_with_a_message(
    qtbot: QtBot, settings: QSettings
) -> None:
    clock = DrillClock.of_run(make_run(), FakeMonotonic())
    window = drill_window(qtbot, settings, clock)
    service = window.model.alarms
    event = Event(
        seq=1,
        at=AT,
        kind=EventKind.ALARM_RAISED,
        actor="gateway",
        alarm=make_alarm(5),
        exercise=make_label(make_run()),
    )
    window_service: ConsoleService = window._service
    window_service.on_event(event)
    assert window.queue_alarm_ids() == [5]
    assert len(service) == 1
    # A speed change carried by the marks shows at once.
    window_service.on_event(
        msgspec.structs.replace(
            event, seq=2, exercise=msgspec.structs.replace(make_label(make_run()), speed=32.0)
        )
    )
    clock.set_label(msgspec.structs.replace(make_label(make_run()), speed=32.0))
    window.exercise_banner.refresh()
    assert " · 32× · " in window.exercise_banner.text()
    clock.set_label(msgspec.structs.replace(make_label(make_run()), state=ExerciseState.STOPPED))
    window.show_ended("The exercise has ended; its console is disconnected.")
    assert window.exercise_banner.text().endswith(
        "The exercise has ended; its console is disconnected."
    )
    assert window.notification_bar.isVisible()


def test_ages_and_deadlines_in_a_drill_window_run_on_the_exercise_clock(
    qtbot: QtBot, settings: QSettings
) -> None:
    """At 10× the exercise is far from the wall clock: an alarm raised 90 exercise seconds
    ago is 90 s old there, not some hours (the run's exercise time is in 2026-12-05 02:05)."""
    monotonic = FakeMonotonic()
    clock = DrillClock.of_run(make_run(), monotonic)
    window = drill_window(qtbot, settings, clock)
    raised = AT + dt.timedelta(minutes=5) - dt.timedelta(seconds=90)
    window_service: ConsoleService = window._service
    window_service.on_event(
        Event(
            seq=1,
            at=raised,
            kind=EventKind.ALARM_RAISED,
            actor="gateway",
            alarm=make_alarm(7, first_seen=raised),
            exercise=make_label(make_run()),
        )
    )
    age = window.alarm_model.index(0, Column.AGE).data()
    assert age == format_duration(90)
    assert window.incident_desk.board.now() == AT + dt.timedelta(minutes=5)
