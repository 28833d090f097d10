"""``exercise.record``: record a window of the live server into the library."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from typing import Final

from backend.authz import policy as authz
from backend.authz.policy import Permission
from backend.errors import Error as Refusal
from backend.errors import ValidationError
from backend.exercises.library import info_of, recordings_dir, write_atomically
from backend.exercises.live import journal_dir
from backend.exercises.recorder import make_recording
from backend.server.handlers import ConsoleContext
from realtime.protocol import ErrorCode, RecordingResult, RecordingSource, RecordWindow

MAX_WINDOW: Final = dt.timedelta(hours=24)
"""The longest window one ``exercise.record`` may ask for."""
FUTURE_SLACK: Final = dt.timedelta(minutes=1)
"""How far past now a window may end (clocks of consoles differ a little)."""
MIN_INTERVAL_S: Final = 60.0
"""Seconds a user waits between two recordings (each reads up to a day of input)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _check_window(command: RecordWindow, now: dt.datetime) -> None:
    if command.to_at <= command.from_at:
        raise ValidationError("the window must end after it starts")
    if command.to_at - command.from_at > MAX_WINDOW:
        raise ValidationError(
            f"the window is longer than {MAX_WINDOW.total_seconds() / 3600:g} h; record it in parts"
        )
    if command.to_at > now + FUTURE_SLACK:
        raise ValidationError("the window ends in the future; record it once it has passed")


def _claim_turn(last_recorded: dict[str, float], username: str) -> None:
    now = time.monotonic()
    last = last_recorded.get(username)
    if last is not None and now - last < MIN_INTERVAL_S:
        wait = MIN_INTERVAL_S - (now - last)
        raise Refusal(
            ErrorCode.RATE_LIMITED,
            f"one recording per {MIN_INTERVAL_S:g} s; try again in {wait:.0f} s",
        )
    last_recorded[username] = now
    # Bounded: entries older than the interval mean nothing any more.
    for name, at in list(last_recorded.items()):
        if now - at >= MIN_INTERVAL_S:
            del last_recorded[name]


async def record_window(ctx: ConsoleContext, command: RecordWindow) -> RecordingResult:
    """Record [from_at, to_at] inside the user's area into the library (masked unless the
    role may reveal personal data)."""
    server = ctx.server
    principal = ctx.principal
    now = (server.config.clock or (lambda: dt.datetime.now(dt.UTC)))()
    _check_window(command, now)
    if server.recording.journal is None:
        raise ValidationError("this server keeps no input journal (serve --no-journal)")
    _claim_turn(server.recording.last_recorded, principal.username)
    masked = not authz.allows(principal, Permission.REVEAL_CONTACT)
    title = command.title or (
        f"{command.from_at.astimezone(dt.UTC):%Y-%m-%d %H:%M}–"
        f"{command.to_at.astimezone(dt.UTC):%H:%M} UTC"
    )
    recording = await make_recording(
        server.sessions,
        journal_dir(server.config.data_dir),
        window_from=command.from_at,
        window_to=command.to_at,
        area=principal.jurisdiction,
        masked=masked,
        title=title,
        source=RecordingSource.WINDOW,
        recorded_by=principal.username,
        cipher=server.cipher,
    )
    directory = recordings_dir(server.config.data_dir)
    stem = (
        f"window-{command.from_at.astimezone(dt.UTC):%Y%m%dT%H%M}-"
        f"{command.to_at.astimezone(dt.UTC):%Y%m%dT%H%M}-{_UNSAFE.sub('_', principal.username)}"
    )
    name = stem
    number = 1
    while (directory / f"{name}.ddrec").exists():
        number += 1
        name = f"{stem}-{number}"
    await asyncio.to_thread(write_atomically, directory / f"{name}.ddrec", recording)
    return RecordingResult(recording=info_of(name, recording))
