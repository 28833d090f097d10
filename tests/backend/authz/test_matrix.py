"""The authorization matrix, cell by cell, over real WebSockets.

Every role (officer, supervisor, agency, viewer, admin, trainer) × every area (a Shanghai
user ``31``, a Hangzhou user ``3301``, a whole-area user ``""``) × every console command
of the command table and every topic of the live stream. Each cell connects a console
(Bearer token: no password hashing per cell), sends its probes and checks the answer:
allowed with the right data, or refused with ``forbidden`` and a message that says
nothing about the object. And in every cell, the raw frames the console received from
its first byte (welcome, snapshot or replay, answers, events, telemetry) are searched for
the marks of every object outside the user's scope: none may appear.

The world is built once per module on one embedded server: alarms, units, cameras,
vehicles with their fixes, sensors with their readings and a geofence, in Shanghai
(``310104``) and Hangzhou (``330106``), some shared with the fire agency. What each user
may see is worked out here from the rules as the docs state them, not by calling the
policy module, so the test checks the server against the documented model.

The cells come from the tables: a command without a case, or a topic without a trigger,
fails :func:`test_every_command_and_topic_has_cells`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import functools
import io
import itertools
import json
import typing
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import openpyxl
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from backend.alarms.grants import GrantService
from backend.alarms.reveals import RevealLimit
from backend.authz.policy import ACTION_ROLES, PERMISSIONS, Permission, Topic
from backend.authz.principal import Principal
from backend.early_warning.detector import Raise
from backend.exercises.recording import Header, Recording, RegistrySnapshot
from backend.sensors.rules import RuleSet, SensorConfig, SensorKind
from backend.server import commands, vehicle_command_handlers
from backend.server.embedded import ServerThread
from backend.storage.models import PositionRecord, ReadingRecord
from devices.observations import Position
from realtime import PROTOCOL_VERSION
from realtime.client import basic_auth_header
from realtime.incident_states import AssigneeKind
from realtime.protocol import (
    Audience,
    CameraView,
    Channel,
    Command,
    ControlAction,
    ControlExercise,
    CreateAlarm,
    DangerCategory,
    DangerGrade,
    DispatchAlarm,
    HiddenDangerInput,
    InspectionInput,
    ItemKind,
    NoticeArea,
    NoticeInput,
    NoticeKind,
    PositionView,
    ReadingView,
    RecordingSource,
    RegistryItemInput,
    Role,
    SaveGeofence,
    ShareAlarm,
    ShareCamera,
    StartExercise,
    UnitView,
    UnshareCamera,
    UploadAttachment,
)
from realtime.protocol import CircleShape as Circle
from realtime.protocol.early_warning import (
    ActOnWarning,
    GetProjection,
    ImportWeather,
    ListWarnings,
    WarningLevel,
    WarningSource,
)
from realtime.protocol.vehicle_commands import CallBack, CommandOutcome, VehicleCommandView
from realtime.states import AlarmAction, AlarmLevel

SH, HZ = "310104", "330106"
WHERE = {SH: (31.19, 121.44), HZ: (30.259, 120.13)}
"""A point inside each place (objects registered with a position are placed where they
stand)."""
"""Where the world's objects lie: a Shanghai district and a Hangzhou district."""
AREAS = {"sh": "31", "hz": "3301", "all": ""}
ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.AGENCY, Role.VIEWER, Role.ADMIN, Role.TRAINER)
READERS = {Role.OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.VIEWER, Role.TRAINER}
FIRE = "fire"
HIDDEN = "no such {} in your area"
T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    area: str

    @property
    def agency(self) -> str | None:
        return FIRE if self.role is Role.AGENCY else None

    @property
    def enterprise(self) -> str | None:
        """An enterprise user's enterprise (it sees nothing of its area by place)."""
        return ENTERPRISE_OF.get(self.name)

    def sees(self, place: str) -> bool:
        return self.role is not Role.ENTERPRISE and place.startswith(self.area)

    def holds(self, permission: Permission) -> bool:
        return self.role in PERMISSIONS[permission].roles


USERS = [User(f"{role}-{key}", role, code) for role in ROLES for key, code in AREAS.items()]
ENTERPRISES = {"TOK-ENT-HZ": HZ, "TOK-ENT-SH": SH}
"""The registry's enterprises: code → where it lies."""
ENTERPRISE_OF = {"enterprise-hz": "TOK-ENT-HZ"}
# One enterprise user (bound to the Hangzhou enterprise): every command and topic is
# checked to give it nothing but its own enterprise's hidden dangers.
USERS.append(User("enterprise-hz", Role.ENTERPRISE, HZ))


# ---------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class Alarm:
    key: str
    place: str
    shared_with_fire: bool
    title: str
    caller: str

    def visible(self, user: User) -> bool:
        if not user.sees(self.place):
            return False
        return user.role is not Role.AGENCY or self.shared_with_fire


ALARMS = {
    # Shared with fire explicitly (alarm.share).
    "sh": Alarm("sh", SH, True, "TOK-ALARM-SH 静安仓库起火", "TOK-CALLER-SH"),
    # Shared with fire by dispatching its Hangzhou unit.
    "hz": Alarm("hz", HZ, True, "TOK-ALARM-HZ 西湖化工泄漏", "TOK-CALLER-HZ"),
    # Not shared with anyone: agency desks never see it.
    "shp": Alarm("shp", SH, False, "TOK-ALARM-SHP 静安燃气", "TOK-CALLER-SHP"),
}


@dataclass(frozen=True)
class Unit:
    code: str
    place: str

    def visible(self, user: User) -> bool:
        return user.sees(self.place)  # both are fire units: fire desks see them too


UNITS = {"sh": Unit("TOK-UNIT-SH", SH), "hz": Unit("TOK-UNIT-HZ", HZ)}


@dataclass(frozen=True)
class Camera:
    code: str
    name: str
    url: str
    place: str
    shared_with_fire_for: str | None
    """The alarm it is shared with fire for (in force)."""
    shared_before_with_fire_for: str | None = None
    """An alarm it was once shared with fire for (the grant's events stay in the log)."""

    def visible(self, user: User) -> bool:
        if user.agency is None:
            return user.sees(self.place)
        alarm = self.shared_with_fire_for
        return alarm is not None and user.sees(ALARMS[alarm].place)

    def code_visible(self, user: User) -> bool:
        """The code also appears in the share events fire desks of the alarm's area see."""
        if self.visible(user):
            return True
        alarms = (self.shared_with_fire_for, self.shared_before_with_fire_for)
        return user.role is Role.AGENCY and any(
            key is not None and user.sees(ALARMS[key].place) for key in alarms
        )


CAMERAS = {
    "sh": Camera("TOKCAMSH", "TOK-CAM-SH-NAME", "rtsp://u:p@192.0.2.31/TOKURLSH", SH, "sh"),
    "hz": Camera("TOKCAMHZ", "TOK-CAM-HZ-NAME", "rtsp://u:p@192.0.2.33/TOKURLHZ", HZ, None, "hz"),
}


@dataclass(frozen=True)
class Vehicle:
    identity: str
    name: str
    plate: str
    fixes: tuple[str, ...]
    """The places of its stored fixes, oldest first (the last is where it is now)."""

    @property
    def place(self) -> str:
        return self.fixes[-1] if self.fixes else ""

    def visible(self, user: User) -> bool:
        return user.role in READERS and user.sees(self.place)


VEHICLES = {
    # It drove through Hangzhou once: Hangzhou users see that one fix of its track.
    "sh": Vehicle("13900000031", "TOK-VEH-SH", "TOKPLATESH", (SH, HZ, SH)),
    "hz": Vehicle("13900000033", "TOK-VEH-HZ", "TOKPLATEHZ", (HZ, HZ)),
    "nowhere": Vehicle("13900000099", "TOK-VEH-NOWHERE", "TOKPLATENONE", ()),
}


@dataclass(frozen=True)
class Sensor:
    sensor_id: str
    name: str
    feed: str
    """The JSON feed device that reports it (placed where its sensor stands)."""
    feed_name: str
    place: str

    def visible(self, user: User) -> bool:
        return user.role in READERS and user.sees(self.place)


SENSORS = {
    "sh": Sensor("TOKSENSH", "TOK-SEN-SH-NAME", "tokfeedsh", "TOK-FEED-SH", SH),
    "hz": Sensor("TOKSENHZ", "TOK-SEN-HZ-NAME", "tokfeedhz", "TOK-FEED-HZ", HZ),
}
GEOFENCE = "TOK-GEOFENCE"


@dataclass(frozen=True)
class Item:
    """A registry item (its code is its mark)."""

    kind: str
    code: str
    place: str
    agency: str
    details: dict[str, Any]

    def visible(self, user: User) -> bool:
        """Inside the user's area, in an area above it, or nowhere (""); an enterprise
        user sees no registry item."""
        if user.role is Role.ENTERPRISE:
            return False
        return self.place.startswith(user.area) or user.area.startswith(self.place)

    def edit_refusal(self, user: User) -> str | None:
        """Why the user may not change it (None: they may)."""
        if not self.visible(user):
            return HIDDEN.format("registry item")
        if not user.sees(self.place):
            where = repr(self.place) if self.place else "no jurisdiction (the whole area)"
            return f"registry items of {where} are outside your area"
        if user.agency is not None and user.agency != self.agency:
            return f"a user of agency {user.agency} changes only its agency's items"
        return None

    def payload(self, name: str = "") -> dict[str, Any]:
        return {
            "code": self.code,
            "name": name or self.code,
            "jurisdiction": self.place,
            "agency": self.agency,
            "details": self.details,
        }


REG_PHONE = "13800000077"
ITEMS = {
    "sh": Item(
        "team", "TOK-REG-SH", SH, FIRE, {"type": "team", "team_type": "危化品救援", "members": 9}
    ),
    "hz": Item("team", "TOK-REG-HZ", HZ, "police", {"type": "team", "team_type": "特警"}),
    # The province above Hangzhou: Hangzhou users see it, Shanghai users do not.
    "zj": Item("plan", "TOK-REG-ZJ", "33", "", {"type": "plan", "type_codes": ["hazchem_leak"]}),
    # Nowhere: everyone sees it.
    "all": Item(
        "expert",
        "TOK-REG-ALL",
        "",
        "",
        {"type": "expert", "contacts": [{"name": "专家", "phone": REG_PHONE}]},
    ),
}


@dataclass(frozen=True)
class Task:
    key: str
    incident: str
    agency: str
    instructions: str

    def visible(self, user: User) -> bool:
        place = INCIDENTS[self.incident].place
        return user.sees(place) and (user.agency is None or user.agency == self.agency)


@dataclass(frozen=True)
class Incident:
    key: str
    place: str
    title: str
    message: str
    """A chat message posted on it (a mark)."""
    attachment: str
    """The file name of an attachment uploaded to it (a mark)."""

    def visible(self, user: User) -> bool:
        """Inside the user's area; for an agency desk only with a task of its agency."""
        if not user.sees(self.place):
            return False
        return user.agency is None or any(
            task.agency == user.agency for task in TASKS.values() if task.incident == self.key
        )


INCIDENTS = {
    "sh": Incident("sh", SH, "TOK-INC-SH 静安危化品泄漏", "TOK-MSG-SH 堵漏", "TOK-ATT-SH.jpg"),
    "hz": Incident("hz", HZ, "TOK-INC-HZ 西湖槽车侧翻", "TOK-MSG-HZ 封路", "TOK-ATT-HZ.jpg"),
}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + bytes(200)
TASKS = {
    # Fire has a task in Shanghai only: its Hangzhou desks never see the Hangzhou incident.
    "sh-fire": Task("sh-fire", "sh", FIRE, "TOK-TASK-SH-FIRE"),
    "sh-police": Task("sh-police", "sh", "police", "TOK-TASK-SH-POLICE"),
    "hz-police": Task("hz-police", "hz", "police", "TOK-TASK-HZ-POLICE"),
}


def geofences_visible(user: User) -> bool:
    return user.role in READERS and user.area == ""


def foreign_marks(user: User) -> set[str]:
    """Every mark of an object the user may not see (none may reach their console)."""
    marks = set(_alarm_and_unit_marks(user)) | set(_camera_marks(user))
    for vehicle in VEHICLES.values():
        if not vehicle.visible(user):
            marks |= {vehicle.name, vehicle.plate, vehicle.identity}
    for sensor in SENSORS.values():
        if not sensor.visible(user):
            marks |= {sensor.sensor_id, sensor.name, sensor.feed, sensor.feed_name}
    if not geofences_visible(user):
        marks.add(GEOFENCE)
    marks |= {i.title.split()[0] for i in INCIDENTS.values() if not i.visible(user)}
    marks |= {t.instructions for t in TASKS.values() if not t.visible(user)}
    marks |= {item.code for item in ITEMS.values() if not item.visible(user)}
    marks |= _danger_marks(user)
    for incident in INCIDENTS.values():
        if not incident.visible(user):
            marks |= {incident.message.split()[0], incident.attachment}
    for notice in (*NOTICES.values(), *EVENT_NOTICES.values()):
        if not notice.visible(user) and not notice.received(user):
            marks.add(notice.title)
    return marks


