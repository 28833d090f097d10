"""``dutydesk camera``: register, list, import and remove the video cameras.

Stream addresses are encrypted with the data key (the same one the server uses) and
only ever shown masked.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
    storage,
)
from backend.jurisdictions.store import load_tree
from backend.registry.cameras import CameraRegistry
from backend.registry.cameras import Error as CameraError
from backend.registry.files import CAMERA_COLUMNS, load_cameras_csv
from backend.registry.files import Error as RegistryError
from backend.security import Error as SecurityError
from backend.security import FieldCipher
from realtime.protocol import CameraView
from realtime.streams import mask_stream_url


def add_parser(commands: Subparsers) -> None:
    """Register ``camera`` and its actions ``add``, ``list``, ``remove`` and ``import``."""
    camera = commands.add_parser(
        "camera",
        help="manage the video cameras",
        description="Register the video cameras the console shows on its map and plays: "
        "where each is (WGS-84), its agency and jurisdiction (who may watch it), the "
        "hazard source or enterprise it watches, and its stream address (rtsp://, "
        "http(s)://, file:// or an absolute path of a recorded clip). Stream addresses "
        "are stored encrypted with the data key and only ever shown masked (rtsp://***@host/…).",
    )
    actions = camera.add_subparsers(dest="camera_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="register a camera",
        description="Register a camera. Give the stream address with --url, or with "
        "--url-file to keep credentials out of the shell history and the process list.",
        epilog="example: dutydesk camera add CAM-A3 --name 'A 区 3 号储罐' --lat 32.2563 "
        "--lon 118.7818 --agency safety --url-file cam-a3.url",
    )
    add.add_argument("code", help="unique camera code")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--lat", type=float, required=True, help="latitude, WGS-84 degrees")
    add.add_argument("--lon", type=float, required=True, help="longitude, WGS-84 degrees")
    add.add_argument("--url", help="stream address (may contain user:password@)")
    add.add_argument("--url-file", type=Path, help="read the stream address from this file")
    add.add_argument("--agency", help="agency that runs it (fire, police, safety, …)")
    add.add_argument(
        "--jurisdiction",
        default="",
        help="region code of its area; the camera is placed where it stands, and this "
        "is kept only for a point outside every jurisdiction",
    )
    add.add_argument("--hazard-source", help="the major hazard source it watches")
    add.add_argument("--enterprise", help="the enterprise it belongs to or watches")
    add_storage_options(add)
    add.set_defaults(func=_cmd_camera_add)
    lst = actions.add_parser(
        "list",
        help="list cameras",
        description="List cameras: code, name, position, agency, jurisdiction and the "
        "stream address with its credentials masked.",
    )
    add_storage_options(lst)
    lst.set_defaults(func=_cmd_camera_list)
    remove = actions.add_parser(
        "remove", help="remove a camera", description="Remove a camera from the registry."
    )
    remove.add_argument("code")
    add_storage_options(remove)
    remove.set_defaults(func=_cmd_camera_remove)
    imp = actions.add_parser(
        "import",
        help="import cameras from CSV",
        description="Import (insert or update by code) cameras from a CSV file (UTF-8) "
        f"with the columns {','.join(CAMERA_COLUMNS)}; code, name, lat, lon and stream_url "
        "are required. The whole file is checked first: one bad line changes nothing.",
        epilog="example: dutydesk camera import resources/registry/cameras.csv",
    )
    imp.add_argument("file", type=Path, help="CSV file (UTF-8)")
    add_storage_options(imp)
    imp.set_defaults(func=_cmd_camera_import)


async def _with_cameras(
    args: argparse.Namespace, what: str, work: Callable[[CameraRegistry], Awaitable[None]]
) -> int:
    """Run ``work`` on the camera registry of the command's database and data key."""
    _, data_dir = storage(args)
    try:
        # The stream addresses are encrypted with the same data key the server uses.
        cipher = FieldCipher.from_data_dir(data_dir)
        async with database(args) as sessions:
            # Cameras lie where they stand: the tree (with imported towns) places them.
            tree = await load_tree(sessions)
            await work(CameraRegistry(sessions, cipher, tree))
    except (CameraError, SecurityError) as exc:
        err(f"dutydesk camera {what}: {exc}")
        return EXIT_FAILURE
    return EXIT_OK


def _read_stream_url(args: argparse.Namespace) -> str:
    if args.url_file is not None:
        lines = Path(args.url_file).read_text(encoding="utf-8").splitlines()
        return lines[0].strip() if lines else ""
    return str(args.url or "")


def _cmd_camera_add(args: argparse.Namespace) -> int:
    if (args.url is None) == (args.url_file is None):
        err("dutydesk camera add: give the stream address with --url or --url-file")
        return EXIT_USAGE
    try:
        stream_url = _read_stream_url(args)
    except OSError as exc:
        err(f"dutydesk camera add: cannot read {args.url_file}: {exc.strerror}")
        return EXIT_FAILURE
    camera = CameraView(
        id=0,
        code=args.code,
        name=args.name,
        lat=args.lat,
        lon=args.lon,
        agency=args.agency or "",
        jurisdiction=args.jurisdiction or "",
        hazard_source=args.hazard_source or "",
        enterprise=args.enterprise or "",
        stream_url=stream_url,
    )

    async def work(cameras: CameraRegistry) -> None:
        added = await cameras.add(camera)
        out(f"added camera {added.code} ({added.name}): {mask_stream_url(added.stream_url)}")

    return asyncio.run(_with_cameras(args, "add", work))


def _cmd_camera_list(args: argparse.Namespace) -> int:
    async def work(cameras: CameraRegistry) -> None:
        listed = await cameras.list_masked()
        if not listed:
            out("no cameras registered")
        for c in listed:
            place = f"{c.lat:.5f},{c.lon:.5f}"
            out(
                f"{c.code:<12} {c.name:<20} {place:<20} {c.agency or '-':<10} "
                f"{c.jurisdiction or '*':<8} {c.stream_url}"
            )

    return asyncio.run(_with_cameras(args, "list", work))


def _cmd_camera_remove(args: argparse.Namespace) -> int:
    async def work(cameras: CameraRegistry) -> None:
        await cameras.remove(args.code)
        out(f"removed camera {args.code}")

    return asyncio.run(_with_cameras(args, "remove", work))


def _cmd_camera_import(args: argparse.Namespace) -> int:
    try:
        listed = load_cameras_csv(args.file)
    except RegistryError as exc:
        err(f"dutydesk camera import: {exc}")
        return EXIT_FAILURE

    async def work(cameras: CameraRegistry) -> None:
        outcome = await cameras.import_cameras(listed)
        out(
            f"imported {len(listed)} cameras from {args.file}: {outcome.added} new, "
            f"{outcome.updated} updated, {outcome.unchanged} unchanged"
        )
        for warning in outcome.warnings:
            err(f"warning: {warning}")

    return asyncio.run(_with_cameras(args, "import", work))
