"""Registry import benchmark: a 50,000-row .xlsx read, checked and stored.

The file is generated first (not timed): one sheet per kind, as an officer's workbook
would be — 10,000 enterprises, 2,000 hazard sources naming them, 2,000 teams, 20,000
equipment lines, 2,000 shelters, 2,000 experts and 12,000 protection targets, with
contacts, lists and chemicals in their cells and every other row's coordinates in GCJ-02.
Then, in this process:

1. **Floor**: openpyxl's own read of every row of the same file (read-only mode,
   ``iter_rows(values_only=True)``), doing nothing with them — no reader can be faster.
2. **Parse**: :func:`backend.registry.sheets.read_items` (cells decoded, rows validated
   into ``RegistryItemInput``, GCJ-02 converted, duplicate codes checked). Printed: rows/s
   and the ratio to the floor.
3. **Import**: ``RegistryService.import_items`` into a fresh SQLite file (and a fresh
   PostgreSQL database when ``$DUTYDESK_TEST_PG`` is set): one transaction, one event per
   item. Printed: rows/s.

The goal (issue 16): 50,000 rows imported (parse + import) in ≤ 30 s. Exit 1 when the
SQLite figure misses it.

    .venv/bin/python bench/registry_import.py [--rows 50000] [--keep FILE.xlsx]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import numpy as np
import openpyxl

from backend.eventlog import log as eventlog
from backend.jurisdictions.datum import wgs84_to_gcj02
from backend.registry import sheets
from backend.registry.items import RegistryService
from backend.registry.sheet_columns import KIND_SHEET_NAMES, headers, view_row
from backend.registry.sheet_examples import EXAMPLES
from backend.security import FieldCipher
from backend.server.testing import fresh_postgres_database
from backend.storage.db import create_engine, migrate, session_factory
from realtime.protocol import (
    ChemicalAmount,
    Contact,
    HazardSourceDetails,
    ItemKind,
    RegistryItemInput,
    RegistryItemView,
)

GOAL_SECONDS = 30.0
MIX = {
    ItemKind.ENTERPRISE: 0.20,
    ItemKind.HAZARD_SOURCE: 0.04,
    ItemKind.TEAM: 0.04,
    ItemKind.EQUIPMENT: 0.40,
    ItemKind.SHELTER: 0.04,
    ItemKind.EXPERT: 0.04,
    ItemKind.TARGET: 0.24,
}
"""Share of the rows per kind (plans are few: one per type and level)."""
PREFIX = {
    ItemKind.ENTERPRISE: "ENT",
    ItemKind.HAZARD_SOURCE: "HS",
    ItemKind.TEAM: "TEAM",
    ItemKind.EQUIPMENT: "EQ",
    ItemKind.SHELTER: "SH",
    ItemKind.EXPERT: "EXP",
    ItemKind.TARGET: "TGT",
}


def _items(kind: ItemKind, count: int, rng: random.Random) -> Iterator[RegistryItemView]:
    example = EXAMPLES[kind]
    for index in range(count):
        details = example.details
        if isinstance(details, HazardSourceDetails):
            details = HazardSourceDetails(
                grade=rng.randint(1, 4),
                enterprise=f"ENT-{index:06d}",
                chemicals=[
                    ChemicalAmount(name="液氯", un_number="1017", quantity_t=rng.uniform(1, 90)),
                    ChemicalAmount(name="液氨", un_number="1005", quantity_t=rng.uniform(1, 90)),
                ],
            )
        elif hasattr(details, "contacts"):
            contacts = [
                Contact(name=f"联系人{index}", role="值班电话", phone=f"138{index:08d}"),
                Contact(name=f"负责人{index}", role="主要负责人", phone=f"139{index:08d}"),
            ]
            details = msgspec.structs.replace(details, contacts=contacts)
        yield RegistryItemView(
            kind=kind,
            code=f"{PREFIX[kind]}-{index:06d}",
            name=f"{KIND_SHEET_NAMES[kind]}{index:06d}",
            version=1,
            address=f"杭州市西湖区示例路 {index} 号",
            lat=rng.uniform(30.10, 30.40),
            lon=rng.uniform(119.95, 120.30),
            details=details,
            updated_at=example.updated_at,
        )


def generate(path: Path, rows: int) -> None:
    """Write the benchmark's workbook: ``rows`` items over the kinds of :data:`MIX`."""
    rng = random.Random(16)
    book = openpyxl.Workbook(write_only=True)
    datum_index = headers(ItemKind.ENTERPRISE, retired=False).index("坐标系")
    for kind, share in MIX.items():
        sheet = book.create_sheet(KIND_SHEET_NAMES[kind])
        sheet.append(headers(kind, retired=False))
        for index, item in enumerate(_items(kind, round(rows * share), rng)):
            row = view_row(kind, item, retired=False)
            if index % 2 and item.lat is not None and item.lon is not None:
                lon, lat = wgs84_to_gcj02(np.array(item.lon), np.array(item.lat))
                row[datum_index - 2 : datum_index + 1] = [float(lat), float(lon), "GCJ-02"]
            sheet.append(row)
    book.save(path)


