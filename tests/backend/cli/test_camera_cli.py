"""``dutydesk camera``: add, list, import and remove, with credentials kept out of sight."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from backend.authz.principal import Principal
from backend.cli.app import main
from backend.config import sqlite_url
from backend.registry.cameras import CameraRegistry
from backend.registry.files import DEFAULT_CAMERAS_CSV, load_cameras_csv
from backend.security import FieldCipher
from backend.storage import db
from realtime.protocol import CameraView, Role

SECRET = "cli-s3cret"


def cameras_as_the_server_sees_them(data_dir: Path) -> list[CameraView]:
    """Read the registry with the data folder's key, as a server on that folder would."""

    async def read() -> list[CameraView]:
        engine = db.create_engine(sqlite_url(data_dir))
        try:
            registry = CameraRegistry(
                db.session_factory(engine), FieldCipher.from_data_dir(data_dir)
            )
            everyone = Principal(
                user_id=0,
                username="t",
                display_name="",
                role=Role.ADMIN,
                agency=None,
                jurisdiction="",
            )
            return await registry.visible_to(everyone)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_add_list_remove(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    data = ["--data-dir", str(tmp_path)]
    url_file = tmp_path / "gate.url"
    url_file.write_text(f"rtsp://admin:{SECRET}@10.0.0.7:554/ch1\n", encoding="utf-8")
    gate = ["GATE", "--name", "北门", "--lat", "32.262", "--lon", "118.779"]
    assert main(["camera", "add", *gate, "--agency", "transport", "--url-file", str(url_file),
                 *data]) == 0  # fmt: skip
    tank = ["TANK", "--name", "储罐", "--lat", "32.256", "--lon", "118.782"]
    assert main(["camera", "add", *tank, "--hazard-source", "A 区储罐区", "--enterprise",
                 "江北化工", "--url", "/srv/clips/tank.mp4", *data]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "added camera GATE (北门): rtsp://***@10.0.0.7:554/ch1" in out
    assert main(["camera", "list", *data]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing] == ["GATE", "TANK"]
    assert listing[0].endswith("rtsp://***@10.0.0.7:554/ch1")
    assert "transport" in listing[0]
    seen = {c.code: c for c in cameras_as_the_server_sees_them(tmp_path)}
    assert seen["GATE"].stream_url == f"rtsp://admin:{SECRET}@10.0.0.7:554/ch1"
    assert seen["TANK"].hazard_source == "A 区储罐区"
    assert main(["camera", "remove", "GATE", *data]) == 0
    assert main(["camera", "remove", "GATE", *data]) == 1
    captured = capsys.readouterr()
    assert "no camera GATE" in captured.err
    assert main(["camera", "list", *data]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["TANK"]
    assert SECRET not in caplog.text


def test_add_refuses_bad_input_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    base = ["camera", "add", "C1", "--name", "x", "--lat", "32.2", "--lon", "118.7"]
    assert main([*base, *data]) == 2
    assert "--url or --url-file" in capsys.readouterr().err
    assert main([*base, "--url", f"ftp://u:{SECRET}@h/x", *data]) == 1
    err = capsys.readouterr().err
    assert "must start with" in err
    assert SECRET not in err
    assert main([*base, "--url", "rtsp://h/x", "--jurisdiction", "east", *data]) == 1
    assert "region-code prefix" in capsys.readouterr().err
    assert main([*base, "--url", "rtsp://h/x", *data]) == 0
    assert main([*base, "--url", "rtsp://h/x", *data]) == 1
    assert "already registered" in capsys.readouterr().err


def test_import_the_samples_then_a_changed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    samples = load_cameras_csv()
    assert main(["camera", "import", str(DEFAULT_CAMERAS_CSV), *data]) == 0
    assert f"{len(samples)} new, 0 updated" in capsys.readouterr().out
    changed = tmp_path / "changed.csv"
    lines = DEFAULT_CAMERAS_CSV.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("demo-only", SECRET)
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["camera", "import", str(changed), *data]) == 0
    out = capsys.readouterr().out
    assert f"0 new, 1 updated, {len(samples) - 1} unchanged" in out
    seen = {c.code: c.stream_url for c in cameras_as_the_server_sees_them(tmp_path)}
    assert SECRET in seen[samples[0].code]
    assert main(["camera", "list", *data]) == 0
    assert SECRET not in capsys.readouterr().out


def test_import_names_the_bad_line_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,lat,lon,stream_url\n"
        "OK-1,好的,32.2,118.7,rtsp://h/1\n"
        f"BAD-2,坏的,north,118.7,rtsp://u:{SECRET}@h/2\n",
        encoding="utf-8",
    )
    assert main(["camera", "import", str(bad), *data]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3" in err
    assert "'north' is not a number" in err
    assert SECRET not in err
    bad.write_text("code,name,lat,lon,stream_url\nX,y,32.2,118.7,smb://h/1\n", encoding="utf-8")
    assert main(["camera", "import", str(bad), *data]) == 1
    assert f"{bad}:2: camera X: a stream address must start with" in capsys.readouterr().err
    bad.write_text("code,name\nX,y\n", encoding="utf-8")
    assert main(["camera", "import", str(bad), *data]) == 1
    assert "header must contain" in capsys.readouterr().err
    assert main(["camera", "list", *data]) == 0
    assert capsys.readouterr().out.strip() == "no cameras registered"
