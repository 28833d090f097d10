"""Fixtures for publishing: a migrated database (SQLite and PostgreSQL, through
``db_url``), the real event writer, enterprises in the registry (with contacts' phones and
e-mail addresses, encrypted as the registry stores them), the service on a clock the test
moves, and a channel adapter that records, fails on request and reports receipts."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.authz.principal import Principal
from backend.eventlog import log as eventlog
from backend.publishing.channels import ChannelReceipt, DeliveryError, Outgoing
from backend.publishing.outbox import Outbox
from backend.publishing.service import PublishingService
from backend.security import FieldCipher
from backend.storage import db
from backend.storage.models import RegistryItem
from realtime.protocol import (
    Audience,
    Channel,
    Contact,
    EnterpriseDetails,
    Event,
    NoticeArea,
    NoticeInput,
    NoticeKind,
    Role,
    WarningLevel,
)

T0 = dt.datetime(2026, 12, 5, 14, 0, tzinfo=dt.UTC)
XIHU = "330106"
SHANGHAI = "310104"

OFFICER = Principal(1, "officer1", "值班员", Role.OFFICER, None, XIHU)
SUPERVISOR = Principal(2, "leader1", "带班领导", Role.SUPERVISOR, None, XIHU)
SUPERVISOR2 = Principal(3, "leader2", "值班领导", Role.SUPERVISOR, None, "")
OTHER_OFFICER = Principal(4, "officer2", "值班员二", Role.OFFICER, None, XIHU)
SH_SUPERVISOR = Principal(5, "sh_leader", "上海领导", Role.SUPERVISOR, None, SHANGHAI)
VIEWER = Principal(6, "wall", "大屏", Role.VIEWER, None, XIHU)
TANKS = Principal(7, "tanks_user", "储罐公司", Role.ENTERPRISE, None, XIHU, enterprise="ENT-TANKS")
MILL = Principal(8, "mill_user", "造纸厂", Role.ENTERPRISE, None, XIHU, enterprise="ENT-MILL")
SH_FIRM = Principal(9, "sh_user", "上海公司", Role.ENTERPRISE, None, SHANGHAI, enterprise="ENT-SH")
FIRE_DESK = Principal(10, "fire_desk", "消防席", Role.AGENCY, "fire", "3301")
POLICE_SH = Principal(11, "police_sh", "上海公安席", Role.AGENCY, "police", "31")

TANKS_PHONE = "13800000001"
TANKS_EMAIL = "safety@tanks.example.cn"
MILL_PHONE = "13900000002"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class FakeAdapter:
    """A channel that records what it was handed; ``failures`` are raised first, in order."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self.sent: list[Outgoing] = []
        self.failures: list[DeliveryError] = []
        self._receipts: asyncio.Queue[ChannelReceipt | None] = asyncio.Queue()

    @property
    def channel(self) -> Channel:
        return self._channel

    async def send(self, message: Outgoing) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"ref-{message.delivery_id}"

    def report(self, receipt: ChannelReceipt) -> None:
        self._receipts.put_nowait(receipt)

    async def receipts(self) -> AsyncIterator[ChannelReceipt]:
        while (receipt := await self._receipts.get()) is not None:
            yield receipt

    async def close(self) -> None:
        self._receipts.put_nowait(None)


def leak_notice(**changes: object) -> NoticeInput:
    notice = NoticeInput(
        kind=NoticeKind.WARNING,
        level=WarningLevel.ORANGE,
        title="液氨槽车泄漏预警",
        body="绕城高速文三路出口液氨槽车泄漏，下风向 1 公里内企业立即停止动火作业。",
        event="危险化学品泄漏",
        instruction="关闭门窗，人员向上风向撤离。",
        area=NoticeArea(jurisdictions=[XIHU]),
        audience=[Audience.ENTERPRISES, Audience.AGENCIES, Audience.PUBLIC],
        channels=[Channel.CONSOLE, Channel.SMS, Channel.EMAIL, Channel.CAP],
    )
    return msgspec.structs.replace(notice, **changes)


@dataclass
class Env:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    writer: eventlog.EventWriter
    cipher: FieldCipher
    clock: Clock
    service: PublishingService
    published: list[Event] = field(default_factory=list)

    def outbox(self, *adapters: FakeAdapter, **options: object) -> Outbox:
        return Outbox(
            self.sessions,
            self.writer,
            self.cipher,
            {adapter.channel: adapter for adapter in adapters},
            clock=self.clock,
            rate_per_second=0,
            **options,  # type: ignore[arg-type]
        )

    async def publish(self, notice: NoticeInput | None = None) -> int:
        """Draft (officer), submit, approve (a second supervisor): the notice's id."""
        draft = await self.service.save(OFFICER, notice or leak_notice())
        pending = await self.service.submit(OFFICER, draft.id, draft.version)
        published = await self.service.approve(SUPERVISOR, pending.id, pending.version)
        return published.id


async def _add_enterprise(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    code: str,
    jurisdiction: str,
    contacts: list[Contact],
    *,
    lat: float,
    lon: float,
    retired: bool = False,
) -> None:
    encoded = msgspec.json.encode(contacts).decode()
    async with sessions.begin() as session:
        session.add(
            RegistryItem(
                kind="enterprise",
                code=code,
                name=f"{code} 公司",
                jurisdiction=jurisdiction,
                agency="",
                address="",
                lat=lat,
                lon=lon,
                details=msgspec.to_builtins(EnterpriseDetails()),
                contacts_enc=cipher.encrypt(encoded) if contacts else "",
                version=1,
                retired=retired,
                created_at=T0,
                updated_at=T0,
                updated_by="test",
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
    tanks = [Contact(name="张三", role="安全负责人", phone=TANKS_PHONE, email=TANKS_EMAIL)]
    await _add_enterprise(sessions, cipher, "ENT-TANKS", XIHU, tanks, lat=30.27, lon=120.12)
    mill = [Contact(name="李四", phone=MILL_PHONE), Contact(name="王五", phone=MILL_PHONE)]
    await _add_enterprise(sessions, cipher, "ENT-MILL", "330106001", mill, lat=30.28, lon=120.1)
    await _add_enterprise(sessions, cipher, "ENT-SH", SHANGHAI, [], lat=31.2, lon=121.44)
    await _add_enterprise(
        sessions, cipher, "ENT-OLD", XIHU, [], lat=30.27, lon=120.12, retired=True
    )
    names = {XIHU: "西湖区"}
    service = PublishingService(
        sessions, writer, cipher, place_name=lambda code: names.get(code, code), clock=clock
    )
    try:
        yield Env(engine, sessions, writer, cipher, clock, service, published)
    finally:
        await engine.dispose()
