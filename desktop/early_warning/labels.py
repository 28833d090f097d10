"""How the early-warning desk names and colours things (Chinese by the translations)."""

from __future__ import annotations

import msgspec
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor

from realtime.protocol import Event
from realtime.protocol.early_warning import WarningLevel, WarningSource, WarningState

LEVEL_COLOURS: dict[WarningLevel, QColor] = {
    WarningLevel.RED: QColor("#d32f2f"),
    WarningLevel.ORANGE: QColor("#ef6c00"),
    WarningLevel.YELLOW: QColor("#f9a825"),
    WarningLevel.BLUE: QColor("#1565c0"),
}
"""The national early-warning colours."""


def level_label(level: WarningLevel) -> str:
    """蓝色 … 红色."""
    return {
        WarningLevel.BLUE: QCoreApplication.translate("EarlyWarning", "Blue"),
        WarningLevel.YELLOW: QCoreApplication.translate("EarlyWarning", "Yellow"),
        WarningLevel.ORANGE: QCoreApplication.translate("EarlyWarning", "Orange"),
        WarningLevel.RED: QCoreApplication.translate("EarlyWarning", "Red"),
    }[level]


def source_label(source: WarningSource) -> str:
    """趋势 / 多参数同升 / 气象."""
    return {
        WarningSource.TREND: QCoreApplication.translate("EarlyWarning", "Trend"),
        WarningSource.CO_RISE: QCoreApplication.translate("EarlyWarning", "Rising together"),
        WarningSource.WEATHER: QCoreApplication.translate("EarlyWarning", "Weather"),
    }[source]


def state_label(state: WarningState) -> str:
    """未确认 / 已确认 / 已解除 / 已关闭."""
    return {
        WarningState.ACTIVE: QCoreApplication.translate("EarlyWarning", "Active"),
        WarningState.ACKNOWLEDGED: QCoreApplication.translate("EarlyWarning", "Acknowledged"),
        WarningState.CLEARED: QCoreApplication.translate("EarlyWarning", "Cleared"),
        WarningState.CLOSED: QCoreApplication.translate("EarlyWarning", "Closed"),
    }[state]


def warning_event_text(event: Event) -> str | None:
    """What a ``warning.*`` event says in the event log (None for other events): the
    warning's level and title, and its state once it is no longer active."""
    warning = event.early_warning
    if isinstance(warning, msgspec.UnsetType):
        return None
    parts = [level_label(warning.level), warning.title]
    if warning.state is not WarningState.ACTIVE:
        parts.append(state_label(warning.state))
    return " · ".join(part for part in parts if part)
