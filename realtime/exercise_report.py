"""An exercise's score (演练评分) as an Excel workbook and as a printable HTML page, for the
command line and the console alike (no Qt, no database: it takes an
:class:`~realtime.protocol.ExerciseScore`, the answer to ``exercise.score``).

The workbook has a summary sheet (汇总: every figure of this run beside the original
response and the earlier runs of the same recording) and an alarms sheet (告警: each alarm
and how it was handled). The HTML page holds the same, self-contained (no script, no font,
no picture, nothing fetched), every text escaped, laid out to print on A4. The labels are
Chinese; docs/exercises.md ("Scoring") gives each in English.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import zoneinfo
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from realtime.protocol.exercises import AlarmScore, ExerciseScore, ScoreFigures

Value = int | float | str | None

TIME_ZONE: Final = "Asia/Shanghai"
"""Times in the report are Beijing time."""
LEVEL_NAMES: Final = {1: "红色", 2: "橙色", 3: "黄色", 4: "蓝色"}
""":attr:`AlarmScore.level` (1 the most severe) by the colour officers know it by."""
SCORING_NOTE: Final = (
    "得分（0–100）= 及时接警 40 + 派警 25 + 到场 15 + 结案 20（无可计项的部分不计，"
    "其权重由其余部分按比例分摊）；超时接警得一半，漏接不得分；派警、到场、结案用时在时限内"
    "得满分，超过时按 时限÷用时 计分；红、橙色告警（误报、合并除外）未派警计 0 分。"
    "每条漏接告警扣 5 分（红色扣 10 分），每个超时任务扣 2 分，最低 0 分。"
)
"""How the score is made up, as the report states it (backend/exercises/scoring.py is the
rule; a test keeps the two in step)."""

SECONDS_FORMAT: Final = "0"
SCORE_FORMAT: Final = "0.0"
_FORMULA_STARTS: Final = ("=", "+", "-", "@")
_HEADER_FONT: Final = Font(bold=True, color="FFFFFF")
_HEADER_FILL: Final = PatternFill("solid", fgColor="305496")
_MISSED_FILL: Final = PatternFill("solid", fgColor="F8CBAD")
_LATE_FILL: Final = PatternFill("solid", fgColor="FFE699")


@dataclasses.dataclass(frozen=True, slots=True)
class Figure:
    """One row of the summary: a figure of :class:`ScoreFigures`."""

    label: str
    value: Callable[[ScoreFigures], int | float | None]
    number_format: str
    seconds: bool = False
    """A duration: the HTML shows it as minutes and seconds."""


def _field(name: str) -> Callable[[ScoreFigures], int | float | None]:
    return lambda figures: getattr(figures, name)


FIGURES: Final = (
    Figure("得分", _field("score"), SCORE_FORMAT),
    Figure("告警数", _field("alarms"), "0"),
    Figure("已接警", _field("acknowledged"), "0"),
    Figure("漏接", _field("missed"), "0"),
    Figure("超时接警", _field("late"), "0"),
    Figure("接警用时中位(秒)", _field("acknowledge_p50_s"), SECONDS_FORMAT, seconds=True),
    Figure("接警用时最长(秒)", _field("acknowledge_max_s"), SECONDS_FORMAT, seconds=True),
    Figure("派警用时中位(秒)", _field("dispatch_p50_s"), SECONDS_FORMAT, seconds=True),
    Figure("到场用时中位(秒)", _field("arrive_p50_s"), SECONDS_FORMAT, seconds=True),
    Figure("结案用时中位(秒)", _field("close_p50_s"), SECONDS_FORMAT, seconds=True),
    Figure("任务数", _field("tasks"), "0"),
    Figure("超时任务", _field("tasks_overdue"), "0"),
)
"""The summary's rows, in order."""

ALARM_HEADINGS: Final = (
    "序号",
    "触发时刻",
    "级别",
    "类型",
    "设备",
    "告警",
    "接警(秒)",
    "派警(秒)",
    "到场(秒)",
    "结案(秒)",
    "超时接警",
    "漏接",
)
"""The alarms sheet's columns (触发时刻: minutes and seconds from the start)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    """One response compared in the summary."""

    heading: str
    figures: ScoreFigures


def _local(value: dt.datetime) -> str:
    return value.astimezone(zoneinfo.ZoneInfo(TIME_ZONE)).strftime("%Y-%m-%d %H:%M")


def _speed(speed: float) -> str:
    return f"{speed:g}×"


def compared(score: ExerciseScore) -> list[Column]:
    """The responses the summary compares: this run, the original, the earlier runs."""
    columns = [Column("本次演练" if score.ended else "本次演练（进行中）", score.figures)]
    if score.original is not None:
        columns.append(Column("原始处置", score.original))
    columns += [
        Column(f"{run.run_id}（{_local(run.started_at)}，{_speed(run.speed)}）", run.figures)
        for run in score.earlier
    ]
    return columns


def clock(seconds: float | None) -> str:
    """A duration or an offset as ``m:ss`` (``h:mm:ss`` from an hour; ``—`` for none)."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    whole = round(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}:{secs:02d}"


