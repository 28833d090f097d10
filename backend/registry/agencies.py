"""The agencies: the codes that users, units and cameras name, with the names consoles
show (消防救援 rather than ``fire``).

Seeded by the migration that created the table (r0010) with the usual agencies and those
the sample registry uses; ``dutydesk agency add/disable`` keeps the list. A disabled
agency stays (its history names it) but no new user may join it.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.storage.models import Agency
from realtime.protocol import AgencyView

logger = logging.getLogger(__name__)

_CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class Error(Exception):
    """An agency operation was refused; the message says why."""


def _view(agency: Agency) -> AgencyView:
    return AgencyView(
        code=agency.code,
        name_zh=agency.name_zh,
        name_en=agency.name_en,
        kind=agency.kind,
        active=agency.active,
    )


async def active_agency(session: AsyncSession, code: str) -> AgencyView | None:
    """The active agency ``code`` in the caller's transaction, or None."""
    agency = await session.get(Agency, code)
    return _view(agency) if agency is not None and agency.active else None


class AgencyRegistry:
    """Lists, adds and disables agencies."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def list(self, *, include_disabled: bool = False) -> list[AgencyView]:
        """Every agency (active ones unless ``include_disabled``), by code."""
        async with self._sessions() as session:
            query = select(Agency).order_by(Agency.code)
            if not include_disabled:
                query = query.where(Agency.active.is_(True))
            return [_view(agency) for agency in await session.scalars(query)]

    async def get(self, code: str) -> AgencyView | None:
        """The active agency ``code``, or None."""
        async with self._sessions() as session:
            return await active_agency(session, code)

    async def add(
        self, code: str, name_zh: str, *, name_en: str = "", kind: str = ""
    ) -> AgencyView:
        """Add an agency, or bring a disabled one back with these names."""
        code = code.strip()
        if not _CODE_RE.match(code):
            raise Error(
                f"agency code {code!r} must be a lower-case code of up to 32 letters, digits, "
                "'-' or '_' (like 'fire')"
            )
        name_zh = name_zh.strip()
        if not name_zh or len(name_zh) > 64:
            raise Error("an agency needs a Chinese name of 1 to 64 characters")
        async with self._sessions.begin() as session:
            agency = await session.get(Agency, code)
            if agency is not None and agency.active:
                raise Error(f"agency {code} already exists")
            if agency is None:
                agency = Agency(code=code)
                session.add(agency)
            agency.name_zh = name_zh
            agency.name_en = name_en.strip()
            agency.kind = kind.strip()
            agency.active = True
            await session.flush()
            view = _view(agency)
        logger.info("agency %s (%s) added", code, name_zh)
        return view

    async def disable(self, code: str) -> None:
        """Disable an agency: no new user may join it (existing rows keep naming it)."""
        async with self._sessions.begin() as session:
            agency = await session.get(Agency, code)
            if agency is None or not agency.active:
                raise Error(f"no active agency {code!r}")
            agency.active = False
        logger.info("agency %s disabled", code)
