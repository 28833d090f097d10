"""The stored road layer: written whole by an import, read by box for ``roads.get`` and
whole for the recommendation's road graph (rebuilt when the layer changes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.recommend.travel import RoadTravel
from backend.roads.graph import build_graph, simplify
from backend.roads.reader import RoadSegment
from backend.storage.models import RoadSegmentRow
from realtime.protocol import (
    ROAD_CLASS_ORDER,
    GetRoads,
    RoadClass,
    RoadClassLines,
    RoadLine,
    RoadsResult,
)

logger = logging.getLogger(__name__)

BATCH = 2_000
"""Rows written per insert (and segments read per step off the loop)."""

_POINTS = msgspec.json.Decoder(list[float])


class Error(Exception):
    """The layer cannot be stored (a file with no road would only erase the stored one)."""


def _row(segment: RoadSegment, source: str) -> dict[str, object]:
    lats = [point[0] for point in segment.points]
    lons = [point[1] for point in segment.points]
    flat = [round(value, 6) for point in segment.points for value in point]
    return {
        "road_class": segment.road_class.value,
        "rank": segment.road_class.rank,
        "highway": segment.highway[:32],
        "name": segment.name[:200],
        "name_zh": segment.name_zh[:200],
        "ref": segment.ref[:64],
        "oneway": segment.oneway,
        "maxspeed": segment.maxspeed,
        "points": msgspec.json.encode(flat).decode(),
        "min_lat": min(lats),
        "max_lat": max(lats),
        "min_lon": min(lons),
        "max_lon": max(lons),
        "source": source[:200],
    }


def _next_batch(segments: Iterator[RoadSegment]) -> list[RoadSegment]:
    batch: list[RoadSegment] = []
    for segment in segments:
        batch.append(segment)
        if len(batch) >= BATCH:
            break
    return batch


async def replace_layer(
    sessions: async_sessionmaker[AsyncSession],
    segments: Iterator[RoadSegment],
    *,
    source: str,
    dry_run: bool = False,
) -> int:
    """Replace the stored layer with ``segments`` (read off the loop, in batches) in one
    transaction: a file that fails half-way, or holds no road (:class:`Error`), leaves the
    old layer as it was. Return the count; ``dry_run`` reads and checks all of it and
    writes nothing."""
    count = 0
    async with sessions() as session, session.begin():
        if not dry_run:
            await session.execute(delete(RoadSegmentRow))
        while batch := await asyncio.to_thread(_next_batch, segments):
            if not dry_run:
                await session.execute(insert(RoadSegmentRow), [_row(s, source) for s in batch])
            count += len(batch)
        if count == 0:
            raise Error(f"{source} holds no road (highway=*): the stored layer is kept")
        if dry_run:
            await session.rollback()
    return count


@dataclass(frozen=True, slots=True)
class _Layer:
    version: tuple[int, int | None]
    travel: RoadTravel | None


class RoadService:
    """Answers ``roads.get`` and gives the recommendation its road travel model."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._layer: _Layer | None = None
        self._building = asyncio.Lock()

    async def roads(self, command: GetRoads) -> RoadsResult:
        """The roads crossing the box, major classes first, simplified, size-limited."""
        table = RoadSegmentRow.__table__
        query = (
            select(
                table.c.road_class,
                table.c.name,
                table.c.name_zh,
                table.c.oneway,
                table.c.points,
                table.c.source,
            )
            .where(
                table.c.rank <= command.min_class.rank,
                table.c.max_lat >= command.min_lat,
                table.c.min_lat <= command.max_lat,
                table.c.max_lon >= command.min_lon,
                table.c.min_lon <= command.max_lon,
            )
            .order_by(table.c.rank, table.c.id)
            # Every road has two vertices or more: no answer needs more rows than this.
            .limit(command.max_points // 2 + 1)
        )
        async with self._sessions() as session:
            rows = [tuple(row) for row in await session.execute(query)]
        return await asyncio.to_thread(_answer, rows, command)

    async def travel(self) -> RoadTravel | None:
        """The road travel model of the stored layer (``None`` when no layer is loaded);
        built once, again after an import changed the layer."""
        table = RoadSegmentRow.__table__
        async with self._sessions() as session:
            count, newest = (
                await session.execute(select(func.count(), func.max(table.c.id)))
            ).one()
        version = (int(count), newest)
        async with self._building:
            if self._layer is not None and self._layer.version == version:
                return self._layer.travel
            travel = None
            if count:
                async with self._sessions() as session:
                    rows = (
                        await session.execute(
                            select(table.c.points, table.c.road_class, table.c.maxspeed)
                        )
                    ).all()
                graph = await asyncio.to_thread(
                    build_graph,
                    ((_POINTS.decode(p), RoadClass(c), m) for p, c, m in rows),
                )
                logger.info("road graph built: %s roads, %s nodes", len(rows), len(graph.lat))
                travel = RoadTravel(graph)
            self._layer = _Layer(version, travel)
            return travel


def _answer(rows: Sequence[tuple[Any, ...]], command: GetRoads) -> RoadsResult:
    by_class: dict[RoadClass, list[RoadLine]] = {}
    budget = command.max_points
    truncated = False
    source = ""
    for road_class, name, name_zh, oneway, text, row_source in rows:
        points = simplify(_POINTS.decode(text), command.tolerance_m)
        vertices = len(points) // 2
        if vertices > budget:
            truncated = True
            break
        budget -= vertices
        source = source or row_source
        by_class.setdefault(RoadClass(road_class), []).append(
            RoadLine(name=name_zh or name, points=points, oneway=oneway != 0)
        )
    return RoadsResult(
        classes=[
            RoadClassLines(road_class=kind, lines=by_class[kind])
            for kind in ROAD_CLASS_ORDER
            if kind in by_class
        ],
        truncated=truncated,
        source=source,
    )
