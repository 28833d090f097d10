"""The fault harness's checks: the trucks', the feed's and the console's own records
against the database and the event log (see ``bench/faults.py``)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

from fault_load import ALARM_BITS, OVER_CH4, REPO, Backend, ConsoleRecord, FaultTruck, Feed
from sqlalchemy import func, select

from backend.storage import db
from backend.storage.models import Alarm, EventRecord, PositionRecord, ReadingRecord
from realtime.states import FINAL_STATES

CONSOLE_GRACE_S = 15.0
"""How long the console may take to receive what the log holds before it counts as lost."""


@dataclasses.dataclass
class Findings:
    """What one check found (cumulative since the start of the run)."""

    phase: str = ""
    frames_acked: int = 0
    readings_acked: int = 0
    alarms_acked: int = 0
    lost_reports: int = 0
    lost_readings: int = 0
    lost_alarms: int = 0
    duplicated_rows: int = 0
    duplicated_alarms: int = 0
    console_missed: int = 0
    console_out_of_order: int = 0
    stored_again: int = 0
    chain_ok: bool = False
    chain: str = ""
    examples: list[str] = dataclasses.field(default_factory=list)

    @property
    def lost(self) -> int:
        """Acknowledged and not stored, or an acknowledged alarm no console received."""
        return self.lost_reports + self.lost_readings + self.lost_alarms + self.console_missed

    @property
    def duplicated(self) -> int:
        """Stored more often than sent, two open alarms for one condition, or an event
        received twice or out of order."""
        return self.duplicated_rows + self.duplicated_alarms + self.console_out_of_order

    def as_dict(self) -> dict[str, Any]:
        """The findings with the two totals, for JSON."""
        return {**dataclasses.asdict(self), "lost": self.lost, "duplicated": self.duplicated}

    def line(self) -> str:
        """One readable line."""
        chain = "verifies" if self.chain_ok else "DAMAGED"
        text = (
            f"  after {self.phase}: acked {self.frames_acked:,} reports, "
            f"{self.readings_acked:,} readings, {self.alarms_acked:,} alarms; lost {self.lost}, "
            f"duplicated {self.duplicated}, stored again after a resend {self.stored_again}; "
            f"chain {chain}"
        )
        return "\n".join([text, *(f"    e.g. {example}" for example in self.examples[:5])])


async def check(
    backend: Backend, trucks: Sequence[FaultTruck], feeds: Sequence[Feed], console: ConsoleRecord
) -> Findings:
    """Check the records (the load must be stopped) against the running backend's database."""
    findings = Findings()
    engine = db.create_engine(backend.db_url)
    try:
        sessions = db.session_factory(engine)
        async with sessions() as session:
            positions = Counter[tuple[str, dt.datetime]]()
            for device, at, count in await session.execute(
                select(PositionRecord.device, PositionRecord.at, func.count()).group_by(
                    PositionRecord.device, PositionRecord.at
                )
            ):
                positions[(device, _utc(at))] = count
            readings = Counter[tuple[str, dt.datetime]]()
            for sensor, at, count in await session.execute(
                select(ReadingRecord.sensor, ReadingRecord.at, func.count()).group_by(
                    ReadingRecord.sensor, ReadingRecord.at
                )
            ):
                readings[(sensor, _utc(at))] = count
            open_twice = await session.execute(
                select(Alarm.dedupe_key, func.count())
                .where(Alarm.state.not_in([state.value for state in FINAL_STATES]))
                .group_by(Alarm.dedupe_key)
                .having(func.count() > 1)
            )
            findings.duplicated_alarms = sum(count - 1 for _, count in open_twice)
            alarm_seqs = set(
                await session.scalars(
                    select(EventRecord.seq).where(EventRecord.alarm_id.is_not(None))
                )
            )
    finally:
        await engine.dispose()
    _check_trucks(findings, trucks, positions)
    _check_feeds(findings, feeds, readings)
    await _wait_for_console(console, max(alarm_seqs, default=0))
    _check_alarms(findings, trucks, feeds, console, alarm_seqs)
    findings.chain_ok, findings.chain = await asyncio.to_thread(_verify_chain, backend)
    return findings


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _check_trucks(
    findings: Findings, trucks: Sequence[FaultTruck], positions: Counter[tuple[str, dt.datetime]]
) -> None:
    for truck in trucks:
        for second, frame in truck.frames.items():
            stored = positions.get(
                (truck.phone, truck.start_time + dt.timedelta(seconds=second)), 0
            )
            if frame.acked:
                findings.frames_acked += 1
                if not stored:
                    findings.lost_reports += 1
                    findings.examples.append(f"report {truck.phone} +{second}s acked, not stored")
            if stored > frame.sends:
                findings.duplicated_rows += stored - frame.sends
                findings.examples.append(f"report {truck.phone} +{second}s stored {stored}x")
            elif stored > 1:
                findings.stored_again += stored - 1


