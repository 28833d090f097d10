"""Fixtures for the incident service: a migrated database (SQLite and PostgreSQL, through
``db_url``), the real event writer, the alarm service for alarms to raise, the shipped
catalogue and a clock the test moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.alarms.service import AlarmService
from backend.authz.principal import Principal
from backend.eventlog import log as eventlog
from backend.incidents.catalogue import Catalogue, load_catalogue
from backend.incidents.service import IncidentService
from backend.registry.files import load_units_csv
from backend.security import FieldCipher
from backend.storage import db
from realtime.protocol import AlarmView, CreateAlarm, Event, Role
from realtime.states import AlarmLevel

T0 = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
AREA = "330106"
"""The district the incidents happen in."""
TOWN = "330106001"
VILLAGE = "330106001001"

OFFICER = Principal(1, "officer1", "值班员一", Role.OFFICER, None, "")
OFFICER2 = Principal(2, "officer2", "值班员二", Role.OFFICER, None, AREA)
SUPERVISOR = Principal(3, "supervisor1", "带班领导", Role.SUPERVISOR, None, "")
FIRE_DESK = Principal(4, "fire_desk", "消防席", Role.AGENCY, "fire", "")
POLICE_DESK = Principal(5, "police_desk", "公安席", Role.AGENCY, "police", "")
TOWN_OFFICER = Principal(6, "town1", "街道综治中心", Role.OFFICER, None, TOWN)
VILLAGE_OFFICER = Principal(7, "village1", "社区网格员", Role.OFFICER, None, VILLAGE)
NEIGHBOUR = Principal(8, "other_district", "邻区值班员", Role.OFFICER, None, "330105")
DEVICE = Principal(9, "device1", "设备", Role.DEVICE, None, "")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: float) -> dt.datetime:
        self.now += dt.timedelta(minutes=minutes)
        return self.now


@dataclass
class Env:
    """One database with the services on it."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    writer: eventlog.EventWriter
    alarms: AlarmService
    catalogue: Catalogue
    clock: Clock
    service: IncidentService
    published: list[Event] = field(default_factory=list)

    def new_service(self, *, own_writer: bool = False) -> IncidentService:
        """Another service on the same database: a restart, or (``own_writer``) a second
        server, whose transactions are not serialized with this one's."""
        writer = (
            eventlog.EventWriter(self.sessions, self.published.extend)
            if own_writer
            else self.writer
        )
        return IncidentService(self.sessions, writer, self.catalogue, clock=self.clock)

    async def alarm(
        self, alarm_type: str = "hazmat_leak", title: str = "液氨槽车泄漏", jurisdiction: str = AREA
    ) -> AlarmView:
        return await self.alarms.create_manual(
            OFFICER,
            CreateAlarm(
                req="",
                alarm_type=alarm_type,
                level=AlarmLevel.RED,
                title=title,
                place="绕城高速文三路出口",
                lat=30.28,
                lon=120.12,
                jurisdiction=jurisdiction,
                caller_name="王师傅",
                caller_phone="13812345678",
            ),
        )


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[Env]:
    engine = db.create_engine(db_url)
    await db.migrate(engine)
    sessions = db.session_factory(engine)
    published: list[Event] = []
    writer = eventlog.EventWriter(sessions, published.extend)
    alarms = AlarmService(sessions, FieldCipher.generate(), writer)
    await alarms.seed_units(load_units_csv())
    catalogue = load_catalogue()
    clock = Clock()
    service = IncidentService(sessions, writer, catalogue, clock=clock)
    try:
        yield Env(engine, sessions, writer, alarms, catalogue, clock, service, published)
    finally:
        await service.stop()
        await engine.dispose()
