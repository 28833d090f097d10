"""The assessment (量化考核) as a table and as an Excel workbook, for the command line and
the console alike (no Qt, no database: it takes :class:`AssessmentResult` structs).

:data:`COLUMNS` are the table's columns with their Chinese and English headings;
:func:`write_workbook` writes a sheet per result (the figures, the score's parts and the
rank; formatted, frozen header, a bar chart of the scores) and a "公式" (Formula) sheet
stating the formula.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from realtime.protocol.assessment import AssessmentBy, AssessmentResult, AssessmentRow, Better

Lang = Literal["zh", "en"]
Value = int | float | str | None

TIME_FORMAT = "0.0"
RATE_FORMAT = "0.0%"
SCORE_FORMAT = "0.00"
COUNT_FORMAT = "0"


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the assessment table."""

    key: str
    zh: str
    en: str
    number_format: str | None
    value: Callable[[AssessmentRow], Value]

    def heading(self, lang: Lang) -> str:
        """The column's heading in ``lang``."""
        return self.zh if lang == "zh" else self.en


def _count(name: str) -> Callable[[AssessmentRow], Value]:
    return lambda row: int(getattr(row.figures, name))


def _time(name: str) -> Callable[[AssessmentRow], Value]:
    return lambda row: _minutes(getattr(row.figures, name))


COLUMNS: tuple[Column, ...] = (
    Column("rank", "排名", "Rank", COUNT_FORMAT, lambda row: row.rank),
    Column("key", "代码", "Code", None, lambda row: row.key),
    Column("name", "名称", "Name", None, lambda row: row.name),
    Column("score", "得分", "Score", SCORE_FORMAT, lambda row: row.score),
    Column("received", "接收任务", "Tasks received", COUNT_FORMAT, _count("tasks_received")),
    Column("handled", "办结任务", "Tasks done", COUNT_FORMAT, _count("tasks_handled")),
    Column("accept_p50", "签收中位(分)", "Accept p50 (min)", TIME_FORMAT, _time("accept_p50_s")),
    Column("accept_p90", "签收P90(分)", "Accept p90 (min)", TIME_FORMAT, _time("accept_p90_s")),
    Column("arrive_p50", "到场中位(分)", "Arrive p50 (min)", TIME_FORMAT, _time("arrive_p50_s")),
    Column("arrive_p90", "到场P90(分)", "Arrive p90 (min)", TIME_FORMAT, _time("arrive_p90_s")),
    Column("finish_p50", "办结中位(分)", "Finish p50 (min)", TIME_FORMAT, _time("finish_p50_s")),
    Column("finish_p90", "办结P90(分)", "Finish p90 (min)", TIME_FORMAT, _time("finish_p90_s")),
    Column("opened", "事件数", "Incidents", COUNT_FORMAT, _count("incidents_opened")),
    Column("closed", "结案数", "Closed", COUNT_FORMAT, _count("incidents_closed")),
    Column("close_p50", "结案中位(分)", "Close p50 (min)", TIME_FORMAT, _time("close_p50_s")),
    Column("close_p90", "结案P90(分)", "Close p90 (min)", TIME_FORMAT, _time("close_p90_s")),
    Column("overdue", "超时", "Overdue", COUNT_FORMAT, _count("overdue")),
    Column("escalations", "升级", "Escalations", COUNT_FORMAT, _count("escalations")),
    Column("supervisions", "督办", "Supervised", COUNT_FORMAT, _count("supervisions")),
    Column("answered", "督办已回复", "Answered", COUNT_FORMAT, _count("supervisions_answered")),
    Column(
        "feedback_rate",
        "反馈率",
        "Feedback rate",
        RATE_FORMAT,
        lambda row: row.figures.feedback_rate,
    ),
)
"""The table's columns, in order."""

