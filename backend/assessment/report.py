"""One assessment: the figures of each group from the database, named, scored and ranked.

Used by ``dutydesk report assessment`` and the server's ``report.assessment`` (which
checks the user's scope first and passes it in ``area`` and ``agency``).
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.assessment import figures as figures_sql
from backend.assessment.formula import Formula, rank
from backend.assessment.periods import TIME_ZONE, Period
from backend.jurisdictions.codes import contains
from backend.jurisdictions.tree import JurisdictionTree
from backend.storage.models import Agency
from realtime.protocol.assessment import AssessmentBy, AssessmentFigures, AssessmentResult

logger = logging.getLogger(__name__)

OWN_LEVEL = "(本级)"
"""Appended to the name of the row of objects placed in ``under`` itself, not below it."""


async def assess(
    sessions: async_sessionmaker[AsyncSession],
    *,
    period: Period,
    by: AssessmentBy,
    under: str,
    formula: Formula,
    tree: JurisdictionTree | None = None,
    agency: str | None = None,
) -> AssessmentResult:
    """The ranked assessment of ``period``.

    ``by`` jurisdiction: one row per child of ``under`` in ``tree`` (each, even with
    nothing to count; ``under`` itself when it has none), plus any other code the data
    holds below ``under`` (such as ``under`` itself). ``by`` agency: one row per active
    agency (or only ``agency``) plus any other agency the tasks name, counting the tasks
    in ``under``. ``agency`` limits
    every figure to that agency's tasks and the incidents shared with it.
    """
    started = time.perf_counter()
    children = [node.code for node in tree.children(under)] if tree is not None else []
    grouping = figures_sql.Grouping(by=by, area=under, children=children, agency=agency)
    async with sessions() as session:
        found = await figures_sql.compute(session, grouping, period)
        if by is AssessmentBy.AGENCY:
            names = await _agency_names(session)
            expected = [agency] if agency is not None else sorted(names)
        else:
            names = {}
            # A jurisdiction with nothing below it in the tree is its own one row.
            expected = children or [under]
    groups: list[tuple[str, str, AssessmentFigures]] = []
    for key in expected:
        groups.append(
            (key, _name(key, by, under, tree, names), found.pop(key, AssessmentFigures()))
        )
    for key in sorted(found):
        if by is AssessmentBy.JURISDICTION and not contains(under, key):
            continue
        groups.append((key, _name(key, by, under, tree, names), found[key]))
    rows = rank(formula.terms, groups)
    under_node = tree.get(under) if tree is not None else None
    logger.info(
        "assessment %s by %s under %r: %d rows in %.2f s",
        period.label,
        by,
        under,
        len(rows),
        time.perf_counter() - started,
    )
    return AssessmentResult(
        period=period.label,
        by=by,
        under=under,
        under_name=under_node.name if under_node is not None else (under or "全部"),
        starts=period.starts,
        ends=period.ends,
        time_zone=TIME_ZONE,
        formula=list(formula.terms),
        formula_name=formula.name,
        rows=rows,
    )


async def _agency_names(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(sa.select(Agency.code, Agency.name_zh).where(Agency.active))
    return {str(row.code): str(row.name_zh) for row in rows}


def _name(
    key: str,
    by: AssessmentBy,
    under: str,
    tree: JurisdictionTree | None,
    agencies: dict[str, str],
) -> str:
    if by is AssessmentBy.AGENCY:
        return agencies.get(key, key)
    node = tree.get(key) if tree is not None else None
    name = node.name if node is not None else key
    return name + OWN_LEVEL if key == under else name
