"""The quantified assessment (量化考核): the figures of each jurisdiction or agency for a
month or a quarter, the score the site's formula gives them, and their rank.

:class:`GetAssessment` (``report.assessment``) asks for it; the answer is an
:class:`AssessmentResult`. The server computes the figures in the database; this module
only describes them (docs/assessment.md says how each is counted).
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

from realtime.protocol.common import AwareDateTime, JurisdictionCode, Tagged

PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2])|Q[1-4])$"
"""A month (``2026-11``) or a quarter (``2026Q4``)."""

PeriodText = Annotated[str, msgspec.Meta(pattern=PERIOD_PATTERN)]


class AssessmentBy(enum.StrEnum):
    """What the rows of an assessment are."""

    JURISDICTION = "jurisdiction"
    """The jurisdictions directly below ``under`` (the districts of a city, the towns of
    a district)."""
    AGENCY = "agency"
    """The agencies (by the tasks sent to them)."""


class Better(enum.StrEnum):
    """Which way a figure earns points in the formula."""

    HIGHER = "higher"
    LOWER = "lower"


class GetAssessment(Tagged, tag="report.assessment"):
    """Ask for the assessment of a month or a quarter (periods are Asia/Shanghai time)."""

    req: str
    period: PeriodText
    by: AssessmentBy = AssessmentBy.JURISDICTION
    under: JurisdictionCode = ""
    """The jurisdiction whose children are the rows (``by`` jurisdiction), or the area the
    agencies' tasks are counted in (``by`` agency); ``""``: the user's own area."""


class AssessmentFigures(msgspec.Struct, kw_only=True):
    """What one jurisdiction or agency did in the period. Times are seconds (``None``
    when nothing was timed); percentiles are nearest-rank."""

    tasks_received: int = 0
    tasks_handled: int = 0
    accept_p50_s: float | None = None
    accept_p90_s: float | None = None
    arrive_p50_s: float | None = None
    arrive_p90_s: float | None = None
    finish_p50_s: float | None = None
    finish_p90_s: float | None = None
    incidents_opened: int = 0
    incidents_closed: int = 0
    close_p50_s: float | None = None
    close_p90_s: float | None = None
    closed_with_feedback: int = 0
    overdue: int = 0
    """Escalations a passed deadline caused (accept, arrive, finish)."""
    escalations: int = 0
    """Escalations of every cause (deadlines and returns)."""
    supervisions: int = 0
    supervisions_answered: int = 0
    feedback_rate: float | None = None
    """Closed incidents with feedback / closed incidents."""


class ScorePart(msgspec.Struct, kw_only=True):
    """One term of a row's score."""

    figure: str
    value: float | None
    """The figure the formula read (minutes for times, a fraction for rates)."""
    points: float
    weight: float


class AssessmentRow(msgspec.Struct, kw_only=True):
    """One ranked jurisdiction or agency."""

    key: str
    """The jurisdiction or agency code."""
    name: str
    rank: int
    score: float
    parts: list[ScorePart]
    figures: AssessmentFigures


class FormulaTerm(msgspec.Struct, kw_only=True):
    """One term of the formula: ``weight × share``, where the share of a ``higher``
    figure is ``min(value / cap, 1)`` and of a ``lower`` one ``max(1 − value / cap, 0)``;
    a figure without a value scores ``missing × weight``."""

    figure: str
    weight: float
    better: Better
    cap: float
    missing: float = 0.0
    label: str = ""


class AssessmentResult(msgspec.Struct, tag="assessment", kw_only=True):
    """The ranked assessment of a period, best first."""

    period: str
    by: AssessmentBy
    under: str
    under_name: str = ""
    starts: AwareDateTime
    ends: AwareDateTime
    """The period, ``[starts, ends)``, from midnight Asia/Shanghai."""
    time_zone: str = "Asia/Shanghai"
    formula: list[FormulaTerm]
    formula_name: str = ""
    rows: list[AssessmentRow]
