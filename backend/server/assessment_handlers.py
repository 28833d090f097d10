"""``report.assessment``: the quantified assessment (量化考核) over the console connection.

The scope rule of :attr:`~backend.authz.policy.Permission.SEE_ASSESSMENT`: the rows are
jurisdictions inside the user's area (``under`` defaults to it; a code outside it is
refused exactly like one that does not exist), agencies' work counted inside that area,
and a user of an agency sees only its agency's work. The formula is the shipped default,
or the file ``$DUTYDESK_ASSESSMENT_FORMULA`` names (read at each request, so an edited
formula applies without a restart).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from backend.assessment.formula import Error as FormulaError
from backend.assessment.formula import load_formula
from backend.assessment.periods import parse_period
from backend.assessment.report import assess
from backend.authz import policy as authz
from backend.errors import ValidationError
from backend.jurisdictions import codes
from realtime.protocol import AssessmentResult, GetAssessment

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer
    from backend.server.handlers import ConsoleContext

FORMULA_ENVIRONMENT_VARIABLE = "DUTYDESK_ASSESSMENT_FORMULA"
"""A formula file (JSON or TOML) the server scores with instead of the shipped default."""

CONCURRENT_REPORTS = 2
"""Reports computed at once per server; more wait their turn, so a burst of quarter
reports (a second or so of database work each) never crowds out the live work."""

_gates: weakref.WeakKeyDictionary[DutyDeskServer, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _gate(server: DutyDeskServer) -> asyncio.Semaphore:
    gate = _gates.get(server)
    if gate is None:
        gate = _gates[server] = asyncio.Semaphore(CONCURRENT_REPORTS)
    return gate


async def assessment(ctx: ConsoleContext, command: GetAssessment) -> AssessmentResult:
    """The ranked figures of a month or a quarter, scoped to the asking user."""
    principal = ctx.principal
    period = parse_period(command.period)
    try:
        under = codes.normalize(command.under) if command.under.strip() else ""
    except ValidationError:
        raise authz.hidden("jurisdiction") from None
    under = under or principal.jurisdiction
    tree = ctx.server.jurisdictions
    if not authz.in_jurisdiction(principal, under) or (under and tree.get(under) is None):
        raise authz.hidden("jurisdiction")
    formula_file = os.environ.get(FORMULA_ENVIRONMENT_VARIABLE)
    try:
        formula = await asyncio.to_thread(
            load_formula, Path(formula_file) if formula_file else None
        )
    except FormulaError as exc:
        raise ValidationError(f"the server's assessment formula: {exc}") from exc
    # Reading a province's districts is blocking: off the loop, before the report.
    await asyncio.to_thread(tree.children, under)
    async with _gate(ctx.server):
        return await assess(
            ctx.server.sessions,
            period=period,
            by=command.by,
            under=under,
            formula=formula,
            tree=tree,
            agency=principal.agency,
        )
