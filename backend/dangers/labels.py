"""Chinese names of the hidden-danger enums, for what the backend writes for people (the
Excel export). The console has its own (desktop imports no backend)."""

from __future__ import annotations

from typing import Final

from realtime.protocol import DangerCategory, DangerGrade, DangerSource, DangerState

CATEGORY: Final = {
    DangerCategory.SITE: "现场管理",
    DangerCategory.EQUIPMENT: "设备设施",
    DangerCategory.OPERATION: "作业行为",
    DangerCategory.MANAGEMENT: "安全管理",
    DangerCategory.FIRE: "消防",
    DangerCategory.ELECTRICAL: "电气",
    DangerCategory.HAZARDOUS_CHEMICALS: "危险化学品",
    DangerCategory.OTHER: "其他",
}
GRADE: Final = {DangerGrade.GENERAL: "一般隐患", DangerGrade.MAJOR: "重大隐患"}
STATE: Final = {
    DangerState.REPORTED: "已上报",
    DangerState.ASSIGNED: "已交办",
    DangerState.RECTIFYING: "整改中",
    DangerState.RECTIFIED: "已整改",
    DangerState.VERIFIED: "已验收",
    DangerState.OVERDUE: "已逾期",
    DangerState.SUPERVISED: "挂牌督办",
}
SOURCE: Final = {DangerSource.SELF_INSPECTION: "企业自查", DangerSource.INSPECTION: "执法检查"}
RUNG: Final = {"": "", "area": "本级督促", "above": "上级督办"}
