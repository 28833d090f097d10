"""Registry CSV files: good files load, bad ones are refused naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.registry.files import Error, load_cameras_csv, load_sensors_csv, load_units_csv


def _write(tmp_path: Path, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def test_shipped_registry_files_load() -> None:
    assert load_units_csv()
    assert load_sensors_csv()
    assert load_cameras_csv()


def test_units_with_a_bom_and_blank_optional_cells(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "code,name,agency,jurisdiction,lat,lon\n FIRE-1 , 消防一站 ,fire,320102,,\n",
        bom=True,
    )
    [unit] = load_units_csv(path)
    assert (unit.code, unit.name, unit.agency, unit.jurisdiction) == (
        "FIRE-1",
        "消防一站",
        "fire",
        "320102",
    )
    assert unit.lat is None
    assert unit.lon is None


@pytest.mark.parametrize(
    ("loader", "text", "message"),
    [
        (load_units_csv, "code,name\nA,B\n", "header must contain agency, code, name"),
        (load_units_csv, "code,name,agency\nA,,fire\n", ":2: code, name and agency are required"),
        (load_units_csv, "code,name,agency,lat\nA,B,fire,north\n", ":2: 'north' is not a number"),
        (load_sensors_csv, "sensor_id,kind\nS1,plutonium\n", ":2: unknown kind 'plutonium'"),
        (load_sensors_csv, "sensor_id\nS1\n", "header must contain kind, sensor_id"),
        (
            load_cameras_csv,
            "code,name,lat,lon,stream_url\nC1,Gate,32.1,,rtsp://cam/1\n",
            ":2: lat and lon are required",
        ),
        (
            load_cameras_csv,
            "code,name,lat,lon,stream_url\nC1,Gate,32.1,118.7,\n",
            ":2: stream_url is required",
        ),
    ],
)
def test_bad_files_are_refused_with_file_and_line(
    tmp_path: Path, loader: object, text: str, message: str
) -> None:
    assert callable(loader)
    path = _write(tmp_path, text)
    with pytest.raises(Error) as raised:
        loader(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(Error, match=r"cannot open .*missing\.csv"):
        load_units_csv(tmp_path / "missing.csv")