def raw_read(path: Path) -> int:
    """openpyxl alone: every row of every sheet, values only."""
    book = openpyxl.load_workbook(path, read_only=True)
    count = 0
    for sheet in book.worksheets:
        for _row in sheet.iter_rows(values_only=True):
            count += 1
    book.close()
    return count


async def store(db_url: str, data_dir: Path, items: list[RegistryItemInput]) -> float:
    """Seconds to import ``items`` into a fresh database at ``db_url``."""
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        writer = eventlog.EventWriter(sessions, lambda _events: None)
        service = RegistryService(sessions, FieldCipher.from_data_dir(data_dir), writer)
        begin = time.perf_counter()
        outcome = await service.import_items(items, by="bench", source="bench.xlsx")
        seconds = time.perf_counter() - begin
        assert outcome.created == len(items), outcome
    finally:
        await engine.dispose()
    return seconds


async def store_postgres(admin: str, data_dir: Path, items: list[RegistryItemInput]) -> float:
    async with fresh_postgres_database(admin, prefix="dutydesk_bench") as url:
        return await store(url, data_dir, items)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--keep", type=Path, help="also keep the generated workbook here")
    args = parser.parse_args(argv)
    out = sys.stdout.write
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = args.keep or folder / "registry.xlsx"
        begin = time.perf_counter()
        generate(path, args.rows)
        out(
            f"generated {args.rows:,} rows ({path.stat().st_size / 2**20:.1f} MiB) in "
            f"{time.perf_counter() - begin:.1f} s\n"
        )

        begin = time.perf_counter()
        raw_rows = raw_read(path)
        floor = time.perf_counter() - begin
        out(f"floor  openpyxl read of {raw_rows:,} rows: {floor:6.2f} s\n")

        begin = time.perf_counter()
        outcome = sheets.read_items(path)
        parse = time.perf_counter() - begin
        if outcome.problems:
            out(f"unexpected problems: {outcome.problems[:5]}\n")
            return 1
        rows = len(outcome.items)
        out(
            f"parse  {rows:,} items: {parse:6.2f} s ({rows / parse:,.0f} rows/s; "
            f"{parse / floor:.2f}× the floor)\n"
        )

        ok = True
        targets: list[tuple[str, float]] = [
            (
                "sqlite",
                asyncio.run(
                    store(f"sqlite+aiosqlite:///{folder / 'bench.db'}", folder, outcome.items)
                ),
            )
        ]
        admin = os.environ.get("DUTYDESK_TEST_PG")
        if admin:
            targets.append(("postgres", asyncio.run(store_postgres(admin, folder, outcome.items))))
        for name, seconds in targets:
            total = parse + seconds
            if name == "sqlite":
                ok = total <= GOAL_SECONDS
            out(
                f"import {name:<8} {seconds:6.2f} s ({rows / seconds:,.0f} rows/s); parse + "
                f"import {total:5.1f} s, goal ≤ {GOAL_SECONDS:.0f} s: "
                f"{'met' if total <= GOAL_SECONDS else 'MISSED'}\n"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
