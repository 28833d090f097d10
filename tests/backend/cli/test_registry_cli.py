"""``dutydesk registry import/export/template`` on SQLite and PostgreSQL: all or nothing,
--partial, --dry-run, the report file, and export → import giving the same items."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import msgspec
import openpyxl
import pytest
from sqlalchemy import func, select

from backend.cli.app import main
from backend.registry import sheets
from backend.registry.sheet_columns import KIND_SHEET_NAMES
from backend.registry.sheet_examples import EXAMPLES
from backend.security import FieldCipher
from backend.storage.db import create_engine, migrate
from backend.storage.models import EventRecord, RegistryItem
from realtime.protocol import HazardSourceDetails, ItemKind, RegistryItemView

PHONE = "13800000000"


def examples() -> dict[ItemKind, RegistryItemView]:
    """The template's examples, minus the sensors and cameras no test database holds."""
    found = dict(EXAMPLES)
    hazard = found[ItemKind.HAZARD_SOURCE]
    assert isinstance(hazard.details, HazardSourceDetails)
    details = msgspec.structs.replace(hazard.details, sensors=[], cameras=[])
    found[ItemKind.HAZARD_SOURCE] = msgspec.structs.replace(hazard, details=details)
    return found


def whole_registry(path: Path) -> None:
    """An .xlsx with one sheet per kind, one example item in each."""
    book = openpyxl.Workbook(write_only=True)
    for kind, view in examples().items():
        single = path.with_name(f"{kind.value}.xlsx")
        sheets.write_items(single, kind, [view])
        source = openpyxl.load_workbook(single, read_only=True)
        sheet = book.create_sheet(KIND_SHEET_NAMES[kind])
        for row in source.active.iter_rows(values_only=True):
            sheet.append(row)
        source.close()
    book.save(path)


async def counts(db_url: str) -> tuple[int, int]:
    """(registry items, registry events) in the database."""
    engine = create_engine(db_url)
    try:
        await migrate(engine)  # a refused import may never have opened the database
        async with engine.connect() as connection:
            items = await connection.scalar(select(func.count()).select_from(RegistryItem))
            events = await connection.scalar(
                select(func.count())
                .select_from(EventRecord)
                .where(EventRecord.kind.like("registry.%"))
            )
    finally:
        await engine.dispose()
    return int(items or 0), int(events or 0)


async def run(*argv: str) -> int:
    # The command runs its own event loop, as from a shell.
    return await asyncio.to_thread(main, list(argv))


@pytest.fixture
def data(tmp_path: Path, db_url: str) -> list[str]:
    FieldCipher.from_data_dir(tmp_path)  # the data key a server would have made
    return ["--data-dir", str(tmp_path), "--db", db_url]


async def test_one_bad_row_means_nothing_is_written(
    tmp_path: Path, db_url: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shelters.csv"
    path.write_text(
        "代码,名称,容纳人数\nS1,一号,100\nS2,二号,很多\nS3,三号,300\n", encoding="utf-8"
    )
    report = tmp_path / "report.csv"

    assert (
        await run(
            "registry", "import", str(path), "--kind", "shelter", "--report", str(report), *data
        )
        == 1
    )

    captured = capsys.readouterr()
    assert "shelters.csv: 3 rows, 2 valid, 1 problems" in captured.out
    assert "shelters.csv row 3 容纳人数: not a number: '很多'" in captured.out
    assert "nothing imported" in captured.err
    with report.open(encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream)) == [
            ["sheet", "row", "column", "reason"],
            ["shelters.csv", "3", "容纳人数", "not a number: '很多'"],
        ]
    assert await counts(db_url) == (0, 0)

    assert await run("registry", "import", str(path), "--kind", "shelter", "--partial", *data) == 0
    assert "imported 2 items (2 new, 0 updated, 0 unchanged)" in capsys.readouterr().out
    assert await counts(db_url) == (2, 3)  # two changes and the file's own event


async def test_a_conflict_with_the_database_writes_nothing(
    tmp_path: Path, db_url: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hazards.csv"
    path.write_text(
        "代码,名称,危险源等级,所属企业\nH1,罐区,一级,\nH2,罐区2,二级,NO-SUCH\n", encoding="utf-8"
    )

    report = tmp_path / "report.csv"

    assert (
        await run(
            "registry",
            "import",
            str(path),
            "--kind",
            "hazard_source",
            "--report",
            str(report),
            *data,
        )
        == 1
    )

    captured = capsys.readouterr()
    refusal = "hazards.csv row 3 所属企业: no enterprise 'NO-SUCH' in the registry"
    assert f"  {refusal}" in captured.out
    assert "nothing imported: the database refused the item above" in captured.err
    with report.open(encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream))[1:] == [
            ["hazards.csv", "3", "所属企业", "no enterprise 'NO-SUCH' in the registry"]
        ]
    assert await counts(db_url) == (0, 0)


