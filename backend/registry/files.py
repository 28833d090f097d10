"""Loading registry data shipped in ``resources/`` or given by an integrator."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import msgspec

from backend.registry.cameras import Error as CameraError
from backend.registry.cameras import validate as validate_camera
from backend.sensors.rules import (
    DEFAULT_UNITS,
    Placement,
    SensorConfig,
    SensorKind,
    default_rules,
)
from backend.sensors.rules import Error as SensorRulesError
from realtime.protocol import CameraView, RegistryItemInput, UnitView

RESOURCES_DIR = Path(__file__).resolve().parents[2] / "resources"
DEFAULT_UNITS_CSV = RESOURCES_DIR / "registry" / "units.csv"
DEFAULT_SENSORS_CSV = RESOURCES_DIR / "registry" / "sensors.csv"
DEFAULT_CAMERAS_CSV = RESOURCES_DIR / "registry" / "cameras.csv"
DEMO_REGISTRY_JSON = RESOURCES_DIR / "registry" / "demo_registry.json"
"""The demo city's sample registry (fictional): enterprises, hazard sources, teams,
equipment, shelters, experts, protection targets and plans."""
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


def _csv_rows(path: Path, required: set[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """Rows of a UTF-8 CSV file (a BOM is fine) with their ``file:line`` for messages.

    Cells are stripped; a missing or empty cell reads as ``""``.
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise Error(f"cannot open {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not required <= set(reader.fieldnames):
            raise Error(f"{path}: header must contain {', '.join(sorted(required))}")
        for line, row in enumerate(reader, start=2):
            cells = {key: (value or "").strip() for key, value in row.items() if key is not None}
            yield f"{path}:{line}", cells


def load_units_csv(path: Path = DEFAULT_UNITS_CSV) -> list[UnitView]:
    """Read units from a ``code,name,agency,jurisdiction[,lat,lon]`` CSV file (UTF-8)."""
    units: list[UnitView] = []
    for where, row in _csv_rows(path, {"code", "name", "agency"}):
        code, name, agency = row["code"], row["name"], row["agency"]
        if not code or not name or not agency:
            raise Error(f"{where}: code, name and agency are required")
        units.append(
            UnitView(
                id=0,
                code=code,
                name=name,
                agency=agency,
                jurisdiction=row.get("jurisdiction", ""),
                lat=_optional_float(row.get("lat"), where),
                lon=_optional_float(row.get("lon"), where),
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
    sensors: list[SensorConfig] = []
    for where, row in _csv_rows(path, {"sensor_id", "kind"}):
        try:
            kind = SensorKind(row["kind"])
        except ValueError as exc:
            kinds = ", ".join(k.value for k in SensorKind)
            raise Error(f"{where}: unknown kind {row['kind']!r} (use {kinds})") from exc
        try:
            placement = Placement(row.get("placement", ""))
        except ValueError as exc:
            raise Error(f"{where}: unknown placement {row.get('placement')!r}") from exc
        poll = _optional_float(row.get("poll_cycle_seconds"), where)
        try:
            sensors.append(
                SensorConfig(
                    sensor_id=row["sensor_id"],
                    kind=kind,
                    unit=row.get("unit") or DEFAULT_UNITS[kind],
                    rules=default_rules(kind, placement),
                    poll_cycle_seconds=poll if poll is not None else 30.0,
                    placement=placement,
                    name=row.get("name", ""),
                    place=row.get("place", ""),
                    lat=_optional_float(row.get("lat"), where),
                    lon=_optional_float(row.get("lon"), where),
                    hazard_source=row.get("hazard_source", ""),
                    enterprise=row.get("enterprise", ""),
                    jurisdiction=row.get("jurisdiction", ""),
                )
            )
        except SensorRulesError as exc:
            raise Error(f"{where}: {exc}") from exc
    return sensors


def load_cameras_csv(path: Path = DEFAULT_CAMERAS_CSV) -> list[CameraView]:
    """Read cameras from a CSV file (UTF-8) with the columns of :data:`CAMERA_COLUMNS`.

    Only the shape is checked here (required columns, numbers); the registry validates
    the values (:func:`backend.registry.cameras.validate`). Errors name the file and line, never
    a stream address (it may carry credentials).
    """
    cameras: list[CameraView] = []
    for where, row in _csv_rows(path, {"code", "name", "lat", "lon", "stream_url"}):
        lat = _optional_float(row.get("lat"), where)
        lon = _optional_float(row.get("lon"), where)
        if lat is None or lon is None:
            raise Error(f"{where}: lat and lon are required")
        if not row.get("stream_url"):
            raise Error(f"{where}: stream_url is required")
        camera = CameraView(
            id=0,
            code=row.get("code", ""),
            name=row.get("name", ""),
            lat=lat,
            lon=lon,
            agency=row.get("agency", ""),
            jurisdiction=row.get("jurisdiction", ""),
            hazard_source=row.get("hazard_source", ""),
            enterprise=row.get("enterprise", ""),
            stream_url=row.get("stream_url", ""),
        )
        try:
            cameras.append(validate_camera(camera))
        except CameraError as exc:
            raise Error(f"{where}: {exc}") from exc
    return cameras


def load_registry_json(path: Path = DEMO_REGISTRY_JSON) -> list[RegistryItemInput]:
    """Read registry items from a JSON list of :class:`RegistryItemInput` (the shape
    ``registry.save`` sends). Only the shape is checked here; the registry service
    validates the values and the references when it imports them."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Error(f"cannot open {path}: {exc.strerror}") from exc
    try:
        return msgspec.json.decode(data, type=list[RegistryItemInput])
    except msgspec.DecodeError as exc:
        raise Error(f"{path}: {exc}") from exc
