"""The live server's recording services: the input journal and the automatic recorder,
built from its configuration and started and stopped with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.eventlog import log as eventlog
from backend.exercises.autorecord import AutoRecorder
from backend.exercises.journal import InputJournal
from backend.exercises.library import recordings_dir
from backend.security import FieldCipher
from devices.jt808.gateway import Jt808Gateway


def journal_dir(data_dir: Path) -> Path:
    """Where the input journal's segments are."""
    return data_dir / "journal"


@dataclass(slots=True)
class LiveRecording:
    """The journal (``None``: inputs are not recorded) and the automatic recorder."""

    journal: InputJournal | None
    auto: AutoRecorder | None
    last_recorded: dict[str, float] = field(default_factory=dict)
    """When each user last asked for a recording (``time.monotonic``), for the rate limit."""

    def start(self) -> None:
        """Start writing the journal and looking for due recordings."""
        if self.journal is not None:
            self.journal.start()
        if self.auto is not None:
            self.auto.start()

    async def stop(self) -> None:
        """Stop both (the journal writes what it holds first)."""
        if self.auto is not None:
            await self.auto.stop()
        if self.journal is not None:
            await self.journal.stop()

    def attach(self, gateway: Jt808Gateway) -> None:
        """Journal every byte the JT/T 808 gateway reads (nothing when off)."""
        if self.journal is not None:
            gateway.on_input = self.journal.record_jt808


def live_recording(
    *,
    data_dir: Path,
    sessions: async_sessionmaker[AsyncSession],
    writer: eventlog.EventWriter,
    cipher: FieldCipher,
    record_inputs: bool,
    journal_hours: float,
    auto_record: bool,
    record_before: dt.timedelta,
    record_after: dt.timedelta,
    clock: Callable[[], dt.datetime] | None = None,
) -> LiveRecording:
    """The services as configured (an exercise instance records nothing)."""
    if not record_inputs:
        return LiveRecording(journal=None, auto=None)
    journal = InputJournal(journal_dir(data_dir), hours=journal_hours)
    auto = (
        AutoRecorder(
            sessions,
            writer,
            journal_dir=journal.directory,
            recordings=recordings_dir(data_dir),
            before=record_before,
            after=record_after,
            retention=dt.timedelta(hours=journal_hours),
            cipher=cipher,
            clock=clock,
        )
        if auto_record
        else None
    )
    return LiveRecording(journal=journal, auto=auto)
