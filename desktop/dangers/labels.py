"""Human words for the hidden dangers' enums, through Qt's translator (English source,
Chinese in ``resources/translations``): codes never reach the officer raw."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from realtime.protocol import (
    DangerAction,
    DangerCategory,
    DangerGrade,
    DangerGroup,
    DangerSource,
    DangerState,
)


def _t(text: str) -> str:
    return QCoreApplication.translate("Dangers", text)


def category_label(category: DangerCategory) -> str:
    """现场管理, 设备设施…"""
    return {
        DangerCategory.SITE: _t("Site management"),
        DangerCategory.EQUIPMENT: _t("Equipment and facilities"),
        DangerCategory.OPERATION: _t("Operations"),
        DangerCategory.MANAGEMENT: _t("Safety management"),
        DangerCategory.FIRE: _t("Fire safety"),
        DangerCategory.ELECTRICAL: _t("Electrical"),
        DangerCategory.HAZARDOUS_CHEMICALS: _t("Hazardous chemicals"),
        DangerCategory.OTHER: _t("Other"),
    }[category]


def grade_label(grade: DangerGrade) -> str:
    """一般隐患 / 重大隐患."""
    return {DangerGrade.GENERAL: _t("General"), DangerGrade.MAJOR: _t("Major")}[grade]


def state_label(state: DangerState) -> str:
    """已上报, 整改中…"""
    return {
        DangerState.REPORTED: _t("Reported"),
        DangerState.ASSIGNED: _t("Assigned"),
        DangerState.RECTIFYING: _t("Rectifying"),
        DangerState.RECTIFIED: _t("Rectified"),
        DangerState.VERIFIED: _t("Verified"),
        DangerState.OVERDUE: _t("Overdue"),
        DangerState.SUPERVISED: _t("Supervised"),
    }[state]


def action_label(action: DangerAction | str) -> str:
    """The button (and history) word of an action; ``report``, ``overdue``, ``escalate``
    of the history too."""
    return {
        DangerAction.ASSIGN: _t("Assign"),
        DangerAction.START: _t("Start rectifying"),
        DangerAction.COMPLETE: _t("Rectification done"),
        DangerAction.VERIFY: _t("Verify"),
        DangerAction.REJECT: _t("Send back"),
        DangerAction.SUPERVISE: _t("Supervise"),
        "report": _t("Reported"),
        "overdue": _t("Deadline passed"),
        "escalate": _t("Escalated"),
    }.get(action, str(action))


def source_label(source: DangerSource) -> str:
    """企业自查 / 执法检查."""
    return {
        DangerSource.SELF_INSPECTION: _t("Self-inspection"),
        DangerSource.INSPECTION: _t("Inspection"),
    }[source]


def rung_label(rung: str) -> str:
    """Where an overdue danger has escalated to ("" nowhere yet)."""
    return {"": "", "area": _t("Area supervisors"), "above": _t("Level above")}.get(rung, rung)


def group_label(group: DangerGroup) -> str:
    """按企业 / 按行业 / 按辖区."""
    return {
        DangerGroup.ENTERPRISE: _t("By enterprise"),
        DangerGroup.INDUSTRY: _t("By industry"),
        DangerGroup.JURISDICTION: _t("By jurisdiction"),
    }[group]
