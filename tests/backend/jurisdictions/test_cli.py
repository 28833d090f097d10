"""``dutydesk jurisdiction``: import (each format, report, all-or-nothing, dry run), list,
show and place, on a real database in a temporary data folder."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.cli.app import main
from backend.config import sqlite_url
from backend.storage import db
from backend.storage.models import EventRecord, JurisdictionRecord, SensorRecord
from tests.backend.jurisdictions.fixtures import (
    GOOD,
    IN_TOWN_B_ONLY,
    IN_VILLAGE,
    TOWN_A,
    TOWN_B,
    VILLAGE,
    csv_row,
    feature,
    write_csv,
    write_geojson,
    write_shapefile,
)


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["jurisdiction", *args, "--data-dir", str(data)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def _stored(data: Path) -> tuple[list[JurisdictionRecord], list[EventRecord]]:
    engine = db.create_engine(sqlite_url(data))
    try:
        async with db.session_factory(engine)() as session:
            rows = list(
                await session.scalars(select(JurisdictionRecord).order_by(JurisdictionRecord.code))
            )
            events = list(await session.scalars(select(EventRecord).order_by(EventRecord.seq)))
    finally:
        await engine.dispose()
    return rows, events


def stored(data: Path) -> tuple[list[JurisdictionRecord], list[EventRecord]]:
    return asyncio.run(_stored(data))


def test_import_geojson_then_list_show_and_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_geojson(tmp_path / "西湖区街道.geojson", [feature(i) for i in GOOD])
    code, out, _ = run(capsys, tmp_path, "import", str(path), "--by", "integrator")
    assert code == 0, out
    assert "3 features, 3 valid (2 镇街, 1 村社), 0 problems" in out
    assert "imported 3 jurisdictions (3 new, 0 updated) by integrator" in out
    rows, events = stored(tmp_path)
    assert [r.code for r in rows] == ["330106001", "330106001001", "330106002"]
    assert (rows[0].source, rows[0].imported_by, rows[0].level) == (
        "西湖区街道.geojson",
        "integrator",
        "town",
    )
    assert json.loads(rows[1].boundary)["type"] == "MultiPolygon"
    assert [(e.kind, e.actor) for e in events] == [("jurisdictions.imported", "integrator")]
    assert "西湖区街道.geojson" in json.loads(events[0].payload)["note"]

    code, out, _ = run(capsys, tmp_path, "list", "--under", "330106", "--level", "town")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["330106001", "330106002"]
    code, out, _ = run(capsys, tmp_path, "show", "330106001000")
    assert code == 0
    assert "浙江省 › 杭州市 › 西湖区 › 北山街道" in out
    assert "children:  1" in out
    assert "by integrator" in out
    code, out, _ = run(capsys, tmp_path, "place", *map(str, IN_VILLAGE))
    assert out.startswith("330106001001  浙江省 › 杭州市 › 西湖区 › 北山街道 › 曙光社区")
    code, out, _ = run(capsys, tmp_path, "place", *map(str, IN_TOWN_B_ONLY))
    assert out.startswith("330106002 ")
    code, out, _ = run(capsys, tmp_path, "place", "30.0", "124.0")
    assert "no jurisdiction" in out

    # Importing again updates; the event log records both imports.
    code, out, _ = run(capsys, tmp_path, "import", str(path), "--by", "integrator")
    assert "(0 new, 3 updated)" in out
    assert len(stored(tmp_path)[1]) == 2


def test_a_file_with_problems_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [feature(TOWN_A), feature(TOWN_A), feature(VILLAGE, parent="330106009")]
    path = write_geojson(tmp_path / "bad.geojson", bad)
    code, out, err = run(capsys, tmp_path, "import", str(path))
    assert code == 1
    assert "3 features, 1 valid (1 镇街), 2 problems" in out
    assert "  feature 2: code: duplicate code 330106001 (also feature 1)" in out
    assert "  feature 3: parent: unknown parent 330106009" in out
    assert "nothing imported" in err
    assert stored(tmp_path) == ([], [])

    code, out, _ = run(capsys, tmp_path, "import", str(path), "--skip-invalid")
    assert code == 0
    assert [r.code for r in stored(tmp_path)[0]] == ["330106001"]


def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "towns.csv", [csv_row(i) for i in GOOD])
    code, out, _ = run(capsys, tmp_path, "import", str(path), "--dry-run")
    assert code == 0
    assert "dry run: nothing written" in out
    assert stored(tmp_path) == ([], [])


def test_shapefile_and_csv_imports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shp = write_shapefile(tmp_path / "towns.shp", [TOWN_A, TOWN_B])
    code, out, _ = run(capsys, tmp_path, "import", str(shp), "--level", "town")
    assert code == 0, out
    rows = [{"编码": "330106001001", "名称": "曙光社区", "wkt": csv_row(VILLAGE)["wkt"]}]
    path = write_csv(tmp_path / "villages.txt", rows, header=("编码", "名称", "wkt"))
    args = ("import", str(path), "--format", "csv", "--level", "village", "--code-field", "编码")
    code, out, _ = run(capsys, tmp_path, *args)
    assert code == 0, out
    assert len(stored(tmp_path)[0]) == 3


def test_unusable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, tmp_path, "import", str(tmp_path / "nope.csv"))
    assert code == 1
    assert "cannot open nope.csv" in err
    empty = write_geojson(tmp_path / "empty.geojson", [])
    code, _, err = run(capsys, tmp_path, "import", str(empty))
    assert code == 1
    assert "nothing to import" in err
    code, _, err = run(capsys, tmp_path, "list", "--under", "abc")
    assert code == 1
    assert "not a region code" in err
    code, _, err = run(capsys, tmp_path, "list", "--under", "339999")
    assert code == 1
    assert "no jurisdiction '339999'" in err
    code, _, err = run(capsys, tmp_path, "show", "339999")
    assert code == 1
    code, out, _ = run(capsys, tmp_path, "list")
    assert code == 0
    assert len(out.splitlines()) == 34
    code, out, _ = run(capsys, tmp_path, "list", "--under", "330106")
    assert out.strip() == "no jurisdictions"


@pytest.mark.parametrize("action", ["import", "list", "show", "place"])
def test_help_shows_examples(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["jurisdiction", action, "--help"])
    assert "dutydesk jurisdiction" in capsys.readouterr().out


def test_registry_imports_place_cameras_and_sensors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cameras = tmp_path / "cameras.csv"
    cameras.write_text(
        "code,name,lat,lon,jurisdiction,stream_url\n"
        "CAM-1,西湖,30.259,120.13,3201,rtsp://10.0.0.1/a\n"
        "CAM-2,海上,30.0,124.0,33,rtsp://10.0.0.1/b\n",
        encoding="utf-8",
    )
    assert main(["camera", "import", str(cameras), "--data-dir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert (
        "warning: camera CAM-1 stands in 330106, not in the given jurisdiction 3201" in captured.err
    )
    assert main(["camera", "list", "--data-dir", str(tmp_path)]) == 0
    listed = {line.split()[0]: line.split()[4] for line in capsys.readouterr().out.splitlines()}
    assert listed == {"CAM-1": "330106", "CAM-2": "33"}

    sensors = tmp_path / "sensors.csv"
    sensors.write_text(
        "sensor_id,kind,lat,lon,jurisdiction\nch4-1,ch4,31.2304,121.544,\n", encoding="utf-8"
    )
    assert main(["sensor", "import", str(sensors), "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()

    async def jurisdiction_of_sensor() -> str:
        engine = db.create_engine(sqlite_url(tmp_path))
        try:
            async with db.session_factory(engine)() as session:
                return str(await session.scalar(select(SensorRecord.jurisdiction)))
        finally:
            await engine.dispose()

    assert asyncio.run(jurisdiction_of_sensor()) == "310115"
