"""``dutydesk sensor``: import and list sensors, show or replace a sensor's thresholds."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
)
from backend.eventlog import notify
from backend.jurisdictions.store import load_tree
from backend.registry.files import Error as RegistryError
from backend.registry.files import load_sensors_csv
from backend.sensors import registry as sensor_registry
from backend.sensors.rules import Error as SensorRulesError
from backend.sensors.rules import RuleSet
from backend.sensors.service import place_sensor
from backend.storage.models import SensorRecord


def add_parser(commands: Subparsers) -> None:
    """Register ``sensor`` and its actions ``import``, ``rules`` and ``list``."""
    sensor = commands.add_parser(
        "sensor",
        help="manage sensors and their thresholds",
        description="Register gas, temperature, pressure and level sensors at major hazard "
        "sources and coal mines. Each gets the shipped default thresholds for its kind "
        "(coal-mine rules for CH4 and CO), editable per sensor.",
    )
    actions = sensor.add_subparsers(dest="sensor_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="import sensors from CSV",
        description="Import (insert or update) sensors from a CSV file with columns "
        "sensor_id,kind,placement,unit,name,place,lat,lon,hazard_source,enterprise,"
        "jurisdiction,poll_cycle_seconds (sensor_id and kind required).",
        epilog="example: dutydesk sensor import resources/registry/sensors.csv",
    )
    imp.add_argument("file", type=Path, help="CSV file (UTF-8)")
    add_storage_options(imp)
    imp.set_defaults(func=_cmd_sensor_import)
    rules = actions.add_parser(
        "rules",
        help="show or replace a sensor's thresholds",
        description="Print a sensor's rules as JSON (thresholds per level with direction, "
        "value, restore and dwell; rate limits; stale cycles; flapping window), or replace "
        "them from a JSON file of the same shape. The file is validated before anything "
        "is saved.",
        epilog="example: dutydesk sensor rules ch4-0001 > ch4.json; edit; "
        "dutydesk sensor rules ch4-0001 --file ch4.json",
    )
    rules.add_argument("sensor_id")
    rules.add_argument("--file", type=Path, help="JSON rules to save for this sensor")
    add_storage_options(rules)
    rules.set_defaults(func=_cmd_sensor_rules)
    lst = actions.add_parser(
        "list", help="list sensors", description="List sensors and their thresholds."
    )
    add_storage_options(lst)
    lst.set_defaults(func=_cmd_sensor_list)


def _cmd_sensor_import(args: argparse.Namespace) -> int:
    try:
        configs = load_sensors_csv(args.file)
    except RegistryError as exc:
        err(f"dutydesk sensor import: {exc}")
        return EXIT_FAILURE

    async def work() -> None:
        async with database(args) as sessions:
            # Sensors lie where they stand: placed wins over the file's jurisdiction.
            tree = await load_tree(sessions)
            async with sessions.begin() as session:
                now = dt.datetime.now(dt.UTC)
                for given in configs:
                    config, warning = place_sensor(given, tree)
                    if warning:
                        err(f"warning: {warning}")
                    await sensor_registry.save_sensor(session, config, now=now)
                # Running servers watch them at once (on SQLite: within seconds).
                await notify.notify_change(
                    session, notify.SENSORS_CHANGED, ids=[c.sensor_id for c in configs]
                )

    asyncio.run(work())
    out(f"imported {len(configs)} sensors from {args.file} (running servers watch them at once)")
    return EXIT_OK


def _cmd_sensor_list(args: argparse.Namespace) -> int:
    async def work() -> None:
        async with database(args) as sessions, sessions() as session:
            configs = await sensor_registry.load_sensors(session)
        if not configs:
            out("no sensors registered")
        for c in configs:
            limits = ", ".join(
                f"{t.level}≥{t.value:g}" if t.direction == "high" else f"{t.level}≤{t.value:g}"
                for t in c.rules.thresholds
            )
            out(f"{c.sensor_id:<16} {c.kind:<12} {c.unit:<5} {c.name:<28} {limits or '-'}")

    asyncio.run(work())
    return EXIT_OK


def _cmd_sensor_rules(args: argparse.Namespace) -> int:
    new_rules: RuleSet | None = None
    if args.file is not None:
        try:
            new_rules = RuleSet.from_data(json.loads(Path(args.file).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, SensorRulesError) as exc:
            err(f"dutydesk sensor rules: {args.file}: {exc}")
            return EXIT_FAILURE

    async def work() -> int:
        async with database(args) as sessions, sessions.begin() as session:
            record = await session.scalar(
                select(SensorRecord).where(SensorRecord.sensor_id == args.sensor_id)
            )
            if record is None:
                err(f"dutydesk sensor rules: no sensor {args.sensor_id}")
                return EXIT_FAILURE
            if new_rules is not None:
                record.rules = new_rules.to_data()
                record.updated_at = dt.datetime.now(dt.UTC)
                await notify.notify_change(session, notify.SENSORS_CHANGED, ids=[args.sensor_id])
            rules = record.rules
        out(json.dumps(rules, ensure_ascii=False, indent=2))
        if new_rules is not None:
            err("saved; running servers apply the new rules at once (on SQLite: within seconds)")
        return EXIT_OK

    return asyncio.run(work())
