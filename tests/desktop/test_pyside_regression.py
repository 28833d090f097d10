"""Guard against PySide6 6.12.0's ``None`` refcount bug.

On Python 3.11, PySide6 6.12.0 decrements ``None``'s reference count on every call of a
Qt method that returns void, and the interpreter aborts in ``none_dealloc`` after a few
thousand calls. pyproject pins ``PySide6-Essentials>=6.11,<6.12``; this test fails (or
crashes the run) if a bad version slips in.
"""

from __future__ import annotations

import sys

import PySide6
import pytest
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

pytestmark = pytest.mark.gui

VOID_CALLS = 20_000
BAD_VERSION = (6, 12)


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:2])


def test_pyside_version_is_below_the_broken_release() -> None:
    assert version_tuple(PySide6.__version__) < BAD_VERSION, PySide6.__version__


def test_void_calls_keep_none_alive(qapp: QApplication) -> None:
    qobject = QObject()
    widget = QWidget()
    timer = QTimer()
    before = sys.getrefcount(None)
    for i in range(VOID_CALLS // 4):
        qobject.setObjectName("probe")  # void
        widget.setVisible(False)  # void
        timer.stop()  # void
        widget.setEnabled(i % 2 == 0)  # void
    after = sys.getrefcount(None)
    # Other threads may hold a few more references meanwhile; a decrement per call
    # would show as thousands fewer.
    assert after >= before - 100, (before, after)
    widget.deleteLater()
