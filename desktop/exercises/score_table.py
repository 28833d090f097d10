"""An exercise's score as the console's tables, in Chinese or English (no Qt).

The figures table compares this run with the original response and the earlier runs of
the same recording (one column each); the alarm table lists how each alarm of the run was
handled. The exports (Excel, HTML) are :mod:`realtime.exercise_report`'s, as the command
line writes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

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
