"""``dutydesk demo``: a backend, a simulated device stream and a console in one command."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import os
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
from sqlalchemy.exc import SQLAlchemyError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from backend.cli import demo_publishing, demo_vehicles, external, night_shift
from backend.cli.common import Subparsers
from backend.cli.demo_dangers import seed_demo_dangers
from backend.cli.demo_warnings import run_demo_warnings
from backend.registry.files import DEMO_REGISTRY_JSON, RESOURCES_DIR, load_registry_json
from backend.server import embedded
from backend.server.app import DutyDeskServer
from backend.server.embedded import ServerThread
from devices.jt808.simulator import TruckPlan, run_fleet
from devices.sensor_simulator import make_sensors, run_sensor_feed
from realtime.client import ClientError, basic_auth_header
from realtime.protocol import Ack, DeviceAlarm, Error, Role, decode_server, encode
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

DEMO_SCENARIO = RESOURCES_DIR / "scenarios" / "demo_city.json"
DEMO_ROADS = RESOURCES_DIR / "basemap" / "demo_roads.osm"
"""The demo area's fictional street network (CC0), imported as `dutydesk basemap import`
would: the map draws it and the recommendation routes over it."""
DEMO_OFFICER = "demo"
NO_DISPLAY_EXIT = 2
"""Exit status of a demo that has no display to show its console on."""
DEMO_TRUCKS = 6
DEMO_SENSORS = 24
DEMO_ROUTE = (
    # A loop past the (fictional) chemical park of the scenario, in WGS-84 (lat, lon).
    (32.2402, 118.7511),
    (32.2490, 118.7702),
    (32.2561, 118.7823),
    (32.2588, 118.7901),
    (32.2533, 118.7955),
    (32.2215, 118.8102),
    (32.2301, 118.7605),
)


class Incident(msgspec.Struct, kw_only=True):
    """One scripted device alarm of a scenario."""

    key: str
    alarm_type: str
    level: AlarmLevel
    title: str
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    description: str = ""


class Scenario(msgspec.Struct, kw_only=True):
    """A scripted stream of device alarms (see ``resources/scenarios``)."""

    name: str
    source: str
    device: str
    incidents: list[Incident]
    jurisdiction: str = ""


def load_scenario(path: Path = DEMO_SCENARIO) -> Scenario:
    """Read a scenario file."""
    return msgspec.json.decode(path.read_bytes(), type=Scenario)


@dataclass(slots=True)
class DemoFeed:
    """Sends a scenario's alarms over the real device endpoint, one every ``interval`` s."""

    url: str
    username: str
    password: str
    scenario: Scenario
    interval: float = 8.0
    loop_forever: bool = True
    sent: int = 0

    async def run(self) -> None:
        """Connect (retrying) and play the scenario until cancelled."""
        incidents = (
            itertools.cycle(self.scenario.incidents)
            if self.loop_forever
            else iter(self.scenario.incidents)
        )
        header = basic_auth_header(self.username, self.password)
        round_number = 0
        while True:
            try:
                async with connect(
                    self.url, additional_headers={"Authorization": header}, compression=None
                ) as ws:
                    for incident in incidents:
                        if self.sent and self.sent % len(self.scenario.incidents) == 0:
                            round_number += 1
                        message = DeviceAlarm(
                            ref=f"demo-{self.sent}",
                            # A new round reuses keys only after the officer closed the old alarm.
                            key=f"{incident.key}-r{round_number}",
                            alarm_type=incident.alarm_type,
                            level=incident.level,
                            title=incident.title,
                            description=incident.description,
                            lat=incident.lat,
                            lon=incident.lon,
                            place=incident.place,
                            jurisdiction=self.scenario.jurisdiction,
                        )
                        await ws.send(encode(message).decode("utf-8"))
                        answer = decode_server(await ws.recv())
                        if isinstance(answer, Error):
                            logger.warning("demo alarm refused: %s", answer.message)
                        elif isinstance(answer, Ack):
                            logger.debug(
                                "demo alarm %s stored as #%s", message.ref, answer.alarm_id
                            )
                        self.sent += 1
                        await asyncio.sleep(self.interval)
                    return
            except (OSError, ConnectionClosed, InvalidHandshake) as exc:
                logger.info("demo feed reconnecting: %s", exc)
                await asyncio.sleep(1.0)


