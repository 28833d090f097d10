"""``dutydesk basemap import``: load the road layer the map draws and the recommendation
routes over, from an OpenStreetMap extract (``.osm.pbf``, ``.osm``) or a GeoPackage
(``.gpkg``). An import replaces the stored layer whole, in one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    add_storage_options,
    database,
    out,
)
from backend.cli.common import err as say
from backend.roads.reader import Datum, Tally, read_roads
from backend.roads.reader import Error as ReadError
from backend.roads.service import Error as StoreError
from backend.roads.service import replace_layer

_EXAMPLES = """examples:
  dutydesk basemap import jiangsu-latest.osm.pbf
  dutydesk basemap import roads.gpkg --dry-run
  dutydesk basemap import gaode-roads.gpkg --datum gcj02

Kept: ways tagged highway=motorway … service/track (their class, name, name:zh, oneway,
maxspeed, ref); footways, paths, cycleways and roads under construction are left out.
Roads from OpenStreetMap are © OpenStreetMap contributors, ODbL 1.0: show the attribution
wherever the map is shown (docs/operations.md)."""


def add_parser(commands: Subparsers) -> None:
    """Register ``basemap`` and its action ``import``."""
    group = commands.add_parser(
        "basemap",
        help="the map's road layer: import roads from OSM or GeoPackage",
        description="The basemap's road layer (路网): drawn on the console's map by class and "
        "used for the recommendation's road ETAs.",
    )
    actions = group.add_subparsers(dest="basemap_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="load the road layer from a file (replaces the stored one)",
        description="Read the roads of an OSM extract (.osm.pbf, .osm, .osm.bz2) or of a "
        "GeoPackage's line layers (.gpkg, EPSG:4326 only) and store them, replacing the "
        "stored road layer. Running servers pick the new layer up for their next "
        "recommendation; consoles at their next map move.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", type=Path, help="an .osm.pbf/.osm extract or a .gpkg GeoPackage")
    imp.add_argument(
        "--datum",
        choices=[d.value for d in Datum],
        default=Datum.WGS84.value,
        help="datum of the file's coordinates (default wgs84); gcj02 (高德/腾讯 data declared "
        "as EPSG:4326) is converted to WGS-84",
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="read and check the whole file, write nothing"
    )
    add_storage_options(imp)
    imp.set_defaults(func=_cmd_import)


def _cmd_import(args: argparse.Namespace) -> int:
    path: Path = args.file
    tally = Tally()

    def progress(count: int) -> None:
        say(f"dutydesk basemap import: {count:,} ways read, {tally.roads:,} roads kept …")

    async def work() -> int:
        segments = read_roads(path, tally, datum=Datum(args.datum), progress=progress)
        async with database(args) as sessions:
            return await replace_layer(sessions, segments, source=path.name, dry_run=args.dry_run)

    try:
        count = asyncio.run(work())
    except (ReadError, StoreError) as exc:
        say(f"dutydesk basemap import: {exc}")
        return EXIT_FAILURE
    skipped = ", ".join(f"{reason}: {n:,}" for reason, n in sorted(tally.skipped.items()))
    verb = "would store" if args.dry_run else "stored"
    out(
        f"{path.name}: {tally.read:,} ways read, {verb} {count:,} roads"
        + (f" (left out — {skipped})" if skipped else "")
    )
    return EXIT_OK
