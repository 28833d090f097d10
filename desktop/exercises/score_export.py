"""An exercise's score as a table, an Excel workbook and an HTML page (no Qt).

The figures table compares this run with the original response and the earlier runs of
the same recording (one column each); the alarm table lists how each alarm of the run was
handled. Both exports are built from the :class:`~realtime.protocol.ExerciseScore` the
server sent, in Chinese or English; text cells are made safe for a spreadsheet and HTML is
escaped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from desktop.spreadsheet import spreadsheet_safe
from realtime.protocol import AlarmScore, ExerciseScore, ScoreFigures

Lang = Literal["zh", "en"]
Cell = int | float | str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One row of a table: its heading in both languages and how its value is read."""

    zh: str
    en: str
    value: Callable[[ScoreFigures], Cell]

    def heading(self, lang: Lang) -> str:
        """The heading in ``lang``."""
        return self.zh if lang == "zh" else self.en


def _seconds(name: str) -> Callable[[ScoreFigures], Cell]:
    def read(figures: ScoreFigures) -> Cell:
        value = getattr(figures, name)
        return None if value is None else round(float(value), 1)

    return read


FIGURE_ROWS: tuple[Row, ...] = (
    Row("得分", "Score", lambda f: round(f.score, 1)),
    Row("报警数", "Alarms", lambda f: f.alarms),
    Row("已确认", "Acknowledged", lambda f: f.acknowledged),
    Row("漏确认", "Missed", lambda f: f.missed),
    Row("超时确认", "Late", lambda f: f.late),
    Row("确认用时中位数(秒)", "Acknowledge median (s)", _seconds("acknowledge_p50_s")),
    Row("确认用时最长(秒)", "Acknowledge longest (s)", _seconds("acknowledge_max_s")),
    Row("调派用时中位数(秒)", "Dispatch median (s)", _seconds("dispatch_p50_s")),
    Row("到场用时中位数(秒)", "Arrival median (s)", _seconds("arrive_p50_s")),
    Row("办结用时中位数(秒)", "Close median (s)", _seconds("close_p50_s")),
    Row("任务数", "Tasks", lambda f: f.tasks),
    Row("超时任务", "Tasks overdue", lambda f: f.tasks_overdue),
)

ALARM_HEADINGS: dict[Lang, tuple[str, ...]] = {
    "zh": (
        "报警",
        "级别",
        "类型",
        "设备",
        "发生(秒)",
        "确认(秒)",
        "调派(秒)",
        "到场(秒)",
        "办结(秒)",
        "超时",
        "漏确认",
    ),
    "en": (
        "Alarm",
        "Level",
        "Type",
        "Device",
        "Raised (s)",
        "Acknowledge (s)",
        "Dispatch (s)",
        "Arrival (s)",
        "Close (s)",
        "Late",
        "Missed",
    ),
}


def column_titles(score: ExerciseScore, lang: Lang) -> list[str]:
    """The compared responses: this run, the original, then each earlier run."""
    titles = ["本次" if lang == "zh" else "This run"]
    if score.original is not None:
        titles.append("原始处置" if lang == "zh" else "Original")
    for earlier in score.earlier:
        when = earlier.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
        titles.append(f"{when} · {earlier.speed:g}×")
    return titles


def figure_table(score: ExerciseScore, lang: Lang) -> list[list[Cell]]:
    """Rows of (heading, this run, original, earlier runs…)."""
    compared = [score.figures]
    if score.original is not None:
        compared.append(score.original)
    compared.extend(earlier.figures for earlier in score.earlier)
    return [
        [row.heading(lang), *(row.value(figures) for figures in compared)] for row in FIGURE_ROWS
    ]


def alarm_row(alarm: AlarmScore, lang: Lang) -> list[Cell]:
    """One alarm's cells, as :data:`ALARM_HEADINGS` names them."""
    yes, no = ("是", "") if lang == "zh" else ("yes", "")

    def seconds(value: float | None) -> Cell:
        return None if value is None else round(value, 1)

    return [
        alarm.title,
        alarm.level,
        alarm.alarm_type,
        alarm.device,
        seconds(alarm.raised_offset_s),
        seconds(alarm.acknowledge_s),
        seconds(alarm.dispatch_s),
        seconds(alarm.arrive_s),
        seconds(alarm.close_s),
        yes if alarm.late else no,
        yes if alarm.missed else no,
    ]


