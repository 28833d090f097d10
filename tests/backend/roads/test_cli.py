"""``dutydesk basemap import`` on SQLite and PostgreSQL: an extract replaces the stored
layer whole; --dry-run writes nothing; a bad file, or one without roads, is one clear
line and leaves the stored layer as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.cli.app import main
from backend.security import FieldCipher
from backend.storage.db import create_engine, migrate
from backend.storage.models import RoadSegmentRow
from tests.backend.roads.samples import write_osm_pbf, write_osm_xml


async def stored(db_url: str) -> list[tuple[str, str, str]]:
    """(class, name, source) of the stored roads, in order."""
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(
                    RoadSegmentRow.road_class, RoadSegmentRow.name, RoadSegmentRow.source
                ).order_by(RoadSegmentRow.id)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        await engine.dispose()


async def run(*argv: str) -> int:
    # The command runs its own event loop, as from a shell.
    return await asyncio.to_thread(main, list(argv))


@pytest.fixture
def data(tmp_path: Path, db_url: str) -> list[str]:
    FieldCipher.from_data_dir(tmp_path)
    return ["--data-dir", str(tmp_path), "--db", db_url]


async def test_an_import_replaces_the_layer_and_a_dry_run_writes_nothing(
    tmp_path: Path, db_url: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    pbf = write_osm_pbf(tmp_path / "area.osm.pbf")
    assert await run("basemap", "import", str(pbf), "--dry-run", *data) == 0
    assert "area.osm.pbf: 5 ways read, would store 3 roads" in capsys.readouterr().out
    assert await stored(db_url) == []

    assert await run("basemap", "import", str(pbf), *data) == 0
    output = capsys.readouterr().out
    assert "stored 3 roads (left out — highway=footway: 1" in output
    assert await stored(db_url) == [
        ("primary", "化工大道", "area.osm.pbf"),
        ("service", "园区支路", "area.osm.pbf"),
        ("motorway", "", "area.osm.pbf"),
    ]
    # Again from the XML: replaced, not added to.
    xml = write_osm_xml(tmp_path / "area.osm")
    assert await run("basemap", "import", str(xml), *data) == 0
    assert [source for _, _, source in await stored(db_url)] == ["area.osm"] * 3


async def test_a_bad_file_is_one_line_and_keeps_the_layer(
    tmp_path: Path, db_url: str, data: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    xml = write_osm_xml(tmp_path / "good.osm")
    assert await run("basemap", "import", str(xml), *data) == 0
    capsys.readouterr()
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"\x00\x00\x00\x0dnot really a pbf block" * 20)
    assert await run("basemap", "import", str(broken), *data) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert error[0].startswith("dutydesk basemap import: broken.osm.pbf: not a readable OSM")
    no_roads = tmp_path / "buildings.osm"
    no_roads.write_text(
        "<osm version='0.6'><node id='1' version='1' lat='32' lon='118'/>"
        "<node id='2' version='1' lat='32.1' lon='118'/><way id='3' version='1'>"
        "<nd ref='1'/><nd ref='2'/><tag k='building' v='yes'/></way></osm>",
        encoding="utf-8",
    )
    assert await run("basemap", "import", str(no_roads), *data) == 1
    assert "buildings.osm holds no road (highway=*): the stored layer is kept" in (
        capsys.readouterr().err
    )
    assert [name for _, name, _ in await stored(db_url)] == ["化工大道", "园区支路", ""]


def test_the_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["basemap", "import", "--help"])
    text = capsys.readouterr().out
    assert "--dry-run" in text
    assert "--datum" in text
    assert "ODbL" in text


async def test_progress_is_told_on_large_files(
    tmp_path: Path,
    data: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("backend.roads.reader.PROGRESS_EVERY", 2)
    xml = write_osm_xml(tmp_path / "area.osm")
    assert await run("basemap", "import", str(xml), *data) == 0
    progress = capsys.readouterr().err.splitlines()
    assert progress[:2] == [
        "dutydesk basemap import: 2 ways read, 1 roads kept …",
        "dutydesk basemap import: 4 ways read, 2 roads kept …",
    ]