SHEET_TITLES = {
    AssessmentBy.JURISDICTION: {"zh": "按辖区", "en": "By jurisdiction"},
    AssessmentBy.AGENCY: {"zh": "按单位", "en": "By agency"},
}
FORMULA_SHEET = {"zh": "公式", "en": "Formula"}
ZONE_NAMES = {"Asia/Shanghai": {"zh": "北京时间", "en": "Beijing time"}}
"""Time zones by the name a reader knows; any other zone is shown by its IANA name."""
_TEXTS = {
    "zh": {
        "title": "量化考核 {period}（{by}，{under}）",
        "range": "统计区间：{starts} 至 {ends}（不含，{zone}）",
        "parts": "得分：{label}",
        "chart": "得分",
        "formula": "得分 = Σ 权重 × 比例；越高越好：比例 = min(值/上限, 1)；越低越好："
        "比例 = max(1 − 值/上限, 0)；无数据：比例 = 缺值得分。时长以分钟计。",
        "ties": "同分时依次按办结任务数、接收任务数（多者在前）、代码排序。",
        Better.HIGHER: "越高越好",
        Better.LOWER: "越低越好",
    },
    "en": {
        "title": "Assessment {period} ({by}, {under})",
        "range": "Period: {starts} to {ends} (exclusive, {zone})",
        "parts": "Points: {label}",
        "chart": "Score",
        "formula": "score = Σ weight × share; higher is better: share = min(value / cap, 1); "
        "lower is better: share = max(1 − value / cap, 0); no value: share = missing. "
        "Times are in minutes.",
        "ties": "Equal scores: more tasks done first, then more tasks received, then by code.",
        Better.HIGHER: "higher",
        Better.LOWER: "lower",
    },
}

_TERM_HEADINGS = {
    "zh": ("指标", "名称", "权重", "方向", "上限", "缺值得分"),
    "en": ("Figure", "Label", "Weight", "Better", "Cap", "Missing"),
}

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_THIN = Side(style="thin", color="B4C6E7")
_FORMULA_STARTS = ("=", "+", "-", "@")
HEADER_ROW = 4
"""The row of the column headings (the title and the period above it)."""


def text_width(text: str) -> int:
    """How many columns ``text`` takes in a terminal or a spreadsheet (CJK count two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def cell_text(value: Value, number_format: str | None) -> str:
    """A value as the printed table shows it (``—`` for none)."""
    if value is None:
        return "—"
    if isinstance(value, float) and number_format == RATE_FORMAT:
        return f"{value:.1%}"
    if isinstance(value, float) and number_format == SCORE_FORMAT:
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _local(value: dt.datetime, zone: str) -> str:
    return value.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def part_headings(result: AssessmentResult, lang: Lang = "zh") -> list[str]:
    """The headings of the score's parts, one per term of the formula (``得分：办结率``)."""
    return [
        str(_TEXTS[lang]["parts"]).format(label=term.label or term.figure)
        for term in result.formula
    ]


def table_cells(result: AssessmentResult, lang: Lang = "zh") -> list[list[str]]:
    """The table as text: the headings, then per row its figures and its score's parts."""
    cells = [[column.heading(lang) for column in COLUMNS] + part_headings(result, lang)]
    for row in result.rows:
        line = [cell_text(column.value(row), column.number_format) for column in COLUMNS]
        cells.append(line + [cell_text(part.points, SCORE_FORMAT) for part in row.parts])
    return cells


def title_lines(result: AssessmentResult, lang: Lang = "zh") -> tuple[str, str]:
    """The table's title and the line stating its period."""
    texts = _TEXTS[lang]
    title = str(texts["title"]).format(
        period=result.period,
        by=SHEET_TITLES[result.by][lang],
        under=result.under_name or result.under or "—",
    )
    span = str(texts["range"]).format(
        starts=_local(result.starts, result.time_zone),
        ends=_local(result.ends, result.time_zone),
        zone=ZONE_NAMES.get(result.time_zone, {}).get(lang, result.time_zone),
    )
    return title, span


def _put(cell: Cell, value: Value) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        cell.data_type = "s"  # a name is text, never a formula Excel would run