def _whole(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds)


def alarm_cells(index: int, alarm: AlarmScore) -> list[Value]:
    """One alarm's row of the alarms sheet (durations in whole seconds)."""
    return [
        index,
        clock(alarm.raised_offset_s),
        LEVEL_NAMES.get(alarm.level, str(alarm.level)),
        alarm.alarm_type,
        alarm.device,
        alarm.title,
        _whole(alarm.acknowledge_s),
        _whole(alarm.dispatch_s),
        _whole(alarm.arrive_s),
        _whole(alarm.close_s),
        "是" if alarm.late else "",
        "是" if alarm.missed else "",
    ]


def title_of(score: ExerciseScore) -> str:
    """The report's title."""
    return f"演练评分：{score.title or score.recording}"


def subtitle_of(score: ExerciseScore) -> str:
    """The line under the title: the run, the recording, whether it has ended."""
    state = "已结束" if score.ended else "进行中（截至目前的数据）"
    return f"演练编号 {score.run_id} · 录制 {score.recording} · {state}"


# ------------------------------------------------------------------------------ xlsx


def _put(cell: Cell, value: Value) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        cell.data_type = "s"  # a title or a device name is text, never a formula to run


def _headings(sheet: Worksheet, row: int, headings: Sequence[str]) -> None:
    for index, heading in enumerate(headings, start=1):
        cell = sheet.cell(row=row, column=index)
        _put(cell, heading)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _summary_sheet(sheet: Worksheet, score: ExerciseScore) -> None:
    _put(sheet["A1"], title_of(score))
    sheet["A1"].font = Font(bold=True, size=14)
    _put(sheet["A2"], subtitle_of(score))
    columns = compared(score)
    _headings(sheet, 4, ["指标", *(column.heading for column in columns)])
    for offset, figure in enumerate(FIGURES, start=5):
        _put(sheet.cell(row=offset, column=1), figure.label)
        for index, column in enumerate(columns, start=2):
            cell = sheet.cell(row=offset, column=index)
            _put(cell, figure.value(column.figures))
            cell.number_format = figure.number_format
    _put(sheet.cell(row=6 + len(FIGURES), column=1), SCORING_NOTE)
    sheet.column_dimensions["A"].width = 20
    for index in range(2, len(columns) + 2):
        sheet.column_dimensions[get_column_letter(index)].width = 24
    sheet.freeze_panes = "B5"


