"""The newest events of a time window that one user may see (``events.recent``).

The log is read backwards by ``seq`` (its primary key) in pages, so the answer costs the
window's events, not the whole log; ``at`` is the time of writing and grows with ``seq``,
so the first page wholly older than the window ends the walk. A window of millions of
events the user may not see is cut at :data:`SCAN_LIMIT` records read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.eventlog.log import event_of_record
from backend.storage.models import EventRecord
from backend.storage.types import as_utc
from realtime.protocol import Event

PAGE = 500
"""Records read per query."""
SCAN_LIMIT = 50_000
"""Most records read for one answer (the rest of the window counts as ``more``)."""
BYTE_BUDGET = 8 * 1024 * 1024
"""Most bytes of events in one answer: well inside the 16 MiB a client accepts, however
large the events of the window are (the rest counts as ``more``)."""


async def newest_since(
    session: AsyncSession,
    since: dt.datetime,
    limit: int,
    keep: Callable[[Event], bool],
    *,
    page: int = PAGE,
    scan_limit: int = SCAN_LIMIT,
    byte_budget: int | None = None,
) -> tuple[list[Event], bool]:
    """Return the newest ``limit`` events at or after ``since`` that ``keep`` allows,
    oldest first, and whether older ones of the window were left out (the limit, the
    ``byte_budget`` (default :data:`BYTE_BUDGET`) or the scan limit reached)."""
    budget = BYTE_BUDGET if byte_budget is None else byte_budget
    kept: list[Event] = []
    before: int | None = None
    scanned = 0
    size = 0
    while scanned < scan_limit:
        query = select(EventRecord).order_by(EventRecord.seq.desc()).limit(page)
        if before is not None:
            query = query.where(EventRecord.seq < before)
        records = list(await session.scalars(query))
        if not records:
            break
        scanned += len(records)
        in_window = False
        for record in records:
            before = record.seq
            if as_utc(record.at) < since:
                continue
            in_window = True
            event = event_of_record(record)
            if not keep(event):
                continue
            size += len(record.payload.encode("utf-8"))
            if len(kept) == limit or size > budget:
                return kept[::-1], True
            kept.append(event)
        if not in_window:
            return kept[::-1], False
    return kept[::-1], scanned >= scan_limit
