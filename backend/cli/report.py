"""``dutydesk report``: reports read from the database. ``report assessment`` prints the
quantified assessment (量化考核) of a month or a quarter and writes it to Excel."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from backend.assessment.formula import Error as FormulaError
from backend.assessment.formula import load_formula
from backend.assessment.periods import parse_period
from backend.assessment.report import assess
from backend.cli.common import (
    EXIT_OK,
    Error,
    Subparsers,
    add_storage_options,
    database,
    out,
)
from backend.errors import ValidationError
from backend.jurisdictions import store as jurisdiction_store
from realtime.assessment_book import (
    COLUMNS,
    Lang,
    table_cells,
    text_width,
    title_lines,
    write_workbook,
)
from realtime.protocol.assessment import AssessmentBy, AssessmentResult

_EXAMPLES = """examples:
  dutydesk report assessment --month 2026-11 --under 3301 --xlsx 2026-11考核.xlsx
  dutydesk report assessment --quarter 2026Q4 --by agency --lang en
  dutydesk report assessment --month 2026-11 --under 330106 --formula 我区公式.json
"""


def add_parser(commands: Subparsers) -> None:
    """Register ``report`` and its action ``assessment``."""
    report = commands.add_parser(
        "report", help="reports (the quantified assessment)", description="Reports."
    )
    actions = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    assessment = actions.add_parser(
        "assessment",
        help="the quantified assessment (量化考核) of a month or a quarter",
        description="Per jurisdiction (the children of --under) and per agency: tasks "
        "received and done, time to accept / arrive / finish and incidents' time to close "
        "(median, 90th percentile), overdue, escalations, supervision, feedback rate; the "
        "score from the formula and the rank. Periods run from midnight Asia/Shanghai. "
        "See docs/assessment.md.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    period = assessment.add_mutually_exclusive_group(required=True)
    period.add_argument("--month", metavar="YYYY-MM", help="a month, e.g. 2026-11")
    period.add_argument("--quarter", metavar="YYYYQn", help="a quarter, e.g. 2026Q4")
    assessment.add_argument(
        "--by",
        choices=[by.value for by in AssessmentBy],
        default=None,
        help="rows per jurisdiction or per agency (default: both, one table and sheet each)",
    )
    assessment.add_argument(
        "--under",
        metavar="CODE",
        default="",
        help="the jurisdiction whose children are the rows (a city: its districts; a "
        "district: its towns) and the area agencies are counted in (default: the whole "
        "area, by province)",
    )
    assessment.add_argument(
        "--xlsx", metavar="FILE", type=Path, help="also write an Excel workbook (with a chart)"
    )
    assessment.add_argument(
        "--formula",
        metavar="FILE",
        type=Path,
        help="the score's formula, JSON or TOML (default: "
        "resources/assessment/default_formula.json)",
    )
    assessment.add_argument(
        "--lang", choices=["zh", "en"], default="zh", help="headings' language (default: zh)"
    )
    add_storage_options(assessment)
    assessment.set_defaults(func=_cmd_assessment)


def _cmd_assessment(args: argparse.Namespace) -> int:
    try:
        period = parse_period(args.month or args.quarter)
        formula = load_formula(args.formula)
    except (ValidationError, FormulaError) as exc:
        raise Error(f"assessment: {exc}") from exc
    groupings = [AssessmentBy(args.by)] if args.by else list(AssessmentBy)

    async def run() -> list[AssessmentResult]:
        async with database(args) as sessions:
            tree = await jurisdiction_store.load_tree(sessions)
            try:
                under = tree.lookup(args.under).code if args.under.strip() else ""
            except ValidationError as exc:
                raise Error(f"assessment: --under: {exc}") from exc
            return [
                await assess(
                    sessions, period=period, by=by, under=under, formula=formula, tree=tree
                )
                for by in groupings
            ]

    results = asyncio.run(run())
    lang: Lang = args.lang
    for index, result in enumerate(results):
        if index:
            out("")
        for line in format_table(result, lang):
            out(line)
    if args.xlsx is not None:
        try:
            write_workbook(args.xlsx, results, lang)
        except OSError as exc:
            raise Error(f"cannot write {args.xlsx}: {exc.strerror or exc}") from exc
        out(f"written: {args.xlsx}")
    return EXIT_OK


def format_table(result: AssessmentResult, lang: Lang = "zh") -> list[str]:
    """The assessment as aligned text lines: title, period, headings, one line per row
    (the figures, then each term's points)."""
    title, span = title_lines(result, lang)
    cells = table_cells(result, lang)
    widths = [max(text_width(line[index]) for line in cells) for index in range(len(cells[0]))]
    text_columns = {index for index, column in enumerate(COLUMNS) if column.number_format is None}
    lines = [title, span]
    for line in cells:
        padded = []
        for index, text in enumerate(line):
            pad = " " * (widths[index] - text_width(text))
            padded.append(text + pad if index in text_columns else pad + text)
        lines.append("  ".join(padded).rstrip())
    return lines