def _check_feeds(
    findings: Findings, feeds: Sequence[Feed], readings: Counter[tuple[str, dt.datetime]]
) -> None:
    for feed in feeds:
        for reading in feed.readings:
            stored = readings.get((reading.sensor, _utc(reading.at)), 0)
            if reading.acked:
                findings.readings_acked += 1
                if not stored:
                    findings.lost_readings += 1
                    findings.examples.append(f"reading {reading.sensor} {reading.at} acked, lost")
            if stored > reading.sends:
                findings.duplicated_rows += stored - reading.sends
                findings.examples.append(f"reading {reading.sensor} {reading.at} stored {stored}x")
            elif stored > 1:
                findings.stored_again += stored - 1


async def _wait_for_console(console: ConsoleRecord, head: int) -> None:
    for _ in range(int(CONSOLE_GRACE_S / 0.1)):
        if console.events and console.events[-1].seq >= head:
            return
        await asyncio.sleep(0.1)


def _check_alarms(
    findings: Findings,
    trucks: Sequence[FaultTruck],
    feeds: Sequence[Feed],
    console: ConsoleRecord,
    alarm_seqs: set[int],
) -> None:
    received = [event.seq for event in console.events]
    findings.console_out_of_order = console.out_of_order + (len(received) - len(set(received)))
    findings.console_missed = len(alarm_seqs - set(received)) + console.snapshots
    # What the console heard, by (source, alarm type): the devices' times it reported.
    heard: dict[tuple[str, str], list[dt.datetime]] = {}
    for event in console.events:
        alarm = event.alarm
        if alarm is not None and event.kind in ("alarm.raised", "alarm.repeated"):
            heard.setdefault((alarm.source_ref, alarm.alarm_type), []).append(_utc(alarm.last_seen))
    _check_truck_alarms(findings, trucks, heard)
    _check_sensor_alarms(findings, feeds, heard)


def _check_truck_alarms(
    findings: Findings,
    trucks: Sequence[FaultTruck],
    heard: dict[tuple[str, str], list[dt.datetime]],
) -> None:
    for truck in trucks:
        for bit, key in ALARM_BITS.items():
            for first, last, acked in _episodes(truck, bit):
                if not acked:
                    continue
                findings.alarms_acked += 1
                times = heard.get((f"jt808:{truck.phone}", f"vehicle_{key}"), [])
                low = truck.start_time + dt.timedelta(seconds=first)
                high = truck.start_time + dt.timedelta(seconds=last)
                if not any(low <= at <= high for at in times):
                    findings.lost_alarms += 1
                    findings.examples.append(f"{key} of {truck.phone} at +{first}s never alarmed")


def _check_sensor_alarms(
    findings: Findings, feeds: Sequence[Feed], heard: dict[tuple[str, str], list[dt.datetime]]
) -> None:
    for feed in feeds:
        for reading in feed.readings:
            if reading.value != OVER_CH4 or not reading.acked:
                continue
            findings.alarms_acked += 1
            times = heard.get((f"sensor:{reading.sensor}", "sensor_threshold_high"), [])
            at = _utc(reading.at)
            if not any(abs((seen - at).total_seconds()) < 0.001 for seen in times):
                findings.lost_alarms += 1
                findings.examples.append(f"methane {reading.sensor} at {at} never alarmed")


def _episodes(truck: FaultTruck, bit: int) -> list[tuple[int, int, bool]]:
    """Runs of consecutive seconds whose reports carried ``bit``: (first, last acked or
    last, whether one of them was acknowledged)."""
    runs: list[tuple[int, int, bool]] = []
    first = last = last_acked = -2
    acked = False
    for second in sorted(truck.frames):
        frame = truck.frames[second]
        if not frame.alarm_flags & bit:
            continue
        if second != last + 1 and first >= 0:
            runs.append((first, last_acked if acked else last, acked))
            acked = False
        if second != last + 1:
            first = second
        last = second
        if frame.acked:
            acked, last_acked = True, second
    if first >= 0:
        runs.append((first, last_acked if acked else last, acked))
    return runs


def _verify_chain(backend: Backend) -> tuple[bool, str]:
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli.app", "audit", "verify", *backend.storage_args()],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    text = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode == 0, (text[-1] if text else f"exit {done.returncode}")
