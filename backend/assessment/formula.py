"""The assessment's score and ranking (sans-I/O apart from reading the formula file).

A formula is a list of terms; each reads one figure of a row (:data:`FIGURES`) and gives
``weight × share`` points, the share being ``min(value / cap, 1)`` for a figure where
more is better and ``max(1 − value / cap, 0)`` for one where less is better; a figure
without a value (nothing was timed, nothing received) gives ``missing × weight``. The
score is the sum, rounded to 0.01. Rows are ranked by score, then by tasks handled, then
by tasks received (more first), then by code, so equal scores still get distinct ranks
and the same data always ranks the same way.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import msgspec

from realtime.protocol.assessment import (
    AssessmentFigures,
    AssessmentRow,
    Better,
    FormulaTerm,
    ScorePart,
)

DEFAULT_FORMULA = Path(__file__).resolve().parents[2] / "resources/assessment/default_formula.json"


class Error(Exception):
    """A formula file cannot be used; ``str()`` names the file and the entry."""


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60.0


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


FIGURES: dict[str, tuple[str, Callable[[AssessmentFigures], float | None]]] = {
    "handled_rate": ("办结率", lambda f: _ratio(f.tasks_handled, f.tasks_received)),
    "accept_p50_min": ("签收时长中位数(分)", lambda f: _minutes(f.accept_p50_s)),
    "accept_p90_min": ("签收时长P90(分)", lambda f: _minutes(f.accept_p90_s)),
    "arrive_p50_min": ("到场时长中位数(分)", lambda f: _minutes(f.arrive_p50_s)),
    "arrive_p90_min": ("到场时长P90(分)", lambda f: _minutes(f.arrive_p90_s)),
    "finish_p50_min": ("办结时长中位数(分)", lambda f: _minutes(f.finish_p50_s)),
    "finish_p90_min": ("办结时长P90(分)", lambda f: _minutes(f.finish_p90_s)),
    "close_p50_min": ("事件结案时长中位数(分)", lambda f: _minutes(f.close_p50_s)),
    "close_p90_min": ("事件结案时长P90(分)", lambda f: _minutes(f.close_p90_s)),
    "overdue_rate": ("超时率", lambda f: _ratio(f.overdue, f.tasks_received)),
    "escalation_rate": ("升级率", lambda f: _ratio(f.escalations, f.tasks_received)),
    "supervision_answer_rate": (
        "督办回复率",
        lambda f: _ratio(f.supervisions_answered, f.supervisions),
    ),
    "feedback_rate": ("反馈率", lambda f: f.feedback_rate),
    "tasks_received": ("接收任务数", lambda f: float(f.tasks_received)),
    "tasks_handled": ("办结任务数", lambda f: float(f.tasks_handled)),
    "incidents_opened": ("事件数", lambda f: float(f.incidents_opened)),
}
"""Every figure a formula may read: its Chinese label and how it comes from a row (times
in minutes, rates as fractions)."""


class Formula(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A formula file: ``{"name": "…", "terms": [{"figure", "weight", "better", "cap",
    "missing"?, "label"?}, …]}`` (JSON, or the same keys in TOML)."""

    name: str = ""
    terms: list[FormulaTerm]


def load_formula(path: Path | None = None) -> Formula:
    """Read and check a formula file (the shipped default without ``path``)."""
    path = path or DEFAULT_FORMULA
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8")) if path.suffix == ".toml" else json.loads(raw)
        formula = msgspec.convert(data, Formula)
    except OSError as exc:
        raise Error(f"cannot read the formula {path}: {exc.strerror or exc}") from exc
    except (ValueError, msgspec.ValidationError) as exc:
        raise Error(f"formula {path}: {exc}") from exc
    check_formula(formula, str(path))
    return formula


def check_formula(formula: Formula, where: str = "formula") -> None:
    """Refuse unknown figures, negative weights, caps ≤ 0, ``missing`` outside [0, 1]."""
    if not formula.terms:
        raise Error(f"{where}: no terms")
    for index, term in enumerate(formula.terms):
        at = f"{where}: terms[{index}] ({term.figure})"
        if term.figure not in FIGURES:
            raise Error(f"{at}: unknown figure; known: {', '.join(FIGURES)}")
        if not term.weight >= 0:
            raise Error(f"{at}: weight {term.weight} must be 0 or more")
        if not term.cap > 0:
            raise Error(f"{at}: cap {term.cap} must be more than 0")
        if not 0 <= term.missing <= 1:
            raise Error(f"{at}: missing {term.missing} must be between 0 and 1")
        if not term.label:
            term.label = FIGURES[term.figure][0]


def score_parts(terms: Sequence[FormulaTerm], figures: AssessmentFigures) -> list[ScorePart]:
    """Each term's points for one row."""
    parts: list[ScorePart] = []
    for term in terms:
        value = FIGURES[term.figure][1](figures)
        if value is None:
            share = term.missing
        elif term.better is Better.HIGHER:
            share = min(value / term.cap, 1.0)
        else:
            share = max(1.0 - value / term.cap, 0.0)
        parts.append(
            ScorePart(
                figure=term.figure,
                value=None if value is None else round(value, 4),
                points=round(term.weight * share, 2),
                weight=term.weight,
            )
        )
    return parts


def rank(
    terms: Sequence[FormulaTerm], groups: Iterable[tuple[str, str, AssessmentFigures]]
) -> list[AssessmentRow]:
    """Score and rank ``(key, name, figures)`` groups, best first (ranks 1, 2, …)."""
    rows = []
    for key, name, figures in groups:
        parts = score_parts(terms, figures)
        score = round(sum(part.points for part in parts), 2)
        rows.append(
            AssessmentRow(key=key, name=name, rank=0, score=score, parts=parts, figures=figures)
        )
    rows.sort(
        key=lambda row: (
            -row.score,
            -row.figures.tasks_handled,
            -row.figures.tasks_received,
            row.key,
        )
    )
    for position, row in enumerate(rows, start=1):
        row.rank = position
    return rows
