"""The shipped chemical table loads and is complete enough for a control room; a broken
table is refused with the entry named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend.decision.chemicals import DEFAULT_PATH, ChemicalTableError, load_table, parse_table

REQUIRED = {
    "1017": "氯",
    "1005": "氨",
    "1053": "硫化氢",
    "1075": "液化石油气",
    "1971": "甲烷",
    "1049": "氢",
    "1114": "苯",
    "1294": "甲苯",
    "1230": "甲醇",
    "1170": "乙醇",
    "1203": "汽油",
    "1202": "柴油",
    "1090": "丙酮",
    "1830": "硫酸",
    "1789": "盐酸",
    "2031": "硝酸",
    "1824": "氢氧化钠溶液",
    "1052": "氟化氢",
    "1076": "光气",
    "1051": "氰化氢",
    "1079": "二氧化硫",
    "1016": "一氧化碳",
    "1093": "丙烯腈",
    "1086": "氯乙烯",
    "1040": "环氧乙烷",
    "1073": "液氧",
    "2209": "甲醛溶液",
    "2055": "苯乙烯",
    "1077": "丙烯",
    "1134": "氯苯",
}


def _shipped() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    return document


def _parse(document: dict[str, Any]) -> None:
    parse_table(json.dumps(document, ensure_ascii=False).encode())


def test_the_shipped_table_holds_the_common_chemicals() -> None:
    table = load_table()
    assert len(table) >= 30
    for un_number, name in REQUIRED.items():
        chemical = table.find(un_number)
        assert chemical is not None, un_number
        assert chemical.name == name
        assert chemical.source
        assert chemical.hazards
        assert chemical.first_aid
        assert chemical.firefighting
        assert chemical.spill
    # What an officer types: a Chinese trade name, an English name, a UN prefix, CAS.
    assert table.find("液氯") is table.find("1017")
    assert table.find(" Chlorine ") is table.find("UN1017")
    assert table.find("UN 1005") is table.find("液氨")
    assert table.find("7782-50-5") is table.find("1017")
    assert table.find("天然气") is table.find("1971")
    assert table.find("不存在的化学品") is None


def test_every_tih_chemical_names_its_table_and_is_marked_where_unchecked() -> None:
    table = load_table()
    for chemical in table.chemicals:
        if chemical.tih:
            assert "表1" in chemical.source
        else:
            assert "指南" in chemical.source
        # A fire never isolates less than a spill.
        assert chemical.fire_isolation_m >= chemical.small.isolation_m
    assert table.edition.startswith("ERG")


def test_a_bad_row_is_named(tmp_path: Path) -> None:
    document = _shipped()
    position = next(i for i, row in enumerate(document["chemicals"]) if row["un_number"] == "1053")
    document["chemicals"][position]["small"]["night_m"] = -5
    with pytest.raises(ChemicalTableError, match=rf"chemicals\[{position}\] \(1053\)"):
        _parse(document)


def test_a_protective_distance_inside_the_isolation_ring_is_refused() -> None:
    document = _shipped()
    document["chemicals"][0]["large"]["day_m"] = 10
    with pytest.raises(ChemicalTableError, match=r"chemicals\[0\] \(1017\).*shorter"):
        _parse(document)


def test_unknown_and_missing_fields_are_refused() -> None:
    document = _shipped()
    document["chemicals"][2]["colour"] = "green"
    with pytest.raises(ChemicalTableError, match=r"chemicals\[2\].*colour"):
        _parse(document)
    document = _shipped()
    del document["chemicals"][4]["first_aid"]
    with pytest.raises(ChemicalTableError, match=r"chemicals\[4\].*first_aid"):
        _parse(document)


def test_a_name_or_number_used_twice_is_refused() -> None:
    document = _shipped()
    document["chemicals"][1]["aliases"].append("液氯")
    with pytest.raises(ChemicalTableError, match="液氯"):
        _parse(document)
    document = _shipped()
    document["chemicals"][1]["un_number"] = "1017"
    with pytest.raises(ChemicalTableError, match=r"chemicals\[1\] \(1017\): UN 1017 is already"):
        _parse(document)


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ChemicalTableError, match="cannot read"):
        load_table(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ChemicalTableError, match="chemical table"):
        load_table(broken)