def _alarm_and_unit_marks(user: User) -> Iterator[str]:
    for alarm in ALARMS.values():
        if not alarm.visible(user):
            yield from (alarm.title.split()[0], alarm.caller)
    yield from (unit.code for unit in UNITS.values() if not unit.visible(user))


def _camera_marks(user: User) -> Iterator[str]:
    for camera in CAMERAS.values():
        if not camera.visible(user):
            yield from (camera.name, "TOKURL" + camera.code.removeprefix("TOKCAM"))
        if not camera.code_visible(user):
            yield camera.code


@dataclass
class World:
    thread: ServerThread
    tokens: dict[str, str]
    alarm_ids: dict[str, int]
    admin: Principal
    grants: GrantService
    seq: itertools.count[int] = field(default_factory=itertools.count)
    incident_ids: dict[str, int] = field(default_factory=dict)
    task_ids: dict[str, int] = field(default_factory=dict)
    flag_ids: dict[str, int] = field(default_factory=dict)
    """A supervision flag per task, answered already (by root)."""
    attachment_ids: dict[str, int] = field(default_factory=dict)
    exercise_run: str = ""
    """A run started by a trainer of Shanghai with one Hangzhou officer taking part."""
    exercise_trainer: Principal | None = None
    danger_ids: dict[str, int] = field(default_factory=dict)
    """A hidden danger per enterprise (``hz``, ``sh``), reported by root."""
    notice_ids: dict[str, int] = field(default_factory=dict)
    """The world's notices: Hangzhou's pending, Shanghai's published to the agencies."""

    def call(self, coroutine: Any) -> Any:
        return self.thread.call(coroutine)


def _build(thread: ServerThread) -> World:
    server = thread.server
    # Every cell reveals as its user again; the hourly reveal limit has its own tests
    # (tests/backend/alarms/test_personal_data.py) and must not decide cells here.
    server.alarms._reveal_limit = RevealLimit(1_000_000)
    server.registry_items._reveal_limit = server.alarms.reveal_limit
    admin = thread.add_user("root", "pw-root-admin", Role.ADMIN)
    _build_enterprises(thread, admin)
    tokens = {}
    for user in USERS:
        principal = thread.add_user(
            user.name,
            f"pw-{user.name}",
            user.role,
            agency=user.agency,
            jurisdiction=user.area,
            enterprise=user.enterprise,
        )
        tokens[user.name] = thread.call(server.users.issue_token(principal))
    thread.call(
        server.alarms.seed_units(
            [
                UnitView(id=0, code=unit.code, name=unit.code, agency=FIRE, jurisdiction=unit.place)
                for unit in UNITS.values()
            ]
        )
    )
    units = {u.code: u.id for u in thread.call(server.alarms.list_units(admin))}
    alarm_ids = {}
    for key, alarm in ALARMS.items():
        created = thread.call(
            server.alarms.create_manual(
                admin,
                CreateAlarm(
                    req=f"seed-{key}",
                    alarm_type="fire",
                    level=AlarmLevel.RED,
                    title=alarm.title,
                    jurisdiction=alarm.place,
                    caller_name=alarm.caller,
                    caller_phone="13800000031",
                ),
            )
        )
        alarm_ids[key] = created.id
    grants = server.grants
    thread.call(
        grants.share_alarm(admin, ShareAlarm(req="", alarm_id=alarm_ids["sh"], agency=FIRE))
    )
    thread.call(
        server.alarms.dispatch(
            admin,
            DispatchAlarm(
                req="",
                alarm_id=alarm_ids["hz"],
                expected_version=1,
                unit_ids=[units["TOK-UNIT-HZ"]],
            ),
        )
    )
    thread.call(
        server.cameras.import_cameras(
            [
                CameraView(
                    id=0,
                    code=c.code,
                    name=c.name,
                    lat=WHERE[c.place][0],
                    lon=WHERE[c.place][1],
                    agency="safety",
                    jurisdiction=c.place,
                    stream_url=c.url,
                )
                for c in CAMERAS.values()
            ]
        )
    )
    share_sh = ShareCamera(req="", camera="TOKCAMSH", agency=FIRE, alarm_id=alarm_ids["sh"])
    thread.call(grants.share_camera(admin, share_sh))
    # A share of the Hangzhou camera that ended: its events stay in the log.
    _share_and_unshare_the_hangzhou_camera(grants, admin, alarm_ids["hz"], thread.call)
    for vehicle in VEHICLES.values():
        thread.call(
            server.registry.add("jt808", vehicle.identity, vehicle.name, plate=vehicle.plate)
        )
    for sensor in SENSORS.values():
        thread.call(server.registry.add("json", sensor.feed, sensor.feed_name))
    thread.call(
        server.sensors.add_sensors(
            [
                SensorConfig(
                    sensor_id=s.sensor_id,
                    kind=SensorKind.CH4,
                    unit="%",
                    rules=RuleSet(),
                    poll_cycle_seconds=3600.0,
                    name=s.name,
                    jurisdiction=s.place,
                )
                for s in SENSORS.values()
            ]
        )
    )
    thread.call(_store_telemetry(thread))
    thread.call(
        server.geofences.save(
            "root",
            SaveGeofence(
                req="",
                name=GEOFENCE,
                kind="geofence",
                shape=Circle(lat=31.2, lon=121.4, radius_m=500.0),
            ),
        )
    )
    world = World(thread, tokens, alarm_ids, admin, grants)
    _build_incidents(world)
    for item in ITEMS.values():
        world.call(
            server.registry_items.save(
                admin, msgspec.convert(item.payload(), RegistryItemInput), None
            )
        )
    _build_exercise(world)
    _build_dangers(world)
    _build_notices(world)
    return world


def _build_incidents(world: World) -> None:
    incidents, admin = world.thread.server.incidents, world.admin
    for key, incident in INCIDENTS.items():
        opened = world.call(
            incidents.open_incident(
                admin, type_code="hazchem_leak", title=incident.title, jurisdiction=incident.place
            )
        )
        world.incident_ids[key] = opened.id
    for key, task in TASKS.items():
        sent = world.call(
            incidents.send_task(
                admin,
                world.incident_ids[task.incident],
                assignee_kind=AssigneeKind.AGENCY,
                assignee_ref=task.agency,
                instructions=task.instructions,
            )
        )
        world.task_ids[key] = sent.id
        flagged = world.call(incidents.supervise(admin, sent.id, "请加快"))
        flag = flagged.supervisions[-1].id
        world.call(incidents.answer_supervision(admin, flag, "已督促"))
        world.flag_ids[key] = flag
    chat = world.thread.server.chat
    for key, incident in INCIDENTS.items():
        world.call(chat.post(admin, world.incident_ids[key], incident.message, []))
        uploaded = world.call(
            chat.upload(
                admin,
                UploadAttachment(
                    req="",
                    upload_id=f"seed-{key}",
                    incident_id=world.incident_ids[key],
                    filename=incident.attachment,
                    content_type="image/jpeg",
                    offset=0,
                    data=JPEG,
                    final=True,
                ),
            )
        )
        world.attachment_ids[key] = uploaded.attachment.id


def _share_and_unshare_the_hangzhou_camera(
    grants: GrantService, admin: Principal, alarm_id: int, call: Callable[[Any], Any]
) -> None:
    call(
        grants.share_camera(
            admin, ShareCamera(req="", camera="TOKCAMHZ", agency=FIRE, alarm_id=alarm_id)
        )
    )
    call(
        grants.unshare_camera(
            admin, UnshareCamera(req="", camera="TOKCAMHZ", agency=FIRE, alarm_id=alarm_id)
        )
    )


async def _store_telemetry(thread: ServerThread) -> None:
    server = thread.server
    latest = []
    async with server.sessions.begin() as session:
        for vehicle in VEHICLES.values():
            for n, place in enumerate(vehicle.fixes):
                at = T0 + dt.timedelta(minutes=n)
                session.add(
                    PositionRecord(
                        device=vehicle.identity,
                        at=at,
                        lat=31.2,
                        lon=121.4,
                        speed_kmh=40.0,
                        heading_deg=0.0,
                        altitude_m=0.0,
                        alarms="",
                        backfill=False,
                        jurisdiction=place,
                    )
                )
                if n == len(vehicle.fixes) - 1:
                    latest.append(
                        PositionView(
                            device=vehicle.identity, at=at, lat=31.2, lon=121.4, jurisdiction=place
                        )
                    )
        for sensor in SENSORS.values():
            for n in range(2):
                session.add(
                    ReadingRecord(
                        device=sensor.feed,
                        sensor=sensor.sensor_id,
                        at=T0 + dt.timedelta(minutes=n),
                        value=0.5,
                        unit="%",
                    )
                )
    server.hub.remember_positions(latest)
    server.hub.remember_readings(
        [
            ReadingView(
                device=s.feed, sensor=s.sensor_id, at=T0, value=0.5, unit="%", jurisdiction=s.place
            )
            for s in SENSORS.values()
        ]
    )


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One server and one world for every cell of this module."""
    thread = ServerThread(users=(("device1", "pw-device1", Role.DEVICE),), seed_units=False)
    with thread:
        yield _build(thread)


# ---------------------------------------------------------------------------- a console


class Console:
    """A raw console: every frame it received is kept, in order."""

    def __init__(self, ws: ClientConnection, world: World) -> None:
        self.ws = ws
        self.world = world
        self.frames: list[str] = []

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            raw = await self.ws.recv()
        assert isinstance(raw, str)
        self.frames.append(raw)
        message = json.loads(raw)
        assert isinstance(message, dict)
        return message

    async def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a command; return its answer (frames in between are kept)."""
        req = f"m{next(self.world.seq)}"
        await self.ws.send(json.dumps({**payload, "req": req}))
        while True:
            message = await self.recv()
            if message.get("req") == req and message["type"] in ("result", "error"):
                return message

    async def drain(self, until: Callable[[], bool], quiet: float = 0.15) -> None:
        """Read frames until ``until()`` holds, then for ``quiet`` seconds more (anything
        that was not meant for this console would arrive by then)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while not until():
                    await self.recv()
        with contextlib.suppress(TimeoutError):
            while True:
                await self.recv(timeout=quiet)

    def messages(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in map(json.loads, self.frames) if m["type"] == kind]

    def assert_nothing_foreign(self, user: User, exempt: frozenset[str] = frozenset()) -> None:
        text = "\n".join(self.frames)
        leaked = sorted(mark for mark in foreign_marks(user) - exempt if mark in text)
        assert not leaked, f"{user.name} received marks of objects outside its scope: {leaked}"


@contextlib.asynccontextmanager
async def console(
    world: World, user: User, resume_from: int | None = None
) -> AsyncIterator[Console]:
    """A console of ``user`` that has said hello and read up to ``synced``."""
    headers = {"Authorization": f"Bearer {world.tokens[user.name]}"}
    async with connect(world.thread.console_url, additional_headers=headers, max_size=None) as ws:
        session = Console(ws, world)
        hello: dict[str, Any] = {"type": "hello", "protocol": PROTOCOL_VERSION}
        if resume_from is not None:
            hello["resume_from"] = resume_from
        await ws.send(json.dumps(hello))
        while (await session.recv())["type"] != "synced":
            pass
        yield session


# ---------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Probe:
    """One message of a cell and what must come back."""

    payload: dict[str, Any]
    code: str | None = None
    """The error code expected; None: a result."""
    message: str | None = None
    """The error message expected (exactly), if it matters."""
    check: Callable[[dict[str, Any]], None] | None = None
    """Checks the result's data."""


def _role_refusal(user: User, permission: Permission) -> str | None:
    return None if user.holds(permission) else f"role {user.role} may not {permission.value}"


