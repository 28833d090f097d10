"""Loading registry data shipped in ``resources/`` or given by an integrator."""

from __future__ import annotations

import csv
from pathlib import Path

from backend.cameras import Error as CameraError
from backend.cameras import validate as validate_camera
from backend.sensor_rules import (
    DEFAULT_UNITS,
    Placement,
    SensorConfig,
    SensorKind,
    default_rules,
)
from backend.sensor_rules import Error as SensorRulesError
from realtime.protocol import CameraView, UnitView

RESOURCES_DIR = Path(__file__).resolve().parents[1] / "resources"
DEFAULT_UNITS_CSV = RESOURCES_DIR / "registry" / "units.csv"
DEFAULT_SENSORS_CSV = RESOURCES_DIR / "registry" / "sensors.csv"
DEFAULT_CAMERAS_CSV = RESOURCES_DIR / "registry" / "cameras.csv"
CAMERA_COLUMNS = (
    "code",
    "name",
    "lat",
    "lon",
    "agency",
    "jurisdiction",
    "hazard_source",
    "enterprise",
    "stream_url",
)
"""Columns of a camera CSV; ``code``, ``name``, ``lat``, ``lon`` and ``stream_url`` are required."""


class Error(Exception):
    """A registry file could not be read; the message names the file and line."""


def load_units_csv(path: Path = DEFAULT_UNITS_CSV) -> list[UnitView]:
    """Read units from a ``code,name,agency,jurisdiction[,lat,lon]`` CSV file (UTF-8)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise Error(f"cannot open {path}: {exc.strerror}") from exc
    units: list[UnitView] = []
    with handle:
        reader = csv.DictReader(handle)
        required = {"code", "name", "agency"}
        if reader.fieldnames is None or not required <= set(reader.fieldnames):
            raise Error(f"{path}: header must contain {', '.join(sorted(required))}")
        for line, row in enumerate(reader, start=2):
            code, name, agency = row["code"].strip(), row["name"].strip(), row["agency"].strip()
            if not code or not name or not agency:
                raise Error(f"{path}:{line}: code, name and agency are required")
            units.append(
                UnitView(
                    id=0,
                    code=code,
                    name=name,
                    agency=agency,
                    jurisdiction=(row.get("jurisdiction") or "").strip(),
                    lat=_optional_float(row.get("lat"), f"{path}:{line}"),
                    lon=_optional_float(row.get("lon"), f"{path}:{line}"),
                )
            )
    return units


def _optional_float(value: str | None, where: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise Error(f"{where}: {value!r} is not a number") from exc


def load_sensors_csv(path: Path = DEFAULT_SENSORS_CSV) -> list[SensorConfig]:
    """Read sensors from a CSV file; each gets the shipped default rules for its kind.

    Columns: ``sensor_id,kind,placement,unit,name,place,lat,lon,hazard_source,enterprise,
    jurisdiction,poll_cycle_seconds`` (only ``sensor_id`` and ``kind`` are required).
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise Error(f"cannot open {path}: {exc.strerror}") from exc
    sensors: list[SensorConfig] = []
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"sensor_id", "kind"} <= set(reader.fieldnames):
            raise Error(f"{path}: header must contain sensor_id and kind")
        for line, row in enumerate(reader, start=2):
            where = f"{path}:{line}"
            try:
                kind = SensorKind(row["kind"].strip())
            except ValueError as exc:
                kinds = ", ".join(k.value for k in SensorKind)
                raise Error(f"{where}: unknown kind {row['kind']!r} (use {kinds})") from exc
            try:
                placement = Placement((row.get("placement") or "").strip())
            except ValueError as exc:
                raise Error(f"{where}: unknown placement {row.get('placement')!r}") from exc
            poll = _optional_float(row.get("poll_cycle_seconds"), where)
            try:
                sensors.append(
                    SensorConfig(
                        sensor_id=row["sensor_id"].strip(),
                        kind=kind,
                        unit=(row.get("unit") or "").strip() or DEFAULT_UNITS[kind],
                        rules=default_rules(kind, placement),
                        poll_cycle_seconds=poll if poll is not None else 30.0,
                        placement=placement,
                        name=(row.get("name") or "").strip(),
                        place=(row.get("place") or "").strip(),
                        lat=_optional_float(row.get("lat"), where),
                        lon=_optional_float(row.get("lon"), where),
                        hazard_source=(row.get("hazard_source") or "").strip(),
                        enterprise=(row.get("enterprise") or "").strip(),
                        jurisdiction=(row.get("jurisdiction") or "").strip(),
                    )
                )
            except SensorRulesError as exc:
                raise Error(f"{where}: {exc}") from exc
    return sensors


def load_cameras_csv(path: Path = DEFAULT_CAMERAS_CSV) -> list[CameraView]:
    """Read cameras from a CSV file (UTF-8) with the columns of :data:`CAMERA_COLUMNS`.

    Only the shape is checked here (required columns, numbers); the registry validates
    the values (:func:`backend.cameras.validate`). Errors name the file and line, never
    a stream address (it may carry credentials).
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise Error(f"cannot open {path}: {exc.strerror}") from exc
    cameras: list[CameraView] = []
    with handle:
        reader = csv.DictReader(handle)
        required = {"code", "name", "lat", "lon", "stream_url"}
        if reader.fieldnames is None or not required <= set(reader.fieldnames):
            raise Error(f"{path}: header must contain {', '.join(sorted(required))}")
        for line, row in enumerate(reader, start=2):
            where = f"{path}:{line}"
            lat = _optional_float(row.get("lat"), where)
            lon = _optional_float(row.get("lon"), where)
            if lat is None or lon is None:
                raise Error(f"{where}: lat and lon are required")
            if not (row.get("stream_url") or "").strip():
                raise Error(f"{where}: stream_url is required")
            camera = CameraView(
                id=0,
                code=(row.get("code") or "").strip(),
                name=(row.get("name") or "").strip(),
                lat=lat,
                lon=lon,
                agency=(row.get("agency") or "").strip(),
                jurisdiction=(row.get("jurisdiction") or "").strip(),
                hazard_source=(row.get("hazard_source") or "").strip(),
                enterprise=(row.get("enterprise") or "").strip(),
                stream_url=(row.get("stream_url") or "").strip(),
            )
            try:
                cameras.append(validate_camera(camera))
            except CameraError as exc:
                raise Error(f"{where}: {exc}") from exc
    return cameras