def _alarms_sheet(sheet: Worksheet, score: ExerciseScore) -> None:
    _headings(sheet, 1, ALARM_HEADINGS)
    for index, alarm in enumerate(score.alarms, start=1):
        fill = _MISSED_FILL if alarm.missed else _LATE_FILL if alarm.late else None
        for column, value in enumerate(alarm_cells(index, alarm), start=1):
            cell = sheet.cell(row=index + 1, column=column)
            _put(cell, value)
            if fill is not None:
                cell.fill = fill
    for letter, width in zip("ABCDEFGHIJKL", (6, 10, 6, 18, 18, 30, 9, 9, 9, 9, 9, 6), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    if score.alarms:
        sheet.auto_filter.ref = f"A1:L{len(score.alarms) + 1}"


def build_workbook(score: ExerciseScore) -> Workbook:
    """The score as a workbook: the summary sheet and the alarms sheet."""
    book = Workbook()
    if book.active is not None:
        book.remove(book.active)  # the empty default sheet
    _summary_sheet(book.create_sheet("汇总"), score)
    _alarms_sheet(book.create_sheet("告警"), score)
    return book


def write_workbook(path: Path, score: ExerciseScore) -> None:
    """Write the workbook to ``path`` (blocking: call it off the event loop)."""
    build_workbook(score).save(path)


# ------------------------------------------------------------------------------ HTML

_STYLE: Final = """
@page { size: A4; margin: 15mm; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
  font-size: 10.5pt; color: #1b1b1b; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12.5pt; margin: 6mm 0 2mm; border-bottom: 1px solid #305496; }
p.sub { color: #555; margin: 0 0 4mm; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #b4c6e7; padding: 1mm 2mm; text-align: left;
  overflow-wrap: anywhere; }
table.alarms { font-size: 9pt; }
table.alarms th, td.n, td.level { white-space: nowrap; overflow-wrap: normal; }
th { background: #305496; color: #fff; font-weight: bold; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.missed td { background: #f8cbad; }
tr.late td { background: #ffe699; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
.bar { display: inline-block; height: 3mm; background: #305496; vertical-align: middle;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
p.note { color: #444; font-size: 9pt; }
"""


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _figure_html(figure: Figure, figures: ScoreFigures) -> str:
    value = figure.value(figures)
    if value is None:
        return "—"
    if figure.seconds:
        return clock(value)
    if figure.number_format == SCORE_FORMAT:
        return f"{value:.1f}"
    return str(value)


def _summary_html(score: ExerciseScore) -> list[str]:
    columns = compared(score)
    lines = ["<h2>汇总对比</h2>", "<table><thead><tr><th>指标</th>"]
    lines += [f"<th>{_text(column.heading)}</th>" for column in columns]
    lines.append("</tr></thead><tbody>")
    for figure in FIGURES:
        label = figure.label.replace("(秒)", "")
        cells = "".join(
            f'<td class="n">{_text(_figure_html(figure, column.figures))}</td>'
            for column in columns
        )
        lines.append(f"<tr><th>{_text(label)}</th>{cells}</tr>")
    lines.append("</tbody></table>")
    lines.append("<h2>得分</h2><table><tbody>")
    for column in columns:
        width = max(0.0, min(100.0, column.figures.score))
        lines.append(
            f"<tr><th>{_text(column.heading)}</th><td>"
            f'<span class="bar" style="width:{width * 0.9:.1f}mm"></span> '
            f"{column.figures.score:.1f}</td></tr>"
        )
    lines.append("</tbody></table>")
    return lines


def _alarms_html(score: ExerciseScore) -> list[str]:
    lines = [f"<h2>告警处置明细（{len(score.alarms)} 条）</h2>"]
    if not score.alarms:
        return [*lines, "<p>本次没有告警。</p>"]
    headings = [heading.replace("(秒)", "") for heading in ALARM_HEADINGS]
    lines.append('<table class="alarms"><thead><tr>')
    lines += [f"<th>{_text(heading)}</th>" for heading in headings]
    lines.append("</tr></thead><tbody>")
    numeric = {0, 1, 6, 7, 8, 9}
    for index, alarm in enumerate(score.alarms, start=1):
        cells = alarm_cells(index, alarm)
        for position in (6, 7, 8, 9):
            seconds = cells[position]
            cells[position] = clock(float(seconds)) if isinstance(seconds, int) else "—"
        row_class = ' class="missed"' if alarm.missed else ' class="late"' if alarm.late else ""
        tds = "".join(
            f'<td class="n">{_text(value if value is not None else "—")}</td>'
            if position in numeric
            else f'<td class="level">{_text(value)}</td>'
            if position == 2
            else f"<td>{_text(value if value is not None else '')}</td>"
            for position, value in enumerate(cells)
        )
        lines.append(f"<tr{row_class}>{tds}</tr>")
    lines.append("</tbody></table>")
    return lines


def render_html(score: ExerciseScore, *, generated_at: dt.datetime | None = None) -> str:
    """The score as one self-contained, printable HTML page."""
    made = generated_at or dt.datetime.now(dt.UTC)
    title = title_of(score)
    lines = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{_text(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_text(title)}</h1>",
        f'<p class="sub">{_text(subtitle_of(score))} · '
        f"生成于 {_text(_local(made))}（北京时间）</p>",
        *_summary_html(score),
        *_alarms_html(score),
        f'<p class="note">{_text(SCORING_NOTE)} 用时从告警触发时起计；'
        "触发时刻为距演练开始的分:秒。</p>",
        "</body></html>",
    ]
    return "\n".join(lines) + "\n"


def write_html(
    path: Path, score: ExerciseScore, *, generated_at: dt.datetime | None = None
) -> None:
    """Write the HTML page to ``path`` (UTF-8; blocking: call it off the event loop)."""
    path.write_text(render_html(score, generated_at=generated_at), encoding="utf-8")
