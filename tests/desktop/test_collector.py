"""Cyclic garbage is collected on the GUI timer, not in whichever thread allocates."""

from __future__ import annotations

import gc
import threading
import weakref

from pytestqt.qtbot import QtBot

from desktop.collector import GuiThreadCollector


class _Node:
    def __init__(self) -> None:
        self.partner: _Node | None = None


def _make_cycle() -> weakref.ref[_Node]:
    first, second = _Node(), _Node()
    first.partner, second.partner = second, first
    return weakref.ref(first)


def test_cycles_are_collected_by_the_timer_in_the_gui_thread(qtbot: QtBot) -> None:
    collector = GuiThreadCollector(interval_ms=20)
    collected_in: list[str] = []

    def note_thread(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected_in.append(threading.current_thread().name)

    was_enabled = gc.isenabled()
    collector.start()
    gc.callbacks.append(note_thread)
    try:
        assert not gc.isenabled()
        cycle = _make_cycle()

        # A worker thread allocating far past the threshold does not trigger a collection.
        kept: list[_Node] = []

        def allocate() -> None:
            kept.extend(_Node() for _ in range(gc.get_threshold()[0] * 5))

        worker = threading.Thread(target=allocate, name="worker")
        worker.start()
        worker.join()
        assert cycle() is not None
        assert "worker" not in collected_in

        qtbot.waitUntil(lambda: cycle() is None, timeout=5000)
        assert collector.collections >= 1
        assert set(collected_in) == {threading.main_thread().name}
    finally:
        gc.callbacks.remove(note_thread)
        collector.stop()
    assert gc.isenabled() == was_enabled


def test_nothing_is_collected_below_the_threshold(qtbot: QtBot) -> None:
    collector = GuiThreadCollector(interval_ms=10_000)
    collector.start()
    try:
        gc.collect()
        assert collector.collect_due() == 0
        assert collector.collections == 0
    finally:
        collector.stop()