def heading_lines(score: ExerciseScore, lang: Lang) -> list[str]:
    """The title and what the figures are (so far, or final)."""
    if lang == "zh":
        state = "最终成绩" if score.ended else "进行中(截至目前)"
        return [f"演练评分 · {score.title}", f"{score.run_id} · {score.recording} · {state}"]
    state = "final" if score.ended else "so far (the run goes on)"
    return [f"Exercise score · {score.title}", f"{score.run_id} · {score.recording} · {state}"]


def _safe(value: Cell) -> Cell:
    return spreadsheet_safe(value) if isinstance(value, str) else value


def write_workbook(path: Path, score: ExerciseScore, lang: Lang = "zh") -> None:
    """Write the score to an .xlsx file (blocking: it is small)."""
    book = Workbook()
    sheet = book.active if book.active is not None else book.create_sheet()
    sheet.title = "评分" if lang == "zh" else "Score"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FDE3C8")
    for line in heading_lines(score, lang):
        sheet.append([_safe(line)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    header = ["", *column_titles(score, lang)]
    sheet.append([_safe(cell) for cell in header])
    for cell in sheet[sheet.max_row]:
        cell.font, cell.fill = bold, fill
    for row in figure_table(score, lang):
        sheet.append([_safe(cell) for cell in row])
    sheet.column_dimensions["A"].width = 24
    for index in range(2, len(header) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 18
    alarms = book.create_sheet("报警" if lang == "zh" else "Alarms")
    alarms.append(list(ALARM_HEADINGS[lang]))
    for cell in alarms[1]:
        cell.font, cell.fill = bold, fill
    for alarm in score.alarms:
        alarms.append([_safe(cell) for cell in alarm_row(alarm, lang)])
    alarms.freeze_panes = "A2"
    alarms.column_dimensions["A"].width = 30
    book.save(path)


def _html_cell(value: Cell, tag: str = "td") -> str:
    text = "" if value is None else str(value)
    return f"<{tag}>{html.escape(text)}</{tag}>"


def score_html(score: ExerciseScore, lang: Lang = "zh", *, now: dt.datetime | None = None) -> str:
    """The score as a self-contained HTML page (everything from the server escaped)."""
    title, subtitle = heading_lines(score, lang)
    made = (now or dt.datetime.now(dt.UTC)).astimezone().strftime("%Y-%m-%d %H:%M")
    figures_caption, alarms_caption = (
        ("成绩对比", "报警处置")
        if lang == "zh"
        else (
            "Figures compared",
            "Alarms",
        )
    )
    head = "".join(_html_cell(cell, "th") for cell in ["", *column_titles(score, lang)])
    figure_rows = "".join(
        "<tr>" + "".join(_html_cell(cell) for cell in row) + "</tr>"
        for row in figure_table(score, lang)
    )
    alarm_head = "".join(_html_cell(cell, "th") for cell in ALARM_HEADINGS[lang])
    alarm_rows = "".join(
        "<tr>" + "".join(_html_cell(cell) for cell in alarm_row(alarm, lang)) + "</tr>"
        for alarm in score.alarms
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><title>{html.escape(title)}</title><style>'
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "th,td{border:1px solid #999;padding:4px 8px;text-align:right}"
        "th{background:#fde3c8}td:first-child,th:first-child{text-align:left}"
        "h1{border-left:8px solid #e67e22;padding-left:8px}"
        f"</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}"
        f" · {html.escape(made)}</p>"
        f"<h2>{figures_caption}</h2><table><tr>{head}</tr>{figure_rows}</table>"
        f"<h2>{alarms_caption}</h2><table><tr>{alarm_head}</tr>{alarm_rows}</table>"
        "</body></html>\n"
    )


def write_html(path: Path, score: ExerciseScore, lang: Lang = "zh") -> None:
    """Write :func:`score_html` to ``path`` (UTF-8)."""
    path.write_text(score_html(score, lang), encoding="utf-8")
