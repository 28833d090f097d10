"""The score's exports: the workbook (opened again with openpyxl), the HTML page (escaped,
self-contained), written whole or not at all, and the report's statement of the formula
in step with the scoring."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from backend.exercises import scoring
from backend.exercises.report import Error, export
from realtime.exercise_report import SCORING_NOTE, clock, render_html
from realtime.protocol import AlarmScore, EarlierRun, ExerciseScore, ScoreFigures
from realtime.states import AlarmLevel

EVIL = '=HYPERLINK("http://x","点我")<script>alert(1)</script>'
STARTED = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)


def _figures(score: float, alarms: int = 2, **times: float) -> ScoreFigures:
    return ScoreFigures(
        alarms=alarms,
        acknowledged=alarms - 1,
        missed=1,
        late=0,
        acknowledge_p50_s=times.get("acknowledge", 42.0),
        acknowledge_max_s=times.get("acknowledge", 42.0),
        dispatch_p50_s=times.get("dispatch"),
        tasks=3,
        tasks_overdue=1,
        score=score,
    )


def _score(*, original: bool = True) -> ExerciseScore:
    return ExerciseScore(
        run_id="drill-7",
        recording="tank_farm_h2s",
        title=f"罐区硫化氢泄漏 {EVIL}",
        ended=True,
        figures=_figures(71.5, dispatch=125.0),
        original=_figures(55.0, alarms=3, acknowledge=300.0) if original else None,
        earlier=[
            EarlierRun(run_id="drill-5", started_at=STARTED, speed=10.0, figures=_figures(64.0))
        ],
        alarms=[
            AlarmScore(
                title="硫化氢浓度超限",
                level=1,
                alarm_type="sensor.threshold",
                device="H2S-T101-01",
                raised_offset_s=95.0,
                acknowledge_s=42.0,
                dispatch_s=125.0,
                close_s=3725.0,
            ),
            AlarmScore(
                title=EVIL,
                level=3,
                alarm_type="vehicle.sos",
                device=EVIL,
                raised_offset_s=600.0,
                missed=True,
            ),
        ],
    )


def test_the_workbook_compares_the_run_with_the_original_and_earlier_runs(tmp_path: Path) -> None:
    path = tmp_path / "评分.xlsx"

    assert export(_score(), xlsx=path) == [path]

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "告警"]
    summary = book["汇总"]
    assert str(summary["A1"].value).startswith("演练评分：罐区硫化氢泄漏")
    header = [cell.value for cell in summary[4]]
    assert header == ["指标", "本次演练", "原始处置", "drill-5（2026-12-01 09:30，10×）"]
    rows = {row[0]: row[1:] for row in summary.iter_rows(min_row=5, max_row=16, values_only=True)}
    assert rows["得分"] == (71.5, 55.0, 64.0)
    assert rows["告警数"] == (2, 3, 2)
    assert rows["接警用时中位(秒)"] == (42.0, 300.0, 42.0)
    assert rows["派警用时中位(秒)"] == (125.0, None, None)
    assert rows["超时任务"] == (1, 1, 1)
    alarms = book["告警"]
    assert [cell.value for cell in alarms[1]][:6] == [
        "序号",
        "触发时刻",
        "级别",
        "类型",
        "设备",
        "告警",
    ]
    first = [cell.value for cell in alarms[2]]
    assert first == [
        1,
        "1:35",
        "红色",
        "sensor.threshold",
        "H2S-T101-01",
        "硫化氢浓度超限",
        42,
        125,
        None,
        3725,
        None,
        None,
    ]
    second = [cell.value for cell in alarms[3]]
    assert second[2] == "黄色"
    assert second[11] == "是"
    # A title or a device name that looks like a formula stays text.
    assert second[5] == EVIL
    assert alarms.cell(row=3, column=6).data_type == "s"


def test_the_workbook_of_a_recording_without_a_response_has_no_original_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "score.xlsx"
    export(_score(original=False), xlsx=path)

    header = [cell.value for cell in openpyxl.load_workbook(path)["汇总"][4]]

    assert header[:3] == ["指标", "本次演练", "drill-5（2026-12-01 09:30，10×）"]


def test_the_html_page_is_escaped_self_contained_and_printable(tmp_path: Path) -> None:
    path = tmp_path / "评分.html"
    made = dt.datetime(2026, 12, 5, 3, 0, tzinfo=dt.UTC)

    export(_score(), html=path, generated_at=made)

    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Nothing fetched from anywhere: no links, sources, imports or urls.
    assert not re.search(r"\b(src|href)=|@import|url\(", page)
    assert "@page { size: A4" in page
    assert "生成于 2026-12-05 11:00（北京时间）" in page
    assert "汇总对比" in page
    assert "原始处置" in page
    assert '<tr class="missed">' in page
    assert "1:02:05" in page  # the close time, 3725 s
    assert SCORING_NOTE in page


def test_an_html_page_of_a_run_without_alarms_says_so() -> None:
    score = ExerciseScore(
        run_id="r1",
        recording="x",
        title="",
        ended=False,
        figures=ScoreFigures(alarms=0, acknowledged=0, missed=0, late=0, score=100.0),
    )

    page = render_html(score)

    assert "本次没有告警。" in page
    assert "本次演练（进行中）" in page
    assert "演练评分：x" in page


def test_durations_read_as_minutes_and_seconds() -> None:
    assert [clock(value) for value in (None, 0.0, 59.6, 95.0, 3725.0, -5.0)] == [
        "—",
        "0:00",
        "1:00",
        "1:35",
        "1:02:05",
        "-0:05",
    ]


def test_a_report_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"the previous report")
    (tmp_path / "blocked").mkdir()

    with pytest.raises(Error, match="cannot write"):
        export(_score(), xlsx=tmp_path / "missing" / "report.xlsx")
    with pytest.raises(Error, match="cannot write"):
        export(_score(), html=tmp_path / "blocked")  # a directory is in the way

    assert target.read_bytes() == b"the previous report"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["blocked", "report.xlsx"]


def test_the_report_states_the_formula_the_scoring_applies() -> None:
    weights = scoring.WEIGHTS
    note = SCORING_NOTE
    assert (
        f"及时接警 {weights['acknowledge']:g} + 派警 {weights['dispatch']:g} + "
        f"到场 {weights['arrive']:g} + 结案 {weights['close']:g}"
    ) in note
    assert scoring.LATE_CREDIT == 0.5
    assert "超时接警得一半" in note
    assert {AlarmLevel.RED, AlarmLevel.ORANGE} == scoring.NEEDS_DISPATCH
    assert "红、橙色告警" in note
    penalty = scoring.MISSED_PENALTY
    assert penalty[AlarmLevel.ORANGE] == penalty[AlarmLevel.YELLOW] == penalty[AlarmLevel.BLUE]
    assert (
        f"每条漏接告警扣 {penalty[AlarmLevel.BLUE]:g} 分（红色扣 {penalty[AlarmLevel.RED]:g} 分）"
        in note
    )
    assert f"每个超时任务扣 {scoring.OVERDUE_PENALTY:g} 分" in note
