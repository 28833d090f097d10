"""Human words for the hidden dangers' enums, through Qt's translator (English source,
Chinese in ``resources/translations``): codes never reach the officer raw."""

from __future__ import annotations

import msgspec
from PySide6.QtCore import QCoreApplication

from realtime.protocol import (
    DangerAction,
    DangerCategory,
    DangerGrade,
    DangerGroup,
    DangerSource,
    DangerState,
    Event,
)


def category_label(category: DangerCategory) -> str:
    """现场管理, 设备设施…"""
    return {
        DangerCategory.SITE: QCoreApplication.translate("Dangers", "Site management"),
        DangerCategory.EQUIPMENT: QCoreApplication.translate("Dangers", "Equipment and facilities"),
        DangerCategory.OPERATION: QCoreApplication.translate("Dangers", "Operations"),
        DangerCategory.MANAGEMENT: QCoreApplication.translate("Dangers", "Safety management"),
        DangerCategory.FIRE: QCoreApplication.translate("Dangers", "Fire safety"),
        DangerCategory.ELECTRICAL: QCoreApplication.translate("Dangers", "Electrical"),
        DangerCategory.HAZARDOUS_CHEMICALS: QCoreApplication.translate(
            "Dangers", "Hazardous chemicals"
        ),
        DangerCategory.OTHER: QCoreApplication.translate("Dangers", "Other"),
    }[category]


def grade_label(grade: DangerGrade) -> str:
    """一般隐患 / 重大隐患."""
    return {
        DangerGrade.GENERAL: QCoreApplication.translate("Dangers", "General"),
        DangerGrade.MAJOR: QCoreApplication.translate("Dangers", "Major"),
    }[grade]


def state_label(state: DangerState) -> str:
    """已上报, 整改中…"""
    return {
        DangerState.REPORTED: QCoreApplication.translate("Dangers", "Reported"),
        DangerState.ASSIGNED: QCoreApplication.translate("Dangers", "Assigned"),
        DangerState.RECTIFYING: QCoreApplication.translate("Dangers", "Rectifying"),
        DangerState.RECTIFIED: QCoreApplication.translate("Dangers", "Rectified"),
        DangerState.VERIFIED: QCoreApplication.translate("Dangers", "Verified"),
        DangerState.OVERDUE: QCoreApplication.translate("Dangers", "Overdue"),
        DangerState.SUPERVISED: QCoreApplication.translate("Dangers", "Supervised"),
    }[state]


def action_label(action: DangerAction | str) -> str:
    """The button (and history) word of an action; ``report``, ``overdue``, ``escalate``
    of the history too."""
    return {
        DangerAction.ASSIGN: QCoreApplication.translate("Dangers", "Assign"),
        DangerAction.START: QCoreApplication.translate("Dangers", "Start rectifying"),
        DangerAction.COMPLETE: QCoreApplication.translate("Dangers", "Rectification done"),
        DangerAction.VERIFY: QCoreApplication.translate("Dangers", "Verify"),
        DangerAction.REJECT: QCoreApplication.translate("Dangers", "Send back"),
        DangerAction.SUPERVISE: QCoreApplication.translate("Dangers", "Supervise"),
        "report": QCoreApplication.translate("Dangers", "Reported"),
        "overdue": QCoreApplication.translate("Dangers", "Deadline passed"),
        "escalate": QCoreApplication.translate("Dangers", "Escalated"),
    }.get(action, str(action))


def source_label(source: DangerSource) -> str:
    """企业自查 / 执法检查."""
    return {
        DangerSource.SELF_INSPECTION: QCoreApplication.translate("Dangers", "Self-inspection"),
        DangerSource.INSPECTION: QCoreApplication.translate("Dangers", "Inspection"),
    }[source]


def rung_label(rung: str) -> str:
    """Where an overdue danger has escalated to ("" nowhere yet)."""
    return {
        "": "",
        "area": QCoreApplication.translate("Dangers", "Area supervisors"),
        "above": QCoreApplication.translate("Dangers", "Level above"),
    }.get(rung, rung)


def group_label(group: DangerGroup) -> str:
    """按企业 / 按行业 / 按辖区."""
    return {
        DangerGroup.ENTERPRISE: QCoreApplication.translate("Dangers", "By enterprise"),
        DangerGroup.INDUSTRY: QCoreApplication.translate("Dangers", "By industry"),
        DangerGroup.JURISDICTION: QCoreApplication.translate("Dangers", "By jurisdiction"),
    }[group]


def danger_event_text(event: Event) -> str | None:
    """What a ``danger.*`` or ``inspection.recorded`` event says in the event log (None
    for other events): the hidden danger (number, grade, enterprise, place, state) or the
    inspection (enterprise, inspectors)."""
    danger = event.danger
    if not isinstance(danger, msgspec.UnsetType):
        where = f"{danger.enterprise_name} {danger.place}".strip()
        return " · ".join(
            (f"#{danger.id} {grade_label(danger.grade)}", where, state_label(danger.state))
        )
    inspection = event.inspection
    if not isinstance(inspection, msgspec.UnsetType):
        return " · ".join(
            part for part in (inspection.enterprise_name, "、".join(inspection.inspectors)) if part
        )
    return None