def probe(
    user: User,
    permission: Permission,
    payload: dict[str, Any],
    *,
    scope_refusal: str | None = None,
    code: str | None = None,
    message: str | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> Probe:
    """The probe of a command: refused for the role, else for the scope, else as given."""
    role = _role_refusal(user, permission)
    if role is not None:
        return Probe(payload, "forbidden", role)
    if scope_refusal is not None:
        return Probe(payload, "forbidden", scope_refusal)
    return Probe(payload, code, message, check)


def _alarm_probes(
    world: World,
    user: User,
    permission: Permission,
    build: Callable[[int], dict[str, Any]],
    *,
    code: str | None = None,
    message: str | None = None,
    check: Callable[[str], Callable[[dict[str, Any]], None]] | None = None,
    extra: Callable[[User, Alarm], str | None] = lambda user, alarm: None,
    codes: dict[str, str] | None = None,
) -> list[Probe]:
    """One probe per alarm of the world, and one for a missing alarm; ``codes`` gives the
    allowed outcome per alarm where it differs from ``code``."""
    probes = [
        probe(
            user,
            permission,
            build(world.alarm_ids[key]),
            scope_refusal=HIDDEN.format("alarm") if not alarm.visible(user) else extra(user, alarm),
            code=(codes or {}).get(key, code),
            message=message,
            check=check(key) if check else None,
        )
        for key, alarm in ALARMS.items()
    ]
    # A missing alarm is refused exactly like one outside the scope.
    probes.append(probe(user, permission, build(999_999), scope_refusal=HIDDEN.format("alarm")))
    return probes


def _marks_in(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def _has_exactly(user: User, expected: dict[str, bool]) -> Callable[[dict[str, Any]], None]:
    def check(data: dict[str, Any]) -> None:
        text = _marks_in(data)
        for mark, visible in expected.items():
            assert (mark in text) == visible, (
                f"{user.name}: {mark} {'missing' if visible else 'leaked'}"
            )

    return check


Cases = Callable[[World, User], list[Probe]]
CASES: dict[type[Any], Cases] = {}


def case(command: type[Any]) -> Callable[[Cases], Cases]:
    def register(function: Cases) -> Cases:
        CASES[command] = function
        return function

    return register


@case(CreateAlarm)
def _create(world: World, user: User) -> list[Probe]:
    return [
        probe(
            user,
            Permission.ENTER_ALARMS,
            {
                "type": "alarm.create",
                "alarm_type": "fire",
                "level": "blue",
                "title": f"created by {user.name}",
                "jurisdiction": place,
            },
            scope_refusal=None
            if user.sees(place)
            else f"jurisdiction {place!r} is outside your area",
            check=functools.partial(_alarm_in, place),
        )
        for place in (SH, HZ)
    ]


def _assert_eq(actual: object, expected: object) -> None:
    assert actual == expected


def _alarm_in(place: str, data: dict[str, Any]) -> None:
    assert data["alarm"]["jurisdiction"] == place


def _track_of(vehicle: Vehicle, user: User, data: dict[str, Any]) -> None:
    inside = sum(map(user.sees, vehicle.fixes))
    assert (len(data["t_ms"]), data["total"]) == (inside, inside)


def _action_refusal(action: AlarmAction) -> Callable[[User, Alarm], str | None]:
    def refusal(user: User, alarm: Alarm) -> str | None:
        return (
            None
            if user.role in ACTION_ROLES[action]
            else f"role {user.role} may not {action} an alarm"
        )

    return refusal


def _transition_case(world: World, user: User) -> list[Probe]:
    # At a version the alarm never had: an allowed user is refused as stale, nothing changes.
    return _alarm_probes(
        world,
        user,
        Permission.WORK_ALARMS,
        lambda alarm_id: {
            "type": "alarm.transition",
            "alarm_id": alarm_id,
            "action": "acknowledge",
            "expected_version": 999,
        },
        code="stale_version",
        # The Hangzhou alarm is dispatched: acknowledging it is illegal, whatever the version.
        codes={"hz": "illegal_transition"},
        extra=_action_refusal(AlarmAction.ACKNOWLEDGE),
    )


def _dispatch_case(world: World, user: User) -> list[Probe]:
    return _alarm_probes(
        world,
        user,
        Permission.DISPATCH_UNITS,
        lambda alarm_id: {
            "type": "alarm.dispatch",
            "alarm_id": alarm_id,
            "expected_version": 999,
            "unit_ids": [1],
        },
        code="stale_version",
    )


def _history_case(world: World, user: User) -> list[Probe]:
    def check(key: str) -> Callable[[dict[str, Any]], None]:
        def events_of_the_alarm(data: dict[str, Any]) -> None:
            alarm_id = world.alarm_ids[key]
            assert data["events"][0]["kind"] == "alarm.raised"
            for event in data["events"]:
                owner = event.get("alarm") or event.get("grant") or {}
                assert owner.get("alarm_id", owner.get("id")) == alarm_id

        return events_of_the_alarm

    return _alarm_probes(
        world,
        user,
        Permission.SEE_ALARM_HISTORY,
        lambda alarm_id: {"type": "alarm.history", "alarm_id": alarm_id},
        check=check,
    )


def _reveal_case(world: World, user: User) -> list[Probe]:
    return _alarm_probes(
        world,
        user,
        Permission.REVEAL_CONTACT,
        lambda alarm_id: {"type": "alarm.reveal_contact", "alarm_id": alarm_id, "reason": "回拨"},
        check=lambda key: lambda data: _assert_eq(data["caller_name"], ALARMS[key].caller),
    )


def _share_case(world: World, user: User) -> list[Probe]:
    return _alarm_probes(
        world,
        user,
        Permission.SHARE_ALARMS,
        lambda alarm_id: {"type": "alarm.share", "alarm_id": alarm_id, "agency": "no-such"},
        code="validation",
        message="no active agency 'no-such'",
    )


def _unshare_case(world: World, user: User) -> list[Probe]:
    return _alarm_probes(
        world,
        user,
        Permission.SHARE_ALARMS,
        lambda alarm_id: {"type": "alarm.unshare", "alarm_id": alarm_id, "agency": "police"},
        code="validation",
        message="the alarm is not shared with police",
    )


def _camera_probes(world: World, user: User, tag: str, message: str) -> list[Probe]:
    probes = []
    for alarm_key, camera_key in itertools.product(("sh", "hz"), ("sh", "hz")):
        alarm, camera = ALARMS[alarm_key], CAMERAS[camera_key]
        hidden = None
        if not alarm.visible(user):
            hidden = HIDDEN.format("alarm")
        elif not camera.visible(user):
            hidden = HIDDEN.format("camera")
        payload = {
            "type": tag,
            "camera": camera.code,
            "agency": "police",
            "alarm_id": world.alarm_ids[alarm_key],
        }
        probes.append(
            probe(
                user,
                Permission.SHARE_CAMERAS,
                payload,
                scope_refusal=hidden,
                code="validation",
                message=message,
            )
        )
    return probes


def _grants_case(world: World, user: User) -> list[Probe]:
    in_force = user.sees(SH) and (user.role in READERS or user.role is Role.AGENCY)

    def check(data: dict[str, Any]) -> None:
        seen = {(g["kind"], g["alarm_id"], g["camera"]) for g in data["grants"]}
        expected = {
            ("alarm", world.alarm_ids["sh"], ""),
            ("camera", world.alarm_ids["sh"], "TOKCAMSH"),
        }
        assert seen == (expected if in_force else set())

    return [probe(user, Permission.SEE_GRANTS, {"type": "grants.list"}, check=check)]


def _list_case(
    permission: Permission, tag: str, expected: Callable[[User], dict[str, bool]]
) -> Cases:
    def cells(world: World, user: User) -> list[Probe]:
        return [probe(user, permission, {"type": tag}, check=_has_exactly(user, expected(user)))]

    return cells


_BY_TAG: dict[str, Cases] = {
    "alarm.transition": _transition_case,
    "alarm.dispatch": _dispatch_case,
    "alarm.history": _history_case,
    "alarm.reveal_contact": _reveal_case,
    "alarm.share": _share_case,
    "alarm.unshare": _unshare_case,
    "camera.share": lambda world, user: _camera_probes(
        world,
        user,
        "camera.share",
        "share the alarm with police (or dispatch one of its units) first",
    ),
    "camera.unshare": lambda world, user: _camera_probes(
        world, user, "camera.unshare", "the camera is not shared with police"
    ),
    "grants.list": _grants_case,
    "agencies.list": _list_case(
        Permission.SEE_AGENCIES, "agencies.list", lambda user: {"消防救援": True, "卫健/120": True}
    ),
    "units.list": _list_case(
        Permission.SEE_UNITS,
        "units.list",
        lambda user: {u.code: u.visible(user) for u in UNITS.values()},
    ),
    "cameras.list": _list_case(
        Permission.SEE_CAMERAS,
        "cameras.list",
        lambda user: {c.url: c.visible(user) for c in CAMERAS.values()},
    ),
    "devices.list": _list_case(
        Permission.SEE_DEVICES,
        "devices.list",
        lambda user: {
            **{v.plate: v.visible(user) for v in VEHICLES.values()},
            **{s.feed_name: s.visible(user) for s in SENSORS.values()},
        },
    ),
    "sensors.list": _list_case(
        Permission.SEE_SENSORS,
        "sensors.list",
        lambda user: {s.sensor_id: s.visible(user) for s in SENSORS.values()},
    ),
    "ping": _list_case(Permission.PING, "ping", lambda user: {"server_time": True}),
    # The asker's own session is open; no user of another area may appear (whether their
    # console happens to be open or not).
    "sessions.list": _list_case(
        Permission.SEE_SESSIONS,
        "sessions.list",
        lambda user: (
            {user.name: True}
            | {f'"{other.name}"': False for other in USERS if not user.sees(other.area)}
        ),
    ),
    "session.unlock": lambda world, user: [
        probe(
            user,
            Permission.UNLOCK_SESSION,
            {"type": "session.unlock", "password": f"pw-{user.name}"},
            check=lambda data: _assert_eq(data["type"], "unlocked"),
        )
    ],
}


def _assessment_case(world: World, user: User) -> list[Probe]:
    def rows_are(keys: list[str]) -> Callable[[dict[str, Any]], None]:
        return lambda data: _assert_eq([row["key"] for row in data["rows"]], keys)

    # A district (no towns imported) is its own one row; outside the area: hidden.
    probes = [
        probe(
            user,
            Permission.SEE_ASSESSMENT,
            {"type": "report.assessment", "period": "2026-12", "under": place},
            scope_refusal=None if user.sees(place) else HIDDEN.format("jurisdiction"),
            check=rows_are([place]),
        )
        for place in (SH, HZ)
    ]
    # By agency over the user's own area (no ``under``): every active agency.
    probes.append(
        probe(
            user,
            Permission.SEE_ASSESSMENT,
            {"type": "report.assessment", "period": "2026Q4", "by": "agency"},
            check=lambda data: _assert_eq(
                {"fire", "police"} <= {row["key"] for row in data["rows"]}, True
            ),
        )
    )
    return probes


def _subscribe_case(world: World, user: User) -> list[Probe]:
    # What the subscription's snapshot carries is checked in test_subscribe_snapshot.
    return [
        probe(
            user,
            Permission.SUBSCRIBE,
            {"type": "subscribe", "topics": ["positions", "readings"]},
            check=lambda data: _assert_eq(sorted(data["topics"]), ["positions", "readings"]),
        )
    ]


def _series_case(world: World, user: User) -> list[Probe]:
    span = {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}
    probes = [
        probe(
            user,
            Permission.READ_SENSOR_HISTORY,
            {"type": "sensor.series", "sensor": s.sensor_id, **span},
            scope_refusal=None if s.visible(user) else HIDDEN.format("sensor"),
            check=lambda data: _assert_eq(len(data["points"]), 2),
        )
        for s in SENSORS.values()
    ]
    # An unregistered sensor is unplaced: whole-area users only, refused like the others.
    probes.append(
        probe(
            user,
            Permission.READ_SENSOR_HISTORY,
            {"type": "sensor.series", "sensor": "ghost", **span},
            scope_refusal=None if user.area == "" else HIDDEN.format("sensor"),
            check=lambda data: _assert_eq(data["points"], []),
        )
    )
    return probes


def _track_case(world: World, user: User) -> list[Probe]:
    span = {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z", "form": "columns"}
    return [
        probe(
            user,
            Permission.REPLAY_TRACKS,
            {"type": "vehicle.track", "device": v.identity, **span},
            # Fix by fix: only those inside the user's area (none: an empty track).
            check=functools.partial(_track_of, v, user),
        )
        for v in VEHICLES.values()
    ]


def _send_text_case(world: World, user: User) -> list[Probe]:
    return [
        probe(
            user,
            Permission.SEND_TEXT,
            {"type": "device.send_text", "device": v.identity, "text": "请靠边停车"},
            scope_refusal=None if user.sees(v.place) else HIDDEN.format("vehicle"),
            code="device_offline",
            message="no JT/T 808 gateway runs in this server",
        )
        for v in VEHICLES.values()
    ]


def _vehicle_command_case(world: World, user: User) -> list[Probe]:
    """A query is the command centre's (no gateway runs here: device_offline); a door
    control needs the supervisors' permission too and answers with a token."""
    probes = []
    for v in VEHICLES.values():
        probes.append(
            probe(
                user,
                Permission.QUERY_VEHICLES,
                {
                    "type": "vehicle.command",
                    "device": v.identity,
                    "order": {"type": "query_position"},
                },
                scope_refusal=None if user.sees(v.place) else HIDDEN.format("vehicle"),
                code="device_offline",
                message="no JT/T 808 gateway runs in this server",
            )
        )
        control = (
            None
            if user.holds(Permission.CONTROL_VEHICLES)
            else (_role_refusal(user, Permission.CONTROL_VEHICLES))
        )
        probes.append(
            probe(
                user,
                Permission.QUERY_VEHICLES,
                {
                    "type": "vehicle.command",
                    "device": v.identity,
                    "order": {"type": "control", "door": "lock"},
                },
                scope_refusal=HIDDEN.format("vehicle") if not user.sees(v.place) else control,
                check=lambda data: _assert_eq(
                    (data["command"]["outcome"], len(data["command"]["token"]) >= 16),
                    ("confirm_needed", True),
                ),
            )
        )
    return probes


def _vehicle_confirm_case(world: World, user: User) -> list[Probe]:
    return [
        probe(
            user,
            Permission.CONTROL_VEHICLES,
            {"type": "vehicle.confirm", "token": "not-a-token-of-anyone"},
            code="not_found",
            message="no such confirmation: it was used, it expired or it is not yours; "
            "send the order again",
        )
    ]


WHOLE_AREA_ONLY = "geofences are kept by whole-area users only"


def _geofence_case(permission: Permission, payload: dict[str, Any], code: str | None) -> Cases:
    def cells(world: World, user: User) -> list[Probe]:
        return [
            probe(
                user,
                permission,
                payload,
                scope_refusal=None if user.area == "" else WHOLE_AREA_ONLY,
                code=code,
                check=_has_exactly(user, {GEOFENCE: True}) if code is None else None,
            )
        ]

    return cells


_BY_TAG.update(
    {
        "subscribe": _subscribe_case,
        "report.assessment": _assessment_case,
        # The catalogue is the same for everyone (no scope): every console role reads it.
        "catalogue.get": lambda world, user: [
            probe(
                user,
                Permission.SEE_CATALOGUE,
                {"type": "catalogue.get"},
                check=lambda data: _assert_eq(
                    (len(data["digest"]), bool(data["areas"]), data["unchanged"]),
                    (64, True, False),
                ),
            )
        ],
        "sensor.series": _series_case,
        "vehicle.track": _track_case,
        "device.send_text": _send_text_case,
        "vehicle.command": _vehicle_command_case,
        "vehicle.confirm": _vehicle_confirm_case,
        "geofences.list": _geofence_case(
            Permission.SEE_GEOFENCES, {"type": "geofences.list"}, None
        ),
        "geofence.save": _geofence_case(
            Permission.EDIT_GEOFENCES,
            {
                "type": "geofence.save",
                "name": "x",
                "kind": "geofence",
                "shape": {"type": "circle", "lat": 31.2, "lon": 121.4, "radius_m": 0},
            },
            "validation",
        ),
        "geofence.delete": _geofence_case(
            Permission.DELETE_GEOFENCES,
            {"type": "geofence.delete", "id": 999_999, "expected_version": 1},
            "not_found",
        ),
    }
)
# ---------------------------------------------------------------------------- incidents

STALE = "stale_version"


def _incident_probes(
    world: World,
    user: User,
    permission: Permission,
    build: Callable[[int], dict[str, Any]],
    *,
    code: str | None = None,
    message: str | None = None,
    check: Callable[[str], Callable[[dict[str, Any]], None]] | None = None,
) -> list[Probe]:
    """One probe per incident of the world and one for a missing incident (refused alike)."""
    probes = [
        probe(
            user,
            permission,
            build(world.incident_ids[key]),
            scope_refusal=None if incident.visible(user) else HIDDEN.format("incident"),
            code=code,
            message=message,
            check=check(key) if check else None,
        )
        for key, incident in INCIDENTS.items()
    ]
    probes.append(probe(user, permission, build(999_999), scope_refusal=HIDDEN.format("incident")))
    return probes


def _task_probes(
    world: World,
    user: User,
    permission: Permission,
    build: Callable[[str], dict[str, Any]],
    *,
    what: str = "task",
    code: str | None = None,
    message: Callable[[str], str] | None = None,
) -> list[Probe]:
    """One probe per task of the world (``build`` gets its key; "" for a missing one)."""
    probes = [
        probe(
            user,
            permission,
            build(key),
            scope_refusal=None if task.visible(user) else HIDDEN.format(what),
            code=code,
            message=message(key) if message else None,
        )
        for key, task in TASKS.items()
    ]
    probes.append(probe(user, permission, build(""), scope_refusal=HIDDEN.format(what)))
    return probes


def _tasks_of(user: User, incident: str) -> Callable[[dict[str, Any]], None]:
    return _has_exactly(
        user,
        {t.instructions: t.visible(user) for t in TASKS.values() if t.incident == incident},
    )


def _incident_in(place: str, data: dict[str, Any]) -> None:
    assert data["incident"]["jurisdiction"] == place


def _open_incident_case(world: World, user: User) -> list[Probe]:
    return [
        probe(
            user,
            Permission.OPEN_INCIDENTS,
            {
                "type": "incident.open",
                "type_code": "hazchem_leak",
                "title": f"opened by {user.name}",
                "jurisdiction": place,
            },
            scope_refusal=None
            if user.sees(place)
            else f"jurisdiction {place!r} is outside your area",
            check=functools.partial(_incident_in, place),
        )
        for place in (SH, HZ)
    ]


def _command_incident(tag: str, **fields: Any) -> Cases:
    # At a version the incident never had: an allowed user is refused as stale.
    def cells(world: World, user: User) -> list[Probe]:
        return _incident_probes(
            world,
            user,
            Permission.COMMAND_INCIDENTS,
            lambda incident_id: {
                "type": tag,
                "incident_id": incident_id,
                "expected_version": 999,
                **fields,
            },
            code=STALE,
        )

    return cells


def _task_id(world: World, key: str) -> int:
    return world.task_ids[key] if key else 999_999


_BY_TAG.update(
    {
        "incident.open": _open_incident_case,
        "incident.attach_alarm": lambda world, user: _command_incident(
            "incident.attach_alarm", alarm_id=world.alarm_ids["shp"]
        )(world, user),
        "incident.transition": _command_incident("incident.transition", action="control"),
        "incident.change": _command_incident("incident.change", level="I"),
        "incident.get": lambda world, user: _incident_probes(
            world,
            user,
            Permission.SEE_INCIDENTS,
            lambda incident_id: {"type": "incident.get", "incident_id": incident_id},
            check=lambda key: _tasks_of(user, key),
        ),
        "incident.timeline": lambda world, user: _incident_probes(
            world,
            user,
            Permission.SEE_INCIDENTS,
            lambda incident_id: {"type": "incident.timeline", "incident_id": incident_id},
            check=lambda key: _tasks_of(user, key),
        ),
        "incidents.list": _list_case(
            Permission.SEE_INCIDENTS,
            "incidents.list",
            lambda user: {i.title.split()[0]: i.visible(user) for i in INCIDENTS.values()},
        ),
        "task.send": lambda world, user: _incident_probes(
            world,
            user,
            Permission.SEND_TASKS,
            lambda incident_id: {
                "type": "task.send",
                "incident_id": incident_id,
                "assignee_kind": "agency",
                "assignee_ref": "Bad Ref",
            },
            code="validation",
            message="agency 'Bad Ref' must be an agency code like 'fire'",
        ),
        "task.act": lambda world, user: _task_probes(
            world,
            user,
            Permission.WORK_TASKS,
            lambda key: {
                "type": "task.act",
                "task_id": _task_id(world, key),
                "action": "accept",
                "expected_version": 999,
            },
            code=STALE,
        ),
        "task.set_deadlines": lambda world, user: _task_probes(
            world,
            user,
            Permission.SEND_TASKS,
            lambda key: {
                "type": "task.set_deadlines",
                "task_id": _task_id(world, key),
                "expected_version": 999,
                "deadlines": {"accept": "2026-12-01T03:00:00Z"},
            },
            code=STALE,
        ),
        "task.supervise": lambda world, user: _task_probes(
            world,
            user,
            Permission.SUPERVISE_TASKS,
            lambda key: {"type": "task.supervise", "task_id": _task_id(world, key), "note": "督办"},
        ),
        # Each flag was answered when the world was built: an allowed user learns that.
        "task.answer_supervision": lambda world, user: _task_probes(
            world,
            user,
            Permission.WORK_TASKS,
            lambda key: {
                "type": "task.answer_supervision",
                "supervision_id": world.flag_ids[key] if key else 999_999,
                "answer": "已办",
            },
            what="supervision",
            code="validation",
            message=lambda key: f"supervision {world.flag_ids[key]} was answered by root",
        ),
        "tasks.list": _list_case(
            Permission.SEE_TASKS,
            "tasks.list",
            lambda user: {t.instructions: t.visible(user) for t in TASKS.values()},
        ),
    }
)

# ---------------------------------------------------------------------------- chat


def _chat_probes(
    world: World,
    user: User,
    permission: Permission,
    build: Callable[[str, int], dict[str, Any]],
    *,
    what: str = "incident",
    check: Callable[[dict[str, Any]], None] | None = None,
) -> list[Probe]:
    """One probe per incident of the world and one for a missing one (refused alike)."""
    ids = world.attachment_ids if what == "attachment" else world.incident_ids
    probes = [
        probe(
            user,
            permission,
            build(key, ids[key]),
            scope_refusal=None if incident.visible(user) else HIDDEN.format(what),
            check=check,
        )
        for key, incident in INCIDENTS.items()
    ]
    probes.append(probe(user, permission, build("x", 999_999), scope_refusal=HIDDEN.format(what)))
    return probes


def _posted_by(user: User) -> Callable[[dict[str, Any]], None]:
    def check(data: dict[str, Any]) -> None:
        assert data["message"]["author"] == user.name

    return check


def _visible_incident_ids(world: World, user: User) -> list[int]:
    return sorted(world.incident_ids[k] for k, i in INCIDENTS.items() if i.visible(user))


def _unread_case(world: World, user: User) -> list[Probe]:
    def check(data: dict[str, Any]) -> None:
        # Each incident holds the seeded message of another user (root), never read here.
        ids = sorted(entry["incident_id"] for entry in data["incidents"])
        assert ids == _visible_incident_ids(world, user)

    return [probe(user, Permission.READ_MESSAGES, {"type": "incidents.unread"}, check=check)]


def _upload_payload(user: User, key: str, incident_id: int) -> dict[str, Any]:
    return {
        "type": "attachment.upload",
        "upload_id": f"{user.name}-{key}-{next(_UPLOADS)}",
        "incident_id": incident_id,
        "filename": "现场.jpg",
        "content_type": "image/jpeg",
        "offset": 0,
        "data": base64.b64encode(JPEG).decode(),
        "final": True,
    }


_UPLOADS = itertools.count()


def _chat_cases() -> dict[str, Cases]:
    return {
        "incident.post": lambda world, user: _chat_probes(
            world,
            user,
            Permission.POST_MESSAGES,
            lambda key, ident: {"type": "incident.post", "incident_id": ident, "text": "收到"},
            check=_posted_by(user),
        ),
        "incident.read": lambda world, user: _chat_probes(
            world,
            user,
            Permission.READ_MESSAGES,
            lambda key, ident: {"type": "incident.read", "incident_id": ident, "up_to_seq": 1},
            check=lambda data: _assert_eq(data["up_to_seq"] >= 1, True),
        ),
        "incidents.unread": _unread_case,
        "attachment.upload": lambda world, user: _chat_probes(
            world,
            user,
            Permission.UPLOAD_ATTACHMENTS,
            functools.partial(_upload_payload, user),
            check=lambda data: _assert_eq(data["attachment"]["size"], len(JPEG)),
        ),
        "attachment.get": lambda world, user: _chat_probes(
            world,
            user,
            Permission.READ_ATTACHMENTS,
            lambda key, ident: {"type": "attachment.get", "attachment_id": ident},
            what="attachment",
            check=lambda data: _assert_eq(base64.b64decode(data["data"]), JPEG),
        ),
    }


_BY_TAG.update(_chat_cases())


def _report_case(world: World, user: User) -> list[Probe]:
    lat, lon = WHERE[SH]
    outside = (
        f"the position ({lat:.5f}, {lon:.5f}) lies in {SH}, outside your area {user.area}:"
        " report it to that area's officers"
    )
    report = {"type": "incident.report", "type_code": "septic_tank_work", "place": "x"}
    return [
        probe(user, Permission.REPORT_EVENTS, report),
        probe(
            user,
            Permission.REPORT_EVENTS,
            {**report, "lat": lat, "lon": lon},
            scope_refusal=None if user.sees(SH) else outside,
        ),
    ]


def _own_reports_case(world: World, user: User) -> list[Probe]:
    return [probe(user, Permission.SEE_OWN_REPORTS, {"type": "reports.mine"})]


def _missing_handover(permission: Permission, tag: str) -> Cases:
    def cells(world: World, user: User) -> list[Probe]:
        return [
            probe(
                user,
                permission,
                {"type": tag, "handover_id": 999_999},
                scope_refusal=HIDDEN.format("handover"),
            )
        ]

    return cells


def _draft_case(world: World, user: User) -> list[Probe]:
    return [probe(user, Permission.HAND_OVER, {"type": "handover.draft", "notes": "平稳"})]


def _handovers_case(world: World, user: User) -> list[Probe]:
    return [
        probe(user, Permission.SEE_HANDOVERS, {"type": "handovers.list"}),
        probe(
            user,
            Permission.SEE_HANDOVERS,
            {"type": "handovers.list", "jurisdiction": SH},
            scope_refusal=None if user.sees(SH) else HIDDEN.format("desk"),
        ),
    ]


def _roster_case(world: World, user: User) -> list[Probe]:
    return [probe(user, Permission.SEE_ROSTER, {"type": "roster.today"})]


_BY_TAG.update(
    {
        "incident.report": _report_case,
        "reports.mine": _own_reports_case,
        "handover.draft": _draft_case,
        "handover.sign": _missing_handover(Permission.HAND_OVER, "handover.sign"),
        "handover.accept": _missing_handover(Permission.ACCEPT_HANDOVER, "handover.accept"),
        "handovers.list": _handovers_case,
        "handover.get": _missing_handover(Permission.SEE_HANDOVERS, "handover.get"),
        "roster.today": _roster_case,
    }
)


def _recent_events_case(world: World, user: User) -> list[Probe]:
    """The log at login: the alarms the user sees (an agency desk's only from their
    share on, so not required), never another's (the frame search checks every mark)."""
    expected = {
        alarm.title.split()[0]: alarm.visible(user)
        for alarm in ALARMS.values()
        if user.role is not Role.AGENCY or not alarm.visible(user)
    }
    return [
        probe(
            user,
            Permission.SEE_RECENT_EVENTS,
            {"type": "events.recent", "limit": 500},
            check=_has_exactly(user, expected),
        )
    ]


_BY_TAG["events.recent"] = _recent_events_case

# ---------------------------------------------------------------------------- registry


def _item_probes(
    user: User,
    permission: Permission,
    build: Callable[[Item], dict[str, Any]],
    *,
    edit: bool = False,
    code: str | None = None,
    check: Callable[[Item], Callable[[dict[str, Any]], None]] | None = None,
) -> list[Probe]:
    """One probe per registry item of the world and one for a missing item (refused alike)."""
    probes = [
        probe(
            user,
            permission,
            build(item),
            scope_refusal=item.edit_refusal(user)
            if edit
            else (None if item.visible(user) else HIDDEN.format("registry item")),
            code=code,
            check=check(item) if check else None,
        )
        for item in ITEMS.values()
    ]
    missing = Item("team", "TOK-REG-NONE", "", "", {"type": "team", "team_type": "x"})
    probes.append(
        probe(user, permission, build(missing), scope_refusal=HIDDEN.format("registry item"))
    )
    return probes


def _names_item(item: Item) -> Callable[[dict[str, Any]], None]:
    return lambda data: _assert_eq(item.code in _marks_in(data), True)


_BY_TAG.update(
    {
        "registry.list": _list_case(
            Permission.SEE_REGISTRY,
            "registry.list",
            lambda user: {i.code: i.visible(user) for i in ITEMS.values()} | {REG_PHONE: False},
        ),
        "registry.get": lambda world, user: _item_probes(
            user,
            Permission.SEE_REGISTRY,
            lambda item: {"type": "registry.get", "kind": item.kind, "code": item.code},
            check=_names_item,
        ),
        "registry.history": lambda world, user: _item_probes(
            user,
            Permission.SEE_REGISTRY,
            lambda item: {"type": "registry.history", "kind": item.kind, "code": item.code},
            check=lambda item: lambda data: _assert_eq(data["changes"][0]["action"], "created"),
        ),
        "registry.reveal": lambda world, user: _item_probes(
            user,
            Permission.REVEAL_REGISTRY_CONTACT,
            lambda item: {
                "type": "registry.reveal",
                "kind": item.kind,
                "code": item.code,
                "note": "核实",
            },
            check=lambda item: (
                lambda data: _assert_eq(
                    [c["phone"] for c in data["contacts"]],
                    [REG_PHONE] if item.code == "TOK-REG-ALL" else [],
                )
            ),
        ),
        # At a version the item never had: an allowed user is refused as stale.
        "registry.save": lambda world, user: _item_probes(
            user,
            Permission.EDIT_REGISTRY,
            lambda item: {
                "type": "registry.save",
                "item": item.payload(),
                "expected_version": 999,
            },
            edit=True,
            code=STALE,
        ),
        "registry.retire": lambda world, user: _item_probes(
            user,
            Permission.EDIT_REGISTRY,
            lambda item: {
                "type": "registry.retire",
                "kind": item.kind,
                "code": item.code,
                "expected_version": 999,
            },
            edit=True,
            code=STALE,
        ),
    }
)


def _expected_checklists(key: str) -> Callable[[dict[str, Any]], None]:
    # The matrix world's one plan (TOK-REG-ZJ: every hazchem_leak in Zhejiang, "33") applies
    # to the incidents placed under it, whoever asks; no other incident has a checklist.
    plan = ITEMS["zj"]
    applies = INCIDENTS[key].place.startswith(plan.place)
    expected = [plan.code] if applies else []
    return lambda data: _assert_eq([sheet["plan_code"] for sheet in data["checklists"]], expected)


_BY_TAG.update(
    {
        "incident.checklist": lambda world, user: _incident_probes(
            world,
            user,
            Permission.SEE_CHECKLIST,
            lambda incident_id: {"type": "incident.checklist", "incident_id": incident_id},
            check=_expected_checklists,
        ),
        # No plan applies: a user who may tick there is refused as validation.
        "incident.tick": lambda world, user: _incident_probes(
            world,
            user,
            Permission.TICK_CHECKLIST,
            lambda incident_id: {
                "type": "incident.tick",
                "incident_id": incident_id,
                "plan_code": "NO-PLAN",
                "step_id": "s1",
            },
            code="validation",
        ),
    }
)


def _recommend_case(world: World, user: User) -> list[Probe]:
    # The ranking holds exactly the units the user may see (registry items: none here).
    lat, lon = WHERE[SH]
    units = _has_exactly(user, {u.code: u.visible(user) for u in UNITS.values()})
    probes = _chat_probes(
        world,
        user,
        Permission.RECOMMEND,
        lambda key, ident: {"type": "recommend", "incident_id": ident, "lat": lat, "lon": lon},
        check=units,
    )
    point = {"type": "recommend", "lat": lat, "lon": lon, "type_code": "hazchem_leak"}
    probes.append(probe(user, Permission.RECOMMEND, point, check=units))
    return probes


_BY_TAG["recommend"] = _recommend_case


def _decision_case(world: World, user: User) -> list[Probe]:
    """Decision support at each place: the cameras listed are those the user may see; an
    incident outside the scope is refused like a missing one (those inside have no place
    on the map, which is a validation error)."""
    probes = [
        probe(
            user,
            Permission.DECISION_SUPPORT,
            {
                "type": "decision.support",
                "lat": WHERE[camera.place][0],
                "lon": WHERE[camera.place][1],
                "chemicals": ["1017"],
                "radius_m": 1000,
            },
            check=_has_exactly(user, {camera.name: camera.visible(user)}),
        )
        for camera in CAMERAS.values()
    ]
    probes.extend(
        probe(
            user,
            Permission.DECISION_SUPPORT,
            {"type": "decision.support", "incident_id": world.incident_ids[key]},
            scope_refusal=None if incident.visible(user) else HIDDEN.format("incident"),
            code="validation",
        )
        for key, incident in INCIDENTS.items()
    )
    return probes


_BY_TAG["decision.support"] = _decision_case
# Roads are map data, the same for everyone (no scope): every console role reads them.
_BY_TAG["roads.get"] = lambda world, user: [
    probe(
        user,
        Permission.SEE_BASEMAP,
        {"type": "roads.get", "min_lat": 30, "min_lon": 120, "max_lat": 31, "max_lon": 121},
        check=lambda data: _assert_eq((data["classes"], data["truncated"]), ([], False)),
    )
]

# ---------------------------------------------------------------------------- exercises

EXERCISE_PARTICIPANT = "officer-hz"
"""The one user of the matrix taking part in the world's exercise (its trainer is not a
user of the matrix)."""


def _sees_exercise(user: User) -> bool:
    """The trainer, the participants and supervisors (admins) of the run's area (SH)."""
    return user.name == EXERCISE_PARTICIPANT or (
        user.role in (Role.SUPERVISOR, Role.ADMIN) and user.sees(SH)
    )


def _build_exercise(world: World) -> None:
    server = world.thread.server
    assert server.exercises is not None
    header = Header(
        title="矩阵演练",
        source=RecordingSource.WINDOW,
        window_from=T0,
        window_to=T0 + dt.timedelta(hours=1),
        recorded_at=T0,
        recorded_by="matrix",
        area=SH,
    )
    server.exercises.library.save(
        Recording(header=header, registry=RegistrySnapshot(), entries=[]), "matrix"
    )
    trainer = world.thread.add_user("ex-trainer-sh", "pw-ex-trainer", Role.TRAINER, jurisdiction=SH)
    run = world.call(
        server.exercises.start(
            trainer,
            StartExercise(req="", recording="matrix", participants=[EXERCISE_PARTICIPANT]),
        )
    )
    world.exercise_run = run.run_id
    world.exercise_trainer = trainer


def _exercise_probes(
    world: World,
    user: User,
    permission: Permission,
    build: Callable[[str], dict[str, Any]],
    *,
    code: str | None = None,
    include_world_run: bool = True,
) -> list[Probe]:
    """The world's run (refused like a missing one out of scope) and a missing run."""
    runs = [world.exercise_run] if include_world_run else []
    probes = [
        probe(
            user,
            permission,
            build(run_id),
            scope_refusal=None if _sees_exercise(user) else HIDDEN.format(f"exercise {run_id}"),
            code=code,
        )
        for run_id in runs
    ]
    probes.append(
        probe(
            user,
            permission,
            build("no-such-run"),
            scope_refusal=HIDDEN.format("exercise no-such-run"),
        )
    )
    return probes


def _exercise_listed(world: World, user: User) -> Callable[[dict[str, Any]], None]:
    def check(data: dict[str, Any]) -> None:
        listed = {run["run_id"] for run in data["runs"]}
        assert (world.exercise_run in listed) == _sees_exercise(user), user.name

    return check


def _recordings_listed(user: User) -> Callable[[Any], None]:
    """The shipped scenarios to everyone; Shanghai's recording to those whose area holds it."""

    def check(data: Any) -> None:
        listed = {r["name"]: r["source"] for r in data["recordings"]}
        _assert_eq("matrix" in listed, user.sees(SH))
        assert listed, "the shipped scenarios are everyone's"
        assert all(source == "scenario" for name, source in listed.items() if name != "matrix")

    return check


_BY_TAG.update(
    {
        "exercise.recordings": lambda world, user: [
            probe(
                user,
                Permission.SEE_EXERCISES,
                {"type": "exercise.recordings"},
                check=_recordings_listed(user),
            )
        ],
        "exercise.list": lambda world, user: [
            probe(
                user,
                Permission.SEE_EXERCISES,
                {"type": "exercise.list"},
                check=_exercise_listed(world, user),
            )
        ],
        # A recording that is not in the library: the role passes, the library refuses.
        "exercise.start": lambda world, user: [
            probe(
                user,
                Permission.RUN_EXERCISES,
                {"type": "exercise.start", "recording": "no-such-recording"},
                code="not_found",
            )
        ],
        "exercise.control": lambda world, user: _exercise_probes(
            world,
            user,
            Permission.RUN_EXERCISES,
            lambda run_id: {
                "type": "exercise.control",
                "run_id": run_id,
                "action": "speed",
                "speed": 2.0,
            },
        ),
        # A camera the exercise does not have: in scope, the injection is refused as such.
        "exercise.inject": lambda world, user: _exercise_probes(
            world,
            user,
            Permission.RUN_EXERCISES,
            lambda run_id: {
                "type": "exercise.inject",
                "run_id": run_id,
                "kind": "camera_drops",
                "target": "NO-CAMERA",
            },
            code="validation",
        ),
        # The world's run must go on for the other cells: stopped only where refused.
        "exercise.stop": lambda world, user: _exercise_probes(
            world,
            user,
            Permission.RUN_EXERCISES,
            lambda run_id: {"type": "exercise.stop", "run_id": run_id},
            include_world_run=not (_sees_exercise(user) and user.holds(Permission.RUN_EXERCISES)),
        ),
    }
)


def _score_case(world: World, user: User) -> list[Probe]:
    """The world's run's score (refused like a missing run out of scope), and a missing run."""

    def check(data: dict[str, Any]) -> None:
        score = data["score"]
        assert (score["run_id"], score["recording"], score["ended"]) == (
            world.exercise_run,
            "matrix",
            False,
        )
        assert score["figures"]["alarms"] == 0
        assert score["original"] is None  # the recording holds no response

    def build(run_id: str) -> dict[str, Any]:
        return {"type": "exercise.score", "run_id": run_id}

    return [
        probe(
            user,
            Permission.SEE_EXERCISES,
            build(world.exercise_run),
            scope_refusal=None
            if _sees_exercise(user)
            else HIDDEN.format(f"exercise {world.exercise_run}"),
            check=check,
        ),
        probe(
            user,
            Permission.SEE_EXERCISES,
            build("no-such-run"),
            scope_refusal=HIDDEN.format("exercise no-such-run"),
        ),
    ]


_BY_TAG["exercise.score"] = _score_case


async def _exercise_events(world: World, user: User) -> None:
    manager = world.thread.server.exercises
    assert manager is not None
    assert world.exercise_trainer is not None
    async with console(world, user) as session:
        world.call(
            manager.control(
                world.exercise_trainer,
                ControlExercise(
                    req="", run_id=world.exercise_run, action=ControlAction.SPEED, speed=3.0
                ),
            )
        )
        expected = 1 if _sees_exercise(user) else 0
        await session.drain(lambda: len(_exercise_events_of(session)) >= expected)
    assert len(_exercise_events_of(session)) == expected
    for event in _exercise_events_of(session):
        assert event["exercise_run"]["run_id"] == world.exercise_run
    session.assert_nothing_foreign(user)


def _exercise_events_of(session: Console) -> list[dict[str, Any]]:
    return [e for e in session.messages("event") if e["kind"].startswith("exercise.")]


def _record_case(world: World, user: User) -> list[Probe]:
    """A window of the live input for the user's own area: too long or in the future is
    refused clearly; masked unless the role may reveal personal data."""
    now = dt.datetime.now(dt.UTC)

    def window(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
        return {"type": "exercise.record", "from_at": start.isoformat(), "to_at": end.isoformat()}

    def recorded(data: dict[str, Any]) -> None:
        info = data["recording"]
        assert info["source"] == "window"
        assert info["masked"] is not user.holds(Permission.REVEAL_CONTACT)

    return [
        probe(
            user,
            Permission.RECORD_LIVE,
            window(now - dt.timedelta(hours=30), now - dt.timedelta(hours=1)),
            code="validation",
        ),
        probe(
            user,
            Permission.RECORD_LIVE,
            window(now + dt.timedelta(hours=1), now + dt.timedelta(hours=2)),
            code="validation",
        ),
        probe(
            user,
            Permission.RECORD_LIVE,
            window(now - dt.timedelta(minutes=10), now - dt.timedelta(minutes=5)),
            check=recorded,
        ),
    ]


_BY_TAG["exercise.record"] = _record_case


# ---------------------------------------------------------------------------- publishing

NOTICE_STAFF = {Role.OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.VIEWER}
NOTICE_SUPERVISORS = {Role.SUPERVISOR, Role.ADMIN}


@dataclass(frozen=True)
class Notice:
    key: str
    place: str
    title: str
    published: bool

    def visible(self, user: User) -> bool:
        """Its workflow: staff of its area (it is past the draft)."""
        return user.role in NOTICE_STAFF and user.sees(self.place)

    def received(self, user: User) -> bool:
        """Its inbox item: the desks of the agencies it went to whose area overlaps it."""
        overlaps = self.place.startswith(user.area) or user.area.startswith(self.place)
        return self.published and user.role is Role.AGENCY and overlaps


NOTICES = {
    "hz": Notice("hz", HZ, "TOK-NOTICE-HZ", published=False),
    "sh": Notice("sh", SH, "TOK-NOTICE-SH", published=True),
}
EVENT_NOTICES = {
    "hz": Notice("hz", HZ, "TOK-NOTICE-EV-HZ", published=True),
    "sh": Notice("sh", SH, "TOK-NOTICE-EV-SH", published=True),
}
"""Published by the NOTICE_EVENTS trigger (other marks: they reach other desks)."""


def _notice_input(place: str, title: str) -> NoticeInput:
    return NoticeInput(
        kind=NoticeKind.NOTICE,
        level=WarningLevel.BLUE,
        title=title,
        body="道路结冰，注意安全。",
        area=NoticeArea(jurisdictions=[place]),
        audience=[Audience.AGENCIES],
        channels=[Channel.CONSOLE],
    )


def _publish_notice(world: World, place: str, title: str, *, approve: bool) -> int:
    n = next(world.seq)
    drafter = world.thread.add_user(
        f"notice-drafter-{n}", "pw-notice-drafter", Role.OFFICER, jurisdiction=place
    )
    service = world.thread.server.publishing
    draft = world.call(service.save(drafter, _notice_input(place, title)))
    pending = world.call(service.submit(drafter, draft.id, draft.version))
    if approve:
        world.call(service.approve(world.admin, pending.id, pending.version))
    return int(draft.id)


def _build_notices(world: World) -> None:
    for key, notice in NOTICES.items():
        world.notice_ids[key] = _publish_notice(
            world, notice.place, notice.title, approve=notice.published
        )


def _notice_probes(
    world: World,
    user: User,
    permission: Permission,
    build: Callable[[int], dict[str, Any]],
    outcome: Callable[[Notice], tuple[str | None, str | None]],
) -> list[Probe]:
    """One probe per notice of the world and one for a missing notice; ``outcome`` gives
    (code, message) for a notice the user sees."""
    probes = []
    for key, notice in NOTICES.items():
        code, message = outcome(notice)
        probes.append(
            probe(
                user,
                permission,
                build(world.notice_ids[key]),
                scope_refusal=None if notice.visible(user) else HIDDEN.format("notice"),
                code=code,
                message=message,
            )
        )
    probes.append(probe(user, permission, build(999_999), scope_refusal=HIDDEN.format("notice")))
    return probes


def _notice_save_case(world: World, user: User) -> list[Probe]:
    own = HZ if user.sees(HZ) else SH
    draft = msgspec.to_builtins(_notice_input(own, f"draft by {user.name}"))

    def edit(notice: Notice) -> tuple[str | None, str | None]:
        if user.role not in NOTICE_SUPERVISORS:
            return "forbidden", "only its drafter or a supervisor may change this notice"
        state = "published" if notice.published else "pending"
        return "validation", f"a {state} notice cannot be changed"

    probes = [probe(user, Permission.DRAFT_NOTICES, {"type": "notice.save", "notice": draft})]
    if own != HZ:
        outside = msgspec.to_builtins(_notice_input(HZ, "outside"))
        probes.append(
            probe(
                user,
                Permission.DRAFT_NOTICES,
                {"type": "notice.save", "notice": outside},
                code="validation",
                message=f"jurisdiction {HZ!r} is outside your area",
            )
        )
    return [
        *probes,
        *_notice_probes(
            world,
            user,
            Permission.DRAFT_NOTICES,
            lambda i: {"type": "notice.save", "notice": draft, "notice_id": i, "version": 1},
            edit,
        ),
    ]


def _notice_submit_case(world: World, user: User) -> list[Probe]:
    def outcome(notice: Notice) -> tuple[str | None, str | None]:
        if user.role not in NOTICE_SUPERVISORS:
            return "forbidden", "only its drafter or a supervisor may submit this notice"
        state = "published" if notice.published else "pending"
        return "validation", f"a {state} notice cannot be submitted"

    return _notice_probes(
        world,
        user,
        Permission.DRAFT_NOTICES,
        lambda i: {"type": "notice.submit", "notice_id": i, "version": 1},
        outcome,
    )


def _notice_decide_case(tag: str, **extra: Any) -> Cases:
    def cells(world: World, user: User) -> list[Probe]:
        def outcome(notice: Notice) -> tuple[str | None, str | None]:
            if notice.published:
                return "validation", "a published notice is not waiting for a decision"
            return STALE, None  # a version never current: nothing changes

        return _notice_probes(
            world,
            user,
            Permission.APPROVE_NOTICES,
            lambda i: {"type": tag, "notice_id": i, "version": 999, **extra},
            outcome,
        )

    return cells


def _notice_cancel_case(world: World, user: User) -> list[Probe]:
    def outcome(notice: Notice) -> tuple[str | None, str | None]:
        if notice.published:
            return STALE, None
        return "validation", "a pending notice cannot be withdrawn"

    return _notice_probes(
        world,
        user,
        Permission.APPROVE_NOTICES,
        lambda i: {"type": "notice.cancel", "notice_id": i, "version": 999, "reason": "撤回"},
        outcome,
    )


def _notice_list_case(world: World, user: User) -> list[Probe]:
    expected = {n.title: n.visible(user) for n in NOTICES.values()}
    return [
        probe(
            user,
            Permission.SEE_NOTICES,
            {"type": "notice.list"},
            check=_has_exactly(user, expected),
        )
    ]


def _notice_get_case(world: World, user: User) -> list[Probe]:
    return _notice_probes(
        world,
        user,
        Permission.SEE_NOTICES,
        lambda i: {"type": "notice.get", "notice_id": i},
        lambda notice: (None, None),
    )


def _notice_inbox_case(world: World, user: User) -> list[Probe]:
    expected = {n.title: n.received(user) for n in NOTICES.values()}
    return [
        probe(
            user,
            Permission.READ_INBOX,
            {"type": "notice.inbox"},
            check=_has_exactly(user, expected),
        )
    ]


def _notice_read_case(world: World, user: User) -> list[Probe]:
    return [
        probe(
            user,
            Permission.READ_INBOX,
            {"type": "notice.read", "notice_id": world.notice_ids[key]},
            scope_refusal=None if notice.received(user) else HIDDEN.format("notice"),
        )
        for key, notice in NOTICES.items()
    ]


_BY_TAG.update(
    {
        "notice.save": _notice_save_case,
        "notice.submit": _notice_submit_case,
        "notice.approve": _notice_decide_case("notice.approve"),
        "notice.reject": _notice_decide_case("notice.reject", reason="范围过大"),
        "notice.cancel": _notice_cancel_case,
        "notice.list": _notice_list_case,
        "notice.get": _notice_get_case,
        "notice.inbox": _notice_inbox_case,
        "notice.read": _notice_read_case,
    }
)


async def _notice_events(world: World, user: User) -> None:
    ids: set[int] = set()
    async with console(world, user) as session:
        for notice in EVENT_NOTICES.values():
            ids.add(_publish_notice(world, notice.place, notice.title, approve=True))

        def mine() -> list[str]:
            return [
                e["kind"]
                for e in session.messages("event")
                if (e.get("notice") or e.get("inbox") or {}).get("id") in ids
            ]

        expected: list[str] = []
        for notice in EVENT_NOTICES.values():
            if notice.visible(user):
                sees_draft = user.role in NOTICE_SUPERVISORS
                expected += ["notice.saved"] * sees_draft + ["notice.submitted", "notice.published"]
            elif notice.received(user):
                expected.append("notice.published")
        await session.drain(lambda: len(mine()) >= len(expected))
    assert sorted(mine()) == sorted(expected)
    for event in session.messages("event"):
        if event["kind"].startswith("notice.") and not any(
            n.visible(user) for n in EVENT_NOTICES.values()
        ):
            assert "notice" not in event, "a recipient gets the inbox item only"
            assert event["fields"] == []
    session.assert_nothing_foreign(user)


# ---------------------------------------------------------------------------- hidden dangers

DANGER_MARKS = {"hz": "TOK-DGR-HZ", "sh": "TOK-DGR-SH"}
"""The description of each enterprise's hidden danger (``TOK-ENT-HZ``, ``TOK-ENT-SH``)."""
INSPECTION_MARKS = {"hz": "TOK-INS-HZ", "sh": "TOK-INS-SH"}


def _sees_danger(user: User, key: str) -> bool:
    """Scope.DANGER: an enterprise user its own; readers of the enterprise's area."""
    code = f"TOK-ENT-{key.upper()}"
    if user.role is Role.ENTERPRISE:
        return user.enterprise == code
    return user.role in READERS and user.sees(ENTERPRISES[code])


def _danger_marks(user: User) -> set[str]:
    marks = set()
    for key, mark in DANGER_MARKS.items():
        if not _sees_danger(user, key):
            marks |= {mark, INSPECTION_MARKS[key]}
        code = f"TOK-ENT-{key.upper()}"
        place = ENTERPRISES[code]
        registry_sees = user.role is not Role.ENTERPRISE and (
            place.startswith(user.area) or user.area.startswith(place)
        )
        if not (registry_sees or _sees_danger(user, key)):
            marks.add(code)
    return marks


def _build_enterprises(thread: ServerThread, admin: Principal) -> None:
    for code, place in ENTERPRISES.items():
        item = {
            "code": code,
            "name": code,
            "jurisdiction": place,
            "details": {"type": "enterprise", "industry": "危险化学品生产"},
        }
        thread.call(
            thread.server.registry_items.save(admin, msgspec.convert(item, RegistryItemInput), None)
        )


def _build_dangers(world: World) -> None:
    dangers = world.thread.server.dangers.service
    for key, mark in DANGER_MARKS.items():
        code = f"TOK-ENT-{key.upper()}"
        view = world.call(dangers.report(world.admin, _danger_input(code, mark)))
        world.danger_ids[key] = view.id
        inspection = InspectionInput(
            enterprise=code, inspected_at=T0, inspectors=["执法员"], summary=INSPECTION_MARKS[key]
        )
        world.call(dangers.record_inspection(world.admin, inspection))


def _danger_input(enterprise: str, description: str) -> HiddenDangerInput:
    return HiddenDangerInput(
        enterprise=enterprise,
        category=DangerCategory.FIRE,
        grade=DangerGrade.GENERAL,
        place="仓库",
        description=description,
    )


def _danger_payload(enterprise: str) -> dict[str, Any]:
    return {
        "type": "danger.report",
        "danger": msgspec.to_builtins(_danger_input(enterprise, "矩阵上报")),
    }


def _danger_probes(
    world: World,
    user: User,
    permission: Permission,
    build: Callable[[int], dict[str, Any]],
    *,
    code: str | None = None,
    check: Callable[[str], Callable[[dict[str, Any]], None]] | None = None,
) -> list[Probe]:
    """One probe per hidden danger of the world and one for a missing one."""
    probes = [
        probe(
            user,
            permission,
            build(world.danger_ids[key]),
            scope_refusal=None if _sees_danger(user, key) else HIDDEN.format("hidden danger"),
            code=code,
            check=check(key) if check else None,
        )
        for key in DANGER_MARKS
    ]
    probes.append(
        probe(user, permission, build(999_999), scope_refusal=HIDDEN.format("hidden danger"))
    )
    return probes


def _danger_report_case(world: World, user: User) -> list[Probe]:
    def of(code: str) -> Callable[[dict[str, Any]], None]:
        return lambda data: _assert_eq(data["danger"]["enterprise"], code)

    probes = [
        probe(
            user,
            Permission.REPORT_DANGERS,
            _danger_payload(f"TOK-ENT-{key.upper()}"),
            scope_refusal=None if _sees_danger(user, key) else HIDDEN.format("enterprise"),
            check=of(f"TOK-ENT-{key.upper()}"),
        )
        for key in DANGER_MARKS
    ]
    probes.append(
        probe(
            user,
            Permission.REPORT_DANGERS,
            _danger_payload("NO-SUCH-ENT"),
            scope_refusal=HIDDEN.format("enterprise"),
        )
    )
    return probes


def _danger_act_case(world: World, user: User) -> list[Probe]:
    # At a version the danger never had: an allowed user is refused as stale.
    return _danger_probes(
        world,
        user,
        Permission.WORK_DANGERS,
        lambda danger_id: {
            "type": "danger.act",
            "danger_id": danger_id,
            "version": 999,
            "action": "start",
        },
        code=STALE,
    )


def _dangers_seen(user: User) -> dict[str, bool]:
    return {DANGER_MARKS[key]: _sees_danger(user, key) for key in DANGER_MARKS}


def _export_case(world: World, user: User) -> list[Probe]:
    def check(data: dict[str, Any]) -> None:
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(data["content"])))
        text = json.dumps([list(row) for row in book["隐患清单"].values], ensure_ascii=False)
        for mark, seen in _dangers_seen(user).items():
            assert (mark in text) == seen, f"{user.name}: {mark}"

    return [probe(user, Permission.SEE_DANGERS, {"type": "danger.export"}, check=check)]


def _inspection_record_case(world: World, user: User) -> list[Probe]:
    return [
        probe(
            user,
            Permission.RECORD_INSPECTIONS,
            {
                "type": "inspection.record",
                "inspection": {
                    "enterprise": code,
                    "inspected_at": "2026-12-01T02:00:00Z",
                    "inspectors": ["执法员"],
                },
            },
            scope_refusal=None
            if code != "NO-SUCH-ENT" and _sees_danger(user, code[-2:].lower())
            else HIDDEN.format("enterprise"),
            check=functools.partial(
                lambda code, data: _assert_eq(data["inspection"]["enterprise"], code), code
            ),
        )
        for code in (*ENTERPRISES, "NO-SUCH-ENT")
    ]


_BY_TAG.update(
    {
        "danger.report": _danger_report_case,
        "danger.act": _danger_act_case,
        "danger.get": lambda world, user: _danger_probes(
            world,
            user,
            Permission.SEE_DANGERS,
            lambda danger_id: {"type": "danger.get", "danger_id": danger_id},
            check=lambda key: (
                lambda data: _assert_eq(data["danger"]["description"], DANGER_MARKS[key])
            ),
        ),
        "danger.list": _list_case(Permission.SEE_DANGERS, "danger.list", _dangers_seen),
        "danger.stats": lambda world, user: [
            probe(
                user,
                Permission.SEE_DANGERS,
                {"type": "danger.stats", "group": "enterprise"},
                check=_has_exactly(
                    user,
                    {f"TOK-ENT-{k.upper()}": _sees_danger(user, k) for k in DANGER_MARKS},
                ),
            )
        ],
        "danger.export": _export_case,
        "inspection.record": _inspection_record_case,
        "inspection.list": _list_case(
            Permission.SEE_DANGERS,
            "inspection.list",
            lambda user: {INSPECTION_MARKS[k]: _sees_danger(user, k) for k in INSPECTION_MARKS},
        ),
    }
)


async def _danger_events(world: World, user: User) -> None:
    dangers = world.thread.server.dangers.service
    async with console(world, user) as session:
        for code in ENTERPRISES:
            world.call(dangers.report(world.admin, _danger_input(code, "事件触发")))
        expected = {c for c in ENTERPRISES if _sees_danger(user, c[-2:].lower())}
        await session.drain(lambda: _danger_enterprises(session) >= expected)
    assert _danger_enterprises(session) == expected
    session.assert_nothing_foreign(user)


def _danger_enterprises(session: Console) -> set[str]:
    return {
        event["danger"]["enterprise"]
        for event in session.messages("event")
        if event["kind"] == "danger.reported"
    }


for _command in typing.get_args(Command):
    _tag = _command.__struct_config__.tag
    if _tag in _BY_TAG:
        CASES[_command] = _BY_TAG[_tag]

# ---------------------------------------------------------------------------- early warning

_WARNINGS: dict[int, dict[str, Any]] = {}
"""The world's warnings (one per sensor, raised once per module): sensor key → view."""


def _world_warnings(world: World) -> dict[str, Any]:
    if id(world) not in _WARNINGS:
        service = world.thread.server.early_warnings
        _WARNINGS[id(world)] = {
            key: world.call(service.apply(_warning_raise(s, f"TOK-WARN-{key.upper()}")))
            for key, s in SENSORS.items()
        }
    return _WARNINGS[id(world)]


def _warning_raise(sensor: Sensor, title: str, subject: str = "") -> Raise:
    return Raise(
        key=(WarningSource.TREND, subject or sensor.sensor_id),
        level=WarningLevel.YELLOW,
        at=T0,
        title=title,
        detail="",
        sensors=(sensor.sensor_id,),
    )


@case(ListWarnings)
def _list_warnings(world: World, user: User) -> list[Probe]:
    _world_warnings(world)
    marks = {f"TOK-WARN-{key.upper()}": s.visible(user) for key, s in SENSORS.items()}
    return [
        probe(
            user, Permission.SEE_WARNINGS, {"type": "warning.list"}, check=_has_exactly(user, marks)
        )
    ]


@case(ActOnWarning)
def _act_on_warning(world: World, user: User) -> list[Probe]:
    warnings = _world_warnings(world)

    def act(warning_id: int) -> dict[str, Any]:
        # A version never current: the cell checks the gate without changing the warning.
        return {
            "type": "warning.act",
            "warning_id": warning_id,
            "version": 999,
            "action": "acknowledge",
        }

    probes = [
        probe(
            user,
            Permission.WORK_WARNINGS,
            act(warnings[key].id),
            scope_refusal=None if s.visible(user) else HIDDEN.format("warning"),
            code="stale_version",
        )
        for key, s in SENSORS.items()
    ]
    probes.append(
        probe(user, Permission.WORK_WARNINGS, act(999_999), scope_refusal=HIDDEN.format("warning"))
    )
    return probes


@case(GetProjection)
def _projection_case(world: World, user: User) -> list[Probe]:
    probes = [
        probe(
            user,
            Permission.READ_SENSOR_HISTORY,
            {"type": "sensor.projection", "sensor": s.sensor_id},
            scope_refusal=None if s.visible(user) else HIDDEN.format("sensor"),
            check=lambda data: _assert_eq(data["projection"] is None, True),
        )
        for s in SENSORS.values()
    ]
    # An unregistered sensor is refused like one outside the area, for everyone.
    probes.append(
        probe(
            user,
            Permission.READ_SENSOR_HISTORY,
            {"type": "sensor.projection", "sensor": "ghost"},
            scope_refusal=HIDDEN.format("sensor"),
        )
    )
    return probes


@case(ImportWeather)
def _import_weather_case(world: World, user: User) -> list[Probe]:
    # Not CAP: refused for what it is (nothing raised), once the role may import.
    payload = {"type": "weather.import", "cap_xml": "<alert>TOK-NOT-CAP"}
    return [probe(user, Permission.IMPORT_WEATHER, payload, code="validation")]


async def _warning_events(world: World, user: User) -> None:
    service = world.thread.server.early_warnings
    async with console(world, user) as session:
        for key, sensor in SENSORS.items():
            n = next(world.seq)
            title = f"TOK-WARN-EVENT-{key.upper()}-{n}"
            world.call(service.apply(_warning_raise(sensor, title, f"{sensor.sensor_id}-{n}")))
        expected = sum(s.visible(user) for s in SENSORS.values())
        await session.drain(
            lambda: (
                len([e for e in session.messages("event") if e["kind"] == "warning.raised"])
                >= expected
            )
        )
    raised = [e for e in session.messages("event") if e["kind"] == "warning.raised"]
    assert sorted(e["early_warning"]["sensors"][0] for e in raised) == sorted(
        s.sensor_id for s in SENSORS.values() if s.visible(user)
    )
    session.assert_nothing_foreign(user)


def _command_name(command: type[Any]) -> str:
    return str(command.__struct_config__.tag)


def test_every_command_and_topic_has_cells() -> None:
    assert set(CASES) == set(commands.CONSOLE_COMMANDS), "give every command its cells"
    assert set(TRIGGERS) == set(Topic), "give every topic its cells"


@pytest.mark.parametrize("user", USERS, ids=lambda user: user.name)
@pytest.mark.parametrize("command", list(commands.CONSOLE_COMMANDS), ids=_command_name)
async def test_command_cell(world: World, command: type[Any], user: User) -> None:
    async with console(world, user) as session:
        for cell in CASES[command](world, user):
            answer = await session.request(cell.payload)
            where = f"{user.name} {cell.payload}"
            if cell.code is None and cell.message is None:
                assert answer["type"] == "result", f"{where}: {answer}"
                if cell.check is not None:
                    cell.check(answer["data"])
            else:
                assert answer["type"] == "error", f"{where}: {answer}"
                assert answer["code"] == cell.code, f"{where}: {answer}"
                if cell.message is not None:
                    assert answer["message"] == cell.message, where
        await session.request({"type": "ping"})
    # Marks the user sent themselves (a vehicle's identity, a camera's code) may come back.
    sent = "\n".join(json.dumps(cell.payload) for cell in CASES[command](world, user))
    session.assert_nothing_foreign(user, frozenset(m for m in foreign_marks(user) if m in sent))


# ---------------------------------------------------------------------------- topics


def _alarm_ids(world: World, messages: list[dict[str, Any]]) -> set[int]:
    ids = set()
    for message in messages:
        for alarm in [*message.get("alarms", []), message.get("alarm") or {}]:
            if alarm.get("id") in world.alarm_ids.values():
                ids.add(alarm["id"])
    return ids


def _visible_alarm_ids(world: World, user: User) -> set[int]:
    return {world.alarm_ids[key] for key, alarm in ALARMS.items() if alarm.visible(user)}


async def _snapshot(world: World, user: User) -> None:
    async with console(world, user) as session:
        pass
    assert _alarm_ids(world, session.messages("snapshot")) == _visible_alarm_ids(world, user)
    session.assert_nothing_foreign(user)


async def _resume(world: World, user: User) -> None:
    async with console(world, user, resume_from=0) as session:
        pass
    assert not session.messages("snapshot"), "a replay, not a snapshot"
    assert _alarm_ids(world, session.messages("event")) == _visible_alarm_ids(world, user)
    session.assert_nothing_foreign(user)


async def _alarm_events(world: World, user: User) -> None:
    async with console(world, user) as session:
        for key in ALARMS:
            world.call(
                world.thread.server.alarms.reveal_contact(world.admin, world.alarm_ids[key], "核实")
            )
        expected = _visible_alarm_ids(world, user)
        await session.drain(lambda: _alarm_ids(world, session.messages("event")) >= expected)
    assert _alarm_ids(world, session.messages("event")) == expected
    session.assert_nothing_foreign(user)


async def _device_events(world: World, user: User) -> None:
    registry = world.thread.server.registry
    async with console(world, user) as session:
        for online in (True, False):
            world.call(registry.set_online("jt808", VEHICLES["sh"].identity, online, T0, "test"))
        # The events carry where the vehicle is (its latest fix): its area's readers.
        expected = 2 if VEHICLES["sh"].visible(user) else 0
        await session.drain(lambda: len(session.messages("event")) >= expected)
    kinds = [e["kind"] for e in session.messages("event")]
    assert kinds == ["device.online", "device.offline"][:expected]
    session.assert_nothing_foreign(user)


async def _geofence_events(world: World, user: User) -> None:
    async with console(world, user) as session:
        world.call(
            world.thread.server.geofences.save(
                "root",
                SaveGeofence(
                    req="",
                    name=f"{GEOFENCE}-{next(world.seq)}",
                    kind="geofence",
                    shape=Circle(lat=31.2, lon=121.4, radius_m=300.0),
                ),
            )
        )
        expected = 1 if geofences_visible(user) else 0
        await session.drain(lambda: len(session.messages("event")) >= expected)
    assert [e["kind"] for e in session.messages("event")] == ["geofence.saved"][:expected]
    session.assert_nothing_foreign(user)


async def _grant_events(world: World, user: User) -> None:
    async with console(world, user) as session:
        _share_and_unshare_the_hangzhou_camera(
            world.grants, world.admin, world.alarm_ids["hz"], world.call
        )
        sees = user.sees(HZ) and (user.role in READERS or user.role is Role.AGENCY)
        expected = 2 if sees else 0
        await session.drain(lambda: len(session.messages("event")) >= expected)
    kinds = [e["kind"] for e in session.messages("event")]
    assert kinds == ["grant.camera_shared", "grant.camera_unshared"][:expected]
    assert all("rtsp" not in frame for frame in session.frames), "never the address"
    session.assert_nothing_foreign(user)


async def _message_events(world: World, user: User) -> None:
    async with console(world, user) as session:
        for key, incident in INCIDENTS.items():
            world.call(
                world.thread.server.chat.post(
                    world.admin, world.incident_ids[key], incident.message, []
                )
            )
        expected = _visible_incident_ids(world, user)
        await session.drain(lambda: _message_incidents(session) >= expected)
    assert _message_incidents(session) == expected
    session.assert_nothing_foreign(user)


def _message_incidents(session: Console) -> list[int]:
    return sorted(
        e["message"]["incident_id"]
        for e in session.messages("event")
        if e["kind"] == "incident.message"
    )


def _telemetry_ids(session: Console, what: str, key: str) -> set[str]:
    return {item[key] for m in session.messages("telemetry") for item in m[what]}


async def _positions(world: World, user: User) -> None:
    hub = world.thread.server.hub
    async with console(world, user) as session:
        await session.request({"type": "subscribe", "topics": ["positions"]})
        expected = {v.identity for v in VEHICLES.values() if v.fixes and v.visible(user)}
        # The subscription's snapshot has its own cells (test_subscribe_snapshot).
        await session.drain(lambda: _telemetry_ids(session, "positions", "device") >= expected)
        session.frames.clear()
        # Live: a new fix of each placed vehicle, where it is now.
        at = dt.datetime.now(dt.UTC)
        for v in VEHICLES.values():
            if v.fixes:
                position = Position(device=v.identity, at=at, lat=31.2, lon=121.4)
                world.thread.call(_offer(hub, position, v.place))
        await session.drain(lambda: _telemetry_ids(session, "positions", "device") >= expected)
    assert _telemetry_ids(session, "positions", "device") == expected
    session.assert_nothing_foreign(user)


async def _offer(hub: Any, position: Position, place: str) -> None:
    hub.offer_position(position, place)


async def _offer_reading(hub: Any, reading: ReadingView) -> None:
    hub.offer_reading(reading)


async def _readings(world: World, user: User) -> None:
    hub = world.thread.server.hub
    async with console(world, user) as session:
        await session.request({"type": "subscribe", "topics": ["readings"]})
        expected = {s.sensor_id for s in SENSORS.values() if s.visible(user)}
        await session.drain(lambda: _telemetry_ids(session, "readings", "sensor") >= expected)
        session.frames.clear()
        at = dt.datetime.now(dt.UTC)
        for s in SENSORS.values():
            reading = ReadingView(
                device=s.feed, sensor=s.sensor_id, at=at, value=0.7, unit="%", jurisdiction=s.place
            )
            world.thread.call(_offer_reading(hub, reading))
        await session.drain(lambda: _telemetry_ids(session, "readings", "sensor") >= expected)
    assert _telemetry_ids(session, "readings", "sensor") == expected
    session.assert_nothing_foreign(user)


def _ids_in_events(session: Console, field_name: str) -> set[int]:
    return {event[field_name]["id"] for event in session.messages("event") if field_name in event}


async def _incident_events(world: World, user: User) -> None:
    incidents = world.thread.server.incidents
    async with console(world, user) as session:
        for key in INCIDENTS:
            incident_id = world.incident_ids[key]
            current = world.call(incidents.get_incident(world.admin, incident_id))
            world.call(
                incidents.change(
                    world.admin,
                    incident_id,
                    current.version,
                    commander=f"commander-{next(world.seq)}",
                )
            )
        expected = {world.incident_ids[k] for k, i in INCIDENTS.items() if i.visible(user)}
        await session.drain(lambda: _ids_in_events(session, "incident") >= expected)
    assert _ids_in_events(session, "incident") == expected
    session.assert_nothing_foreign(user)


async def _task_events(world: World, user: User) -> None:
    incidents = world.thread.server.incidents
    async with console(world, user) as session:
        for key in TASKS:
            world.call(incidents.supervise(world.admin, world.task_ids[key], "核查进度"))
        expected = {world.task_ids[k] for k, t in TASKS.items() if t.visible(user)}
        await session.drain(lambda: _ids_in_events(session, "task") >= expected)
    assert _ids_in_events(session, "task") == expected
    session.assert_nothing_foreign(user)


async def _handover_events(world: World, user: User) -> None:
    server = world.thread.server
    n = next(world.seq)
    author = world.thread.add_user(f"hz-out-{n}", "pw-hz-out-long", Role.OFFICER, jurisdiction=HZ)
    incoming = world.thread.add_user(f"hz-in-{n}", "pw-hz-in-long", Role.OFFICER, jurisdiction=HZ)
    async with console(world, user) as session:
        draft, _report = world.call(server.handovers.draft(author, incoming=incoming.username))
        world.call(server.handovers.sign(author, draft.id, notes="交班"))
        world.call(server.handovers.accept(incoming, draft.id, remark="接班"))
        expected = 2 if user.sees(HZ) and user.agency is None else 0
        await session.drain(lambda: len(session.messages("event")) >= expected)
    kinds = [e["kind"] for e in session.messages("event")]
    assert kinds == ["handover.signed", "handover.accepted"][:expected]
    session.assert_nothing_foreign(user)


async def _registry_events(world: World, user: User) -> None:
    service = world.thread.server.registry_items
    async with console(world, user) as session:
        for item in ITEMS.values():
            current = world.call(service.get(world.admin, ItemKind(item.kind), item.code))
            renamed = item.payload(f"{item.code} 第{next(world.seq)}版")
            world.call(
                service.save(
                    world.admin, msgspec.convert(renamed, RegistryItemInput), current.version
                )
            )
        expected = {item.code for item in ITEMS.values() if item.visible(user)}
        await session.drain(lambda: _registry_codes(session) >= expected)
    assert _registry_codes(session) == expected
    assert all(REG_PHONE not in frame for frame in session.frames), "contacts masked"
    session.assert_nothing_foreign(user)


def _registry_codes(session: Console) -> set[str]:
    return {
        event["registry_item"]["code"]
        for event in session.messages("event")
        if event["kind"] == "registry.changed"
    }


CALL_BACK_PHONE = "13812349876"


async def _vehicle_command_events(world: World, user: User) -> None:
    server = world.thread.server
    async with console(world, user) as session:
        for v in VEHICLES.values():
            view = VehicleCommandView(
                device=v.identity,
                order=CallBack(phone=CALL_BACK_PHONE),
                outcome=CommandOutcome.ANSWERED,
                requested_by="root",
                at=T0,
                result="success",
                jurisdiction=v.place,
            )
            world.call(vehicle_command_handlers.record(server, view))
        expected = [v.identity for v in VEHICLES.values() if v.visible(user)]
        await session.drain(lambda: len(session.messages("event")) >= len(expected))
    events = session.messages("event")
    assert [e["vehicle_command"]["device"] for e in events] == expected
    assert all(CALL_BACK_PHONE not in frame for frame in session.frames), "number masked"
    session.assert_nothing_foreign(user)


TRIGGERS: dict[Topic, Callable[[World, User], Any]] = {
    Topic.SNAPSHOT: _snapshot,
    Topic.RESUME: _resume,
    Topic.ALARM_EVENTS: _alarm_events,
    Topic.DEVICE_EVENTS: _device_events,
    Topic.GEOFENCE_EVENTS: _geofence_events,
    Topic.GRANT_EVENTS: _grant_events,
    Topic.INCIDENT_EVENTS: _incident_events,
    Topic.TASK_EVENTS: _task_events,
    Topic.POSITIONS: _positions,
    Topic.READINGS: _readings,
    Topic.MESSAGE_EVENTS: _message_events,
    Topic.HANDOVER_EVENTS: _handover_events,
    Topic.REGISTRY_EVENTS: _registry_events,
    Topic.EXERCISE_EVENTS: _exercise_events,
    Topic.VEHICLE_COMMAND_EVENTS: _vehicle_command_events,
    Topic.WARNING_EVENTS: _warning_events,
    Topic.DANGER_EVENTS: _danger_events,
    Topic.NOTICE_EVENTS: _notice_events,
}


def _topic_cells() -> Iterator[Any]:
    for topic in Topic:
        for user in USERS:
            yield pytest.param(topic, user, id=f"{topic.name}-{user.name}")


@pytest.mark.parametrize(("topic", "user"), list(_topic_cells()))
async def test_topic_cell(world: World, topic: Topic, user: User) -> None:
    await TRIGGERS[topic](world, user)


@pytest.mark.parametrize("user", USERS, ids=lambda user: user.name)
async def test_subscribe_snapshot(world: World, user: User) -> None:
    """What a subscription starts with: the latest fix of each vehicle and the latest value
    of each sensor of the user's area, nothing else."""
    async with console(world, user) as session:
        await session.request({"type": "subscribe", "topics": ["positions", "readings"]})
        vehicles = {v.identity for v in VEHICLES.values() if v.fixes and v.visible(user)}
        sensors = {s.sensor_id for s in SENSORS.values() if s.visible(user)}
        await session.drain(
            lambda: (
                _telemetry_ids(session, "positions", "device") >= vehicles
                and _telemetry_ids(session, "readings", "sensor") >= sensors
            )
        )
    assert _telemetry_ids(session, "positions", "device") == vehicles
    assert _telemetry_ids(session, "readings", "sensor") == sensors
    session.assert_nothing_foreign(user)


async def test_a_device_account_opens_no_console_and_learns_nothing(world: World) -> None:
    with pytest.raises(InvalidStatus) as refused_at_handshake:
        async with connect(
            world.thread.console_url,
            additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
        ):
            pass
    response = refused_at_handshake.value.response
    assert response.status_code == 403
    body = response.body.decode()
    assert "device accounts cannot open a console" in body
    assert not any(mark in body for mark in foreign_marks(USERS[0]) | {"TOK"})