def _sheet(book: Workbook, result: AssessmentResult, lang: Lang) -> Worksheet:
    sheet = book.create_sheet()
    base = SHEET_TITLES[result.by][lang]
    sheet.title = base if base not in book.sheetnames else f"{base} {len(book.sheetnames)}"
    title, span = title_lines(result, lang)
    sheet["A1"] = title
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = span
    headings = [column.heading(lang) for column in COLUMNS]
    headings += part_headings(result, lang)
    formats = [column.number_format for column in COLUMNS] + [SCORE_FORMAT] * len(result.formula)
    widths = [text_width(heading) for heading in headings]
    for index, heading in enumerate(headings, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=heading)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for offset, row in enumerate(result.rows, start=1):
        values: list[Value] = [column.value(row) for column in COLUMNS]
        values += [part.points for part in row.parts]
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=HEADER_ROW + offset, column=index)
            _put(cell, value)
            if formats[index - 1] is not None and value is not None:
                cell.number_format = formats[index - 1] or "General"
            cell.border = Border(bottom=_THIN)
            widths[index - 1] = max(
                widths[index - 1], text_width(cell_text(value, formats[index - 1]))
            )
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 40)
    # The headings and the rank, code and name stay in view while scrolling.
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=4)
    if result.rows:
        _chart(sheet, result, lang)
    return sheet


def _chart(sheet: Worksheet, result: AssessmentResult, lang: Lang) -> None:
    first, last = HEADER_ROW + 1, HEADER_ROW + len(result.rows)
    score_column = 1 + [column.key for column in COLUMNS].index("score")
    name_column = 1 + [column.key for column in COLUMNS].index("name")
    chart = BarChart()
    chart.type = "bar"
    chart.title = str(_TEXTS[lang]["chart"])
    chart.legend = None
    chart.y_axis.title = str(_TEXTS[lang]["chart"])
    chart.add_data(
        Reference(sheet, min_col=score_column, min_row=HEADER_ROW, max_row=last),
        titles_from_data=True,
    )
    chart.set_categories(Reference(sheet, min_col=name_column, min_row=first, max_row=last))
    chart.x_axis.scaling.orientation = "maxMin"  # rank 1 at the top
    chart.height = max(7.5, 0.6 * len(result.rows) + 2)
    chart.width = 18
    sheet.add_chart(chart, f"B{last + 3}")


def _formula_sheet(book: Workbook, result: AssessmentResult, lang: Lang) -> None:
    texts = _TEXTS[lang]
    sheet = book.create_sheet(FORMULA_SHEET[lang])
    sheet["A1"] = result.formula_name or FORMULA_SHEET[lang]
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = str(texts["formula"])
    sheet["A3"] = str(texts["ties"])
    for index, heading in enumerate(_TERM_HEADINGS[lang], start=1):
        cell = sheet.cell(row=5, column=index, value=heading)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for offset, term in enumerate(result.formula, start=6):
        values: list[Value] = [
            term.figure,
            term.label,
            term.weight,
            str(texts[term.better]),
            term.cap,
            term.missing,
        ]
        for index, value in enumerate(values, start=1):
            _put(sheet.cell(row=offset, column=index), value)
    total = 6 + len(result.formula)
    sheet.cell(row=total, column=2, value="Σ").font = Font(bold=True)
    sheet.cell(row=total, column=3, value=sum(term.weight for term in result.formula))
    for letter, width in zip("ABCDEF", (26, 24, 8, 12, 8, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A6"


def build_workbook(results: Sequence[AssessmentResult], lang: Lang = "zh") -> Workbook:
    """A workbook with a sheet per result and the formula sheet (of the first result)."""
    if not results:
        raise ValueError("no assessment to write")
    book = Workbook()
    if book.active is not None:
        book.remove(book.active)  # the empty default sheet
    for result in results:
        _sheet(book, result, lang)
    _formula_sheet(book, results[0], lang)
    return book


def write_workbook(path: Path, results: Sequence[AssessmentResult], lang: Lang = "zh") -> None:
    """Write the workbook to ``path`` (blocking: call it off the event loop)."""
    build_workbook(results, lang).save(path)
