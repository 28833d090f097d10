"""The imported part of the tree in the database: read it, and write an import (with its
audited event) in one transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.eventlog import log as eventlog
from backend.jurisdictions.codes import LEVEL_LABELS, Level
from backend.jurisdictions.importer import Report, geojson_geometry, rings_of_geometry
from backend.jurisdictions.tree import Jurisdiction, JurisdictionTree
from backend.storage.models import JurisdictionRecord
from realtime.protocol import Event

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Saved:
    """What an import wrote."""

    added: int
    updated: int


async def load_imported(session: AsyncSession) -> list[Jurisdiction]:
    """Every imported town and village (a row whose outline cannot be read is skipped and
    logged)."""
    nodes: list[Jurisdiction] = []
    for record in await session.scalars(
        select(JurisdictionRecord).order_by(JurisdictionRecord.code)
    ):
        try:
            rings = rings_of_geometry(json.loads(record.boundary))
            level = Level(record.level)
        except (ValueError, TypeError) as exc:
            logger.warning(
                "jurisdiction %s: unreadable stored row (%s); not placed", record.code, exc
            )
            continue
        nodes.append(
            Jurisdiction(
                code=record.code,
                name=record.name,
                level=level,
                parent=record.parent,
                bbox=(record.min_lon, record.min_lat, record.max_lon, record.max_lat),
                source=record.source,
                rings=rings,
                imported_at=record.imported_at.isoformat(),
                imported_by=record.imported_by,
            )
        )
    return nodes


async def load_tree(sessions: async_sessionmaker[AsyncSession]) -> JurisdictionTree:
    """The whole tree: the basemap (read off the event loop) and the imported rows."""
    async with sessions() as session:
        imported = await load_imported(session)
    tree = JurisdictionTree(imported)
    await asyncio.to_thread(tree.load)
    return tree


def summary(report: Report) -> str:
    """``12 镇街, 30 村社`` — what a report accepts, by level."""
    counts = report.counts()
    return ", ".join(
        f"{counts[level]} {LEVEL_LABELS[level]}" for level in Level if counts.get(level)
    )


async def save(session: AsyncSession, events: list[Event], report: Report, *, actor: str) -> Saved:
    """Insert or update the report's accepted jurisdictions and append the audited
    ``jurisdictions.imported`` event to ``events``, in the caller's transaction (an
    :class:`~backend.eventlog.log.EventWriter` work function)."""
    nodes = report.accepted
    now = dt.datetime.now(dt.UTC)
    codes = [node.code for node in nodes]
    existing = {
        record.code: record
        for record in await session.scalars(
            select(JurisdictionRecord).where(JurisdictionRecord.code.in_(codes))
        )
    }
    added = updated = 0
    for node in nodes:
        record = existing.get(node.code)
        if record is None:
            record = JurisdictionRecord(code=node.code)
            session.add(record)
            added += 1
        else:
            updated += 1
        record.parent = node.parent
        record.level = node.level.value
        record.name = node.name
        record.boundary = json.dumps(
            geojson_geometry(report.polygons[node.code]), separators=(",", ":")
        )
        record.min_lon, record.min_lat, record.max_lon, record.max_lat = node.bbox
        record.source = report.source
        record.imported_at = now
        record.imported_by = actor
    event = await eventlog.append(
        session,
        kind=eventlog.EventKind.JURISDICTIONS_IMPORTED,
        actor=actor,
        note=f"导入 {report.source}：{summary(report) or '0'}（新增 {added}，更新 {updated}，"
        f"问题 {len(report.problems)}）",
        at=now,
    )
    events.append(event)
    return Saved(added=added, updated=updated)
