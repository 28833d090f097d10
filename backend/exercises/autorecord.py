"""Recordings made by the live server: automatically around every real incident, and on
demand (``exercise.record``).

:class:`AutoRecorder` is a task started and stopped with the server. For every incident
closed (or still open :data:`OPEN_CAP` after it opened) it writes
``recordings/incident-<id>-<UTC yyyymmddThhmm of the opening>.ddrec`` for
[opened − before, closed + after] once ``after`` has passed, masked, and logs one
``exercise.recorded`` event naming the file. What is done is decided from the files
present and the incidents table, so a restart neither records twice nor forgets one that
fell due meanwhile (within the journal's retention: older input is gone anyway).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.eventlog import log as eventlog
from backend.exercises.library import write_atomically
from backend.exercises.recorder import make_recording
from backend.exercises.recording import (
    RecordingError,
)
from backend.security import FieldCipher
from backend.storage.models import IncidentRecord as Incident
from realtime.aio import cancel_and_wait
from realtime.event_kinds import EventKind
from realtime.protocol import Event, RecordingSource

logger = logging.getLogger(__name__)

OPEN_CAP: Final = dt.timedelta(hours=6)
"""An incident still open this long after it opened is recorded up to then."""
DEFAULT_BEFORE: Final = dt.timedelta(minutes=15)
DEFAULT_AFTER: Final = dt.timedelta(minutes=15)
CHECK_INTERVAL: Final = 30.0
"""Seconds between looks for incidents whose recording is due."""
SYSTEM: Final = "system"
"""Who made an automatic recording."""
_INCIDENT_FILE = re.compile(r"^incident-(\d+)-\d{8}T\d{4}\.ddrec$")


class Error(Exception):
    """Base of this module's errors."""


def incident_file_name(incident_id: int, opened_at: dt.datetime) -> str:
    """``incident-<id>-<UTC yyyymmddThhmm>.ddrec``."""
    return f"incident-{incident_id}-{opened_at.astimezone(dt.UTC):%Y%m%dT%H%M}.ddrec"


def recorded_incidents(directory: Path) -> set[int]:
    """The incidents whose automatic recording is in ``directory``."""
    if not directory.is_dir():
        return set()
    found = set()
    for path in directory.iterdir():
        match = _INCIDENT_FILE.match(path.name)
        if match:
            found.add(int(match.group(1)))
    return found


class AutoRecorder:
    """The task that records around every real incident (see the module)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        *,
        journal_dir: Path,
        recordings: Path,
        before: dt.timedelta = DEFAULT_BEFORE,
        after: dt.timedelta = DEFAULT_AFTER,
        retention: dt.timedelta = dt.timedelta(hours=72),
        cipher: FieldCipher | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        check_interval: float = CHECK_INTERVAL,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self.journal_dir = journal_dir
        self.recordings = recordings
        self.before = before
        self.after = after
        self.retention = retention
        self._cipher = cipher
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.check_interval = check_interval
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._broken: set[int] = set()
        self._writing = asyncio.Lock()
        """One :meth:`record_due` at a time (the loop's and a caller's would write the same
        incident's file through the same temporary name)."""
        """Incidents whose recording failed for a reason other than an outage (logged)."""

    def start(self) -> None:
        """Start looking for due recordings."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="auto-recorder")

    async def stop(self) -> None:
        """Stop (a recording being written is finished or not written at all)."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.record_due()
            except (SQLAlchemyError, OSError, RecordingError) as exc:
                if not self._failing:
                    self._failing = True
                    logger.warning("automatic recordings paused: %s (retrying)", exc)
            else:
                if self._failing:
                    self._failing = False
                    logger.warning("automatic recordings going again")
            await asyncio.sleep(self.check_interval)

    async def record_due(self) -> list[Path]:
        """Write every recording that is due and not yet written; return their paths."""
        async with self._writing:
            return await self._record_due()

    async def _record_due(self) -> list[Path]:
        now = self._clock()
        done = await asyncio.to_thread(recorded_incidents, self.recordings)
        oldest = now - self.retention
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Incident.id, Incident.opened_at, Incident.closed_at, Incident.title)
                    .where(
                        or_(
                            Incident.closed_at <= now - self.after,
                            Incident.opened_at <= now - OPEN_CAP - self.after,
                        ),
                        or_(Incident.closed_at.is_(None), Incident.closed_at >= oldest),
                        Incident.opened_at >= oldest - OPEN_CAP,
                    )
                    .order_by(Incident.id)
                )
            ).all()
        written = []
        for incident_id, opened_at, closed_at, title in rows:
            if incident_id in done or incident_id in self._broken:
                continue
            end = min(closed_at or opened_at + OPEN_CAP, opened_at + OPEN_CAP)
            try:
                written.append(await self._record(incident_id, title, opened_at, end))
            except (SQLAlchemyError, OSError):
                raise  # an outage: the loop says so once and tries again
            except Exception:
                # A bug with this incident's data must not stop the others' recordings.
                logger.exception("incident %s cannot be recorded; skipped", incident_id)
                self._broken.add(incident_id)
        return written

    async def _record(
        self, incident_id: int, title: str, opened_at: dt.datetime, end: dt.datetime
    ) -> Path:
        recording = await make_recording(
            self._sessions,
            self.journal_dir,
            window_from=opened_at - self.before,
            window_to=end + self.after,
            area="",
            masked=True,
            title=f"事件 {incident_id}：{title}"[:200],
            source=RecordingSource.INCIDENT,
            recorded_by=SYSTEM,
            incidents=(incident_id,),
            cipher=self._cipher,
        )
        path = self.recordings / incident_file_name(incident_id, opened_at)
        await asyncio.to_thread(write_atomically, path, recording)

        async def log(session: AsyncSession, events: list[Event]) -> None:
            events.append(
                await eventlog.append(
                    session,
                    kind=EventKind.RECORDING_MADE,
                    actor=SYSTEM,
                    note=f"{path.name}（事件 {incident_id}）",
                )
            )

        await self._writer.run(log)
        logger.info("incident %s recorded to %s", incident_id, path)
        return path


__all__ = [
    "AutoRecorder",
    "incident_file_name",
    "recorded_incidents",
]
