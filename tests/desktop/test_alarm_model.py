"""The alarm queue's Qt model: rows, colours, fonts, ages and order."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont

from desktop.alarm_model import (
    LEVEL_COLOURS,
    AlarmQueueProxy,
    AlarmTableModel,
    Column,
)
from desktop.state import AlarmStore
from realtime.states import AlarmLevel, AlarmState
from tests.desktop.factories import T0, evolve, make_alarm, make_event, make_snapshot

pytestmark = pytest.mark.gui


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def cell(model: AlarmTableModel | AlarmQueueProxy, row: int, column: Column, role: int) -> object:
    return model.index(row, column).data(role)


def test_rows_follow_the_store() -> None:
    store = AlarmStore()
    model = AlarmTableModel(store)
    assert model.rowCount() == 0
    alarm = make_alarm(1, title="化工厂泄漏")
    store.apply_event(make_event(1, alarm))
    assert model.rowCount() == 1
    assert cell(model, 0, Column.TITLE, Qt.ItemDataRole.DisplayRole) == "化工厂泄漏"
    assert cell(model, 0, Column.STATE, Qt.ItemDataRole.DisplayRole) == "New"
    store.apply_event(make_event(2, evolve(alarm, state=AlarmState.ACKNOWLEDGED)))
    assert model.rowCount() == 1
    assert cell(model, 0, Column.STATE, Qt.ItemDataRole.DisplayRole) == "Acknowledged"
    store.apply_snapshot(make_snapshot(3, make_alarm(5), make_alarm(6)))
    assert model.rowCount() == 2


def test_level_colours_and_bold_unacknowledged() -> None:
    store = AlarmStore()
    model = AlarmTableModel(store)
    store.apply_snapshot(
        make_snapshot(
            1,
            make_alarm(1, level=AlarmLevel.RED),
            make_alarm(2, level=AlarmLevel.BLUE, state=AlarmState.ACKNOWLEDGED),
        )
    )
    red_brush = cell(model, model.row_of(1) or 0, Column.LEVEL, Qt.ItemDataRole.BackgroundRole)
    assert isinstance(red_brush, QBrush)
    assert red_brush.color() == LEVEL_COLOURS[AlarmLevel.RED]
    blue_row = model.row_of(2)
    assert blue_row is not None
    blue_brush = cell(model, blue_row, Column.LEVEL, Qt.ItemDataRole.BackgroundRole)
    assert isinstance(blue_brush, QBrush)
    assert blue_brush.color() == LEVEL_COLOURS[AlarmLevel.BLUE]
    new_font = cell(model, model.row_of(1) or 0, Column.TITLE, Qt.ItemDataRole.FontRole)
    assert isinstance(new_font, QFont)
    assert new_font.bold()
    assert cell(model, blue_row, Column.TITLE, Qt.ItemDataRole.FontRole) is None


def test_age_column_counts_minutes_and_seconds() -> None:
    clock = Clock()
    store = AlarmStore(clock=clock)
    model = AlarmTableModel(store, clock=clock)
    store.apply_event(make_event(1, make_alarm(1, first_seen=T0)))
    clock.now = T0 + dt.timedelta(minutes=3, seconds=12)
    assert cell(model, 0, Column.AGE, Qt.ItemDataRole.DisplayRole) == "3 min 12 s"
    clock.now = T0 + dt.timedelta(hours=2, minutes=5)
    assert cell(model, 0, Column.AGE, Qt.ItemDataRole.DisplayRole) == "2 h 05 min"


def test_age_of_a_finished_alarm_stops() -> None:
    clock = Clock()
    store = AlarmStore(clock=clock)
    model = AlarmTableModel(store, clock=clock)
    store.apply_event(
        make_event(
            1,
            make_alarm(1, state=AlarmState.CLOSED, updated_at=T0 + dt.timedelta(seconds=45)),
        )
    )
    clock.now = T0 + dt.timedelta(hours=5)
    assert cell(model, 0, Column.AGE, Qt.ItemDataRole.DisplayRole) == "45 s"


def test_stale_rows_are_grey_and_italic() -> None:
    store = AlarmStore()
    model = AlarmTableModel(store)
    store.apply_event(make_event(1, make_alarm(1, level=AlarmLevel.RED)))
    model.set_stale(True)
    font = cell(model, 0, Column.TITLE, Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont)
    assert font.italic()
    brush = cell(model, 0, Column.LEVEL, Qt.ItemDataRole.BackgroundRole)
    assert isinstance(brush, QBrush)
    assert brush.color() != LEVEL_COLOURS[AlarmLevel.RED]


def test_queue_is_sorted_open_first_then_level_then_age() -> None:
    store = AlarmStore()
    model = AlarmTableModel(store)
    proxy = AlarmQueueProxy()
    proxy.setSourceModel(model)
    store.apply_event(make_event(1, make_alarm(1, level=AlarmLevel.BLUE)))
    store.apply_event(make_event(2, make_alarm(2, level=AlarmLevel.RED)))
    store.apply_event(
        make_event(3, make_alarm(3, level=AlarmLevel.RED, first_seen=T0 - dt.timedelta(hours=1)))
    )
    store.apply_event(make_event(4, make_alarm(4, level=AlarmLevel.ORANGE)))
    assert [proxy.alarm_id_at(row) for row in range(proxy.rowCount())] == [3, 2, 4, 1]
    # Closing the oldest red alarm moves it to the end.
    old_red = store.get(3)
    assert old_red is not None
    store.apply_event(make_event(5, evolve(old_red, state=AlarmState.CLOSED)))
    assert [proxy.alarm_id_at(row) for row in range(proxy.rowCount())] == [2, 4, 1, 3]
