"""``dutydesk report assessment``: the printed table and the Excel workbook of a seeded
month (tests/backend/assessment/conftest.py), opened again with openpyxl; bad input
refused in one line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from backend.cli.app import main
from backend.config import sqlite_url
from backend.storage import db
from backend.storage.models import Agency
from tests.backend.assessment.conftest import seed_month

EVIL_NAME = '=HYPERLINK("http://x","点我")'


async def _seed(url: str) -> None:
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        async with sessions() as session:
            await seed_month(session)
        async with sessions() as session:
            session.add(Agency(code="evil", name_zh=EVIL_NAME, active=True))
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def data(tmp_path: Path) -> list[str]:
    asyncio.run(_seed(sqlite_url(tmp_path)))
    return ["--data-dir", str(tmp_path)]


def test_the_table_and_the_workbook(
    data: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book_path = tmp_path / "2026-11考核.xlsx"
    argv = ["report", "assessment", "--month", "2026-11", "--under", "330100"]
    assert main([*argv, "--xlsx", str(book_path), *data]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "量化考核 2026-11（按辖区，杭州市）"
    assert printed[1] == "统计区间：2026-11-01 00:00 至 2026-12-01 00:00（不含，北京时间）"
    assert printed[2].split()[:6] == ["排名", "代码", "名称", "得分", "接收任务", "办结任务"]
    assert printed[3].split()[:8] == ["1", "330106", "西湖区", "59.28", "6", "3", "3.0", "10.0"]
    # Each term's points follow the figures: 办结率 first (25 × 3/6).
    assert printed[2].split()[21] == "得分：办结率"
    assert printed[3].split()[21] == "12.50"
    assert printed[4].split()[:4] == ["2", "330105", "拱墅区", "41.50"]
    assert any(line.startswith("量化考核 2026-11（按单位，杭州市）") for line in printed)
    assert printed[-1] == f"written: {book_path}"

    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["按辖区", "按单位", "公式"]
    sheet = book["按辖区"]
    assert isinstance(sheet, Worksheet)
    assert sheet["A1"].value == "量化考核 2026-11（按辖区，杭州市）"
    headings = [cell.value for cell in sheet[4]]
    assert headings[:4] == ["排名", "代码", "名称", "得分"]
    assert "得分：办结率" in headings
    first = {headings[index]: cell for index, cell in enumerate(sheet[5])}
    assert first["排名"].value == 1
    assert first["名称"].value == "西湖区"
    assert first["得分"].value == 59.28
    assert first["得分"].number_format == "0.00"
    assert first["签收中位(分)"].value == 3.0
    assert first["签收中位(分)"].number_format == "0.0"
    assert first["反馈率"].value == pytest.approx(2 / 3)
    assert first["反馈率"].number_format == "0.0%"
    assert first["得分：办结率"].value == 12.5
    assert sheet.freeze_panes == "D5"
    assert sheet.column_dimensions["C"].width >= 8
    assert len(sheet._charts) == 1  # the bar chart of the scores
    chart = sheet._charts[0]
    assert chart.type == "bar"

    agencies = book["按单位"]
    assert isinstance(agencies, Worksheet)
    names = {row[2].value: row[2] for row in agencies.iter_rows(min_row=5)}
    assert "消防救援" in names
    # A name that looks like a formula stays text: Excel must not run it.
    assert names[EVIL_NAME].data_type == "s"

    formula = book["公式"]
    assert isinstance(formula, Worksheet)
    terms = [row[0].value for row in formula.iter_rows(min_row=6) if row[0].value]
    assert terms[0] == "handled_rate"
    assert formula.cell(row=6 + len(terms), column=3).value == 100


def test_english_one_grouping_and_a_formula_file(
    data: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    formula = tmp_path / "formula.toml"
    formula.write_text(
        'name = "only speed"\n[[terms]]\nfigure = "accept_p50_min"\nweight = 10\n'
        'better = "lower"\ncap = 10\n',
        encoding="utf-8",
    )
    argv = ["report", "assessment", "--quarter", "2026q4", "--by", "agency", "--lang", "en"]
    assert main([*argv, "--formula", str(formula), *data]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "Assessment 2026Q4 (By agency, 全部)"
    assert printed[2].split()[:3] == ["Rank", "Code", "Name"]
    # Fire accepted in 3 minutes (median): 10 × (1 − 3/10) = 7 points, first.
    assert printed[3].split()[:4] == ["1", "fire", "消防救援", "7.00"]
    assert not any("By jurisdiction" in line for line in printed)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--month", "2026-13"], "must be a month (2026-11) or a quarter"),
        (["--quarter", "2026Q4", "--under", "9999"], "--under: no jurisdiction '9999'"),
        (["--month", "2026-11", "--formula", "/nonexistent.json"], "cannot read the formula"),
        (["--month", "2026-11", "--xlsx", "/nonexistent/dir/a.xlsx"], "cannot write"),
    ],
)
def test_bad_input_is_refused_in_one_line(
    data: list[str], extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "assessment", *extra, *data]) == 1
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1


def _term(**changes: object) -> dict[str, object]:
    return {"figure": "feedback_rate", "weight": 1, "better": "higher", "cap": 1, **changes}


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ({"terms": [_term(figure="speed")]}, "terms[0] (speed): unknown figure"),
        ({"terms": [_term(weight=-1)]}, "weight -1"),
        ({"terms": [_term(better="up")]}, "better"),
        ({"terms": [_term(cap=0)]}, "cap 0"),
        ({"terms": [_term(missing=2)]}, "missing 2"),
        ({"terms": []}, "no terms"),
        ({"terms": [_term()], "extra": 1}, "extra"),
        ("not an object", "formula"),
    ],
)
def test_a_bad_formula_names_the_entry(
    data: list[str],
    tmp_path: Path,
    formula: object,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "formula.json"
    path.write_text(json.dumps(formula), encoding="utf-8")
    assert main(["report", "assessment", "--month", "2026-11", "--formula", str(path), *data]) == 1
    assert message in capsys.readouterr().err