async def test_a_dry_run_checks_everything_and_writes_nothing(
    tmp_path: Path, db_url: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "registry.xlsx"
    whole_registry(path)

    assert await run("registry", "import", str(path), "--dry-run", *data) == 0

    assert "dry run: would import 8 items (8 new, 0 updated, 0 unchanged)" in (
        capsys.readouterr().out
    )
    assert await counts(db_url) == (0, 0)


async def test_export_then_import_gives_the_same_items(
    tmp_path: Path, db_url: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "registry.xlsx"
    whole_registry(path)
    assert await run("registry", "import", str(path), *data) == 0
    assert "imported 8 items (8 new, 0 updated, 0 unchanged)" in capsys.readouterr().out
    stored = await counts(db_url)

    for kind in ItemKind:
        for suffix in (".xlsx", ".csv"):
            exported = tmp_path / f"out-{kind.value}{suffix}"
            assert await run("registry", "export", "--kind", kind.value, str(exported), *data) == 0
            assert f"exported 1 {kind.value} items" in capsys.readouterr().out
            read = sheets.read_items(exported, kind)
            assert read.problems == []
            want = examples()[kind]
            assert [(i.code, i.name, i.lat, i.lon, i.address) for i in read.items] == [
                (want.code, want.name, want.lat, want.lon, want.address)
            ]
            assert await run("registry", "import", str(exported), "--kind", kind.value, *data) == 0
            assert "(0 new, 0 updated, 1 unchanged)" in capsys.readouterr().out
    # Nothing changed: each import wrote only its own registry.imported event.
    assert await counts(db_url) == (stored[0], stored[1] + 2 * len(ItemKind))


async def test_contacts_are_masked_unless_asked_for(
    tmp_path: Path, db_url: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "registry.xlsx"
    whole_registry(path)
    assert await run("registry", "import", str(path), *data) == 0
    masked, full = tmp_path / "masked.csv", tmp_path / "full.csv"

    assert await run("registry", "export", "--kind", "expert", str(masked), *data) == 0
    assert (
        await run("registry", "export", "--kind", "expert", str(full), "--with-contacts", *data)
        == 0
    )

    assert PHONE not in masked.read_text(encoding="utf-8-sig")
    assert "138****0000" in masked.read_text(encoding="utf-8-sig")
    assert PHONE in full.read_text(encoding="utf-8-sig")
    assert "personal data" in capsys.readouterr().err
    # The masked file imports back without losing the stored numbers.
    assert await run("registry", "import", str(masked), "--kind", "expert", *data) == 0
    assert (
        await run("registry", "export", "--kind", "expert", str(full), "--with-contacts", *data)
        == 0
    )
    assert PHONE in full.read_text(encoding="utf-8-sig")


def test_the_template_command_writes_a_file_to_fill_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "模板.xlsx"
    assert main(["registry", "template", str(path), "--kind", "team", "--kind", "expert"]) == 0
    assert openpyxl.load_workbook(path).sheetnames == ["应急队伍", "专家", "说明"]
    assert main(["registry", "template", str(tmp_path / "t.csv")]) == 1
    assert "a CSV template holds one kind" in capsys.readouterr().err


def test_an_unreadable_file_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    assert main(["registry", "import", str(path), "--data-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == (
        "dutydesk registry: fake.xlsx: not an Excel .xlsx file (not a zip archive)"
    )


def test_a_large_file_shows_its_progress_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backend.cli.registry.PROGRESS_SECONDS", 0.0)
    path = tmp_path / "equipment.csv"
    lines = ["代码,名称,类别", *(f"EQ{i},物资{i},帐篷" for i in range(3_000)), "EQ0,重复,帐篷"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert (
        main(["registry", "import", str(path), "--kind", "equipment", "--data-dir", str(tmp_path)])
        == 1
    )

    captured = capsys.readouterr()
    assert "equipment.csv: 1,000 rows read of 3,001 (33%)" in captured.err
    assert "equipment.csv: 3,000 rows read of 3,001 (100%)" in captured.err
    assert "equipment.csv row 3002 代码: duplicate code EQ0 (also row 2)" in captured.out
    assert "nothing imported" in captured.err
