"""Failover for real: two ``python -m backend serve`` processes on one PostgreSQL, consoles
on each, a fleet of JT/T 808 terminals and escalating tasks; one instance is killed with
SIGKILL under that load.

What an operator relies on, checked from the consoles' own records and the log:

- the consoles of the dead instance (they know both addresses) are working on the other
  within 30 s (measured from the kill to their first command answered there);
- nothing acknowledged is lost: every command answered before the kill is in the log, and
  the commands issued around the kill are answered once the console is back;
- nothing is duplicated: each console saw each ``seq`` once and the same events as a
  console that stayed on the surviving instance; an acknowledgement re-sent to the
  survivor is in the log once; a terminal's alarm acknowledged (0x8001) before the kill is
  in the log once, also after the terminal re-sends its report to the survivor;
- each task deadline escalates exactly once across the instances: deadlines before the
  kill on the instance holding the lease, deadlines after it on the survivor, which took
  the lease over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.server.cluster_testing import Cluster, Instance, running_cluster
from backend.storage import db
from realtime.client import ConnectionState, DutyDeskClient
from realtime.incident_states import AssigneeKind, Deadline
from realtime.protocol import (
    AlarmResult,
    AlarmView,
    IncidentResult,
    OpenIncident,
    Ping,
    Role,
    SendTask,
    SetTaskDeadlines,
    TaskResult,
    TaskView,
    TransitionAlarm,
)
from realtime.states import AlarmAction
from tests.backend.conftest import Recorder
from tests.backend.server.test_workers import OVERSPEED, Terminal

pytestmark = pytest.mark.postgres
logger = logging.getLogger(__name__)

FAILOVER_LIMIT = 30.0
"""Seconds within which the consoles of a killed instance must work on the other."""
TERMINALS = 4
TASKS_BEFORE, TASKS_AFTER = 2, 3
"""Tasks whose accept deadline passes before the kill, and after it."""
XIHU = "330106"
USERS = (
    ("cc", "pw-cc-pass-1", Role.OFFICER, ""),
    ("watch", "pw-watch-pass-1", Role.OFFICER, ""),
)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    admin = os.environ.get("DUTYDESK_TEST_PG")
    if admin is None:
        pytest.skip("PostgreSQL not configured (run ./test.sh)")
    serve_args = ("--jt808", "127.0.0.1:0", "--jt808-auto-register")
    async with running_cluster(admin, 2, tmp_path, serve_args=serve_args) as started:
        await started.add_users(USERS)
        yield started


class Console:
    """A console that knows both instances, starting on ``first``."""

    def __init__(self, name: str, password: str, urls: list[str]) -> None:
        self.recorder = Recorder()
        self.client = DutyDeskClient(
            urls,
            self.recorder,
            username=name,
            password=password,
            backoff_initial=0.2,
            backoff_max=2.0,
        )
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.client.run())
        await self.client.wait_live(20)

    async def close(self) -> None:
        await self.client.close()
        if self.task is not None:
            await self.task

    def seqs(self) -> list[int]:
        return [event.seq for event in self.recorder.events]

    def on(self, instance: Instance) -> bool:
        return self.client.state is ConnectionState.LIVE and self.client.url == instance.console_url


async def _log_counts(cluster: Cluster) -> tuple[Counter[str], Counter[tuple[str, int]]]:
    """Events per kind, and per (kind, task or alarm id), from the shared log."""
    engine = db.create_engine(cluster.db_url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT kind, alarm_id, incident_id, payload FROM events ORDER BY seq")
                )
            ).all()
    finally:
        await engine.dispose()
    kinds: Counter[str] = Counter()
    per_object: Counter[tuple[str, int]] = Counter()
    for kind, alarm_id, _incident_id, payload in rows:
        kinds[kind] += 1
        if alarm_id is not None:
            per_object[(kind, alarm_id)] += 1
        if kind == "task.escalated":
            per_object[(kind, _task_id(payload))] += 1
    return kinds, per_object


def _task_id(payload: str) -> int:
    task = json.loads(payload)["task"]
    return int(task["id"])


async def _wait(predicate: object, timeout: float, what: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def _send_tasks(cc: Console, dues: list[dt.datetime]) -> list[int]:
    """Open an incident per due time with a task for fire due to accept by then."""
    task_ids = []
    for due in dues:
        opened = await cc.client.request(
            OpenIncident(
                req="",
                type_code="hazchem_transport_accident",
                title="液氨槽车侧翻",
                jurisdiction=XIHU,
            )
        )
        assert isinstance(opened, IncidentResult)
        sent = await cc.client.request(
            SendTask(
                req="",
                incident_id=opened.incident.id,
                assignee_kind=AssigneeKind.AGENCY,
                assignee_ref="fire",
                instructions="到场处置",
            )
        )
        assert isinstance(sent, TaskResult)
        moved = await cc.client.request(
            SetTaskDeadlines(
                req="",
                task_id=sent.task.id,
                expected_version=sent.task.version,
                deadlines={Deadline.ACCEPT: due},
            )
        )
        assert isinstance(moved, TaskResult)
        task_ids.append(sent.task.id)
    return task_ids


async def _acknowledge(cc: Console, alarm: AlarmView) -> object:
    return await cc.client.request(
        TransitionAlarm(
            req="",
            alarm_id=alarm.id,
            action=AlarmAction.ACKNOWLEDGE,
            expected_version=alarm.version,
        ),
        timeout=FAILOVER_LIMIT + 10,
    )


async def _check_log(cluster: Cluster, alarm_ids: list[int], task_ids: list[int]) -> None:
    """The shared log: each alarm raised and acknowledged once, never counted again; each
    task escalated once."""
    kinds, per_object = await _log_counts(cluster)
    assert kinds["alarm.raised"] == TERMINALS
    assert kinds["alarm.repeated"] == 0, "a re-sent report counted its alarm again"
    for alarm_id in alarm_ids:
        assert per_object[("alarm.transitioned", alarm_id)] == 1
    for task_id in task_ids:
        assert per_object[("task.escalated", task_id)] == 1, f"task {task_id}"


async def test_kill_one_of_two_instances_under_load(cluster: Cluster) -> None:  # noqa: PLR0915
    first, second = cluster.instances
    both = [first.console_url, second.console_url]
    cc = Console("cc", "pw-cc-pass-1", both)
    watch = Console("watch", "pw-watch-pass-1", [second.console_url, first.console_url])
    terminals = [Terminal(str(13_800_000_000 + n), first.jt808_port or 0) for n in range(TERMINALS)]
    await cc.start()
    await watch.start()
    try:
        assert cc.on(first)
        assert watch.on(second)

        # The fleet reports an overspeed alarm through the first instance; each report is
        # acknowledged (0x8001) once stored.
        for terminal in terminals:
            await terminal.connect()
            await terminal.report(OVERSPEED)
        await _wait(
            lambda: sum(e.kind == "alarm.raised" for e in cc.recorder.events) == TERMINALS,
            10,
            "the terminals' alarms",
        )
        alarms = [e.alarm for e in cc.recorder.events if e.kind == "alarm.raised"]

        # Incidents with a task each, whose accept deadlines pass before and after the kill.
        now = dt.datetime.now(dt.UTC)
        task_ids = await _send_tasks(
            cc,
            [now + dt.timedelta(seconds=2)] * TASKS_BEFORE
            + [now + dt.timedelta(seconds=7 + n) for n in range(TASKS_AFTER)],
        )
        await _wait(
            lambda: sum(e.kind == "task.escalated" for e in watch.recorder.events) == TASKS_BEFORE,
            15,
            "the escalations before the kill",
        )

        # Load: the terminals keep reporting (the alarm bit still set); the officer
        # acknowledges the alarms just before the kill: some are on the wire, some wait
        # in the console's outbox.
        async def keep_reporting(terminal: Terminal) -> None:
            while True:
                await terminal.report(OVERSPEED)  # still speeding: the bit stays set
                await asyncio.sleep(0.1)

        reporting = [asyncio.create_task(keep_reporting(t)) for t in terminals]
        await asyncio.sleep(0.5)
        acknowledgements = [
            asyncio.create_task(_acknowledge(cc, alarm)) for alarm in alarms if alarm is not None
        ]
        await asyncio.sleep(0)  # the first one is on the wire
        killed_at = time.monotonic()
        await cluster.kill(first)
        # The fleet lost its gateway: the reporting stops with a connection error.
        for task in reporting:
            with pytest.raises((ConnectionError, OSError, TimeoutError, AssertionError)):
                await task

        # The console works on the survivor: its first command answered there.
        pong = await cc.client.request(Ping(req=""), timeout=FAILOVER_LIMIT)
        working_after = time.monotonic() - killed_at
        assert pong is not None
        assert cc.on(second)
        logger.info("the console worked on the other instance %.2f s after the kill", working_after)
        assert working_after < FAILOVER_LIMIT
        acknowledged = await asyncio.gather(*acknowledgements)
        assert all(isinstance(answer, AlarmResult) for answer in acknowledged)

        # The terminals come back through the survivor's gateway and re-send the report
        # whose 0x8001 they may have missed: the alarm bit is known there, no new alarm.
        for terminal in terminals:
            await terminal.close()
            terminal.port = second.jt808_port or 0
            await terminal.connect()
            await terminal.report(OVERSPEED)

        # The deadlines after the kill escalate on the survivor, which took the lease.
        await _wait(
            lambda: (
                sum(e.kind == "task.escalated" for e in cc.recorder.events)
                >= TASKS_BEFORE + TASKS_AFTER
                or sum(e.kind == "task.escalated" for e in watch.recorder.events)
                >= TASKS_BEFORE + TASKS_AFTER
            ),
            25,
            "the escalations after the kill",
        )
        assert "took the lease 'incident deadlines'" in second.log_text()
        await asyncio.sleep(1.5)  # time enough for any second escalation to show

        # One event per seq on each console, the same as the console that stayed.
        await _wait(
            lambda: cc.client.last_seq == watch.client.last_seq, 10, "both consoles caught up"
        )
        for console in (cc, watch):
            seqs = console.seqs()
            assert seqs == sorted(set(seqs)), "a console saw an event twice or out of order"
        start = max(cc.seqs()[0], watch.seqs()[0])
        assert [s for s in cc.seqs() if s >= start] == [s for s in watch.seqs() if s >= start]

        await _check_log(cluster, [a.id for a in alarms if a is not None], task_ids)
        escalated_seen = Counter(
            e.task.id
            for e in watch.recorder.events
            if e.kind == "task.escalated" and isinstance(e.task, TaskView)
        )
        assert escalated_seen == Counter(task_ids)
    finally:
        for terminal in terminals:
            await terminal.close()
        await cc.close()
        await watch.close()


async def test_a_hung_instance_is_left_within_30_s(cluster: Cluster) -> None:
    """The first instance freezes (SIGSTOP: its sockets stay open, as with a frozen virtual
    machine): its console leaves it when its pings go unanswered, and the deadline lease
    it held comes free when the database ends its silent session."""
    first, second = cluster.instances
    cc = Console("cc", "pw-cc-pass-1", [first.console_url, second.console_url])
    await cc.start()
    try:
        assert cc.on(first)
        [task_id] = await _send_tasks(cc, [dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4)])
        frozen_at = time.monotonic()
        os.kill(first.process.pid, signal.SIGSTOP)
        pong = await cc.client.request(Ping(req=""), timeout=FAILOVER_LIMIT)
        working_after = time.monotonic() - frozen_at
        assert pong is not None
        assert cc.on(second)
        logger.info("the console left the hung instance %.2f s after it froze", working_after)
        assert working_after < FAILOVER_LIMIT
        await _wait(
            lambda: any(e.kind == "task.escalated" for e in cc.recorder.events),
            FAILOVER_LIMIT,
            "the escalation by the survivor",
        )
        logger.info("escalated %.2f s after the freeze", time.monotonic() - frozen_at)
        _, per_object = await _log_counts(cluster)
        assert per_object[("task.escalated", task_id)] == 1
    finally:
        await cc.close()
        await cluster.kill(first)
