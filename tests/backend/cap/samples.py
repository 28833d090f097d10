"""CAP alerts the tests share."""

from __future__ import annotations

import datetime as dt

from backend.cap.model import (
    CapAlert,
    CapArea,
    CapInfo,
    CapReference,
    Category,
    Certainty,
    MsgType,
    Scope,
    Severity,
    Status,
    Urgency,
)

BEIJING = dt.timezone(dt.timedelta(hours=8))
SENT = dt.datetime(2026, 12, 5, 10, 0, 0, tzinfo=BEIJING)
RING = ((39.90, 116.40), (39.95, 116.50), (39.80, 116.45), (39.90, 116.40))


def chemical_leak() -> CapAlert:
    """A full alert: every modelled element set."""
    return CapAlert(
        identifier="dutydesk-110105-2026-0042",
        sender="dutydesk@yjj.example.gov.cn",
        sent=SENT,
        status=Status.ACTUAL,
        msg_type=MsgType.UPDATE,
        scope=Scope.PUBLIC,
        note="第二次更新",
        references=(
            CapReference("dutydesk@yjj.example.gov.cn", "dutydesk-110105-2026-0041", SENT),
        ),
        infos=(
            CapInfo(
                categories=(Category.SAFETY, Category.CBRNE),
                event="危险化学品泄漏",
                urgency=Urgency.IMMEDIATE,
                severity=Severity.SEVERE,
                certainty=Certainty.OBSERVED,
                headline="朝阳区某化工厂液氯泄漏 <橙色预警> & 疏散",
                description="12月5日9时50分，液氯储罐阀门泄漏。",
                instruction="下风向1公里内居民立即关闭门窗，听从指挥撤离。",
                sender_name="朝阳区应急管理局",
                onset=SENT,
                expires=SENT + dt.timedelta(hours=6),
                web="https://yjj.example.gov.cn/notices/42",
                contact="010-12345678",
                parameters=(("level", "orange"), ("dutydesk:notice", "42")),
                areas=(
                    CapArea(
                        "朝阳区东坝乡",
                        polygons=(RING,),
                        circles=((39.9, 116.45, 1.5),),
                        geocodes=(("GB/T 2260", "110105"),),
                    ),
                ),
            ),
        ),
    )
