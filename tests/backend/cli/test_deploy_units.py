"""The shipped systemd units (resources/deploy/systemd) start commands that exist: every
ExecStart, with its ``%i`` and ``${VARIABLE}`` filled in as systemd would, is accepted by
the ``dutydesk`` parser, and every variable a unit uses is set in the shipped environment
file. (``systemd-analyze verify`` would need the installed paths; the parser is what
decides whether a command line runs.) The shipped PostgreSQL settings name settings the
server knows."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.cli.app import build_parser
from backend.storage import db

UNITS = Path(__file__).parents[3] / "resources" / "deploy" / "systemd"


def _environment() -> dict[str, str]:
    values = {}
    for line in (UNITS / "dutydesk.env").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def _exec_start(unit: Path) -> str:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text(encoding="utf-8").replace("\\\n", " "))
    return parser["Service"]["ExecStart"]


@pytest.mark.parametrize("unit", sorted(UNITS.glob("*.service")), ids=lambda path: path.name)
def test_every_unit_starts_a_command_the_parser_accepts(unit: Path) -> None:
    environment = _environment()
    line = _exec_start(unit).replace("%i", "8765")
    used = set(re.findall(r"\$\{(\w+)\}", line))
    assert used <= set(environment), f"{unit.name} uses variables dutydesk.env does not set"
    for name in used:
        line = line.replace(f"${{{name}}}", environment[name])
    program, *arguments = shlex.split(line)
    assert program == "/opt/dutydesk/.venv/bin/dutydesk"
    build_parser().parse_args(arguments)  # exits (SystemExit 2) on an unknown option


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_the_postgresql_settings_name_settings_postgresql_has(db_url: str) -> None:
    shipped = UNITS.parent / "postgresql" / "dutydesk.conf"
    names = [
        line.split("=", 1)[0].strip()
        for line in shipped.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    engine = db.create_engine(db_url)
    try:
        async with engine.connect() as connection:
            known = set(
                await connection.scalars(
                    text("SELECT name FROM pg_settings WHERE name = ANY(:names)"), {"names": names}
                )
            )
    finally:
        await engine.dispose()
    assert sorted(set(names) - known) == []
