"""Registry items in .xlsx and CSV files: round trips for every kind, the validation
report (sheet, row, column, reason), GCJ-02 conversion, and hostile files."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import msgspec
import numpy as np
import openpyxl
import pytest

from backend.jurisdictions.datum import wgs84_to_gcj02
from backend.registry import sheets
from backend.registry.sheet_columns import KIND_SHEET_NAMES, Datum, details_columns
from backend.registry.sheet_examples import EXAMPLES
from realtime.protocol import (
    ChemicalAmount,
    Contact,
    EnterpriseDetails,
    ItemKind,
    PlanDetails,
    PlanStep,
    RegistryItemInput,
    RegistryItemView,
    RiskGrade,
)

AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
COMMON = ("code", "name", "jurisdiction", "agency", "address", "lat", "lon", "details")


def as_input(view: RegistryItemView) -> RegistryItemInput:
    return RegistryItemInput(**{name: getattr(view, name) for name in COMMON})


def tricky(kind: ItemKind) -> RegistryItemView:
    """The example of ``kind`` with texts a spreadsheet could mangle, no place, retired."""
    example = EXAMPLES[kind]
    details = example.details
    if isinstance(details, PlanDetails):
        details = msgspec.structs.replace(
            details,
            steps=[
                PlanStep(id="a", text="报告；再报告; 然后=核实", role="-值班员", within_min=2.5),
                PlanStep(id="b", text="=SUM(A1) 不是公式"),
            ],
        )
    if isinstance(details, EnterpriseDetails):
        details = msgspec.structs.replace(
            details, contacts=[Contact(name="王五", role="", phone="+86 571 8888 0000")]
        )
    return msgspec.structs.replace(
        example,
        code=f"{example.code}.x",
        name='=HYPERLINK("http://example.invalid")',
        address="@西湖区; 某路",
        lat=None,
        lon=None,
        details=details,
        retired=True,
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("kind", list(ItemKind))
def test_every_kind_round_trips_through_its_file(
    tmp_path: Path, kind: ItemKind, suffix: str
) -> None:
    views = [EXAMPLES[kind], tricky(kind)]
    path = tmp_path / f"{kind.value}{suffix}"
    sheets.write_items(path, kind, views)

    outcome = sheets.read_items(path, kind if suffix == ".csv" else None)

    assert outcome.problems == []
    assert outcome.rows == 2
    assert outcome.items == [as_input(view) for view in views]


def test_every_field_of_every_kind_has_a_column() -> None:
    for kind in ItemKind:
        details_type = type(EXAMPLES[kind].details)
        fields = {f.name for f in msgspec.structs.fields(details_type)}
        assert {c.field for c in details_columns(kind)} == fields, kind


def test_a_template_reads_as_empty_and_explains_every_column(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    sheets.write_template(path, [])

    outcome = sheets.read_items(path)
    assert (outcome.rows, outcome.items, outcome.problems) == (0, [], [])
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == [*KIND_SHEET_NAMES.values(), sheets.NOTES_SHEET]
    notes = list(book[sheets.NOTES_SHEET].iter_rows(values_only=True))
    explained = {(row[0], row[2]) for row in notes[1:] if row and row[0]}
    for kind in ItemKind:
        for column in details_columns(kind):
            assert (KIND_SHEET_NAMES[kind], column.field) in explained
    example = list(book["企业"].iter_rows(values_only=True))[1]
    assert str(example[0]).startswith("#")
    book.close()

    with pytest.raises(sheets.Error, match="one kind"):
        sheets.write_template(tmp_path / "t.csv", [])
    sheets.write_template(tmp_path / "t.csv", [ItemKind.EXPERT])
    assert sheets.read_items(tmp_path / "t.csv", ItemKind.EXPERT).rows == 0


def _workbook(path: Path, sheets_rows: Mapping[str, Sequence[Sequence[object]]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets_rows.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)


ENTERPRISE_HEADER: list[object] = ["代码", "名称", "风险等级", "从业人数", "统一社会信用代码"]


def test_the_report_names_sheet_row_column_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    _workbook(
        path,
        {
            "企业": [
                ENTERPRISE_HEADER,
                ["E1", "好企业", "较大风险", 10, ""],
                ["E2", "人数不对", "低风险", "很多", ""],
                ["E3", "中文等级不对", "超大风险", 1, ""],
                ["E4", "English grade wrong", "purple", 1, ""],
                ["E5", "名" * 201, "red", 1, ""],
                [None, "没有代码", "red", 1, ""],
                ["E1", "重复代码", "red", 1, ""],
                ["E8", "信用代码错", "red", 1, "91330106MA2XXXXXX0"],
                ["E9", "人数是小数", "red", 1.5, ""],
                ["E 10", "代码有空格", "red", 1, ""],
            ],
            "team": [
                ["code", "name", "team_type", "members"],
                ["T1", "没有类型", "", 3],
                ["T2", "人数为负", "消防", "-3"],
            ],
        },
    )

    outcome = sheets.read_items(path)

    assert [item.code for item in outcome.items] == ["E1"]
    assert outcome.rows == 12
    assert [(p.sheet, p.row, p.column) for p in outcome.problems] == [
        ("team", 2, "team_type"),
        ("team", 3, "members"),
        ("企业", 3, "从业人数"),
        ("企业", 4, "风险等级"),
        ("企业", 5, "风险等级"),
        ("企业", 6, "名称"),
        ("企业", 7, "代码"),
        ("企业", 8, "代码"),
        ("企业", 9, "统一社会信用代码"),
        ("企业", 10, "从业人数"),
        ("企业", 11, "代码"),
    ]
    reasons = {(p.sheet, p.row, p.column): p.reason for p in outcome.problems}
    assert reasons[("企业", 3, "从业人数")] == "not a number: '很多'"
    assert reasons[("企业", 4, "风险等级")].startswith(
        "unknown value '超大风险' (one of 重大风险/red"
    )
    assert reasons[("企业", 5, "风险等级")].startswith("unknown value 'purple'")
    assert reasons[("企业", 6, "名称")] == "longer than 200 characters"
    assert reasons[("企业", 7, "代码")] == "required"
    assert reasons[("企业", 8, "代码")] == "duplicate code E1 (also row 2)"
    assert "check character" in reasons[("企业", 9, "统一社会信用代码")]
    assert reasons[("企业", 10, "从业人数")] == "not a whole number: 1.5"
    assert reasons[("企业", 11, "代码")] == "only letters, digits and _ . : - are allowed"
    assert reasons[("team", 2, "team_type")] == "required"
    assert reasons[("team", 3, "members")] == "must be at least 0"
    assert str(outcome.problems[2]) == "企业 row 3 从业人数: not a number: '很多'"


def test_headers_are_checked_before_any_row(tmp_path: Path) -> None:
    path = tmp_path / "headers.xlsx"
    _workbook(
        path,
        {
            "专家": [["代码", "名称", "专业", "专业", "备注"], ["X1", "甲", "消防", "", ""]],
            "hazard_source": [["code", "name"], ["H1", "罐区"]],
            "Sheet1": [["code"]],
            sheets.NOTES_SHEET: [["随便写"]],
        },
    )

    outcome = sheets.read_items(path)

    assert outcome.items == []
    assert sorted((p.sheet, p.row, p.column, p.reason) for p in outcome.problems) == [
        ("Sheet1", 0, "", "sheet not named for a kind (企业, 专家…): rename it or use --kind"),
        ("hazard_source", 1, "危险源等级", "required column missing"),
        ("专家", 1, "专业", "the same column twice"),
        ("专家", 1, "备注", "unknown column (see the template's 说明 sheet)"),
    ]


def test_a_named_kind_reads_its_sheet_or_an_unnamed_one(tmp_path: Path) -> None:
    path = tmp_path / "kinds.xlsx"
    _workbook(
        path,
        {
            "专家": [["代码", "名称"], ["X1", "专家甲"]],
            "Sheet1": [["代码", "名称", "类别"], ["EQ1", "帐篷", "帐篷"]],
        },
    )
    assert [i.code for i in sheets.read_items(path, ItemKind.EXPERT).items] == ["X1"]
    assert [i.code for i in sheets.read_items(path, ItemKind.EQUIPMENT).items] == ["EQ1"]
    only_experts = tmp_path / "experts.xlsx"
    _workbook(only_experts, {"expert": [["code", "name"]]})
    with pytest.raises(sheets.Error, match=r"experts\.xlsx: no sheet of team \(应急队伍\)"):
        sheets.read_items(only_experts, ItemKind.TEAM)


def test_gcj02_coordinates_are_converted_to_wgs84(tmp_path: Path) -> None:
    wgs_lat, wgs_lon = 30.2741, 120.1551  # 西湖区
    gcj_lon, gcj_lat = (float(v) for v in wgs84_to_gcj02(np.array(wgs_lon), np.array(wgs_lat)))
    # GCJ-02's offset in Hangzhou is a few hundred metres.
    assert 300 < _metres(wgs_lat, wgs_lon, gcj_lat, gcj_lon) < 700
    path = tmp_path / "shelters.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["代码", "名称", "纬度", "经度", "坐标系", "容纳人数"])
        writer.writerow(["S1", "高德坐标", gcj_lat, gcj_lon, "GCJ-02", 100])
        writer.writerow(["S2", "GPS坐标", wgs_lat, wgs_lon, "WGS-84", 100])
        writer.writerow(["S3", "按默认", gcj_lat, gcj_lon, "", 100])
        writer.writerow(["S4", "没有坐标", "", "", "gcj02", 100])
        writer.writerow(["S5", "只有纬度", wgs_lat, "", "", 100])
        writer.writerow(["S6", "坐标系不对", wgs_lat, wgs_lon, "北京54", 100])

    outcome = sheets.read_items(path, ItemKind.SHELTER, Datum.GCJ02)

    places = {item.code: (item.lat, item.lon) for item in outcome.items}
    for code in ("S1", "S3"):
        lat, lon = places[code]
        assert lat is not None
        assert lon is not None
        assert _metres(lat, lon, wgs_lat, wgs_lon) < 1.0
    assert places["S2"] == (wgs_lat, wgs_lon)
    assert places["S4"] == (None, None)
    assert [(p.row, p.column, p.reason[:20]) for p in outcome.problems] == [
        (6, "经度", "latitude and longitu"),
        (7, "坐标系", "unknown datum '北京54'"),
    ]


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    north = math.radians(lat2 - lat1) * 6_371_000
    east = math.radians(lon2 - lon1) * 6_371_000 * math.cos(math.radians(lat1))
    return math.hypot(north, east)


def test_lists_take_either_semicolon_and_structured_entries_take_bars(tmp_path: Path) -> None:
    path = tmp_path / "hazard.csv"
    path.write_text(
        "code,name,grade,chemicals,sensors\n"
        "H1,罐区,二级,液氯|1017|50；液氨|1005|12.5|7664-41-7,s1;s2；s3\n"
        "H2,罐区2,二级,液氯|1017|很多,\n"
        "H3,罐区3,一级,a|b|c|d|e,\n"
        "H4,罐区4,5,,\n",
        encoding="utf-8",
    )

    outcome = sheets.read_items(path, ItemKind.HAZARD_SOURCE)

    details = outcome.items[0].details
    assert details.chemicals == [  # type: ignore[union-attr]
        ChemicalAmount(name="液氯", un_number="1017", quantity_t=50.0),
        ChemicalAmount(name="液氨", un_number="1005", quantity_t=12.5, cas="7664-41-7"),
    ]
    assert details.sensors == ["s1", "s2", "s3"]  # type: ignore[union-attr]
    assert [(p.row, p.column, p.reason) for p in outcome.problems] == [
        (3, "chemicals", "not a number: '很多'"),
        (4, "chemicals", "'a|b|c|d|e' has more than 4 parts (name|un_number|quantity_t|cas)"),
        (5, "grade", "must be at most 4"),
    ]


def test_gbk_csv_and_english_enum_values_are_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("代码,名称,风险等级\nE1,杭州某公司,orange\n".encode("gbk"))
    outcome = sheets.read_items(path, ItemKind.ENTERPRISE)
    assert outcome.problems == []
    assert outcome.items[0].name == "杭州某公司"
    assert outcome.items[0].details.risk_grade is RiskGrade.ORANGE  # type: ignore[union-attr]


def test_progress_is_reported_while_reading(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    rows: list[list[object]] = [["代码", "名称", "类别"]]
    rows += [[f"EQ{i}", f"物资{i}", "帐篷"] for i in range(2_500)]
    _workbook(path, {"equipment": rows})
    calls: list[tuple[int, int]] = []

    outcome = sheets.read_items(path, progress=lambda done, total: calls.append((done, total)))

    assert len(outcome.items) == 2_500
    assert calls == [(1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]


# ------------------------------------------------------------------------ hostile files


def test_a_file_that_is_not_a_workbook_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("代码,名称\n", encoding="utf-8")
    with pytest.raises(sheets.Error, match=r"fake.xlsx: not an Excel .xlsx file \(not a zip"):
        sheets.read_items(path)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(sheets.Error, match=r"broken.xlsx: not a readable Excel \.xlsx file"):
        sheets.read_items(broken)
    damaged = tmp_path / "damaged.xlsx"
    _workbook(damaged, {"企业": [ENTERPRISE_HEADER]})
    _rewrite(damaged, lambda name, data: b"<<<" if name.startswith("xl/worksheets/") else data)
    with pytest.raises(sheets.Error, match=r"not a readable Excel \.xlsx file \(not well-formed"):
        sheets.read_items(damaged)
    _rewrite(damaged, lambda name, data: b"<" if name == "xl/workbook.xml" else data)
    with pytest.raises(sheets.Error, match=r"damaged.xlsx: not a readable Excel \.xlsx file"):
        sheets.read_items(damaged)
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"code,name\nE1,a\x00b\nE2,ok\n")
    outcome = sheets.read_items(nul, ItemKind.ENTERPRISE)
    assert [item.code for item in outcome.items] == ["E2"]
    assert [str(p) for p in outcome.problems] == [
        "nul.csv row 2 name: holds control characters (NUL…): not text a person typed"
    ]
    with pytest.raises(sheets.Error, match=r"not an \.xlsx or \.csv file"):
        sheets.read_items(tmp_path / "x.json")
    with pytest.raises(sheets.Error, match="--kind"):
        sheets.read_items(tmp_path / "x.csv")


def test_a_file_that_unpacks_too_large_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bomb.xlsx"
    _workbook(path, {"企业": [ENTERPRISE_HEADER, ["E1", "某公司", "red", 1, ""]]})
    monkeypatch.setattr(sheets, "MAX_UNPACKED_BYTES", 1_000)
    with pytest.raises(sheets.Error, match=r"bomb.xlsx: unpacks to .* MiB, more than"):
        sheets.read_items(path)


def _rewrite(path: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Rewrite the members of the zip at ``path`` through ``change(name, data)``."""
    with zipfile.ZipFile(path) as source:
        members = [(member, source.read(member)) for member in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for member, data in members:
            target.writestr(member, change(member.filename, data))


def test_a_sheet_claiming_a_huge_dimension_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "claims.xlsx"
    _workbook(path, {"企业": [ENTERPRISE_HEADER, ["E1", "某公司", "red", 1, ""]]})

    def claim(name: str, data: bytes) -> bytes:
        if name.startswith("xl/worksheets/"):
            return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
        return data

    _rewrite(path, claim)
    started = time.monotonic()

    outcome = sheets.read_items(path)

    assert time.monotonic() - started < 5
    assert [item.code for item in outcome.items] == ["E1"]
    assert outcome.problems == []


def test_formula_cells_and_huge_cells_are_problems_not_crashes(tmp_path: Path) -> None:
    path = tmp_path / "formula.xlsx"
    _workbook(
        path,
        {
            "企业": [
                ENTERPRISE_HEADER,
                ["E1", "某公司", "red", "=1+1", ""],
                ["E2", "x" * 1_000_000, "red", 1, ""],
                ["E3", "正常", "red", 1, ""],
            ]
        },
    )

    outcome = sheets.read_items(path)

    assert [item.code for item in outcome.items] == ["E3"]
    assert [(p.row, p.column, p.reason) for p in outcome.problems] == [
        (2, "从业人数", "a formula: type the value itself (formulas are not imported)"),
        (3, "名称", "32,767 characters or more (Excel's limit)"),
    ]
    csv_path = tmp_path / "huge.csv"
    csv_path.write_text(f"代码,名称\nE1,{'x' * 1_000_000}\n", encoding="utf-8")
    with pytest.raises(sheets.Error, match=r"huge\.csv line 2: field larger than field limit"):
        sheets.read_items(csv_path, ItemKind.ENTERPRISE)


def test_too_many_columns_are_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    _workbook(path, {"企业": [ENTERPRISE_HEADER, ["E1", "某", "red", 1, "", *range(100)]]})
    outcome = sheets.read_items(path)
    assert [(p.row, p.reason) for p in outcome.problems] == [(2, "more than 64 columns")]
