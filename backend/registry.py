"""Loading registry data shipped in ``resources/`` or given by an integrator."""

from __future__ import annotations

import csv
from pathlib import Path

from realtime.protocol import UnitView

RESOURCES_DIR = Path(__file__).resolve().parents[1] / "resources"
DEFAULT_UNITS_CSV = RESOURCES_DIR / "registry" / "units.csv"


class Error(Exception):
    """A registry file could not be read; the message names the file and line."""


def load_units_csv(path: Path = DEFAULT_UNITS_CSV) -> list[UnitView]:
    """Read units from a ``code,name,agency,jurisdiction`` CSV file (UTF-8)."""
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
                )
            )
    return units
