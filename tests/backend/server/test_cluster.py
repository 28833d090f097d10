"""Several real ``dutydesk serve`` processes on one PostgreSQL database (issue 19).

One cluster of three instances serves the whole module (each process takes seconds to
start). What is checked comes from the consoles' own records: every console receives
every event it may see, in strictly increasing ``seq`` order, none missing and none
twice, scoped exactly as on one instance; a geofence drawn on one instance is enforced
by another's JT/T 808 ingest; sensor rules changed by the CLI take effect on every
instance without a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect

from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.eventlog import log as eventlog
from backend.server.cluster_testing import Cluster, Instance, health, running_cluster
from backend.storage import db
from devices.jt808.messages import Location
from devices.jt808.simulator import TerminalClient
from realtime.client import DutyDeskClient, basic_auth_header
from realtime.protocol import (
    AlarmResult,
    CreateAlarm,
    Event,
    GeofenceResult,
    PolygonShape,
    Role,
    SaveGeofence,
    TransitionAlarm,
)
from realtime.states import AlarmAction, AlarmLevel
from tests.backend.conftest import Recorder
from tests.devices.test_gateway import register_msg

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]

USERS = (
    ("whole", "pw-whole-12345", Role.OFFICER, ""),
    ("hz", "pw-hz-1234567", Role.OFFICER, "3301"),  # Hangzhou
    ("nb", "pw-nb-1234567", Role.OFFICER, "3302"),  # Ningbo
    ("sup", "pw-sup-1234567", Role.SUPERVISOR, ""),
    ("dev", "pw-dev-1234567", Role.DEVICE, ""),
)
PASSWORDS = {name: password for name, password, _, _ in USERS}
PLACES = {"3301": (30.2741, 120.1551), "3302": (29.8683, 121.5440)}
WAIT = 30.0
"""Longest wait for what a console should receive (the processes share two busy cores)."""
SQUARE = [[32.0, 118.8], [32.0, 118.82], [32.02, 118.82], [32.02, 118.8]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    admin = os.environ.get("DUTYDESK_TEST_PG")
    if admin is None:
        pytest.skip("PostgreSQL not configured (run ./test.sh)")
    data_dir = tmp_path_factory.mktemp("cluster")
    async with running_cluster(
        admin, 3, data_dir, serve_args=("--jt808", "127.0.0.1:0")
    ) as running:
        await running.add_users(USERS)
        yield running


class Console:
    """A real console client on one instance, recording what it receives."""

    def __init__(self, instance: Instance, username: str) -> None:
        self.username = username
        self.recorder = Recorder()
        self.client = DutyDeskClient(
            instance.console_url,
            self.recorder,
            username=username,
            password=PASSWORDS[username],
            backoff_initial=0.05,
            backoff_max=0.2,
        )
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> Console:
        self._task = asyncio.create_task(self.client.run())
        await self.client.wait_live(WAIT)
        return self

    async def close(self) -> None:
        await self.client.close()
        if self._task is not None:
            await self._task

    @property
    def start_seq(self) -> int:
        """The head of the snapshot it started from (it receives what comes after)."""
        return self.recorder.snapshots[0].head_seq

    @property
    def seqs(self) -> list[int]:
        return [event.seq for event in self.recorder.events]

    def principal(self) -> Principal:
        welcome = self.recorder.welcome
        assert welcome is not None
        user = welcome.user
        return Principal(0, user.username, user.display_name, user.role, user.agency,
                         user.jurisdiction)  # fmt: skip


async def _log(cluster: Cluster) -> list[Event]:
    engine = db.create_engine(cluster.db_url)
    try:
        async with db.session_factory(engine)() as session:
            return await eventlog.events_after(session, 0, 100_000)
    finally:
        await engine.dispose()


async def _wait_until_received(consoles: Iterable[Console], log: list[Event]) -> None:
    """Wait until every console has every event of ``log`` it may see (or time out)."""
    for console in consoles:
        principal = console.principal()
        expected = [
            e.seq for e in log if e.seq > console.start_seq and authz.can_see_event(principal, e)
        ]
        if expected:
            await console.recorder.wait_for(lambda c=console, x=expected: x[-1] in c.seqs, WAIT)


def _check_exact(console: Console, log: list[Event]) -> None:
    principal = console.principal()
    expected = [
        e.seq for e in log if e.seq > console.start_seq and authz.can_see_event(principal, e)
    ]
    received = [seq for seq in console.seqs if seq <= log[-1].seq]
    assert received == expected, console.username


async def _create_and_acknowledge(
    creator: Console, acknowledger: Console, count: int, tag: str
) -> list[int]:
    """``creator`` takes ``count`` alarms alternately in Hangzhou and Ningbo;
    ``acknowledger`` (on another instance) acknowledges each as soon as it exists."""
    ids: list[int] = []
    acks: list[asyncio.Task[object]] = []
    for n in range(count):
        area = "3301" if n % 2 == 0 else "3302"
        lat, lon = PLACES[area]
        answer = await creator.client.request(
            CreateAlarm(
                req="",
                alarm_type="fire",
                level=AlarmLevel.YELLOW,
                title=f"{tag} {n}",
                lat=lat,
                lon=lon,
            )
        )
        assert isinstance(answer, AlarmResult)
        ids.append(answer.alarm.id)
        acks.append(
            asyncio.create_task(
                acknowledger.client.request(
                    TransitionAlarm(
                        req="",
                        alarm_id=answer.alarm.id,
                        action=AlarmAction.ACKNOWLEDGE,
                        expected_version=answer.alarm.version,
                    )
                )
            )
        )
    for acknowledged in await asyncio.gather(*acks):
        assert isinstance(acknowledged, AlarmResult)
    return ids


async def test_consoles_on_three_instances_get_every_event_in_seq_order_and_scope(
    cluster: Cluster,
) -> None:
    a, b, c = cluster.instances
    consoles = [
        await Console(a, "whole").open(),
        await Console(b, "whole").open(),
        await Console(c, "whole").open(),
        await Console(b, "hz").open(),
        await Console(a, "nb").open(),
        await Console(c, "sup").open(),
    ]
    whole_a, whole_b, whole_c, hz_b, nb_a, _sup_c = consoles
    try:
        # Alarms taken and acknowledged on different instances, all at once.
        await asyncio.gather(
            _create_and_acknowledge(whole_a, whole_b, 8, "A"),
            _create_and_acknowledge(whole_b, whole_c, 8, "B"),
            _create_and_acknowledge(whole_c, whole_a, 8, "C"),
        )
        log = await _log(cluster)
        assert len(log) >= 48
        await _wait_until_received(consoles, log)
        await asyncio.sleep(0.3)  # anything extra (a duplicate) would have come by now
        for console in consoles:
            _check_exact(console, log)
        # The scope filter holds across instances: Hangzhou's officer on B got none of
        # Ningbo's alarms taken on A or C, and the other way round.
        for console, area in ((hz_b, "3301"), (nb_a, "3302")):
            places = {e.alarm.jurisdiction[:4] for e in console.recorder.events if e.alarm}
            assert places == {area}, console.username
        assert {e.alarm.title[0] for e in hz_b.recorder.events if e.alarm} == {"A", "B", "C"}
    finally:
        for console in consoles:
            await console.close()


async def test_geofence_drawn_on_one_instance_is_enforced_by_another(cluster: Cluster) -> None:
    a, b, _c = cluster.instances
    phone, plate = "13912345678", "苏A·D8821"
    drawer = await Console(a, "sup").open()
    watcher_b = await Console(b, "whole").open()
    try:
        # A registry change made by the CLI reaches the consoles of running instances.
        code, output = await cluster.run_cli(
            "device", "add", "jt808", phone, "--name", "液氨槽车", "--plate", plate
        )
        assert code == 0, output
        for console in (drawer, watcher_b):
            await console.recorder.wait_for(
                lambda c=console: any(e.kind == "device.added" for e in c.recorder.events),
                WAIT,
            )
        saved = await drawer.client.request(
            SaveGeofence(
                req="",
                name="化工园区禁行区",
                kind="no_go_zone",
                shape=PolygonShape(outer=SQUARE),
                level=AlarmLevel.RED,
            )
        )
        assert isinstance(saved, GeofenceResult)
        # A console of B sees the geofence's event once B has put it in force.
        await watcher_b.recorder.wait_for(
            lambda: any(e.kind == "geofence.saved" for e in watcher_b.recorder.events),
            WAIT,
        )
        assert b.jt808_port is not None
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        async with TerminalClient(phone) as terminal:
            await terminal.connect("127.0.0.1", b.jt808_port)
            await terminal.login(register_msg(plate))
            for n, lon in enumerate((118.79, 118.81)):  # outside, then inside
                fix = Location.from_degrees(
                    lat=32.01, lon=lon, time=now - dt.timedelta(seconds=10 - 5 * n), speed_kmh=30
                )
                await terminal.general(fix)
        # Raised by B's ingest, seen on A.
        await drawer.recorder.wait_for(
            lambda: any(
                e.kind == "alarm.raised" and e.alarm and e.alarm.alarm_type == "vehicle_no_go_zone"
                for e in drawer.recorder.events
            ),
            WAIT,
        )
    finally:
        await drawer.close()
        await watcher_b.close()


async def test_sensor_rules_changed_by_the_cli_apply_on_every_instance(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b, c = cluster.instances
    sensors = tmp_path / "sensors.csv"
    sensors.write_text(
        "sensor_id,kind,placement,unit,name,lat,lon,jurisdiction,poll_cycle_seconds\n"
        "ch4-a,ch4,mining_face,%,甲烷 A,32.3120,118.9050,320116,3600\n"
        "ch4-b,ch4,mining_face,%,甲烷 B,32.3120,118.9050,320116,3600\n",
        encoding="utf-8",
    )
    code, output = await cluster.run_cli("sensor", "import", str(sensors))
    assert code == 0, output
    watcher = await Console(c, "whole").open()
    try:
        t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=300)
        # The imported sensors are watched without a restart: a reading below the
        # shipped limits raises nothing on either instance.
        await _send_reading(a, "ch4-a", 0.5, t0)
        await _send_reading(b, "ch4-b", 0.5, t0)
        rules = tmp_path / "low.json"
        low = {"level": "yellow", "direction": "high", "value": 0.3, "restore": 0.25}
        rules.write_text(json.dumps({"thresholds": [low]}), encoding="utf-8")
        for code, output in await asyncio.gather(
            *(
                cluster.run_cli("sensor", "rules", sensor, "--file", str(rules))
                for sensor in ("ch4-a", "ch4-b")
            )
        ):
            assert code == 0, output

        def raised() -> set[str]:
            return {
                e.alarm.title.split()[1]
                for e in watcher.recorder.events
                if e.kind == "alarm.raised" and e.alarm and e.alarm.alarm_type.startswith("sensor")
            }

        # The same value now crosses the new limit on both instances (readings go on
        # until the change has arrived: it takes milliseconds, the machine may be busy).
        async with asyncio.timeout(WAIT):
            for n in range(10, 10_000):
                at = t0 + dt.timedelta(seconds=n)
                await _send_reading(a, "ch4-a", 0.6, at)
                await _send_reading(b, "ch4-b", 0.6, at)
                await asyncio.sleep(0.2)
                if raised() == {"A", "B"}:
                    break
        titles = [
            e.alarm.title for e in watcher.recorder.events if e.alarm and "甲烷" in e.alarm.title
        ]
        assert titles
        assert all(" 0.6 " in title for title in titles), titles  # never the 0.5 before
    finally:
        await watcher.close()


async def _send_reading(instance: Instance, sensor: str, value: float, at: dt.datetime) -> None:
    async with connect(
        instance.device_url,
        additional_headers={"Authorization": basic_auth_header("dev", PASSWORDS["dev"])},
    ) as ws:
        reading = {"type": "device.reading", "ref": f"{sensor}-{at.timestamp():.0f}"}
        await ws.send(
            json.dumps(
                reading | {"sensor": sensor, "at": at.isoformat(), "value": value, "unit": "%"}
            )
        )
        assert json.loads(await ws.recv())["type"] == "ack"


async def test_instances_keep_going_when_one_is_killed_and_a_new_one_catches_up(
    cluster: Cluster,
) -> None:
    a, b, c = cluster.instances
    watcher_b = await Console(b, "whole").open()
    writer_a = await Console(a, "whole").open()
    try:
        await cluster.kill(c)  # SIGKILL: no clean shutdown
        assert not c.running
        lat, lon = PLACES["3301"]
        answer = await writer_a.client.request(
            CreateAlarm(
                req="", alarm_type="fire", level=AlarmLevel.RED, title="after", lat=lat, lon=lon
            )
        )
        assert isinstance(answer, AlarmResult)
        try:
            await watcher_b.recorder.wait_for(
                lambda: any(
                    e.alarm and e.alarm.title == "after" for e in watcher_b.recorder.events
                ),
                WAIT,
            )
        except TimeoutError:
            state = await health(b.port)
            sessions = await _database_sessions(cluster)
            pytest.fail(f"B never got it: /health {state}; sessions:\n{sessions}")
        started = await cluster.start_instance()
        late = await Console(started, "hz").open()
        try:
            answer = await writer_a.client.request(
                CreateAlarm(
                    req="", alarm_type="fire", level=AlarmLevel.RED, title="later", lat=lat, lon=lon
                )
            )
            assert isinstance(answer, AlarmResult)
            await late.recorder.wait_for(
                lambda: any(e.alarm and e.alarm.title == "later" for e in late.recorder.events),
                WAIT,
            )
            assert late.seqs == sorted(set(late.seqs))
        finally:
            await late.close()
    finally:
        await watcher_b.close()
        await writer_a.close()


async def _database_sessions(cluster: Cluster) -> str:
    """What every connection to the cluster's database is doing (for a failure message)."""
    connection = await asyncpg.connect(cluster.dsn)
    try:
        rows = await connection.fetch(
            "SELECT pid, application_name, state, wait_event_type, wait_event, "
            "pg_blocking_pids(pid) AS blocked_by, left(query, 120) AS query "
            "FROM pg_stat_activity WHERE datname = current_database()"
        )
    finally:
        await connection.close()
    return "\n".join(str(dict(row)) for row in rows)
