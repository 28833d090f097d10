"""Fixtures for the hidden-danger service: a migrated database (SQLite and PostgreSQL,
through ``db_url``) with three enterprises in the registry, the real event writer, and a
clock the test moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.authz.principal import Principal
from backend.dangers.service import DangerService
from backend.eventlog import log as eventlog
from backend.security import FieldCipher
from backend.storage import db
from backend.storage.models import RegistryItem
from realtime.protocol import DangerCategory, DangerGrade, Event, HiddenDangerInput, Role

T0 = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
HZ = "330106"
"""Hangzhou, Xihu district: two enterprises."""
SH = "310104"
"""Shanghai, Xuhui district: one."""

ENTERPRISES = {
    "ENT-HZ-A": ("西湖化工有限公司", "危险化学品生产", HZ),
    "ENT-HZ-B": ("之江烟花爆竹仓库", "烟花爆竹", HZ),
    "ENT-SH-A": ("徐汇冶金厂", "冶金", SH),
}

ENT_A = Principal(11, "ent-a", "西湖化工安全员", Role.ENTERPRISE, None, HZ, "ENT-HZ-A")
ENT_B = Principal(12, "ent-b", "之江仓库安全员", Role.ENTERPRISE, None, HZ, "ENT-HZ-B")
OFFICER_HZ = Principal(1, "officer-hz", "西湖区值班员", Role.OFFICER, None, "3301")
OFFICER_SH = Principal(2, "officer-sh", "徐汇区值班员", Role.OFFICER, None, "31")
SUPERVISOR = Principal(3, "supervisor", "带班领导", Role.SUPERVISOR, None, "")
VIEWER_HZ = Principal(4, "viewer-hz", "大屏", Role.VIEWER, None, "3301")
FIRE_DESK = Principal(5, "fire", "消防席", Role.AGENCY, "fire", "")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def finding(
    enterprise: str = "ENT-HZ-A",
    *,
    grade: DangerGrade = DangerGrade.GENERAL,
    deadline: dt.datetime | None = None,
    name: str = "",
    phone: str = "",
    description: str = "储罐区静电接地线断开",
) -> HiddenDangerInput:
    return HiddenDangerInput(
        enterprise=enterprise,
        category=DangerCategory.ELECTRICAL,
        grade=grade,
        place="二号储罐区",
        description=description,
        deadline=deadline,
        responsible_name=name,
        responsible_phone=phone,
    )


@dataclass
class Env:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    writer: eventlog.EventWriter
    cipher: FieldCipher
    clock: Clock
    service: DangerService
    published: list[Event] = field(default_factory=list)

    def second_instance(self) -> DangerService:
        """Another server on the same database, its writes not serialized with this one's."""
        writer = eventlog.EventWriter(self.sessions, self.published.extend)
        return DangerService(self.sessions, writer, self.cipher, clock=self.clock)

    def kinds(self) -> list[str]:
        return [str(event.kind) for event in self.published]


async def add_enterprises(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        for code, (name, industry, place) in ENTERPRISES.items():
            session.add(
                RegistryItem(
                    kind="enterprise",
                    code=code,
                    name=name,
                    jurisdiction=place,
                    details={"type": "enterprise", "industry": industry},
                    created_at=T0,
                    updated_at=T0,
                )
            )


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[Env]:
    engine = db.create_engine(db_url)
    await db.migrate(engine)
    sessions = db.session_factory(engine)
    published: list[Event] = []
    writer = eventlog.EventWriter(sessions, published.extend)
    cipher = FieldCipher.generate()
    clock = Clock()
    await add_enterprises(sessions)
    service = DangerService(sessions, writer, cipher, clock=clock)
    try:
        yield Env(engine, sessions, writer, cipher, clock, service, published)
    finally:
        await engine.dispose()