def add_parser(commands: Subparsers) -> None:
    """Register ``demo``."""
    demo = commands.add_parser(
        "demo",
        help="run a self-contained demo",
        description="Start a backend on a temporary embedded database (with the demo city's "
        "fictional sample registry: units, sensors, cameras, enterprises, hazard sources, "
        "teams, equipment, shelters, experts, protection targets and plans), a simulated device "
        "stream that raises alarms at a steady pace, a scripted night shift (an incident "
        "raised from a tanker's SOS, the resource recommendation and decision support asked "
        "for, tasks to fire, police and 120, fire ticking its plan step, one task escalating; "
        "the SOS truck's position queried and its doors locked after confirming), "
        "and the console logged in as a demo officer. Everything stops when the window "
        "closes or on Ctrl-C.",
    )
    demo.add_argument(
        "--lang", default=None, choices=["zh_CN", "en"], help="console language (default: zh_CN)"
    )
    demo.add_argument(
        "--interval", type=float, default=8.0, help="seconds between simulated alarms (default: 8)"
    )
    demo.add_argument("--screenshot", metavar="FILE", help="save a PNG of the window, then exit")
    demo.add_argument(
        "--after",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="when to take the screenshot (default: 5)",
    )
    demo.add_argument(
        "--wall",
        action="store_true",
        help="open the console as the wall display (map, alarm queue and counters in large "
        "type, no editing actions)",
    )
    demo.add_argument(
        "--open-incident",
        action="store_true",
        help="open the first incident in the console's incident workspace shortly before "
        "--screenshot",
    )
    demo.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    # The console comes through its entry point: the backend never imports the desktop.
    console = external.load_console()
    if console is None:
        return external.missing_component("demo", "desktop")
    # Before the backend starts: without a display the console could not open anyway.
    problem = console.display_problem(os.environ)
    if problem is not None:
        logger.error("%s", problem)
        return NO_DISPLAY_EXIT
    return run_demo(
        console,
        lang=args.lang,
        screenshot=args.screenshot,
        after=args.after,
        interval=args.interval,
        open_incident=args.open_incident,
        wall=args.wall,
    )


def night_shift_of(server: ServerThread, *, pace: float = 3.0) -> night_shift.NightShift:
    """Create the night shift's users (a supervisor and the agency desks) on ``server``
    and return the scripted shift that logs in as them."""
    passwords = {}
    for username, role, agency in night_shift.SHIFT_USERS:
        passwords[username] = secrets.token_urlsafe(12)
        server.add_user(username, passwords[username], role, agency=agency)
    return night_shift.NightShift(server.console_url, passwords, pace=pace)


async def play_night_shift(shift: night_shift.NightShift) -> None:
    """Play the night shift once; a step the server refuses ends it (logged), not the demo."""
    try:
        await shift.run()
    except (night_shift.Error, ClientError, TimeoutError) as exc:
        logger.warning("the night shift stopped: %s", exc)


def demo_server(users: Sequence[tuple[str, str, Role]]) -> ServerThread:
    """The demo's server (not started yet): a temporary database with the sample units,
    sensors and cameras, and the demo city's sample registry (enterprises, hazard sources,
    teams, equipment, shelters, experts, protection targets, plans) and its road layer
    imported at start."""
    return ServerThread(
        users=users,
        jt808=True,
        seed_sensors=True,
        seed_cameras=True,
        seed_registry=load_registry_json(),
        registry_source=DEMO_REGISTRY_JSON.name,
        seed_roads=DEMO_ROADS,
        sms_simulator=True,  # published notices' SMS go to an in-process SMSC, never out
    )


