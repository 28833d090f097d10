"""``dutydesk record``: record a window of the live server's input and events to a file;
and the ``serve`` options of the input journal and the automatic recordings."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

from backend import security
from backend.cli.common import (
    EXIT_OK,
    Error,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
    storage,
)
from backend.exercises.autorecord import DEFAULT_AFTER, DEFAULT_BEFORE
from backend.exercises.journal import DEFAULT_HOURS
from backend.exercises.library import write_atomically
from backend.exercises.live import journal_dir
from backend.exercises.recorder import make_recording
from backend.exercises.recording import DEVICE_INPUTS
from realtime.protocol import RecordingSource

LONG_WINDOW = dt.timedelta(hours=1)
"""Windows longer than this report each step as they go."""


def add_parser(commands: Subparsers) -> None:
    """Register ``record``."""
    record = commands.add_parser(
        "record",
        help="record a window of live input and events for exercises (a .ddrec file)",
        description="Record the server's input journal (JT/T 808 frames, device-feed "
        "messages, officers' commands) and the event log between --from and --to, with the "
        "registry an exercise starts from, into FILE (docs/exercises.md, 'Recording "
        "format'). Reads the database and DATA_DIR/journal; the server may keep running. "
        "Personal data is masked unless --unmasked.",
    )
    record.add_argument("file", type=Path, metavar="FILE", help="the .ddrec file to write")
    record.add_argument(
        "--from",
        dest="window_from",
        type=_instant,
        required=True,
        metavar="ISO",
        help="start of the window, ISO 8601 (e.g. 2026-12-05T08:00+08:00; no zone: UTC)",
    )
    record.add_argument(
        "--to",
        dest="window_to",
        type=_instant,
        required=True,
        metavar="ISO",
        help="end of the window, ISO 8601 (no zone: UTC)",
    )
    record.add_argument(
        "--area",
        default="",
        metavar="CODE",
        help="only the devices, users and events inside this jurisdiction code "
        "(default: the whole area)",
    )
    record.add_argument("--title", default="", metavar="T", help="the recording's title")
    record.add_argument(
        "--unmasked",
        action="store_true",
        help="keep callers' details, registry contacts and camera addresses in full "
        "(the file then holds personal data: keep it as such)",
    )
    add_storage_options(record)
    record.set_defaults(func=_cmd_record)


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """The input journal's and the automatic recordings' options of ``serve``."""
    serve.add_argument(
        "--no-journal",
        action="store_true",
        help="keep no input journal (and make no recordings): exercises can then only "
        "use shipped scenarios",
    )
    serve.add_argument(
        "--journal-hours",
        type=float,
        default=float(DEFAULT_HOURS),
        metavar="HOURS",
        help="hours of input kept in DATA_DIR/journal; older hourly segments are deleted "
        f"(default: {DEFAULT_HOURS})",
    )
    serve.add_argument(
        "--no-auto-record",
        action="store_true",
        help="do not record a window around every incident into DATA_DIR/recordings",
    )
    serve.add_argument(
        "--record-before",
        type=float,
        default=DEFAULT_BEFORE.total_seconds() / 60,
        metavar="MINUTES",
        help="an automatic recording starts this long before its incident opened "
        f"(default: {DEFAULT_BEFORE.total_seconds() / 60:g})",
    )
    serve.add_argument(
        "--record-after",
        type=float,
        default=DEFAULT_AFTER.total_seconds() / 60,
        metavar="MINUTES",
        help="an automatic recording ends this long after its incident closed, and is "
        f"written then (default: {DEFAULT_AFTER.total_seconds() / 60:g})",
    )


def serve_config(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~backend.server.config.ServerConfig` fields the options give."""
    if not args.journal_hours > 0:
        raise Error("--journal-hours must be positive")
    if args.record_before < 0 or args.record_after < 0:
        raise Error("--record-before and --record-after cannot be negative")
    return {
        "record_inputs": not args.no_journal,
        "journal_hours": args.journal_hours,
        "auto_record": not args.no_auto_record,
        "record_before": dt.timedelta(minutes=args.record_before),
        "record_after": dt.timedelta(minutes=args.record_after),
    }


def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _cmd_record(args: argparse.Namespace) -> int:
    if args.window_to <= args.window_from:
        raise Error("--to must be after --from")
    if args.window_from > dt.datetime.now(dt.UTC):
        raise Error("--from is in the future: nothing is recorded yet")
    _, data_dir = storage(args)
    long = args.window_to - args.window_from > LONG_WINDOW
    started = time.monotonic()

    def progress(line: str) -> None:
        if long:
            err(f"[{time.monotonic() - started:6.1f} s] {line}")

    async def record() -> int:
        cipher = None
        if args.unmasked:
            try:
                cipher = security.FieldCipher.from_data_dir(data_dir, create=False)
            except (security.Error, OSError) as exc:
                raise Error(f"--unmasked needs the data key: {exc}") from exc
        async with database(args) as sessions:
            recording = await make_recording(
                sessions,
                journal_dir(data_dir),
                window_from=args.window_from,
                window_to=args.window_to,
                area=args.area,
                masked=not args.unmasked,
                title=args.title or f"{args.window_from:%Y-%m-%d %H:%M}–{args.window_to:%H:%M}",
                source=RecordingSource.WINDOW,
                recorded_by="cli",
                cipher=cipher,
                progress=progress,
            )
        progress(f"writing {args.file}")
        try:
            await asyncio.to_thread(write_atomically, args.file, recording)
        except OSError as exc:
            raise Error(f"cannot write {args.file}: {exc.strerror or exc}") from exc
        inputs = sum(1 for entry in recording.entries if isinstance(entry, DEVICE_INPUTS))
        out(
            f"recorded {args.file}: {inputs} device inputs, "
            f"{len(recording.entries) - inputs} commands and events, "
            f"{len(recording.registry.devices)} devices"
            + (" (masked)" if recording.header.masked else " (UNMASKED: personal data)")
        )
        return EXIT_OK

    return asyncio.run(record())
