"""The demo's hidden dangers (隐患): a few in the demo city's sample enterprises, so the
board is not empty — one rectifying, one overdue and escalated, one under supervision
(挂牌督办), one verified, one found by an inspection."""

from __future__ import annotations

import datetime as dt
import logging

from backend.authz.principal import Principal
from backend.dangers.service import DangerService
from backend.runtime.clock import utc_now
from backend.server.app import DutyDeskServer
from realtime.protocol import (
    ActOnDanger,
    DangerAction,
    DangerCategory,
    DangerGrade,
    HiddenDangerInput,
    InspectionInput,
    Role,
)

logger = logging.getLogger(__name__)

_BUREAU = Principal(0, "demo-bureau", "应急管理局（演示）", Role.SUPERVISOR, None, "")
"""Who reports the demo's dangers (a whole-area supervisor of the bureau)."""


_C, _G = DangerCategory, DangerGrade
_SAMPLES = {
    # key: (enterprise, category, grade, place, description, deadline in days from now)
    "rectifying": ("E-JBHG", _C.ELECTRICAL, _G.GENERAL, "二号储罐区", "储罐静电接地线断开", 5),
    "overdue": ("E-HXXC", _C.HAZARDOUS_CHEMICALS, _G.MAJOR, "甲类仓库", "超量储存过氧化物", -2),
    "supervised": ("E-BJNY", _C.FIRE, _G.GENERAL, "加气区", "可燃气体报警器失效", -5),
    "reported": ("E-GLYY", _C.SITE, _G.GENERAL, "3号管廊", "管廊巡检通道堆放杂物", None),
    "verified": ("E-LSHB", _C.MANAGEMENT, _G.GENERAL, "危废暂存间", "危废台账未及时更新", 3),
    "inspected": ("E-DSKY", _C.EQUIPMENT, _G.MAJOR, "主井提升机", "制动器闸瓦磨损超限", 7),
}


def _danger(key: str, now: dt.datetime) -> HiddenDangerInput:
    enterprise, category, grade, place, description, days = _SAMPLES[key]
    deadline = None if days is None else now + dt.timedelta(days=days)
    return HiddenDangerInput(
        enterprise=enterprise,
        category=category,
        grade=grade,
        place=place,
        description=description,
        measures="制定整改方案，落实责任人和资金" if deadline else "",
        deadline=deadline,
        responsible_name="王建国" if deadline else "",
        responsible_phone="13905140000" if deadline else "",
    )


async def seed_demo_dangers(server: DutyDeskServer) -> int:
    """Report the demo's hidden dangers; return how many."""
    service = server.dangers.service
    now = utc_now()
    # The late ones were reported a week ago: a deadline must lie ahead when it is set.
    week_ago = now - dt.timedelta(days=7)
    last_week = DangerService(server.sessions, server.writer, server.cipher, clock=lambda: week_ago)
    rectifying = await service.report(_BUREAU, _danger("rectifying", now))
    await service.act(_BUREAU, _step(rectifying.id, rectifying.version, DangerAction.START))
    await last_week.report(_BUREAU, _danger("overdue", now))
    supervised = await last_week.report(_BUREAU, _danger("supervised", now))
    await service.report(_BUREAU, _danger("reported", now))
    # Overdue now, and the major one escalated to its area's supervisors.
    await service.check_deadlines()
    await service.check_deadlines()
    late = await service.get(_BUREAU, supervised.id)
    await service.act(
        _BUREAU,
        ActOnDanger(
            req="",
            danger_id=late.id,
            version=late.version,
            action=DangerAction.SUPERVISE,
            note="挂牌督办，限期整改",
            deadline=now + dt.timedelta(days=10),
        ),
    )
    done = await service.report(_BUREAU, _danger("verified", now))
    for action in (DangerAction.START, DangerAction.COMPLETE, DangerAction.VERIFY):
        done = await service.act(_BUREAU, _step(done.id, done.version, action))
    await service.record_inspection(
        _BUREAU,
        InspectionInput(
            enterprise="E-DSKY",
            inspected_at=now - dt.timedelta(days=1),
            inspectors=["执法一队 李强", "执法一队 周敏"],
            summary="年度安全生产执法检查",
            findings=[_danger("inspected", now)],
        ),
    )
    logger.info("demo: %s hidden dangers seeded", len(_SAMPLES))
    return len(_SAMPLES)


def _step(danger_id: int, version: int, action: DangerAction) -> ActOnDanger:
    return ActOnDanger(req="", danger_id=danger_id, version=version, action=action)