def run_demo(
    console: external.ConsoleModule,
    *,
    lang: str | None,
    screenshot: str | None,
    after: float,
    interval: float,
    open_incident: bool = False,
    wall: bool = False,
) -> int:
    """Run the demo with ``console`` until its window closes; return the console's exit status."""
    scenario = load_scenario()
    officer_password = secrets.token_urlsafe(12)
    device_password = secrets.token_urlsafe(12)
    users = [
        (DEMO_OFFICER, officer_password, Role.OFFICER),
        (scenario.device, device_password, Role.DEVICE),
    ]
    with demo_server(users) as server:
        logger.info(
            "demo backend on %s (temporary database in %s)", server.console_url, server.data_dir
        )
        feed = DemoFeed(
            server.device_url, scenario.device, device_password, scenario, interval=interval
        )
        server.call(seed_demo_dangers(server.server))  # the 隐患 board is not empty
        feed_future: concurrent.futures.Future[None] = server.submit(feed.run())
        # The command centre and the agency desks at work on the tanker's SOS.
        shift = night_shift_of(server)
        shift_future = server.submit(play_night_shift(shift))
        # The supervisor asks the SOS truck where it is, then locks its doors (confirmed).
        orders_future = server.submit(
            demo_vehicles.play_vehicle_orders(
                server.console_url, shift.passwords, night_shift.SUPERVISOR
            )
        )
        publishing_future = demo_publishing.start(server, shift)
        # Hazardous-goods trucks over real JT/T 808: one presses SOS, one speeds.
        fleet_future = server.submit(
            run_fleet(
                "127.0.0.1",
                server.jt808_port,
                DEMO_TRUCKS,
                plan=TruckPlan(route=DEMO_ROUTE, interval_s=2.0, sos_at_s=()),
                sos_trucks=1,
                speeding_trucks=1,
                phone_base=13_900_000_000,
                plate_prefix="苏A·D",
            )
        )
        # Gas, temperature, pressure and level sensors; now and then one leaks.
        sensors_future = server.submit(
            run_sensor_feed(
                server.device_url,
                basic_auth_header(scenario.device, device_password),
                make_sensors(DEMO_SENSORS),
                interval_s=2.0,
                leak_chance=0.004,
            )
        )
        # Early warnings: a methane sensor drifting upward, a weather alert over the park.
        warnings_future = server.submit(
            run_demo_warnings(
                server.server,
                server.device_url,
                basic_auth_header(scenario.device, device_password),
            )
        )
        try:
            status = console.run_console(
                server.console_url,
                DEMO_OFFICER,
                officer_password,
                lang=lang,
                screenshot=screenshot,
                after=after,
                open_incident=open_incident,
                wall=wall,
            )
        finally:
            for future in (
                feed_future,
                fleet_future,
                sensors_future,
                shift_future,
                orders_future,
                warnings_future,
                publishing_future,
            ):
                future.cancel()
                with contextlib.suppress(concurrent.futures.CancelledError, TimeoutError):
                    future.exception(timeout=5)
        logger.info("demo finished; %s", summary_line(server, feed.sent))
    return status


async def queue_by_source(server: DutyDeskServer, username: str) -> Counter[str]:
    """The alarms ``username``'s queue holds, counted by source, as the server answers a
    console's snapshot (open alarms and those closed recently)."""
    user = next((p for p in await server.users.list_users() if p.username == username), None)
    if user is None:
        return Counter()
    snapshot = await server.alarms.snapshot(user)
    # The reporter (a device account, an officer, ``jt808:<terminal>`` for the gateway's
    # trucks, counted together) tells the feeds apart.
    return Counter(
        (alarm.source_ref or alarm.source).partition(":")[0] for alarm in snapshot.alarms
    )


def summary_line(server: ServerThread, scripted: int) -> str:
    """What the demo raised, as its queue showed it: every alarm by source."""
    try:
        counts = server.call(queue_by_source(server.server, DEMO_OFFICER), timeout=10)
    except (embedded.Error, TimeoutError, OSError, SQLAlchemyError) as exc:
        logger.warning("cannot count the demo's alarms: %s", exc)
        return f"{scripted} scripted alarms were sent"
    by_source = ", ".join(f"{count} from {source}" for source, count in counts.most_common())
    total = sum(counts.values())
    return (
        f"{total} alarms in the queue ({by_source or 'none'}); "
        f"the scripted feed sent {scripted} reports (a repeat counts on its open alarm)"
    )
